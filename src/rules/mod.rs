//! The conventional side of detprob: rule-based functions. Each rule is pure
//! (the same input always gives the same output), says whether an input is in
//! its domain, returns an answer or an explicit error, and records a trace of
//! every step it took — the "every step traceable" side of the comparison.

mod arithmetic;
mod capitals;
mod leap_year;
mod leap_year_buggy;
mod no_rule;
mod sentiment;
mod units;

use serde::Serialize;

use crate::tasks::Task;
use crate::words::Phrase;

pub use arithmetic::{parse_decimal, Arithmetic};
pub use capitals::{chinese_names, country_in, english_country, Capitals};
pub use leap_year::LeapYear;
pub use leap_year_buggy::LeapYearBuggy;
pub use no_rule::NoRuleFits;
pub use sentiment::Sentiment;
pub use units::Units;

/// A conventional, rule-based function.
pub trait Rule: Sync {
    /// Name used with `--rule`.
    fn name(&self) -> &'static str;
    /// One line on what the rule does.
    fn summary(&self) -> Phrase;
    /// The task whose prompt template and answer extractor the model side uses.
    fn task(&self) -> Task;
    /// How clearly `input` belongs to this rule's domain: 0 not at all, higher
    /// is clearer. `compare` picks the rule with the highest affinity.
    fn affinity(&self, input: &str) -> u8;
    /// Applies the rule.
    fn apply(&self, input: &str) -> RuleRun;
    /// Whether the rule's answers are correct by construction, so they can
    /// serve as the truth (false for rules with known blind spots or bugs).
    fn trusted(&self) -> bool {
        true
    }
}

/// What a rule did with one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRun {
    /// The answer, or why there is none.
    pub outcome: RuleOutcome,
    /// Every step the rule took, in order.
    pub trace: Vec<TraceStep>,
}

/// A rule's answer or explicit error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleOutcome {
    /// The rule answered.
    Answer {
        /// The answer, in canonical form (a number, a city, `yes`/`no`, …).
        value: String,
    },
    /// The rule refused, and says why.
    Error {
        /// The explicit error.
        error: RuleError,
    },
}

impl RuleOutcome {
    /// The answer, if there is one.
    pub fn answer(&self) -> Option<&str> {
        match self {
            Self::Answer { value } => Some(value),
            Self::Error { .. } => None,
        }
    }

    /// The outcome as one line of English text.
    pub fn display(&self) -> String {
        self.phrase().to_string()
    }

    /// The outcome as words: the answer as it is, or "error: …".
    pub fn phrase(&self) -> Phrase {
        match self {
            Self::Answer { value } => Phrase::data(value.as_str()),
            Self::Error { error } => Phrase::new("panel.error").arg("error", error.phrase()),
        }
    }
}

/// Why a rule gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum RuleError {
    /// The input is outside the rule's grammar.
    #[error("cannot parse: {0}")]
    CannotParse(Phrase),
    /// The key is not in the rule's table.
    #[error("not in table: {0}")]
    NotInTable(Phrase),
    /// The operation is undefined (e.g. division by zero).
    #[error("undefined: {0}")]
    Undefined(Phrase),
    /// No rule's domain covers the input (the detail lists the rules).
    #[error("no rule fits: {0}")]
    NoRuleFits(Phrase),
}

impl RuleError {
    /// The error in `lang`: the kind from the catalogue, the detail as the
    /// rule wrote it (a country's name, the text it could not read).
    pub fn describe(&self, lang: crate::words::Lang) -> String {
        self.phrase().text(lang)
    }

    /// The error in `lang` in a table cell beside its input: a key missing
    /// from the table is not repeated (its row shows the input).
    pub fn describe_beside_input(&self, lang: crate::words::Lang) -> String {
        match self {
            Self::NotInTable(_) => lang
                .text("rule_error.beside_input.not_in_table")
                .to_string(),
            other => other.describe(lang),
        }
    }

    /// The error as words for a report: its kind and its detail.
    pub fn phrase(&self) -> Phrase {
        let (key, detail) = match self {
            Self::CannotParse(d) => ("rule_error.cannot_parse", d),
            Self::NotInTable(d) => ("rule_error.not_in_table", d),
            Self::Undefined(d) => ("rule_error.undefined", d),
            Self::NoRuleFits(d) => ("rule_error.no_rule_fits", d),
        };
        Phrase::new(key).arg("detail", detail.clone())
    }
}

/// One step of a rule's trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceStep {
    /// Which rule or operation fired.
    pub rule: Phrase,
    /// What it did.
    pub detail: Phrase,
    /// Where in detprob's source the step is implemented (`file:line`).
    pub source: String,
    /// Whether this step decided the answer (a wrong answer is blamed on the
    /// first decisive step; when none is marked, on the last step).
    pub decisive: bool,
}

