//! The run log's reports as text: the list of entries and one entry.

use std::fmt::Write;

use super::style::TerminalStyle;
use super::{markdown, terminal, Render};
use crate::comparison::shorten;
use crate::report::log::{EntrySummary, LogEntry, LogList};
use crate::sampler::Sampling;
use crate::words::Lang;

/// What the user asked in a prompt written in a chat template: the last
/// user turn's text (the whole prompt for a plain completion).
fn asked(prompt: &str) -> &str {
    for opening in ["<|im_start|>user\n", "<start_of_turn>user\n"] {
        if let Some(at) = prompt.rfind(opening) {
            let rest = &prompt[at + opening.len()..];
            let end = ["<|im_end|>", "<end_of_turn>"]
                .iter()
                .filter_map(|close| rest.find(close))
                .min()
                .unwrap_or(rest.len());
            return &rest[..end];
        }
    }
    prompt
}

fn headers(lang: Lang) -> Vec<&'static str> {
    [
        "id", "recorded", "command", "model", "runs", "tokens", "prompt", "text",
    ]
    .iter()
    .map(|k| lang.text(&format!("log.{k}")))
    .collect()
}

fn rows(entries: &[EntrySummary]) -> Vec<Vec<String>> {
    entries
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                e.recorded.clone(),
                e.command.clone(),
                e.model.clone(),
                e.runs.to_string(),
                e.tokens.to_string(),
                shorten(asked(&e.prompt), 32),
                shorten(e.text.trim(), 32),
            ]
        })
        .collect()
}

fn list_heading(report: &LogList, lang: Lang) -> String {
    lang.fill(
        "log.heading",
        &[
            ("log", &report.log.display()),
            ("count", &report.entries.len()),
        ],
    )
}

impl Render for LogList {
    fn terminal(&self, lang: Lang, style: &TerminalStyle) -> String {
        if self.entries.is_empty() {
            return format!("{}\n", lang.text("log.none"));
        }
        format!(
            "{}\n{}",
            list_heading(self, lang),
            terminal::table(&headers(lang), &rows(&self.entries), style)
        )
    }
    fn markdown(&self, lang: Lang) -> String {
        if self.entries.is_empty() {
            return format!("{}\n", lang.text("log.none"));
        }
        format!(
            "{}\n\n{}",
            list_heading(self, lang),
            markdown::table(&headers(lang), &rows(&self.entries))
        )
    }
}

fn entry_text(entry: &LogEntry, lang: Lang) -> String {
    let s = &entry.summary;
    let m = &entry.manifest;
    let mut out = lang.fill(
        "log.entry",
        &[
            ("id", &s.id),
            ("recorded", &s.recorded),
            ("command", &s.command),
            ("model", &s.model),
            ("sha256", &m.model.sha256),
            ("runs", &s.runs),
        ],
    );
    out.push('\n');
    for run in &m.runs {
        let temperature = match run.settings.sampling {
            Sampling::Greedy => 0.0,
            Sampling::Random { temperature, .. } => temperature,
        };
        let prompt = m.prompts.get(run.prompt).map_or("", |p| asked(&p.text));
        let _ = writeln!(
            out,
            "{}",
            lang.fill(
                "log.run",
                &[
                    ("prompt", &shorten(prompt, 60)),
                    ("temperature", &temperature),
                    ("seed", &run.settings.seed),
                    ("tokens", &run.tokens.len()),
                    ("text", &shorten(run.text.trim(), 200)),
                ],
            )
        );
    }
    let _ = writeln!(out, "{}", lang.fill("log.replay_hint", &[("id", &s.id)]));
    out
}

impl Render for LogEntry {
    fn terminal(&self, lang: Lang, _: &TerminalStyle) -> String {
        entry_text(self, lang)
    }
    fn markdown(&self, lang: Lang) -> String {
        entry_text(self, lang)
    }
}

#[cfg(test)]
mod tests {
    use super::asked;

    #[test]
    fn the_users_question_is_read_out_of_either_chat_template() {
        assert_eq!(
            asked("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"),
            "2+2?"
        );
        assert_eq!(
            asked("<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"),
            "Hi"
        );
        assert_eq!(asked("Once upon a time"), "Once upon a time");
    }
}
