//! `detprob repeat`: the reproducibility row of the table, counted. The rule
//! runs N times; the model runs N times at each temperature with one fixed
//! seed, and N times with a fresh random seed each run.

use std::collections::BTreeMap;

use serde::Serialize;

use super::compare::plan;
use super::generate::random_seed;
use super::model_choice;
use crate::cli::RepeatArgs;
use crate::comparison::{sample_settings, TaskPrompt};
use crate::generation::Prefilled;
use crate::lm::{self, LoadedModel};
use crate::rules::{self, Rule};

/// One line of the count: a side at one setting.
#[derive(Debug, Clone, Serialize)]
pub struct RepeatRow {
    /// `rule` or `model`.
    pub side: &'static str,
    /// The setting, e.g. `T=0.7, seed 1 every run`.
    pub setting: String,
    /// Temperature (`None` for the rule).
    pub temperature: Option<f64>,
    /// Whether every run used the same seed (`None` for the rule and greedy).
    pub fixed_seed: Option<bool>,
    /// Seeds used, in run order (empty for the rule).
    pub seeds: Vec<u64>,
    /// Runs.
    pub runs: usize,
    /// Distinct outputs among them.
    pub distinct: usize,
    /// The most frequent output and how often it came.
    pub most_common: String,
    pub most_common_count: usize,
}

/// What `repeat` found.
#[derive(Debug, Clone, Serialize)]
pub struct RepeatReport {
    pub input: String,
    pub rule: &'static str,
    pub model: String,
    pub runs: usize,
    pub rows: Vec<RepeatRow>,
}

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

pub fn run(args: RepeatArgs) -> anyhow::Result<RepeatReport> {
    crate::comparison::check_runs(args.runs, "--runs")?;
    let temperatures = args.temperatures.0.clone();
    let forced = args.rule.as_deref().map(rules::by_name).transpose()?;
    let planned = plan(&args.input, None, forced)?;
    let mut loaded = lm::load(&model_choice(&args.model)?, args.model.engine)?;
    let report = report(
        &mut loaded,
        planned.rule,
        &planned.input.text,
        &RepeatSettings {
            runs: args.runs,
            temperatures: &temperatures,
            seed: args.seed,
            max_tokens: args.max_tokens,
        },
    )?;
    Ok(report)
}

/// How `repeat` runs each side.
pub struct RepeatSettings<'a> {
    pub runs: usize,
    pub temperatures: &'a [f64],
    pub seed: u64,
    pub max_tokens: usize,
}

/// Runs `rule` and the model `settings.runs` times each on `input`.
pub fn report(
    loaded: &mut LoadedModel,
    rule: &'static dyn Rule,
    input: &str,
    settings: &RepeatSettings,
) -> anyhow::Result<RepeatReport> {
    let runs = settings.runs;
    let rule_outputs: Vec<String> = (0..runs)
        .map(|_| rule.apply(input).outcome.display())
        .collect();
    let (distinct, most_common, most_common_count) = count(&rule_outputs);
    let mut rows = vec![RepeatRow {
        side: "rule",
        setting: format!("{} (no seed, no temperature)", rule.name()),
        temperature: None,
        fixed_seed: None,
        seeds: Vec::new(),
        runs,
        distinct,
        most_common,
        most_common_count,
    }];
    let prompt = TaskPrompt::new(loaded, rule.task(), input)?;
    let prefilled = Prefilled::new(loaded, &prompt.ids)?;
    for &t in settings.temperatures {
        let variants: Vec<(Option<bool>, Vec<u64>)> = if t == 0.0 {
            vec![(None, vec![settings.seed; runs])]
        } else {
            vec![
                (Some(true), vec![settings.seed; runs]),
                (Some(false), (0..runs).map(|_| random_seed()).collect()),
            ]
        };
        for (fixed, seeds) in variants {
            let cells = seeds
                .iter()
                .map(|&seed| sample_settings(t, seed, settings.max_tokens))
                .collect::<Result<Vec<_>, _>>()?;
            let outputs: Vec<String> = prefilled
                .complete_many(loaded, &cells)?
                .into_iter()
                .map(|c| c.text.trim().to_string())
                .collect();
            let (distinct, most_common, most_common_count) = count(&outputs);
            rows.push(RepeatRow {
                side: "model",
                setting: match fixed {
                    None => format!("T={t} (greedy: no draw)"),
                    Some(true) => format!("T={t}, seed {} every run", settings.seed),
                    Some(false) => format!("T={t}, a new random seed each run"),
                },
                temperature: Some(t),
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
        model: loaded.info.label(),
        runs,
        rows,
    })
}
