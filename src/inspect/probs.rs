//! The model's distribution over the next token — one column per
//! temperature, and, when filters are set, one per filter stage — so a class
//! sees the "sampling from a probability distribution" row happen. From a
//! server, the columns come from the top alternatives it reports.

use crate::generation::prefill;
use crate::lm::LoadedModel;
use crate::report::views::{DistributionColumn, ProbsReport, TokenProbability};
use crate::sampler::{candidate_distribution, filter_stages, Filters, ModelDistribution};
use crate::tokenizer::TextTokenizer;

/// Builds a column over `candidates` (ascending ids).
pub fn column(
    label: String,
    logits: &[f32],
    candidates: &[u32],
    temperature: f64,
    top: usize,
    tokenizer: &TextTokenizer,
) -> DistributionColumn {
    let probabilities = candidate_distribution(logits, candidates, temperature);
    column_over(label, temperature, &probabilities, top, |i| {
        (Some(candidates[i]), tokenizer.visible_piece(candidates[i]))
    })
}

/// A column over every candidate's `probabilities`, the `top` most likely
/// listed with the id and visible text `name` gives each.
fn column_over(
    label: String,
    temperature: f64,
    probabilities: &[f64],
    top: usize,
    name: impl Fn(usize) -> (Option<u32>, String),
) -> DistributionColumn {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| {
        probabilities[b]
            .total_cmp(&probabilities[a])
            .then(a.cmp(&b))
    });
    // Tokens with no probability at all (everything but the argmax at T=0)
    // are not listed.
    let shown = top.min(
        order
            .iter()
            .take_while(|&&i| probabilities[i] > 0.0)
            .count(),
    );
    let total: f64 = probabilities.iter().sum();
    DistributionColumn {
        label,
        temperature,
        candidates: Some(probabilities.len()),
        top: order[..shown]
            .iter()
            .map(|&i| {
                let (token, piece) = name(i);
                TokenProbability {
                    token,
                    piece,
                    probability: probabilities[i],
                }
            })
            .collect(),
        // (An empty sum is −0.0: shown as "-0.0%" without the max.)
        tail: order[shown..]
            .iter()
            .map(|&i| probabilities[i])
            .sum::<f64>()
            .max(0.0),
        entropy_bits: Some(
            probabilities
                .iter()
                .filter(|&&p| p > 0.0)
                .map(|&p| -p * p.log2())
                .sum::<f64>()
                .max(0.0),
        ),
        total,
    }
}

/// The next-token distribution after `prompt` from a server's reported
/// alternatives (`top` asked): the model's column lists them as reported
/// (the rest is the tail; entropy and candidates unknown), and each
/// temperature's column spreads probability over only those tokens — what
/// a top-k filter of their number would sample from.
pub fn remote_report(
    endpoint: &crate::remote::Endpoint,
    model: String,
    prompt: &str,
    raw: bool,
    temperatures: &[crate::sampler::Temperature],
    top: usize,
) -> anyhow::Result<ProbsReport> {
    let request = crate::remote::RemoteRequest {
        seed: Some(0),
        ..crate::remote::RemoteRequest::next_token(&model, prompt, !raw, top)
    };
    let completion = endpoint
        .complete(&request)
        .map_err(|e| e.failure(format!("{}: {e}", endpoint.base)))?;
    let first = completion
        .tokens
        .as_ref()
        .and_then(|tokens| tokens.first())
        .filter(|t| !t.alternatives.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: the server reported no alternatives for the next token (it does not offer top_logprobs)",
                endpoint.base
            )
        })?;
    let (pieces, logprobs): (Vec<String>, Vec<f64>) = first
        .alternatives
        .iter()
        .map(|a| (a.visible(), a.logprob))
        .unzip();
    let reported = pieces.len();
    let name = |i: usize| (None, pieces[i].clone());
    let listed: Vec<f64> = logprobs.iter().map(|l| l.exp()).collect();
    let total: f64 = listed.iter().sum();
    let model_column = DistributionColumn {
        candidates: None,
        entropy_bits: None,
        tail: (1.0 - total).max(0.0),
        total,
        ..column_over("model".into(), 1.0, &listed, top, name)
    };
    let scores: Vec<f32> = logprobs.iter().map(|&l| l as f32).collect();
    let all: Vec<u32> = (0..reported as u32).collect();
    let temperatures = temperatures
        .iter()
        .map(|&t| {
            let probabilities = candidate_distribution(&scores, &all, t.value());
            column_over(
                format!("T={t} (top-k {reported})"),
                t.value(),
                &probabilities,
                top,
                name,
            )
        })
        .collect();
    Ok(ProbsReport {
        model,
        endpoint: Some(endpoint.base.clone()),
        reported: Some(reported),
        prompt: prompt.to_string(),
        formatted_prompt: prompt.to_string(),
        prompt_tokens: None,
        filters: vec![model_column],
        temperatures,
    })
}

/// The next-token distribution after `prompt`, per filter and temperature.
pub fn report(
    loaded: &mut LoadedModel,
    prompt: &str,
    raw: bool,
    temperatures: &[crate::sampler::Temperature],
    top: usize,
    filters_set: &Filters,
) -> anyhow::Result<ProbsReport> {
    let formatted_prompt = loaded.prompt_format.prepare(prompt, raw);
    let prompt_ids = loaded.tokenizer.encode_prompt(&formatted_prompt);
    let (logits, _) = prefill(loaded, &prompt_ids)?;
    let tokenizer = &loaded.tokenizer;
    let model = ModelDistribution::new(&logits);
    let stages = filter_stages(
        &model,
        filters_set.top_k,
        filters_set.top_p,
        filters_set.min_p,
    );
    let all: Vec<u32> = (0..logits.len() as u32).collect();
    let sampled_from = stages.last().map_or(&all, |s| &s.candidates);
    let mut filters = Vec::new();
    if !stages.is_empty() {
        filters.push(column("model".into(), &logits, &all, 1.0, top, tokenizer));
        for stage in &stages {
            filters.push(column(
                stage.filter.clone(),
                &logits,
                &stage.candidates,
                1.0,
                top,
                tokenizer,
            ));
        }
    }
    let temperatures = temperatures
        .iter()
        .map(|&t| {
            column(
                format!("T={t}"),
                &logits,
                sampled_from,
                t.value(),
                top,
                tokenizer,
            )
        })
        .collect();
    let report = ProbsReport {
        model: loaded.info.label(),
        endpoint: None,
        reported: None,
        prompt: prompt.to_string(),
        formatted_prompt,
        prompt_tokens: Some(prompt_ids.len()),
        filters,
        temperatures,
    };
    Ok(report)
}
