//! Markdown rendering of comparisons, for slides and handouts.

use std::fmt::Write;

use super::style::mark;
use crate::comparison::{shorten, temperature_label, CompareReport, SummaryReport};

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// One comparison as a Markdown section.
pub fn compare(report: &CompareReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Input: {}\n", cell(&report.input));
    if let Some(truth) = &report.truth {
        let _ = writeln!(
            out,
            "Truth: **{}** ({})\n",
            cell(&truth.answer),
            truth.source
        );
    }
    let rule = &report.rule;
    let _ = writeln!(out, "**Rule `{}`** — {}\n", rule.name, rule.summary);
    let _ = writeln!(
        out,
        "- Output: {} {}",
        mark(rule.correct),
        cell(&rule.outcome.display())
    );
    for (i, step) in rule.trace.iter().enumerate() {
        let _ = writeln!(
            out,
            "- Step {}: {}: {}",
            i + 1,
            step.rule,
            cell(&step.detail)
        );
    }
    let _ = writeln!(
        out,
        "- Same output in {}/{} runs\n",
        rule.runs - rule.distinct_outputs + 1,
        rule.runs
    );
    let _ = writeln!(out, "**Model `{}`**\n", report.model.model);
    let _ = writeln!(
        out,
        "| temperature | distinct texts | answer | count | probability | example |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
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
            let _ = writeln!(
                out,
                "| {label} | {distinct} | {} {} | {} | {:.3} | {} |",
                mark(a.correct),
                cell(a.answer.as_deref().unwrap_or("(no answer)")),
                a.count,
                a.probability,
                cell(&shorten(&a.example, 60))
            );
        }
    }
    let v = &report.verdicts;
    let _ = writeln!(out);
    for (name, verdict) in [
        ("Reproducibility", &v.reproducibility),
        ("Generalization", &v.generalization),
        ("Error type", &v.error_type),
    ] {
        let _ = writeln!(out, "- **{name}** ({}): {}", verdict.row, verdict.text);
    }
    out
}

/// A summary as a Markdown table.
pub fn summary(report: &SummaryReport) -> String {
    let mut out = String::new();
    let temps: Vec<String> = report
        .grid
        .temperatures
        .iter()
        .map(|&t| temperature_label(t))
        .collect();
    let _ = writeln!(
        out,
        "| input | rule | rule output | truth | {} |",
        temps.join(" | ")
    );
    let _ = writeln!(out, "|{}", " --- |".repeat(4 + temps.len()));
    for row in &report.rows {
        let cells: Vec<String> = row
            .temperatures
            .iter()
            .map(|c| {
                let right = c.correct.map_or("?".to_string(), |n| n.to_string());
                format!(
                    "{right}/{} right, {} answers",
                    c.samples, c.distinct_answers
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} {} | {} | {} |",
            cell(&row.input),
            row.rule,
            mark(row.rule_correct),
            cell(&row.rule_output),
            cell(row.truth.as_deref().unwrap_or("?")),
            cells.join(" | ")
        );
    }
    let _ = writeln!(
        out,
        "\nRule: answered {}/{} inputs; right on {}/{} scored.\n",
        report.rule_answered,
        report.rows.len(),
        report.rule_correct,
        report.rule_scored
    );
    for t in &report.model_totals {
        let _ = writeln!(
            out,
            "- Model {}: right in {}/{} scored samples; {:.1} distinct answers per input.",
            temperature_label(t.temperature),
            t.correct,
            t.scored,
            t.mean_distinct_answers
        );
    }
    out
}
