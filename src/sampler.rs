//! The sampler: the only place detprob uses randomness.
//!
//! Each step it reads the model's logits, computes the model's own
//! distribution (softmax at temperature 1), and picks the next token:
//!
//! - temperature 0 is greedy: the highest logit wins (ties: the lower id) and
//!   no random number is drawn;
//! - otherwise the filters run in llama.cpp's order — **top-k → top-p → min-p →
//!   temperature** — each on the untempered distribution, then one uniform
//!   number from a seeded ChaCha20 stream picks a token by walking the
//!   surviving candidates' tempered probabilities in ascending id order.
//!   (Hugging Face `transformers` applies the temperature first; llama.cpp,
//!   the reference GGUF runtime, applies it last, and so does detprob.)
//!
//! ChaCha20 (`rand_chacha`) is specified bit for bit, unlike `rand`'s `StdRng`,
//! so a seed gives the same draws on every platform and release. A uniform
//! number is the top 53 bits of one `next_u64`, divided by 2⁵³.
//!
//! All log-probabilities are natural logarithms; entropies are in nats.

mod exp;

use std::cmp::Ordering;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::error::{invalid, InputError};
use crate::lm::math::{add_in_lanes, fold_lanes, highest, LANES};

/// The sampler's order of operations, as reported.
pub const SAMPLER_ORDER: &str = "top-k, top-p, min-p, temperature, draw (llama.cpp order)";

/// A temperature checked once, where it is read: finite and ≥ 0 (0 is
/// greedy decoding). Everything past the reading takes this type, so no
/// later step checks it again.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Temperature(f64);

impl Temperature {
    /// The lowest temperature above 0 (a subnormal one would divide the
    /// logits into infinities).
    pub const MIN_ABOVE_ZERO: f64 = 1e-4;
    /// The highest temperature (beyond it every token is equally likely to
    /// many digits anyway).
    pub const MAX: f64 = 1e4;

    /// `value` as a temperature, or why it is none: 0 (greedy), or from
    /// [`Self::MIN_ABOVE_ZERO`] to [`Self::MAX`].
    pub fn new(value: f64) -> Result<Self, InputError> {
        if value == 0.0 || (Self::MIN_ABOVE_ZERO..=Self::MAX).contains(&value) {
            Ok(Self(value.abs()))
        } else {
            // A subnormal number written out in full has hundreds of digits.
            let shown = if value.is_finite() && value != 0.0 && !(1e-4..1e6).contains(&value.abs())
            {
                format!("{value:e}")
            } else {
                value.to_string()
            };
            Err(invalid(format!(
                "temperature must be 0 or from 0.0001 to 10000, got {shown}"
            )))
        }
    }

    /// The number.
    pub fn value(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Temperature {
    type Error = InputError;

    fn try_from(value: f64) -> Result<Self, InputError> {
        Self::new(value)
    }
}

impl From<Temperature> for f64 {
    fn from(t: Temperature) -> f64 {
        t.0
    }
}

impl std::fmt::Display for Temperature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How the next token is chosen; cannot hold an invalid setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Sampling {
    /// Always the most likely token (temperature 0).
    Greedy,
    /// A random draw from the filtered, tempered distribution.
    Random {
        /// Divides the logits; > 0.
        temperature: f64,
        /// Keep only the k most likely tokens.
        top_k: Option<usize>,
        /// Keep the smallest set of most likely tokens whose mass reaches p, in (0, 1].
        top_p: Option<f64>,
        /// Keep tokens at least this fraction as likely as the most likely, in [0, 1].
        min_p: Option<f64>,
    },
}

impl Sampling {
    /// Plain sampling at `temperature` (greedy at 0), no filters.
    pub fn at(temperature: Temperature) -> Self {
        if temperature.0 == 0.0 {
            Self::Greedy
        } else {
            Self::Random {
                temperature: temperature.0,
                top_k: None,
                top_p: None,
                min_p: None,
            }
        }
    }

    /// The same settings checked again (for settings read from a file).
    pub fn revalidated(&self) -> Result<Self, InputError> {
        match *self {
            Sampling::Greedy => Ok(Sampling::Greedy),
            Sampling::Random {
                temperature,
                top_k,
                top_p,
                min_p,
            } => Self::from_settings(temperature, top_k, top_p, min_p),
        }
    }

    /// Validates raw settings: a negative or non-finite temperature, top-k of
    /// 0, top-p outside (0, 1] or min-p outside [0, 1] is an error.
    pub fn from_settings(
        temperature: f64,
        top_k: Option<usize>,
        top_p: Option<f64>,
        min_p: Option<f64>,
    ) -> Result<Self, InputError> {
        let temperature = Temperature::new(temperature)?.value();
        if top_k == Some(0) {
            return Err(invalid("top-k must be at least 1"));
        }
        if let Some(p) = top_p {
            if !(p > 0.0 && p <= 1.0) {
                return Err(invalid(format!("top-p must be in (0, 1], got {p}")));
            }
        }
        if let Some(p) = min_p {
            if !(0.0..=1.0).contains(&p) {
                return Err(invalid(format!("min-p must be in [0, 1], got {p}")));
            }
        }
        Ok(if temperature == 0.0 {
            Self::Greedy
        } else {
            Self::Random {
                temperature,
                top_k,
                top_p,
                min_p,
            }
        })
    }

    /// The filters (none for greedy).
    pub fn filters(&self) -> Filters {
        match *self {
            Self::Greedy => Filters::default(),
            Self::Random {
                top_k,
                top_p,
                min_p,
                ..
            } => Filters {
                top_k,
                top_p,
                min_p,
            },
        }
    }

    /// The temperature (0 for greedy).
    pub fn temperature(&self) -> Temperature {
        match self {
            Self::Greedy => Temperature(0.0),
            Self::Random { temperature, .. } => Temperature(*temperature),
        }
    }
}

/// One of the most likely next tokens under the model's own distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    /// Token id.
    pub token: u32,
    /// Natural-log probability under the model (temperature 1, no filters).
    pub logprob: f64,
}

/// What the sampler decided at one step, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampledToken {
    /// The chosen token.
    pub token: u32,
    /// Its probability in the distribution actually sampled from (after
    /// filters and temperature; 1 for greedy).
    pub probability: f64,
    /// Its natural-log probability under the model (temperature 1, no filters).
    pub logprob: f64,
    /// Entropy of the model's distribution, in nats.
    pub entropy: f64,
    /// The most likely tokens under the model, most likely first.
    pub alternatives: Vec<Alternative>,
}

