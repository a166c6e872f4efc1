//! `detprob emergence scale`: tiny networks of growing width, each trained
//! for the same budget on 3-digit addition, scored like `emergence metric`
//! (the same metric functions and field names). The sub-tasks — the four
//! digits of the sum — improve smoothly with size, while exact match, which
//! needs all four, rises late and steeply: the note's first two causes with
//! models made in front of the class.
//!
//! The network reads the six digits of a and b (one-hot, 60 inputs), has two
//! hidden ReLU layers of the given width, and answers each of the sum's four
//! digits (zero-padded) with its own 10-way softmax; cross-entropy, Adam
//! (candle-nn's AdamW without decay), minibatches drawn from a seeded stream.

use std::time::Instant;

use rayon::prelude::*;

use candle_core::{Device, Tensor, Var, D};
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::error::{invalid, InputError};
use crate::report::emergence::{ScalePoint, ScaleReport, ScaleRun};
use crate::tasks::metrics::{self, Alignment};

/// Digits per operand.
const DIGITS: usize = 3;
/// Digits of the (zero-padded) sum.
const ANSWER_DIGITS: usize = DIGITS + 1;
/// Inputs of a network: each digit of a and b, one-hot.
const INPUT_WIDTH: usize = 2 * DIGITS * 10;

/// What to train.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleSettings {
    /// Hidden widths, one model each.
    pub widths: Vec<usize>,
    /// Optimizer steps per model.
    pub steps: usize,
    /// Training pairs.
    pub train_pairs: usize,
    /// Held-out pairs scored.
    pub test_pairs: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Learning rate.
    pub lr: f64,
    /// Seeds of the data, the initialization and the minibatches: every
    /// width is trained once per seed.
    pub seeds: Vec<u64>,
}

impl Default for ScaleSettings {
    fn default() -> Self {
        Self {
            widths: vec![4, 8, 16, 32, 64, 128, 256],
            steps: 2000,
            train_pairs: 20_000,
            test_pairs: 2_000,
            batch: 256,
            lr: 3e-3,
            seeds: vec![1],
        }
    }
}

impl ScaleSettings {
    /// Checks every setting; the message names the flag.
    pub fn check(&self) -> Result<(), InputError> {
        if self.widths.is_empty() || self.widths.len() > 12 {
            return Err(invalid("--widths: give 1 to 12 widths"));
        }
        if let Some(w) = self.widths.iter().find(|&&w| !(1..=2048).contains(&w)) {
            return Err(invalid(format!("--widths: {w} is outside 1..2048")));
        }
        if !(1..=100_000).contains(&self.steps) {
            return Err(invalid(format!(
                "--steps must be from 1 to 100000, not {}",
                self.steps
            )));
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 10.0) {
            return Err(invalid(format!("--lr must be in (0, 10], not {}", self.lr)));
        }
        Ok(())
    }
}

/// Pairs (a, b) as one-hot digit inputs and per-digit labels.
struct Data {
    inputs: Vec<f32>,
    labels: Vec<u32>,
    count: usize,
}

fn data(count: usize, rng: &mut ChaCha20Rng) -> Data {
    let mut inputs = vec![0f32; count * 2 * DIGITS * 10];
    let mut labels = Vec::with_capacity(count * ANSWER_DIGITS);
    for i in 0..count {
        let a = rng.next_u32() % 1000;
        let b = rng.next_u32() % 1000;
        for (j, digit) in digits(a, DIGITS).chain(digits(b, DIGITS)).enumerate() {
            inputs[(i * 2 * DIGITS + j) * 10 + digit as usize] = 1.0;
        }
        labels.extend(digits(a + b, ANSWER_DIGITS));
    }
    Data {
        inputs,
        labels,
        count,
    }
}

/// The `n` decimal digits of `x`, most significant first, zero-padded.
fn digits(x: u32, n: usize) -> impl Iterator<Item = u32> {
    (0..n).rev().map(move |i| (x / 10u32.pow(i as u32)) % 10)
}

/// He initialization for a ReLU layer: N(0, 2 / fan_in); biases zero.
fn layer(fan_in: usize, fan_out: usize, rng: &mut ChaCha20Rng) -> candle_core::Result<(Var, Var)> {
    let std = (2.0 / fan_in as f64).sqrt();
    let w: Vec<f32> = (0..fan_in * fan_out)
        .map(|_| (std * super::grok::normal(rng)) as f32)
        .collect();
    Ok((
        Var::from_tensor(&Tensor::from_vec(w, (fan_in, fan_out), &Device::Cpu)?)?,
        Var::zeros(fan_out, candle_core::DType::F32, &Device::Cpu)?,
    ))
}

struct Mlp {
    layers: Vec<(Var, Var)>,
}

