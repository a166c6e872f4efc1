//! Reports of `detprob emergence`: strict and smooth metrics per model and
//! length (`metric`), and the composition law p^k with measured points laid
//! on it (`subtasks`).

use serde::{Deserialize, Serialize};

use crate::stats::{Difference, Interval};

/// What `detprob emergence metric` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricReport {
    /// The task family (`addition`, `multiplication`, `reverse`).
    pub family: String,
    /// Seed of the problem generator (the first of `seeds`).
    pub seed: u64,
    /// Every problem seed pooled into the points (same seeds → same
    /// problems everywhere; a question drawn by two seeds counts once).
    pub seeds: Vec<u64>,
    /// Problems asked at each length, per seed.
    pub problems_per_length: usize,
    /// The lengths k asked (digits per number, or letters).
    pub lengths: Vec<usize>,
    /// Which metrics score all-or-nothing per problem and which give
    /// partial credit (as Schaeffer et al. 2023 class them).
    pub metric_classes: MetricClasses,
    /// What guessing scores.
    pub chance: ChanceLevels,
    /// One entry per model, in the order run.
    pub models: Vec<ModelMetrics>,
    /// What the numbers support, per model, judged by their intervals.
    pub findings: Vec<ModelFindings>,
}

/// The metrics by class.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricClasses {
    /// 0 or 1 per problem: a smooth gain can hide below them.
    pub discontinuous: Vec<String>,
    /// Partial credit per problem.
    pub continuous: Vec<String>,
}

/// What guessing scores on each metric that has a chance level.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChanceLevels {
    /// Picking one of the options at random (1 / options).
    pub multiple_choice: f64,
    /// A uniform forecast over the options (1 − 1 / options).
    pub choice_brier: f64,
    /// A random symbol at each place (1/10 for digits, 1/26 for letters).
    pub per_digit: f64,
}

/// One model's metrics at every length.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// Model alias (or file name).
    pub model: String,
    /// Its parameter count, summed over the tensors of its file (`null`: a
    /// model on a server, whose file is not known here).
    pub parameters: Option<u64>,
    /// Its architecture (`general.architecture` of the file; empty on a server).
    pub architecture: String,
    /// SHA-256 fingerprint of its tokenizer's vocabulary: two models with
    /// the same architecture and vocabulary are of one family (empty on a
    /// server).
    pub tokenizer: String,
    /// The server it was asked on (`null`: detprob's own engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// How it was asked: `chat` (examples as earlier turns, for an instruct
    /// model) or `few_shot` (examples as plain lines, for a base model).
    pub prompt_style: String,
    /// One point per length, in the order of `lengths`.
    pub points: Vec<MetricPoint>,
    /// Wall time of this model's problems, in seconds (loading excluded);
    /// the only field that differs between two runs.
    pub seconds: f64,
}

/// A measure at two lengths (or two models), and whether their intervals
/// say it changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    /// The value before.
    pub from: f64,
    /// Its interval.
    pub from_interval: Interval,
    /// The value after.
    pub to: f64,
    /// Its interval.
    pub to_interval: Interval,
    /// `higher`, `lower` (the intervals are apart) or `too_few_to_tell`.
    pub difference: Difference,
}

/// Whether independent places predict a length's exact match.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PredictorCheck {
    /// The length.
    pub k: usize,
    /// Exact match predicted from per-place accuracies.
    pub predicted: f64,
    /// Exact match measured.
    pub measured: f64,
    /// Its interval.
    pub interval: Interval,
    /// Whether the prediction lies inside the interval.
    pub inside: bool,
    /// Whether the point tests the predictor at all (prediction between
    /// 5 % and 95 %: near 0 or 1 every predictor agrees).
    pub informative: bool,
}

