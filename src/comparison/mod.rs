//! The comparison at the heart of detprob: one input goes to a rule-based
//! function and to the language model, whose answers are sampled over a grid
//! of temperatures × seeds. The result is a [`CompareReport`] — plain data
//! that every renderer and test reads — including three verdicts computed
//! from this run, each tied to its row of the comparison table.

mod grid;
mod plan;
mod source;
mod summary;
mod truth;
mod verdicts;

use std::collections::BTreeSet;

use crate::error::InputError;
use crate::generation::GenerationSettings;
use crate::lm::LoadedModel;
use crate::rules::Rule;
use crate::sampler::{Sampling, Temperature};
use crate::tasks::{self, PromptTemplate, Task};

use crate::report::compare::*;
pub use plan::{check_length, plan, read_inputs, Planned, MAX_INPUT_CHARS};
pub use source::{Drawn, ModelSource, RemoteSource, ShownPrompt};
pub use truth::find_truth;
use verdicts::verdicts;

/// One input to compare, with its truth when the caller knows it.
#[derive(Debug, Clone)]
pub struct CompareInput {
    /// The input text.
    pub text: String,
    /// The correct answer, if given.
    pub truth: Option<String>,
}

/// A rule's task put to the model: the template, the text after the chat
/// template, and its token ids.
pub struct TaskPrompt {
    pub template: String,
    pub formatted: String,
    pub ids: Vec<u32>,
}

impl TaskPrompt {
    /// The prompt for `input` in `task`'s template for this model.
    pub fn new(loaded: &LoadedModel, task: Task, input: &str) -> Result<Self, InputError> {
        let (template, formatted) = task_prompt_text(&loaded.prompt_format, task, input)?;
        let ids = loaded.tokenizer.encode_prompt(&formatted);
        Ok(Self {
            template,
            formatted,
            ids,
        })
    }
}

/// `task`'s template for `input` in a model of `format`, and the text it
/// becomes after the chat template (what [`TaskPrompt`] tokenizes).
pub fn task_prompt_text(
    format: &crate::prompt::PromptFormat,
    task: Task,
    input: &str,
) -> Result<(String, String), InputError> {
    let template = tasks::template(task)?.for_input(format, input).to_string();
    let formatted = format.render(&PromptTemplate::fill(&template, input.trim()));
    Ok((template, formatted))
}

/// `task`'s prompt for `input` as sent to a server: the chat template's
/// user message (the server applies its model's chat template), or with
/// `raw` the base-model template's plain prompt for `/v1/completions`.
/// Returns the template and the filled prompt.
pub fn remote_task_prompt(
    task: Task,
    input: &str,
    raw: bool,
) -> Result<(String, String), InputError> {
    let format = if raw {
        crate::prompt::PromptFormat::Completion
    } else {
        crate::prompt::PromptFormat::ChatMl {
            default_system: None,
        }
    };
    let template = tasks::template(task)?.for_input(&format, input).to_string();
    let filled = PromptTemplate::fill(&template, input.trim());
    Ok((template, filled))
}

/// Compares `rule` and the local model on `input` over `grid`.
pub fn compare(
    loaded: &mut LoadedModel,
    rule: &dyn Rule,
    input: &CompareInput,
    grid: &SampleGrid,
) -> anyhow::Result<CompareReport> {
    compare_with(loaded, rule, input, grid)
}

