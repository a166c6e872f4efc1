//! `capitals`: a lookup table of countries and their capitals, kept as data in
//! `capitals.tsv` (with the countries' and capitals' Chinese names in
//! `capitals_zh.tsv`, so "法国的首都是哪里？" finds France). A country that is
//! not in the table — real but missing, or fictional — is an explicit
//! not-in-table error: extending the rule means editing the table.

use crate::words::Phrase;
use std::collections::HashMap;
use std::sync::OnceLock;

use super::{words, Rule, RuleError, RuleOutcome, RuleRun, TraceStep};
use crate::here;
use crate::tasks::Task;

/// Capital cities by table lookup.
pub struct Capitals;

/// One row of the table.
#[derive(Debug, Clone)]
pub struct CapitalEntry {
    /// The country's name as listed.
    pub country: String,
    /// Its capital.
    pub capital: String,
}

struct Table {
    rows: Vec<CapitalEntry>,
    /// Lower-cased country name or alias → row index.
    index: HashMap<String, usize>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows = Vec::new();
        let mut index = HashMap::new();
        for line in include_str!("capitals.tsv").lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut fields = line.split('\t');
            let country = fields.next().expect("country").to_string();
            let capital = fields.next().expect("capital").to_string();
            index.insert(normalize(&country), rows.len());
            for alias in fields
                .next()
                .unwrap_or("")
                .split(',')
                .filter(|a| !a.is_empty())
            {
                index.insert(normalize(alias), rows.len());
            }
            rows.push(CapitalEntry { country, capital });
        }
        for (country, names, _) in chinese_names() {
            if let Some(&row) = index.get(&normalize(country)) {
                for name in names {
                    index.insert(normalize(name), row);
                }
            }
        }
        Table { rows, index }
    })
}

/// Each country's Chinese names and its capital's (`capitals_zh.tsv`): the
/// English country name, then the two lists.
pub fn chinese_names() -> impl Iterator<Item = (&'static str, Vec<&'static str>, Vec<&'static str>)>
{
    let list = |field: Option<&'static str>| -> Vec<&'static str> {
        field
            .unwrap_or("")
            .split(',')
            .filter(|n| !n.is_empty())
            .collect()
    };
    include_str!("capitals_zh.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(move |line| {
            let mut fields = line.split('\t');
            let country = fields.next().expect("country");
            (country, list(fields.next()), list(fields.next()))
        })
}

/// The English name of the country called `name` (a Chinese name from
/// `capitals_zh.tsv`), else `name` as it is.
pub fn english_country(name: &str) -> String {
    chinese_names()
        .find(|(_, names, _)| names.contains(&name.trim()))
        .map_or_else(|| name.to_string(), |(country, _, _)| country.to_string())
}

/// Every row of the table.
pub fn entries() -> &'static [CapitalEntry] {
    &table().rows
}

fn normalize(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    let lower = lower.strip_prefix("the ").unwrap_or(&lower);
    lower
        .trim_matches(|c: char| !c.is_alphanumeric())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The country named in `input`: after "capital of", before "'s capital",
/// before the last "的首都" or "首都" ("法国的首都是哪里？"), or the whole
/// input.
pub fn country_in(input: &str) -> String {
    let lower = input.to_lowercase();
    let trimmed = input
        .trim()
        .trim_end_matches(['?', '.', '!', '？', '。', '！']);
    if let Some(at) = input.rfind("首都") {
        let before = input[..at].trim_end_matches('的').trim_end();
        // The country is the run of characters right before it, after any
        // leading words ("请问", "你知道").
        let start = before
            .rfind(|c: char| !c.is_alphanumeric() || "请问你知道告诉我".contains(c))
            .map_or(0, |i| {
                i + before[i..].chars().next().map_or(1, char::len_utf8)
            });
        return before[start..].trim().to_string();
    }
    if let Some(at) = lower.find("capital of") {
        return trimmed
            .get(at + "capital of".len()..)
            .unwrap_or("")
            .trim()
            .to_string();
    }
    if let Some(at) = lower.find("'s capital") {
        let before = &input[..at];
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == ' '))
            .map_or(0, |i| i + 1);
        return before[start..].trim().to_string();
    }
    trimmed.to_string()
}

