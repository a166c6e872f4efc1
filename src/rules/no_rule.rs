//! `none`: the program's side of an input that no rule's domain covers. It
//! does what a conventional program does outside what it was written for:
//! refuse, explicitly and every time, while the model still answers.

use super::{Rule, RuleError, RuleOutcome, RuleRun, TraceStep};
use crate::here;
use crate::tasks::Task;
use crate::words::Phrase;

/// The refusal given for an input that no rule claims.
pub struct NoRuleFits;

impl Rule for NoRuleFits {
    fn name(&self) -> &'static str {
        "none"
    }

    fn summary(&self) -> Phrase {
        Phrase::new("rule.summary.none")
    }

    fn task(&self) -> Task {
        Task::Open
    }

    fn affinity(&self, _input: &str) -> u8 {
        0
    }

    fn apply(&self, _input: &str) -> RuleRun {
        let rules = super::names();
        RuleRun {
            outcome: RuleOutcome::Error {
                error: RuleError::NoRuleFits(Phrase::data(rules.as_str())),
            },
            trace: vec![TraceStep::new(
                Phrase::new("rule.step.choose_rule"),
                Phrase::new("rule.detail.no_rule_fits").arg("rules", rules),
                here!(),
            )
            .decisive()],
        }
    }

    /// It answers nothing, so it is never the truth.
    fn trusted(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_refuses_every_input_explicitly_and_claims_none() {
        for input in ["مرحبا بالعالم", "hello\u{7} world", "2+2"] {
            assert_eq!(NoRuleFits.affinity(input), 0);
            let run = NoRuleFits.apply(input);
            assert_eq!(run.outcome.answer(), None);
            assert!(matches!(
                run.outcome,
                RuleOutcome::Error {
                    error: RuleError::NoRuleFits(_)
                }
            ));
            assert_eq!(run.trace.len(), 1);
        }
        assert!(super::super::all().iter().all(|r| r.name() != "none"));
    }
}
