//! `leap-year`: the Gregorian rule — divisible by 4, except centuries, except
//! centuries divisible by 400.

use super::{Rule, RuleError, RuleOutcome, RuleRun, TraceStep};
use crate::here;
use crate::tasks::Task;

/// The Gregorian leap-year rule.
pub struct LeapYear;

/// The first whole number in `input`, read as a year.
pub fn year_in(input: &str) -> Result<u64, RuleError> {
    input
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| !w.is_empty())
        .ok_or_else(|| RuleError::CannotParse("no year (digits) in the input".into()))?
        .parse()
        .map_err(|_| RuleError::CannotParse("the year is too large".into()))
}

/// The year in `input`, or the finished run that reports why there is none.
pub fn year_or_error(input: &str) -> Result<u64, RuleRun> {
    year_in(input).map_err(|error| RuleRun {
        outcome: RuleOutcome::Error { error },
        trace: Vec::new(),
    })
}

/// Affinity shared by both leap-year rules.
pub fn leap_affinity(input: &str) -> u8 {
    if input.to_lowercase().contains("leap") {
        3
    } else {
        0
    }
}

/// "yes" or "no".
pub fn yes_no(leap: bool) -> String {
    if leap { "yes" } else { "no" }.to_string()
}

impl Rule for LeapYear {
    fn name(&self) -> &'static str {
        "leap-year"
    }

    fn summary(&self) -> &'static str {
        "divisible by 4, except centuries, except centuries divisible by 400"
    }

    fn task(&self) -> Task {
        Task::LeapYear
    }

    fn affinity(&self, input: &str) -> u8 {
        leap_affinity(input)
    }

    fn apply(&self, input: &str) -> RuleRun {
        let year = match year_or_error(input) {
            Ok(year) => year,
            Err(run) => return run,
        };
        let mut trace = vec![TraceStep::new("extract year", year.to_string(), here!())];
        // Each test runs only if the one before it did not settle the answer.
        let by_4 = year % 4 == 0;
        trace.push(TraceStep::new(
            "divisible by 4?",
            format!("{year} mod 4 = {} → {}", year % 4, yes_no(by_4)),
            here!(),
        ));
        let leap = by_4 && {
            let century = year % 100 == 0;
            let kind = if century { "century" } else { "not a century" };
            trace.push(TraceStep::new(
                "century?",
                format!("{year} mod 100 = {} → {kind}", year % 100),
                here!(),
            ));
            !century || {
                let by_400 = year % 400 == 0;
                trace.push(TraceStep::new(
                    "divisible by 400?",
                    format!("{year} mod 400 = {} → {}", year % 400, yes_no(by_400)),
                    here!(),
                ));
                by_400
            }
        };
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

    #[test]
    fn the_gregorian_rule_handles_every_branch() {
        for (year, leap) in [
            (2024, "yes"),
            (2023, "no"),
            (1900, "no"),
            (2000, "yes"),
            (2100, "no"),
            (4, "yes"),
        ] {
            let run = LeapYear.apply(&format!("Is {year} a leap year?"));
            assert_eq!(run.outcome.answer(), Some(leap), "{year}");
        }
    }

    #[test]
    fn the_trace_shows_only_the_tests_that_ran() {
        let details = |year: u64| -> Vec<String> {
            LeapYear.apply(&format!("Is {year} a leap year?")).trace[1..]
                .iter()
                .map(|s| s.detail.clone())
                .collect()
        };
        assert_eq!(details(2023), vec!["2023 mod 4 = 3 → no"]);
        assert_eq!(
            details(2024),
            vec!["2024 mod 4 = 0 → yes", "2024 mod 100 = 24 → not a century"]
        );
        assert_eq!(
            details(1900),
            vec![
                "1900 mod 4 = 0 → yes",
                "1900 mod 100 = 0 → century",
                "1900 mod 400 = 300 → no"
            ]
        );
    }

    #[test]
    fn a_question_without_a_year_is_an_error() {
        assert!(LeapYear
            .apply("Is this a leap year?")
            .outcome
            .display()
            .starts_with("error: cannot parse"));
    }
}
