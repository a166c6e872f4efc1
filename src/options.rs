//! The typed values behind flags and scenario fields — temperature lists,
//! seed lists and ranges, lengths, run counts — each parsed and bounded once,
//! where it is read, with the list syntax they all share. The CLI and the
//! scenario files both read through here; what comes out needs no second
//! check.

use crate::error::{invalid, InputError};
use crate::sampler::Temperature;

/// The most seeds one list may hold (a range `1..10000` holds 10,000).
pub const MAX_SEEDS: usize = 10_000;

/// The most runs `repeat` (and a repeat scenario) may ask for.
pub const MAX_RUNS: usize = 10_000;

/// Checks a run count (`what` names the flag or field): from 1 to [`MAX_RUNS`].
pub fn check_runs(runs: usize, what: &str) -> Result<usize, InputError> {
    if (1..=MAX_RUNS).contains(&runs) {
        Ok(runs)
    } else {
        Err(invalid(format!(
            "{what} must be from 1 to {MAX_RUNS}, not {runs}"
        )))
    }
}

/// The most temperatures one list may hold.
pub const MAX_TEMPERATURES: usize = 100;

/// Parses seeds: an inclusive range `1..5`, a list `1,2,9`, or a mix; at
/// most [`MAX_SEEDS`] in all.
pub fn parse_seeds(seeds: &str) -> Result<Vec<u64>, InputError> {
    let mut parsed_seeds = Vec::new();
    let too_many = || {
        invalid(format!(
            "seed list '{}' holds more than {MAX_SEEDS} seeds",
            crate::comparison::shorten(seeds, 80)
        ))
    };
    for part in list("seed", seeds)? {
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| invalid(format!("seed list: '{s}' is not a whole number ≥ 0")))
        };
        match part.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b.trim_start_matches('='))?);
                if a > b {
                    return Err(invalid(format!("seed range '{part}' must be ascending")));
                }
                if b - a >= MAX_SEEDS as u64 || parsed_seeds.len() + (b - a) as usize >= MAX_SEEDS {
                    return Err(too_many());
                }
                parsed_seeds.extend(a..=b);
            }
            None => parsed_seeds.push(number(part)?),
        }
        if parsed_seeds.len() > MAX_SEEDS {
            return Err(too_many());
        }
    }
    Ok(parsed_seeds)
}

/// Parses a comma-separated list of temperatures, each finite and ≥ 0.
pub fn parse_temperatures(text: &str) -> Result<Vec<Temperature>, InputError> {
    let items = list("temperature", text)?;
    if items.len() > MAX_TEMPERATURES {
        return Err(invalid(format!(
            "temperature list holds {} temperatures; at most {MAX_TEMPERATURES}",
            items.len()
        )));
    }
    items
        .into_iter()
        .map(|t| {
            let value: f64 = t
                .parse()
                .map_err(|_| invalid(format!("temperature list: '{t}' is not a number")))?;
            Temperature::new(value)
        })
        .collect()
}

/// The items of a comma-separated list, trimmed: an empty list, or an empty
/// item (`0,,1`, a trailing comma), is an error naming `what`.
pub fn list<'a>(what: &str, text: &'a str) -> Result<Vec<&'a str>, InputError> {
    if text.trim().is_empty() {
        return Err(invalid(format!("no {what}s given")));
    }
    let items: Vec<&str> = text.split(',').map(str::trim).collect();
    if items.iter().any(|s| s.is_empty()) {
        return Err(invalid(format!(
            "{what} list '{}' has an empty item",
            crate::comparison::shorten(text, 80)
        )));
    }
    Ok(items)
}

/// Comma-separated temperatures, each finite and ≥ 0 (`0,0.7,1.2`).
#[derive(Debug, Clone, PartialEq)]
pub struct Temperatures(pub Vec<Temperature>);

impl std::str::FromStr for Temperatures {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_temperatures(text)
            .map(Temperatures)
            .map_err(|e| e.to_string())
    }
}

/// Seeds: an inclusive range `1..5`, a list `1,2,9`, or a mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeds(pub Vec<u64>);

impl std::str::FromStr for Seeds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_seeds(text).map(Seeds).map_err(|e| e.to_string())
    }
}

/// Lengths k of `--digits`: a range `1..6`, a list `1,2,4`, or one number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lengths(pub Vec<usize>);

impl std::str::FromStr for Lengths {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let number = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("'{s}' is not a whole number"))
        };
        let lengths: Vec<usize> = match text.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b.trim_start_matches('='))?);
                if a > b {
                    return Err(format!("the range {text} is empty"));
                }
                if b > 1000 {
                    return Err(format!(
                        "{b} is more than detprob asks (at most {})",
                        crate::emergence::problems::MAX_LENGTH
                    ));
                }
                (a..=b).collect()
            }
            None => list("length", text)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(number)
                .collect::<Result<_, _>>()?,
        };
        crate::emergence::problems::check_lengths(&lengths).map_err(|e| e.to_string())?;
        Ok(Lengths(lengths))
    }
}
