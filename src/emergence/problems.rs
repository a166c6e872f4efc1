//! The task families of `detprob emergence metric`: each has a length knob k
//! (digits of the numbers added, letters reversed), a seeded generator that
//! asks every run and every machine the same problems, and near-miss
//! distractors for the multiple-choice metric.
//!
//! - **addition**: two k-digit numbers (k = 1 draws 0–9); the answer is their
//!   decimal sum. Its sub-tasks are the answer's digits, read by place value
//!   (units, tens, …), because a carry shifts the answer's length.
//! - **multiplication**: two k-digit numbers (k = 1 draws 2–9: a product
//!   with 0 or 1 is no test); the answer is their decimal product, read by
//!   place value like a sum.
//! - **reverse**: k lower-case letters separated by spaces; the answer is the
//!   same letters in reverse order. Its sub-tasks are the answer's letters,
//!   read from the left.
//!
//! A model's answer is read from its first line ([`Family::read_answer`]).

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::error::{invalid, InputError};
use crate::tasks::metrics::Alignment;

/// The longest k detprob asks: beyond it the small models answer nothing
/// right and the run only grows slower.
pub const MAX_LENGTH: usize = 12;

/// The most problems per k.
pub const MAX_PROBLEMS: usize = 1000;

/// How many wrong options stand beside the right answer in the
/// multiple-choice metric.
pub const DISTRACTORS: usize = 3;

/// A task family with a length knob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Add two k-digit numbers.
    Addition,
    /// Multiply two k-digit numbers.
    Multiplication,
    /// Reverse k letters.
    Reverse,
}

impl Family {
    /// The family's name in flags and reports.
    pub fn name(self) -> &'static str {
        match self {
            Family::Addition => "addition",
            Family::Multiplication => "multiplication",
            Family::Reverse => "reverse",
        }
    }

    /// How the answer's symbols line up with the right answer's.
    pub fn alignment(self) -> Alignment {
        match self {
            Family::Addition | Family::Multiplication => Alignment::Right,
            Family::Reverse => Alignment::Left,
        }
    }

    /// The symbols (sub-tasks) of an answer: digits, or letters.
    pub fn symbols(self, answer: &str) -> Vec<char> {
        match self {
            Family::Addition | Family::Multiplication => {
                answer.chars().filter(char::is_ascii_digit).collect()
            }
            Family::Reverse => answer.chars().filter(char::is_ascii_alphabetic).collect(),
        }
    }

    /// The symbols of a model's answer line: the first number's digits
    /// after the line's last `=` if it has one (thousands commas dropped), or the longest run of single letters
    /// separated by spaces (else the first word's letters).
    pub fn read_answer(self, line: &str) -> Vec<char> {
        match self {
            Family::Addition | Family::Multiplication => {
                // A line that restates the question is read after its last '='.
                let line = line.rsplit_once('=').map_or(line, |(_, after)| after);
                let mut digits = Vec::new();
                let mut chars = line.chars().peekable();
                while let Some(c) = chars.next() {
                    if c.is_ascii_digit() {
                        digits.push(c);
                    } else if c == ',' && !digits.is_empty() {
                        if !chars.peek().is_some_and(char::is_ascii_digit) {
                            break;
                        }
                    } else if !digits.is_empty() {
                        break;
                    }
                }
                digits
            }
            Family::Reverse => {
                let words: Vec<&str> = line
                    .split_whitespace()
                    .map(|w| w.trim_matches(|c: char| c.is_ascii_punctuation()))
                    .filter(|w| !w.is_empty())
                    .collect();
                let single =
                    |w: &&str| w.chars().count() == 1 && w.chars().all(|c| c.is_ascii_alphabetic());
                let mut best: &[&str] = &[];
                let mut start = 0;
                while start < words.len() {
                    let run = words[start..].iter().take_while(|w| single(w)).count();
                    if run > best.len() {
                        best = &words[start..start + run];
                    }
                    start += run.max(1);
                }
                if best.is_empty() {
                    words
                        .first()
                        .map(|w| w.chars().filter(char::is_ascii_alphabetic).collect())
                        .unwrap_or_default()
                } else {
                    best.iter().flat_map(|w| w.chars()).collect()
                }
            }
        }
    }

    /// Its stream number, so that families draw independent problems.
    fn stream(self) -> u64 {
        match self {
            Family::Addition => 1,
            Family::Reverse => 2,
            Family::Multiplication => 3,
        }
    }
}

