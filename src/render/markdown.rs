//! Markdown rendering of comparisons, for slides and handouts.

use super::cells::{summary_cells, summary_headers, summary_totals};
use std::fmt::Write;

use super::style::mark;
use crate::comparison::{shorten, temperature_label};
use crate::report::compare::{CompareReport, SummaryReport, TruthSource};
use crate::words::Lang;

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A Markdown table of `headers` and `rows`.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        headers.join(" | "),
        " --- |".repeat(headers.len())
    );
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// One comparison as a Markdown section.
pub fn compare(report: &CompareReport, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}\n",
        lang.fill("markdown.input", &[("input", &cell(&report.input))])
    );
    if let Some(truth) = &report.truth {
        let source = lang.text(match truth.source {
            TruthSource::Given => "truth_source.given",
            TruthSource::Rule => "truth_source.rule",
            TruthSource::Data => "truth_source.data",
        });
        let _ = writeln!(
            out,
            "{}\n",
            lang.fill(
                "markdown.truth",
                &[
                    (
                        "answer",
                        &cell(&crate::tasks::answer_in(&truth.answer, lang))
                    ),
                    ("source", &source)
                ]
            )
        );
    }
    let rule = &report.rule;
    let _ = writeln!(
        out,
        "{}\n",
        lang.fill(
            "markdown.rule",
            &[("name", &rule.name), ("summary", &rule.summary.text(lang))]
        )
    );
    let _ = writeln!(
        out,
        "{}",
        lang.fill(
            "markdown.output",
            &[
                ("mark", &mark(rule.correct)),
                ("output", &cell(&rule.outcome.phrase().text(lang)))
            ]
        )
    );
    for (i, step) in rule.trace.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}",
            lang.fill(
                "markdown.step",
                &[
                    ("n", &(i + 1)),
                    ("rule", &step.rule.text(lang)),
                    ("detail", &cell(&step.detail.text(lang)))
                ]
            )
        );
    }
    let _ = writeln!(
        out,
        "{}\n",
        lang.fill(
            "markdown.same_output",
            &[
                ("same", &(rule.runs - rule.distinct_outputs + 1)),
                ("runs", &rule.runs)
            ]
        )
    );
    let _ = writeln!(
        out,
        "{}\n",
        lang.fill("markdown.model", &[("name", &report.model.model)])
    );
    let headers = [
        "markdown.header.temperature",
        "markdown.header.distinct_texts",
        "markdown.header.answer",
        "markdown.header.count",
        "markdown.header.probability",
        "markdown.header.example",
    ]
    .map(|k| lang.text(k));
    let mut rows = Vec::new();
    for t in &report.model.temperatures {
        for (i, a) in t.answers.iter().enumerate() {
            let (label, distinct) = if i == 0 {
                (
                    temperature_label(t.temperature),
                    format!("{}/{}", t.distinct_texts, t.samples),
                )
            } else {
                (String::new(), String::new())
            };
            rows.push(vec![
                label,
                distinct,
                format!(
                    "{} {}",
                    mark(a.correct),
                    super::cells::answer_label(a, lang)
                ),
                a.count.to_string(),
                super::cells::probability(a.probability, 3, lang),
                shorten(&a.example, 60),
            ]);
        }
    }
    out.push_str(&table(&headers, &rows));
    let v = &report.verdicts;
    let _ = writeln!(out);
    for (name, verdict) in [
        ("verdict.reproducibility", &v.reproducibility),
        ("verdict.generalization", &v.generalization),
        ("verdict.error_type", &v.error_type),
    ] {
        let _ = writeln!(
            out,
            "{}",
            lang.fill(
                "markdown.verdict",
                &[
                    ("name", &lang.text(name)),
                    ("row", &verdict.row.text(lang)),
                    ("text", &verdict.text.text(lang))
                ]
            )
        );
    }
    out
}

/// A summary as a Markdown table.
pub fn summary(report: &SummaryReport, lang: Lang) -> String {
    let headers = summary_headers(report, lang);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|row| summary_cells(row, usize::MAX, lang))
        .collect();
    format!(
        "{}\n{}",
        table(&headers, &rows),
        summary_totals(report, lang)
    )
}