/// Compares `rule` and the model `source` samples on `input` over `grid`.
pub fn compare_with(
    source: &mut dyn ModelSource,
    rule: &dyn Rule,
    input: &CompareInput,
    grid: &SampleGrid,
) -> anyhow::Result<CompareReport> {
    if input.text.trim().is_empty() {
        return Err(InputError::EmptyPrompt.into());
    }
    plan::check_length(&input.text)?;
    let task = rule.task();

    // The rule, run as many times as the model is sampled.
    let runs: Vec<_> = (0..grid.len()).map(|_| rule.apply(&input.text)).collect();
    let distinct_outputs = runs
        .iter()
        .map(|r| r.outcome.display())
        .collect::<BTreeSet<_>>()
        .len();
    let first = runs.into_iter().next().expect("grid is not empty");
    let truth = find_truth(rule, &first.outcome, input);
    let rule_side = RuleSide {
        name: rule.name(),
        summary: rule.summary(),
        correct: match (first.outcome.answer(), &truth) {
            (Some(answer), Some(t)) => Some(task.matches(answer, &t.answer)),
            _ => None,
        },
        outcome: first.outcome,
        trace: first.trace,
        runs: grid.len(),
        distinct_outputs,
    };

    // The model, over the grid.
    let prompt = source.prompt(task, &input.text)?;
    let settings: Vec<GenerationSettings> = grid
        .temperatures
        .iter()
        .flat_map(|&t| grid.seeds.iter().map(move |&seed| (t, seed)))
        .map(|(t, seed)| sample_settings(t, seed, grid.max_tokens))
        .collect();
    let drawn = source.draw(&prompt, &settings)?;
    let mut system_fingerprints: Vec<String> = Vec::new();
    for fingerprint in drawn.iter().filter_map(|d| d.fingerprint.as_ref()) {
        crate::remote::note_fingerprint(&mut system_fingerprints, fingerprint);
    }
    let samples: Vec<ModelSample> = settings
        .iter()
        .zip(drawn)
        .map(|(s, d)| {
            let text = d.text.trim().to_string();
            let (answer, cut) = task.read(&input.text, &text, d.stop_reason);
            let cut_off_at = cut.then_some(d.token_count);
            let correct = truth.as_ref().map(|t| {
                answer
                    .as_deref()
                    .is_some_and(|a| task.matches(a, &t.answer))
            });
            let whole = d.logprobs.as_ref().map(|l| l.iter().sum::<f64>().exp());
            let answer_probability = d.logprobs.as_ref().and_then(|logprobs| {
                answer
                    .as_deref()
                    .and_then(|a| span_probability(&d.pieces, logprobs, a))
                    .or(whole)
            });
            ModelSample {
                temperature: s.sampling.temperature(),
                seed: s.seed,
                probability: whole,
                answer_probability,
                text,
                tokens: d.tokens,
                answer,
                correct,
                cut_off_at,
                stop_reason: d.stop_reason,
                logprobs: d.logprobs.unwrap_or_default(),
            }
        })
        .collect();

    // Re-run one random cell from scratch: same seed, same text?
    let check_temperature = grid
        .temperatures
        .iter()
        .copied()
        .find(|t| t.value() > 0.0)
        .unwrap_or(grid.temperatures[0]);
    let check_seed = grid.seeds[0];
    let rerun = source.draw(
        &prompt,
        &[sample_settings(
            check_temperature,
            check_seed,
            grid.max_tokens,
        )],
    )?;
    let original = samples
        .iter()
        .find(|s| s.temperature == check_temperature && s.seed == check_seed)
        .expect("the checked cell is in the grid");
    let seed_check = SeedCheck {
        temperature: check_temperature,
        seed: check_seed,
        identical: rerun[0].tokens == original.tokens && rerun[0].text.trim() == original.text,
    };

    let temperatures = grid
        .temperatures
        .iter()
        .map(|&t| summarize(t, &samples, truth.is_some()))
        .collect();
    let model_side = ModelSide {
        model: source.label(),
        endpoint: source.endpoint(),
        prompt_template: prompt.template,
        formatted_prompt: prompt.formatted,
        prompt_tokens: prompt.ids.as_ref().map(Vec::len),
        samples,
        temperatures,
        seed_check,
        system_fingerprints,
    };
    let verdicts = verdicts(&rule_side, &model_side, truth.as_ref());
    Ok(CompareReport {
        input: input.text.clone(),
        task,
        truth,
        rule: rule_side,
        model: model_side,
        verdicts,
    })
}

