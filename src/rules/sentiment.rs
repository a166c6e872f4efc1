//! `sentiment`: a keyword lexicon (`sentiment_lexicon.txt`). Each word found
//! adds its polarity; a positive sum is positive, a negative sum negative,
//! zero neutral.
//!
//! Known blind spot, kept on purpose: the rule ignores negation, so
//! "not bad at all" counts "bad" and reads as **negative**. This is a
//! systematic, reproducible logic error — the same wrong answer every run,
//! at one named rule (`lexicon word`) — and is what a class compares with the
//! model's kind of error.

use crate::words::Phrase;
use std::collections::HashMap;
use std::sync::OnceLock;

use super::{words, Rule, RuleOutcome, RuleRun, TraceStep};
use crate::here;
use crate::tasks::Task;

/// Keyword-lexicon sentiment.
pub struct Sentiment;

fn lexicon() -> &'static HashMap<String, i32> {
    static LEXICON: OnceLock<HashMap<String, i32>> = OnceLock::new();
    LEXICON.get_or_init(|| {
        include_str!("sentiment_lexicon.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let (word, polarity) = l.split_once('\t').expect("word<TAB>polarity");
                (word.to_string(), polarity.trim().parse().expect("polarity"))
            })
            .collect()
    })
}

impl Rule for Sentiment {
    fn name(&self) -> &'static str {
        "sentiment"
    }

    fn summary(&self) -> Phrase {
        Phrase::new("rule.summary.sentiment")
    }

    fn task(&self) -> Task {
        Task::Sentiment
    }

    fn affinity(&self, input: &str) -> u8 {
        let words = words(input);
        if words.iter().any(|w| w == "sentiment" || w == "review") {
            2
        } else if words.iter().any(|w| lexicon().contains_key(w)) {
            1
        } else {
            0
        }
    }

    fn trusted(&self) -> bool {
        false
    }

    fn apply(&self, input: &str) -> RuleRun {
        let mut trace = Vec::new();
        let mut score = 0;
        for word in words(input) {
            if let Some(&polarity) = lexicon().get(&word) {
                score += polarity;
                trace.push(
                    TraceStep::new(
                        Phrase::new("rule.step.lexicon_word"),
                        Phrase::new("rule.detail.lexicon_word")
                            .arg("word", format!("{word:?}"))
                            .arg("polarity", format!("{polarity:+}"))
                            .arg("sum", format!("{score:+}")),
                        here!(),
                    )
                    .decisive(),
                );
            }
        }
        let label = match score.signum() {
            1 => "positive",
            -1 => "negative",
            _ => "neutral",
        };
        trace.push(TraceStep::new(
            Phrase::new("rule.step.sign_of_sum"),
            format!("{score:+} → {label}"),
            here!(),
        ));
        RuleRun {
            outcome: RuleOutcome::Answer {
                value: label.into(),
            },
            trace,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(input: &str) -> String {
        Sentiment.apply(input).outcome.display()
    }

    #[test]
    fn keywords_decide_the_label() {
        assert_eq!(label("A wonderful, brilliant film."), "positive");
        assert_eq!(label("Boring and far too slow."), "negative");
        assert_eq!(label("The film is two hours long."), "neutral");
        assert_eq!(
            label("Good acting, terrible plot, awful ending."),
            "negative"
        );
    }

    #[test]
    fn negation_is_a_systematic_blind_spot() {
        // Documented logic error: "not bad at all" is praise, the rule says negative,
        // and it says so every time, at the same rule.
        let run = Sentiment.apply("It's not bad at all.");
        assert_eq!(run.outcome.display(), "negative");
        assert_eq!(run.trace[0].rule.to_string(), "lexicon word");
        assert!(run.trace[0].detail.to_string().contains("\"bad\" -1"));
        assert_eq!(Sentiment.apply("not good").outcome.display(), "positive");
    }
}
