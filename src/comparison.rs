//! The comparison at the heart of detprob: one input goes to a rule-based
//! function and to the language model, whose answers are sampled over a grid
//! of temperatures × seeds. The result is a [`CompareReport`] — plain data
//! that every renderer and test reads — including three verdicts computed
//! from this run, each tied to its row of the comparison table.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::error::{invalid, InputError};
use crate::generation::{complete_each, GenerationSettings, StopReason};
use crate::lm::LoadedModel;
use crate::rules::{LeapYear, Rule, RuleOutcome, TraceStep};
use crate::sampler::Sampling;
use crate::tasks::{self, PromptTemplate, Task};

/// Temperatures × seeds to sample, and the answer length.
#[derive(Debug, Clone, Serialize)]
pub struct SampleGrid {
    /// Sampling temperatures (0 = greedy).
    pub temperatures: Vec<f64>,
    /// Seeds of the sampler's random stream.
    pub seeds: Vec<u64>,
    /// At most this many tokens per answer.
    pub max_tokens: usize,
}

impl SampleGrid {
    /// Parses `"0,0.7,1.2"` and `"1..5"` (inclusive) or `"1,2,9"`.
    pub fn parse(temperatures: &str, seeds: &str, max_tokens: usize) -> Result<Self, InputError> {
        let temperatures = parse_temperatures(temperatures)?;
        let parsed_seeds = parse_seeds(seeds)?;
        if max_tokens == 0 {
            return Err(invalid("max tokens must be at least 1"));
        }
        Ok(Self {
            temperatures,
            seeds: parsed_seeds,
            max_tokens,
        })
    }

    /// Number of samples per input.
    pub fn len(&self) -> usize {
        self.temperatures.len() * self.seeds.len()
    }

    /// Whether the grid is empty (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The most seeds one list may hold (a range `1..10000` holds 10,000).
pub const MAX_SEEDS: usize = 10_000;

/// The most runs `repeat` (and a repeat scenario) may ask for.
pub const MAX_RUNS: usize = 10_000;

/// Checks a run count (`what` names the flag or field): from 1 to [`MAX_RUNS`].
pub fn check_runs(runs: usize, what: &str) -> Result<usize, InputError> {
    if (1..=MAX_RUNS).contains(&runs) {
        Ok(runs)
    } else {
        Err(invalid(format!(
            "{what} must be from 1 to {MAX_RUNS}, not {runs}"
        )))
    }
}

/// The most temperatures one list may hold.
pub const MAX_TEMPERATURES: usize = 100;

/// Parses seeds: an inclusive range `1..5`, a list `1,2,9`, or a mix; at
/// most [`MAX_SEEDS`] in all.
pub fn parse_seeds(seeds: &str) -> Result<Vec<u64>, InputError> {
    let mut parsed_seeds = Vec::new();
    let too_many = || {
        invalid(format!(
            "seed list '{seeds}' holds more than {MAX_SEEDS} seeds"
        ))
    };
    for part in list("seed", seeds)? {
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| invalid(format!("seed list: '{s}' is not a whole number ≥ 0")))
        };
        match part.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b.trim_start_matches('='))?);
                if a > b {
                    return Err(invalid(format!("seed range '{part}' must be ascending")));
                }
                if b - a >= MAX_SEEDS as u64 || parsed_seeds.len() + (b - a) as usize >= MAX_SEEDS {
                    return Err(too_many());
                }
                parsed_seeds.extend(a..=b);
            }
            None => parsed_seeds.push(number(part)?),
        }
        if parsed_seeds.len() > MAX_SEEDS {
            return Err(too_many());
        }
    }
    Ok(parsed_seeds)
}