/// One problem: the question's text, the right answer and near misses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The question as the prompt shows it (e.g. `"305 + 41"`).
    pub question: String,
    /// The right answer (e.g. `"346"`).
    pub answer: String,
    /// Wrong answers that differ from it in one symbol (or two swapped).
    pub distractors: Vec<String>,
}

/// Checks a `--digits`/`--lengths` list: every k from 1 to [`MAX_LENGTH`].
pub fn check_lengths(lengths: &[usize]) -> Result<(), InputError> {
    match lengths.iter().find(|&&k| !(1..=MAX_LENGTH).contains(&k)) {
        Some(k) => Err(invalid(format!(
            "--digits: {k} is outside 1..{MAX_LENGTH} (longer problems make no sense for models this small)"
        ))),
        None => Ok(()),
    }
}

/// Checks `--problems`.
pub fn check_problem_count(problems: usize) -> Result<(), InputError> {
    if (1..=MAX_PROBLEMS).contains(&problems) {
        Ok(())
    } else {
        Err(invalid(format!(
            "--problems must be from 1 to {MAX_PROBLEMS}, not {problems}"
        )))
    }
}

/// The most problem seeds one run pools.
pub const MAX_SEEDS: usize = 20;

/// Checks `--seeds`: 1 to [`MAX_SEEDS`] of them; returned sorted, each once,
/// so that the same seeds in any order pool into the same report.
pub fn check_seeds(seeds: &[u64]) -> Result<Vec<u64>, InputError> {
    let mut seeds = seeds.to_vec();
    seeds.sort_unstable();
    seeds.dedup();
    if seeds.is_empty() || seeds.len() > MAX_SEEDS {
        return Err(invalid(format!(
            "--seeds: give 1 to {MAX_SEEDS} seeds, not {}",
            seeds.len()
        )));
    }
    Ok(seeds)
}

/// `count` distinct problems of `family` at length `k`, none of them one of
/// the questions in `exclude` (the prompt's worked examples, whose answers
/// the prompt gives away); fewer when length `k` has fewer (one-digit sums
/// have 100). The same for the same seed on every machine: a ChaCha20
/// stream per (seed, family, k), drawn until enough distinct ones came.
pub fn generate(
    family: Family,
    k: usize,
    count: usize,
    seed: u64,
    exclude: &[&str],
) -> Vec<Problem> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream((family.stream() << 32) | k as u64);
    let mut seen: std::collections::HashSet<String> =
        exclude.iter().map(|q| q.to_string()).collect();
    // Enough draws to find every distinct problem of a small space; a
    // problem's distractors are drawn right after it, so a set without
    // repeats is the one drawn before repeats were skipped.
    let draws = count.saturating_mul(50).saturating_add(2_000);
    let mut problems = Vec::with_capacity(count);
    for _ in 0..draws {
        if problems.len() == count {
            break;
        }
        let (question, answer) = match family {
            Family::Addition => {
                let low = if k == 1 { 0 } else { 10u64.pow(k as u32 - 1) };
                let high = 10u64.pow(k as u32) - 1;
                let a = uniform(&mut rng, low, high);
                let b = uniform(&mut rng, low, high);
                (format!("{a} + {b}"), (a + b).to_string())
            }
            Family::Multiplication => {
                let low = if k == 1 { 2 } else { 10u64.pow(k as u32 - 1) };
                let high = 10u64.pow(k as u32) - 1;
                let a = uniform(&mut rng, low, high);
                let b = uniform(&mut rng, low, high);
                let product = u128::from(a) * u128::from(b);
                (format!("{a} × {b}"), product.to_string())
            }
            Family::Reverse => {
                let letters: Vec<char> = (0..k)
                    .map(|_| (b'a' + uniform(&mut rng, 0, 25) as u8) as char)
                    .collect();
                (spaced(letters.iter()), spaced(letters.iter().rev()))
            }
        };
        if !seen.insert(question.clone()) {
            continue;
        }
        let distractors = near_misses(family, &answer, &mut rng);
        problems.push(Problem {
            question,
            answer,
            distractors,
        });
    }
    problems
}

