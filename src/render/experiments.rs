//! Rendering of experiments: the sweep summary, the repeat counts and the
//! replay verdict.

use super::style::TerminalStyle;
use super::{markdown, terminal, TextReport};
use crate::commands::RepeatReport;
use crate::comparison::shorten;
use crate::demo::takeaway::{repeat_setting, seed_list};
use crate::experiments::replay::ReplayReport;
use crate::experiments::sweep::SweepSummary;
use crate::words::Lang;

const SWEEP_HEADERS: [&str; 8] = [
    "input",
    "setting",
    "samples",
    "correct",
    "distinct answers",
    "answer entropy (bits)",
    "most frequent answer",
    "token entropy (nats)",
];

fn sweep_rows(summary: &SweepSummary, width: usize) -> Vec<Vec<String>> {
    summary
        .groups
        .iter()
        .map(|g| {
            let mut setting = format!("T={}", g.temperature);
            if let Some(k) = g.top_k {
                setting.push_str(&format!(" top-k {k}"));
            }
            if let Some(p) = g.top_p {
                setting.push_str(&format!(" top-p {p}"));
            }
            vec![
                shorten(&g.input, width),
                setting,
                g.samples.to_string(),
                g.correct.map_or("?".into(), |c| {
                    format!("{c} ({:.0}%)", 100.0 * c as f64 / g.samples as f64)
                }),
                g.distinct_answers.to_string(),
                format!("{:.2}", g.answer_entropy_bits),
                format!(
                    "{} ×{}",
                    shorten(g.top_answer.as_deref().unwrap_or("(none)"), width),
                    g.top_count
                ),
                format!("{:.2}", g.mean_token_entropy),
            ]
        })
        .collect()
}

fn sweep_footer(summary: &SweepSummary) -> String {
    let resumed = if summary.resumed_rows > 0 {
        format!(" ({} kept from the interrupted run)", summary.resumed_rows)
    } else {
        String::new()
    };
    format!(
        "{} samples of {} in {}{resumed}; {:.1} s\n",
        summary.rows,
        summary.model,
        summary.output.display(),
        summary.seconds
    )
}

/// The sweep summary as a terminal table.
pub fn sweep_terminal(summary: &SweepSummary, style: &TerminalStyle) -> String {
    terminal::table(&SWEEP_HEADERS, &sweep_rows(summary, 28), style)
        + &style.dim(&sweep_footer(summary))
}

/// The sweep summary as Markdown.
pub fn sweep_markdown(summary: &SweepSummary) -> String {
    markdown::table(&SWEEP_HEADERS, &sweep_rows(summary, 60)) + "\n" + &sweep_footer(summary)
}

fn repeat_headers(lang: Lang) -> [&'static str; 5] {
    [
        lang.text("repeat.header.side"),
        lang.text("repeat.header.setting"),
        lang.text("repeat.header.runs"),
        lang.text("repeat.header.distinct"),
        lang.text("repeat.header.most_common"),
    ]
}

fn repeat_rows(report: &RepeatReport, width: usize, lang: Lang) -> Vec<Vec<String>> {
    report
        .rows
        .iter()
        .map(|r| {
            let side = if r.temperature.is_none() {
                "side.rule"
            } else {
                "side.model"
            };
            vec![
                lang.text(side).to_string(),
                repeat_setting(r, report.rule, lang),
                r.runs.to_string(),
                r.distinct.to_string(),
                format!(
                    "{} ×{}",
                    shorten(&r.most_common, width),
                    r.most_common_count
                ),
            ]
        })
        .collect()
}

fn repeat_heading(report: &RepeatReport, lang: Lang) -> String {
    lang.fill(
        "repeat.header.input",
        &[
            ("input", &report.input),
            ("rule", &report.rule),
            ("model", &report.model),
            ("runs", &report.runs),
        ],
    ) + "\n"
}

/// The seeds of every fresh-seed row, so a surprising sample can be replayed.
fn repeat_seeds(report: &RepeatReport, lang: Lang) -> String {
    report
        .rows
        .iter()
        .filter(|r| r.fixed_seed == Some(false))
        .map(|r| {
            lang.fill(
                "repeat.header.seeds",
                &[
                    ("t", &r.temperature.unwrap_or_default()),
                    ("seeds", &seed_list(r)),
                ],
            ) + "\n"
        })
        .collect()
}

/// The repeat counts as a terminal table.
pub fn repeat_terminal(report: &RepeatReport, lang: Lang, style: &TerminalStyle) -> String {
    style.bold(&repeat_heading(report, lang))
        + &terminal::table(&repeat_headers(lang), &repeat_rows(report, 40, lang), style)
        + &repeat_seeds(report, lang)
}

/// The repeat counts as Markdown.
pub fn repeat_markdown(report: &RepeatReport, lang: Lang) -> String {
    let seeds = repeat_seeds(report, lang);
    repeat_heading(report, lang)
        + "\n"
        + &markdown::table(&repeat_headers(lang), &repeat_rows(report, 80, lang))
        + if seeds.is_empty() { "" } else { "\n" }
        + &seeds
}

impl TextReport for ReplayReport {
    fn to_text(&self) -> String {
        let mut out = format!(
            "replayed {} {} run(s), {} tokens (recorded on {} threads, replayed on {})\n",
            self.runs, self.command, self.tokens, self.recorded_threads, self.replay_threads
        );
        if self.identical() {
            out.push_str("identical: every run gave the recorded tokens\n");
            return out;
        }
        let token = |t: &Option<(u32, String)>, lp: Option<f64>| match t {
            Some((id, piece)) => format!(
                "{piece:?} (id {id}, p = {})",
                lp.map_or("?".to_string(), |l| format!("{:.4}", l.exp()))
            ),
            None => "end of text".to_string(),
        };
        for d in &self.differences {
            out.push_str(&format!(
                "run {} differs at step {}: recorded {}, replayed {}\n",
                d.run,
                d.step,
                token(&d.recorded, d.recorded_logprob),
                token(&d.replayed, d.replayed_logprob)
            ));
        }
        out
    }
}