/// Parses a comma-separated list of temperatures, each finite and ≥ 0.
pub fn parse_temperatures(text: &str) -> Result<Vec<f64>, InputError> {
    let items = list("temperature", text)?;
    if items.len() > MAX_TEMPERATURES {
        return Err(invalid(format!(
            "temperature list holds {} temperatures; at most {MAX_TEMPERATURES}",
            items.len()
        )));
    }
    items
        .into_iter()
        .map(|t| {
            let value: f64 = t
                .parse()
                .map_err(|_| invalid(format!("temperature list: '{t}' is not a number")))?;
            Sampling::from_settings(value, None, None, None)?;
            Ok(value)
        })
        .collect()
}

/// The items of a comma-separated list, trimmed: an empty list, or an empty
/// item (`0,,1`, a trailing comma), is an error naming `what`.
pub fn list<'a>(what: &str, text: &'a str) -> Result<Vec<&'a str>, InputError> {
    if text.trim().is_empty() {
        return Err(invalid(format!("no {what}s given")));
    }
    let items: Vec<&str> = text.split(',').map(str::trim).collect();
    if items.iter().any(|s| s.is_empty()) {
        return Err(invalid(format!("{what} list '{text}' has an empty item")));
    }
    Ok(items)
}

/// One input to compare, with its truth when the caller knows it.
#[derive(Debug, Clone)]
pub struct CompareInput {
    /// The input text.
    pub text: String,
    /// The correct answer, if given.
    pub truth: Option<String>,
}

/// The correct answer and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// The answer.
    pub answer: String,
    /// `given` (by the user or an inputs file), `rule` (a trusted rule's
    /// answer) or `data` (detprob's labelled data).
    pub source: &'static str,
}

/// The rule's side of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSide {
    /// Rule name.
    pub name: &'static str,
    /// What it does.
    pub summary: &'static str,
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
    pub temperature: f64,
    /// Sampler seed.
    pub seed: u64,
    /// The model's text, trimmed.
    pub text: String,
    /// Generated token ids.
    pub tokens: Vec<u32>,
    /// The answer read from the text (`null` if none could be read).
    pub answer: Option<String>,
    /// Whether the answer matched the truth (`null` if the truth is unknown).
    pub correct: Option<bool>,
    /// The model's probability of this whole text at temperature 1
    /// (exp of the summed natural-log probabilities of its tokens).
    pub probability: f64,
    /// The model's probability (temperature 1) of the tokens that spell the
    /// answer, given the text before them; the whole text's probability when
    /// the answer is not written out verbatim.
    pub answer_probability: f64,
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
    /// The highest probability the model gave this answer's tokens in any
    /// sample (see [`ModelSample::answer_probability`]).
    pub probability: f64,
    /// The text of that most probable sample.
    pub example: String,
}

/// The model's samples at one temperature.
#[derive(Debug, Clone, Serialize)]
pub struct TemperatureSummary {
    /// The temperature.
    pub temperature: f64,
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
    pub temperature: f64,
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
    /// The prompt template used (from `prompts.toml`).
    pub prompt_template: String,
    /// The formatted prompt, as tokenized.
    pub formatted_prompt: String,
    /// Prompt length in tokens.
    pub prompt_tokens: usize,
    /// Every sample, in grid order (temperature-major).
    pub samples: Vec<ModelSample>,
    /// Per-temperature summaries.
    pub temperatures: Vec<TemperatureSummary>,
    /// The reproducibility re-run.
    pub seed_check: SeedCheck,
}

/// A verdict tied to one row of the comparison table.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The row of the source table (English and Chinese).
    pub row: &'static str,
    /// What this run showed.
    pub text: String,
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