/// What one model's numbers support, from its first length to its last.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFindings {
    /// The model.
    pub model: String,
    /// The first length.
    pub first_k: usize,
    /// The last length.
    pub last_k: usize,
    /// Exact match from the first length to the last.
    pub exact: Change,
    /// Per-digit accuracy from the first length to the last.
    pub per_digit: Change,
    /// The right answer's per-token probability from the first length to the last.
    pub probability: Option<Change>,
    /// Lengths where multiple choice is above chance (its interval wholly above).
    /// (`null`: multiple choice was not measured, a model on a server.)
    pub choice_above_chance: Option<Vec<usize>>,
    /// The predictor of exact match from places, at each length.
    pub predictor: Vec<PredictorCheck>,
}

/// The metrics at one length k, averaged over its problems, each with its
/// 95 % interval (Wilson's for shares of yes/no outcomes, a bootstrap over
/// problems for the rest): computed from `results` alone
/// ([`crate::emergence::metric::point_from_results`]), so runs with other
/// problem seeds pool into one point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricPoint {
    /// The length knob.
    pub k: usize,
    /// Problems asked.
    pub problems: usize,
    /// Mean number of digits (letters) in the right answers: the sub-tasks
    /// a whole answer needs.
    pub answer_symbols: f64,
    /// Share of greedy answers exactly right (discontinuous: all or nothing).
    pub exact_match: f64,
    /// Its interval.
    pub exact_match_interval: Interval,
    /// Share of the right answer's digits (letters) that the greedy answer
    /// has at the same place: the sub-tasks (continuous).
    pub per_digit_accuracy: f64,
    /// Its interval.
    pub per_digit_interval: Interval,
    /// The same, per place (units first for numbers, first letter first for letters).
    pub per_place_accuracy: Vec<f64>,
    /// The measures that need the model's tokens and probabilities (`None`
    /// for a model on a server, which reports text: absent in JSON).
    #[serde(flatten)]
    pub scored: Option<ScoredPoint>,
    /// Exact match predicted from the per-place accuracies alone (their
    /// product over each problem's places, averaged): what independent
    /// sub-tasks would give ([`crate::emergence::metric::predict_exact`],
    /// the one predictor detprob uses).
    pub predicted_exact_from_digits: f64,
    /// Every problem, as asked and answered.
    pub results: Vec<ProblemResult>,
}

/// A length's measures from the model's tokens and probabilities.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoredPoint {
    /// Mean Levenshtein distance between the greedy answer's tokens and the
    /// right answer's (continuous; lower is better).
    pub token_edit_distance: f64,
    /// Its interval.
    pub token_edit_distance_interval: Interval,
    /// Mean over problems of the geometric mean of the probabilities of the
    /// right answer's **answer tokens** (those holding a digit or letter:
    /// a leading space or a format token is not counted), teacher-forced at
    /// temperature 1 (continuous).
    pub answer_probability: f64,
    /// Its interval.
    pub answer_probability_interval: Interval,
    /// Mean over problems of the probability of all the answer tokens
    /// together (their product).
    pub answer_probability_whole: f64,
    /// Share of problems where the right answer out-scored its near-miss
    /// distractors by log-likelihood (discontinuous: 0 or 1 per problem;
    /// chance is one over the number of options).
    pub multiple_choice_accuracy: f64,
    /// Its interval.
    pub multiple_choice_interval: Interval,
    /// Mean Brier score of the options' probabilities (each option's
    /// likelihood normalised over the options) against the right one:
    /// the continuous form of multiple choice (0 is perfect; lower is better).
    pub choice_brier: f64,
    /// Its interval.
    pub choice_brier_interval: Interval,
}

impl MetricPoint {
    /// Exact match with its interval.
    pub fn exact(&self) -> (f64, Interval) {
        (self.exact_match, self.exact_match_interval)
    }

    /// Per-place accuracy with its interval.
    pub fn per_digit(&self) -> (f64, Interval) {
        (self.per_digit_accuracy, self.per_digit_interval)
    }

