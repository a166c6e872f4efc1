//! Words a person reads, kept as data: one catalogue per language
//! (`en.toml`, `zh.toml`) with the same keys. Code asks for a key and fills
//! its `{name}` placeholders; it never writes a sentence itself.
//!
//! TOML catalogues rather than Fluent: detprob's sentences need only named
//! placeholders (plural forms are avoided by wording, and Chinese has none),
//! the toml crate is already a dependency, and a teacher can read and edit
//! the files. A unit test fails when a key, or a placeholder of a key, exists
//! in one language and not the other.

pub mod numbers;
mod phrase;

pub use phrase::Phrase;

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::OnceLock;

use serde::Serialize;

/// The language of everything detprob writes for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
pub enum Lang {
    /// English.
    En,
    /// Chinese (simplified).
    Zh,
}

impl Lang {
    /// `zh` when the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`) is Chinese, else `en`.
    pub fn from_env() -> Self {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        if locale.to_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// The catalogue entry `key` in this language, placeholders unfilled.
    ///
    /// # Panics
    /// When `key` is in no catalogue: a programming error that the
    /// catalogue test catches (every key the code uses is listed there).
    pub fn text(self, key: &str) -> &'static str {
        catalogue(self)
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("message key '{key}' is missing from the catalogue"))
    }

    /// The entry `key` with each `{name}` replaced by its value.
    pub fn fill(self, key: &str, args: &[(&str, &dyn Display)]) -> String {
        fill(self.text(key), args)
    }

    /// Every entry whose key starts with `prefix` (a section, such as the
    /// web pages' words), keyed by the rest of the key.
    pub fn section(self, prefix: &str) -> std::collections::BTreeMap<&'static str, &'static str> {
        catalogue(self)
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?, v.as_str())))
            .collect()
    }

    /// The separator between sentences: a space in English, nothing in Chinese
    /// (whose sentences end in a full-width stop).
    pub fn sentence_gap(self) -> &'static str {
        match self {
            Lang::En => " ",
            Lang::Zh => "",
        }
    }

    /// The separator between list items: ", " or "、".
    pub fn list_gap(self) -> &'static str {
        self.text("list.separator")
    }

    /// Opening and closing quotation marks around quoted text.
    pub fn quote(self, text: &str) -> String {
        self.fill("quote", &[("text", &text)])
    }
}

/// Text kept in data files (scenarios, the showcase) in both languages.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    /// English.
    pub en: String,
    /// Chinese.
    pub zh: String,
}

impl Lang {
    /// Picks the text in this language.
    pub fn pick(self, text: &Bilingual) -> &str {
        match self {
            Lang::En => &text.en,
            Lang::Zh => &text.zh,
        }
    }
}

/// `template` with each `{name}` replaced by its value (unknown names stay).
fn fill(template: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(&value.to_string()),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

const ENGLISH: &str = include_str!("en.toml");
const CHINESE: &str = include_str!("zh.toml");

fn parse(source: &str) -> HashMap<String, String> {
    fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
        for (key, value) in table {
            let full = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::String(s) => {
                    out.insert(full, s.clone());
                }
                toml::Value::Table(t) => flatten(&full, t, out),
                other => panic!("catalogue entry {full} is not text: {other}"),
            }
        }
    }
    let table: toml::Table = source
        .parse()
        .expect("the shipped catalogues are valid TOML");
    let mut out = HashMap::new();
    flatten("", &table, &mut out);
    out
}

fn catalogue(lang: Lang) -> &'static HashMap<String, String> {
    static EN: OnceLock<HashMap<String, String>> = OnceLock::new();
    static ZH: OnceLock<HashMap<String, String>> = OnceLock::new();
    match lang {
        Lang::En => EN.get_or_init(|| parse(ENGLISH)),
        Lang::Zh => ZH.get_or_init(|| parse(CHINESE)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn placeholders(text: &str) -> BTreeSet<String> {
        text.split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_string()))
            .collect()
    }

    #[test]
    fn both_catalogues_have_the_same_keys_and_placeholders() {
        let en = catalogue(Lang::En);
        let zh = catalogue(Lang::Zh);
        let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(only_en.is_empty(), "keys only in en.toml: {only_en:?}");
        assert!(only_zh.is_empty(), "keys only in zh.toml: {only_zh:?}");
        for (key, text) in en {
            assert_eq!(
                placeholders(text),
                placeholders(&zh[key]),
                "placeholders of {key} differ"
            );
        }
    }

    #[test]
    fn chinese_entries_use_full_width_punctuation() {
        for (key, text) in catalogue(Lang::Zh) {
            // Placeholders may hold ASCII; the words around them may not
            // carry half-width sentence punctuation after a Chinese character.
            let plain = fill(text, &[]);
            for pair in plain.chars().collect::<Vec<_>>().windows(2) {
                let cjk = ('\u{4e00}'..='\u{9fff}').contains(&pair[0]);
                assert!(
                    !(cjk && matches!(pair[1], ',' | ';' | ':' | '(' | ')' | '!' | '?')),
                    "{key}: half-width {:?} after {:?} in {text:?}",
                    pair[1],
                    pair[0]
                );
            }
        }
    }

    /// Every string literal in the source that looks like a catalogue key
    /// (`table.name`, with a table the catalogue has) is in the catalogue:
    /// a key the code uses cannot be missing at run time.
    #[test]
    fn every_key_the_source_names_is_in_the_catalogue() {
        let en = catalogue(Lang::En);
        let tables: BTreeSet<&str> = en
            .keys()
            .filter_map(|k| k.split_once('.').map(|(t, _)| t))
            .collect();
        let mut missing = Vec::new();
        let mut checked = 0;
        let mut files = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for literal in source.split('"').skip(1).step_by(2) {
                let is_key = literal.contains('.')
                    && literal.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'
                    })
                    && literal.split('.').all(|part| !part.is_empty());
                let table = literal.split('.').next().unwrap_or_default();
                if is_key && tables.contains(table) {
                    checked += 1;
                    if !en.contains_key(literal) {
                        missing.push(format!("{literal} ({})", path.display()));
                    }
                }
            }
        }
        assert!(checked > 300, "only {checked} keys found in the source");
        assert!(missing.is_empty(), "keys not in the catalogue: {missing:?}");
    }

    #[test]
    fn placeholders_are_filled_by_name_and_unknown_ones_stay() {
        assert_eq!(
            fill("{a} and {b}, {c}", &[("a", &1), ("b", &"two")]),
            "1 and two, {c}"
        );
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(fill("open { only", &[]), "open { only");
    }
}