/// The truth for `input`: given, else a trusted rule's answer, else data.
pub fn find_truth(rule: &dyn Rule, outcome: &RuleOutcome, input: &CompareInput) -> Option<Truth> {
    if let Some(answer) = &input.truth {
        return Some(Truth {
            answer: answer.clone(),
            source: "given",
        });
    }
    if let (true, Some(answer)) = (rule.trusted(), outcome.answer()) {
        return Some(Truth {
            answer: answer.to_string(),
            source: "rule",
        });
    }
    let data = |answer: &str| {
        Some(Truth {
            answer: answer.to_string(),
            source: "data",
        })
    };
    match rule.task() {
        Task::LeapYear => LeapYear.apply(&input.text).outcome.answer().map(|a| Truth {
            answer: a.to_string(),
            source: "rule",
        }),
        Task::Capital => {
            let country = crate::rules::country_in(&input.text).to_lowercase();
            if tasks::fictional_countries()
                .iter()
                .any(|c| c.to_lowercase() == country)
            {
                return data(tasks::NO_SUCH_COUNTRY);
            }
            if let Some((_, city)) = tasks::extra_capitals()
                .into_iter()
                .find(|(c, _)| c.to_lowercase() == country)
            {
                return data(city);
            }
            tasks::labelled_truth(&input.text).and_then(data)
        }
        _ => tasks::labelled_truth(&input.text).and_then(data),
    }
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
        let template = tasks::template(task)?
            .for_format(&loaded.prompt_format)
            .to_string();
        let formatted = loaded
            .prompt_format
            .render(&PromptTemplate::fill(&template, input.trim()));
        let ids = loaded.tokenizer.encode_prompt(&formatted);
        Ok(Self {
            template,
            formatted,
            ids,
        })
    }
}

/// Compares `rule` and the model on `input` over `grid`.
pub fn compare(
    loaded: &mut LoadedModel,
    rule: &dyn Rule,
    input: &CompareInput,
    grid: &SampleGrid,
) -> anyhow::Result<CompareReport> {
    if input.text.trim().is_empty() {
        return Err(InputError::EmptyPrompt.into());
    }
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
    let TaskPrompt {
        template,
        formatted: formatted_prompt,
        ids: prompt_ids,
    } = TaskPrompt::new(loaded, task, &input.text)?;
    let settings: Vec<GenerationSettings> = grid
        .temperatures
        .iter()
        .flat_map(|&t| grid.seeds.iter().map(move |&seed| (t, seed)))
        .map(|(t, seed)| sample_settings(t, seed, grid.max_tokens))
        .collect::<Result<_, _>>()?;
    let completions = complete_each(loaded, &prompt_ids, &settings)?;
    let samples: Vec<ModelSample> = settings
        .iter()
        .zip(completions)
        .map(|(s, c)| {
            let text = c.text.trim().to_string();
            let answer = task.extract(&input.text, &text);
            let correct = truth.as_ref().map(|t| {
                answer
                    .as_deref()
                    .is_some_and(|a| task.matches(a, &t.answer))
            });
            let logprobs: Vec<f64> = c.steps.iter().map(|s| s.logprob).collect();
            let whole = logprobs.iter().sum::<f64>().exp();
            let answer_probability = answer
                .as_deref()
                .and_then(|a| span_probability(&loaded.tokenizer, &c.tokens, &logprobs, a))
                .unwrap_or(whole);
            ModelSample {
                temperature: s.sampling.temperature(),
                seed: s.seed,
                probability: whole,
                answer_probability,
                text,
                tokens: c.tokens,
                answer,
                correct,
                stop_reason: c.stop_reason,
                logprobs,
            }
        })
        .collect();

    // Re-run one random cell from scratch: same seed, same text?
    let check_temperature = grid
        .temperatures
        .iter()
        .copied()
        .find(|&t| t > 0.0)
        .unwrap_or(grid.temperatures[0]);
    let check_seed = grid.seeds[0];
    let rerun = complete_each(
        loaded,
        &prompt_ids,
        &[sample_settings(
            check_temperature,
            check_seed,
            grid.max_tokens,
        )?],
    )?;
    let original = samples
        .iter()
        .find(|s| s.temperature == check_temperature && s.seed == check_seed)
        .expect("the checked cell is in the grid");
    let seed_check = SeedCheck {
        temperature: check_temperature,
        seed: check_seed,
        identical: rerun[0].tokens == original.tokens,
    };

    let temperatures = grid
        .temperatures
        .iter()
        .map(|&t| summarize(t, &samples, truth.is_some()))
        .collect();
    let model_side = ModelSide {
        model: loaded.info.label(),
        prompt_template: template,
        formatted_prompt,
        prompt_tokens: prompt_ids.len(),
        samples,
        temperatures,
        seed_check,
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
/// `answer` (case-insensitive) in the generated text, or `None` when it is not
/// there verbatim.
fn span_probability(
    tokenizer: &crate::tokenizer::TextTokenizer,
    tokens: &[u32],
    logprobs: &[f64],
    answer: &str,
) -> Option<f64> {
    let mut text = Vec::new();
    let mut ends = Vec::with_capacity(tokens.len());
    for &t in tokens {
        if !tokenizer.is_control(t) {
            text.extend_from_slice(tokenizer.bytes_of(t));
        }
        ends.push(text.len());
    }
    let text = String::from_utf8(text).ok()?.to_lowercase();
    let start = text.find(&answer.to_lowercase())?;
    let end = start + answer.len();
    let mut begin = 0;
    let mut logprob = 0.0;
    for (i, &token_end) in ends.iter().enumerate() {
        if token_end > start && begin < end && token_end > begin {
            logprob += logprobs[i];
        }
        begin = token_end;
    }
    Some(logprob.exp())
}

/// The settings of one compare cell.
pub fn sample_settings(
    temperature: f64,
    seed: u64,
    max_tokens: usize,
) -> Result<GenerationSettings, InputError> {
    Ok(GenerationSettings {
        sampling: Sampling::from_settings(temperature, None, None, None)?,
        seed,
        max_tokens,
        ignore_eos: false,
        alternatives: 0,
        stop_at_newline: true,
    })
}

fn summarize(temperature: f64, samples: &[ModelSample], truth_known: bool) -> TemperatureSummary {
    let at: Vec<&ModelSample> = samples
        .iter()
        .filter(|s| s.temperature == temperature)
        .collect();
    let mut answers: Vec<AnswerCount> = Vec::new();
    for sample in &at {
        match answers.iter_mut().find(|a| a.answer == sample.answer) {
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
                probability: sample.answer_probability,
                example: sample.text.clone(),
            }),
        }
    }
    answers.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.probability.total_cmp(&a.probability))
    });
    TemperatureSummary {
        temperature,
        samples: at.len(),
        distinct_texts: at.iter().map(|s| &s.text).collect::<BTreeSet<_>>().len(),
        correct: truth_known.then(|| at.iter().filter(|s| s.correct == Some(true)).count()),
        answers,
    }
}

