//! The small reports — `generate`, `tokenize`, `model list`, `replay` — in
//! text for a terminal and in Markdown.

use std::fmt::Write;

use super::markdown;
use super::style::TerminalStyle;
use super::terminal;
use crate::generation::StopReason;
use crate::report::experiments::ReplayReport;
use crate::report::model::{GenerateReport, ModelListReport, RemoteGenerateReport, TokenizeReport};
use crate::sampler::Sampling;
use crate::words::Lang;

/// The catalogue key of why generation stopped.
pub fn stop_key(reason: StopReason) -> &'static str {
    match reason {
        StopReason::EndOfText => "stop.end_of_text",
        StopReason::MaxTokens => "stop.max_tokens",
        StopReason::ContextFull => "stop.context_full",
        StopReason::Newline => "stop.newline",
    }
}

/// Model, sampling, token count and why it stopped, filled into `key`.
fn generate_settings(report: &GenerateReport, key: &str, lang: Lang) -> String {
    let sampling = match &report.settings.sampling {
        Sampling::Greedy => lang.text("generate.greedy").to_string(),
        Sampling::Random { temperature, .. } => lang.fill(
            "generate.sampled",
            &[("t", temperature), ("seed", &report.settings.seed)],
        ),
    };
    let c = &report.completion;
    lang.fill(
        key,
        &[
            (
                "model",
                &report.model.alias.as_deref().unwrap_or(&report.model.name),
            ),
            ("sampling", &sampling),
            ("tokens", &c.tokens.len()),
            ("stop", &lang.text(stop_key(c.stop_reason))),
        ],
    )
}

/// The completion's text, then one line of settings.
pub fn generate(report: &GenerateReport, lang: Lang) -> String {
    let mut out = report.completion.text.clone();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out + &generate_settings(report, "generate.footer", lang) + "\n"
}

/// A server's model, the sampling as sent, its token count and why it
/// stopped, filled into `key`.
fn remote_settings(report: &RemoteGenerateReport, key: &str, lang: Lang) -> String {
    let sampling = match &report.settings.sampling {
        Sampling::Greedy => lang.text("generate.greedy").to_string(),
        Sampling::Random { temperature, .. } => lang.fill(
            "generate.sampled",
            &[("t", temperature), ("seed", &report.settings.seed)],
        ),
    };
    let tokens = report
        .completion_tokens
        .or_else(|| report.tokens.as_ref().map(Vec::len))
        .map_or_else(
            || lang.text("generate.remote_uncounted").to_string(),
            |n| n.to_string(),
        );
    let stop = match report.stop_reason.as_str() {
        "max_tokens" => lang.text("stop.max_tokens"),
        _ => lang.text("stop.remote_stop"),
    };
    lang.fill(
        key,
        &[
            ("model", &report.model),
            ("endpoint", &report.endpoint),
            ("sampling", &sampling),
            ("tokens", &tokens),
            ("stop", &stop),
        ],
    )
}

/// A server's completion, then one line of settings.
pub fn remote_generate(report: &RemoteGenerateReport, lang: Lang) -> String {
    let mut out = report.text.clone();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out + &remote_settings(report, "generate.remote_footer", lang) + "\n"
}

/// A server's completion in Markdown: the prompt, the text as a quote, the
/// settings.
pub fn remote_generate_markdown(report: &RemoteGenerateReport, lang: Lang) -> String {
    let quote: Vec<String> = report.text.lines().map(|l| format!("> {l}")).collect();
    format!(
        "{}\n\n{}\n\n{}\n",
        lang.fill("generate.prompt", &[("prompt", &report.prompt)]),
        quote.join("\n"),
        remote_settings(report, "generate.remote_settings", lang)
    )
}

/// The prompt, the completion as a quote, the settings.
pub fn generate_markdown(report: &GenerateReport, lang: Lang) -> String {
    let quote: Vec<String> = report
        .completion
        .text
        .lines()
        .map(|l| format!("> {l}"))
        .collect();
    format!(
        "{}\n\n{}\n\n{}\n",
        lang.fill("generate.prompt", &[("prompt", &report.prompt)]),
        quote.join("\n"),
        generate_settings(report, "generate.settings", lang)
    )
}

fn tokenize_rows(report: &TokenizeReport) -> Vec<Vec<String>> {
    report
        .tokens
        .iter()
        .map(|t| vec![t.id.to_string(), t.visible.clone()])
        .collect()
}