impl Rule for Capitals {
    fn name(&self) -> &'static str {
        "capitals"
    }

    fn summary(&self) -> Phrase {
        Phrase::new("rule.summary.capitals")
    }

    fn task(&self) -> Task {
        Task::Capital
    }

    fn affinity(&self, input: &str) -> u8 {
        if words(input).iter().any(|w| w == "capital") || input.contains("首都") {
            3
        } else if table().index.contains_key(&normalize(input)) {
            2
        } else {
            0
        }
    }

    fn apply(&self, input: &str) -> RuleRun {
        let country = country_in(input);
        let key = normalize(&country);
        let mut trace = vec![TraceStep::new(
            Phrase::new("rule.step.extract_country"),
            Phrase::new("rule.detail.country_key")
                .arg("country", format!("{country:?}"))
                .arg("key", format!("{key:?}")),
            here!(),
        )];
        let table = table();
        let outcome = match table.index.get(&key) {
            Some(&row) => {
                let entry = &table.rows[row];
                trace.push(TraceStep::new(
                    Phrase::new("rule.step.table_lookup"),
                    Phrase::new("rule.detail.table_row")
                        .arg("country", entry.country.as_str())
                        .arg("capital", entry.capital.as_str())
                        .arg("row", row + 1)
                        .arg("rows", table.rows.len()),
                    here!(),
                ));
                RuleOutcome::Answer {
                    value: entry.capital.clone(),
                }
            }
            None => {
                trace.push(TraceStep::new(
                    Phrase::new("rule.step.table_lookup"),
                    Phrase::new("rule.detail.not_among")
                        .arg("key", format!("{key:?}"))
                        .arg("rows", table.rows.len()),
                    here!(),
                ));
                RuleOutcome::Error {
                    error: RuleError::NotInTable(if country.is_empty() {
                        Phrase::new("rule.error.no_country")
                    } else {
                        Phrase::data(country)
                    }),
                }
            }
        };
        RuleRun { outcome, trace }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_at_least_fifty_countries() {
        assert!(entries().len() >= 50, "{}", entries().len());
    }

    #[test]
    fn questions_names_and_aliases_find_the_capital() {
        for (input, capital) in [
            ("What is the capital of France?", "Paris"),
            ("capital of the United Kingdom", "London"),
            ("What is the capital of the USA?", "Washington, D.C."),
            ("Japan", "Japan"),
            ("Peru's capital?", "Lima"),
        ] {
            let expected = if capital == "Japan" { "Tokyo" } else { capital };
            assert_eq!(
                Capitals.apply(input).outcome.answer(),
                Some(expected),
                "{input}"
            );
        }
    }

    #[test]
    fn chinese_questions_find_the_country_and_its_capital() {
        for (input, capital) in [
            ("法国的首都是哪里？", "Paris"),
            ("请问日本的首都是什么?", "Tokyo"),
            ("美国首都在哪里", "Washington, D.C."),
            ("韩国", "Seoul"),
        ] {
            assert_eq!(
                Capitals.apply(input).outcome.answer(),
                Some(capital),
                "{input}"
            );
            assert!(Capitals.affinity(input) > 0, "{input}");
        }
        assert_eq!(country_in("不丹的首都是什么？"), "不丹");
        assert_eq!(
            country_in("Veldra 是一个新国家，它的首都是 Quenta。Veldra 的首都是哪里？"),
            "Veldra"
        );
        assert_eq!(english_country("不丹"), "Bhutan");
        assert_eq!(english_country("瓦坎达"), "Wakanda");
        assert_eq!(english_country("Peru"), "Peru");
        assert_eq!(
            Capitals.apply("不丹的首都是什么？").outcome,
            RuleOutcome::Error {
                error: RuleError::NotInTable("不丹".into())
            },
            "the table leaves Bhutan out in Chinese too"
        );
    }

    #[test]
    fn every_chinese_name_belongs_to_a_known_country() {
        let known: Vec<String> = entries()
            .iter()
            .map(|e| e.country.clone())
            .chain(
                crate::tasks::extra_capitals()
                    .into_iter()
                    .map(|(c, _)| c.to_string()),
            )
            .chain(
                crate::tasks::fictional_countries()
                    .into_iter()
                    .map(str::to_string),
            )
            .collect();
        for (country, names, _) in chinese_names() {
            assert!(known.iter().any(|k| k == country), "{country}");
            assert!(!names.is_empty(), "{country}");
        }
        // Every country of the rule's table has its Chinese names.
        for entry in entries() {
            assert!(
                chinese_names().any(|(c, _, _)| c == entry.country),
                "{}",
                entry.country
            );
        }
    }

    #[test]
    fn unknown_and_fictional_countries_are_not_in_the_table() {
        for (input, country) in [
            ("What is the capital of Wakanda?", "Wakanda"),
            ("capital of Bhutan", "Bhutan"),
        ] {
            assert_eq!(
                Capitals.apply(input).outcome,
                RuleOutcome::Error {
                    error: RuleError::NotInTable(country.into())
                }
            );
        }
    }
}
