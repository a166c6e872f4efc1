//! Renderers: turn a report (plain data) into the bytes to print. Renderers
//! never do I/O and never compute; they return a string. One file per family
//! of reports, each with its formats side by side; [`render`] is the one
//! place that picks a format, called once from `commands::run`.

mod audit;
pub mod cells;
pub mod chart;
pub mod csv;
pub mod demo;
pub mod emergence;
pub mod experiments;
pub mod grok;
pub mod html;
mod json;
pub mod ladder;
mod log;
pub mod markdown;
pub mod markup;
mod reports;
pub mod scale;
pub mod score;
pub mod style;
pub mod terminal;
mod text;

use serde::Serialize;

use crate::words::Lang;
pub use json::to_json;
pub use reports::{GrokSweepView, GrokView, SharesView};
use style::TerminalStyle;

/// How a report is written out: the same names on every command that uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Text for a terminal or a projector (`text` is an alias).
    #[default]
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

/// How the user asked to see a report, resolved once from the flags.
pub struct View {
    /// The output format.
    pub format: Format,
    /// The language of the words.
    pub lang: Lang,
    /// Width and colours of the terminal (plain when piped).
    pub style: TerminalStyle,
}

impl View {
    /// `format` in `lang`, styled for stdout.
    pub fn new(format: Format, lang: Lang) -> Self {
        Self {
            format,
            lang,
            style: TerminalStyle::detect(),
        }
    }

    /// Whether the output goes to a person watching a terminal, so a command
    /// may stream it as it is computed (piped and machine-readable output is
    /// written whole at the end and never differs).
    pub fn live(&self) -> bool {
        use std::io::IsTerminal;
        self.format == Format::Terminal && std::io::stdout().is_terminal()
    }
}

/// Any report as pretty JSON (every field).
pub trait AsJson {
    /// Pretty JSON with a trailing newline.
    fn json(&self) -> String;
}

impl<T: Serialize> AsJson for T {
    fn json(&self) -> String {
        to_json(self)
    }
}

/// Not a report: the text is what the command wrote, in any format.
impl AsJson for Printed {
    fn json(&self) -> String {
        self.0.clone()
    }
}

/// A report and its renderers, one per format it can be written in. The
/// `--format` flag of each command lists only the formats its report has,
/// so the optional ones are asked for only when they exist.
pub trait Render: AsJson {
    /// Text for a terminal or a projector.
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String;
    /// Markdown, for slides and handouts.
    fn markdown(&self, lang: Lang) -> String;
    /// CSV, one row per table row (reports made of rows only).
    fn csv(&self) -> Option<String> {
        None
    }
    /// A self-contained HTML page (classroom reports only).
    fn html(&self, _lang: Lang) -> Option<String> {
        None
    }
}

/// `report` written as `view` asks: the one place a format is chosen.
pub fn render(report: &dyn Render, view: &View) -> String {
    match view.format {
        Format::Terminal => report.terminal(view.lang, &view.style),
        Format::Markdown => report.markdown(view.lang),
        Format::Json => report.json(),
        // The flag parser offers csv and html only where the report has them.
        Format::Csv => report.csv().unwrap_or_else(|| report.json()),
        Format::Html => report
            .html(view.lang)
            .unwrap_or_else(|| report.markdown(view.lang)),
    }
}

/// Text a command has already written as it went (a streamed tour, a token
/// stream's closing line) or plain lines with no format (`model path`):
/// shown as it is, whatever the format.
pub struct Printed(pub String);

impl Render for Printed {
    fn terminal(&self, _: Lang, _: &TerminalStyle) -> String {
        self.0.clone()
    }
    fn markdown(&self, _: Lang) -> String {
        self.0.clone()
    }
}
