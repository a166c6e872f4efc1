//! `detprob emergence subtasks`: the composition law behind the note's
//! second cause. A task that needs k sub-tasks all right succeeds with about
//! p^k when each succeeds with probability p, so a smooth rise of p looks
//! like a jump of the whole task — the steeper, the larger k.

use crate::report::emergence::{Curve, MeasuredPoint, MetricReport, SubtasksReport};

/// The sub-task counts drawn by default.
pub const COUNTS: [usize; 5] = [1, 2, 4, 8, 16];

/// The curves p^k for `counts`, p from 0.5 (or below, down to the lowest
/// measured accuracy) to 1.0 in steps of 0.05, with the measured points of
/// `measured` (a `metric` report) laid on them.
pub fn report(counts: &[usize], measured: Option<&MetricReport>) -> SubtasksReport {
    let lowest = measured
        .iter()
        .flat_map(|r| r.models.iter().flat_map(|m| m.points.iter()))
        .map(|p| p.per_digit_accuracy)
        .fold(0.5f64, f64::min);
    let steps = (20.0 * (1.0 - lowest)).ceil() as usize;
    let accuracies: Vec<f64> = (0..=steps)
        .map(|i| 1.0 - 0.05 * (steps - i) as f64)
        .map(|p| (p * 100.0).round() / 100.0)
        .collect();
    let curves = counts
        .iter()
        .map(|&k| {
            let power = |p: f64| p.powi(k as i32);
            Curve {
                k,
                success: accuracies.iter().map(|&p| power(p)).collect(),
                half_success_at: 0.5f64.powf(1.0 / k as f64),
                success_at_80: power(0.8),
                success_at_95: power(0.95),
            }
        })
        .collect();
    let measured: Vec<MeasuredPoint> = measured
        .map(|report| {
            report
                .models
                .iter()
                .flat_map(|m| {
                    m.points.iter().map(move |point| MeasuredPoint {
                        model: m.model.clone(),
                        k: point.k,
                        subtasks: point.answer_symbols,
                        accuracy: point.per_digit_accuracy,
                        exact_match: point.exact_match,
                        predicted: point.predicted_exact_from_digits,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let measured_mean_gap = (!measured.is_empty()).then(|| {
        measured
            .iter()
            .map(|m| (m.predicted - m.exact_match).abs())
            .sum::<f64>()
            / measured.len() as f64
    });
    SubtasksReport {
        counts: counts.to_vec(),
        accuracies,
        curves,
        measured,
        measured_mean_gap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_are_powers_and_the_jump_sharpens_with_k() {
        let report = report(&COUNTS, None);
        assert_eq!(report.accuracies.len(), 11);
        let sixteen = &report.curves[4];
        assert_eq!(sixteen.k, 16);
        assert!((sixteen.success[0] - 0.5f64.powi(16)).abs() < 1e-15);
        assert!((sixteen.success[10] - 1.0).abs() < 1e-12);
        // p from 0.80 to 0.95 moves one sub-task by 0.15 and 16 of them from
        // 2.8 % to 44 %.
        assert!((sixteen.success_at_80 - 0.0281).abs() < 1e-3);
        assert!((sixteen.success_at_95 - 0.4401).abs() < 1e-3);
        let halves: Vec<f64> = report.curves.iter().map(|c| c.half_success_at).collect();
        assert!(halves.windows(2).all(|w| w[0] < w[1]), "{halves:?}");
        assert!((halves[0] - 0.5).abs() < 1e-12);
        assert!(report.measured.is_empty());
    }
}
