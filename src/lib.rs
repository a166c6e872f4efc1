//! detprob shows, live and reproducibly, how a conventional program differs
//! from a language model.
//!
//! The crate is split along the ideas it teaches: [`lm`] (the language model:
//! weights, KV cache) with its [`tokenizer`] and [`prompt`] format, the
//! [`sampler`] (the only owner of randomness), [`generation`] (the loop that
//! joins them), [`store`] (where model files come from), [`commands`] (which
//! compute plain report data) and [`render`] (which formats reports).

pub mod cli;
pub mod commands;
pub mod comparison;
pub mod demo;
pub mod emergence;
pub mod error;
pub mod experiments;
pub mod files;
pub mod generation;
pub mod gguf;
pub mod live;
pub mod lm;
pub mod progress;
pub mod prompt;
pub mod render;
pub mod report;
pub mod rules;
pub mod sampler;
pub mod store;
pub mod tasks;
pub mod tokenizer;
pub mod words;
