//! `detprob emergence metric`: one family's problems at every length k, asked
//! of a model, scored by a strict metric (exact match) beside smooth ones
//! (per-digit accuracy, edit distance, the right answer's probability,
//! multiple choice) — the note's first two causes of "emergence".
//!
//! How a model is run: every prompt is tokenized, the prefix all problems
//! share (instruction and examples) is prefilled once, and each problem
//! decodes from a fork of it. For each problem one walk over a token trie
//! scores the right answer and its near-miss distractors (teacher forcing)
//! and decodes the greedy answer; nodes that several of them share (the
//! greedy answer usually begins like the right one) are run once, and every
//! problem's pending nodes go through the model as one batch per step.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;
use std::time::Instant;

use rayon::prelude::*;
use serde::Deserialize;

use super::problems::{self, Family, Problem};
use crate::lm::{self, LanguageModel, LoadedModel};
use crate::prompt::PromptFormat;
use crate::report::emergence::{
    MetricPoint, ModelMetrics, ProblemResult, ScoredPoint, ScoredProblem,
};
use crate::sampler::ModelDistribution;
use crate::stats;
use crate::tasks::metrics;

/// What to ask.
#[derive(Debug, Clone)]
pub struct MetricPlan {
    /// The task family.
    pub family: Family,
    /// The lengths k.
    pub lengths: Vec<usize>,
    /// Problems per length, per seed.
    pub problems: usize,
    /// Seeds of the problem generator: each draws its own problems, and
    /// every length's results are pooled over them.
    pub seeds: Vec<u64>,
}

/// How a family is asked (`prompts.toml`).
#[derive(Debug, Deserialize)]
struct Template {
    instruction: String,
    separator: String,
    examples: Vec<(String, String)>,
}

fn templates() -> &'static HashMap<String, Template> {
    static TEMPLATES: OnceLock<HashMap<String, Template>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        toml::from_str(include_str!("prompts.toml"))
            .expect("prompts.toml is valid (a test parses it)")
    })
}

/// The questions of `family`'s worked examples: a problem equal to one of
/// them has its answer in the prompt, so none is asked.
pub fn example_questions(family: Family) -> Vec<&'static str> {
    templates()[family.name()]
        .examples
        .iter()
        .map(|(question, _)| question.as_str())
        .collect()
}

/// A problem as the model is asked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// The whole prompt's text.
    pub prompt: String,
    /// Text between the prompt and the answer (a space after a few-shot
    /// line's separator; nothing in a chat's reply turn).
    pub answer_prefix: &'static str,
    /// `chat` or `few_shot`.
    pub style: &'static str,
}

impl MetricPlan {
    /// A plan from flags, each checked: lengths, problem count and seeds
    /// (sorted, each once).
    pub fn checked(
        family: Family,
        lengths: &[usize],
        problems: usize,
        seeds: &[u64],
    ) -> Result<Self, crate::error::InputError> {
        problems::check_lengths(lengths)?;
        problems::check_problem_count(problems)?;
        Ok(Self {
            family,
            lengths: lengths.to_vec(),
            problems,
            seeds: problems::check_seeds(seeds)?,
        })
    }
}

/// How `question` of `family` is put to a model with `format`: examples as
/// earlier chat turns for an instruct model, as plain lines for a base one.
pub fn ask(family: Family, format: &PromptFormat, question: &str) -> Asked {
    let template = &templates()[family.name()];
    match format.render_dialogue(&example_turns(family), question) {
        Some(prompt) => Asked {
            prompt,
            answer_prefix: "",
            style: "chat",
        },
        None => {
            let mut prompt = format!("{}\n\n", template.instruction);
            for (q, a) in &template.examples {
                prompt.push_str(&format!("{q}{} {a}\n", template.separator));
            }
            prompt.push_str(&format!("{question}{}", template.separator));
            Asked {
                prompt,
                answer_prefix: " ",
                style: "few_shot",
            }
        }
    }
}

/// `family`'s worked examples as earlier chat turns, the instruction
/// before the first question.
fn example_turns(family: Family) -> Vec<(String, String)> {
    let template = &templates()[family.name()];
    template
        .examples
        .iter()
        .enumerate()
        .map(|(i, (q, a))| {
            let q = if i == 0 {
                format!("{}\n\n{q}", template.instruction)
            } else {
                q.clone()
            };
            (q, a.clone())
        })
        .collect()
}