/// `probs` as a Markdown table: one row per rank, one column per distribution.
pub fn probs(report: &crate::report::views::ProbsReport, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}\n",
        lang.fill("markdown.next_token", &[("prompt", &cell(&report.prompt))])
    );
    let columns: Vec<&crate::report::views::DistributionColumn> =
        report.filters.iter().chain(&report.temperatures).collect();
    let mut headers = vec![lang.text("markdown.rank").to_string()];
    headers.extend(columns.iter().map(|c| c.label.clone()));
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let ranks = columns.iter().map(|c| c.top.len()).max().unwrap_or(0);
    let mut rows: Vec<Vec<String>> = (0..ranks)
        .map(|rank| {
            let mut row = vec![(rank + 1).to_string()];
            row.extend(columns.iter().map(|c| {
                c.top.get(rank).map_or(String::new(), |e| {
                    format!("`{}` {:.1}%", e.piece, e.probability * 100.0)
                })
            }));
            row
        })
        .collect();
    let mut tails = vec![lang.text("markdown.tail").to_string()];
    tails.extend(columns.iter().map(|c| format!("{:.1}%", c.tail * 100.0)));
    rows.push(tails);
    let mut entropies = vec![lang.text("markdown.entropy").to_string()];
    entropies.extend(columns.iter().map(|c| match c.entropy_bits {
        Some(bits) => lang.fill("markdown.bits", &[("bits", &format!("{bits:.2}"))]),
        None => super::cells::not_reported(lang),
    }));
    rows.push(entropies);
    out.push_str(&table(&headers, &rows));
    out
}

/// `trace` as Markdown.
pub fn trace(report: &crate::report::views::TraceReport, lang: Lang) -> String {
    let mut out = String::new();
    if let Some(rule) = &report.rule {
        let _ = writeln!(
            out,
            "{}\n",
            lang.fill(
                "markdown.rule_trace",
                &[
                    ("rule", &rule.rule),
                    ("input", &cell(&report.input)),
                    ("output", &cell(&rule.output.text(lang)))
                ]
            )
        );
        for (i, step) in rule.steps.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. {} (`{}`)",
                i + 1,
                cell(&super::cells::step_text(step, lang)),
                step.source
            );
        }
        let _ = writeln!(out);
    }
    let model = &report.model;
    let _ = writeln!(
        out,
        "{}\n",
        lang.fill("markdown.model", &[("name", &model.model)])
    );
    for sample in &model.samples {
        let _ = writeln!(
            out,
            "{}\n",
            lang.fill(
                "markdown.seed",
                &[("seed", &sample.seed), ("text", &cell(&sample.text))]
            )
        );
        if model.samples.len() == 1 {
            let headers = [
                "#",
                lang.text("trace.header.token"),
                lang.text("markdown.header.p"),
                lang.text("trace.header.model_p"),
                lang.text("trace.header.path_p"),
                lang.text("trace.header.alternatives"),
            ];
            let rows: Vec<Vec<String>> = sample
                .steps
                .iter()
                .map(|s| {
                    let alternatives: Vec<String> = s
                        .alternatives
                        .iter()
                        .map(|a| format!("`{}` {:.1}%", a.piece, a.probability * 100.0))
                        .collect();
                    let token = if s.low {
                        format!("**`{}`** ⚑", s.piece)
                    } else {
                        format!("`{}`", s.piece)
                    };
                    vec![
                        s.step.to_string(),
                        token,
                        format!("{:.1}%", s.probability * 100.0),
                        format!("{:.1}%", s.model_probability * 100.0),
                        format!("{:.2e}", s.running_probability),
                        alternatives.join(" "),
                    ]
                })
                .collect();
            out.push_str(&table(&headers, &rows));
            out.push('\n');
        }
    }
    if let Some(d) = &model.divergence {
        let _ = writeln!(
            out,
            "{}\n",
            lang.fill(
                "trace.shared",
                &[
                    ("steps", &d.shared_steps),
                    ("text", &format!("“{}”", cell(&d.shared_text)))
                ]
            )
        );
        for b in &d.branches {
            let _ = writeln!(
                out,
                "- {}",
                lang.fill(
                    "trace.branch",
                    &[
                        ("seed", &b.seed),
                        ("other_seed", &b.from_seed),
                        ("step", &b.step),
                        ("piece", &format!("`{}`", cell(&b.piece))),
                        ("p", &format!("{:.1}%", b.probability * 100.0)),
                        ("model_p", &format!("{:.1}%", b.model_probability * 100.0)),
                        ("t", &model.sampling.temperature()),
                        ("other_piece", &format!("`{}`", cell(&b.other_piece))),
                        ("other_p", &format!("{:.1}%", b.other_probability * 100.0)),
                        (
                            "other_model_p",
                            &format!("{:.1}%", b.other_model_probability * 100.0),
                        ),
                    ]
                )
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::terminal::tests::{leap_year_report, without_line_numbers};

    #[test]
    fn the_compare_markdown_in_english_and_chinese() {
        let report = leap_year_report();
        let markdown = |lang| without_line_numbers(&compare(&report, lang));
        insta::assert_snapshot!("compare_markdown_en", markdown(Lang::En));
        insta::assert_snapshot!("compare_markdown_zh", markdown(Lang::Zh));
    }
}