    /// Multiple-choice accuracy with its interval (`None`: not measured, a
    /// model on a server).
    pub fn choice(&self) -> Option<(f64, Interval)> {
        let s = self.scored.as_ref()?;
        Some((s.multiple_choice_accuracy, s.multiple_choice_interval))
    }

    /// The answer tokens' per-token probability with its interval.
    pub fn probability(&self) -> Option<(f64, Interval)> {
        let s = self.scored.as_ref()?;
        Some((s.answer_probability, s.answer_probability_interval))
    }

    /// The choice's Brier score with its interval.
    pub fn brier(&self) -> Option<(f64, Interval)> {
        let s = self.scored.as_ref()?;
        Some((s.choice_brier, s.choice_brier_interval))
    }

    /// Token edit distance with its interval.
    pub fn edit_distance(&self) -> Option<(f64, Interval)> {
        let s = self.scored.as_ref()?;
        Some((s.token_edit_distance, s.token_edit_distance_interval))
    }
}

/// One problem and what the model did with it: everything a [`MetricPoint`]
/// is computed from.
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
    /// Per place of the right answer (units first for numbers, first
    /// letter first for letters), whether the greedy answer has it right;
    /// then one wrong place for each symbol the greedy answer wrote beyond
    /// the right answer's length.
    pub places: Vec<bool>,
    /// What needs the model's tokens and probabilities (`None` on a server).
    #[serde(flatten)]
    pub scored: Option<ScoredProblem>,
}

/// One problem's measures from the model's tokens and probabilities.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoredProblem {
    /// Levenshtein distance between the greedy answer's tokens and the right answer's.
    pub edit_distance: usize,
    /// Natural-log probability of the right answer's answer tokens
    /// (teacher-forced; format tokens such as a leading space excluded).
    pub answer_logprob: f64,
    /// How many answer tokens `answer_logprob` sums over.
    pub answer_tokens: usize,
    /// The right answer's rank among itself and the distractors (1 = first).
    pub choice_rank: usize,
    /// Each option's probability normalised over the options (the right
    /// answer first), from their whole log-likelihoods.
    pub choice_probabilities: Vec<f64>,
}

/// What `detprob emergence ladder` measured: the same problems asked of
/// models of growing size, each metric against parameter count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LadderReport {
    /// The run, models in order of parameter count.
    pub metric: MetricReport,
    /// Pairs of models of one family (same architecture and vocabulary),
    /// smaller first: the only comparisons where size is the one difference
    /// the file can show.
    pub same_family: Vec<[String; 2]>,
    /// Whether some models differ in family (architecture or vocabulary) or
    /// prompt style: then the ladder mixes size with training and prompting.
    pub confounded: bool,
    /// Per length, how exact match and per-digit accuracy move up the ladder.
    pub steps: Vec<LadderStep>,
    /// Each model's prompt for the first problem, when asked for (`--show-prompts`).
    pub prompts: Vec<ShownPrompt>,
}

/// How one length's measures move with size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LadderStep {
    /// The length.
    pub k: usize,
    /// Exact match from the smallest model to the largest.
    pub exact_smallest_to_largest: Change,
    /// Per-digit accuracy from the smallest model to the largest.
    pub digit_smallest_to_largest: Change,
    /// Exact match from the smaller to the larger of each same-family pair
    /// (in the order of `same_family`).
    pub exact_same_family: Vec<Change>,
    /// Per-digit accuracy, the same way.
    pub digit_same_family: Vec<Change>,
}

/// A model's prompt, as it was asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShownPrompt {
    /// The model.
    pub model: String,
    /// `chat` or `few_shot`.
    pub style: String,
    /// The whole prompt text of the first problem.
    pub prompt: String,
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
    /// The mean gap |predicted − measured exact match| over `measured`,
    /// none without measured points.
    pub measured_mean_gap: Option<f64>,
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
    /// What independent places predict for it: the metric report's
    /// `predicted_exact_from_digits` (the one predictor detprob uses).
    pub predicted: f64,
}