impl Mlp {
    /// Logits, (rows, 4, 10).
    fn logits(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        for (i, (w, b)) in self.layers.iter().enumerate() {
            h = h.matmul(w.as_tensor())?.broadcast_add(b.as_tensor())?;
            if i + 1 < self.layers.len() {
                h = h.relu()?;
            }
        }
        h.reshape(((), ANSWER_DIGITS, 10))
    }

    fn vars(&self) -> Vec<Var> {
        self.layers
            .iter()
            .flat_map(|(w, b)| [w.clone(), b.clone()])
            .collect()
    }

    fn parameters(&self) -> usize {
        self.vars().iter().map(|v| v.as_tensor().elem_count()).sum()
    }
}

/// Trains one model per width and seed; `progress(done, total)` after each.
pub fn run(
    settings: &ScaleSettings,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<ScaleReport> {
    run_watched(settings, progress, &|_| {})
}

/// [`run`], widths in turn (each trained once per seed), with `watch`
/// given the report of the widths trained so far after each width but the
/// last, so a screen can fill its table in as the networks finish. Every
/// network is independent (its own data, its own stream): as many train at
/// once as the pool has threads, and their points are taken in order, so
/// neither the order nor the thread count changes a number.
pub fn run_watched(
    settings: &ScaleSettings,
    progress: &dyn Fn(usize, usize),
    watch: &dyn Fn(&ScaleReport),
) -> anyhow::Result<ScaleReport> {
    settings.check()?;
    let started = Instant::now();
    let data = settings
        .seeds
        .iter()
        .map(|&seed| SeedData::new(settings, seed))
        .collect::<candle_core::Result<Vec<_>>>()?;
    // (width, seed) indices, width by width.
    let jobs: Vec<(usize, usize)> = (0..settings.widths.len())
        .flat_map(|w| (0..settings.seeds.len()).map(move |s| (w, s)))
        .collect();
    // Each seed's points, one per width trained so far.
    let mut per_seed: Vec<Vec<ScalePoint>> = vec![Vec::new(); settings.seeds.len()];
    let mut done = 0;
    for batch in jobs.chunks(rayon::current_num_threads().max(1)) {
        let points: Vec<anyhow::Result<ScalePoint>> = batch
            .par_iter()
            .map(|&(w, s)| train_width(settings, settings.seeds[s], &data[s], settings.widths[w]))
            .collect();
        for (&(w, s), point) in batch.iter().zip(points) {
            per_seed[s].push(point?);
            done += 1;
            progress(done, jobs.len());
            if s + 1 == settings.seeds.len() && w + 1 < settings.widths.len() {
                watch(&report(settings, &per_seed, started));
            }
        }
    }
    Ok(report(settings, &per_seed, started))
}

/// The report of each seed's points (`per_seed`), every seed holding the
/// same widths.
fn report(settings: &ScaleSettings, per_seed: &[Vec<ScalePoint>], started: Instant) -> ScaleReport {
    let runs: Vec<ScaleRun> = settings
        .seeds
        .iter()
        .zip(per_seed)
        .map(|(&seed, points)| ScaleRun {
            seed,
            exact_half_width: half_width(points, |p| p.exact_match),
            digit_half_width: half_width(points, |p| p.per_digit_accuracy),
            points: points.clone(),
        })
        .collect();
    let points = mean_over_seeds(&runs);
    ScaleReport {
        steps: settings.steps,
        train_pairs: settings.train_pairs,
        test_pairs: settings.test_pairs,
        seed: settings.seeds[0],
        seeds: settings.seeds.clone(),
        exact_half_width: half_width(&points, |p| p.exact_match),
        digit_half_width: half_width(&points, |p| p.per_digit_accuracy),
        seeds_agree: runs
            .iter()
            .all(|r| r.exact_half_width == runs[0].exact_half_width),
        points,
        runs,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The smallest width whose `measure` reached 50 %, if any.
fn half_width(points: &[ScalePoint], measure: fn(&ScalePoint) -> f64) -> Option<usize> {
    points.iter().find(|p| measure(p) >= 0.5).map(|p| p.width)
}

/// Each width's point averaged over the seeds' runs, with the least and
/// most each run measured.
fn mean_over_seeds(runs: &[ScaleRun]) -> Vec<ScalePoint> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    (0..first.points.len())
        .map(|i| {
            let at: Vec<&ScalePoint> = runs.iter().map(|r| &r.points[i]).collect();
            let mean = |f: fn(&ScalePoint) -> f64| metrics::mean(at.iter().map(|p| f(p)));
            let range = |f: fn(&ScalePoint) -> f64| {
                at.iter()
                    .map(|p| f(p))
                    .fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], v| {
                        [lo.min(v), hi.max(v)]
                    })
            };
            let places = at[0].per_place_accuracy.len();
            ScalePoint {
                width: at[0].width,
                parameters: at[0].parameters,
                exact_match: mean(|p| p.exact_match),
                exact_match_range: range(|p| p.exact_match),
                per_digit_accuracy: mean(|p| p.per_digit_accuracy),
                per_digit_range: range(|p| p.per_digit_accuracy),
                per_place_accuracy: (0..places)
                    .map(|j| metrics::mean(at.iter().map(|p| p.per_place_accuracy[j])))
                    .collect(),
                predicted_exact_from_digits: mean(|p| p.predicted_exact_from_digits),
                answer_probability: mean(|p| p.answer_probability),
                answer_probability_whole: mean(|p| p.answer_probability_whole),
                seconds: at.iter().map(|p| p.seconds).sum(),
            }
        })
        .collect()
}