/// Letters joined by single spaces.
fn spaced<'a>(letters: impl Iterator<Item = &'a char>) -> String {
    letters.map(char::to_string).collect::<Vec<_>>().join(" ")
}

/// A uniform whole number in `low..=high` (multiply-shift: exact enough for
/// spans this small, and the same on every machine).
fn uniform(rng: &mut ChaCha20Rng, low: u64, high: u64) -> u64 {
    let span = high - low + 1;
    low + ((rng.next_u64() as u128 * span as u128) >> 64) as u64
}

/// [`DISTRACTORS`] distinct wrong answers one symbol away from `answer` (or,
/// for letters, two neighbours swapped).
fn near_misses(family: Family, answer: &str, rng: &mut ChaCha20Rng) -> Vec<String> {
    let symbols: Vec<char> = answer.chars().collect();
    let places: Vec<usize> = symbols
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_ascii_alphanumeric())
        .map(|(i, _)| i)
        .collect();
    let mut out: Vec<String> = Vec::new();
    // Every problem has far more than DISTRACTORS near misses (a one-digit
    // answer has nine), so this ends; the cap guards against a mistake.
    for _ in 0..10_000 {
        if out.len() == DISTRACTORS {
            break;
        }
        let mut changed = symbols.clone();
        let place = places[uniform(rng, 0, places.len() as u64 - 1) as usize];
        match family {
            Family::Addition | Family::Multiplication => {
                let leading = place == 0 && places.len() > 1;
                let digit = uniform(rng, u64::from(leading), 9) as u8;
                changed[place] = (b'0' + digit) as char;
            }
            Family::Reverse => {
                let swap = places.len() > 1 && rng.next_u32().is_multiple_of(2);
                if swap {
                    let i = uniform(rng, 0, places.len() as u64 - 2) as usize;
                    changed.swap(places[i], places[i + 1]);
                } else {
                    changed[place] = (b'a' + uniform(rng, 0, 25) as u8) as char;
                }
            }
        }
        let changed: String = changed.into_iter().collect();
        if changed != answer && !out.contains(&changed) {
            out.push(changed);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_pinned_by_the_seed() {
        // Pinned: a change here changes every published table.
        let problems = generate(Family::Addition, 3, 3, 7, &[]);
        let questions: Vec<&str> = problems.iter().map(|p| p.question.as_str()).collect();
        let answers: Vec<&str> = problems.iter().map(|p| p.answer.as_str()).collect();
        assert_eq!(questions, ["815 + 513", "377 + 683", "104 + 729"]);
        assert_eq!(answers, ["1328", "1060", "833"]);
        assert_eq!(generate(Family::Addition, 3, 3, 7, &[]), problems);
        assert_ne!(generate(Family::Addition, 3, 3, 8, &[]), problems);
        let reversed = generate(Family::Reverse, 4, 2, 7, &[]);
        assert_eq!(reversed[0].question, "f q p d");
        assert_eq!(reversed[0].answer, "d p q f");
    }

    #[test]
    fn problems_are_distinct_and_never_a_worked_example() {
        // One-digit sums: 100 in all; "3 + 4" is the prompt's first example.
        let all = generate(Family::Addition, 1, 200, 1, &["3 + 4"]);
        assert_eq!(all.len(), 99, "every one-digit sum but the example");
        let questions: std::collections::HashSet<&str> =
            all.iter().map(|p| p.question.as_str()).collect();
        assert_eq!(questions.len(), all.len());
        assert!(!questions.contains("3 + 4"));
        let twenty = generate(Family::Addition, 1, 20, 1, &["3 + 4"]);
        assert_eq!(twenty.len(), 20);
        assert_eq!(twenty[..], all[..20], "the first twenty of the same draws");
    }

    #[test]
    fn answers_are_right_and_distractors_are_near_misses() {
        for k in 1..=MAX_LENGTH {
            for p in generate(Family::Addition, k, 20, 1, &[]) {
                let (a, b) = p.question.split_once(" + ").unwrap();
                assert_eq!(a.len(), k, "{p:?}");
                let sum: u64 = a.parse::<u64>().unwrap() + b.parse::<u64>().unwrap();
                assert_eq!(p.answer, sum.to_string());
                assert_eq!(p.distractors.len(), DISTRACTORS);
                for d in &p.distractors {
                    assert_ne!(d, &p.answer);
                    assert_eq!(d.len(), p.answer.len());
                    assert!(!d.starts_with('0') || d.len() == 1, "{d}");
                    let differing = d.chars().zip(p.answer.chars()).filter(|(x, y)| x != y);
                    assert_eq!(differing.count(), 1, "{d} vs {}", p.answer);
                }
            }
            for p in generate(Family::Reverse, k, 20, 1, &[]) {
                let forward: String = p.question.chars().rev().collect();
                assert_eq!(p.answer, forward);
                assert_eq!(Family::Reverse.symbols(&p.answer).len(), k);
                assert_eq!(p.distractors.len(), DISTRACTORS);
                assert!(p.distractors.iter().all(|d| d != &p.answer));
            }
        }
    }

    #[test]
    fn products_are_right_and_one_digit_factors_skip_0_and_1() {
        let all = generate(Family::Multiplication, 1, 100, 1, &["3 × 4"]);
        assert_eq!(all.len(), 63, "8 × 8 one-digit products but the example");
        for k in 1..=MAX_LENGTH {
            for p in generate(Family::Multiplication, k, 20, 1, &[]) {
                let (a, b) = p.question.split_once(" × ").unwrap();
                assert_eq!(a.len(), k, "{p:?}");
                let (a, b): (u128, u128) = (a.parse().unwrap(), b.parse().unwrap());
                assert!(k > 1 || (a >= 2 && b >= 2), "{p:?}");
                assert_eq!(p.answer, (a * b).to_string());
                assert_eq!(p.distractors.len(), DISTRACTORS);
                assert!(p
                    .distractors
                    .iter()
                    .all(|d| d != &p.answer && d.len() == p.answer.len()));
            }
        }
        assert_eq!(
            Family::Multiplication.read_answer("48 × 52 = 2,496."),
            "2496".chars().collect::<Vec<_>>(),
            "a restated question is read after its '='"
        );
        assert_eq!(
            Family::Multiplication.read_answer("2656"),
            vec!['2', '6', '5', '6']
        );
    }

    #[test]
    fn answers_are_read_from_the_model_line() {
        let read = |f: Family, s: &str| f.read_answer(s).into_iter().collect::<String>();
        assert_eq!(read(Family::Addition, "1,291"), "1291");
        assert_eq!(read(Family::Addition, "The sum is 346."), "346");
        assert_eq!(read(Family::Addition, "12, 13"), "12");
        assert_eq!(read(Family::Addition, "none"), "");
        assert_eq!(read(Family::Reverse, "e h u w"), "ehuw");
        assert_eq!(read(Family::Reverse, "Reversed: e h u w."), "ehuw");
        assert_eq!(read(Family::Reverse, "ehuw"), "ehuw");
    }

    #[test]
    fn lengths_and_counts_outside_the_limits_are_refused() {
        assert!(check_lengths(&[1, 6, 12]).is_ok());
        let error = check_lengths(&[0]).unwrap_err().to_string();
        assert!(error.contains("outside 1..12"), "{error}");
        assert!(check_lengths(&[40]).is_err());
        assert!(check_problem_count(0).is_err());
        assert!(check_problem_count(MAX_PROBLEMS + 1).is_err());
    }
}