/// The settings a `grok` run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrokSettingsRecord {
    /// The modulus p.
    pub modulus: usize,
    /// Share of the p² pairs trained on.
    pub train_fraction: f64,
    /// Hidden width.
    pub width: usize,
    /// AdamW learning rate.
    pub lr: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Step budget.
    pub steps: usize,
    /// Seed of the initialization and the split.
    pub seed: u64,
    /// Whether Grokfast's slow-gradient filter was on.
    pub grokfast: bool,
    /// Threads the matrix code used (results are checked identical at 1 and 2).
    pub threads: usize,
    /// Which code trained the network (`detprob`: the fused step;
    /// `candle`: the autograd reference).
    #[serde(default)]
    pub engine: crate::lm::Engine,
}

/// One logged step of training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrokRow {
    /// Optimizer steps taken.
    pub step: usize,
    /// Share of training pairs answered right.
    pub train_accuracy: f64,
    /// Share of unseen (test) pairs answered right.
    pub test_accuracy: f64,
    /// Mean squared error on the training pairs.
    pub train_loss: f64,
    /// Mean squared error on the test pairs.
    pub test_loss: f64,
    /// L2 norm of all weights.
    pub weight_norm: f64,
    /// Share of each hidden unit's a-embedding energy in its strongest
    /// Fourier frequency (pooled over units): the structure that generalizes.
    pub fourier_share: f64,
    /// Wall time since training started, in seconds.
    pub seconds: f64,
}

/// What a `grok` run did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrokReport {
    /// The settings.
    pub settings: GrokSettingsRecord,
    /// One row per logged step.
    pub rows: Vec<GrokRow>,
    /// First logged step with training accuracy ≥ 99 % (memorized).
    pub memorized_at: Option<usize>,
    /// First logged step with test accuracy ≥ 95 % (generalized).
    pub generalized_at: Option<usize>,
    /// `generalized_at / memorized_at`: how much later the jump came.
    pub delay_ratio: Option<f64>,
    /// The least and most that ratio can be, given that each event fell
    /// somewhere in the logging interval before its logged step.
    pub delay_ratio_bounds: Option<[f64; 2]>,
    /// Steps between logged rows.
    pub log_interval: usize,
    /// First logged step with test accuracy ≥ 10 % (chance is 1/p): where
    /// the rise begins, the moment a precursor must come before.
    pub rise_started_at: Option<usize>,
    /// The logged step of test loss's peak, when it falls by at least a
    /// tenth afterwards: the early, continuous signal of generalization.
    pub test_loss_turned_at: Option<usize>,
    /// First logged step where the Fourier share had made half of its rise
    /// (from its first value to its highest). Measured only on a full run:
    /// a run stopped at 99 % test accuracy cuts the rise, and half of a cut
    /// rise lands early by construction.
    pub precursor_at: Option<usize>,
    /// Steps by which a signal must come before `rise_started_at` to count
    /// as leading it: two logging intervals, or a tenth of the rise's step.
    pub lead_margin: usize,
    /// Whether `precursor_at` leads `rise_started_at` by `lead_margin`.
    pub precursor_leads: bool,
    /// Whether `test_loss_turned_at` leads `rise_started_at` by `lead_margin`.
    pub test_loss_leads: bool,
    /// Whether training stopped at test accuracy ≥ 99 % before the budget.
    pub stopped_early: bool,
    /// Optimizer steps per second (evaluation included).
    pub steps_per_second: f64,
    /// Wall time, in seconds.
    pub seconds: f64,
}

