//! The reproducibility row of the table, counted. The rule
//! runs N times; the model runs N times at each temperature with one fixed
//! seed, and N times with a fresh random seed each run.

use std::collections::BTreeMap;

use indicatif::ProgressBar;

use crate::comparison::sample_settings;
use crate::generation::GenerationSettings;
use crate::report::experiments::{RepeatReport, RepeatRow, Side};
use crate::rules::Rule;
use crate::sampler::fresh_seed;
use crate::words::Phrase;

fn count(outputs: &[String]) -> (usize, String, usize) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for o in outputs {
        *counts.entry(o).or_default() += 1;
    }
    let (top, n) = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(t, n)| (t.to_string(), *n))
        .unwrap_or_default();
    (counts.len(), top, n)
}

/// How `repeat` runs each side.
pub struct RepeatSettings<'a> {
    pub runs: usize,
    pub temperatures: &'a [crate::sampler::Temperature],
    pub seed: u64,
    pub max_tokens: usize,
}

/// [`report`] on the local model: the rule's task prompt prefilled once,
/// every batch decoded from it together.
pub fn local(
    loaded: &mut crate::lm::LoadedModel,
    rule: &'static dyn Rule,
    input: &str,
    settings: &RepeatSettings,
    progress: &ProgressBar,
) -> anyhow::Result<RepeatReport> {
    let prompt = crate::comparison::TaskPrompt::new(loaded, rule.task(), input)?;
    let prefilled = crate::generation::Prefilled::new(loaded, &prompt.ids)?;
    let mut sample = |cells: &[GenerationSettings]| -> anyhow::Result<Vec<String>> {
        Ok(prefilled
            .complete_many(loaded, cells)?
            .into_iter()
            .map(|c| c.text.trim().to_string())
            .collect())
    };
    report(
        loaded.info.label(),
        &mut sample,
        rule,
        input,
        settings,
        progress,
    )
}

/// Runs `rule` and the model `settings.runs` times each on `input`,
/// advancing `progress` by one per row of the model's side. `sample` gives
/// the model's (trimmed) texts for a batch of samples of the rule's task
/// prompt, one per settings: from the local model, or from a server.
pub fn report(
    model: String,
    sample: &mut dyn FnMut(&[GenerationSettings]) -> anyhow::Result<Vec<String>>,
    rule: &'static dyn Rule,
    input: &str,
    settings: &RepeatSettings,
    progress: &ProgressBar,
) -> anyhow::Result<RepeatReport> {
    let runs = settings.runs;
    let rule_outputs: Vec<String> = (0..runs)
        .map(|_| rule.apply(input).outcome.display())
        .collect();
    let (distinct, most_common, most_common_count) = count(&rule_outputs);
    let mut rows = vec![RepeatRow {
        side: Side::Rule,
        setting: Phrase::new("repeat.setting.rule").arg("rule", rule.name()),
        temperature: None,
        fixed_seed: None,
        seeds: Vec::new(),
        runs,
        distinct,
        most_common,
        most_common_count,
    }];
    for &t in settings.temperatures {
        let variants: Vec<(Option<bool>, Vec<u64>)> = if t.value() == 0.0 {
            vec![(None, vec![settings.seed; runs])]
        } else {
            vec![
                (Some(true), vec![settings.seed; runs]),
                (Some(false), (0..runs).map(|_| fresh_seed()).collect()),
            ]
        };
        for (fixed, seeds) in variants {
            let cells = seeds
                .iter()
                .map(|&seed| sample_settings(t, seed, settings.max_tokens))
                .collect::<Vec<_>>();
            let outputs = sample(&cells)?;
            let (distinct, most_common, most_common_count) = count(&outputs);
            progress.inc(1);
            rows.push(RepeatRow {
                side: Side::Model,
                setting: match fixed {
                    None => Phrase::new("repeat.setting.greedy").arg("t", t.to_string()),
                    Some(true) => Phrase::new("repeat.setting.fixed")
                        .arg("t", t.to_string())
                        .arg("seed", settings.seed),
                    Some(false) => Phrase::new("repeat.setting.fresh").arg("t", t.to_string()),
                },
                temperature: Some(t.value()),
                fixed_seed: fixed,
                seeds,
                runs,
                distinct,
                most_common,
                most_common_count,
            });
        }
    }
    Ok(RepeatReport {
        input: input.to_string(),
        rule: rule.name(),
        model,
        runs,
        rows,
    })
}
