//! `leap-year-buggy`: the leap-year rule with a deliberately planted bug — it
//! forgets the century rule, so 1900 and 2100 come out as leap years.
//!
//! The bug is one line (marked `PLANTED BUG` below) and its trace step names
//! that line, so a class sees that a program's bug is deterministic,
//! reproducible, and fixable at one known place.

use super::leap_year::{leap_affinity, year_or_error, yes_no};
use super::{Rule, RuleOutcome, RuleRun, TraceStep};
use crate::here;
use crate::tasks::Task;
use crate::words::Phrase;

/// The leap-year rule without its century exception (a planted bug).
pub struct LeapYearBuggy;

impl Rule for LeapYearBuggy {
    fn name(&self) -> &'static str {
        "leap-year-buggy"
    }

    fn summary(&self) -> Phrase {
        Phrase::new("rule.summary.leap_year_buggy")
    }

    fn task(&self) -> Task {
        Task::LeapYear
    }

    fn affinity(&self, input: &str) -> u8 {
        // Never preferred over the correct rule; chosen with --rule.
        leap_affinity(input).saturating_sub(1)
    }

    fn trusted(&self) -> bool {
        false
    }

    fn apply(&self, input: &str) -> RuleRun {
        let year = match year_or_error(input) {
            Ok(year) => year,
            Err(run) => return run,
        };
        #[rustfmt::skip]
        let (leap, bug_at) = (year % 4 == 0, here!()); // PLANTED BUG: the century exceptions (÷100, ÷400) are missing.
        let trace = vec![
            TraceStep::new(
                Phrase::new("rule.step.extract_year"),
                year.to_string(),
                here!(),
            ),
            TraceStep::new(
                Phrase::new("rule.step.divisible_by_4"),
                Phrase::new("rule.detail.remainder_bug")
                    .arg("year", year)
                    .arg("remainder", year % 4)
                    .arg("result", super::leap_year::yes_no_word(leap)),
                bug_at,
            )
            .decisive(),
        ];
        RuleRun {
            outcome: RuleOutcome::Answer {
                value: yes_no(leap),
            },
            trace,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::LeapYear;

    #[test]
    fn the_planted_bug_gets_centuries_wrong_and_only_centuries() {
        for year in 1890..2110 {
            let input = format!("Is {year} a leap year?");
            let buggy = LeapYearBuggy.apply(&input).outcome;
            let correct = LeapYear.apply(&input).outcome;
            let is_bug_case = year % 100 == 0 && year % 400 != 0;
            assert_eq!(buggy != correct, is_bug_case, "{year}");
        }
    }

    #[test]
    fn the_bug_is_the_same_every_run_and_named_in_the_trace() {
        let runs: Vec<_> = (0..5)
            .map(|_| LeapYearBuggy.apply("Is 1900 a leap year?"))
            .collect();
        assert!(runs.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(runs[0].outcome.answer(), Some("yes"));
        assert!(runs[0].trace[1]
            .detail
            .to_string()
            .contains("century rule missing"));
        let source = include_str!("leap_year_buggy.rs");
        let line: usize = runs[0].trace[1]
            .source
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let marker = "PLANTED BUG";
        assert!(
            source.lines().nth(line - 1).unwrap().contains(marker),
            "trace points at line {line}"
        );
    }
}
