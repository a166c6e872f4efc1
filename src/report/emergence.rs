//! Reports of `detprob emergence`: strict and smooth metrics per model and
//! length (`metric`), and the composition law p^k with measured points laid
//! on it (`subtasks`).

use serde::{Deserialize, Serialize};

/// What `detprob emergence metric` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricReport {
    /// The task family (`addition`, `reverse`).
    pub family: String,
    /// Seed of the problem generator (same seed → same problems everywhere).
    pub seed: u64,
    /// Problems asked at each length.
    pub problems_per_length: usize,
    /// The lengths k asked (digits per number, or letters).
    pub lengths: Vec<usize>,
    /// One entry per model, in the order run.
    pub models: Vec<ModelMetrics>,
}

/// One model's metrics at every length.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// Model alias (or file name).
    pub model: String,
    /// How it was asked: `chat` (examples as earlier turns, for an instruct
    /// model) or `few_shot` (examples as plain lines, for a base model).
    pub prompt_style: String,
    /// One point per length, in the order of `lengths`.
    pub points: Vec<MetricPoint>,
    /// Wall time of this model's problems, in seconds (loading excluded);
    /// the only field that differs between two runs.
    pub seconds: f64,
}

/// The metrics at one length k, averaged over its problems.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricPoint {
    /// The length knob.
    pub k: usize,
    /// Problems asked.
    pub problems: usize,
    /// Mean number of digits (letters) in the right answers: the sub-tasks
    /// a whole answer needs.
    pub answer_symbols: f64,
    /// Share of greedy answers exactly right (strict: all or nothing).
    pub exact_match: f64,
    /// Share of the right answer's digits (letters) that the greedy answer
    /// has at the same place: the sub-tasks.
    pub per_digit_accuracy: f64,
    /// The same, per place (units first for numbers, first letter first for letters).
    pub per_place_accuracy: Vec<f64>,
    /// Mean Levenshtein distance between the greedy answer's tokens and the right answer's.
    pub token_edit_distance: f64,
    /// Mean over problems of the geometric mean of the right answer's token
    /// probabilities (teacher-forced, temperature 1).
    pub answer_probability: f64,
    /// Mean over problems of the whole right answer's probability (the product).
    pub answer_probability_whole: f64,
    /// Share of problems where the right answer out-scored 3 near-miss
    /// distractors by log-likelihood.
    pub multiple_choice_accuracy: f64,
    /// Exact match predicted from the per-place accuracies alone (their
    /// product over each problem's places, averaged): what independent
    /// sub-tasks would give.
    pub predicted_exact_from_digits: f64,
    /// Every problem, as asked and answered.
    pub results: Vec<ProblemResult>,
}

/// One problem and what the model did with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProblemResult {
    /// The question (e.g. `305 + 41`).
    pub question: String,
    /// The right answer.
    pub answer: String,
    /// The greedy answer as read (its digits or letters), empty if none.
    pub greedy: String,
    /// The greedy answer's first line as the model wrote it.
    pub greedy_text: String,
    /// Whether the greedy answer was exactly right.
    pub exact: bool,
    /// Natural-log probability of the whole right answer (teacher-forced).
    pub answer_logprob: f64,
    /// The right answer's rank among itself and the distractors (1 = first).
    pub choice_rank: usize,
}

/// What `detprob emergence subtasks` shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubtasksReport {
    /// The sub-task counts k drawn as curves.
    pub counts: Vec<usize>,
    /// Sub-task accuracies p along the x axis.
    pub accuracies: Vec<f64>,
    /// One curve per k: `success[i]` = `accuracies[i]` ^ k.
    pub curves: Vec<Curve>,
    /// Measured points laid on the curves (from a `metric` report), if any.
    pub measured: Vec<MeasuredPoint>,
}

/// Whole-task success p^k for one k.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Curve {
    /// Sub-tasks that must all be right.
    pub k: usize,
    /// p^k at each accuracy.
    pub success: Vec<f64>,
    /// The sub-task accuracy at which whole-task success reaches one half
    /// (0.5^(1/k)): where the "jump" sits.
    pub half_success_at: f64,
    /// Whole-task success at p = 0.8 and at p = 0.95: a smooth +0.15 in the
    /// sub-task, and what it does to the whole task.
    pub success_at_80: f64,
    /// See `success_at_80`.
    pub success_at_95: f64,
}

/// A measured (sub-task accuracy, exact match) pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeasuredPoint {
    /// The model measured.
    pub model: String,
    /// The length k it was measured at.
    pub k: usize,
    /// Sub-tasks in the whole task (mean answer digits).
    pub subtasks: f64,
    /// Measured sub-task accuracy.
    pub accuracy: f64,
    /// Measured whole-task success.
    pub exact_match: f64,
    /// What p^k predicts for it (p = `accuracy`, k = `subtasks`).
    pub predicted: f64,
}
