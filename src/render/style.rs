//! Terminal styling: colour only when the output is a terminal and `NO_COLOR`
//! is unset, and a width to fit.

use anstyle::{AnsiColor, Style};

/// How terminal output may be styled.
#[derive(Debug, Clone, Copy)]
pub struct TerminalStyle {
    /// Whether to emit ANSI colours.
    pub color: bool,
    /// Width to fit, in columns.
    pub width: u16,
}

impl TerminalStyle {
    /// Colour on a terminal unless `NO_COLOR` is set; the terminal's width,
    /// else `$COLUMNS`, else 100.
    pub fn detect() -> Self {
        let is_terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let width = comfy_table::Table::new()
            .width()
            .filter(|_| is_terminal)
            .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
            .unwrap_or(100)
            .clamp(40, 240);
        Self {
            color: is_terminal && !no_color,
            width,
        }
    }

    /// Plain text, 100 columns: for tests and files.
    pub fn plain() -> Self {
        Self {
            color: false,
            width: 100,
        }
    }

    fn paint(&self, text: &str, style: Style) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    /// Green (right answers).
    pub fn good(&self, text: &str) -> String {
        self.paint(text, AnsiColor::Green.on_default())
    }

    /// Red (wrong answers, errors).
    pub fn bad(&self, text: &str) -> String {
        self.paint(text, AnsiColor::Red.on_default())
    }

    /// Dim (secondary detail).
    pub fn dim(&self, text: &str) -> String {
        self.paint(text, Style::new().dimmed())
    }

    /// Bold (headings).
    pub fn bold(&self, text: &str) -> String {
        self.paint(text, Style::new().bold())
    }
}

/// ✓, ✗ or ? for a correctness flag.
pub fn mark(correct: Option<bool>) -> &'static str {
    match correct {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "?",
    }
}
