//! The run log's reports as text: the list of entries and one entry.

use std::fmt::Write;

use super::style::TerminalStyle;
use super::{markdown, terminal, Render};
use crate::comparison::shorten;
use crate::prompt::last_user_message;
use crate::report::log::{EntrySummary, LogEntry, LogList};
use crate::sampler::Sampling;
use crate::words::Lang;

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
                shorten(last_user_message(&e.prompt), 32),
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
    let mut out = match &m.endpoint {
        Some(endpoint) => lang.fill(
            "log.entry_remote",
            &[
                ("id", &s.id),
                ("recorded", &s.recorded),
                ("command", &s.command),
                ("model", &s.model),
                ("endpoint", &endpoint.url),
                (
                    "fingerprints",
                    &endpoint.system_fingerprints.join(lang.list_gap()),
                ),
                ("runs", &s.runs),
            ],
        ),
        None => lang.fill(
            "log.entry",
            &[
                ("id", &s.id),
                ("recorded", &s.recorded),
                ("command", &s.command),
                ("model", &s.model),
                ("sha256", &m.model.sha256),
                ("runs", &s.runs),
            ],
        ),
    };
    out.push('\n');
    for run in &m.runs {
        let temperature = match run.settings.sampling {
            Sampling::Greedy => 0.0,
            Sampling::Random { temperature, .. } => temperature,
        };
        let prompt = m
            .prompts
            .get(run.prompt)
            .map_or("", |p| last_user_message(&p.text));
        let _ = writeln!(
            out,
            "{}",
            lang.fill(
                "log.run",
                &[
                    ("prompt", &shorten(prompt, 60)),
                    ("temperature", &temperature),
                    ("seed", &run.settings.seed),
                    (
                        "tokens",
                        // A server's run records text, not token ids.
                        &if m.endpoint.is_some() {
                            super::cells::not_reported(lang)
                        } else {
                            run.tokens.len().to_string()
                        },
                    ),
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
