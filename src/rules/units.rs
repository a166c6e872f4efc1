//! `units`: °C↔°F, km↔mi and kg↔lb with the exact defining formulas
//! (1 mi = 1.609344 km, 1 lb = 0.45359237 kg, °F = °C × 9/5 + 32), computed
//! in exact rational arithmetic.
//!
//! Grammar: `[convert] NUMBER [degrees] UNIT (to|in|into) [degrees] UNIT`,
//! units written as `°C`/`C`/`celsius`, `°F`/`F`/`fahrenheit`,
//! `km`/`kilometres`, `mi`/`miles`, `kg`/`kilograms`/`kilos`,
//! `lb`/`lbs`/`pounds`; other words between them are passed over. In a
//! question the target may come first: `how many UNIT is NUMBER UNIT`.
//! Chinese unit words (摄氏度, 华氏度, 公里/千米, 英里, 公斤/千克, 磅) and
//! the asking words between them (是多少, 等于多少, 换算成, …) are read as
//! those units and "to": "100摄氏度是多少华氏度？" is `100 °C to °F`.

use crate::words::Phrase;
use num_bigint::BigInt;
use num_rational::BigRational;

use super::arithmetic::{approximate, parse_decimal, terminating_decimal};
use super::{Rule, RuleError, RuleOutcome, RuleRun, TraceStep};
use crate::here;
use crate::tasks::Task;

/// Exact unit conversion.
pub struct Units;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Celsius,
    Fahrenheit,
    Kilometre,
    Mile,
    Kilogram,
    Pound,
}

impl Unit {
    fn parse(word: &str) -> Option<Self> {
        let w = word
            .trim_matches(|c: char| c == '.' || c == '?' || c == ',')
            .to_lowercase();
        Some(match w.trim_start_matches('°') {
            "c" | "celsius" | "degc" => Self::Celsius,
            "f" | "fahrenheit" | "degf" => Self::Fahrenheit,
            "km" | "kilometre" | "kilometres" | "kilometer" | "kilometers" => Self::Kilometre,
            "mi" | "mile" | "miles" => Self::Mile,
            "kg" | "kilogram" | "kilograms" | "kilo" | "kilos" => Self::Kilogram,
            "lb" | "lbs" | "pound" | "pounds" => Self::Pound,
            _ => return None,
        })
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::Celsius => "°C",
            Self::Fahrenheit => "°F",
            Self::Kilometre => "km",
            Self::Mile => "mi",
            Self::Kilogram => "kg",
            Self::Pound => "lb",
        }
    }
}

fn ratio(numerator: i64, denominator: i64) -> BigRational {
    BigRational::new(BigInt::from(numerator), BigInt::from(denominator))
}

/// Converts exactly, returning the result and the formula used.
fn convert(value: &BigRational, from: Unit, to: Unit) -> Option<(BigRational, &'static str)> {
    use Unit::*;
    let km_per_mile = ratio(1_609_344, 1_000_000);
    let kg_per_pound = ratio(45_359_237, 100_000_000);
    Some(match (from, to) {
        (a, b) if a == b => (value.clone(), "same unit"),
        (Celsius, Fahrenheit) => (value * ratio(9, 5) + ratio(32, 1), "°F = °C × 9/5 + 32"),
        (Fahrenheit, Celsius) => ((value - ratio(32, 1)) * ratio(5, 9), "°C = (°F − 32) × 5/9"),
        (Kilometre, Mile) => (value / km_per_mile, "mi = km ÷ 1.609344"),
        (Mile, Kilometre) => (value * km_per_mile, "km = mi × 1.609344"),
        (Kilogram, Pound) => (value / kg_per_pound, "lb = kg ÷ 0.45359237"),
        (Pound, Kilogram) => (value * kg_per_pound, "kg = lb × 0.45359237"),
        _ => return None,
    })
}

/// A conversion result as the rule reports it: exact when it terminates within
/// 10 decimals, else rounded to 6 significant digits (marked `≈`).
fn display(value: &BigRational) -> String {
    match terminating_decimal(value) {
        Some(text) if text.split_once('.').is_none_or(|(_, f)| f.len() <= 10) => text,
        _ => format!("≈{}", approximate(value, 6)),
    }
}

