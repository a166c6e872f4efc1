//! Where the truth of an input comes from: given by the user, a trusted
//! rule's answer, or detprob's labelled data.

use crate::report::compare::{Truth, TruthSource};
use crate::rules::{LeapYear, Rule, RuleOutcome};
use crate::tasks::{self, Task};

use super::CompareInput;

/// The truth for `input`: given, else a trusted rule's answer, else data.
pub fn find_truth(rule: &dyn Rule, outcome: &RuleOutcome, input: &CompareInput) -> Option<Truth> {
    if let Some(answer) = &input.truth {
        return Some(Truth {
            answer: answer.clone(),
            source: TruthSource::Given,
        });
    }
    if let (true, Some(answer)) = (rule.trusted(), outcome.answer()) {
        return Some(Truth {
            answer: answer.to_string(),
            source: TruthSource::Rule,
        });
    }
    let data = |answer: &str| {
        Some(Truth {
            answer: answer.to_string(),
            source: TruthSource::Data,
        })
    };
    match rule.task() {
        Task::LeapYear => LeapYear.apply(&input.text).outcome.answer().map(|a| Truth {
            answer: a.to_string(),
            source: TruthSource::Rule,
        }),
        Task::Capital => {
            let country = crate::rules::english_country(&crate::rules::country_in(&input.text))
                .to_lowercase();
            if tasks::fictional_countries()
                .iter()
                .any(|c| c.to_lowercase() == country)
            {
                return data(tasks::NO_SUCH_COUNTRY);
            }
            if let Some((_, city)) = tasks::extra_capitals()
                .into_iter()
                .find(|(c, _)| c.to_lowercase() == country)
            {
                return data(city);
            }
            tasks::labelled_truth(&input.text).and_then(data)
        }
        _ => tasks::labelled_truth(&input.text).and_then(data),
    }
}