/// Formats a temperature as `T=0.7`.
pub fn temperature_label(t: f64) -> String {
    format!("T={t}")
}

fn verdicts(rule: &RuleSide, model: &ModelSide, truth: Option<&Truth>) -> Verdicts {
    let per_temperature: Vec<String> = model
        .temperatures
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let unit = if i == 0 {
                format!(
                    " distinct text{} in {} runs",
                    if t.distinct_texts == 1 { "" } else { "s" },
                    t.samples
                )
            } else {
                format!(" in {}", t.samples)
            };
            format!(
                "{}{unit} at {}",
                t.distinct_texts,
                temperature_label(t.temperature)
            )
        })
        .collect();
    let check = &model.seed_check;
    let reproducibility = format!(
        "the rule gave {} distinct output{} in {} runs; the model gave {}; re-running {} seed {} from scratch {}.",
        rule.distinct_outputs,
        if rule.distinct_outputs == 1 { "" } else { "s" },
        rule.runs,
        per_temperature.join(", "),
        temperature_label(check.temperature),
        check.seed,
        if check.identical { "repeated the same text" } else { "gave a DIFFERENT text" },
    );

    let total = model.samples.len();
    let right = model
        .samples
        .iter()
        .filter(|s| s.correct == Some(true))
        .count();
    let first = &model.samples[0];
    let first_mark = match first.correct {
        Some(true) => "right",
        Some(false) => "wrong",
        None => "truth unknown",
    };
    let model_record = if truth.is_some() {
        format!("right in {right} of {total} samples")
    } else {
        "not scorable (no known truth)".to_string()
    };
    let generalization = match &rule.outcome {
        RuleOutcome::Error { error } => {
            let attempt = match &first.answer {
                Some(answer) => format!(
                    "the model answered anyway: '{answer}' at {} ({first_mark})",
                    temperature_label(first.temperature)
                ),
                None => format!(
                    "the model replied \"{}\" at {}, with no answer that could be read",
                    shorten(&first.text, 40),
                    temperature_label(first.temperature)
                ),
            };
            format!(
                "the input is outside the rule's grammar or table, and the rule says so ({error}); {attempt}; it was {model_record}."
            )
        }
        RuleOutcome::Answer { value } => format!(
            "the input is inside the rule's domain: the rule answers '{value}'{}; the model was {model_record}.",
            match rule.correct {
                Some(true) => " (right)",
                Some(false) => " (wrong)",
                None => "",
            }
        ),
    };

    let rule_part = match (&rule.outcome, rule.correct) {
        (RuleOutcome::Error { error }, _) => {
            let at = rule
                .trace
                .last()
                .map(|s| s.rule.as_str())
                .unwrap_or("input");
            format!("the rule fails with an explicit error at '{at}' ({error})")
        }
        (RuleOutcome::Answer { value }, Some(false)) => {
            let step = crate::rules::decisive_step(&rule.trace).expect("an answer has a trace");
            format!(
                "the rule's answer '{value}' is wrong: a systematic bug at rule '{}' — {} ({}) — the same wrong answer in all {} runs",
                step.rule, step.detail, step.source, rule.runs
            )
        }
        (RuleOutcome::Answer { .. }, Some(true)) => "the rule was right".to_string(),
        (RuleOutcome::Answer { .. }, None) => "the rule answered (truth unknown)".to_string(),
    };
    let misses = |answered: bool| {
        model
            .temperatures
            .iter()
            .flat_map(|t| t.answers.iter().map(move |a| (t, a)))
            .filter(move |(_, a)| a.correct == Some(false) && a.answer.is_some() == answered)
            .max_by(|a, b| {
                a.1.count
                    .cmp(&b.1.count)
                    .then(a.1.probability.total_cmp(&b.1.probability))
            })
    };
    let model_part = match (truth, misses(true), misses(false)) {
        (None, _, _) => "the model's answers cannot be scored without a known truth".to_string(),
        (Some(_), None, None) => format!("the model was right in all {total} samples"),
        (Some(truth), Some((t, a)), _) => format!(
            "the model's errors are fluent wrong answers (hallucination): '{}' ({} of {} samples at {}), stated as \"{}\", its tokens given probability {:.3} (truth: {})",
            a.answer.as_deref().unwrap_or_default(),
            a.count,
            t.samples,
            temperature_label(t.temperature),
            shorten(&a.example, 60),
            a.probability,
            truth.answer
        ),
        (Some(truth), None, Some((t, a))) => format!(
            "the model never gave a wrong answer, but in {} of {} samples at {} it wandered off without one, e.g. \"{}\" (truth: {})",
            a.count,
            t.samples,
            temperature_label(t.temperature),
            shorten(&a.example, 60),
            truth.answer
        ),
    };
    Verdicts {
        reproducibility: Verdict {
            row: "Output (输出结果): reproducible vs may differ run to run",
            text: reproducibility,
        },
        generalization: Verdict {
            row: "Extensibility (扩展性): edit code vs generalize to unseen cases",
            text: generalization,
        },
        error_type: Verdict {
            row: "Error types (错误类型): logic errors and bugs vs hallucination",
            text: format!("{rule_part}; {model_part}."),
        },
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_parse_lists_and_inclusive_ranges() {
        let grid = SampleGrid::parse("0, 0.7,1.2", "1..5", 32).unwrap();
        assert_eq!(grid.temperatures, vec![0.0, 0.7, 1.2]);
        assert_eq!(grid.seeds, vec![1, 2, 3, 4, 5]);
        assert_eq!(grid.len(), 15);
        assert_eq!(SampleGrid::parse("1", "3,9", 8).unwrap().seeds, vec![3, 9]);
    }

    #[test]
    fn bad_grids_are_rejected_with_a_reason() {
        let message = |t: &str, s: &str| SampleGrid::parse(t, s, 32).unwrap_err().to_string();
        assert!(message("0,hot", "1").contains("'hot' is not a number"));
        assert!(message("-1", "1").contains("temperature must be"));
        assert!(message("", "1").contains("no temperatures"));
        assert!(message("0", "").contains("no seeds"));
        assert!(message("0", "5..1").contains("ascending"));
        assert!(message("0,,1", "1").contains("has an empty item"));
        assert!(message("0,", "1").contains("has an empty item"));
        assert!(message("0", "1,,2").contains("has an empty item"));
        // The bound and its message agree: 10,000 seeds pass, 10,001 do not.
        assert_eq!(
            SampleGrid::parse("0", "1..10000", 8).unwrap().seeds.len(),
            10_000
        );
        assert!(message("0", "1..10001").contains("more than 10000 seeds"));
        assert!(message("0", "1..9000,20000..21000").contains("more than 10000 seeds"));
        assert!(message("0", "0..18446744073709551615").contains("more than 10000 seeds"));
        let many = vec!["0.5"; 101].join(",");
        assert!(message(&many, "1").contains("at most 100"));
        assert!(message("0", "x").contains("'x' is not a whole number"));
    }
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
    pub rule_output: String,
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
    pub temperature: f64,
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
    pub temperature: f64,
    /// Samples on inputs with a known truth.
    pub scored: usize,
    /// Right answers among them.
    pub correct: usize,
    /// Mean number of distinct answers per input.
    pub mean_distinct_answers: f64,
}