/// A seeded sampler; owns the random stream for one completion.
pub struct Sampler {
    sampling: Sampling,
    rng: ChaCha20Rng,
    alternatives: usize,
    /// The candidates' tempered weights at the last filtered step (kept for
    /// their allocation; without a filter, weights are made a chunk at a time).
    weights: Vec<f64>,
}

impl Sampler {
    /// A sampler whose random stream starts from `seed`, recording the top
    /// `alternatives` tokens at each step.
    pub fn new(sampling: Sampling, seed: u64, alternatives: usize) -> Self {
        Self {
            sampling,
            rng: ChaCha20Rng::seed_from_u64(seed),
            alternatives,
            weights: Vec::new(),
        }
    }

    /// The sampling settings.
    pub fn sampling(&self) -> &Sampling {
        &self.sampling
    }

    /// Picks the next token from `logits`.
    pub fn sample(&mut self, logits: &[f32]) -> SampledToken {
        let model = ModelDistribution::new(logits);
        let alternatives = model.top(self.alternatives);
        let (token, probability) = match &self.sampling {
            Sampling::Greedy => (model.argmax, 1.0),
            Sampling::Random {
                temperature,
                top_k,
                top_p,
                min_p,
            } => {
                let candidates = filter(&model, *top_k, *top_p, *min_p);
                match candidates {
                    // Every token: its weights are made a chunk at a time
                    // and summed, and only the picked chunk's are made
                    // again (Gemma's 262,144 weights are 2 MB, written and
                    // read several times when kept whole).
                    None => {
                        let max = model.highest as f64;
                        let weights_of = |c: usize, buffer: &mut [f64; PICK_CHUNK]| {
                            let chunk = pick_chunk(logits, c);
                            let weights = &mut buffer[..chunk.len()];
                            tempered_chunk(chunk, max, *temperature, weights);
                            chunk.len()
                        };
                        let mut buffer = [0f64; PICK_CHUNK];
                        let chunk_totals: Vec<f64> = (0..logits.len().div_ceil(PICK_CHUNK))
                            .map(|c| {
                                let len = weights_of(c, &mut buffer);
                                lane_sum(&buffer[..len])
                            })
                            .collect();
                        let total: f64 = chunk_totals.iter().sum();
                        let u = uniform(&mut self.rng);
                        let (pick, weight) = pick_by_chunks(&chunk_totals, u * total, weights_of);
                        (pick as u32, weight / total)
                    }
                    Some(candidates) => {
                        let weights = &mut self.weights;
                        tempered_weights_into(logits, &candidates, *temperature, weights);
                        let chunk_totals = chunk_totals(weights);
                        let total: f64 = chunk_totals.iter().sum();
                        let u = uniform(&mut self.rng);
                        let pick = pick_index(weights, &chunk_totals, u * total);
                        (candidates[pick], weights[pick] / total)
                    }
                }
            }
        };
        SampledToken {
            token,
            probability,
            logprob: model.logprob(token),
            entropy: model.entropy(),
            alternatives,
        }
    }
}

