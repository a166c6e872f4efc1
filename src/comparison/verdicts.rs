//! The three verdicts of a comparison, each tied to its row of the note's
//! table and computed only from what this run did. They are [`Phrase`]s
//! (catalogue keys and data), so the same verdict reads in English or
//! Chinese; this module decides what to say, never how it is worded.

use crate::report::compare::{ModelSample, ModelSide, RuleSide, Truth, Verdict, Verdicts};
use crate::rules::{RuleOutcome, TraceStep};
use crate::sampler::Temperature;
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

fn t_label(t: Temperature) -> Phrase {
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
                None => match first.cut_off_at {
                    Some(tokens) => Phrase::new("verdict.cut_off_without_answer")
                        .arg("text", shorten(&first.text, 40))
                        .arg("tokens", tokens)
                        .arg("t", t_label(first.temperature)),
                    None => Phrase::new("verdict.replied_without_answer")
                        .arg("text", shorten(&first.text, 40))
                        .arg("t", t_label(first.temperature)),
                },
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

/// The kind of error the model made: fluent wrong answers, wandering off,
/// or no error but answers the token limit cut off.
fn model_errors(model: &ModelSide, truth: Option<&Truth>) -> Phrase {
    // A cut-off answer is neither a wrong answer nor wandering off.
    let misses = |answered: bool| {
        model
            .temperatures
            .iter()
            .flat_map(|t| t.answers.iter().map(move |a| (t, a)))
            .filter(move |(_, a)| {
                a.correct == Some(false) && a.answer.is_some() == answered && a.cut_off_at.is_none()
            })
            .max_by(|a, b| {
                a.1.count
                    .cmp(&b.1.count)
                    .then(super::rank(a.1.probability).total_cmp(&super::rank(b.1.probability)))
            })
    };
    let Some(truth) = truth else {
        return Phrase::new("verdict.model_unscorable");
    };
    let cut_off: Vec<&ModelSample> = model
        .samples
        .iter()
        .filter(|s| s.cut_off_at.is_some())
        .collect();
    match (misses(true), misses(false)) {
        (None, None) if !cut_off.is_empty() => Phrase::new("verdict.model_cut_off")
            .arg("count", cut_off.len())
            .arg("total", model.samples.len())
            .arg("tokens", cut_off[0].cut_off_at.unwrap_or_default())
            .arg("example", shorten(&cut_off[0].text, 60)),
        (None, None) => Phrase::new("verdict.model_all_right").arg("total", model.samples.len()),
        (Some((t, a)), _) => {
            let phrase = match a.probability {
                Some(p) => Phrase::new("verdict.model_hallucinated").arg("p", format!("{p:.3}")),
                // A server that reported no logprobs: no probability to give.
                None => Phrase::new("verdict.model_hallucinated_unweighted"),
            };
            phrase
                .arg(
                    "answer",
                    crate::tasks::answer_phrase(a.answer.as_deref().unwrap_or_default()),
                )
                .arg("count", a.count)
                .arg("samples", t.samples)
                .arg("t", t_label(t.temperature))
                .arg("example", shorten(&a.example, 60))
                .arg("truth", crate::tasks::answer_phrase(&truth.answer))
        }
        (None, Some((t, a))) => Phrase::new("verdict.model_wandered")
            .arg("count", a.count)
            .arg("samples", t.samples)
            .arg("t", t_label(t.temperature))
            .arg("example", shorten(&a.example, 60))
            .arg("truth", crate::tasks::answer_phrase(&truth.answer)),
    }
}

#[cfg(test)]
mod tests {
    use crate::comparison::testing::fake_compare;
    use crate::comparison::CompareReport;
    use crate::words::Lang;

    /// Over T = 0 and 1 × seeds 1..3.
    fn run(script: &[(&str, f64)], rule: &str, input: &str, truth: Option<&str>) -> CompareReport {
        fake_compare(script, rule, input, truth, "0,1", "1..3")
    }

    /// The three verdicts' texts in `lang`.
    fn texts(report: &CompareReport, lang: Lang) -> [String; 3] {
        let v = &report.verdicts;
        [&v.reproducibility, &v.generalization, &v.error_type].map(|v| v.text.text(lang))
    }

    #[test]
    fn a_right_rule_and_a_right_model_say_so_and_count_the_runs() {
        let r = run(&[("42", 1.0)], "arithmetic", "What is 17 + 25?", None);
        let [repro, general, error] = texts(&r, Lang::En);
        assert_eq!(
            repro,
            "the rule gave 1 distinct output in 6 runs; the model gave 1 distinct text in 3 runs at T=0, \
             1 in 3 at T=1; re-running T=1 seed 1 from scratch repeated the same text."
        );
        assert_eq!(
            general,
            "the input is inside the rule's domain: the rule answers '42' (right); the model was right in 6 of 6 samples."
        );
        assert_eq!(
            error,
            "the rule was right; the model was right in all 6 samples."
        );
        let [repro, general, error] = texts(&r, Lang::Zh);
        assert!(
            repro
                .starts_with("规则在 6 次运行中给出 1 种输出；模型在 T=0 下 3 次运行得到 1 种文本"),
            "{repro}"
        );
        assert_eq!(
            general,
            "输入在规则的范围内：规则答“42”（正确）；模型在 6 次采样中答对 6 次。"
        );
        assert_eq!(error, "规则答对了；模型 6 次采样全部答对。");
    }

    #[test]
    fn fluent_wrong_answers_are_called_hallucination_with_their_count() {
        let r = run(&[("32", 1.0)], "arithmetic", "What is 17 + 25?", None);
        let [_, _, error] = texts(&r, Lang::En);
        assert!(
            error.contains("the model's errors are fluent wrong answers (hallucination): '32' (3 of 3 samples at T=1)"),
            "{error}"
        );
        assert!(error.ends_with("(truth: 42)."), "{error}");
        let [_, _, zh] = texts(&r, Lang::Zh);
        assert!(
            zh.contains("模型的错误是流畅的错误答案（幻觉）：“32”（T=1 下 3 次采样中出现 3 次）"),
            "{zh}"
        );
    }

    #[test]
    fn samples_without_an_answer_are_wandering_not_hallucination() {
        let r = run(
            &[("I cannot say", 1.0)],
            "arithmetic",
            "What is 17 + 25?",
            None,
        );
        let [_, _, error] = texts(&r, Lang::En);
        assert!(
            error.contains("the model never gave a wrong answer, but in 3 of 3 samples at T=1 it wandered off without one, e.g. \"I cannot say\""),
            "{error}"
        );
        assert!(!error.contains("hallucination"), "{error}");
    }

    #[test]
    fn an_input_outside_the_rule_is_an_explicit_error_beside_the_models_attempt() {
        let r = run(
            &[("42", 1.0)],
            "arithmetic",
            "seventeen plus twenty-five",
            Some("42"),
        );
        let [_, general, error] = texts(&r, Lang::En);
        assert_eq!(
            general,
            "the input is outside the rule's grammar or table, and the rule says so \
             (cannot parse: 'seventeen' is not a number or an operator (+ - × ÷ ( ))); \
             the model answered anyway: '42' at T=0 (right); it was right in 6 of 6 samples."
        );
        assert!(
            error.starts_with("the rule fails with an explicit error at 'extract expression'"),
            "{error}"
        );
        let [_, general, error] = texts(&r, Lang::Zh);
        assert!(
            general.contains("模型照样作答：在 T=0 下答“42”（正确）"),
            "{general}"
        );
        assert!(
            error.starts_with("规则在“提取算式”这一步明确报错"),
            "{error}"
        );

        let silent = run(
            &[("hmm", 1.0)],
            "arithmetic",
            "seventeen plus twenty-five",
            Some("42"),
        );
        let [_, general, _] = texts(&silent, Lang::En);
        assert!(
            general.contains("the model replied \"hmm\" at T=0, with no answer that could be read"),
            "{general}"
        );
    }

    #[test]
    fn a_wrong_rule_names_its_bug_and_an_unknown_truth_is_not_scored() {
        let r = run(
            &[("no", 1.0)],
            "leap-year-buggy",
            "Is 1900 a leap year?",
            None,
        );
        let [_, general, error] = texts(&r, Lang::En);
        assert!(
            general.contains("the rule answers 'yes' (wrong)"),
            "{general}"
        );
        assert!(
            error.starts_with("the rule's answer 'yes' is wrong: a systematic bug at rule 'divisible by 4?' — 1900 mod 4 = 0 → yes (century rule missing) (src/rules/leap_year_buggy.rs:"),
            "{error}"
        );
        assert!(
            error.contains("the same wrong answer in all 6 runs"),
            "{error}"
        );
        let [_, _, zh] = texts(&r, Lang::Zh);
        assert!(
            zh.contains(
                "规则“能被 4 整除吗？”处有一个系统性 bug——1900 mod 4 = 0 → 是（缺少整百年规则）"
            ),
            "{zh}"
        );

        let unknown = run(
            &[("Birnin Zana", 1.0)],
            "capitals",
            "What is the capital of Qzrbland?",
            None,
        );
        let [_, general, error] = texts(&unknown, Lang::En);
        assert!(
            general.ends_with("it was not scorable (no known truth)."),
            "{general}"
        );
        assert!(
            error.ends_with("; the model's answers cannot be scored without a known truth."),
            "{error}"
        );
        let sentiment = run(&[("positive", 1.0)], "sentiment", "I loved it", None);
        let [_, general, error] = texts(&sentiment, Lang::En);
        assert!(
            general.contains("the rule answers 'positive';"),
            "{general}"
        );
        assert!(
            error.starts_with("the rule answered (truth unknown);"),
            "{error}"
        );
    }
}
