//! What to compare: each input with the rule whose domain fits it (or the
//! one the user forced, or the refusal when none fits) and its truth when
//! given; inputs files read here.

use std::path::Path;

use super::CompareInput;
use crate::error::{invalid, InputError};
use crate::rules::{self, Rule};

/// An input, the rule chosen for it, and its truth if given.
pub struct Planned {
    pub input: CompareInput,
    pub rule: &'static dyn Rule,
}

pub fn plan(
    text: &str,
    truth: Option<String>,
    forced: Option<&'static dyn Rule>,
) -> Result<Planned, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::EmptyPrompt);
    }
    check_length(text)?;
    // Outside every rule's domain the program refuses, as programs do, and
    // the model still answers: both sides are shown.
    let rule = forced
        .or_else(|| rules::pick(text))
        .unwrap_or(&rules::NoRuleFits);
    Ok(Planned {
        input: CompareInput {
            text: text.to_string(),
            truth,
        },
        rule,
    })
}

/// The longest input a comparison takes, in characters: a question for a
/// rule and a class, not a document (a 20,000-character input took minutes
/// of prefill per sample before it was refused).
pub const MAX_INPUT_CHARS: usize = 1_000;

/// Refuses an input longer than [`MAX_INPUT_CHARS`].
pub fn check_length(text: &str) -> Result<(), InputError> {
    let length = text.chars().count();
    if length > MAX_INPUT_CHARS {
        return Err(invalid(format!(
            "an input to compare is at most {MAX_INPUT_CHARS} characters; {:?} has {length}",
            super::shorten(text, 40)
        )));
    }
    Ok(())
}

/// Reads an inputs file: UTF-8, one input per line, `INPUT<TAB>TRUTH`
/// optional, blank lines and `#` comments skipped.
pub fn read_inputs(path: &Path) -> Result<Vec<(String, Option<String>)>, InputError> {
    let bytes = crate::files::read_bytes(path, "inputs file", crate::files::TEXT_LIMIT)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        invalid(format!(
            "inputs file {} is not UTF-8 (line {line})",
            path.display()
        ))
    })?;
    let inputs: Vec<(String, Option<String>)> = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| match l.split_once('\t') {
            Some((input, truth)) => (
                input.to_string(),
                Some(truth.trim().to_string()).filter(|t| !t.is_empty()),
            ),
            None => (l.to_string(), None),
        })
        .collect();
    if inputs.is_empty() {
        return Err(invalid(format!(
            "inputs file {} has no inputs",
            path.display()
        )));
    }
    Ok(inputs)
}