/// The model's next-token distribution at temperature 1.
pub struct ModelDistribution<'a> {
    logits: &'a [f32],
    /// The highest logit ([`highest`]).
    highest: f32,
    log_normalizer: f64,
    entropy: f64,
    /// Most likely token (lowest id among ties).
    pub argmax: u32,
}

impl<'a> ModelDistribution<'a> {
    /// Softmax bookkeeping over `logits` (computed in f64), with one `exp`
    /// per token: the normalizer `S = Σ e_i` and the entropy
    /// `ln S − Σ e_i·(l_i − max) / S`, where `e_i = exp(l_i − max)`, come from
    /// the same pass (a second pass of `exp` over Gemma's 262,144 logits
    /// would add to every decode step).
    ///
    /// The sums run in `LANES` lanes (see `lane_sum`), and the argmax is
    /// the first token holding the maximum: one long chain of dependent
    /// additions or comparisons per pass cost more than the `exp`s.
    pub fn new(logits: &'a [f32]) -> Self {
        let highest = highest(logits);
        let argmax = logits.iter().position(|&l| l == highest).unwrap_or(0);
        let max = logits[argmax] as f64;
        let (mut sum, mut weighted) = ([0f64; LANES], [0f64; LANES]);
        let mut shifted = [0f64; exp::CHUNK];
        let mut exps = [0f64; exp::CHUNK];
        for chunk in logits.chunks(exp::CHUNK) {
            let (shifted, exps) = (&mut shifted[..chunk.len()], &mut exps[..chunk.len()]);
            for ((s, e), &l) in shifted.iter_mut().zip(exps.iter_mut()).zip(chunk) {
                *s = l as f64 - max;
                *e = *s;
            }
            exp::exp_in_place(exps);
            add_in_lanes(&mut sum, exps);
            for (s, &e) in shifted.iter_mut().zip(exps.iter()) {
                // A token of probability 0 adds nothing (and −∞ · 0 is NaN).
                *s = if e > 0.0 { e * *s } else { 0.0 };
            }
            add_in_lanes(&mut weighted, shifted);
        }
        let (sum, weighted) = (fold_lanes(sum), fold_lanes(weighted));
        Self {
            logits,
            highest,
            log_normalizer: max + sum.ln(),
            entropy: (sum.ln() - weighted / sum).max(0.0),
            argmax: argmax as u32,
        }
    }

    /// Natural-log probability of `token`.
    pub fn logprob(&self, token: u32) -> f64 {
        self.logits[token as usize] as f64 - self.log_normalizer
    }

    /// Probability of `token`.
    pub fn probability(&self, token: u32) -> f64 {
        exp::exp(self.logprob(token))
    }

    /// Entropy in nats.
    pub fn entropy(&self) -> f64 {
        self.entropy
    }

    /// Rank of `token` among all tokens, 1 for the most likely (ties: lower
    /// id first, as in [`Self::top`]).
    pub fn rank(&self, token: u32) -> usize {
        let logit = self.logits[token as usize];
        1 + self
            .logits
            .iter()
            .enumerate()
            .filter(|&(i, &l)| l > logit || (l == logit && (i as u32) < token))
            .count()
    }

    /// The `n` most likely tokens, most likely first (ties: lower id first).
    pub fn top(&self, n: usize) -> Vec<Alternative> {
        self.ranked(n)
            .into_iter()
            .map(|token| Alternative {
                token,
                logprob: self.logprob(token),
            })
            .collect()
    }

    /// Ids of the `n` highest logits, highest first, ties by lower id.
    fn ranked(&self, n: usize) -> Vec<u32> {
        let n = n.min(self.logits.len());
        if n == 0 {
            return Vec::new();
        }
        let order = |a: &u32, b: &u32| {
            self.logits[*b as usize]
                .total_cmp(&self.logits[*a as usize])
                .then(a.cmp(b))
        };
        if n <= FEW {
            return self.ranked_few(n);
        }
        let mut ids: Vec<u32> = (0..self.logits.len() as u32).collect();
        if n < ids.len() {
            ids.select_nth_unstable_by(n - 1, order);
            ids.truncate(n);
        }
        ids.sort_unstable_by(order);
        ids
    }

    /// [`Self::ranked`] for a few tokens (the alternatives a step records),
    /// in one pass that keeps the best so far in order: nearly every logit
    /// is below the worst kept and costs one comparison, where selecting
    /// among a list of all ids cost about as much as a pass of `exp`. Ids
    /// come in ascending order, so a tie with a kept token never displaces
    /// it.
    fn ranked_few(&self, n: usize) -> Vec<u32> {
        let logits = self.logits;
        let mut best: Vec<u32> = Vec::with_capacity(n + 1);
        for (id, &logit) in logits.iter().enumerate() {
            if best.len() == n
                && logit.total_cmp(&logits[best[n - 1] as usize]) != Ordering::Greater
            {
                continue;
            }
            let at = best
                .partition_point(|&kept| logits[kept as usize].total_cmp(&logit) != Ordering::Less);
            best.insert(at, id as u32);
            best.truncate(n);
        }
        best
    }
}