impl TraceStep {
    /// A step implemented at `source`.
    pub fn new(rule: impl Into<Phrase>, detail: impl Into<Phrase>, source: String) -> Self {
        Self {
            rule: rule.into(),
            detail: detail.into(),
            source,
            decisive: false,
        }
    }

    /// Marks the step as one that decided the answer.
    pub fn decisive(mut self) -> Self {
        self.decisive = true;
        self
    }
}

/// The step a wrong answer is blamed on: the first decisive step, else the last.
pub fn decisive_step(trace: &[TraceStep]) -> Option<&TraceStep> {
    trace.iter().find(|s| s.decisive).or(trace.last())
}

/// `file:line` of the caller, for trace steps.
#[macro_export]
macro_rules! here {
    () => {
        format!("{}:{}", file!(), line!())
    };
}

/// Every rule, in the order `compare` considers them.
pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &Arithmetic,
        &Capitals,
        &Sentiment,
        &Units,
        &LeapYear,
        &LeapYearBuggy,
    ]
}

/// The rule called `name`; an unknown name is an input error that lists the rules.
pub fn by_name(name: &str) -> Result<&'static dyn Rule, crate::error::InputError> {
    all()
        .into_iter()
        .find(|r| r.name() == name)
        .ok_or_else(|| crate::error::invalid(format!("unknown rule '{name}' (rules: {})", names())))
}

/// The rule whose domain fits `input` best (ties: the earlier rule), or
/// `None` when no rule claims it.
pub fn pick(input: &str) -> Option<&'static dyn Rule> {
    let mut best: Option<(&'static dyn Rule, u8)> = None;
    for rule in all() {
        let affinity = rule.affinity(input);
        if affinity > 0 && best.is_none_or(|(_, b)| affinity > b) {
            best = Some((rule, affinity));
        }
    }
    best.map(|(rule, _)| rule)
}

/// Every capital city in the `capitals` rule's table.
pub fn capital_cities() -> Vec<&'static str> {
    capitals::entries()
        .iter()
        .map(|e| e.capital.as_str())
        .collect()
}

/// The capital the rule's table gives `country` (its English name).
pub fn capitals_of(country: &str) -> Option<&'static str> {
    capitals::entries()
        .iter()
        .find(|e| e.country == country)
        .map(|e| e.capital.as_str())
}

/// The names of all rules, comma-separated.
pub fn names() -> String {
    all()
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lower-cased words of `input` (letters, digits and apostrophes).
pub(crate) fn words(input: &str) -> Vec<String> {
    input
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('’', "'"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_go_to_the_rule_of_their_domain() {
        let cases = [
            ("What is 17 + 25?", "arithmetic"),
            ("seventeen plus twenty-five", "arithmetic"),
            ("What is the capital of France?", "capitals"),
            ("It's not bad at all.", "sentiment"),
            ("Convert 100 °C to °F", "units"),
            ("Is 1900 a leap year?", "leap-year"),
            ("1900年是闰年吗？", "leap-year"),
            ("法国的首都是哪里？", "capitals"),
            ("不丹的首都是什么？", "capitals"),
            ("48 × 52 等于多少？", "arithmetic"),
            ("四十八乘以五十二", "arithmetic"),
            ("100摄氏度是多少华氏度？", "units"),
            ("这部电影不好看。", "sentiment"),
        ];
        for (input, rule) in cases {
            assert_eq!(pick(input).map(|r| r.name()), Some(rule), "{input}");
        }
    }

    #[test]
    fn every_rule_is_found_by_name() {
        for rule in all() {
            assert_eq!(by_name(rule.name()).unwrap().name(), rule.name());
        }
        let error = by_name("astrology").err().expect("no such rule");
        assert!(error
            .to_string()
            .starts_with("unknown rule 'astrology' (rules: arithmetic,"));
    }

    /// Each rule's answer to a question in its domain, and its explicit
    /// refusal of one outside it, pinned to literal values.
    #[test]
    fn each_rule_answers_its_question_and_refuses_another() {
        let cases = [
            ("arithmetic", "What is 12 * 12?", Some("144")),
            ("arithmetic", "capital of Peru", None),
            ("capitals", "capital of Peru", Some("Lima")),
            ("capitals", "capital of Atlantis", None),
            ("sentiment", "This film is great", Some("positive")),
            ("units", "5 km to miles", Some("3.10686")),
            ("units", "5 km to kelvin", None),
            ("leap-year", "Is 1900 a leap year?", Some("no")),
            ("leap-year", "Is 2000 a leap year?", Some("yes")),
            ("leap-year-buggy", "Is 1900 a leap year?", Some("yes")),
        ];
        for (rule, input, expected) in cases {
            let run = by_name(rule).unwrap().apply(input);
            assert_eq!(run.outcome.answer(), expected, "{rule}: {input}");
            if expected.is_some() {
                assert!(!run.trace.is_empty(), "{rule} left no trace for {input}");
            }
        }
    }
}
