//! Reports of `compare`, `showcase` and the tour's compare steps: one
//! input put to a rule and to the model over a grid of temperatures × seeds,
//! and a summary over many inputs. Plain data; the words in it are
//! [`Phrase`]s (catalogue keys), which renderers put into a language.

use crate::sampler::Temperature;
use serde::Serialize;

use crate::generation::StopReason;
use crate::rules::{RuleOutcome, TraceStep};
use crate::tasks::Task;
use crate::words::{Bilingual, Phrase};

/// Temperatures × seeds to sample, and the answer length.
#[derive(Debug, Clone, Serialize)]
pub struct SampleGrid {
    /// Sampling temperatures (0 = greedy).
    pub temperatures: Vec<crate::sampler::Temperature>,
    /// Seeds of the sampler's random stream.
    pub seeds: Vec<u64>,
    /// At most this many tokens per answer.
    pub max_tokens: usize,
}

/// The correct answer and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// The answer.
    pub answer: String,
    /// Where the answer came from.
    pub source: TruthSource,
}

/// Where a truth came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TruthSource {
    /// Given by the user or an inputs file.
    Given,
    /// A trusted rule's answer.
    Rule,
    /// detprob's labelled data.
    Data,
}

/// The rule's side of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSide {
    /// Rule name.
    pub name: &'static str,
    /// What it does.
    pub summary: Phrase,
    /// Its answer or explicit error.
    pub outcome: RuleOutcome,
    /// Every step it took.
    pub trace: Vec<TraceStep>,
    /// How many times it was run (as many as the model was sampled).
    pub runs: usize,
    /// How many distinct outputs those runs gave.
    pub distinct_outputs: usize,
    /// Whether its answer matched the truth (`null`: error or no truth).
    pub correct: Option<bool>,
}

/// One model sample.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSample {
    /// Sampling temperature.
    pub temperature: Temperature,
    /// Sampler seed.
    pub seed: u64,
    /// The model's text, trimmed.
    pub text: String,
    /// Generated token ids (empty from a server: it reports text).
    pub tokens: Vec<u32>,
    /// The answer read from the text (`null` if none could be read).
    pub answer: Option<String>,
    /// Whether the answer matched the truth (`null` if the truth is unknown).
    pub correct: Option<bool>,
    /// `Some(n)`: the text was cut off at the token limit of `n` tokens
    /// before its answer was whole, so no answer is read from it.
    pub cut_off_at: Option<usize>,
    /// The model's probability of this whole text at temperature 1
    /// (exp of the summed natural-log probabilities of its tokens; from a
    /// server, its logprobs as reported; `null`: not reported).
    pub probability: Option<f64>,
    /// The model's probability (temperature 1) of the tokens that spell the
    /// answer, given the text before them; the whole text's probability when
    /// the answer is not written out verbatim (`null`: not reported).
    pub answer_probability: Option<f64>,
    /// Why generation stopped.
    pub stop_reason: StopReason,
    /// Natural-log probability of each generated token (for manifests).
    #[serde(skip)]
    pub logprobs: Vec<f64>,
}

/// A distinct answer at one temperature.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerCount {
    /// The answer (`null`: no answer could be read).
    pub answer: Option<String>,
    /// How many samples gave it.
    pub count: usize,
    /// Whether it matches the truth.
    pub correct: Option<bool>,
    /// `Some(n)`: these samples were cut off at the limit of `n` tokens
    /// before an answer (the answer is then `null`).
    pub cut_off_at: Option<usize>,
    /// The highest probability the model gave this answer's tokens in any
    /// sample (see [`ModelSample::answer_probability`]; `null`: not reported).
    pub probability: Option<f64>,
    /// The text of that most probable sample.
    pub example: String,
}

/// The model's samples at one temperature.
#[derive(Debug, Clone, Serialize)]
pub struct TemperatureSummary {
    /// The temperature.
    pub temperature: Temperature,
    /// Samples taken.
    pub samples: usize,
    /// Distinct texts among them.
    pub distinct_texts: usize,
    /// Distinct answers, most frequent first.
    pub answers: Vec<AnswerCount>,
    /// Samples whose answer was right (`null` if the truth is unknown).
    pub correct: Option<usize>,
}

