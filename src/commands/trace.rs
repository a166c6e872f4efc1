//! `detprob trace`: generation step by step — the chosen token, its
//! probability, the alternatives, the running probability of the sequence —
//! and, over several seeds, where the samples branch apart. With `--rule`,
//! the rule's own explicit steps sit beside the model's.

use serde::Serialize;

use super::model_choice;
use crate::cli::TraceArgs;
use crate::error::{invalid, InputError};
use crate::generation::{complete_each, Completion, GenerationSettings};
use crate::lm::{self, LoadedModel};
use crate::rules::{self, Rule, TraceStep};
use crate::sampler::Sampling;
use crate::tasks::{self, PromptTemplate};
use crate::tokenizer::TextTokenizer;

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
    /// Probability of `piece` in the distribution sampled from.
    pub probability: f64,
    /// The other sample's token there.
    pub other_piece: String,
    /// Probability of `other_piece` in the other sample's distribution.
    pub other_probability: f64,
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
    pub output: crate::words::Phrase,
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

fn traced(
    completion: &Completion,
    seed: u64,
    low: f64,
    greedy: bool,
    tokenizer: &TextTokenizer,
) -> TracedSample {
    let mut running = 1.0;
    let steps = completion
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            running *= s.probability;
            let model_probability = s.logprob.exp();
            TracedStep {
                step: i + 1,
                token: s.token,
                piece: tokenizer.visible_piece(s.token),
                probability: s.probability,
                model_probability,
                running_probability: running,
                low: if greedy {
                    model_probability < low
                } else {
                    s.probability < low
                },
                alternatives: s
                    .alternatives
                    .iter()
                    .map(|a| TracedAlternative {
                        piece: tokenizer.visible_piece(a.token),
                        probability: a.logprob.exp(),
                    })
                    .collect(),
            }
        })
        .collect();
    TracedSample {
        seed,
        tokens: completion.tokens.clone(),
        text: completion.text.clone(),
        steps,
    }
}

/// The first index where two token sequences differ (`None` if equal).
pub fn first_difference(a: &[u32], b: &[u32]) -> Option<usize> {
    if a == b {
        return None;
    }
    Some(
        a.iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len())),
    )
}

fn divergence(samples: &[TracedSample], tokenizer: &TextTokenizer) -> Divergence {
    let mut pairs = Vec::new();
    for (i, a) in samples.iter().enumerate() {
        for b in &samples[i + 1..] {
            pairs.push(PairDivergence {
                a: a.seed,
                b: b.seed,
                step: first_difference(&a.tokens, &b.tokens).map(|s| s + 1),
            });
        }
    }
    let shared_steps = samples
        .iter()
        .skip(1)
        .map(|s| first_difference(&samples[0].tokens, &s.tokens).unwrap_or(s.tokens.len()))
        .min()
        .unwrap_or(samples[0].tokens.len());
    let mut branches = Vec::new();
    for (i, sample) in samples.iter().enumerate().skip(1) {
        // The earliest sample among those sharing the longest prefix.
        let mut parent: Option<(&TracedSample, Option<usize>)> = None;
        for p in &samples[..i] {
            let d = first_difference(&p.tokens, &sample.tokens);
            if parent.is_none_or(|(_, best)| d.unwrap_or(usize::MAX) > best.unwrap_or(usize::MAX)) {
                parent = Some((p, d));
            }
        }
        if let Some((parent, Some(at))) = parent {
            let piece_at = |s: &TracedSample| {
                s.steps.get(at).map_or(("(end)".to_string(), 0.0), |st| {
                    (st.piece.clone(), st.probability)
                })
            };
            let (piece, probability) = piece_at(sample);
            let (other_piece, other_probability) = piece_at(parent);
            branches.push(Branch {
                seed: sample.seed,
                from_seed: parent.seed,
                step: at + 1,
                piece,
                probability,
                other_piece,
                other_probability,
            });
        }
    }
    Divergence {
        shared_steps,
        shared_text: tokenizer.decode(&samples[0].tokens[..shared_steps]),
        branches,
        pairs,
    }
}

pub fn run(args: TraceArgs) -> anyhow::Result<TraceReport> {
    let sampling = args.filters.sampling(args.temperature)?;
    let seeds = args.seeds.0.clone();
    if seeds.len() > 64 {
        return Err(invalid("trace shows at most 64 seeds").into());
    }
    if !(0.0..=1.0).contains(&args.low) {
        return Err(invalid(format!("--low must be in [0, 1], got {}", args.low)).into());
    }
    if args.prompt.trim().is_empty() {
        return Err(InputError::EmptyPrompt.into());
    }
    let rule = args.rule.as_deref().map(rules::by_name).transpose()?;
    let mut loaded = lm::load(&model_choice(&args.model)?, args.model.engine)?;
    let report = report(
        &mut loaded,
        &TraceRequest {
            prompt: &args.prompt,
            rule,
            sampling,
            seeds: &seeds,
            max_tokens: args.max_tokens,
            alternatives: args.alternatives,
            low: args.low,
            raw: args.raw,
        },
    )?;
    Ok(report)
}

/// What to trace.
pub struct TraceRequest<'a> {
    pub prompt: &'a str,
    pub rule: Option<&'static dyn Rule>,
    pub sampling: Sampling,
    pub seeds: &'a [u64],
    pub max_tokens: usize,
    pub alternatives: usize,
    pub low: f64,
    pub raw: bool,
}

/// Generation step by step for each seed, and where the seeds branch apart.
pub fn report(loaded: &mut LoadedModel, request: &TraceRequest) -> anyhow::Result<TraceReport> {
    let user_text = match request.rule {
        Some(rule) => PromptTemplate::fill(
            tasks::template(rule.task())?.for_format(&loaded.prompt_format),
            request.prompt.trim(),
        ),
        None => request.prompt.to_string(),
    };
    let formatted_prompt = loaded.prompt_format.prepare(&user_text, request.raw);
    let prompt_ids = loaded.tokenizer.encode_prompt(&formatted_prompt);
    let settings: Vec<GenerationSettings> = request
        .seeds
        .iter()
        .map(|&seed| GenerationSettings {
            sampling: request.sampling.clone(),
            seed,
            max_tokens: request.max_tokens,
            ignore_eos: false,
            alternatives: request.alternatives,
            stop_at_newline: false,
        })
        .collect();
    let completions = complete_each(loaded, &prompt_ids, &settings)?;
    let greedy = request.sampling == Sampling::Greedy;
    let tokenizer = &loaded.tokenizer;
    let samples: Vec<TracedSample> = completions
        .iter()
        .zip(request.seeds)
        .map(|(c, &seed)| traced(c, seed, request.low, greedy, tokenizer))
        .collect();
    let divergence = (samples.len() > 1).then(|| divergence(&samples, tokenizer));
    let report = TraceReport {
        input: request.prompt.to_string(),
        rule: request.rule.map(|r| {
            let run = r.apply(request.prompt);
            RuleTrace {
                rule: r.name(),
                output: run.outcome.phrase(),
                steps: run.trace,
            }
        }),
        model: ModelTrace {
            model: loaded.info.label(),
            formatted_prompt,
            sampling: request.sampling.clone(),
            samples,
            divergence,
        },
    };
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_finds_the_first_differing_index() {
        assert_eq!(first_difference(&[1, 2, 3], &[1, 2, 3]), None);
        assert_eq!(first_difference(&[1, 2, 3], &[1, 5, 3]), Some(1));
        assert_eq!(first_difference(&[1, 2], &[1, 2, 3]), Some(2));
        assert_eq!(first_difference(&[], &[4]), Some(0));
    }
}
