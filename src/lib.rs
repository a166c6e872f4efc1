//! detprob shows, live and reproducibly, how a conventional program differs
//! from a language model.
//!
//! The crate is split along the ideas it teaches:
//! - the two sides: [`rules`] (rule-based functions with their traces) and
//!   [`lm`] (the language model: weights, kernels, KV cache) with its
//!   [`tokenizer`] and [`prompt`] format; the [`sampler`] is the only owner
//!   of a model's randomness and [`generation`] the loop that joins them;
//! - what detprob computes with them: [`comparison`] (one input to both
//!   sides, verdicts), [`inspect`] (probabilities, traces, scores),
//!   [`experiments`] (repeats, sweeps, replayable manifests), [`emergence`]
//!   (part 0 of the note, with the intervals of [`stats`]) and [`demo`]
//!   (the classroom scenarios);
//! - how it is shown: every command builds a [`report`] (plain data), which
//!   [`render`] formats once, with words from the [`words`] catalogue in
//!   English or Chinese; [`live`] is the full-screen classroom view and
//!   [`progress`] the stderr progress lines;
//! - the edges: [`cli`] (flags), [`commands`] (flags → report), [`store`]
//!   (where model files come from), [`files`] (user-named files), [`gguf`].

pub mod audit;
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
pub mod inspect;
pub mod live;
pub mod lm;
pub mod options;
pub mod progress;
pub mod prompt;
pub mod remote;
pub mod render;
pub mod report;
pub mod rules;
pub mod runlog;
pub mod sampler;
pub mod scenario;
pub mod serve;
pub mod simd;
pub mod stats;
pub mod store;
pub mod takeaway;
pub mod tasks;
pub mod tokenizer;
pub mod words;
