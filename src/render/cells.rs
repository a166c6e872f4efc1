//! Cell text shared by every format: a rule's outcome, a trace step, an
//! answer with its count, the truth's label, the summary table's headers,
//! cells and totals, the tour's last line. A leaf of `render`: it imports no
//! other renderer, so the formats that share these cells never import one
//! another.

use super::style::mark;
use crate::comparison::{shorten, temperature_label};
use crate::report::compare::{AnswerCount, CompareReport, RuleSide, SummaryReport};
use crate::rules::RuleOutcome;
use crate::words::Lang;

/// A probability with `decimals` decimals, or "not reported" (a server
/// that gave no logprobs).
pub fn probability(probability: Option<f64>, decimals: usize, lang: Lang) -> String {
    match probability {
        Some(p) => format!("{p:.decimals$}"),
        None => not_reported(lang),
    }
}

/// The cell for what was not measured: a server reports text, and logprobs
/// only where it offers them.
pub fn not_reported(lang: Lang) -> String {
    lang.text("not_reported").to_string()
}

/// The rule's outcome as plain text: "✓ Paris", "✗ yes", "? neutral", or its
/// explicit error in `lang`.
pub fn rule_outcome_text(rule: &RuleSide, lang: Lang) -> String {
    match &rule.outcome {
        RuleOutcome::Answer { value } => format!("{} {value}", mark(rule.correct)),
        RuleOutcome::Error { error } => error.describe(lang),
    }
}

/// The rule's outcome in a table cell beside its input: as
/// [`rule_outcome_text`], an error without what the row already shows.
pub fn rule_outcome_beside_input(rule: &RuleSide, lang: Lang) -> String {
    match &rule.outcome {
        RuleOutcome::Error { error } => error.describe_beside_input(lang),
        RuleOutcome::Answer { .. } => rule_outcome_text(rule, lang),
    }
}

/// One step of a rule's trace as "what fired: what it did", in `lang`.
pub fn step_text(step: &crate::rules::TraceStep, lang: Lang) -> String {
    format!(
        "{}{}{}",
        step.rule.text(lang),
        lang.text("colon"),
        step.detail.text(lang)
    )
}

/// One distinct answer of the model as plain text, "✓ Paris ×3", the
/// answer cut to `max` characters ("(no answer)" when none was read, "(cut
/// off at 32 tokens)" when the token limit came first).
pub fn answer_text(answer: &AnswerCount, max: usize, lang: Lang) -> String {
    format!(
        "{} {} ×{}",
        mark(answer.correct),
        shorten(&answer_label(answer, lang), max),
        answer.count
    )
}

/// The answer, or why there is none: cut off at the token limit, or none
/// could be read.
pub fn answer_label(answer: &AnswerCount, lang: Lang) -> String {
    match (&answer.answer, answer.cut_off_at) {
        (Some(text), _) => crate::tasks::answer_in(text, lang),
        (None, Some(tokens)) => lang.fill("panel.cut_off", &[("tokens", &tokens)]),
        (None, None) => lang.text("panel.no_answer").to_string(),
    }
}

/// "truth: Paris" or "truth: unknown", in `lang`.
pub fn truth_label(report: &CompareReport, lang: Lang) -> String {
    match &report.truth {
        Some(t) => lang.fill(
            "panel.truth",
            &[("truth", &crate::tasks::answer_in(&t.answer, lang))],
        ),
        None => lang.text("panel.truth_unknown").to_string(),
    }
}

/// The summary table's header: input, rule, its output, truth, then one
/// column per temperature.
pub fn summary_headers(report: &SummaryReport, lang: Lang) -> Vec<String> {
    let mut header: Vec<String> = [
        "summary.input",
        "summary.rule",
        "summary.rule_output",
        "summary.truth",
    ]
    .iter()
    .map(|k| lang.text(k).to_string())
    .collect();
    header.extend(
        report
            .grid
            .temperatures
            .iter()
            .map(|&t| temperature_label(t)),
    );
    header
}

/// One input's summary cells: `max` cuts the input and the rule's output.
pub fn summary_cells(
    row: &crate::report::compare::SummaryRow,
    max: usize,
    lang: Lang,
) -> Vec<String> {
    let mut cells = vec![
        shorten(&row.input, max),
        row.rule.clone(),
        format!(
            "{} {}",
            mark(row.rule_correct),
            shorten(&row.rule_output.text(lang), max)
        ),
        row.truth.clone().unwrap_or_else(|| "?".into()),
    ];
    cells.extend(row.temperatures.iter().map(|c| match c.correct {
        Some(right) => lang.fill(
            "summary.cell",
            &[
                ("right", &right),
                ("samples", &c.samples),
                ("answers", &c.distinct_answers),
            ],
        ),
        // With no truth nothing is right or wrong: the cell counts.
        None => lang.fill(
            "summary.cell_unscored",
            &[("samples", &c.samples), ("answers", &c.distinct_answers)],
        ),
    }));
    cells
}

/// The summary's closing lines: the rule's record, then the model's per temperature.
pub fn summary_totals(report: &SummaryReport, lang: Lang) -> String {
    let mut out = lang.fill(
        "summary.rule_total",
        &[
            ("answered", &report.rule_answered),
            ("inputs", &report.rows.len()),
            ("right", &report.rule_correct),
            ("scored", &report.rule_scored),
        ],
    );
    out.push('\n');
    for t in &report.model_totals {
        out.push_str(&lang.fill(
            "summary.model_total",
            &[
                ("t", &temperature_label(t.temperature)),
                ("right", &t.correct),
                ("scored", &t.scored),
                ("distinct", &format!("{:.1}", t.mean_distinct_answers)),
            ],
        ));
        out.push('\n');
    }
    out
}

/// The tour's last line.
pub fn tour_footer(steps: usize, seconds: f64, lang: Lang) -> String {
    lang.fill(
        "tour.finished",
        &[("steps", &steps), ("seconds", &format!("{seconds:.1}"))],
    )
}