/// The probability of the tokens that overlap the first occurrence of
/// `answer` (case-insensitive) in the generated text, given each token's
/// bytes (`pieces`) and logprob, or `None` when it is not there verbatim.
fn span_probability(pieces: &[Vec<u8>], logprobs: &[f64], answer: &str) -> Option<f64> {
    let mut text = Vec::new();
    let mut ends = Vec::with_capacity(pieces.len());
    for piece in pieces {
        text.extend_from_slice(piece);
        ends.push(text.len());
    }
    let text = String::from_utf8(text).ok()?.to_lowercase();
    let start = text.find(&answer.to_lowercase())?;
    let end = start + answer.len();
    let mut begin = 0;
    let mut logprob = 0.0;
    for (&token_end, &token_logprob) in ends.iter().zip(logprobs) {
        if token_end > start && begin < end && token_end > begin {
            logprob += token_logprob;
        }
        begin = token_end;
    }
    Some(logprob.exp())
}

/// The settings of one compare cell.
pub fn sample_settings(
    temperature: Temperature,
    seed: u64,
    max_tokens: usize,
) -> GenerationSettings {
    GenerationSettings {
        sampling: Sampling::at(temperature),
        seed,
        max_tokens,
        ignore_eos: false,
        alternatives: 0,
        stop_at_newline: true,
    }
}

fn summarize(
    temperature: Temperature,
    samples: &[ModelSample],
    truth_known: bool,
) -> TemperatureSummary {
    let at: Vec<&ModelSample> = samples
        .iter()
        .filter(|s| s.temperature == temperature)
        .collect();
    let mut answers: Vec<AnswerCount> = Vec::new();
    for sample in &at {
        match answers
            .iter_mut()
            .find(|a| a.answer == sample.answer && a.cut_off_at == sample.cut_off_at)
        {
            Some(entry) => {
                entry.count += 1;
                if sample.answer_probability > entry.probability {
                    entry.probability = sample.answer_probability;
                    entry.example = sample.text.clone();
                }
            }
            None => answers.push(AnswerCount {
                answer: sample.answer.clone(),
                count: 1,
                correct: sample.correct,
                cut_off_at: sample.cut_off_at,
                probability: sample.answer_probability,
                example: sample.text.clone(),
            }),
        }
    }
    answers.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(rank(b.probability).total_cmp(&rank(a.probability)))
    });
    TemperatureSummary {
        temperature,
        samples: at.len(),
        distinct_texts: at.iter().map(|s| &s.text).collect::<BTreeSet<_>>().len(),
        correct: truth_known.then(|| at.iter().filter(|s| s.correct == Some(true)).count()),
        answers,
    }
}

/// A probability to rank by: one not reported ranks below every reported one.
pub fn rank(probability: Option<f64>) -> f64 {
    probability.unwrap_or(f64::NEG_INFINITY)
}

/// Formats a temperature as `T=0.7`.
pub fn temperature_label(t: impl Into<f64>) -> String {
    format!("T={}", t.into())
}

/// `text` cut to `max` characters with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Comparisons on the fake model, for exact tests of everything that reads
/// a [`CompareReport`] (verdicts, takeaways, renderers).
#[cfg(test)]
pub(crate) mod testing {
    use super::{compare, CompareInput, CompareReport, SampleGrid};

    /// `input` through the rule `rule` against a fake model that spells
    /// `script`, over `temperatures` × `seeds` (answers up to 24 tokens).
    pub fn fake_compare(
        script: &[(&str, f64)],
        rule: &str,
        input: &str,
        truth: Option<&str>,
        temperatures: &str,
        seeds: &str,
    ) -> CompareReport {
        let mut loaded = crate::lm::fake::scripted(script);
        compare(
            &mut loaded,
            crate::rules::by_name(rule).unwrap(),
            &CompareInput {
                text: input.into(),
                truth: truth.map(str::to_string),
            },
            &SampleGrid::parse(temperatures, seeds, 24).unwrap(),
        )
        .unwrap()
    }
}
