//! Renderers: turn a report (plain data) into text or JSON. Renderers never do
//! I/O; they return the string to print.

pub mod chart;
pub mod csv;
pub mod demo;
pub mod emergence;
pub mod experiments;
pub mod grok;
pub mod html;
mod json;
pub mod markdown;
pub mod score;
pub mod style;
pub mod terminal;
mod text;

use serde::Serialize;

use crate::cli::OutputFormat;

/// A report that can be shown as human-readable text.
pub trait TextReport: Serialize {
    /// Human-readable rendering, ending with a newline.
    fn to_text(&self) -> String;
}

pub use json::to_json;

/// Renders `report` in `format`.
pub fn render<R: TextReport>(report: &R, format: OutputFormat) -> String {
    match format {
        OutputFormat::Text => report.to_text(),
        OutputFormat::Json => json::to_json(report),
    }
}
