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
    /// Height of one screen, in lines: the terminal's, else `$LINES`; none
    /// for a file or a pipe without `$LINES` (nothing to page).
    pub height: Option<u16>,
    /// A screen that must hold a whole tour step: charts are drawn shorter
    /// and a view shows each measure once (a table or a chart, not both).
    pub compact: bool,
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
        let height = ratatui::crossterm::terminal::size()
            .ok()
            .filter(|_| is_terminal)
            .map(|(_, rows)| rows)
            .or_else(|| std::env::var("LINES").ok().and_then(|l| l.parse().ok()))
            .map(|rows: u16| rows.clamp(10, 500));
        Self {
            color: is_terminal && !no_color,
            width,
            height,
            compact: false,
        }
    }

    /// Plain text, 100 columns, no screen height: for tests and files.
    pub fn plain() -> Self {
        Self {
            color: false,
            width: 100,
            height: None,
            compact: false,
        }
    }

    /// Rows for a chart of `rows` rows: fewer on a compact screen.
    pub fn chart_rows(&self, rows: usize) -> usize {
        if self.compact {
            rows.min(7)
        } else {
            rows
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

/// How detprob wraps prose to `width` columns: at spaces and where
/// Unicode allows a break (between ideographs), never inside a hyphenated
/// word, so a name such as qwen2.5-coder-1.5b stays whole.
pub fn wrap_options(width: usize) -> textwrap::Options<'static> {
    textwrap::Options::new(width).word_splitter(textwrap::WordSplitter::NoHyphenation)
}

/// A takeaway or note as a paragraph on the terminal: wrapped by
/// [`wrap_options`] to the style's width, 40 columns at least.
pub fn fill_prose(text: &str, style: &TerminalStyle) -> String {
    textwrap::fill(text, wrap_options(usize::from(style.width.max(40))))
}

/// `text` cut with "…" to at most `columns` terminal columns (a CJK
/// character takes two); as it is where it fits.
pub fn cut_to_width(text: &str, columns: usize) -> String {
    let width = textwrap::core::display_width;
    if width(text) <= columns {
        return text.to_string();
    }
    let mut cut = String::new();
    for c in text.chars() {
        if width(&cut) + width(c.encode_utf8(&mut [0; 4])) + 1 > columns {
            break;
        }
        cut.push(c);
    }
    cut.trim_end().to_string() + "…"
}

/// `text` padded with spaces to `columns` terminal columns (a CJK
/// character takes two).
pub fn pad_to_width(text: &str, columns: usize) -> String {
    let width = textwrap::core::display_width(text);
    format!("{text}{}", " ".repeat(columns.saturating_sub(width)))
}

/// Whether `c` is a bidirectional embedding, override or isolate (U+202A–
/// U+202E, U+2066–U+2069): invisible, it reorders the rest of its line, so
/// a text shown with it can read as something else. Right-to-left script
/// itself needs none of them.
pub fn is_bidi_control(c: char) -> bool {
    ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Whether `c`, sent to a terminal or a page, would act instead of being
/// shown: a control character (C0, DEL and C1, newline and tab included) or
/// a bidirectional override or isolate.
pub fn acts_on_display(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// How a character that [acts on the display](acts_on_display) is shown
/// instead: `\x07` for a control, `\u{202e}` for a bidirectional override.
pub fn shown_as_text(c: char) -> String {
    if is_bidi_control(c) {
        format!("\\u{{{:x}}}", c as u32)
    } else {
        format!("\\x{:02x}", c as u32)
    }
}

/// `text` made safe to print on a terminal: control characters that a
/// terminal would act on (escape sequences that retitle the window or move
/// the cursor, bells, carriage returns, C1 controls) are shown as `\x1b`,
/// `\x07`, … and bidirectional overrides as `\u{202e}`, … instead.
/// Newlines, tabs and SGR colour sequences (`ESC [ … m`, which only colour
/// text) pass through, so detprob's own colours survive.
///
/// Inputs and model output can hold anything: every text for people
/// (terminal, Markdown, HTML, progress lines, errors) goes through this,
/// on a terminal or not; JSON and CSV keep the exact text.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c != '\n' && c != '\t' && acts_on_display(c);
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}' {
            // ESC [ digits/semicolons m: a colour, kept.
            let body = &rest[1..];
            if let Some(params) = body.strip_prefix('[') {
                let end = params
                    .find(|ch: char| !(ch.is_ascii_digit() || ch == ';'))
                    .unwrap_or(params.len());
                if params[end..].starts_with('m') {
                    let len = 2 + end + 1;
                    out.push_str(&rest[..len]);
                    rest = &rest[len..];
                    continue;
                }
            }
        }
        if unsafe_char(c) {
            out.push_str(&shown_as_text(c));
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod safety_tests {
    use super::terminal_safe;

    #[test]
    fn control_sequences_are_shown_not_obeyed_and_colours_survive() {
        assert_eq!(terminal_safe("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            terminal_safe("\u{1b}]0;pwned\u{7} 2+2"),
            "\\x1b]0;pwned\\x07 2+2",
            "an OSC title change"
        );
        assert_eq!(terminal_safe("a\u{1b}[2Jb\rc"), "a\\x1b[2Jb\\x0dc");
        assert_eq!(
            terminal_safe("\u{1b}[1;32mok\u{1b}[0m"),
            "\u{1b}[1;32mok\u{1b}[0m"
        );
        assert_eq!(terminal_safe("x\u{9b}y\u{7f}"), "x\\x9by\\x7f");
        assert_eq!(terminal_safe("中文“引号”"), "中文“引号”");
        assert_eq!(
            terminal_safe("abc\u{202e}fed\u{2066}x"),
            "abc\\u{202e}fed\\u{2066}x",
            "a right-to-left override"
        );
        assert_eq!(terminal_safe("مرحبا בעולם"), "مرحبا בעולם");
    }
}

#[cfg(test)]
mod width_tests {
    use super::{cut_to_width, pad_to_width};

    #[test]
    fn a_text_is_cut_to_its_columns_counting_wide_characters_twice() {
        let width = textwrap::core::display_width;
        assert_eq!(cut_to_width("step 14 of 22", 40), "step 14 of 22");
        assert_eq!(
            cut_to_width("第 14 / 22 步：涌现能力的定义", 12),
            "第 14 / 22…"
        );
        let cut = cut_to_width("第 14 / 22 步：涌现能力的定义 · qwen2.5-coder-0.5b", 30);
        assert!(width(&cut) <= 30, "{cut}");
        assert!(cut.ends_with('…'), "{cut}");
        assert_eq!(pad_to_width("巴黎", 6), "巴黎  ");
    }
}