impl GrokReport {
    /// The report of `rows`, with the summary steps derived from them.
    pub fn new(
        settings: GrokSettingsRecord,
        rows: Vec<GrokRow>,
        stopped_early: bool,
        seconds: f64,
    ) -> Self {
        let first = |test: &dyn Fn(&GrokRow) -> bool| rows.iter().find(|r| test(r)).map(|r| r.step);
        let memorized_at = first(&|r| r.train_accuracy >= 0.99);
        let generalized_at = first(&|r| r.test_accuracy >= 0.95);
        let delay_ratio = match (memorized_at, generalized_at) {
            (Some(m), Some(g)) => Some(g as f64 / m.max(1) as f64),
            _ => None,
        };
        let rise_started_at = first(&|r| r.test_accuracy >= 0.10);
        let start = rows.first().map_or(0.0, |r| r.fourier_share);
        let peak = rows.iter().map(|r| r.fourier_share).fold(start, f64::max);
        let precursor_at = (peak > start && !stopped_early)
            .then(|| first(&|r| r.fourier_share >= start + 0.5 * (peak - start)))
            .flatten();
        let test_loss_turned_at = rows
            .iter()
            .enumerate()
            .max_by(|(_, a), (_, b)| a.test_loss.total_cmp(&b.test_loss))
            .filter(|(i, top)| {
                rows[*i..]
                    .iter()
                    .any(|r| r.test_loss <= 0.9 * top.test_loss)
            })
            .map(|(_, top)| top.step);
        let interval = match rows.as_slice() {
            [a, b, ..] => b.step - a.step,
            _ => 1,
        };
        let delay_ratio_bounds = match (memorized_at, generalized_at) {
            (Some(m), Some(g)) => Some([
                g.saturating_sub(interval).max(1) as f64 / m.max(1) as f64,
                g as f64 / m.saturating_sub(interval).max(1) as f64,
            ]),
            _ => None,
        };
        let lead_margin = (2 * interval).max(rise_started_at.map_or(0, |r| r.div_ceil(10)));
        let leads = |signal: Option<usize>| match (signal, rise_started_at) {
            (Some(s), Some(r)) => s + lead_margin <= r,
            _ => false,
        };
        let (precursor_leads, test_loss_leads) = (leads(precursor_at), leads(test_loss_turned_at));
        let last_step = rows.last().map_or(0, |r| r.step);
        Self {
            settings,
            memorized_at,
            generalized_at,
            delay_ratio,
            delay_ratio_bounds,
            log_interval: interval,
            rise_started_at,
            test_loss_turned_at,
            precursor_at,
            lead_margin,
            precursor_leads,
            test_loss_leads,
            stopped_early,
            steps_per_second: if seconds > 0.0 {
                last_step as f64 / seconds
            } else {
                0.0
            },
            seconds,
            rows,
        }
    }
}

/// `grok --train-fractions`: one run per data fraction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrokSweepReport {
    /// One run per fraction, in the order given.
    pub runs: Vec<GrokReport>,
    /// The smallest fraction that generalized, and its step, if any did.
    pub least_data_generalized: Option<(f64, usize)>,
    /// The fractions that did not generalize, in the order given.
    pub never_generalized: Vec<f64>,
}

impl GrokSweepReport {
    /// The sweep of `runs`, with its findings.
    pub fn new(runs: Vec<GrokReport>) -> Self {
        let least_data_generalized = runs
            .iter()
            .filter_map(|r| r.generalized_at.map(|g| (r.settings.train_fraction, g)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let never_generalized = runs
            .iter()
            .filter(|r| r.generalized_at.is_none())
            .map(|r| r.settings.train_fraction)
            .collect();
        Self {
            runs,
            least_data_generalized,
            never_generalized,
        }
    }
}

/// What `detprob emergence grok --phase` measured: when (if ever) each
/// combination of data and training strategy generalized.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrokPhaseReport {
    /// The settings every cell shares (its fraction, weight decay and
    /// Grokfast are the cell's own).
    pub settings: GrokSettingsRecord,
    /// Train fractions (rows).
    pub train_fractions: Vec<f64>,
    /// Weight decays (columns).
    pub weight_decays: Vec<f64>,
    /// Grokfast off, on, or both (one grid each).
    pub grokfast: Vec<bool>,
    /// One cell per (grokfast, weight decay, fraction).
    pub cells: Vec<PhaseCell>,
    /// Per (grokfast, weight decay): the least data that generalized.
    pub thresholds: Vec<PhaseThreshold>,
    /// The cell training now, while the diagram fills in (none in a
    /// finished report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_training: Option<CellInTraining>,
    /// Wall time, in seconds.
    pub seconds: f64,
}

/// A cell of a phase diagram that is still training: how far it has got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellInTraining {
    /// Share of the pairs trained on.
    pub train_fraction: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Whether Grokfast's filter is on.
    pub grokfast: bool,
    /// The last logged step.
    pub step: usize,
    /// Share of unseen (test) pairs answered right at that step.
    pub test_accuracy: f64,
}

