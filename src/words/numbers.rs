//! How detprob writes a number for a person: shares as percentages, a
//! share or a mean with its interval, a parameter count as people say it.
//! The same in every language.

use crate::stats::Interval;

/// A share as a percentage with one decimal.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", 100.0 * share)
}

/// A share in whole percents (a chance level).
pub fn whole_percent(share: f64) -> String {
    format!("{:.0}%", 100.0 * share)
}

/// A share with its interval (whole percents): `26.7% [20–35]`.
pub fn share_with(value: f64, interval: &Interval) -> String {
    format!(
        "{} [{:.0}–{:.0}]",
        percent(value),
        100.0 * interval.low,
        100.0 * interval.high
    )
}

/// A mean (not a share) with its interval: `1.47 [1.2–1.8]`.
pub fn mean_with(value: f64, interval: &Interval) -> String {
    format!("{value:.2} [{:.1}–{:.1}]", interval.low, interval.high)
}

/// A parameter count as people say it: `135M`, `1.54B`.
pub fn parameter_count(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.2}B", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.0}M", n / 1e6)
    } else {
        format!("{n:.0}")
    }
}

/// 134515008 → "134,515,008".
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_in_threes() {
        assert_eq!(group_digits(134_515_008), "134,515,008");
        assert_eq!(group_digits(999), "999");
    }
}
