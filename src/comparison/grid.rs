//! The sample grid: temperatures × seeds × answer length.

use crate::error::{invalid, InputError};
use crate::options::{parse_seeds, parse_temperatures};
use crate::report::compare::SampleGrid;
use crate::sampler::Temperature;

impl SampleGrid {
    /// A grid of already-parsed temperatures and seeds.
    pub fn new(
        temperatures: Vec<Temperature>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_parse_lists_and_inclusive_ranges() {
        let grid = SampleGrid::parse("0, 0.7,1.2", "1..5", 32).unwrap();
        assert_eq!(
            grid.temperatures
                .iter()
                .map(|t| t.value())
                .collect::<Vec<_>>(),
            vec![0.0, 0.7, 1.2]
        );
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