/// One seed's training and test pairs, as tensors.
struct SeedData {
    train_x: Tensor,
    train_y: Tensor,
    test_x: Tensor,
    train_count: usize,
    test_labels: Vec<u32>,
}

impl SeedData {
    fn new(settings: &ScaleSettings, seed: u64) -> candle_core::Result<Self> {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let train = data(settings.train_pairs, &mut rng);
        let test = data(settings.test_pairs, &mut rng);
        Ok(Self {
            train_x: Tensor::from_vec(train.inputs, (train.count, INPUT_WIDTH), &Device::Cpu)?,
            train_y: Tensor::from_vec(train.labels, (train.count, ANSWER_DIGITS), &Device::Cpu)?,
            test_x: Tensor::from_vec(test.inputs, (test.count, INPUT_WIDTH), &Device::Cpu)?,
            train_count: train.count,
            test_labels: test.labels,
        })
    }
}

/// Trains and scores one model of `width` on one seed's data.
fn train_width(
    settings: &ScaleSettings,
    seed: u64,
    data: &SeedData,
    width: usize,
) -> anyhow::Result<ScalePoint> {
    let model_started = Instant::now();
    // Each width draws its own stream: adding a width changes no other.
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(1 + width as u64);
    let net = Mlp {
        layers: vec![
            layer(INPUT_WIDTH, width, &mut rng)?,
            layer(width, width, &mut rng)?,
            layer(width, ANSWER_DIGITS * 10, &mut rng)?,
        ],
    };
    let mut optimizer = AdamW::new(
        net.vars(),
        ParamsAdamW {
            lr: settings.lr,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )?;
    for _ in 0..settings.steps {
        let rows: Vec<u32> = (0..settings.batch)
            .map(|_| (rng.next_u64() % data.train_count as u64) as u32)
            .collect();
        let rows = Tensor::from_vec(rows, settings.batch, &Device::Cpu)?;
        let x = data.train_x.index_select(&rows, 0)?;
        let y = data.train_y.index_select(&rows, 0)?;
        let logits = net.logits(&x)?.reshape(((), 10))?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y.flatten_all()?)?;
        optimizer.backward_step(&loss)?;
    }
    let log_probs = candle_nn::ops::log_softmax(&net.logits(&data.test_x)?, D::Minus1)?;
    let log_probs: Vec<f32> = log_probs.flatten_all()?.to_vec1()?;
    Ok(score(
        &log_probs,
        &data.test_labels,
        width,
        net.parameters(),
        model_started.elapsed().as_secs_f64(),
    ))
}