/// The count, then one token per line: id and its visible text.
pub fn tokenize(report: &TokenizeReport, lang: Lang) -> String {
    let mut out = lang.fill(
        "tokenize.count",
        &[("count", &report.tokens.len()), ("model", &report.model)],
    );
    out.push('\n');
    for t in &report.tokens {
        let _ = writeln!(out, "{:>7}  {}", t.id, t.visible);
    }
    out
}

/// The count and a table of the tokens.
pub fn tokenize_markdown(report: &TokenizeReport, lang: Lang) -> String {
    let headers = [lang.text("tokenize.id"), lang.text("tokenize.piece")];
    let rows: Vec<Vec<String>> = tokenize_rows(report)
        .into_iter()
        .map(|r| vec![r[0].clone(), format!("`{}`", r[1])])
        .collect();
    format!(
        "{}\n\n{}",
        lang.fill(
            "tokenize.count",
            &[("count", &report.tokens.len()), ("model", &report.model)]
        ),
        markdown::table(&headers, &rows)
    )
}

fn model_rows(report: &ModelListReport, lang: Lang) -> Vec<Vec<String>> {
    report
        .models
        .iter()
        .map(|m| {
            vec![
                m.alias.to_string(),
                m.name.to_string(),
                lang.fill(
                    "model_list.megabytes",
                    &[("mb", &format!("{:.1}", m.size as f64 / 1e6))],
                ),
                m.licence.to_string(),
                lang.text(if m.cached {
                    "model_list.cached"
                } else {
                    "model_list.not_cached"
                })
                .to_string(),
            ]
        })
        .collect()
}

fn model_headers(lang: Lang) -> [&'static str; 5] {
    [
        "model_list.alias",
        "model_list.name",
        "model_list.size",
        "model_list.licence",
        "model_list.state",
    ]
    .map(|k| lang.text(k))
}

/// The models as a table, and the cache's place.
pub fn model_list(report: &ModelListReport, lang: Lang, style: &TerminalStyle) -> String {
    terminal::table(&model_headers(lang), &model_rows(report, lang), style)
        + &lang.fill("model_list.cache", &[("path", &report.cache_dir)])
        + "\n"
}

/// The models as a Markdown table.
pub fn model_list_markdown(report: &ModelListReport, lang: Lang) -> String {
    markdown::table(&model_headers(lang), &model_rows(report, lang))
        + "\n"
        + &lang.fill("model_list.cache", &[("path", &report.cache_dir)])
        + "\n"
}

/// What was replayed and, per differing run, its first difference.
pub fn replay(report: &ReplayReport, lang: Lang) -> String {
    let mut out = match &report.endpoint {
        Some(endpoint) => lang.fill(
            "replay.summary_remote",
            &[
                ("runs", &report.runs),
                ("command", &report.command),
                ("endpoint", endpoint),
            ],
        ),
        None => lang.fill(
            "replay.summary",
            &[
                ("runs", &report.runs),
                ("command", &report.command),
                ("tokens", &report.tokens),
                ("recorded", &report.recorded_threads),
                ("replayed", &report.replay_threads),
            ],
        ),
    };
    out.push('\n');
    if report.identical() {
        out.push_str(lang.text(if report.endpoint.is_some() {
            "replay.identical_remote"
        } else {
            "replay.identical"
        }));
        out.push('\n');
        return out;
    }
    let token = |t: &Option<(u32, String)>, lp: Option<f64>| match t {
        Some((id, piece)) => lang.fill(
            "replay.token",
            &[
                ("piece", &format!("{piece:?}")),
                ("id", id),
                (
                    "p",
                    &lp.map_or("?".to_string(), |l| format!("{:.4}", l.exp())),
                ),
            ],
        ),
        None => lang.text("replay.end_of_text").to_string(),
    };
    for d in &report.differences {
        let line = match &d.texts {
            Some((recorded, replayed)) => lang.fill(
                "replay.differs_text",
                &[
                    ("run", &d.run),
                    ("step", &d.step),
                    ("recorded", &lang.quote(recorded)),
                    ("replayed", &lang.quote(replayed)),
                ],
            ),
            None => lang.fill(
                "replay.differs",
                &[
                    ("run", &d.run),
                    ("step", &d.step),
                    ("recorded", &token(&d.recorded, d.recorded_logprob)),
                    ("replayed", &token(&d.replayed, d.replayed_logprob)),
                ],
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}
