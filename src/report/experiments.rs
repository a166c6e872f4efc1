//! Reports of the seed experiments: `repeat` (the same input N times on
//! each side, distinct outputs counted), `sweep`'s summary (per input and
//! setting) and `replay` (a recorded run again, token by token).

use std::path::PathBuf;

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

/// Where a replayed run first differs from its record.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// Index of the run in the manifest.
    pub run: usize,
    /// Step (0 = first generated token).
    pub step: usize,
    /// Recorded token id and its text, or `None` when the record ended first.
    pub recorded: Option<(u32, String)>,
    /// Natural-log probability the record gave its token.
    pub recorded_logprob: Option<f64>,
    /// Replayed token id and its text, or `None` when the replay ended first.
    pub replayed: Option<(u32, String)>,
    /// Natural-log probability of the replayed token.
    pub replayed_logprob: Option<f64>,
    /// For a server's run (compared by text, `step` then counting
    /// characters): the recorded and the replayed text from a little before
    /// the first difference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub texts: Option<(String, String)>,
}

/// The outcome of a replay.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    /// The recorded command.
    pub command: String,
    /// Runs replayed.
    pub runs: usize,
    /// Tokens compared.
    pub tokens: usize,
    /// Threads recorded vs now.
    pub recorded_threads: usize,
    pub replay_threads: usize,
    /// Runs whose tokens differ, with their first difference.
    pub differences: Vec<Difference>,
    /// The server the requests were sent to again (`null`: a local run,
    /// replayed on detprob's engine).
    pub endpoint: Option<String>,
}

impl ReplayReport {
    /// Whether every run gave its recorded tokens.
    pub fn identical(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Aggregates over one group of rows (one input at one setting).
#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    pub input: String,
    pub temperature: f64,
    pub top_k: Option<usize>,
    pub top_p: Option<f64>,
    pub samples: usize,
    /// Correct samples, when the truth is known.
    pub correct: Option<usize>,
    /// Distinct answers (no answer counts as one).
    pub distinct_answers: usize,
    /// Shannon entropy of the answer distribution, in bits.
    pub answer_entropy_bits: f64,
    /// The most frequent answer and its count.
    pub top_answer: Option<String>,
    pub top_count: usize,
    /// Mean per-token entropy of the model's distributions, in nats (none
    /// for a server's samples).
    pub mean_token_entropy: Option<f64>,
}

/// The whole sweep's summary.
#[derive(Debug, Clone, Serialize)]
pub struct SweepSummary {
    pub model: String,
    pub output: PathBuf,
    pub rows: usize,
    /// Rows found in the file and kept by `--resume`.
    pub resumed_rows: usize,
    pub groups: Vec<GroupSummary>,
    pub seconds: f64,
}