/// Token counts up to which [`ModelDistribution::ranked`] keeps a running
/// list instead of selecting among all ids.
const FEW: usize = 32;

/// The candidate set after one filter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilterStage {
    /// The filter and its setting, e.g. `top-k 40`.
    pub filter: String,
    /// Token ids that survive it (and every filter before it), ascending.
    pub candidates: Vec<u32>,
}

/// A fresh seed for runs that did not ask for one: from 1 to 999,999, so a
/// person can read it off the screen and type it back (`--seed`, `--seeds`)
/// to replay the run; it is reported with the run.
pub fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) % 999_999 + 1
}

/// The sampler's filters, in the order it applies them (each optional).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Filters {
    /// Keep only the k most likely tokens.
    pub top_k: Option<usize>,
    /// Keep the most likely tokens whose probabilities add up to p.
    pub top_p: Option<f64>,
    /// Drop tokens less than p times as likely as the most likely.
    pub min_p: Option<f64>,
}

/// Applies top-k, top-p and min-p, in that order, to the model's
/// distribution, and returns the candidates after each filter that is set.
pub fn filter_stages(
    model: &ModelDistribution,
    top_k: Option<usize>,
    top_p: Option<f64>,
    min_p: Option<f64>,
) -> Vec<FilterStage> {
    let vocab = model.logits.len();
    let mut stages = Vec::new();
    if top_k.is_none() && top_p.is_none() && min_p.is_none() {
        return stages;
    }
    let mut kept: Vec<u32> = (0..vocab as u32).collect();
    let mut record = |name: String, kept: &[u32]| {
        let mut candidates = kept.to_vec();
        candidates.sort_unstable();
        stages.push(FilterStage {
            filter: name,
            candidates,
        });
    };
    if let Some(k) = top_k {
        if k < vocab {
            kept = model.ranked(k);
        }
        record(format!("top-k {k}"), &kept);
    }
    if let Some(p) = top_p {
        if p < 1.0 {
            let mut by_probability = kept.clone();
            by_probability.sort_unstable_by(|a, b| {
                model.logits[*b as usize]
                    .total_cmp(&model.logits[*a as usize])
                    .then(a.cmp(b))
            });
            let kept_mass: f64 = kept.iter().map(|&t| model.probability(t)).sum();
            let mut mass = 0.0;
            let mut cut = by_probability.len();
            for (i, &t) in by_probability.iter().enumerate() {
                mass += model.probability(t) / kept_mass;
                if mass >= p {
                    cut = i + 1;
                    break;
                }
            }
            by_probability.truncate(cut);
            kept = by_probability;
        }
        record(format!("top-p {p}"), &kept);
    }
    if let Some(p) = min_p {
        if p > 0.0 {
            let best = kept
                .iter()
                .map(|&t| model.logits[t as usize])
                .fold(f32::NEG_INFINITY, f32::max) as f64;
            // p_t ≥ p · p_max  ⇔  logit_t ≥ logit_max + ln p
            let threshold = best + p.ln();
            kept.retain(|&t| model.logits[t as usize] as f64 >= threshold);
        }
        record(format!("min-p {p}"), &kept);
    }
    stages
}

/// The surviving token ids after all filters, ascending; `None` when no
/// filter is set (every token survives).
fn filter(
    model: &ModelDistribution,
    top_k: Option<usize>,
    top_p: Option<f64>,
    min_p: Option<f64>,
) -> Option<Vec<u32>> {
    filter_stages(model, top_k, top_p, min_p)
        .pop()
        .map(|last| last.candidates)
}

/// The `n` most likely tokens of `logits` (highest logit first, lowest id
/// among ties) with their probability at `temperature` over the whole
/// vocabulary: the next-token bars of the live screen and the class page.
pub fn tempered_top(logits: &[f32], temperature: f64, n: usize) -> Vec<(u32, f64)> {
    let top = ModelDistribution::new(logits).top(n);
    let ids: Vec<u32> = (0..logits.len() as u32).collect();
    let tempered = candidate_distribution(logits, &ids, temperature);
    top.iter()
        .map(|a| (a.token, tempered[a.token as usize]))
        .collect()
}

/// The distribution the sampler draws from, over `candidates` (ascending ids)
/// at `temperature`: softmax of `logit / T`, or all mass on the highest logit
/// (lowest id among ties) when `temperature` is 0.
pub fn candidate_distribution(logits: &[f32], candidates: &[u32], temperature: f64) -> Vec<f64> {
    if temperature == 0.0 {
        let best = candidates
            .iter()
            .enumerate()
            .fold(None::<(usize, f32)>, |best, (i, &t)| match best {
                Some((_, l)) if l >= logits[t as usize] => best,
                _ => Some((i, logits[t as usize])),
            });
        let mut out = vec![0.0; candidates.len()];
        if let Some((i, _)) = best {
            out[i] = 1.0;
        }
        return out;
    }
    let weights = tempered_weights(logits, candidates, temperature);
    let total: f64 = chunk_totals(&weights).iter().sum();
    weights.into_iter().map(|w| w / total).collect()
}

