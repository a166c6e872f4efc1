//! The sample grid: temperatures × seeds × answer length, parsed and
//! bounded once, and the list syntax every command's list flags share.

use crate::error::{invalid, InputError};
use crate::report::compare::SampleGrid;
use crate::sampler::Sampling;

impl SampleGrid {
    /// A grid of already-parsed temperatures and seeds.
    pub fn new(
        temperatures: Vec<f64>,
        seeds: Vec<u64>,
        max_tokens: usize,
    ) -> Result<Self, InputError> {
        if max_tokens == 0 {
            return Err(invalid("max tokens must be at least 1"));
        }
        Ok(Self {
            temperatures,
            seeds,
            max_tokens,
        })
    }

    /// Parses `"0,0.7,1.2"` and `"1..5"` (inclusive) or `"1,2,9"`.
    pub fn parse(temperatures: &str, seeds: &str, max_tokens: usize) -> Result<Self, InputError> {
        Self::new(
            parse_temperatures(temperatures)?,
            parse_seeds(seeds)?,
            max_tokens,
        )
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
