//! Reports: the plain data a command computes and a renderer formats. A
//! leaf module — serde types with a `///` per field and small derived
//! values, no model, no flags. Words appear only as [`crate::words::Phrase`]s
//! (catalogue keys and data), so a report does not depend on `--lang`.
//! One file per family of commands.

pub mod compare;
pub mod demo;
pub mod emergence;
pub mod experiments;
pub mod model;
pub mod views;

/// How a report is written out: the same names on every command that uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Text for a terminal or a projector (`text` is an alias).
    #[default]
    #[value(alias = "text")]
    Terminal,
    /// Markdown, for slides and handouts.
    Markdown,
    /// JSON: every field, plain data.
    Json,
    /// CSV: one row per table row.
    Csv,
    /// A self-contained HTML handout (styles and charts inline).
    Html,
}
