//! `sentiment`: a keyword lexicon (`sentiment_lexicon.txt`). Each word found
//! adds its polarity; a positive sum is positive, a negative sum negative,
//! zero neutral.
//!
//! Known blind spot, kept on purpose: the rule ignores negation, so
//! "not bad at all" counts "bad" and reads as **negative**. This is a
//! systematic, reproducible logic error — the same wrong answer every run,
//! at one named rule (`lexicon word`) — and is what a class compares with the
//! model's kind of error. Chinese lexicon words are found anywhere in the
//! text (Chinese has no spaces between words), with the same blind spot:
//! "这部电影不好看。" counts "好看" and reads as **positive**.

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

/// The lexicon's Chinese words found in `input`, in the order they occur.
fn chinese_words(input: &str) -> impl Iterator<Item = String> {
    let mut found: Vec<(usize, &String)> = lexicon()
        .keys()
        .filter(|w| !w.is_ascii())
        .flat_map(|w| input.match_indices(w.as_str()).map(move |(at, _)| (at, w)))
        .collect();
    found.sort();
    found.into_iter().map(|(_, w)| w.clone())
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
        if words.iter().any(|w| w == "sentiment" || w == "review")
            || ["正面", "负面", "情感", "评价"]
                .iter()
                .any(|w| input.contains(w))
        {
            2
        } else if words.iter().any(|w| lexicon().contains_key(w))
            || chinese_words(input).next().is_some()
        {
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
        for word in words(input).into_iter().chain(chinese_words(input)) {
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
    fn chinese_words_count_and_negation_is_ignored_there_too() {
        assert_eq!(label("这部电影很精彩，我很喜欢。"), "positive");
        assert_eq!(label("无聊又让人失望"), "negative");
        let run = Sentiment.apply("这部电影不好看。");
        assert_eq!(
            run.outcome.display(),
            "positive",
            "不 is ignored, as 'not' is"
        );
        assert!(run.trace[0].detail.to_string().contains("\"好看\" +1"));
        assert!(Sentiment.affinity("这部电影不好看。这句话是正面还是负面？") >= 2);
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