/// `problem` as asked of `model` on a server, greedy: as a chat whose
/// earlier turns are the worked examples (the server applies its chat
/// template), or with `raw` as few-shot lines for `/v1/completions` (a
/// base model). The answer may run to its symbols and two more tokens, as
/// a local model's greedy answer may (for tokenizers that give a digit a
/// token).
fn remote_request(
    family: Family,
    problem: &Problem,
    model: &str,
    raw: bool,
) -> crate::remote::RemoteRequest {
    let symbols = problem.answer.chars().count();
    let (prompt, history, extra) = if raw {
        let asked = ask(family, &PromptFormat::Completion, &problem.question);
        (asked.prompt, Vec::new(), 3)
    } else {
        (problem.question.clone(), example_turns(family), 2)
    };
    crate::remote::RemoteRequest {
        history,
        max_tokens: symbols + extra,
        ..crate::remote::RemoteRequest::next_token(model, &prompt, !raw, 0)
    }
}

/// Runs `plan` on `model` at `endpoint` (`parallel` requests at once):
/// exact match and per-place accuracy read from each greedy answer's text.
/// The measures that need the model's tokens and probabilities are not
/// taken (a server reports text). `progress(done, total)` is called after
/// each (seed, length).
pub fn measure_remote(
    endpoint: &crate::remote::Endpoint,
    model: &str,
    raw: bool,
    parallel: usize,
    plan: &MetricPlan,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<ModelMetrics> {
    let started = Instant::now();
    let family = plan.family;
    let total = plan.seeds.len() * plan.lengths.len();
    let mut per_seed: Vec<Vec<MetricPoint>> = Vec::new();
    for (run, &seed) in plan.seeds.iter().enumerate() {
        let mut points = Vec::new();
        for (i, &k) in plan.lengths.iter().enumerate() {
            let set =
                problems::generate(family, k, plan.problems, seed, &example_questions(family));
            let requests: Vec<_> = set
                .iter()
                .map(|p| remote_request(family, p, model, raw))
                .collect();
            let answers = endpoint.complete_all(&requests, parallel, &|| {});
            let results = set
                .iter()
                .zip(answers)
                .map(|(problem, answer)| {
                    let answer = answer.map_err(|e| {
                        e.failure(format!(
                            "{}: the problem {} failed: {e}",
                            endpoint.base, problem.question
                        ))
                    })?;
                    let text = answer.text.trim().lines().next().unwrap_or("").trim();
                    Ok(read_result(family, problem, text, None))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            points.push(point_from_results(k, results));
            progress(run * plan.lengths.len() + i + 1, total);
        }
        per_seed.push(points);
    }
    let points = one_point_per_length(per_seed);
    Ok(ModelMetrics {
        model: model.to_string(),
        parameters: None,
        architecture: String::new(),
        tokenizer: String::new(),
        endpoint: Some(endpoint.base.clone()),
        prompt_style: if raw { "few_shot" } else { "chat" }.to_string(),
        points,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What the model did on one problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Tokens of the right answer (index 0 of the options).
    pub answer_tokens: Vec<u32>,
    /// Per option (right answer first, then the distractors), each token's
    /// log-probability with the option's earlier tokens fed in.
    pub option_logprobs: Vec<Vec<f64>>,
    /// Per token of the right answer, whether it holds one of the answer's
    /// symbols (a digit or letter) rather than only format (a space).
    pub answer_symbol_tokens: Vec<bool>,
    /// Tokens of the greedy answer (up to its stop).
    pub greedy_tokens: Vec<u32>,
    /// The greedy answer's first line.
    pub greedy_text: String,
}

/// Runs `plan` on `loaded`. `progress(done, total)` is called after each
/// (seed, length).
pub fn measure(
    loaded: &mut LoadedModel,
    plan: &MetricPlan,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<ModelMetrics> {
    measure_watched(loaded, plan, progress, &|_| {})
}

/// [`measure`], handing `so_far` the model's metrics after each length
/// when the plan has one seed (with several, a length's point is their
/// mean, known only at the end).
pub fn measure_watched(
    loaded: &mut LoadedModel,
    plan: &MetricPlan,
    progress: &dyn Fn(usize, usize),
    so_far: &dyn Fn(&ModelMetrics),
) -> anyhow::Result<ModelMetrics> {
    let started = Instant::now();
    let family = plan.family;
    let runs: Vec<Vec<Vec<Problem>>> = plan
        .seeds
        .iter()
        .map(|&seed| {
            plan.lengths
                .iter()
                .map(|&k| {
                    problems::generate(family, k, plan.problems, seed, &example_questions(family))
                })
                .collect()
        })
        .collect();
    let style = ask(family, &loaded.prompt_format, "").style;
    let prompts: Vec<Vec<Vec<Vec<u32>>>> = runs
        .iter()
        .map(|sets| {
            sets.iter()
                .map(|set| {
                    set.iter()
                        .map(|p| {
                            let asked = ask(family, &loaded.prompt_format, &p.question);
                            loaded.tokenizer.encode_prompt(&asked.prompt)
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    // The prefix every prompt shares, prefilled once (at least one token of
    // each prompt is left to feed, so each has its own last logits).
    let all: Vec<&Vec<u32>> = prompts.iter().flatten().flatten().collect();
    let shortest = all.iter().map(|p| p.len()).min().unwrap_or(1);
    let shared = (0..shortest.saturating_sub(1))
        .take_while(|&i| all.iter().all(|p| p[i] == all[0][i]))
        .count();
    let mut base = loaded.model.fork();
    if shared > 0 {
        crate::generation::prefill(loaded, &all[0][..shared])?;
        base = loaded.model.fork();
    }
    let total = runs.len() * plan.lengths.len();
    let mut per_seed: Vec<Vec<MetricPoint>> = Vec::new();
    for (run, (sets, ids)) in runs.iter().zip(&prompts).enumerate() {
        let mut points = Vec::new();
        for (i, (set, ids)) in sets.iter().zip(ids).enumerate() {
            let observed = observe(loaded, base.as_ref(), shared, family, set, ids)?;
            points.push(summarize(family, plan.lengths[i], set, &observed));
            progress(run * plan.lengths.len() + i + 1, total);
            if runs.len() == 1 && points.len() < plan.lengths.len() {
                so_far(&metrics(loaded, style, points.clone(), started));
            }
        }
        per_seed.push(points);
    }
    let points = one_point_per_length(per_seed);
    Ok(metrics(loaded, style, points, started))
}

fn metrics(
    loaded: &LoadedModel,
    style: &str,
    points: Vec<MetricPoint>,
    started: Instant,
) -> ModelMetrics {
    ModelMetrics {
        model: loaded.info.label(),
        parameters: Some(loaded.info.parameters),
        architecture: loaded.info.architecture.gguf_name().to_string(),
        tokenizer: loaded.info.tokenizer_fingerprint.clone(),
        endpoint: None,
        prompt_style: style.to_string(),
        points,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Asks one length's problems: their prompts' tails fed in lockstep from the
/// shared state, then one batched walk per step over every problem's trie.
pub fn observe(
    loaded: &LoadedModel,
    base: &dyn LanguageModel,
    shared: usize,
    family: Family,
    set: &[Problem],
    prompt_ids: &[Vec<u32>],
) -> anyhow::Result<Vec<Observed>> {
    let tokenizer = &loaded.tokenizer;
    let mut walks: Vec<Walk> = set
        .iter()
        .zip(prompt_ids)
        .map(|(problem, ids)| {
            let asked = ask(family, &loaded.prompt_format, &problem.question);
            let options: Vec<Vec<u32>> = std::iter::once(&problem.answer)
                .chain(&problem.distractors)
                .map(|option| {
                    let whole = tokenizer
                        .encode_prompt(&format!("{}{}{option}", asked.prompt, asked.answer_prefix));
                    match whole.strip_prefix(ids.as_slice()) {
                        Some(tail) if !tail.is_empty() => tail.to_vec(),
                        _ => tokenizer.encode(&format!("{}{option}", asked.answer_prefix), false),
                    }
                })
                .collect();
            Walk::new(options, ids.len())
        })
        .collect();

    // Logits buffers, reused from step to step: a vocabulary's logits are
    // up to a megabyte per row, and fresh ones cost page faults each step.
    let mut buffers: Vec<Vec<f32>> = Vec::new();

    // The prompts' tails, one token per problem per step.
    let mut states: Vec<Box<dyn LanguageModel>> = walks.iter().map(|_| base.fork()).collect();
    let longest = prompt_ids.iter().map(|p| p.len()).max().unwrap_or(0);
    for position in shared..longest {
        let rows: Vec<usize> = (0..walks.len())
            .filter(|&i| position < prompt_ids[i].len())
            .collect();
        let tokens: Vec<u32> = rows.iter().map(|&i| prompt_ids[i][position]).collect();
        let positions = vec![position; rows.len()];
        // Only a prompt's last token needs its logits (the trie's root).
        let ends = |i: usize| position + 1 == prompt_ids[i].len();
        let ending: Vec<usize> = rows.iter().copied().filter(|&i| ends(i)).collect();
        if buffers.len() < ending.len() {
            buffers.resize_with(ending.len(), Vec::new);
        }
        let mut free = buffers.iter_mut();
        let mut batch: Vec<&mut Box<dyn LanguageModel>> = Vec::with_capacity(rows.len());
        let mut outputs: Vec<Option<&mut Vec<f32>>> = Vec::with_capacity(rows.len());
        for (i, state) in states.iter_mut().enumerate() {
            if position < prompt_ids[i].len() {
                batch.push(state);
                outputs.push(if ends(i) { free.next() } else { None });
            }
        }
        lm::forward_batch_feeding(&mut batch, &tokens, &positions, &mut outputs)?;
        for (&i, distribution) in ending.iter().zip(distributions(&buffers[..ending.len()])) {
            walks[i].visit(&[], &distribution);
        }
    }
    for (walk, state) in walks.iter_mut().zip(states) {
        walk.states.insert(Vec::new(), state);
    }

    // The tries, one depth per step.
    for depth in 0.. {
        let mut requests: Vec<(usize, Vec<u32>)> = Vec::new();
        for (i, walk) in walks.iter_mut().enumerate() {
            walk.advance_greedy(depth, tokenizer);
            requests.extend(walk.wanted(depth + 1).into_iter().map(|path| (i, path)));
        }
        if requests.is_empty() {
            break;
        }
        // Each request forks its parent's state; the last request of a
        // parent takes the state itself.
        let mut forks: Vec<Box<dyn LanguageModel>> = Vec::with_capacity(requests.len());
        for (n, (i, path)) in requests.iter().enumerate() {
            let parent = &path[..depth];
            let last_use = !requests[n + 1..]
                .iter()
                .any(|(j, p)| j == i && &p[..depth] == parent);
            let walk = &mut walks[*i];
            forks.push(if last_use {
                walk.states.remove(parent).expect("the parent was run")
            } else {
                walk.states[parent].fork()
            });
        }
        let tokens: Vec<u32> = requests.iter().map(|(_, p)| p[depth]).collect();
        let positions: Vec<usize> = requests
            .iter()
            .map(|(i, _)| walks[*i].answer_start + depth)
            .collect();
        let mut batch: Vec<&mut Box<dyn LanguageModel>> = forks.iter_mut().collect();
        if buffers.len() < tokens.len() {
            buffers.resize_with(tokens.len(), Vec::new);
        }
        let mut targets: Vec<&mut Vec<f32>> = buffers.iter_mut().take(tokens.len()).collect();
        lm::forward_batch(&mut batch, &tokens, &positions, &mut targets)?;
        for walk in walks.iter_mut() {
            walk.states.clear();
        }
        let seen = distributions(&buffers[..tokens.len()]);
        for (((i, path), distribution), state) in requests.into_iter().zip(seen).zip(forks) {
            walks[i].visit(&path, &distribution);
            walks[i].states.insert(path, state);
        }
    }
    Ok(walks
        .into_iter()
        .map(|w| w.finish(tokenizer, family))
        .collect())
}

/// The distribution of each row of logits, made in parallel: a pass over
/// the vocabulary per node of every trie (262,144 logits for Gemma 3) had
/// run on one thread while the other waited.
fn distributions(rows: &[Vec<f32>]) -> Vec<ModelDistribution<'_>> {
    rows.par_iter()
        .map(|logits| ModelDistribution::new(logits))
        .collect()
}

/// One problem's walk over the trie of its options and its greedy answer.
struct Walk {
    options: Vec<Vec<u32>>,
    option_logprobs: Vec<Vec<f64>>,
    /// Position of the answer's first token.
    answer_start: usize,
    greedy: Vec<u32>,
    greedy_tail: String,
    greedy_open: bool,
    greedy_limit: usize,
    /// The most likely next token after each path run so far.
    best: HashMap<Vec<u32>, u32>,
    /// Model states after the paths of the current depth.
    states: HashMap<Vec<u32>, Box<dyn LanguageModel>>,
}

impl Walk {
    fn new(options: Vec<Vec<u32>>, answer_start: usize) -> Self {
        let greedy_limit = options[0].len() + 2;
        Self {
            option_logprobs: vec![Vec::new(); options.len()],
            options,
            answer_start,
            greedy: Vec::new(),
            greedy_tail: String::new(),
            greedy_open: true,
            greedy_limit,
            best: HashMap::new(),
            states: HashMap::new(),
        }
    }

    /// Records what the logits after `path` say about each option's next
    /// token and about the greedy choice.
    fn visit(&mut self, path: &[u32], distribution: &ModelDistribution) {
        let depth = path.len();
        for (option, logprobs) in self.options.iter().zip(&mut self.option_logprobs) {
            if option.len() > depth && option[..depth] == *path {
                logprobs.push(distribution.logprob(option[depth]));
            }
        }
        self.best.insert(path.to_vec(), distribution.argmax);
    }

    /// Extends the greedy answer (of length `depth`) by its most likely
    /// token, unless that ends the answer.
    fn advance_greedy(&mut self, depth: usize, tokenizer: &crate::tokenizer::TextTokenizer) {
        if !self.greedy_open || self.greedy.len() != depth {
            return;
        }
        let token = self.best[&self.greedy];
        if tokenizer.stop_ids.contains(&token) || tokenizer.is_control(token) {
            self.greedy_open = false;
            return;
        }
        let bytes = tokenizer.bytes_of(token);
        if let Some(newline) = bytes.iter().position(|&b| b == b'\n') {
            let before = &bytes[..newline];
            let seen_text = !tokenizer.decode(&self.greedy).trim().is_empty();
            if seen_text || before.iter().any(|b| !b.is_ascii_whitespace()) {
                self.greedy_tail = String::from_utf8_lossy(before).into_owned();
                self.greedy_open = false;
                return;
            }
        }
        self.greedy.push(token);
        if self.greedy.len() >= self.greedy_limit {
            self.greedy_open = false;
        }
    }

    /// The paths of length `depth` still to run: prefixes of options that
    /// go on past them, and the greedy answer while it is open.
    fn wanted(&self, depth: usize) -> Vec<Vec<u32>> {
        let mut wanted: BTreeSet<Vec<u32>> = self
            .options
            .iter()
            .filter(|o| o.len() > depth)
            .map(|o| o[..depth].to_vec())
            .collect();
        if self.greedy_open && self.greedy.len() == depth {
            wanted.insert(self.greedy.clone());
        }
        wanted.into_iter().collect()
    }

    fn finish(self, tokenizer: &crate::tokenizer::TextTokenizer, family: Family) -> Observed {
        let answer_symbol_tokens = self.options[0]
            .iter()
            .map(|&t| {
                !family
                    .symbols(&String::from_utf8_lossy(tokenizer.bytes_of(t)))
                    .is_empty()
            })
            .collect();
        let text = format!("{}{}", tokenizer.decode(&self.greedy), self.greedy_tail);
        let greedy_text = text.trim().lines().next().unwrap_or("").trim().to_string();
        Observed {
            answer_tokens: self.options[0].clone(),
            answer_symbol_tokens,
            option_logprobs: self.option_logprobs,
            greedy_tokens: self.greedy,
            greedy_text,
        }
    }
}

/// The metrics of one length, from what the model did on each problem.
pub fn summarize(family: Family, k: usize, set: &[Problem], observed: &[Observed]) -> MetricPoint {
    let results: Vec<ProblemResult> = set
        .iter()
        .zip(observed)
        .map(|(problem, seen)| {
            let totals: Vec<f64> = seen
                .option_logprobs
                .iter()
                .map(|l| l.iter().sum())
                .collect();
            let answer_logprobs: Vec<f64> = seen.option_logprobs[0]
                .iter()
                .zip(&seen.answer_symbol_tokens)
                .filter(|(_, &symbol)| symbol)
                .map(|(l, _)| *l)
                .collect();
            read_result(
                family,
                problem,
                &seen.greedy_text,
                Some(ScoredProblem {
                    edit_distance: metrics::edit_distance(&seen.greedy_tokens, &seen.answer_tokens),
                    answer_logprob: answer_logprobs.iter().sum(),
                    answer_tokens: answer_logprobs.len(),
                    choice_rank: metrics::rank_of_first(&totals),
                    choice_probabilities: metrics::normalized(&totals),
                }),
            )
        })
        .collect();
    point_from_results(k, results)
}

/// One problem's result from the greedy answer's first line `greedy_text`
/// (and what the model's tokens and probabilities gave, where known).
fn read_result(
    family: Family,
    problem: &Problem,
    greedy_text: &str,
    scored: Option<ScoredProblem>,
) -> ProblemResult {
    let alignment = family.alignment();
    let truth = family.symbols(&problem.answer);
    let answer = family.read_answer(greedy_text);
    // Places indexed units-first for numbers, first-letter-first for letters.
    let mut places = metrics::per_place(&answer, &truth, alignment);
    if alignment == metrics::Alignment::Right {
        places.reverse();
    }
    // Symbols written beyond the right answer's length (a model that
    // does not stop, a stray leading digit) are places it got wrong:
    // else "y e y" for "y" would score every letter right.
    places.extend(std::iter::repeat_n(
        false,
        answer.len().saturating_sub(truth.len()),
    ));
    ProblemResult {
        question: problem.question.clone(),
        answer: problem.answer.clone(),
        greedy: answer.iter().collect(),
        greedy_text: greedy_text.to_string(),
        exact: metrics::exact_match(&answer, &truth),
        places,
        scored,
    }
}

/// Exact match predicted from per-place accuracies alone, as if each place
/// were an independent sub-task: for each problem the product of the
/// accuracies of its places, averaged. The one predictor detprob uses
/// (`metric`, `ladder`, `subtasks`, the tour).
pub fn predict_exact(per_place_accuracy: &[f64], results: &[ProblemResult]) -> f64 {
    metrics::mean(results.iter().map(|r| {
        (0..r.places.len())
            .map(|place| per_place_accuracy.get(place).copied().unwrap_or(0.0))
            .product::<f64>()
    }))
}

/// A length's metrics and their intervals from its problems' results alone.
pub fn point_from_results(k: usize, results: Vec<ProblemResult>) -> MetricPoint {
    let share = |yes: &dyn Fn(&ProblemResult) -> bool| {
        metrics::mean(results.iter().map(|r| f64::from(u8::from(yes(r)))))
    };
    let place_count = results.iter().map(|r| r.places.len()).max().unwrap_or(0);
    let per_place_accuracy: Vec<f64> = (0..place_count)
        .map(|place| {
            metrics::mean(
                results
                    .iter()
                    .filter_map(|r| r.places.get(place).map(|&b| f64::from(u8::from(b)))),
            )
        })
        .collect();
    let place_pairs: Vec<(f64, f64)> = results
        .iter()
        .map(|r| {
            let right = r.places.iter().filter(|&&b| b).count();
            (right as f64, r.places.len() as f64)
        })
        .collect();
    let (right_places, all_places) = place_pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    MetricPoint {
        k,
        problems: results.len(),
        answer_symbols: metrics::mean(
            results
                .iter()
                .map(|r| r.answer.chars().filter(char::is_ascii_alphanumeric).count() as f64),
        ),
        exact_match: share(&|r| r.exact),
        exact_match_interval: stats::wilson_of(results.iter().map(|r| r.exact)),
        per_digit_accuracy: if all_places > 0.0 {
            right_places / all_places
        } else {
            0.0
        },
        per_digit_interval: stats::bootstrap_ratio(&place_pairs),
        predicted_exact_from_digits: predict_exact(&per_place_accuracy, &results),
        per_place_accuracy,
        scored: scored_point(&results),
        results,
    }
}

/// The token and probability measures of a length, when every problem has
/// them (a model on a server has none).
fn scored_point(results: &[ProblemResult]) -> Option<ScoredPoint> {
    let scored: Vec<&ScoredProblem> = results
        .iter()
        .map(|r| r.scored.as_ref())
        .collect::<Option<_>>()?;
    let values =
        |f: &dyn Fn(&ScoredProblem) -> f64| -> Vec<f64> { scored.iter().map(|s| f(s)).collect() };
    let probability = values(&|r| {
        if r.answer_tokens == 0 {
            1.0
        } else {
            (r.answer_logprob / r.answer_tokens as f64).exp()
        }
    });
    let edits = values(&|r| r.edit_distance as f64);
    let briers = values(&|r| metrics::brier(&r.choice_probabilities, 0));
    let first = values(&|r| f64::from(u8::from(r.choice_rank == 1)));
    Some(ScoredPoint {
        token_edit_distance: metrics::mean(edits.iter().copied()),
        token_edit_distance_interval: stats::bootstrap_mean(&edits),
        answer_probability: metrics::mean(probability.iter().copied()),
        answer_probability_interval: stats::bootstrap_mean(&probability),
        answer_probability_whole: metrics::mean(scored.iter().map(|r| r.answer_logprob.exp())),
        multiple_choice_accuracy: metrics::mean(first.iter().copied()),
        multiple_choice_interval: stats::wilson_of(scored.iter().map(|r| r.choice_rank == 1)),
        choice_brier: metrics::mean(briers.iter().copied()),
        choice_brier_interval: stats::bootstrap_mean(&briers),
    })
}

/// The points of one seed's run as they are, or several seeds' pooled.
fn one_point_per_length(mut per_seed: Vec<Vec<MetricPoint>>) -> Vec<MetricPoint> {
    if per_seed.len() == 1 {
        per_seed.remove(0)
    } else {
        pool(&per_seed)
    }
}

/// One point per length pooled from several runs (other problem seeds):
/// each length's results together, a question asked twice counted once,
/// in question order, so the pooled point is the same in any order of runs.
pub fn pool(runs: &[Vec<MetricPoint>]) -> Vec<MetricPoint> {
    let mut lengths: Vec<usize> = runs.iter().flatten().map(|p| p.k).collect();
    lengths.sort_unstable();
    lengths.dedup();
    lengths
        .into_iter()
        .map(|k| {
            let mut results: Vec<ProblemResult> = runs
                .iter()
                .flatten()
                .filter(|p| p.k == k)
                .flat_map(|p| p.results.iter().cloned())
                .collect();
            results.sort_by(|a, b| a.question.cmp(&b.question));
            results.dedup_by(|a, b| a.question == b.question);
            point_from_results(k, results)
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::lm::fake;

    #[test]
    fn every_metric_is_exact_on_a_scripted_model() {
        let set = problems::generate(Family::Addition, 2, 2, 5, &[]);
        let (right, wrong) = (&set[0], &set[1]);
        // Problem 1: always right. Problem 2: its first distractor 3 times
        // in 4, the right answer once.
        let lines = [
            format!("{} = {}", right.question, right.answer),
            format!("{} = {}", wrong.question, wrong.distractors[0]),
            format!("{} = {}", wrong.question, wrong.answer),
        ];
        let mut loaded = fake::scripted_lines(&[
            (lines[0].as_str(), 1.0),
            (lines[1].as_str(), 0.75),
            (lines[2].as_str(), 0.25),
        ]);
        let plan = MetricPlan {
            family: Family::Addition,
            lengths: vec![2],
            problems: 2,
            seeds: vec![5],
        };
        let report = measure(&mut loaded, &plan, &|_, _| {}).unwrap();
        assert_eq!(report.prompt_style, "few_shot");
        let point = &report.points[0];
        let results = &point.results;
        assert_eq!(results[0].greedy, right.answer);
        assert_eq!(results[1].greedy, wrong.distractors[0]);
        assert_eq!((results[0].exact, results[1].exact), (true, false));
        assert_eq!(point.exact_match, 0.5);
        let scored = point.scored.as_ref().expect("a local model is scored");
        let (s0, s1) = (
            results[0].scored.as_ref().unwrap(),
            results[1].scored.as_ref().unwrap(),
        );
        // The right answer won the choice once, lost it to the distractor once.
        assert_eq!(scored.multiple_choice_accuracy, 0.5);
        assert_eq!((s0.choice_rank, s1.choice_rank), (1, 2));
        // A near miss differs in one digit: all places but one are right.
        let (n1, n2) = (right.answer.len(), wrong.answer.len());
        let expected = (n1 + n2 - 1) as f64 / (n1 + n2) as f64;
        assert!((point.per_digit_accuracy - expected).abs() < 1e-12);
        // Teacher forcing: every token of the right answers has probability
        // 1, except problem 2's diverging digit (1/4). Tokens are " " and
        // one per digit; the space is format, not answer, and is not counted.
        assert_eq!(s1.answer_tokens, n2);
        let tokens2 = n2 as f64;
        let geometric = (1.0 + 0.25f64.powf(1.0 / tokens2)) / 2.0;
        assert!((scored.answer_probability - geometric).abs() < 1e-6);
        assert!((scored.answer_probability_whole - 0.625).abs() < 1e-6);
        assert!((s1.answer_logprob - 0.25f64.ln()).abs() < 1e-6);
        // One substituted digit token: edit distance 1 for problem 2.
        assert_eq!(scored.token_edit_distance, 0.5);
        // The options' probabilities: all on the right answer for problem 1;
        // 1/4 right, 3/4 on the first distractor for problem 2, whose Brier
        // score is 0.75² + 0.75².
        let p2 = &s1.choice_probabilities;
        assert!(
            (p2[0] - 0.25).abs() < 1e-6 && (p2[1] - 0.75).abs() < 1e-6,
            "{p2:?}"
        );
        assert!((scored.choice_brier - 1.125 / 2.0).abs() < 1e-6);
        // Intervals: Wilson for the shares, a bootstrap for the means.
        assert_eq!(point.exact_match_interval, stats::wilson(1, 2));
        assert_eq!(scored.multiple_choice_interval, stats::wilson(1, 2));
        let edits = scored.token_edit_distance_interval;
        assert!(edits.low == 0.0 && edits.high == 1.0, "{edits:?}");
        assert!(point.predicted_exact_from_digits > 0.0 && point.predicted_exact_from_digits < 1.0);
    }

    /// A problem's result with `right` of its `places` places right.
    pub(crate) fn result(question: &str, right: usize, places: usize) -> ProblemResult {
        ProblemResult {
            question: question.to_string(),
            answer: "0".repeat(places),
            greedy: String::new(),
            greedy_text: String::new(),
            exact: right == places,
            places: (0..places).map(|i| i < right).collect(),
            scored: Some(ScoredProblem {
                edit_distance: places - right,
                answer_logprob: -((places - right) as f64),
                answer_tokens: places,
                choice_rank: if right == places { 1 } else { 2 },
                choice_probabilities: vec![0.5, 0.5],
            }),
        }
    }

    #[test]
    fn runs_with_other_seeds_pool_into_the_same_point_in_any_order() {
        let run = |names: &[(&str, usize)]| {
            vec![point_from_results(
                2,
                names
                    .iter()
                    .map(|&(q, right)| result(q, right, 2))
                    .collect(),
            )]
        };
        let seed1 = run(&[("a", 2), ("b", 0), ("c", 1)]);
        let seed2 = run(&[("d", 2), ("b", 0), ("e", 2), ("f", 1)]);
        let one_way = pool(&[seed1.clone(), seed2.clone()]);
        let other_way = pool(&[seed2, seed1]);
        let (a, b) = (&one_way[0], &other_way[0]);
        assert_eq!(a.problems, 6, "'b' was drawn by both seeds and counts once");
        assert_eq!(a.exact_match, 0.5);
        assert_eq!(a.exact_match_interval, stats::wilson(3, 6));
        assert_eq!(a.per_digit_interval, b.per_digit_interval);
        for (x, y) in [
            (a.probability(), b.probability()),
            (a.edit_distance(), b.edit_distance()),
            (a.brier(), b.brier()),
        ] {
            assert_eq!(x.unwrap().1, y.unwrap().1);
        }
        assert_eq!(a.per_digit_accuracy, 8.0 / 12.0);
    }

    #[test]
    fn the_one_predictor_multiplies_each_problems_place_accuracies() {
        // Units right in 3 of 4 problems, tens in 1 of 4: independent
        // places would give 3/4 × 1/4 for every two-place problem.
        let results = vec![
            result("a", 2, 2),
            result("b", 1, 2),
            result("c", 1, 2),
            result("d", 0, 2),
        ];
        let point = point_from_results(2, results);
        assert_eq!(point.per_place_accuracy, [0.75, 0.25]);
        assert!((point.predicted_exact_from_digits - 0.1875).abs() < 1e-12);
        assert_eq!(point.exact_match, 0.25);
    }

    #[test]
    fn the_prompt_templates_parse_and_name_their_style() {
        for family in [Family::Addition, Family::Multiplication, Family::Reverse] {
            let asked = ask(family, &PromptFormat::Completion, "q");
            assert_eq!(asked.style, "few_shot");
            assert!(asked.prompt.ends_with("q =") || asked.prompt.ends_with("q ->"));
            let chat = ask(family, &PromptFormat::GemmaTurns, "q");
            assert_eq!(chat.style, "chat");
            assert!(chat
                .prompt
                .ends_with("q<end_of_turn>\n<start_of_turn>model\n"));
        }
    }
}