impl GrokPhaseReport {
    /// The step at which the cell (Grokfast, weight decay, train fraction)
    /// generalized, if it was trained and did.
    pub fn generalized_at(
        &self,
        grokfast: bool,
        weight_decay: f64,
        fraction: f64,
    ) -> Option<usize> {
        self.cell(grokfast, weight_decay, fraction)
            .and_then(|c| c.generalized_at)
    }

    /// The cell (Grokfast, weight decay, train fraction), if it was trained.
    pub fn cell(&self, grokfast: bool, weight_decay: f64, fraction: f64) -> Option<&PhaseCell> {
        self.cells.iter().find(|c| {
            c.grokfast == grokfast && c.weight_decay == weight_decay && c.train_fraction == fraction
        })
    }
}

/// One trained model of the phase diagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseCell {
    /// Share of the pairs trained on.
    pub train_fraction: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Whether Grokfast's filter was on.
    pub grokfast: bool,
    /// First logged step with train accuracy ≥ 99 %.
    pub memorized_at: Option<usize>,
    /// First logged step with test accuracy ≥ 95 %, or none within the budget.
    pub generalized_at: Option<usize>,
}

/// The data threshold of one training strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseThreshold {
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Whether Grokfast's filter was on.
    pub grokfast: bool,
    /// The smallest fraction that generalized within the budget, if any.
    pub smallest_fraction: Option<f64>,
    /// Its step.
    pub at_step: Option<usize>,
    /// The fraction that generalized soonest, and its step.
    pub fastest: Option<(f64, usize)>,
}

/// What `detprob emergence scale` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleReport {
    /// Optimizer steps per model (the same budget for every size).
    pub steps: usize,
    /// Training pairs.
    pub train_pairs: usize,
    /// Held-out pairs scored.
    pub test_pairs: usize,
    /// The first of `seeds`.
    pub seed: u64,
    /// Seeds of the data, the initialization and the minibatches: each
    /// width was trained once per seed.
    pub seeds: Vec<u64>,
    /// One point per width, smallest first, averaged over the seeds (the
    /// least and most of the runs in its ranges).
    pub points: Vec<ScalePoint>,
    /// Each seed's run.
    pub runs: Vec<ScaleRun>,
    /// The smallest width whose mean exact match reached 50 %, if any.
    pub exact_half_width: Option<usize>,
    /// The smallest width whose mean per-digit accuracy reached 50 %, if any.
    pub digit_half_width: Option<usize>,
    /// Whether every seed's exact-match 50 % width is the same (true with
    /// one seed, where nothing is known about the spread).
    pub seeds_agree: bool,
    /// Wall time, in seconds.
    pub seconds: f64,
}

/// One seed's models, one per width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleRun {
    /// The seed.
    pub seed: u64,
    /// The smallest width whose exact match reached 50 %, if any.
    pub exact_half_width: Option<usize>,
    /// The smallest width whose per-digit accuracy reached 50 %, if any.
    pub digit_half_width: Option<usize>,
    /// One point per width, smallest first.
    pub points: Vec<ScalePoint>,
}