impl SummaryReport {
    /// Sums up `comparisons` (all sampled over `grid`).
    pub fn new(model: String, grid: SampleGrid, comparisons: Vec<CompareReport>) -> Self {
        let rows: Vec<SummaryRow> = comparisons
            .iter()
            .map(|c| SummaryRow {
                input: c.input.clone(),
                rule: c.rule.name.to_string(),
                rule_output: c.rule.outcome.display(),
                rule_correct: c.rule.correct,
                truth: c.truth.as_ref().map(|t| t.answer.clone()),
                temperatures: c
                    .model
                    .temperatures
                    .iter()
                    .map(|t| SummaryCell {
                        temperature: t.temperature,
                        samples: t.samples,
                        correct: t.correct,
                        distinct_answers: t.answers.len(),
                    })
                    .collect(),
            })
            .collect();
        let model_totals = grid
            .temperatures
            .iter()
            .map(|&temperature| {
                let cells: Vec<&SummaryCell> = rows
                    .iter()
                    .flat_map(|r| {
                        r.temperatures
                            .iter()
                            .filter(|c| c.temperature == temperature)
                    })
                    .collect();
                let scored_cells = cells.iter().filter(|c| c.correct.is_some());
                TemperatureTotal {
                    temperature,
                    scored: scored_cells.clone().map(|c| c.samples).sum(),
                    correct: scored_cells.map(|c| c.correct.unwrap_or(0)).sum(),
                    mean_distinct_answers: cells
                        .iter()
                        .map(|c| c.distinct_answers as f64)
                        .sum::<f64>()
                        / cells.len().max(1) as f64,
                }
            })
            .collect();
        Self {
            model,
            rule_answered: comparisons
                .iter()
                .filter(|c| c.rule.outcome.answer().is_some())
                .count(),
            rule_scored: rows.iter().filter(|r| r.rule_correct.is_some()).count(),
            rule_correct: rows.iter().filter(|r| r.rule_correct == Some(true)).count(),
            grid,
            rows,
            model_totals,
            comparisons,
        }
    }
}
