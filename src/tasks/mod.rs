//! Tasks: what the model is asked, how its answer is read, and how it is
//! scored. Each rule belongs to one task; the prompt templates are data
//! (`prompts.toml`), and the answer extractors are documented here.
//!
//! Answer extractors (applied to the model's text):
//! - **number** (arithmetic, unit conversion): the first number after the
//!   last `=` (none if nothing follows it: the answer never came); otherwise
//!   the first number that is not part of an expression and does not repeat
//!   a number of the question (an echo is no answer), looking after the last
//!   " is " first — optional sign, digits with optional thousands commas,
//!   optional decimals; a text with no digits is read as English number
//!   words ("sixty-five").
//! - **city** (capital): the first capital city from detprob's tables that the
//!   text mentions; failing that, "no such country" if the text says the
//!   country does not exist or is fictional; failing that, the capitalised
//!   word run that leads the text or follows "known as", "called" or " is ",
//!   skipping the name of the country asked about (an echo is no answer).
//! - **label** (sentiment): the label the text opens with, else the last of
//!   "positive", "negative", "neutral" it mentions.
//! - **yes/no** (leap year): a leading "yes"/"no", else "is not/isn't a leap
//!   year" → no, "is a leap year" → yes.
//! - **reply** (an open question, outside every rule's domain): the reply's
//!   first non-blank line, as the model wrote it.
//!
//! Scoring: numbers are equal when they differ by at most 1e-9 relative
//! (arithmetic) or 0.5 % relative (unit conversion, where rounding is
//! expected); other answers compare case-insensitively.

pub mod extract;
pub mod metrics;

use crate::generation::StopReason;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::{invalid, InputError};
use crate::prompt::PromptFormat;

/// A kind of question, shared by a rule and the model prompt that asks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Evaluate an arithmetic expression.
    Arithmetic,
    /// Name a country's capital.
    Capital,
    /// Say whether a text is positive or negative.
    Sentiment,
    /// Convert a quantity between units.
    UnitConversion,
    /// Say whether a year is a leap year.
    LeapYear,
    /// An open question no rule's domain covers: the model is asked it as
    /// it is, and its reply is its answer.
    Open,
}

impl Task {
    /// The key of this task in `prompts.toml`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Arithmetic => "arithmetic",
            Self::Capital => "capital",
            Self::Sentiment => "sentiment",
            Self::UnitConversion => "unit_conversion",
            Self::LeapYear => "leap_year",
            Self::Open => "open",
        }
    }

    /// Reads the answer to `input` out of the model's text (see the module docs).
    pub fn extract(self, input: &str, text: &str) -> Option<String> {
        match self {
            Self::Arithmetic | Self::UnitConversion => extract::number(input, text),
            Self::Capital => extract::city(input, text),
            Self::Sentiment => extract::label(text),
            Self::LeapYear => extract::yes_no(text),
            Self::Open => extract::first_line(text),
        }
    }

    /// The answer read from `text`, a completion of `input` that stopped for
    /// `stop`, and whether the token limit cut it off before its answer was
    /// whole (then no answer is read: see [`runs_into_cut`]).
    pub fn read(self, input: &str, text: &str, stop: StopReason) -> (Option<String>, bool) {
        let answer = self.extract(input, text);
        let cut = matches!(stop, StopReason::MaxTokens | StopReason::ContextFull)
            && runs_into_cut(answer.as_deref(), text);
        (answer.filter(|_| !cut), cut)
    }

    /// Whether `answer` counts as `truth` for this task.
    pub fn matches(self, answer: &str, truth: &str) -> bool {
        match self {
            Self::Arithmetic => extract::numbers_match(answer, truth, 1e-9),
            Self::UnitConversion => extract::numbers_match(answer, truth, 5e-3),
            // A fictional country's capital in its story is a known fiction,
            // not a hallucination.
            Self::Capital if truth == NO_SUCH_COUNTRY => {
                answer == NO_SUCH_COUNTRY
                    || fictional_capitals()
                        .iter()
                        .any(|c| extract::normalize(c) == extract::normalize(answer))
            }
            _ => extract::normalize(answer) == extract::normalize(truth),
        }
    }
}

