//! Sweeps: inputs × temperatures × top-k × top-p × seeds, one row per sample,
//! appended to a CSV or JSON Lines file as each is produced, plus per-group
//! aggregates (accuracy, distinct answers, answer entropy).
//!
//! Cells run in a fixed order (input, temperature, top-k, top-p, seed), each
//! input's prompt is prefilled once and every cell decodes from a fork, so a
//! row equals `detprob generate` with the same settings, and a resumed sweep
//! writes exactly the rows an uninterrupted one would have.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{invalid, InputError};
use crate::generation::{Completion, GenerationSettings};
use crate::report::experiments::GroupSummary;
use crate::sampler::Sampling;

/// How rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
pub enum RowFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl RowFormat {
    /// The format a file name asks for (`.jsonl`/`.ndjson` → JSON Lines, else CSV).
    pub fn for_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl" | "ndjson") => RowFormat::Jsonl,
            _ => RowFormat::Csv,
        }
    }
}

/// One sample of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// The input (or prompt) as given.
    pub input: String,
    /// Model label.
    pub model: String,
    pub temperature: f64,
    /// Top-k filter (empty: none).
    pub top_k: Option<usize>,
    /// Top-p filter (empty: none).
    pub top_p: Option<f64>,
    pub seed: u64,
    pub max_tokens: usize,
    /// The answer read from the text (the whole text for a free prompt).
    pub answer: Option<String>,
    /// The correct answer, when known.
    pub truth: Option<String>,
    /// Whether `answer` matches `truth` (empty when the truth is unknown).
    pub correct: Option<bool>,
    /// The generated text, trimmed.
    pub text: String,
    /// Generated token ids, space-separated.
    pub token_ids: String,
    /// Number of generated tokens.
    pub tokens: usize,
    /// Sum of the tokens' natural-log probabilities (temperature 1; from a
    /// server, its logprobs as it reports them; empty where it gave none).
    pub total_logprob: Option<f64>,
    /// Mean natural-log probability per token.
    pub mean_logprob: Option<f64>,
    /// Mean entropy (nats) of the model's distribution over the steps
    /// (empty for a server's samples: it reports a few alternatives, not
    /// the distribution).
    pub mean_entropy: Option<f64>,
    /// Why generation stopped.
    pub stop_reason: String,
}

/// Identifies a cell: the same key means the same sample.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey {
    input: String,
    model: String,
    temperature: u64,
    top_k: Option<usize>,
    top_p: Option<u64>,
    seed: u64,
    max_tokens: usize,
}

impl SweepRow {
    /// Builds a row from a completion.
    pub fn new(
        input: &str,
        model: &str,
        settings: &GenerationSettings,
        completion: &Completion,
        answer: Option<String>,
        truth: Option<&str>,
        correct: Option<bool>,
    ) -> Self {
        let total: f64 = completion.steps.iter().map(|s| s.logprob).sum();
        let count = completion.steps.len().max(1) as f64;
        Self {
            token_ids: completion
                .tokens
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            tokens: completion.tokens.len(),
            total_logprob: Some(total),
            mean_logprob: Some(total / count),
            mean_entropy: Some(completion.steps.iter().map(|s| s.entropy).sum::<f64>() / count),
            stop_reason: serde_json::to_value(completion.stop_reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            ..Self::of_cell(
                input,
                model,
                settings,
                &completion.text,
                answer,
                truth,
                correct,
            )
        }
    }

    /// Builds a row from a server's completion: its text, its tokens and
    /// logprobs as far as the server reported them (no token ids, no
    /// entropy), its finish reason as `max_tokens` or `stop`.
    pub fn from_remote(
        input: &str,
        model: &str,
        settings: &GenerationSettings,
        completion: &crate::remote::RemoteCompletion,
        answer: Option<String>,
        truth: Option<&str>,
        correct: Option<bool>,
    ) -> Self {
        let logprobs = completion.logprobs();
        let total = logprobs.as_ref().map(|l| l.iter().sum::<f64>());
        Self {
            tokens: completion.generated_tokens(),
            total_logprob: total,
            mean_logprob: total.zip(logprobs).map(|(t, l)| t / l.len().max(1) as f64),
            stop_reason: remote_stop_reason(completion).to_string(),
            ..Self::of_cell(
                input,
                model,
                settings,
                &completion.text,
                answer,
                truth,
                correct,
            )
        }
    }

    /// The cell's settings, text and scoring, with nothing yet about its
    /// tokens.
    fn of_cell(
        input: &str,
        model: &str,
        settings: &GenerationSettings,
        text: &str,
        answer: Option<String>,
        truth: Option<&str>,
        correct: Option<bool>,
    ) -> Self {
        let (temperature, top_k, top_p) = sampling_axes(&settings.sampling);
        Self {
            input: input.to_string(),
            model: model.to_string(),
            temperature,
            top_k,
            top_p,
            seed: settings.seed,
            max_tokens: settings.max_tokens,
            answer,
            truth: truth.map(str::to_string),
            correct,
            text: text.trim().to_string(),
            token_ids: String::new(),
            tokens: 0,
            total_logprob: None,
            mean_logprob: None,
            mean_entropy: None,
            stop_reason: String::new(),
        }
    }

    /// The cell this row fills.
    pub fn key(&self) -> CellKey {
        CellKey::new(
            &self.input,
            &self.model,
            self.temperature,
            self.top_k,
            self.top_p,
            self.seed,
            self.max_tokens,
        )
    }
}

/// A server's finish reason in the rows' words: `max_tokens` when the limit
/// cut it, else `stop` (an end token or a stop string: servers do not say
/// which).
pub fn remote_stop_reason(completion: &crate::remote::RemoteCompletion) -> &'static str {
    if completion.cut_at_limit() {
        "max_tokens"
    } else {
        "stop"
    }
}