impl Rule for Units {
    fn name(&self) -> &'static str {
        "units"
    }

    fn summary(&self) -> Phrase {
        Phrase::new("rule.summary.units")
    }

    fn task(&self) -> Task {
        Task::UnitConversion
    }

    fn affinity(&self, input: &str) -> u8 {
        let units = in_grammar_terms(input)
            .replace('°', " °")
            .split_whitespace()
            .filter(|w| Unit::parse(w).is_some())
            .count();
        let has_number = input.chars().any(|c| c.is_ascii_digit());
        if units >= 2 && has_number {
            4
        } else {
            0
        }
    }

    fn apply(&self, input: &str) -> RuleRun {
        let mut trace = Vec::new();
        let parsed = parse(input);
        let outcome = match parsed {
            Err(error) => RuleOutcome::Error { error },
            Ok((value, text, from, to)) => {
                trace.push(TraceStep::new(
                    Phrase::new("rule.step.parse"),
                    format!("{text} {} → {}", from.symbol(), to.symbol()),
                    here!(),
                ));
                match convert(&value, from, to) {
                    None => RuleOutcome::Error {
                        error: RuleError::Undefined(
                            Phrase::new("rule.error.cannot_convert")
                                .arg("from", from.symbol())
                                .arg("to", to.symbol()),
                        ),
                    },
                    Some((result, formula)) => {
                        let shown = display(&result);
                        trace.push(TraceStep::new(
                            Phrase::new("rule.step.formula"),
                            format!(
                                "{formula}: {text} {} = {shown} {}",
                                from.symbol(),
                                to.symbol()
                            ),
                            here!(),
                        ));
                        RuleOutcome::Answer {
                            value: shown.trim_start_matches('≈').to_string(),
                        }
                    }
                }
            }
        };
        RuleRun { outcome, trace }
    }
}

/// Finds `NUMBER UNIT … (to|in|into) UNIT` in the input.
/// Chinese unit and asking words, and what the English grammar calls them.
const CHINESE_WORDS: &[(&str, &str)] = &[
    ("摄氏度", " °C "),
    ("华氏度", " °F "),
    ("千米", " km "),
    ("公里", " km "),
    ("英里", " mi "),
    ("千克", " kg "),
    ("公斤", " kg "),
    ("磅", " lb "),
    ("等于多少", " to "),
    ("是多少", " to "),
    ("合多少", " to "),
    ("换算成", " to "),
    ("换算为", " to "),
    ("转换成", " to "),
    ("转换为", " to "),
    ("等于", " to "),
];

/// `input` with its Chinese unit and asking words in the English grammar's
/// terms (an input without them is returned as it is).
fn in_grammar_terms(input: &str) -> String {
    CHINESE_WORDS
        .iter()
        .fold(input.to_string(), |text, (chinese, english)| {
            text.replace(chinese, english)
        })
}

fn parse(input: &str) -> Result<(BigRational, String, Unit, Unit), RuleError> {
    let input = in_grammar_terms(input);
    let spaced = input.replace('°', " °").replace("° ", "°");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let number_at = tokens
        .iter()
        .position(|t| {
            t.trim_start_matches(['-', '+'])
                .starts_with(|c: char| c.is_ascii_digit())
        })
        .ok_or_else(|| RuleError::CannotParse(Phrase::new("rule.error.no_number")))?;
    let number_text = tokens[number_at].trim_end_matches(|c: char| !c.is_ascii_digit());
    let (number_text, attached_unit) = split_number(number_text, tokens[number_at]);
    let value = parse_decimal(&number_text).ok_or_else(|| {
        RuleError::CannotParse(
            Phrase::new("rule.error.not_a_number").arg("text", format!("'{number_text}'")),
        )
    })?;
    let rest = &tokens[number_at + 1..];
    let (from, after_from) = match attached_unit.and_then(Unit::parse) {
        Some(unit) => (unit, rest),
        None => {
            // "100 degrees Celsius": the word "degrees" is not the unit.
            let skipped = rest.iter().take_while(|w| is_degree_word(w)).count();
            let unit = rest
                .get(skipped)
                .and_then(|w| Unit::parse(w))
                .ok_or_else(|| {
                    RuleError::CannotParse(
                        Phrase::new("rule.error.no_unit_after").arg("number", number_text.as_str()),
                    )
                })?;
            (unit, &rest[skipped + 1..])
        }
    };
    // The target follows "to", "in" or "into"; in a question ("How many
    // kilograms is 10 pounds?") it comes before the number.
    let to = after_from
        .iter()
        .skip_while(|w| !matches!(w.to_lowercase().as_str(), "to" | "in" | "into"))
        .skip(1)
        .find_map(|w| Unit::parse(w))
        .or_else(|| tokens[..number_at].iter().find_map(|w| Unit::parse(w)))
        .ok_or_else(|| RuleError::CannotParse(Phrase::new("rule.error.no_target_unit")))?;
    Ok((value, number_text, from, to))
}