/// Whether a text that stopped at the token limit was cut off before its
/// answer was whole: no answer was read, or the answer read is the word the
/// text ends on (a number or a name that may go on: "… simplified to 12"
/// read as 12 is the start of an answer, not an answer).
pub fn runs_into_cut(answer: Option<&str>, text: &str) -> bool {
    let Some(answer) = answer else {
        return true;
    };
    let normal = |s: &str| s.to_lowercase().replace(',', "");
    let text = text.trim_end();
    let tail_start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || ".,-'".contains(*c))
        .last()
        .map_or(text.len(), |(i, _)| i);
    let tail = normal(text[tail_start..].trim_end_matches('.'));
    let answer = normal(answer);
    !tail.is_empty() && (tail.ends_with(&answer) || answer.ends_with(&tail))
}

/// A prompt template pair from `prompts.toml`, with its Chinese pair for
/// questions asked in Chinese.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PromptTemplate {
    /// For instruct models (goes through the chat template).
    pub chat: String,
    /// For base models.
    pub completion: String,
    /// `chat` in Chinese.
    #[serde(default)]
    pub chat_zh: Option<String>,
    /// `completion` in Chinese.
    #[serde(default)]
    pub completion_zh: Option<String>,
}

impl PromptTemplate {
    /// The template that suits `format`, in English.
    pub fn for_format(&self, format: &PromptFormat) -> &str {
        match format {
            PromptFormat::Completion => &self.completion,
            _ => &self.chat,
        }
    }

    /// The template that suits `format` and `input`: the Chinese one for a
    /// question written in Chinese (so the model is asked in the language of
    /// the class, and the answer's instruction does not switch languages).
    pub fn for_input(&self, format: &PromptFormat, input: &str) -> &str {
        let chinese = match format {
            PromptFormat::Completion => &self.completion_zh,
            _ => &self.chat_zh,
        };
        match chinese {
            Some(template) if is_chinese(input) => template,
            _ => self.for_format(format),
        }
    }

    /// `template` with `{input}` replaced.
    pub fn fill(template: &str, input: &str) -> String {
        template.replace("{input}", input)
    }
}

/// Whether `text` is written in Chinese: it holds a CJK ideograph.
pub fn is_chinese(text: &str) -> bool {
    text.chars().any(is_ideograph)
}

/// Whether `c` is a CJK ideograph (the unified block or extension A).
pub fn is_ideograph(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c)
}

/// The built-in prompt templates.
pub fn builtin_templates() -> &'static HashMap<String, PromptTemplate> {
    static TEMPLATES: OnceLock<HashMap<String, PromptTemplate>> = OnceLock::new();
    TEMPLATES
        .get_or_init(|| toml::from_str(include_str!("prompts.toml")).expect("prompts.toml parses"))
}

/// The built-in template for `task`.
pub fn template(task: Task) -> Result<&'static PromptTemplate, InputError> {
    builtin_templates()
        .get(task.key())
        .ok_or_else(|| invalid(format!("no prompt template for task {}", task.key())))
}

/// Countries that do not exist (the truth for them is [`NO_SUCH_COUNTRY`]).
pub fn fictional_countries() -> Vec<&'static str> {
    data_lines(include_str!("fictional_countries.txt"))
        .map(|l| l.split('\t').next().unwrap_or(l))
        .collect()
}

/// The capitals that fictional countries' stories give them.
pub fn fictional_capitals() -> Vec<&'static str> {
    data_lines(include_str!("fictional_countries.txt"))
        .filter_map(|l| l.split_once('\t').map(|(_, capital)| capital.trim()))
        .collect()
}

/// Capitals of real countries the rule's table leaves out.
pub fn extra_capitals() -> Vec<(&'static str, &'static str)> {
    data_lines(include_str!("extra_capitals.tsv"))
        .filter_map(|l| l.split_once('\t'))
        .collect()
}

fn data_lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
}

/// The answer a fictional country's capital question should get.
pub const NO_SUCH_COUNTRY: &str = "no such country (fictional)";

/// An answer as words to show: an answer in words of detprob's own
/// ([`NO_SUCH_COUNTRY`]) is the catalogue's entry, any other is data shown
/// as it is (reports keep the answer itself).
pub fn answer_phrase(answer: &str) -> crate::words::Phrase {
    if answer == NO_SUCH_COUNTRY {
        crate::words::Phrase::new("answer.no_such_country")
    } else {
        crate::words::Phrase::data(answer)
    }
}

/// [`answer_phrase`] as a reader of `lang` sees it.
pub fn answer_in(answer: &str, lang: crate::words::Lang) -> String {
    answer_phrase(answer).text(lang)
}