/// The sweep axes of a sampling mode: temperature, top-k and top-p.
fn sampling_axes(sampling: &Sampling) -> (f64, Option<usize>, Option<f64>) {
    let filters = sampling.filters();
    (sampling.temperature().value(), filters.top_k, filters.top_p)
}

impl CellKey {
    /// The key of the cell that runs `settings` on `input`.
    pub fn of(input: &str, model: &str, settings: &GenerationSettings) -> Self {
        let (temperature, top_k, top_p) = sampling_axes(&settings.sampling);
        Self::new(
            input,
            model,
            temperature,
            top_k,
            top_p,
            settings.seed,
            settings.max_tokens,
        )
    }

    /// The key of a planned cell.
    pub fn new(
        input: &str,
        model: &str,
        temperature: f64,
        top_k: Option<usize>,
        top_p: Option<f64>,
        seed: u64,
        max_tokens: usize,
    ) -> Self {
        Self {
            input: input.to_string(),
            model: model.to_string(),
            temperature: temperature.to_bits(),
            top_k,
            top_p: top_p.map(f64::to_bits),
            seed,
            max_tokens,
        }
    }
}

/// Appends rows to the output file, one complete line per write.
pub struct RowWriter {
    file: File,
    format: RowFormat,
    path: PathBuf,
}

/// The CSV header line of [`SweepRow`].
fn csv_header() -> String {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    writer
        .write_record([
            "input",
            "model",
            "temperature",
            "top_k",
            "top_p",
            "seed",
            "max_tokens",
            "answer",
            "truth",
            "correct",
            "text",
            "token_ids",
            "tokens",
            "total_logprob",
            "mean_logprob",
            "mean_entropy",
            "stop_reason",
        ])
        .expect("writing to memory");
    String::from_utf8(writer.into_inner().expect("flush to memory")).expect("UTF-8")
}

fn encode(row: &SweepRow, format: RowFormat) -> String {
    match format {
        RowFormat::Jsonl => serde_json::to_string(row).expect("rows serialize") + "\n",
        RowFormat::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            writer.serialize(row).expect("rows serialize");
            String::from_utf8(writer.into_inner().expect("flush to memory")).expect("UTF-8")
        }
    }
}

/// Rows already in an output file, for `--resume`. A last row cut off by an
/// interruption is dropped (and truncated away before appending); a file
/// that is not a sweep's — not one complete line, or a cut-off line that is
/// not the start of a row — is refused and left as it is.
pub fn read_rows(path: &Path, format: RowFormat) -> Result<(Vec<SweepRow>, u64), InputError> {
    let name = path.display();
    let text = crate::files::read_text(path, "sweep output", crate::files::DATA_LIMIT)?;
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    let cut_off = &text[complete.len()..];
    // A JSON row begins `{"input":`; a write cut off may have left any
    // part of that beginning, or more.
    const ROW_START: &str = "{\"input\":";
    let row_start = cut_off.starts_with(ROW_START) || ROW_START.starts_with(cut_off);
    if !cut_off.is_empty() && (complete.is_empty() || (format == RowFormat::Jsonl && !row_start)) {
        return Err(invalid(format!(
            "{name} does not look like a detprob sweep's rows (it ends in a line that is not one); cannot resume it"
        )));
    }
    let rows = match format {
        RowFormat::Jsonl => complete
            .lines()
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_str(line)
                    .map_err(|e| invalid(format!("{name}, line {}: not a sweep row: {e}", i + 1)))
            })
            .collect::<Result<Vec<_>, _>>()?,
        RowFormat::Csv => {
            if !complete.is_empty() && !complete.starts_with(&csv_header()) {
                return Err(invalid(format!(
                    "{name} does not start with detprob's sweep header; cannot resume it"
                )));
            }
            let mut reader = csv::Reader::from_reader(complete.as_bytes());
            reader
                .deserialize()
                .enumerate()
                .map(|(i, row)| {
                    row.map_err(|e| invalid(format!("{name}, row {}: not a sweep row: {e}", i + 1)))
                })
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    Ok((rows, complete.len() as u64))
}

