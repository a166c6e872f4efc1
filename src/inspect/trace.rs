//! Generation step by step — the chosen token, its
//! probability, the alternatives, the running probability of the sequence —
//! and, over several seeds, where the samples branch apart. With `--rule`,
//! the rule's own explicit steps sit beside the model's.

use crate::generation::{complete_each, Completion, GenerationSettings};
use crate::lm::LoadedModel;
use crate::report::views::{
    Branch, Divergence, ModelTrace, PairDivergence, RuleTrace, TraceReport, TracedAlternative,
    TracedSample, TracedStep,
};
use crate::rules::Rule;
use crate::sampler::Sampling;
use crate::tasks::{self, PromptTemplate};
use crate::tokenizer::TextTokenizer;

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
                s.steps
                    .get(at)
                    .map_or(("(end)".to_string(), 0.0, 0.0), |st| {
                        (st.piece.clone(), st.probability, st.model_probability)
                    })
            };
            let (piece, probability, model_probability) = piece_at(sample);
            let (other_piece, other_probability, other_model_probability) = piece_at(parent);
            branches.push(Branch {
                seed: sample.seed,
                from_seed: parent.seed,
                step: at + 1,
                piece,
                probability,
                model_probability,
                other_piece,
                other_probability,
                other_model_probability,
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
            tasks::template(rule.task())?.for_input(&loaded.prompt_format, request.prompt),
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