/// "degree", "degrees", "deg": words that may stand between a number and
/// its temperature unit.
fn is_degree_word(word: &str) -> bool {
    matches!(
        word.trim_matches(|c: char| c == '.' || c == ',')
            .to_lowercase()
            .as_str(),
        "degree" | "degrees" | "deg"
    )
}

/// Splits `100km` into `100` and `km`.
fn split_number<'a>(number: &str, token: &'a str) -> (String, Option<&'a str>) {
    let digits_end = token
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || ((*c == '-' || *c == '+') && *i == 0)))
        .map_or(token.len(), |(i, _)| i);
    let unit = &token[digits_end..];
    let number = if number.len() > digits_end {
        &number[..digits_end]
    } else {
        number
    };
    (number.to_string(), (!unit.is_empty()).then_some(unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_questions_convert_exactly() {
        for (input, answer) in [
            ("100摄氏度是多少华氏度？", "212"),
            ("5公里等于多少英里", "3.10686"),
            ("把 10 公斤换算成磅", "22.0462"),
        ] {
            assert!(Units.affinity(input) > 0, "{input}");
            assert_eq!(Units.apply(input).outcome.answer(), Some(answer), "{input}");
        }
    }

    fn answer(input: &str) -> String {
        Units.apply(input).outcome.display()
    }

    #[test]
    fn temperatures_use_the_exact_formula() {
        assert_eq!(answer("Convert 100 °C to °F"), "212");
        assert_eq!(answer("-40 F in C"), "-40");
        assert_eq!(answer("98.6 fahrenheit to celsius"), "37");
        assert_eq!(answer("0 °F to °C"), "-17.7778");
        // Everyday phrasings a class types.
        assert_eq!(answer("Convert 100 degrees Celsius to Fahrenheit"), "212");
        assert_eq!(answer("What is 50°F in degrees Celsius?"), "10");
        assert_eq!(answer("How many kilograms is 10 pounds?"), "4.5359237");
        assert_eq!(
            answer("10 pounds"),
            "error: cannot parse: no target unit (write '… to UNIT')"
        );
        assert_eq!(answer("Convert 26.2 miles to kilometers"), "42.1648128");
        assert_eq!(answer("convert 70 kilograms into pounds"), "154.324");
        assert!(Units.affinity("Convert 100 degrees Celsius to Fahrenheit") > 0);
    }

    #[test]
    fn distances_and_masses_use_the_defining_constants() {
        assert_eq!(answer("1 mi to km"), "1.609344");
        assert_eq!(answer("5 km in miles"), "3.10686");
        assert_eq!(answer("10kg to lb"), "22.0462");
        assert_eq!(answer("1 lb to kg"), "0.45359237");
    }

    #[test]
    fn unsupported_or_incomplete_requests_are_explicit_errors() {
        assert_eq!(
            answer("5 km to kg"),
            "error: undefined: cannot convert km to kg"
        );
        assert!(answer("convert five km to miles").starts_with("error: cannot parse"));
        assert!(answer("5 km").starts_with("error: cannot parse: no target unit"));
    }
}
