//! Reports: the plain data a command computes and a renderer formats. A
//! leaf module — serde types with a `///` per field and small derived
//! values, no model, no flags, no words. New commands put their reports
//! here (one file per family of commands); the older commands' reports
//! still live beside their commands and move here as they are touched.

pub mod emergence;

/// How a report is written out: the same names on every command that uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Text for a terminal or a projector: tables and a chart.
    #[default]
    Terminal,
    /// Markdown, for slides and handouts.
    Markdown,
    /// JSON: every field, plain data.
    Json,
    /// CSV: one row per table row.
    Csv,
}
