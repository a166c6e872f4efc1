//! `capitals`: a lookup table of countries and their capitals, kept as data in
//! `capitals.tsv`. A country that is not in the table — real but missing, or
//! fictional — is an explicit not-in-table error: extending the rule means
//! editing the table.

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
        Table { rows, index }
    })
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

/// The country named in `input`: after "capital of", before "'s capital", or
/// the whole input.
pub fn country_in(input: &str) -> String {
    let lower = input.to_lowercase();
    let trimmed = input.trim().trim_end_matches(['?', '.', '!']);
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
        if words(input).iter().any(|w| w == "capital") {
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