/// One trained size, scored on the held-out pairs (field names as in
/// `emergence metric`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalePoint {
    /// Hidden width.
    pub width: usize,
    /// Trained parameters.
    pub parameters: usize,
    /// Share of sums with all four digits right.
    pub exact_match: f64,
    /// The least and most exact match over the seeds.
    pub exact_match_range: [f64; 2],
    /// Share of digits right (the sub-tasks).
    pub per_digit_accuracy: f64,
    /// The least and most per-digit accuracy over the seeds.
    pub per_digit_range: [f64; 2],
    /// Per place, units first.
    pub per_place_accuracy: Vec<f64>,
    /// The product of the per-place accuracies.
    pub predicted_exact_from_digits: f64,
    /// Mean geometric-mean probability of the right digits (smooth).
    pub answer_probability: f64,
    /// Mean probability of the whole right sum.
    pub answer_probability_whole: f64,
    /// Training time of this model, in seconds.
    pub seconds: f64,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small run's settings, for tests of what reads grokking reports.
    pub(crate) fn settings() -> GrokSettingsRecord {
        GrokSettingsRecord {
            modulus: 97,
            train_fraction: 0.2,
            width: 8,
            lr: 0.01,
            weight_decay: 0.3,
            steps: 100,
            seed: 1,
            grokfast: false,
            threads: 1,
            engine: crate::lm::Engine::Detprob,
        }
    }

    /// Rows every 10 steps: train accuracy 1 from step 10, test accuracy
    /// rising from `rise`, test loss peaking at `loss_peak`, the Fourier
    /// share half-way at `fourier_half`.
    fn rows(rise: usize, loss_peak: usize, fourier_half: usize) -> Vec<GrokRow> {
        (0..=100)
            .step_by(10)
            .map(|step| GrokRow {
                step,
                train_accuracy: if step >= 10 { 1.0 } else { 0.0 },
                test_accuracy: if step >= rise {
                    0.1 + (step - rise) as f64 / 40.0
                } else {
                    0.01
                },
                train_loss: 1.0,
                test_loss: 1.0 - (step as f64 - loss_peak as f64).abs() / 100.0,
                weight_norm: 1.0,
                fourier_share: if step >= fourier_half { 0.9 } else { 0.1 },
                seconds: step as f64,
            })
            .collect()
    }

    #[test]
    fn a_precursor_is_claimed_only_on_a_full_run_and_with_a_lead() {
        // Full run, Fourier half-way at 20 and loss peak at 20, rise at 60:
        // both lead by more than the margin (two intervals, 20 steps).
        let leading = GrokReport::new(settings(), rows(60, 20, 20), false, 1.0);
        assert_eq!(leading.rise_started_at, Some(60));
        assert_eq!(leading.precursor_at, Some(20));
        assert_eq!(leading.test_loss_turned_at, Some(20));
        assert_eq!(leading.lead_margin, 20);
        assert!(leading.precursor_leads && leading.test_loss_leads);
        // Fourier half-way at 50, one interval before the rise at 60: no lead.
        let late = GrokReport::new(settings(), rows(60, 50, 50), false, 1.0);
        assert_eq!(late.precursor_at, Some(50));
        assert!(!late.precursor_leads && !late.test_loss_leads);
        // The same rows from a run stopped early: the Fourier share's rise
        // was cut, so no precursor is measured at all.
        let stopped = GrokReport::new(settings(), rows(60, 20, 20), true, 1.0);
        assert_eq!(stopped.precursor_at, None);
        assert!(!stopped.precursor_leads);
        assert!(stopped.test_loss_leads, "test loss is measured either way");
    }

    #[test]
    fn the_delay_is_a_range_set_by_the_logging_interval() {
        let report = GrokReport::new(settings(), rows(60, 20, 20), false, 1.0);
        // Memorized at logged step 10 (somewhere in 1..=10), generalized at
        // logged step 100 (in 91..=100).
        assert_eq!(report.memorized_at, Some(10));
        assert_eq!(report.generalized_at, Some(100));
        assert_eq!(report.delay_ratio_bounds, Some([9.0, 100.0]));
    }
}
