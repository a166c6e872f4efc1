//! Reports of the views that open up the model: `probs` (the next-token
//! distribution), `trace` (generation step by step, where seeds branch),
//! `score` (how likely a stated answer is).

use serde::Serialize;

use crate::rules::TraceStep;
use crate::sampler::Sampling;
use crate::words::Phrase;

/// One token's probability in a column.
#[derive(Debug, Clone, Serialize)]
pub struct TokenProbability {
    /// Token id (`null`: a server named the token by its text only).
    pub token: Option<u32>,
    /// The token shown visibly (`␣` space, `↵` newline, `<0xNN>` bytes).
    pub piece: String,
    /// Its probability in this column.
    pub probability: f64,
}

/// A next-token distribution: at one temperature, or after one filter.
#[derive(Debug, Clone, Serialize)]
pub struct DistributionColumn {
    /// `T=0.5`, or the filter stage (`model`, `top-k 40`, …).
    pub label: String,
    /// The temperature of this column (filter stages are at 1).
    pub temperature: f64,
    /// Tokens that can be drawn (`null`: unknown, a server listed only its
    /// most likely tokens).
    pub candidates: Option<usize>,
    /// The most likely tokens, most likely first (ties: lower id first).
    pub top: Vec<TokenProbability>,
    /// Probability mass of every other candidate (summed, not 1 − top; for
    /// a server's listed tokens, 1 − their sum).
    pub tail: f64,
    /// Entropy of the column, in bits (`null`: unknown, only part of the
    /// distribution was reported).
    pub entropy_bits: Option<f64>,
    /// Sum of every candidate's probability (1 up to rounding; for a
    /// server's listed tokens, their sum).
    pub total: f64,
}

/// Everything `probs` computed.
#[derive(Debug, Clone, Serialize)]
pub struct ProbsReport {
    /// Model alias.
    pub model: String,
    /// The server asked (`null`: detprob's own engine).
    pub endpoint: Option<String>,
    /// How many of the most likely tokens the server reported (`null`:
    /// local, where the whole distribution is known).
    pub reported: Option<usize>,
    /// The prompt as given.
    pub prompt: String,
    /// The text tokenized (after the chat template unless `--raw`; from a
    /// server, the prompt or chat message sent).
    pub formatted_prompt: String,
    /// Prompt length in tokens (`null`: the server tokenized it).
    pub prompt_tokens: Option<usize>,
    /// The model's own distribution and each filter stage (at temperature 1);
    /// empty when no filter is set.
    pub filters: Vec<DistributionColumn>,
    /// The distribution sampled from at each temperature (after the filters).
    pub temperatures: Vec<DistributionColumn>,
}

/// An alternative token at a step.
#[derive(Debug, Clone, Serialize)]
pub struct TracedAlternative {
    /// The token shown visibly.
    pub piece: String,
    /// Its probability under the model (temperature 1).
    pub probability: f64,
}

/// One generation step.
#[derive(Debug, Clone, Serialize)]
pub struct TracedStep {
    /// Step number, from 1.
    pub step: usize,
    /// The chosen token id.
    pub token: u32,
    /// The chosen token shown visibly.
    pub piece: String,
    /// Its probability in the distribution sampled from (1 when greedy).
    pub probability: f64,
    /// Its probability under the model (temperature 1, no filters).
    pub model_probability: f64,
    /// Product of `probability` up to and including this step: how likely
    /// this exact path was under these settings.
    pub running_probability: f64,
    /// Whether the chosen token was unlikely (below `--low`; for greedy
    /// sampling, judged by the model's probability): another seed likely
    /// branches here.
    pub low: bool,
    /// The model's most likely tokens at this step.
    pub alternatives: Vec<TracedAlternative>,
}

/// One traced sample.
#[derive(Debug, Clone, Serialize)]
pub struct TracedSample {
    /// Its seed.
    pub seed: u64,
    /// Generated token ids.
    pub tokens: Vec<u32>,
    /// Generated text.
    pub text: String,
    /// Every step.
    pub steps: Vec<TracedStep>,
}