/// A re-run of one grid cell from scratch (fresh prefill), compared with the
/// grid's sample.
#[derive(Debug, Clone, Serialize)]
pub struct SeedCheck {
    /// Temperature of the re-run cell.
    pub temperature: Temperature,
    /// Seed of the re-run cell.
    pub seed: u64,
    /// Whether it produced the same tokens.
    pub identical: bool,
}

/// The model's side of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSide {
    /// Model alias (or name).
    pub model: String,
    /// The server the model was sampled on (`null`: detprob's own engine).
    pub endpoint: Option<String>,
    /// The prompt template used (from `prompts.toml`).
    pub prompt_template: String,
    /// The formatted prompt, as tokenized (from a server: the chat's user
    /// message; the server applies its chat template).
    pub formatted_prompt: String,
    /// Prompt length in tokens (`null`: the server tokenized it).
    pub prompt_tokens: Option<usize>,
    /// Every sample, in grid order (temperature-major).
    pub samples: Vec<ModelSample>,
    /// Per-temperature summaries.
    pub temperatures: Vec<TemperatureSummary>,
    /// The reproducibility re-run.
    pub seed_check: SeedCheck,
    /// Every distinct `system_fingerprint` a server's answers carried.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system_fingerprints: Vec<String>,
}

/// A verdict tied to one row of the comparison table.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The row of the source table.
    pub row: Phrase,
    /// What this run showed.
    pub text: Phrase,
}

/// The three verdicts of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Verdicts {
    /// Same input, same output?
    pub reproducibility: Verdict,
    /// What happens outside the rule's grammar or table.
    pub generalization: Verdict,
    /// What kind of error each side makes.
    pub error_type: Verdict,
}

/// Everything one comparison found.
#[derive(Debug, Clone, Serialize)]
pub struct CompareReport {
    /// The input.
    pub input: String,
    /// The task both sides were given.
    pub task: Task,
    /// The correct answer, when known.
    pub truth: Option<Truth>,
    /// The rule's side.
    pub rule: RuleSide,
    /// The model's side.
    pub model: ModelSide,
    /// The verdicts.
    pub verdicts: Verdicts,
}

/// Many comparisons summed up: rule coverage and accuracy against the
/// model's accuracy and spread per temperature.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryReport {
    /// Model alias.
    pub model: String,
    /// The grid every input was sampled over.
    pub grid: SampleGrid,
    /// One row per input.
    pub rows: Vec<SummaryRow>,
    /// Inputs the rules answered (the rest got an explicit error).
    pub rule_answered: usize,
    /// Rule answers that could be scored (truth known).
    pub rule_scored: usize,
    /// Rule answers that were right.
    pub rule_correct: usize,
    /// The model's totals per temperature.
    pub model_totals: Vec<TemperatureTotal>,
    /// Every comparison in full.
    pub comparisons: Vec<CompareReport>,
}

/// One input's line in a summary.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// The input.
    pub input: String,
    /// The rule used.
    pub rule: String,
    /// The rule's answer or error.
    pub rule_output: Phrase,
    /// Whether the rule was right.
    pub rule_correct: Option<bool>,
    /// The truth, if known.
    pub truth: Option<String>,
    /// The model per temperature.
    pub temperatures: Vec<SummaryCell>,
}

/// The model at one temperature on one input.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryCell {
    /// Temperature.
    pub temperature: Temperature,
    /// Samples.
    pub samples: usize,
    /// Right answers (`null`: truth unknown).
    pub correct: Option<usize>,
    /// Distinct answers.
    pub distinct_answers: usize,
}

/// The model at one temperature over all inputs.
#[derive(Debug, Clone, Serialize)]
pub struct TemperatureTotal {
    /// Temperature.
    pub temperature: Temperature,
    /// Samples on inputs with a known truth.
    pub scored: usize,
    /// Right answers among them.
    pub correct: usize,
    /// Mean number of distinct answers per input.
    pub mean_distinct_answers: f64,
}

/// One showcase input with the reason it was chosen.
#[derive(Debug, Clone, Serialize)]
pub struct ShowcaseItem {
    /// What this input demonstrates.
    pub why: Bilingual,
    /// The comparison.
    pub comparison: CompareReport,
}

/// The showcase run.
#[derive(Debug, Clone, Serialize)]
pub struct ShowcaseReport {
    /// The inputs, in order.
    pub items: Vec<ShowcaseItem>,
    /// Wall time of the whole run, in seconds (model load included).
    pub seconds: f64,
}
