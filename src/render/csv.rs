//! CSV rendering: tidy rows that pandas or a spreadsheet reads as-is.

use crate::report::compare::{CompareReport, SummaryReport};

const SAMPLE_HEADER: [&str; 10] = [
    "input",
    "side",
    "name",
    "temperature",
    "seed",
    "output",
    "answer",
    "correct",
    "probability",
    "truth",
];

fn flag(value: Option<bool>) -> String {
    value.map_or(String::new(), |v| v.to_string())
}

/// One row for the rule and one per model sample, for each comparison.
pub fn samples(reports: &[&CompareReport]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(SAMPLE_HEADER).expect("in-memory write");
    for report in reports {
        let truth = report
            .truth
            .as_ref()
            .map(|t| t.answer.clone())
            .unwrap_or_default();
        let rule = &report.rule;
        writer
            .write_record([
                report.input.clone(),
                "rule".into(),
                rule.name.into(),
                String::new(),
                String::new(),
                rule.outcome.display(),
                rule.outcome.answer().unwrap_or_default().to_string(),
                flag(rule.correct),
                String::new(),
                truth.clone(),
            ])
            .expect("in-memory write");
        for s in &report.model.samples {
            writer
                .write_record([
                    report.input.clone(),
                    "model".into(),
                    report.model.model.clone(),
                    s.temperature.to_string(),
                    s.seed.to_string(),
                    s.text.clone(),
                    s.answer.clone().unwrap_or_default(),
                    flag(s.correct),
                    s.probability.map(|p| format!("{p:.6}")).unwrap_or_default(),
                    truth.clone(),
                ])
                .expect("in-memory write");
        }
    }
    finish(writer)
}

/// One row per input and temperature.
pub fn summary(report: &SummaryReport) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "input",
            "rule",
            "rule_output",
            "rule_correct",
            "truth",
            "temperature",
            "samples",
            "model_correct",
            "distinct_answers",
        ])
        .expect("in-memory write");
    for row in &report.rows {
        for c in &row.temperatures {
            writer
                .write_record([
                    row.input.clone(),
                    row.rule.clone(),
                    row.rule_output.to_string(),
                    flag(row.rule_correct),
                    row.truth.clone().unwrap_or_default(),
                    c.temperature.to_string(),
                    c.samples.to_string(),
                    c.correct.map_or(String::new(), |n| n.to_string()),
                    c.distinct_answers.to_string(),
                ])
                .expect("in-memory write");
        }
    }
    finish(writer)
}

/// The text an in-memory CSV writer holds.
pub fn finish(writer: csv::Writer<Vec<u8>>) -> String {
    String::from_utf8(writer.into_inner().expect("flush")).expect("UTF-8 input gives UTF-8 CSV")
}