/// Where sample `seed` leaves the sample it shares the longest prefix with.
#[derive(Debug, Clone, Serialize)]
pub struct Branch {
    /// The branching sample.
    pub seed: u64,
    /// The earlier sample it follows longest.
    pub from_seed: u64,
    /// The step (from 1) where their tokens first differ.
    pub step: usize,
    /// This sample's token there, and its probability.
    pub piece: String,
    /// Probability of `piece` in the distribution sampled from (after
    /// temperature and filters).
    pub probability: f64,
    /// Probability of `piece` under the model (temperature 1, no filters).
    pub model_probability: f64,
    /// The other sample's token there.
    pub other_piece: String,
    /// Probability of `other_piece` in the other sample's distribution.
    pub other_probability: f64,
    /// Probability of `other_piece` under the model.
    pub other_model_probability: f64,
}

/// First differing step between two samples.
#[derive(Debug, Clone, Serialize)]
pub struct PairDivergence {
    /// First seed.
    pub a: u64,
    /// Second seed.
    pub b: u64,
    /// Step (from 1) where their token ids first differ, or `null` if identical.
    pub step: Option<usize>,
}

/// How several samples share and split.
#[derive(Debug, Clone, Serialize)]
pub struct Divergence {
    /// Tokens every sample shares at the start.
    pub shared_steps: usize,
    /// Their text.
    pub shared_text: String,
    /// Each later sample's branch point.
    pub branches: Vec<Branch>,
    /// Every pair's first differing step.
    pub pairs: Vec<PairDivergence>,
}

/// The model's side of a trace.
#[derive(Debug, Clone, Serialize)]
pub struct ModelTrace {
    /// Model alias.
    pub model: String,
    /// The text tokenized.
    pub formatted_prompt: String,
    /// Sampling settings.
    pub sampling: Sampling,
    /// The traced samples, one per seed.
    pub samples: Vec<TracedSample>,
    /// With several seeds: where they branch.
    pub divergence: Option<Divergence>,
}

/// The rule's side of a trace.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTrace {
    /// Rule name.
    pub rule: &'static str,
    /// The answer or error.
    pub output: Phrase,
    /// Each explicit step.
    pub steps: Vec<TraceStep>,
}

/// Everything `trace` computed.
#[derive(Debug, Clone, Serialize)]
pub struct TraceReport {
    /// The prompt or input.
    pub input: String,
    /// The rule's steps (with `--rule`).
    pub rule: Option<RuleTrace>,
    /// The model's steps.
    pub model: ModelTrace,
}

/// One token of the answer, as the model saw it.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredToken {
    /// Token id (`null`: a server named the token by its text only).
    pub token: Option<u32>,
    /// The token shown visibly.
    pub piece: String,
    /// The model's probability of this token here (temperature 1).
    pub probability: f64,
    /// Its natural-log probability.
    pub logprob: f64,
    /// Its rank among all tokens at this step (1 = the most likely;
    /// `null`: below the alternatives a server reported).
    pub rank: Option<usize>,
    /// The model's most likely token at this step, shown visibly.
    pub top_piece: String,
    /// That token's probability.
    pub top_probability: f64,
}

/// What `score` found.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreReport {
    /// Model alias.
    pub model: String,
    /// The prompt as given.
    pub prompt: String,
    /// The rule whose task template asked it (`--rule`), if any.
    pub rule: Option<&'static str>,
    /// The text tokenized before the answer.
    pub formatted_prompt: String,
    /// The server asked (`null`: detprob's own engine).
    pub endpoint: Option<String>,
    /// How many of the most likely tokens the server reported per step
    /// (`null`: local, where every rank is known).
    pub reported: Option<usize>,
    /// The answer as given.
    pub answer: String,
    /// The answer's tokens, in order.
    pub tokens: Vec<ScoredToken>,
    /// Natural-log probability of the whole answer (sum over its tokens).
    pub logprob: f64,
    /// Probability of the whole answer (product over its tokens).
    pub probability: f64,
    /// Geometric mean of the tokens' probabilities.
    pub mean_token_probability: f64,
    /// Whether every token was the model's most likely (greedy decoding
    /// would have written exactly this answer's tokens).
    pub greedy_would_write_it: bool,
}
