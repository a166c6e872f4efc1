//! Rendering of experiments: the sweep summary and the repeat counts.

use super::style::TerminalStyle;
use super::{markdown, terminal};
use crate::comparison::shorten;
use crate::report::experiments::RepeatReport;
use crate::report::experiments::SweepSummary;
use crate::takeaway::seed_list;
use crate::words::Lang;

fn sweep_headers(lang: Lang) -> [&'static str; 8] {
    [
        "sweep.header.input",
        "sweep.header.setting",
        "sweep.header.samples",
        "sweep.header.correct",
        "sweep.header.distinct",
        "sweep.header.answer_entropy",
        "sweep.header.top_answer",
        "sweep.header.token_entropy",
    ]
    .map(|k| lang.text(k))
}

fn sweep_rows(summary: &SweepSummary, width: usize, lang: Lang) -> Vec<Vec<String>> {
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
                    shorten(
                        g.top_answer.as_deref().unwrap_or(lang.text("sweep.none")),
                        width
                    ),
                    g.top_count
                ),
                g.mean_token_entropy
                    .map_or_else(|| "–".to_string(), |e| format!("{e:.2}")),
            ]
        })
        .collect()
}

fn sweep_footer(summary: &SweepSummary, lang: Lang) -> String {
    let resumed = if summary.resumed_rows > 0 {
        lang.fill("sweep.resumed", &[("rows", &summary.resumed_rows)])
    } else {
        String::new()
    };
    lang.fill(
        "sweep.footer",
        &[
            ("rows", &summary.rows),
            ("model", &summary.model),
            ("path", &summary.output.display()),
            ("resumed", &resumed),
            ("seconds", &format!("{:.1}", summary.seconds)),
        ],
    ) + "\n"
}

/// The sweep summary as a terminal table.
pub fn sweep_terminal(summary: &SweepSummary, lang: Lang, style: &TerminalStyle) -> String {
    terminal::table(&sweep_headers(lang), &sweep_rows(summary, 28, lang), style)
        + &style.dim(&sweep_footer(summary, lang))
}

/// The sweep summary as Markdown.
pub fn sweep_markdown(summary: &SweepSummary, lang: Lang) -> String {
    markdown::table(&sweep_headers(lang), &sweep_rows(summary, 60, lang))
        + "\n"
        + &sweep_footer(summary, lang)
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
                r.setting.text(lang),
                r.runs.to_string(),
                r.distinct.to_string(),
                // With every output different, none is "most common".
                if r.most_common_count == 1 && r.runs > 1 {
                    lang.fill(
                        "repeat.all_different",
                        &[("example", &shorten(&r.most_common, width))],
                    )
                } else {
                    format!(
                        "{} ×{}",
                        shorten(&r.most_common, width),
                        r.most_common_count
                    )
                },
            ]
        })
        .collect()
}

fn repeat_heading(report: &RepeatReport, lang: Lang) -> String {
    lang.fill(
        "repeat.header.input",
        &[
            ("input", &report.input),
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
/// The runs column is left out: every row ran the heading's number of runs.
pub fn repeat_terminal(report: &RepeatReport, lang: Lang, style: &TerminalStyle) -> String {
    style.bold(&repeat_heading(report, lang))
        + &terminal::table_without(
            &repeat_headers(lang),
            &repeat_rows(report, 24, lang),
            2,
            style,
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::experiments::{RepeatRow, Side};
    use crate::words::Phrase;

    fn report(distinct: usize, most_common_count: usize) -> RepeatReport {
        RepeatReport {
            input: "What is the capital of Australia?".into(),
            rule: "capitals",
            model: "fake".into(),
            runs: 6,
            rows: vec![RepeatRow {
                side: Side::Model,
                setting: Phrase::data("T=1"),
                temperature: Some(1.0),
                fixed_seed: Some(false),
                seeds: (1..=6).collect(),
                runs: 6,
                distinct,
                most_common: "Sydney".into(),
                most_common_count,
            }],
        }
    }

    #[test]
    fn six_different_outputs_have_no_most_common_one() {
        let rows = repeat_rows(&report(6, 1), 40, Lang::En);
        assert_eq!(rows[0][4], "all different, e.g. Sydney");
        let rows = repeat_rows(&report(6, 1), 40, Lang::Zh);
        assert_eq!(rows[0][4], "全都不同，例如 Sydney");
        let rows = repeat_rows(&report(4, 3), 40, Lang::En);
        assert_eq!(rows[0][4], "Sydney ×3");
    }
}