/// Unnormalized tempered weights `exp((logit − max) / T)` of the candidates.
fn tempered_weights(logits: &[f32], candidates: &[u32], temperature: f64) -> Vec<f64> {
    let mut weights = Vec::new();
    tempered_weights_into(logits, candidates, temperature, &mut weights);
    weights
}

/// [`tempered_weights`] into `weights`, whose allocation a sampler keeps
/// from step to step (a filter can keep most of a vocabulary: up to two
/// megabytes of new pages per token for Gemma's). With no filter the
/// sampler makes every token's weights a chunk at a time instead
/// ([`tempered_chunk`]).
fn tempered_weights_into(
    logits: &[f32],
    candidates: &[u32],
    temperature: f64,
    weights: &mut Vec<f64>,
) {
    weights.clear();
    let max = candidates
        .iter()
        .map(|&t| logits[t as usize])
        .fold(f32::NEG_INFINITY, f32::max) as f64;
    weights.extend(
        candidates
            .iter()
            .map(|&t| (logits[t as usize] as f64 - max) / temperature),
    );
    exp::exp_in_place(weights);
}

/// `weights[i] = exp((logits[i] − max) / temperature)`, the tempered weights
/// of a run of tokens.
fn tempered_chunk(logits: &[f32], max: f64, temperature: f64, weights: &mut [f64]) {
    for (w, &l) in weights.iter_mut().zip(logits) {
        *w = (l as f64 - max) / temperature;
    }
    exp::exp_in_place(weights);
}

/// `values` summed in [`LANES`] lanes.
fn lane_sum(values: &[f64]) -> f64 {
    let mut lanes = [0f64; LANES];
    add_in_lanes(&mut lanes, values);
    fold_lanes(lanes)
}

/// Weights per chunk of [`chunk_totals`].
const PICK_CHUNK: usize = 1024;

/// Each chunk of [`PICK_CHUNK`] weights' [`lane_sum`]; the weights' total
/// is these added in order, and [`pick_index`] walks them.
fn chunk_totals(weights: &[f64]) -> Vec<f64> {
    weights.chunks(PICK_CHUNK).map(lane_sum).collect()
}

/// The index where the running sum of `weights` first exceeds `target`:
/// whole chunks are passed by their totals ([`chunk_totals`]), and inside
/// the chunk where the running sum passes `target`, one weight at a time.
fn pick_index(weights: &[f64], chunk_totals: &[f64], target: f64) -> usize {
    pick_by_chunks(chunk_totals, target, copy_chunk(weights)).0
}

/// The `weights_of` of [`pick_by_chunks`] for weights already made: copies
/// chunk `c` of `weights` into the buffer.
fn copy_chunk(weights: &[f64]) -> impl Fn(usize, &mut [f64; PICK_CHUNK]) -> usize + '_ {
    move |c, buffer| {
        let chunk = pick_chunk(weights, c);
        buffer[..chunk.len()].copy_from_slice(chunk);
        chunk.len()
    }
}

/// Chunk `c` of `values` as [`chunk_totals`] cuts them.
fn pick_chunk<T>(values: &[T], c: usize) -> &[T] {
    &values[c * PICK_CHUNK..values.len().min((c + 1) * PICK_CHUNK)]
}

/// [`pick_index`] over weights made a chunk at a time: `weights_of(c,
/// buffer)` writes chunk `c`'s weights (chunk `c` of [`PICK_CHUNK`]) into
/// `buffer` and returns how many there are. Returns the index and its
/// weight.
fn pick_by_chunks(
    chunk_totals: &[f64],
    target: f64,
    mut weights_of: impl FnMut(usize, &mut [f64; PICK_CHUNK]) -> usize,
) -> (usize, f64) {
    let mut buffer = [0f64; PICK_CHUNK];
    let mut running = 0.0;
    for (c, &chunk_total) in chunk_totals.iter().enumerate() {
        let after = running + chunk_total;
        if target < after {
            let len = weights_of(c, &mut buffer);
            let chunk = &buffer[..len];
            let mut inside = running;
            for (i, &w) in chunk.iter().enumerate() {
                inside += w;
                if target < inside {
                    return (c * PICK_CHUNK + i, w);
                }
            }
            // One weight at a time summed a hair below the chunk's total:
            // the chunk's last token with any weight.
            if let Some(i) = chunk.iter().rposition(|&w| w > 0.0) {
                return (c * PICK_CHUNK + i, chunk[i]);
            }
        }
        running = after;
    }
    // Rounding can leave `target` a hair above the total: take the last
    // candidate with any weight (in the last chunk with any).
    for c in (0..chunk_totals.len()).rev() {
        let len = weights_of(c, &mut buffer);
        if let Some(i) = buffer[..len].iter().rposition(|&w| w > 0.0) {
            return (c * PICK_CHUNK + i, buffer[i]);
        }
    }
    (0, buffer[0])
}

