//! Progress lines on stderr: what is being computed, n of m, elapsed. Shown
//! only when stderr is a terminal, so piped and machine-readable output (and
//! a log of stderr) stays clean. Every progress line goes through here, in
//! the language of the command's `--lang`.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::words::Lang;

/// The language of progress lines drawn by code that has no language of its
/// own (a long prompt's prefill, inside generation).
static LANGUAGE: OnceLock<Lang> = OnceLock::new();

/// Sets the language of [`bar_for`]'s lines: the command's `--lang`, once,
/// before any work starts.
pub fn set_language(lang: Lang) {
    let _ = LANGUAGE.set(lang);
}

/// A bar labelled with catalogue entry `key`, in the language
/// [`set_language`] set (else the locale's).
pub fn bar_for(key: &str, total: u64) -> ProgressBar {
    let lang = *LANGUAGE.get_or_init(Lang::from_env);
    bar(lang.text(key), total)
}

/// A bar of `total` steps labelled `label` (a line already in the user's
/// language), with n/m and the time elapsed; hidden off a terminal.
pub fn bar(label: &str, total: u64) -> ProgressBar {
    line(label, total, BAR)
}

/// A label with a spinner and the time elapsed, for work whose size is
/// unknown or a single step (loading, one long comparison).
pub fn spinner(label: &str) -> ProgressBar {
    line(label, 0, "{spinner} {elapsed}")
}

/// Puts a new `label` in front of `bar` (the next item of a loop).
pub fn relabel(bar: &ProgressBar, label: &str) {
    bar.set_style(style(label, BAR));
}

const BAR: &str = "[{bar:20}] {pos}/{len} {elapsed}";

/// Columns the bar, the counts and the time take after the label.
const TAIL_COLUMNS: usize = 40;

/// `label` cut with "…" to the terminal's width less `tail` columns (as is
/// off a terminal or where the width is unknown).
fn fit_terminal(label: &str, tail: usize) -> String {
    let Ok((columns, _)) = ratatui::crossterm::terminal::size() else {
        return label.to_string();
    };
    crate::render::style::cut_to_width(label, usize::from(columns).saturating_sub(tail).max(12))
}

fn line(label: &str, total: u64, tail: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = if total == 0 {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(style(label, tail));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn style(label: &str, tail: &str) -> ProgressStyle {
    // The label is data, not a template: braces in it are escaped, and the
    // control characters an input may carry (a title-setting escape, a
    // screen clear) are shown, not sent to the terminal.
    // A label too long for the terminal is cut, so the line never wraps
    // (a wrapped line is redrawn as two and pushes the screen up).
    let label = crate::render::style::terminal_safe(label);
    let label = fit_terminal(&label, TAIL_COLUMNS)
        .replace('{', "{{")
        .replace('}', "}}");
    ProgressStyle::with_template(&format!("{label} {tail}"))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}
