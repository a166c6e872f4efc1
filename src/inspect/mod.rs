//! The model opened up: what it computes for one prompt, shown three ways —
//! the next-token distribution ([`probs`]), generation step by step and
//! where seeds branch ([`trace`]), and how likely a stated answer is
//! ([`score`]). Each builds a report from a loaded model; `commands` and the
//! classroom demos call them.

pub mod probs;
pub mod score;
pub mod trace;
