//! Reports: the plain data a command computes and a renderer formats —
//! serde types with a `///` per field and the findings derived from them.
//! They hold the data types of the two sides (a rule's trace, a
//! completion, a model's description) but never a model, a flag or a
//! renderer: nothing here imports `cli`, `commands` or `render`. Words appear only as [`crate::words::Phrase`]s
//! (catalogue keys and data), so a report does not depend on `--lang`.
//! One file per family of commands.

pub mod audit;
pub mod compare;
pub mod demo;
pub mod emergence;
pub mod experiments;
pub mod log;
pub mod model;
pub mod views;
