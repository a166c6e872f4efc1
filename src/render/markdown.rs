//! Markdown rendering of comparisons, for slides and handouts.

use std::fmt::Write;

use super::style::mark;
use crate::comparison::{shorten, temperature_label, CompareReport, SummaryReport};

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

/// `probs` as a Markdown table: one row per rank, one column per distribution.
pub fn probs(report: &crate::commands::ProbsReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Next token after: {}\n", cell(&report.prompt));
    let columns: Vec<&crate::commands::DistributionColumn> =
        report.filters.iter().chain(&report.temperatures).collect();
    let labels: Vec<String> = columns.iter().map(|c| c.label.clone()).collect();
    let _ = writeln!(out, "| rank | {} |", labels.join(" | "));
    let _ = writeln!(out, "|{}", " --- |".repeat(1 + columns.len()));
    let rows = columns.iter().map(|c| c.top.len()).max().unwrap_or(0);
    for rank in 0..rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                c.top.get(rank).map_or(String::new(), |e| {
                    format!("`{}` {:.1}%", cell(&e.piece), e.probability * 100.0)
                })
            })
            .collect();
        let _ = writeln!(out, "| {} | {} |", rank + 1, cells.join(" | "));
    }
    let tails: Vec<String> = columns
        .iter()
        .map(|c| format!("{:.1}%", c.tail * 100.0))
        .collect();
    let _ = writeln!(out, "| tail | {} |", tails.join(" | "));
    let entropies: Vec<String> = columns
        .iter()
        .map(|c| format!("{:.2} bits", c.entropy_bits))
        .collect();
    let _ = writeln!(out, "| entropy | {} |", entropies.join(" | "));
    out
}

/// `trace` as Markdown.
pub fn trace(report: &crate::commands::TraceReport) -> String {
    let mut out = String::new();
    if let Some(rule) = &report.rule {
        let _ = writeln!(
            out,
            "**Rule `{}`** on “{}” → {}\n",
            rule.rule,
            cell(&report.input),
            cell(&rule.output)
        );
        for (i, step) in rule.steps.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. {}: {} (`{}`)",
                i + 1,
                step.rule,
                cell(&step.detail),
                step.source
            );
        }
        let _ = writeln!(out);
    }
    let model = &report.model;
    let _ = writeln!(out, "**Model `{}`**\n", model.model);
    for sample in &model.samples {
        let _ = writeln!(out, "Seed {}: “{}”\n", sample.seed, cell(&sample.text));
        if model.samples.len() == 1 {
            let _ = writeln!(out, "| # | token | p | model p | path p | alternatives |");
            let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
            for s in &sample.steps {
                let alternatives: Vec<String> = s
                    .alternatives
                    .iter()
                    .map(|a| format!("`{}` {:.1}%", cell(&a.piece), a.probability * 100.0))
                    .collect();
                let token = if s.low {
                    format!("**`{}`** ⚑", cell(&s.piece))
                } else {
                    format!("`{}`", cell(&s.piece))
                };
                let _ = writeln!(
                    out,
                    "| {} | {token} | {:.1}% | {:.1}% | {:.2e} | {} |",
                    s.step,
                    s.probability * 100.0,
                    s.model_probability * 100.0,
                    s.running_probability,
                    alternatives.join(" ")
                );
            }
        }
    }
    if let Some(d) = &model.divergence {
        let _ = writeln!(
            out,
            "Shared by all: {} step(s), “{}”\n",
            d.shared_steps,
            cell(&d.shared_text)
        );
        for b in &d.branches {
            let _ = writeln!(
                out,
                "- seed {} leaves seed {} at step {}: `{}` ({:.1}%) instead of `{}` ({:.1}%)",
                b.seed,
                b.from_seed,
                b.step,
                cell(&b.piece),
                b.probability * 100.0,
                cell(&b.other_piece),
                b.other_probability * 100.0
            );
        }
    }
    out
}
