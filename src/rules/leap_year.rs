//! `leap-year`: the Gregorian rule — divisible by 4, except centuries, except
//! centuries divisible by 400.

use super::{Rule, RuleError, RuleOutcome, RuleRun, TraceStep};
use crate::here;
use crate::tasks::Task;
use crate::words::Phrase;

/// The Gregorian leap-year rule.
pub struct LeapYear;

/// The first whole number in `input`, read as a year.
pub fn year_in(input: &str) -> Result<u64, RuleError> {
    input
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| !w.is_empty())
        .ok_or_else(|| RuleError::CannotParse(Phrase::new("rule.error.no_year")))?
        .parse()
        .map_err(|_| RuleError::CannotParse(Phrase::new("rule.error.year_too_large")))
}

/// The year in `input`, or the finished run that reports why there is none.
pub fn year_or_error(input: &str) -> Result<u64, RuleRun> {
    year_in(input).map_err(|error| RuleRun {
        outcome: RuleOutcome::Error { error },
        trace: Vec::new(),
    })
}

/// Affinity shared by both leap-year rules: the question names a leap year
/// ("leap", or "闰年" in Chinese).
pub fn leap_affinity(input: &str) -> u8 {
    if input.to_lowercase().contains("leap") || input.contains("闰年") {
        3
    } else {
        0
    }
}

/// "`year` mod `divisor` = r → `result`", one test of the rule.
fn remainder(year: u64, divisor: u64, result: impl Into<Phrase>) -> Phrase {
    Phrase::new("rule.detail.remainder")
        .arg("year", year)
        .arg("divisor", divisor)
        .arg("remainder", year % divisor)
        .arg("result", result)
}

/// "yes" or "no" as a word of the trace (translated, unlike the answer).
pub(crate) fn yes_no_word(yes: bool) -> Phrase {
    Phrase::new(if yes {
        "rule.detail.yes"
    } else {
        "rule.detail.no"
    })
}

pub fn yes_no(leap: bool) -> String {
    if leap { "yes" } else { "no" }.to_string()
}

impl Rule for LeapYear {
    fn name(&self) -> &'static str {
        "leap-year"
    }

    fn summary(&self) -> Phrase {
        Phrase::new("rule.summary.leap_year")
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
        let mut trace = vec![TraceStep::new(
            Phrase::new("rule.step.extract_year"),
            year.to_string(),
            here!(),
        )];
        // Each test runs only if the one before it did not settle the answer.
        let by_4 = year % 4 == 0;
        trace.push(TraceStep::new(
            Phrase::new("rule.step.divisible_by_4"),
            remainder(year, 4, yes_no_word(by_4)),
            here!(),
        ));
        let leap = by_4 && {
            let century = year % 100 == 0;
            let kind = if century {
                "rule.detail.century"
            } else {
                "rule.detail.not_century"
            };
            trace.push(TraceStep::new(
                Phrase::new("rule.step.century"),
                remainder(year, 100, Phrase::new(kind)),
                here!(),
            ));
            !century || {
                let by_400 = year % 400 == 0;
                trace.push(TraceStep::new(
                    Phrase::new("rule.step.divisible_by_400"),
                    remainder(year, 400, yes_no_word(by_400)),
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
    fn the_trace_reads_in_chinese_with_its_numbers_unchanged() {
        use crate::words::Lang;
        let run = LeapYear.apply("Is 1900 a leap year?");
        let steps: Vec<String> = run
            .trace
            .iter()
            .map(|s| format!("{}：{}", s.rule.text(Lang::Zh), s.detail.text(Lang::Zh)))
            .collect();
        assert_eq!(
            steps,
            vec![
                "提取年份：1900",
                "能被 4 整除吗？：1900 mod 4 = 0 → 是",
                "整百年吗？：1900 mod 100 = 0 → 整百年",
                "能被 400 整除吗？：1900 mod 400 = 300 → 否",
            ]
        );
    }

    #[test]
    fn the_trace_shows_only_the_tests_that_ran() {
        let details = |year: u64| -> Vec<String> {
            LeapYear.apply(&format!("Is {year} a leap year?")).trace[1..]
                .iter()
                .map(|s| s.detail.to_string())
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
