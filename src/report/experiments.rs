//! Reports of the seed experiments: `repeat` (the same input N times on
//! each side, distinct outputs counted).

use serde::Serialize;

use crate::words::Phrase;

/// The conventional program or the language model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The rule-based function.
    Rule,
    /// The language model.
    Model,
}

/// One line of the count: a side at one setting.
#[derive(Debug, Clone, Serialize)]
pub struct RepeatRow {
    /// Which side ran.
    pub side: Side,
    /// The setting, e.g. `T=0.7, seed 1 every run`.
    pub setting: Phrase,
    /// Temperature (`None` for the rule).
    pub temperature: Option<f64>,
    /// Whether every run used the same seed (`None` for the rule and greedy).
    pub fixed_seed: Option<bool>,
    /// Seeds used, in run order (empty for the rule).
    pub seeds: Vec<u64>,
    /// Runs.
    pub runs: usize,
    /// Distinct outputs among them.
    pub distinct: usize,
    /// The most frequent output and how often it came.
    pub most_common: String,
    pub most_common_count: usize,
}

/// What `repeat` found.
#[derive(Debug, Clone, Serialize)]
pub struct RepeatReport {
    pub input: String,
    pub rule: &'static str,
    pub model: String,
    pub runs: usize,
    pub rows: Vec<RepeatRow>,
}