/// The metrics of one model from its log-probabilities (test pairs × 4
/// digits × 10) and the right digits, through the shared metric functions.
pub fn score(
    log_probs: &[f32],
    labels: &[u32],
    width: usize,
    parameters: usize,
    seconds: f64,
) -> ScalePoint {
    let count = labels.len() / ANSWER_DIGITS;
    let digit = |d: u32| char::from_digit(d, 10).unwrap_or('?');
    let mut per_problem = Vec::with_capacity(count);
    for i in 0..count {
        let truth: Vec<char> = labels[i * ANSWER_DIGITS..][..ANSWER_DIGITS]
            .iter()
            .map(|&d| digit(d))
            .collect();
        let mut answer = Vec::with_capacity(ANSWER_DIGITS);
        let mut logprobs = Vec::with_capacity(ANSWER_DIGITS);
        for j in 0..ANSWER_DIGITS {
            let row = &log_probs[(i * ANSWER_DIGITS + j) * 10..][..10];
            let best = (0..10).fold(0, |b, d| if row[d] > row[b] { d } else { b });
            answer.push(digit(best as u32));
            logprobs.push(row[labels[i * ANSWER_DIGITS + j] as usize] as f64);
        }
        let places = metrics::per_place(&answer, &truth, Alignment::Right);
        per_problem.push((metrics::exact_match(&answer, &truth), places, logprobs));
    }
    let per_place_accuracy: Vec<f64> = (0..ANSWER_DIGITS)
        .map(|place| {
            // Places units first, as `emergence metric` reports them.
            let i = ANSWER_DIGITS - 1 - place;
            metrics::mean(per_problem.iter().map(|p| f64::from(u8::from(p.1[i]))))
        })
        .collect();
    let exact_match = metrics::mean(per_problem.iter().map(|p| f64::from(u8::from(p.0))));
    let per_digit_accuracy = metrics::mean(per_place_accuracy.iter().copied());
    ScalePoint {
        width,
        parameters,
        exact_match,
        exact_match_range: [exact_match; 2],
        per_digit_accuracy,
        per_digit_range: [per_digit_accuracy; 2],
        predicted_exact_from_digits: per_place_accuracy.iter().product(),
        answer_probability: metrics::mean(
            per_problem
                .iter()
                .map(|p| metrics::geometric_mean_probability(&p.2)),
        ),
        answer_probability_whole: metrics::mean(
            per_problem
                .iter()
                .map(|p| metrics::sequence_probability(&p.2)),
        ),
        per_place_accuracy,
        seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_exact_on_hand_made_log_probabilities() {
        // Two pairs: the first answered 0123 with certainty (right); the
        // second answered 1000 where 0999 was right (every digit wrong, the
        // right digit at probability 1/4 each).
        let labels = [0, 1, 2, 3, 0, 9, 9, 9];
        let mut log_probs = vec![f32::NEG_INFINITY; 8 * 10];
        for (slot, &d) in [0u32, 1, 2, 3].iter().enumerate() {
            log_probs[slot * 10 + d as usize] = 0.0;
        }
        for (slot, &d) in [1u32, 0, 0, 0].iter().enumerate() {
            let row = &mut log_probs[(4 + slot) * 10..][..10];
            row[d as usize] = 0.5f32.ln();
            row[labels[4 + slot] as usize] = 0.25f32.ln();
        }
        let point = score(&log_probs, &labels, 8, 100, 0.0);
        assert_eq!(point.exact_match, 0.5);
        assert_eq!(point.per_digit_accuracy, 0.5);
        assert_eq!(point.per_place_accuracy, [0.5, 0.5, 0.5, 0.5]);
        assert_eq!(point.predicted_exact_from_digits, 0.0625);
        assert!((point.answer_probability - 0.625).abs() < 1e-6);
        assert!((point.answer_probability_whole - (1.0 + 0.25f64.powi(4)) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn widths_fill_in_one_by_one_with_every_seed_and_the_same_numbers() {
        let settings = ScaleSettings {
            widths: vec![4, 8, 16],
            steps: 20,
            train_pairs: 300,
            test_pairs: 100,
            batch: 32,
            seeds: vec![1, 2],
            ..ScaleSettings::default()
        };
        let seen = std::cell::RefCell::new(Vec::new());
        let report = run_watched(&settings, &|_, _| {}, &|r| {
            seen.borrow_mut().push(r.clone())
        })
        .unwrap();
        let seen = seen.into_inner();
        let widths = |r: &ScaleReport| r.points.iter().map(|p| p.width).collect::<Vec<_>>();
        assert_eq!(
            seen.iter().map(widths).collect::<Vec<_>>(),
            [vec![4], vec![4, 8]]
        );
        assert!(seen.iter().all(|r| r.runs.len() == 2), "every seed in each");
        let strip = |points: &[ScalePoint]| -> Vec<ScalePoint> {
            points
                .iter()
                .map(|p| ScalePoint {
                    seconds: 0.0,
                    ..p.clone()
                })
                .collect()
        };
        assert_eq!(strip(&seen[1].points), strip(&report.points[..2]));
        // As many networks train at once as the pool has threads: the same
        // points at one thread and at three (batches of 3, then 3).
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let again = pool.install(|| run(&settings, &|_, _| {})).unwrap();
            for (a, b) in again.runs.iter().zip(&report.runs) {
                assert_eq!(strip(&a.points), strip(&b.points), "{threads} threads");
            }
        }
        // One seed alone gives that seed's run of the two together.
        let alone = run(
            &ScaleSettings {
                seeds: vec![2],
                ..settings.clone()
            },
            &|_, _| {},
        )
        .unwrap();
        assert_eq!(strip(&alone.points), strip(&report.runs[1].points));
    }

    #[test]
    fn digits_are_zero_padded() {
        assert_eq!(digits(7, 4).collect::<Vec<_>>(), [0, 0, 0, 7]);
        assert_eq!(digits(1998, 4).collect::<Vec<_>>(), [1, 9, 9, 8]);
    }
}