/// The truth for `input` from `labelled_inputs.tsv`, if it is listed
/// (matched ignoring case, surrounding space and final punctuation).
pub fn labelled_truth(input: &str) -> Option<&'static str> {
    let key = |s: &str| extract::normalize(s.trim_end_matches(['.', '?', '!']));
    let wanted = key(input);
    data_lines(include_str!("labelled_inputs.tsv"))
        .filter_map(|l| l.split_once('\t'))
        .find(|(text, _)| key(text) == wanted)
        .map(|(_, truth)| truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_has_both_templates_with_the_input_slot() {
        for task in [
            Task::Arithmetic,
            Task::Capital,
            Task::Sentiment,
            Task::UnitConversion,
            Task::LeapYear,
        ] {
            let t = template(task).unwrap();
            assert!(
                t.chat.contains("{input}") && t.completion.contains("{input}"),
                "{task:?}"
            );
            let (chat_zh, completion_zh) = (
                t.chat_zh.as_deref().unwrap(),
                t.completion_zh.as_deref().unwrap(),
            );
            assert!(
                chat_zh.contains("{input}") && is_chinese(chat_zh),
                "{task:?}"
            );
            assert!(
                completion_zh.contains("{input}") && is_chinese(completion_zh),
                "{task:?}"
            );
            let chat = PromptFormat::ChatMl {
                default_system: None,
            };
            assert_eq!(t.for_input(&chat, "法国的首都是哪里？"), chat_zh);
            assert_eq!(t.for_input(&chat, "Is 1900 a leap year?"), t.chat);
            assert_eq!(
                t.for_input(&PromptFormat::Completion, "1900年是闰年吗？"),
                completion_zh
            );
        }
    }

    #[test]
    fn an_open_question_is_asked_as_it_is_and_its_first_line_is_the_answer() {
        let t = template(Task::Open).unwrap();
        let chat = PromptFormat::ChatMl {
            default_system: None,
        };
        for input in ["مرحبا بالعالم", "你好", "hello"] {
            assert_eq!(
                PromptTemplate::fill(t.for_input(&chat, input), input),
                input
            );
        }
        assert_eq!(
            Task::Open
                .extract("hi", "\n  Hello! How can I help?\nMore.")
                .as_deref(),
            Some("Hello! How can I help?")
        );
        assert_eq!(Task::Open.extract("hi", " \n "), None);
    }

    #[test]
    fn an_answer_the_token_limit_cut_is_told_from_a_whole_one() {
        let cut = "123456789 × 987654321 is a mathematical expression that can be simplified to 12";
        assert!(runs_into_cut(Some("12"), cut));
        assert!(runs_into_cut(None, "Let me think about this step by step"));
        assert!(runs_into_cut(
            Some("Can"),
            "The capital of Australia is Can"
        ));
        assert!(runs_into_cut(Some("1234"), "The product is 1,234"));
        assert!(!runs_into_cut(
            Some("Canberra"),
            "Canberra, which is a city with many"
        ));
        assert!(!runs_into_cut(Some("42"), "17 + 25 = 42, and then we"));
        assert!(!runs_into_cut(Some("Paris"), "法国的首都是巴黎，它是一座"));
    }

    #[test]
    fn numbers_are_scored_with_the_task_tolerance() {
        assert!(Task::Arithmetic.matches("42", "42"));
        assert!(!Task::Arithmetic.matches("42.0001", "42"));
        assert!(Task::UnitConversion.matches("3.11", "3.10686"));
        assert!(!Task::UnitConversion.matches("3.2", "3.10686"));
        assert!(Task::Capital.matches("paris", "Paris"));
        assert!(
            Task::Capital.matches("Birnin Zana", NO_SUCH_COUNTRY),
            "a known fiction"
        );
        assert!(Task::Capital.matches(NO_SUCH_COUNTRY, NO_SUCH_COUNTRY));
        // Shown in the reader's language; any other answer as it is.
        use crate::words::Lang;
        assert_eq!(answer_in(NO_SUCH_COUNTRY, Lang::Zh), "没有这个国家（虚构）");
        assert_eq!(answer_in(NO_SUCH_COUNTRY, Lang::En), NO_SUCH_COUNTRY);
        assert_eq!(answer_in("Birnin Zana", Lang::Zh), "Birnin Zana");
        // In a report's words (a verdict), JSON keeps the answer itself.
        assert_eq!(
            serde_json::to_string(&answer_phrase(NO_SUCH_COUNTRY)).unwrap(),
            format!("\"{NO_SUCH_COUNTRY}\"")
        );
        assert!(!Task::Capital.matches("Nairobi", NO_SUCH_COUNTRY));
        assert_eq!(fictional_countries()[0], "Wakanda");
        assert!(fictional_capitals().contains(&"Birnin Zana"));
    }
}