/// The error for an output file that is already there.
pub fn output_exists(path: &Path) -> InputError {
    invalid(format!(
        "{} already exists: add --resume to continue that sweep, or choose another --output",
        path.display()
    ))
}

/// Takes the exclusive lock a sweep holds on its output while it reads and
/// appends (two sweeps resuming one file would write its rows twice).
pub fn lock_output(path: &Path) -> Result<File, InputError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| invalid(format!("cannot open {}: {e}", path.display())))?;
    lock(&file, path)?;
    Ok(file)
}

fn lock(file: &File, path: &Path) -> Result<(), InputError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(invalid(format!(
            "{} is being written by another detprob sweep: wait for it to finish, or choose another --output",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(invalid(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

impl RowWriter {
    /// Creates `path` (with a header for CSV), locked while it is written;
    /// fails if it exists.
    pub fn create(path: &Path, format: RowFormat) -> Result<Self, InputError> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => output_exists(path),
                _ => invalid(format!("cannot create {}: {e}", path.display())),
            })?;
        lock(&file, path)?;
        if format == RowFormat::Csv {
            file.write_all(csv_header().as_bytes())
                .map_err(|e| invalid(format!("cannot write {}: {e}", path.display())))?;
        }
        Ok(Self {
            file,
            format,
            path: path.to_path_buf(),
        })
    }

    /// Appends to `path` through `file`, the handle holding its lock (from
    /// [`lock_output`]), after its first `keep` bytes (the complete rows).
    pub fn append(
        path: &Path,
        format: RowFormat,
        keep: u64,
        mut file: File,
    ) -> Result<Self, InputError> {
        let fail = |e: std::io::Error| invalid(format!("cannot append to {}: {e}", path.display()));
        file.set_len(keep).map_err(fail)?;
        file.seek(std::io::SeekFrom::Start(keep)).map_err(fail)?;
        if keep == 0 && format == RowFormat::Csv {
            file.write_all(csv_header().as_bytes()).map_err(fail)?;
        }
        Ok(Self {
            file,
            format,
            path: path.to_path_buf(),
        })
    }

    /// Appends one row and flushes it to the file.
    pub fn write(&mut self, row: &SweepRow) -> anyhow::Result<()> {
        self.file
            .write_all(encode(row, self.format).as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", self.path.display()))
    }
}

/// A summary group: input, temperature bits, top-k, top-p bits.
type GroupKey = (String, u64, Option<usize>, Option<u64>);

/// Groups rows by input and setting, in first-seen order.
pub fn summarize(rows: &[SweepRow]) -> Vec<GroupSummary> {
    let mut order: Vec<GroupKey> = Vec::new();
    let mut groups: BTreeMap<GroupKey, Vec<&SweepRow>> = BTreeMap::new();
    for row in rows {
        let key = (
            row.input.clone(),
            row.temperature.to_bits(),
            row.top_k,
            row.top_p.map(f64::to_bits),
        );
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(row);
    }
    order
        .into_iter()
        .map(|key| {
            let members = &groups[&key];
            let mut counts: BTreeMap<Option<&str>, usize> = BTreeMap::new();
            for row in members {
                *counts.entry(row.answer.as_deref()).or_default() += 1;
            }
            let n = members.len() as f64;
            let entropy = counts
                .values()
                .map(|&c| {
                    let p = c as f64 / n;
                    -p * p.log2()
                })
                .sum::<f64>()
                .max(0.0);
            let (top_answer, top_count) = counts
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(a, c)| (a.map(str::to_string), *c))
                .unwrap_or((None, 0));
            let known: BTreeSet<bool> = members.iter().map(|r| r.correct.is_some()).collect();
            GroupSummary {
                input: members[0].input.clone(),
                temperature: members[0].temperature,
                top_k: members[0].top_k,
                top_p: members[0].top_p,
                samples: members.len(),
                correct: (known == BTreeSet::from([true]))
                    .then(|| members.iter().filter(|r| r.correct == Some(true)).count()),
                distinct_answers: counts.len(),
                answer_entropy_bits: entropy,
                top_answer,
                top_count,
                mean_token_entropy: members
                    .iter()
                    .map(|r| r.mean_entropy)
                    .sum::<Option<f64>>()
                    .map(|sum| sum / n),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(input: &str, t: f64, seed: u64, answer: &str, correct: bool) -> SweepRow {
        SweepRow {
            input: input.into(),
            model: "m".into(),
            temperature: t,
            top_k: None,
            top_p: Some(0.9),
            seed,
            max_tokens: 8,
            answer: Some(answer.into()),
            truth: Some("4".into()),
            correct: Some(correct),
            text: format!("it is {answer}, \"quoted\"\nand more"),
            token_ids: "1 2 3".into(),
            tokens: 3,
            total_logprob: Some(-1.25),
            mean_logprob: Some(-0.4166666666666667),
            mean_entropy: Some(0.1),
            stop_reason: "max_tokens".into(),
        }
    }

    #[test]
    fn rows_survive_a_round_trip_through_both_formats() {
        let dir = tempfile::tempdir().unwrap();
        for format in [RowFormat::Csv, RowFormat::Jsonl] {
            let path = dir.path().join(format!("rows-{format:?}"));
            let mut writer = RowWriter::create(&path, format).unwrap();
            let rows = vec![
                row("2+2", 0.7, 1, "4", true),
                row("2+2", 0.7, 2, "5", false),
            ];
            for r in &rows {
                writer.write(r).unwrap();
            }
            let (read, _) = read_rows(&path, format).unwrap();
            assert_eq!(read, rows, "{format:?}");
            assert!(
                RowWriter::create(&path, format).is_err(),
                "must not clobber"
            );
        }
    }

    #[test]
    fn a_line_cut_off_by_an_interruption_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.jsonl");
        let mut writer = RowWriter::create(&path, RowFormat::Jsonl).unwrap();
        writer.write(&row("a", 0.0, 1, "4", true)).unwrap();
        let whole = std::fs::metadata(&path).unwrap().len();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"input\": \"half").unwrap();
        let (rows, keep) = read_rows(&path, RowFormat::Jsonl).unwrap();
        assert_eq!((rows.len(), keep), (1, whole));
        // Cut even before the first key was whole.
        file.set_len(whole).unwrap();
        file.write_all(b"{\"in").unwrap();
        let (rows, keep) = read_rows(&path, RowFormat::Jsonl).unwrap();
        assert_eq!((rows.len(), keep), (1, whole));
    }

    #[test]
    fn a_file_that_is_not_a_sweeps_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text, format) in [
            // A user's one-line JSON or CSV: no complete line at all.
            ("one.json", "{\"a\": 1}", RowFormat::Jsonl),
            ("one.csv", "a,b,c", RowFormat::Csv),
            // Rows, then a last line that is no row's beginning.
            ("tail.jsonl", "", RowFormat::Jsonl),
        ] {
            let path = dir.path().join(name);
            let text = if text.is_empty() {
                encode(&row("a", 0.0, 1, "4", true), RowFormat::Jsonl) + "not a row"
            } else {
                text.to_string()
            };
            std::fs::write(&path, &text).unwrap();
            let error = read_rows(&path, format).unwrap_err().to_string();
            assert!(
                error.contains("does not look like a detprob sweep"),
                "{name}: {error}"
            );
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{name}");
        }
    }

    #[test]
    fn one_output_is_written_by_one_sweep_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.csv");
        let writer = RowWriter::create(&path, RowFormat::Csv).unwrap();
        let busy = lock_output(&path).unwrap_err().to_string();
        assert!(
            busy.contains("being written by another detprob sweep"),
            "{busy}"
        );
        drop(writer);
        let lock = lock_output(&path).unwrap();
        assert!(lock_output(&path).is_err(), "a resume holds the lock too");
        let keep = std::fs::metadata(&path).unwrap().len();
        let writer = RowWriter::append(&path, RowFormat::Csv, keep, lock).unwrap();
        assert!(lock_output(&path).is_err());
        drop(writer);
        assert!(lock_output(&path).is_ok());
    }

    #[test]
    fn summary_counts_accuracy_and_answer_entropy() {
        let rows = vec![
            row("q", 0.7, 1, "4", true),
            row("q", 0.7, 2, "5", false),
            row("q", 0.0, 1, "4", true),
        ];
        let groups = summarize(&rows);
        assert_eq!(groups.len(), 2);
        assert_eq!((groups[0].samples, groups[0].correct), (2, Some(1)));
        assert_eq!(groups[0].distinct_answers, 2);
        assert!((groups[0].answer_entropy_bits - 1.0).abs() < 1e-12);
        assert_eq!(groups[1].answer_entropy_bits, 0.0);
    }
}
