//! The model's distribution over the next token — one column per
//! temperature, and, when filters are set, one per filter stage — so a class
//! sees the "sampling from a probability distribution" row happen.

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
    let mut order: Vec<usize> = (0..candidates.len()).collect();
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
        candidates: candidates.len(),
        top: order[..shown]
            .iter()
            .map(|&i| TokenProbability {
                token: candidates[i],
                piece: tokenizer.visible_piece(candidates[i]),
                probability: probabilities[i],
            })
            .collect(),
        tail: order[shown..].iter().map(|&i| probabilities[i]).sum(),
        entropy_bits: probabilities
            .iter()
            .filter(|&&p| p > 0.0)
            .map(|&p| -p * p.log2())
            .sum::<f64>()
            .max(0.0),
        total,
    }
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
        prompt: prompt.to_string(),
        formatted_prompt,
        prompt_tokens: prompt_ids.len(),
        filters,
        temperatures,
    };
    Ok(report)
}
