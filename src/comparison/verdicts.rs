//! The three verdicts of a comparison, each tied to its row of the note's
//! table and computed only from what this run did. They are [`Phrase`]s
//! (catalogue keys and data), so the same verdict reads in English or
//! Chinese; this module decides what to say, never how it is worded.

use crate::report::compare::{ModelSide, RuleSide, Truth, Verdict, Verdicts};
use crate::rules::{RuleOutcome, TraceStep};
use crate::words::Phrase;

use super::{shorten, temperature_label};

/// The verdicts on `rule` and `model` against `truth` (when known).
pub fn verdicts(rule: &RuleSide, model: &ModelSide, truth: Option<&Truth>) -> Verdicts {
    Verdicts {
        reproducibility: Verdict {
            row: Phrase::new("verdict.row.reproducibility"),
            text: reproducibility(rule, model),
        },
        generalization: Verdict {
            row: Phrase::new("verdict.row.generalization"),
            text: generalization(rule, model, truth),
        },
        error_type: Verdict {
            row: Phrase::new("verdict.row.error_type"),
            text: Phrase::new("verdict.error_type_text")
                .arg("rule", rule_errors(rule))
                .arg("model", model_errors(model, truth)),
        },
    }
}

fn t_label(t: f64) -> Phrase {
    Phrase::data(temperature_label(t))
}

/// Same input, same output? Counted on both sides, plus a re-run from scratch.
fn reproducibility(rule: &RuleSide, model: &ModelSide) -> Phrase {
    let per_temperature = model
        .temperatures
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let key = match (i, t.distinct_texts) {
                (0, 1) => "verdict.texts_first_one",
                (0, _) => "verdict.texts_first_many",
                _ => "verdict.texts_rest",
            };
            Phrase::new(key)
                .arg("count", t.distinct_texts)
                .arg("samples", t.samples)
                .arg("t", t_label(t.temperature))
        })
        .collect();
    let check = &model.seed_check;
    let outputs = if rule.distinct_outputs == 1 {
        "verdict.outputs_one"
    } else {
        "verdict.outputs_many"
    };
    Phrase::new("verdict.reproducibility_text")
        .arg(
            "outputs",
            Phrase::new(outputs).arg("count", rule.distinct_outputs),
        )
        .arg("runs", rule.runs)
        .arg("per_temperature", Phrase::list(per_temperature))
        .arg("t", t_label(check.temperature))
        .arg("seed", check.seed)
        .arg(
            "result",
            Phrase::new(if check.identical {
                "verdict.repeated"
            } else {
                "verdict.differed"
            }),
        )
}

/// The model's record over all samples, or that it cannot be scored.
fn record(model: &ModelSide, truth: Option<&Truth>) -> Phrase {
    if truth.is_none() {
        return Phrase::new("verdict.record_unscorable");
    }
    let right = model
        .samples
        .iter()
        .filter(|s| s.correct == Some(true))
        .count();
    Phrase::new("verdict.record")
        .arg("right", right)
        .arg("total", model.samples.len())
}

/// Inside or outside the rule's domain, and what the model did there.
fn generalization(rule: &RuleSide, model: &ModelSide, truth: Option<&Truth>) -> Phrase {
    let first = &model.samples[0];
    match &rule.outcome {
        RuleOutcome::Error { error } => {
            let attempt = match &first.answer {
                Some(answer) => Phrase::new("verdict.answered_anyway")
                    .arg("answer", answer.as_str())
                    .arg("t", t_label(first.temperature))
                    .arg(
                        "mark",
                        Phrase::new(match first.correct {
                            Some(true) => "verdict.mark_right",
                            Some(false) => "verdict.mark_wrong",
                            None => "verdict.mark_unknown",
                        }),
                    ),
                None => Phrase::new("verdict.replied_without_answer")
                    .arg("text", shorten(&first.text, 40))
                    .arg("t", t_label(first.temperature)),
            };
            Phrase::new("verdict.outside")
                .arg("error", error.phrase())
                .arg("attempt", attempt)
                .arg("record", record(model, truth))
        }
        RuleOutcome::Answer { value } => Phrase::new(match rule.correct {
            Some(true) => "verdict.inside_right",
            Some(false) => "verdict.inside_wrong",
            None => "verdict.inside",
        })
        .arg("value", value.as_str())
        .arg("record", record(model, truth)),
    }
}

/// The kind of error the rule made, if any: explicit refusal or a bug at one line.
fn rule_errors(rule: &RuleSide) -> Phrase {
    match (&rule.outcome, rule.correct) {
        (RuleOutcome::Error { error }, _) => Phrase::new("verdict.rule_failed")
            .arg(
                "at",
                rule.trace
                    .last()
                    .map(|s| s.rule.clone())
                    .unwrap_or_else(|| Phrase::new("verdict.rule_input")),
            )
            .arg("error", error.phrase()),
        (RuleOutcome::Answer { value }, Some(false)) => {
            let step: &TraceStep =
                crate::rules::decisive_step(&rule.trace).expect("an answer has a trace");
            Phrase::new("verdict.rule_bug")
                .arg("value", value.as_str())
                .arg("step", step.rule.clone())
                .arg("detail", step.detail.clone())
                .arg("source", step.source.as_str())
                .arg("runs", rule.runs)
        }
        (RuleOutcome::Answer { .. }, Some(true)) => Phrase::new("verdict.rule_right"),
        (RuleOutcome::Answer { .. }, None) => Phrase::new("verdict.rule_unscored"),
    }
}

/// The kind of error the model made: fluent wrong answers, or wandering off.
fn model_errors(model: &ModelSide, truth: Option<&Truth>) -> Phrase {
    let misses = |answered: bool| {
        model
            .temperatures
            .iter()
            .flat_map(|t| t.answers.iter().map(move |a| (t, a)))
            .filter(move |(_, a)| a.correct == Some(false) && a.answer.is_some() == answered)
            .max_by(|a, b| {
                a.1.count
                    .cmp(&b.1.count)
                    .then(a.1.probability.total_cmp(&b.1.probability))
            })
    };
    let Some(truth) = truth else {
        return Phrase::new("verdict.model_unscorable");
    };
    match (misses(true), misses(false)) {
        (None, None) => Phrase::new("verdict.model_all_right").arg("total", model.samples.len()),
        (Some((t, a)), _) => Phrase::new("verdict.model_hallucinated")
            .arg("answer", a.answer.clone().unwrap_or_default())
            .arg("count", a.count)
            .arg("samples", t.samples)
            .arg("t", t_label(t.temperature))
            .arg("example", shorten(&a.example, 60))
            .arg("p", format!("{:.3}", a.probability))
            .arg("truth", truth.answer.as_str()),
        (None, Some((t, a))) => Phrase::new("verdict.model_wandered")
            .arg("count", a.count)
            .arg("samples", t.samples)
            .arg("t", t_label(t.temperature))
            .arg("example", shorten(&a.example, 60))
            .arg("truth", truth.answer.as_str()),
    }
}
