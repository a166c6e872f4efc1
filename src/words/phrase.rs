//! [`Phrase`]: words that a report holds before anyone has chosen a
//! language — a catalogue key with its arguments, or plain data (a number,
//! a country's name) that reads the same in every language. Renderers turn
//! it into text with [`Phrase::text`]; JSON shows its English text, so
//! machine-readable output does not depend on `--lang`.

use std::fmt;

use serde::{Serialize, Serializer};

use super::Lang;

/// A catalogue entry and its arguments, or text kept as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase(Inner);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Inner {
    /// Catalogue key and its named arguments.
    Words(&'static str, Vec<(&'static str, Phrase)>),
    /// Data that needs no translation.
    Data(String),
    /// Items joined by the language's list separator.
    List(Vec<Phrase>),
}

impl Phrase {
    /// The catalogue entry `key` (arguments added with [`Phrase::arg`]).
    pub fn new(key: &'static str) -> Self {
        Self(Inner::Words(key, Vec::new()))
    }

    /// Text shown as is in every language: an input, a number, a name.
    pub fn data(text: impl Into<String>) -> Self {
        Self(Inner::Data(text.into()))
    }

    /// `items` joined by the language's list separator ("、" or ", ").
    pub fn list(items: Vec<Phrase>) -> Self {
        Self(Inner::List(items))
    }

    /// Fills the placeholder `{name}` with `value`, itself data or words.
    pub fn arg(mut self, name: &'static str, value: impl Into<Phrase>) -> Self {
        match &mut self.0 {
            Inner::Words(_, args) => args.push((name, value.into())),
            Inner::Data(_) | Inner::List(_) => {
                debug_assert!(false, "only catalogue entries have placeholders")
            }
        }
        self
    }

    /// The phrase in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        match &self.0 {
            Inner::Data(text) => text.clone(),
            Inner::List(items) => items
                .iter()
                .map(|p| p.text(lang))
                .collect::<Vec<_>>()
                .join(lang.list_gap()),
            Inner::Words(key, args) => {
                let values: Vec<(&str, String)> =
                    args.iter().map(|(n, p)| (*n, p.text(lang))).collect();
                let refs: Vec<(&str, &dyn fmt::Display)> = values
                    .iter()
                    .map(|(n, v)| (*n, v as &dyn fmt::Display))
                    .collect();
                lang.fill(key, &refs)
            }
        }
    }

    /// The catalogue key, or `None` for data.
    pub fn key(&self) -> Option<&'static str> {
        match &self.0 {
            Inner::Words(key, _) => Some(key),
            Inner::Data(_) | Inner::List(_) => None,
        }
    }
}

impl From<String> for Phrase {
    fn from(text: String) -> Self {
        Self::data(text)
    }
}

impl From<&str> for Phrase {
    fn from(text: &str) -> Self {
        Self::data(text)
    }
}

/// Whole numbers are data.
macro_rules! number_phrase {
    ($($t:ty),*) => {$(
        impl From<$t> for Phrase {
            fn from(value: $t) -> Self {
                Self::data(value.to_string())
            }
        }
    )*};
}
number_phrase!(u64, usize, i64, i32, u32);

/// English: what logs, errors and JSON show.
impl fmt::Display for Phrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

/// As its English text, so JSON stays the same whatever `--lang` says.
impl Serialize for Phrase {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_the_language_and_data_does_not() {
        let phrase = Phrase::new("rule_error.not_in_table").arg("detail", "Bhutan");
        assert_eq!(phrase.text(Lang::En), "not in table: Bhutan");
        assert_eq!(phrase.text(Lang::Zh), "表中没有：Bhutan");
        assert_eq!(Phrase::data("Bhutan").text(Lang::Zh), "Bhutan");
        assert_eq!(phrase.to_string(), "not in table: Bhutan");
    }

    #[test]
    fn nested_words_are_translated_too_and_json_is_english() {
        let phrase = Phrase::new("rule_error.cannot_parse")
            .arg("detail", Phrase::new("rule.error.no_expression"));
        assert_eq!(phrase.text(Lang::Zh), "无法解析：没有算式");
        assert_eq!(
            serde_json::to_string(&phrase).unwrap(),
            "\"cannot parse: no expression\""
        );
    }
}
