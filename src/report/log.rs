//! What `detprob log` reports: the entries of the run log, one entry with
//! its replay manifest, and the rows of an export (one per completion).

use std::path::PathBuf;

use serde::Serialize;

use crate::experiments::manifest::Manifest;

/// One entry as `log list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EntrySummary {
    pub id: i64,
    /// When it was recorded (UTC, RFC 3339).
    pub recorded: String,
    /// `generate`, `compare`, `sweep` or `serve`.
    pub command: String,
    /// The model's alias (or file name).
    pub model: String,
    /// Completions in the entry.
    pub runs: usize,
    /// Tokens generated.
    pub tokens: usize,
    /// The first prompt's text (after the chat template).
    pub prompt: String,
    /// The first completion's text.
    pub text: String,
}

/// `log list`: the entries found, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct LogList {
    /// The log read.
    pub log: PathBuf,
    pub entries: Vec<EntrySummary>,
}

/// `log show`: an entry with everything needed to replay it.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    #[serde(flatten)]
    pub summary: EntrySummary,
    pub manifest: Manifest,
}

/// One completion of an exported entry.
#[derive(Debug, Clone, Serialize)]
pub struct ExportRow {
    pub entry: i64,
    pub recorded: String,
    pub command: String,
    pub model: String,
    /// SHA-256 of the model file.
    pub model_sha256: String,
    /// The engine (`detprob`, `candle`), or for a run on a server its URL.
    pub engine: String,
    /// The prompt's text (after the chat template).
    pub prompt: String,
    pub seed: u64,
    /// 0 for greedy decoding.
    pub temperature: f64,
    pub top_k: Option<usize>,
    pub top_p: Option<f64>,
    pub min_p: Option<f64>,
    pub max_tokens: usize,
    /// The sampled token ids, space-separated.
    pub tokens: String,
    pub text: String,
}
