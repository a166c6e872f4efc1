//! Rendering of experiments: the sweep summary, the repeat counts and the
//! replay verdict.

use super::style::TerminalStyle;
use super::{markdown, terminal, TextReport};
use crate::commands::RepeatReport;
use crate::comparison::shorten;
use crate::experiments::replay::ReplayReport;
use crate::experiments::sweep::SweepSummary;

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

const REPEAT_HEADERS: [&str; 5] = [
    "side",
    "setting",
    "runs",
    "distinct outputs",
    "most frequent output",
];

fn repeat_rows(report: &RepeatReport, width: usize) -> Vec<Vec<String>> {
    report
        .rows
        .iter()
        .map(|r| {
            vec![
                r.side.to_string(),
                r.setting.clone(),
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

fn repeat_heading(report: &RepeatReport) -> String {
    format!(
        "Input: {}   rule: {}   model: {}   {} runs per row\n",
        report.input, report.rule, report.model, report.runs
    )
}

/// The repeat counts as a terminal table.
pub fn repeat_terminal(report: &RepeatReport, style: &TerminalStyle) -> String {
    style.bold(&repeat_heading(report))
        + &terminal::table(&REPEAT_HEADERS, &repeat_rows(report, 40), style)
}

/// The repeat counts as Markdown.
pub fn repeat_markdown(report: &RepeatReport) -> String {
    repeat_heading(report) + "\n" + &markdown::table(&REPEAT_HEADERS, &repeat_rows(report, 80))
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
