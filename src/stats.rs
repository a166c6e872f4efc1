//! Statistics a class can trust: 95 % intervals for what a run measured
//! (Wilson's score interval for a share of yes/no outcomes, a seeded
//! percentile bootstrap for a mean of anything else), and the one rule by
//! which detprob says two measurements differ: their intervals do not
//! overlap. Pure functions; the same inputs give the same intervals on every
//! machine.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Resamples of a bootstrap interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// A 95 % interval around a measured value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl Interval {
    /// The interval of a value measured on nothing: all of `[low, high]`.
    pub fn unknown(low: f64, high: f64) -> Self {
        Self { low, high }
    }

    /// Its width.
    pub fn width(&self) -> f64 {
        self.high - self.low
    }

    /// Whether it lies wholly above `other` (the one sign of a difference
    /// detprob reports).
    pub fn above(&self, other: &Interval) -> bool {
        self.low > other.high
    }

    /// Whether it lies wholly above the level `x` (e.g. a chance level).
    pub fn above_level(&self, x: f64) -> bool {
        self.low > x
    }
}

/// Wilson's 95 % score interval for `successes` out of `trials` (all of
/// [0, 1] for no trials). Unlike the normal approximation it stays inside
/// [0, 1] and is not empty at 0 or n successes.
pub fn wilson(successes: usize, trials: usize) -> Interval {
    if trials == 0 {
        return Interval::unknown(0.0, 1.0);
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Interval {
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    }
}

/// The Wilson interval of a share of `outcomes`.
pub fn wilson_of(outcomes: impl IntoIterator<Item = bool>) -> Interval {
    let (yes, all) = outcomes
        .into_iter()
        .fold((0, 0), |(y, n), o| (y + usize::from(o), n + 1));
    wilson(yes, all)
}

/// A 95 % percentile-bootstrap interval for the mean of `values`
/// ([`BOOTSTRAP_RESAMPLES`] resamples from a fixed ChaCha20 stream over the
/// values in sorted order, so the interval depends only on the values, not
/// their order). One value, or none, gives a point (or `[0, 0]`): nothing
/// to resample.
pub fn bootstrap_mean(values: &[f64]) -> Interval {
    let pairs: Vec<(f64, f64)> = values.iter().map(|&v| (v, 1.0)).collect();
    bootstrap_ratio(&pairs)
}

/// A 95 % percentile-bootstrap interval for Σ part / Σ whole over
/// `(part, whole)` pairs resampled as units (e.g. the digits a problem got
/// right out of its digits: a pooled share whose problems differ in size).
pub fn bootstrap_ratio(pairs: &[(f64, f64)]) -> Interval {
    let n = pairs.len();
    if n == 0 {
        return Interval::unknown(0.0, 0.0);
    }
    let mut pairs = pairs.to_vec();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut rng = ChaCha20Rng::seed_from_u64(0x0b00_75ea);
    let mut ratios: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            let (part, whole) = (0..n)
                .map(|_| pairs[(rng.next_u64() % n as u64) as usize])
                .fold((0.0, 0.0), |(p, w), (a, b)| (p + a, w + b));
            if whole > 0.0 {
                part / whole
            } else {
                0.0
            }
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((q * (BOOTSTRAP_RESAMPLES - 1) as f64).round()) as usize];
    Interval {
        low: at(0.025),
        high: at(0.975),
    }
}

/// How two measurements compare, judged by their intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Difference {
    /// The first lies wholly above the second.
    Higher,
    /// The first lies wholly below the second.
    Lower,
    /// The intervals overlap: too few to tell.
    TooFewToTell,
}

/// Compares `a` with `b` by their intervals.
pub fn compare(a: &Interval, b: &Interval) -> Difference {
    if a.above(b) {
        Difference::Higher
    } else if b.above(a) {
        Difference::Lower
    } else {
        Difference::TooFewToTell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values_and_stays_in_range() {
        // 0 of 20: [0, 16.1 %]; 10 of 20: [29.9 %, 70.1 %]; 20 of 20: [83.9 %, 1].
        let none = wilson(0, 20);
        assert_eq!(none.low, 0.0);
        assert!((none.high - 0.1611).abs() < 1e-4, "{none:?}");
        let half = wilson(10, 20);
        assert!((half.low - 0.2993).abs() < 1e-4 && (half.high - 0.7007).abs() < 1e-4);
        let all = wilson(20, 20);
        assert!((all.low - 0.8389).abs() < 1e-4 && all.high == 1.0);
        assert_eq!(wilson(0, 0), Interval::unknown(0.0, 1.0));
        // More trials, a narrower interval around the same share.
        assert!(wilson(100, 200).width() < half.width());
        assert_eq!(wilson_of([true, false, true, false]), wilson(2, 4));
    }

    #[test]
    fn bootstrap_is_repeatable_and_brackets_the_mean() {
        let values: Vec<f64> = (0..50).map(|i| f64::from(i % 7)).collect();
        let mean = values.iter().sum::<f64>() / 50.0;
        let a = bootstrap_mean(&values);
        assert_eq!(a, bootstrap_mean(&values));
        let mut shuffled = values.clone();
        shuffled.reverse();
        shuffled.swap(3, 17);
        assert_eq!(
            a,
            bootstrap_mean(&shuffled),
            "the order of the values does not matter"
        );
        assert!(a.low < mean && mean < a.high, "{a:?} around {mean}");
        // Constant values: no spread.
        assert_eq!(
            bootstrap_mean(&[0.5; 10]),
            Interval {
                low: 0.5,
                high: 0.5
            }
        );
        assert_eq!(bootstrap_mean(&[]), Interval::unknown(0.0, 0.0));
    }

    #[test]
    fn a_difference_needs_intervals_apart() {
        let low = wilson(2, 20);
        let high = wilson(18, 20);
        assert_eq!(compare(&high, &low), Difference::Higher);
        assert_eq!(compare(&low, &high), Difference::Lower);
        assert_eq!(
            compare(&wilson(9, 20), &wilson(11, 20)),
            Difference::TooFewToTell
        );
        assert!(high.above_level(0.25) && !low.above_level(0.25));
    }
}
