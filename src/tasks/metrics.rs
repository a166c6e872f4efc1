//! Metrics that score an answer against the right one: all-or-nothing exact
//! match, per-symbol (sub-task) agreement, edit distance, and the summaries
//! of teacher-forced probabilities. Pure functions, shared by every command
//! that scores.

/// Which way an answer's symbols (its sub-tasks) line up with the right answer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    /// By place value, from the right (units first).
    Right,
    /// By position, from the left.
    Left,
}

/// Whether the answer is exactly right (the strict, all-or-nothing metric).
pub fn exact_match(answer: &[char], truth: &[char]) -> bool {
    answer == truth
}

/// For each symbol of `truth` (each sub-task), whether `answer` has the same
/// symbol at the same place. Places line up from the right for numbers
/// (units under units) and from the left for letters; a missing place is wrong.
pub fn per_place(answer: &[char], truth: &[char], alignment: Alignment) -> Vec<bool> {
    let n = truth.len();
    (0..n)
        .map(|i| match alignment {
            Alignment::Left => answer.get(i) == Some(&truth[i]),
            Alignment::Right => {
                // i counts from the left of truth; its place from the right is n-1-i.
                let from_right = n - 1 - i;
                answer.len() > from_right && answer[answer.len() - 1 - from_right] == truth[i]
            }
        })
        .collect()
}

/// Levenshtein distance between two sequences (insertions, deletions and
/// substitutions each cost 1).
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(x != y);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The geometric mean of per-token probabilities, from their log-probabilities
/// (1 for an empty answer).
pub fn geometric_mean_probability(logprobs: &[f64]) -> f64 {
    if logprobs.is_empty() {
        return 1.0;
    }
    (logprobs.iter().sum::<f64>() / logprobs.len() as f64).exp()
}

/// The probability of the whole answer: the product of its tokens'.
pub fn sequence_probability(logprobs: &[f64]) -> f64 {
    logprobs.iter().sum::<f64>().exp()
}

/// The right answer's rank among the options (index 0 of `scores`, each a
/// total log-probability): 1 when it scores strictly above every other
/// option; a tie does not rank it first.
pub fn rank_of_first(scores: &[f64]) -> usize {
    match scores.split_first() {
        Some((right, others)) => 1 + others.iter().filter(|&o| o >= right).count(),
        None => 0,
    }
}

/// Probabilities from log-likelihoods, normalised over the given options
/// (a softmax of `scores`).
pub fn normalized(scores: &[f64]) -> Vec<f64> {
    let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

/// The Brier score of a forecast over options when option `right` is the
/// true one: Σ (pᵢ − yᵢ)², from 0 (all probability on the right option) to
/// 2 (all on one wrong option); a uniform forecast over n options scores
/// 1 − 1/n.
pub fn brier(probabilities: &[f64], right: usize) -> f64 {
    probabilities
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let truth = f64::from(u8::from(i == right));
            (p - truth) * (p - truth)
        })
        .sum()
}

/// The mean of `values` (0 for none).
pub fn mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, count) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if count == 0 {
        0.0
    } else {
        sum / count as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn places_line_up_by_value_for_numbers_and_by_position_for_letters() {
        // 1291 answered 291: units, tens and hundreds right, thousands missing.
        assert_eq!(
            per_place(&chars("291"), &chars("1291"), Alignment::Right),
            [false, true, true, true]
        );
        // 1291 answered 1391: only the hundreds wrong.
        assert_eq!(
            per_place(&chars("1391"), &chars("1291"), Alignment::Right),
            [true, false, true, true]
        );
        // An extra leading digit shifts nothing from the right.
        assert_eq!(
            per_place(&chars("11291"), &chars("1291"), Alignment::Right),
            [true, true, true, true]
        );
        assert_eq!(
            per_place(&chars("ehw"), &chars("ehuw"), Alignment::Left),
            [true, true, false, false]
        );
        assert!(exact_match(&chars("1291"), &chars("1291")));
        assert!(!exact_match(&chars("11291"), &chars("1291")));
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance(&[1, 2, 3], &[1, 2, 3]), 0);
        assert_eq!(edit_distance(&[1, 2, 3], &[1, 3]), 1);
        assert_eq!(edit_distance(&[1, 2, 3], &[1, 9, 3, 4]), 2);
        assert_eq!(edit_distance::<u32>(&[], &[7, 8]), 2);
    }

    #[test]
    fn probability_summaries_are_exact() {
        let logprobs = [0.5f64.ln(), 0.125f64.ln()];
        assert!((sequence_probability(&logprobs) - 0.0625).abs() < 1e-12);
        assert!((geometric_mean_probability(&logprobs) - 0.25).abs() < 1e-12);
        assert_eq!(rank_of_first(&[-1.0, -2.0, -1.5]), 1);
        assert_ne!(rank_of_first(&[-1.0, -1.0]), 1);
        assert_eq!(rank_of_first(&[-3.0, -1.0, -2.0, -4.0]), 3);
        assert_eq!(mean([1.0, 0.0, 0.5]), 0.5);
        assert_eq!(mean(std::iter::empty()), 0.0);
        let p = normalized(&[0.25f64.ln(), 0.5f64.ln(), 0.25f64.ln()]);
        assert!((p[1] - 0.5).abs() < 1e-12 && (p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((brier(&[0.25; 4], 0) - 0.75).abs() < 1e-12);
        assert_eq!(brier(&[1.0, 0.0], 0), 0.0);
        assert_eq!(brier(&[0.0, 1.0], 0), 2.0);
    }
}