/// A uniform number in [0, 1) from the top 53 bits of one 64-bit draw.
fn uniform(rng: &mut ChaCha20Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(t: f64) -> Sampling {
        Sampling::from_settings(t, None, None, None).unwrap()
    }

    #[test]
    fn temperature_zero_is_greedy_and_picks_the_lowest_id_among_ties() {
        let mut sampler = Sampler::new(random(0.0), 7, 3);
        let step = sampler.sample(&[1.0, 5.0, 5.0, -2.0]);
        assert_eq!(step.token, 1);
        assert_eq!(step.probability, 1.0);
        assert_eq!(
            step.alternatives
                .iter()
                .map(|a| a.token)
                .collect::<Vec<_>>(),
            vec![1, 2, 0]
        );
    }

    #[test]
    fn greedy_draws_no_random_number() {
        let mut greedy = Sampler::new(random(0.0), 3, 0);
        greedy.sample(&[0.0, 1.0]);
        let mut fresh = ChaCha20Rng::seed_from_u64(3);
        assert_eq!(greedy.rng.next_u64(), fresh.next_u64());
    }

    #[test]
    fn the_same_seed_gives_the_same_tokens_and_another_seed_can_differ() {
        let logits: Vec<f32> = (0..50).map(|i| (i % 7) as f32 * 0.3).collect();
        let run = |seed| {
            let mut s = Sampler::new(random(1.0), seed, 0);
            (0..40).map(|_| s.sample(&logits).token).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    /// The seed → draws mapping, pinned to literal values: a changed RNG,
    /// uniform conversion, weighting or pick would change what a seed
    /// replays across releases, and must show here.
    #[test]
    fn seeds_map_to_pinned_draws_and_tokens() {
        let draws = |seed| {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            [uniform(&mut rng), uniform(&mut rng), uniform(&mut rng)]
        };
        let printed = |u: [f64; 3]| u.map(|x| format!("{x:.17}"));
        assert_eq!(printed(draws(1)), PINNED_DRAWS[0]);
        assert_eq!(printed(draws(42)), PINNED_DRAWS[1]);

        let logits: Vec<f32> = (0..50).map(|i| ((i * 37) % 11) as f32 * 0.25).collect();
        let tokens = |sampling: Sampling, seed| {
            let mut s = Sampler::new(sampling, seed, 0);
            (0..12).map(|_| s.sample(&logits).token).collect::<Vec<_>>()
        };
        // The whole vocabulary (chunked pick) and a filtered candidate list.
        let filtered = Sampling::from_settings(0.8, Some(6), Some(0.9), None).unwrap();
        assert_eq!(tokens(random(1.0), 1), PINNED_TOKENS[0]);
        assert_eq!(tokens(random(1.0), 42), PINNED_TOKENS[1]);
        assert_eq!(tokens(filtered.clone(), 1), PINNED_TOKENS[2]);
        assert_eq!(tokens(filtered, 42), PINNED_TOKENS[3]);
    }

    const PINNED_DRAWS: [[&str; 3]; 2] = [
        [
            "0.61870385830140218",
            "0.15300425831966691",
            "0.54671851313694830",
        ],
        [
            "0.51404929576502412",
            "0.41019880623488580",
            "0.09781386633443878",
        ],
    ];
    const PINNED_TOKENS: [[u32; 12]; 4] = [
        [30, 8, 27, 21, 46, 19, 30, 16, 21, 30, 14, 30],
        [27, 19, 5, 8, 8, 18, 41, 22, 4, 19, 5, 36],
        [19, 8, 19, 16, 41, 16, 19, 8, 16, 19, 8, 19],
        [19, 16, 5, 8, 8, 16, 41, 16, 5, 16, 5, 30],
    ];

    #[test]
    fn probabilities_sum_to_one_and_entropy_matches_uniform() {
        let logits = [0.0f32; 8];
        let model = ModelDistribution::new(&logits);
        let total: f64 = (0..8).map(|t| model.probability(t)).sum();
        assert!((total - 1.0).abs() < 1e-12);
        assert!((model.entropy() - 8f64.ln()).abs() < 1e-12);
    }

    /// Logits with many ties and a few impossible tokens, from a fixed stream.
    fn tied_logits(count: usize) -> Vec<f32> {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        (0..count)
            .map(|i| match i % 97 {
                0 => f32::NEG_INFINITY,
                _ => (rng.next_u32() % 40) as f32 / 4.0,
            })
            .collect()
    }

    /// Every token's tempered weight, in one buffer: what the sampler
    /// makes a chunk at a time when no filter is set.
    fn every_tempered_weight(logits: &[f32], temperature: f64) -> Vec<f64> {
        let mut weights = vec![0.0; logits.len()];
        tempered_chunk(logits, highest(logits) as f64, temperature, &mut weights);
        weights
    }

    #[test]
    fn eight_running_maxima_give_the_one_running_maximum() {
        let mut logits = tied_logits(1001);
        logits[500] = f32::NAN;
        logits[777] = 11.5;
        let one_chain = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        assert_eq!(highest(&logits).to_bits(), one_chain.to_bits());
        assert_eq!(
            highest(&logits[..5]),
            logits[..5].iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v))
        );
        assert_eq!(highest(&[]), f32::NEG_INFINITY);
        let every: Vec<u32> = (0..logits.len() as u32).collect();
        let unfiltered = every_tempered_weight(&logits, 0.7);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&unfiltered),
            bits(&tempered_weights(&logits, &every, 0.7))
        );
    }

    #[test]
    fn lane_sums_fed_in_slices_give_the_whole_sums_bits() {
        let values: Vec<f64> = tied_logits(5003)
            .iter()
            .map(|&l| (l as f64).exp2())
            .collect();
        let mut lanes = [0f64; LANES];
        for slice in values.chunks(exp::CHUNK) {
            add_in_lanes(&mut lanes, slice);
        }
        assert_eq!(fold_lanes(lanes).to_bits(), lane_sum(&values).to_bits());
        let one_chain: f64 = values.iter().sum();
        assert!((lane_sum(&values) - one_chain).abs() <= 1e-12 * one_chain);
    }

    #[test]
    fn the_chunked_pick_lands_where_the_running_sum_passes_the_target() {
        // Several chunks, with impossible tokens among them.
        let logits = tied_logits(5 * PICK_CHUNK + 77);
        let weights = every_tempered_weight(&logits, 0.8);
        let chunk_totals = chunk_totals(&weights);
        let total: f64 = chunk_totals.iter().sum();
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        for _ in 0..500 {
            let target = uniform(&mut rng) * total;
            let pick = pick_index(&weights, &chunk_totals, target);
            assert!(weights[pick] > 0.0, "picked an impossible token");
            // Where one running sum passes the target, up to rounding.
            let before: f64 = weights[..pick].iter().sum();
            let slack = 1e-12 * total;
            assert!(before <= target + slack && target < before + weights[pick] + slack);
        }
        // The ends: the first token with weight, and the last.
        assert_eq!(pick_index(&weights, &chunk_totals, 0.0), 1);
        let last = weights.iter().rposition(|&w| w > 0.0).unwrap();
        assert_eq!(pick_index(&weights, &chunk_totals, total), last);
    }

    #[test]
    fn sampling_every_token_chunk_by_chunk_picks_what_the_whole_weights_pick() {
        // The sampler makes the weights of all tokens a chunk at a time;
        // the whole list of weights, summed and walked the same way, must
        // give the same token and probability at every draw.
        let logits = tied_logits(5 * PICK_CHUNK + 77);
        for (temperature, seed) in [(0.3, 1), (1.0, 2), (1.7, 3)] {
            let mut sampler = Sampler::new(random(temperature), seed, 0);
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let weights = every_tempered_weight(&logits, temperature);
            let chunk_totals = chunk_totals(&weights);
            let total: f64 = chunk_totals.iter().sum();
            for _ in 0..200 {
                let step = sampler.sample(&logits);
                let pick = pick_index(&weights, &chunk_totals, uniform(&mut rng) * total);
                assert_eq!(step.token, pick as u32);
                assert_eq!(
                    step.probability.to_bits(),
                    (weights[pick] / total).to_bits()
                );
            }
        }
        // Past the total (rounding): the last token with any weight.
        let weights = every_tempered_weight(&logits, 0.9);
        let totals = chunk_totals(&weights);
        let last = weights.iter().rposition(|&w| w > 0.0).unwrap();
        let past = 2.0 * totals.iter().sum::<f64>();
        assert_eq!(
            pick_by_chunks(&totals, past, copy_chunk(&weights)),
            (last, weights[last])
        );
    }

    #[test]
    fn one_pass_entropy_matches_the_definition() {
        let logits = tied_logits(5000);
        let model = ModelDistribution::new(&logits);
        let by_definition: f64 = (0..logits.len() as u32)
            .map(|t| model.probability(t))
            .filter(|&p| p > 0.0)
            .map(|p| -p * p.ln())
            .sum();
        assert!((model.entropy() - by_definition).abs() < 1e-9);
        let certain = [f32::NEG_INFINITY, 3.0, f32::NEG_INFINITY];
        assert_eq!(ModelDistribution::new(&certain).entropy(), 0.0);
    }

    #[test]
    fn the_running_list_ranks_as_a_full_sort_does() {
        let logits = tied_logits(5000);
        let model = ModelDistribution::new(&logits);
        let mut sorted: Vec<u32> = (0..logits.len() as u32).collect();
        sorted.sort_by(|a, b| {
            logits[*b as usize]
                .total_cmp(&logits[*a as usize])
                .then(a.cmp(b))
        });
        for n in [1, 2, 5, FEW, FEW + 1, 200] {
            assert_eq!(model.ranked(n), sorted[..n], "n = {n}");
        }
        assert_eq!(model.ranked(logits.len() + 3), sorted);
    }

    #[test]
    fn top_k_keeps_only_the_k_best() {
        let logits = [0.0f32, 3.0, 1.0, 2.0];
        let model = ModelDistribution::new(&logits);
        assert_eq!(filter(&model, Some(2), None, None), Some(vec![1, 3]));
        assert_eq!(
            filter(&model, None, None, None),
            None,
            "no filter keeps all"
        );
    }

    #[test]
    fn top_p_keeps_the_smallest_set_reaching_the_mass() {
        // probabilities ≈ 0.64, 0.24, 0.09, 0.03
        let logits = [3.0f32, 2.0, 1.0, 0.0];
        let model = ModelDistribution::new(&logits);
        assert_eq!(filter(&model, None, Some(0.5), None), Some(vec![0]));
        assert_eq!(filter(&model, None, Some(0.8), None), Some(vec![0, 1]));
        assert_eq!(
            filter(&model, None, Some(1.0), None),
            Some(vec![0, 1, 2, 3])
        );
    }

    #[test]
    fn min_p_drops_tokens_far_below_the_best() {
        let logits = [3.0f32, 2.0, 0.0];
        let model = ModelDistribution::new(&logits);
        // e^-1 ≈ 0.37 of the best survives a 0.3 threshold, e^-3 does not.
        assert_eq!(filter(&model, None, None, Some(0.3)), Some(vec![0, 1]));
    }

    #[test]
    fn filtered_sampling_never_picks_a_removed_token() {
        let logits = [5.0f32, 4.9, 0.0, 0.0, 0.0];
        let sampling = Sampling::from_settings(2.0, Some(2), None, None).unwrap();
        let mut sampler = Sampler::new(sampling, 9, 0);
        for _ in 0..200 {
            assert!(sampler.sample(&logits).token < 2);
        }
    }

    #[test]
    fn high_temperature_flattens_low_temperature_sharpens() {
        let logits = [2.0f32, 0.0];
        let frequency = |t: f64| {
            let mut s = Sampler::new(random(t), 5, 0);
            (0..4000).filter(|_| s.sample(&logits).token == 0).count() as f64 / 4000.0
        };
        let (cold, warm, hot) = (frequency(0.25), frequency(1.0), frequency(8.0));
        assert!(cold > 0.99, "cold {cold}");
        assert!((warm - 0.881).abs() < 0.03, "warm {warm}");
        assert!(hot < 0.6, "hot {hot}");
    }

    #[test]
    fn filter_stages_narrow_in_order_and_the_last_is_what_is_sampled() {
        let logits = [3.0f32, 2.0, 1.0, 0.0, -1.0];
        let model = ModelDistribution::new(&logits);
        let stages = filter_stages(&model, Some(4), Some(0.9), Some(0.3));
        let names: Vec<&str> = stages.iter().map(|s| s.filter.as_str()).collect();
        assert_eq!(names, vec!["top-k 4", "top-p 0.9", "min-p 0.3"]);
        assert_eq!(stages[0].candidates, vec![0, 1, 2, 3]);
        assert_eq!(stages[1].candidates, vec![0, 1, 2]);
        assert_eq!(stages[2].candidates, vec![0, 1]);
        assert_eq!(
            filter(&model, Some(4), Some(0.9), Some(0.3)),
            Some(vec![0, 1])
        );
    }

    #[test]
    fn candidate_distribution_sums_to_one_and_t0_is_the_argmax() {
        let logits = [0.5f32, 2.0, 2.0, -1.0];
        let all = [0, 1, 2, 3];
        for t in [0.5, 1.0, 2.0] {
            let d = candidate_distribution(&logits, &all, t);
            assert!((d.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        assert_eq!(
            candidate_distribution(&logits, &all, 0.0),
            vec![0.0, 1.0, 0.0, 0.0]
        );
    }

    #[test]
    fn invalid_settings_are_rejected() {
        assert!(Sampling::from_settings(-0.1, None, None, None).is_err());
        assert!(Sampling::from_settings(f64::NAN, None, None, None).is_err());
        assert!(Sampling::from_settings(1.0, None, Some(0.0), None).is_err());
        assert!(Sampling::from_settings(1.0, None, Some(1.5), None).is_err());
        assert!(Sampling::from_settings(1.0, Some(0), None, None).is_err());
        assert!(Sampling::from_settings(1.0, None, None, Some(-0.5)).is_err());
    }
}
