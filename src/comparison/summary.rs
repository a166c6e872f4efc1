//! Many comparisons summed up into one [`SummaryReport`].

use crate::report::compare::{
    CompareReport, SampleGrid, SummaryCell, SummaryReport, SummaryRow, TemperatureTotal,
};

impl SummaryReport {
    /// Sums up `comparisons` (all sampled over `grid`).
    pub fn new(model: String, grid: SampleGrid, comparisons: Vec<CompareReport>) -> Self {
        let rows: Vec<SummaryRow> = comparisons
            .iter()
            .map(|c| SummaryRow {
                input: c.input.clone(),
                rule: c.rule.name.to_string(),
                rule_output: c.rule.outcome.phrase(),
                rule_correct: c.rule.correct,
                truth: c.truth.as_ref().map(|t| t.answer.clone()),
                temperatures: c
                    .model
                    .temperatures
                    .iter()
                    .map(|t| SummaryCell {
                        temperature: t.temperature,
                        samples: t.samples,
                        correct: t.correct,
                        distinct_answers: t.answers.len(),
                    })
                    .collect(),
            })
            .collect();
        let model_totals = grid
            .temperatures
            .iter()
            .map(|&temperature| {
                let cells: Vec<&SummaryCell> = rows
                    .iter()
                    .flat_map(|r| {
                        r.temperatures
                            .iter()
                            .filter(|c| c.temperature == temperature)
                    })
                    .collect();
                let scored_cells = cells.iter().filter(|c| c.correct.is_some());
                TemperatureTotal {
                    temperature,
                    scored: scored_cells.clone().map(|c| c.samples).sum(),
                    correct: scored_cells.map(|c| c.correct.unwrap_or(0)).sum(),
                    mean_distinct_answers: cells
                        .iter()
                        .map(|c| c.distinct_answers as f64)
                        .sum::<f64>()
                        / cells.len().max(1) as f64,
                }
            })
            .collect();
        Self {
            model,
            rule_answered: comparisons
                .iter()
                .filter(|c| c.rule.outcome.answer().is_some())
                .count(),
            rule_scored: rows.iter().filter(|r| r.rule_correct.is_some()).count(),
            rule_correct: rows.iter().filter(|r| r.rule_correct == Some(true)).count(),
            grid,
            rows,
            model_totals,
            comparisons,
        }
    }
}
