//! Takeaways: what a step's run showed, worded from the message catalogue
//! out of its report's numbers and findings. Nothing here is canned: every count, answer
//! and probability comes from the report, and a branch exists for each way
//! the run can turn out (the model right, wrong, silent, or mixed).

use std::collections::BTreeSet;

pub mod emergence;
pub mod grok;

use crate::report::compare::CompareReport;
use crate::report::demo::{Facts, RuleAnswer, ViewResult};
use crate::report::experiments::{RepeatReport, RepeatRow};
use crate::report::views::{ProbsReport, TraceReport};
use crate::rules::{decisive_step, RuleOutcome};
use crate::words::Lang;

/// The takeaway of `result` in `lang`.
pub fn takeaway(result: &ViewResult, lang: Lang) -> String {
    let sentences: Vec<String> = match result {
        ViewResult::Compare { reports } => {
            // One input is told in full; several are shown as the rows of
            // one table, so their takeaway sums the rows up.
            let mut s: Vec<String> = match reports.as_slice() {
                [one] => std::iter::once(compare(one, lang))
                    .chain(spread_by_temperature(one, lang))
                    .collect(),
                several => rows(several, lang),
            };
            s.extend(bias(reports, lang));
            s
        }
        ViewResult::Probs { reports, rules } => {
            let mut s: Vec<String> = reports.iter().flat_map(|r| probs(r, lang)).collect();
            // The rule beside the model's first token where that reads as an
            // answer; else the rule alone.
            for (i, rule) in rules.iter().enumerate() {
                s.extend(
                    reports
                        .get(i)
                        .and_then(|r| first_token_reading(r, rule, lang))
                        .or_else(|| {
                            Some(lang.fill(
                                "takeaway.probs_rule",
                                &[("rule", &rule.rule), ("output", &lang.quote(&rule.output))],
                            ))
                        }),
                );
            }
            s
        }
        ViewResult::Trace { reports } => reports.iter().flat_map(|r| trace(r, lang)).collect(),
        ViewResult::Repeat { reports } => reports.iter().flat_map(|r| repeat(r, lang)).collect(),
        ViewResult::Facts { facts } => vec![self::facts(facts, lang)],
        ViewResult::Metric { reports } => match reports.as_slice() {
            [one] => emergence::metric(one, lang),
            several => several
                .iter()
                .flat_map(|r| emergence::metric_beside_others(r, lang))
                .collect(),
        },
        ViewResult::Ladder { report } => emergence::ladder(report, lang),
        ViewResult::Subtasks { report } => emergence::subtasks(report, lang),
        ViewResult::Scale { report } => emergence::scale(report, lang),
        ViewResult::Grok { report } => grok::training(report, lang),
        ViewResult::Phase { report } => grok::phase(report, lang),
    };
    sentences.join(lang.sentence_gap())
}

/// How the model's samples turned out against the truth.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub samples: usize,
    pub right: usize,
    pub wrong: usize,
    /// Samples with no readable answer (and not cut off).
    pub unanswered: usize,
    /// Samples cut off at the token limit before their answer was whole.
    pub cut_off: usize,
}

impl Tally {
    /// Counts `report`'s samples.
    pub fn of(report: &CompareReport) -> Self {
        let mut tally = Tally {
            samples: report.model.samples.len(),
            ..Tally::default()
        };
        for s in &report.model.samples {
            match (&s.answer, s.correct) {
                (None, _) if s.cut_off_at.is_some() => tally.cut_off += 1,
                (None, _) => tally.unanswered += 1,
                (Some(_), Some(true)) => tally.right += 1,
                (Some(_), _) => tally.wrong += 1,
            }
        }
        tally
    }
}

/// The most frequent answer among `report`'s samples that `keep` accepts,
/// with its count (ties: the earlier sample).
fn most_frequent(
    report: &CompareReport,
    keep: impl Fn(Option<bool>) -> bool,
) -> Option<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for s in report.model.samples.iter().filter(|s| keep(s.correct)) {
        let Some(answer) = &s.answer else { continue };
        match counts.iter_mut().find(|(a, _)| a == answer) {
            Some(entry) => entry.1 += 1,
            None => counts.push((answer.clone(), 1)),
        }
    }
    counts.into_iter().rev().max_by_key(|(_, n)| *n)
}

/// Each catalogue entry with its count filled in (and `extra`), leaving out
/// the counts of zero: "4 right, 1 wrong".
fn counted(
    parts: &[(&str, usize)],
    extra: (&str, &dyn std::fmt::Display),
    lang: Lang,
) -> Vec<String> {
    parts
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(key, count)| lang.fill(key, &[("count", count), extra]))
        .collect()
}

/// The token limit that cut `report`'s samples off (0 when none was).
fn token_limit(report: &CompareReport) -> usize {
    report
        .model
        .samples
        .iter()
        .find_map(|s| s.cut_off_at)
        .unwrap_or_default()
}

fn rule_part(report: &CompareReport, lang: Lang) -> String {
    let rule = &report.rule;
    let runs = rule.runs;
    if rule.distinct_outputs != 1 {
        return lang.fill(
            "takeaway.rule.varied",
            &[("runs", &runs), ("distinct", &rule.distinct_outputs)],
        );
    }
    match (&rule.outcome, rule.correct) {
        (RuleOutcome::Error { error }, _) => lang.fill(
            "takeaway.rule.error",
            &[("runs", &runs), ("error", &error.describe(lang))],
        ),
        (RuleOutcome::Answer { value }, Some(true)) => lang.fill(
            "takeaway.rule.right",
            &[("runs", &runs), ("answer", &lang.quote(value))],
        ),
        (RuleOutcome::Answer { value }, Some(false)) => {
            let source = decisive_step(&rule.trace)
                .map(|s| s.source.clone())
                .unwrap_or_default();
            lang.fill(
                "takeaway.rule.wrong",
                &[
                    ("runs", &runs),
                    ("answer", &lang.quote(value)),
                    ("source", &source),
                ],
            )
        }
        (RuleOutcome::Answer { value }, None) => lang.fill(
            "takeaway.rule.unscored",
            &[("runs", &runs), ("answer", &lang.quote(value))],
        ),
    }
}

fn model_part(report: &CompareReport, lang: Lang) -> String {
    let t = Tally::of(report);
    let n = t.samples;
    if report.truth.is_none() {
        return lang.fill(
            "takeaway.model.unscored",
            &[("answered", &(n - t.unanswered)), ("n", &n)],
        );
    }
    // "Most often" only of an answer given more than once.
    let top_wrong = most_frequent(report, |c| c == Some(false)).filter(|(_, count)| *count > 1);
    let limit = token_limit(report);
    let mut part = if t.right == n {
        lang.fill("takeaway.model.all_right", &[("n", &n)])
    } else if t.cut_off == n {
        lang.fill(
            "takeaway.model.all_cut_off",
            &[("n", &n), ("tokens", &limit)],
        )
    } else if t.unanswered == n {
        lang.fill("takeaway.model.none", &[("n", &n)])
    } else if t.wrong == n {
        lang.fill("takeaway.model.all_wrong", &[("n", &n)])
    } else {
        let mut parts = counted(
            &[
                ("takeaway.model.part_right", t.right),
                ("takeaway.model.part_wrong", t.wrong),
                ("takeaway.model.part_none", t.unanswered),
                ("takeaway.model.part_cut_off", t.cut_off),
            ],
            ("tokens", &limit),
            lang,
        );
        // The most frequent wrong answer follows the count of wrong ones.
        if let Some(top) = &top_wrong {
            parts[usize::from(t.right > 0)].push_str(&top_wrong_text(top, lang));
        }
        return lang.fill(
            "takeaway.model.mixed",
            &[("n", &n), ("parts", &parts.join(lang.list_gap()))],
        );
    };
    if let Some(top) = &top_wrong {
        part.push_str(&top_wrong_text(top, lang));
    }
    part
}

/// " (most often “2568”, ×10)".
fn top_wrong_text((answer, count): &(String, usize), lang: Lang) -> String {
    lang.fill(
        "takeaway.model.top_wrong",
        &[
            (
                "answer",
                &lang.quote(&crate::tasks::answer_in(answer, lang)),
            ),
            ("count", count),
        ],
    )
}

/// How many different outcomes the model gave at each temperature, beside
/// the rule's: none when it sampled at one temperature only.
fn spread_by_temperature(report: &CompareReport, lang: Lang) -> Option<String> {
    let temperatures = &report.model.temperatures;
    if temperatures.len() < 2 {
        return None;
    }
    let items: Vec<String> = temperatures
        .iter()
        .map(|t| {
            let temperature: f64 = t.temperature.into();
            lang.fill(
                "takeaway.spread_item",
                &[("count", &t.answers.len()), ("t", &temperature)],
            )
        })
        .collect();
    Some(lang.fill(
        "takeaway.spread",
        &[
            ("items", &items.join(lang.list_gap())),
            ("rule", &report.rule.distinct_outputs),
        ],
    ))
}

fn compare(report: &CompareReport, lang: Lang) -> String {
    let truth = report
        .truth
        .as_ref()
        .map(|t| {
            let truth = crate::tasks::answer_in(&t.answer, lang);
            lang.fill("takeaway.truth", &[("truth", &lang.quote(&truth))])
        })
        .unwrap_or_default();
    let input = lang.quote(&report.input);
    lang.fill(
        "takeaway.compare",
        &[
            ("input", &input),
            ("truth", &truth),
            ("rule", &rule_part(report, lang)),
            ("model", &model_part(report, lang)),
        ],
    )
}

/// Several inputs, as the rows of one table: what the rule did on all of
/// them (the same outcome run after run, or not), then the model's right
/// samples row by row, with the samples that gave no answer or were cut off.
fn rows(reports: &[CompareReport], lang: Lang) -> Vec<String> {
    let first_model = &reports[0].model.model;
    let mut sentences = Vec::new();
    let steady: Vec<&CompareReport> = reports
        .iter()
        .filter(|r| r.rule.distinct_outputs == 1)
        .collect();
    let (mut right, mut wrong, mut errors, mut unscored) = (0, 0, 0, 0);
    let mut sources: Vec<String> = Vec::new();
    for r in &steady {
        match (&r.rule.outcome, r.rule.correct) {
            (RuleOutcome::Error { .. }, _) => errors += 1,
            (RuleOutcome::Answer { .. }, Some(true)) => right += 1,
            (RuleOutcome::Answer { .. }, Some(false)) => {
                wrong += 1;
                if let Some(step) = decisive_step(&r.rule.trace) {
                    if !sources.contains(&step.source) {
                        sources.push(step.source.clone());
                    }
                }
            }
            (RuleOutcome::Answer { .. }, None) => unscored += 1,
        }
    }
    let sources = sources.join(lang.list_gap());
    let parts = counted(
        &[
            ("takeaway.rows.rule_right", right),
            ("takeaway.rows.rule_wrong", wrong),
            ("takeaway.rows.rule_error", errors),
            ("takeaway.rows.rule_unscored", unscored),
        ],
        ("sources", &sources),
        lang,
    );
    let runs: BTreeSet<usize> = reports.iter().map(|r| r.rule.runs).collect();
    let runs = runs
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("/");
    if steady.len() == reports.len() {
        sentences.push(lang.fill(
            "takeaway.rows.rule_steady",
            &[("runs", &runs), ("parts", &parts.join(lang.list_gap()))],
        ));
    } else {
        sentences.push(lang.fill(
            "takeaway.rows.rule_varied",
            &[
                ("varied", &(reports.len() - steady.len())),
                ("k", &reports.len()),
                ("runs", &runs),
            ],
        ));
    }
    let cells: Vec<String> = reports
        .iter()
        .map(|r| {
            let t = Tally::of(r);
            let mut cell = if r.truth.is_some() {
                lang.fill(
                    "takeaway.rows.right",
                    &[("right", &t.right), ("n", &t.samples)],
                )
            } else {
                lang.fill(
                    "takeaway.rows.unscored",
                    &[
                        ("answered", &(t.samples - t.unanswered - t.cut_off)),
                        ("n", &t.samples),
                    ],
                )
            };
            let silent = counted(
                &[
                    ("takeaway.rows.none", t.unanswered),
                    ("takeaway.rows.cut_off", t.cut_off),
                ],
                ("tokens", &token_limit(r)),
                lang,
            );
            if &r.model.model != first_model {
                cell.push_str(&lang.fill("takeaway.rows.on_model", &[("model", &r.model.model)]));
            }
            if !silent.is_empty() {
                cell.push_str(&lang.fill(
                    "takeaway.rows.silent",
                    &[("parts", &silent.join(lang.list_gap()))],
                ));
            }
            cell
        })
        .collect();
    sentences.push(lang.fill(
        "takeaway.rows.model",
        &[("rows", &cells.join(lang.text("list.number_separator")))],
    ));
    sentences
}

/// Inputs of one task (with different right answers) that must all get
/// the same most frequent answer before a takeaway calls it a bias.
const BIAS_INPUTS: usize = 3;

/// A bias: on inputs of one task whose right answers differ, the model's most
/// frequent answer was the same every time.
fn bias(reports: &[CompareReport], lang: Lang) -> Option<String> {
    let mut by_task: Vec<(&CompareReport, String)> = Vec::new();
    for r in reports {
        if r.truth.is_none() {
            continue;
        }
        if let Some((answer, _)) = most_frequent(r, |_| true) {
            by_task.push((r, answer));
        }
    }
    for (first, answer) in &by_task {
        let same_task: Vec<&(&CompareReport, String)> = by_task
            .iter()
            .filter(|(r, _)| r.task == first.task)
            .collect();
        let truths: BTreeSet<String> = same_task
            .iter()
            .filter_map(|(r, _)| r.truth.as_ref().map(|t| t.answer.to_lowercase()))
            .collect();
        if same_task.len() >= 2 && truths.len() >= 2 && same_task.iter().all(|(_, a)| a == answer) {
            // Two inputs are too few to tell a bias from chance.
            let key = if same_task.len() >= BIAS_INPUTS {
                "takeaway.bias"
            } else {
                "takeaway.bias_few"
            };
            return Some(lang.fill(
                key,
                &[
                    ("k", &same_task.len()),
                    (
                        "answer",
                        &lang.quote(&crate::tasks::answer_in(answer, lang)),
                    ),
                ],
            ));
        }
    }
    None
}

/// What the model's most likely first token (at the lowest temperature
/// shown) reads as under the rule's task, beside the rule's answer: "“是”
/// reads as “yes”; the rule answers “no”". `None` when the token reads as
/// no answer.
fn first_token_reading(report: &ProbsReport, rule: &RuleAnswer, lang: Lang) -> Option<String> {
    let column = report.temperatures.first()?;
    let top = column.top.first()?;
    let task = crate::rules::by_name(rule.rule).ok()?.task();
    let (answer, _) = task.read(
        &rule.input,
        &top.piece,
        crate::generation::StopReason::EndOfText,
    );
    let answer = answer?;
    let key = if task.matches(&answer, &rule.output) {
        "takeaway.probs_reads_same"
    } else {
        "takeaway.probs_reads_other"
    };
    Some(lang.fill(
        key,
        &[
            ("t", &column.temperature),
            ("piece", &lang.quote(&top.piece)),
            ("answer", &lang.quote(&answer)),
            ("output", &lang.quote(&rule.output)),
            ("rule", &rule.rule),
        ],
    ))
}

fn probs(report: &ProbsReport, lang: Lang) -> Vec<String> {
    let columns: Vec<_> = report
        .temperatures
        .iter()
        .filter_map(|c| c.top.first().map(|top| (c, top)))
        .collect();
    if columns.is_empty() {
        return Vec::new();
    }
    let entropies: Vec<String> = columns
        .iter()
        .filter_map(|(c, _)| c.entropy_bits.map(|bits| format!("{bits:.2}")))
        .collect();
    let entropies = entropies.join(lang.text("list.number_separator"));
    let candidates = columns[0].0.candidates.unwrap_or_default();
    let percent = |p: f64| format!("{:.1}", 100.0 * p);
    // The same likeliest token at every temperature: said once, with how
    // far temperature moved its probability.
    if let [(first, top), .., (last, last_top)] = columns.as_slice() {
        if columns.iter().all(|(_, t)| t.piece == top.piece) {
            return vec![lang.fill(
                "takeaway.probs_same_top",
                &[
                    ("piece", &lang.quote(&top.piece)),
                    ("first", &percent(top.probability)),
                    ("t_first", &first.temperature),
                    ("last", &percent(last_top.probability)),
                    ("t_last", &last.temperature),
                    ("entropies", &entropies),
                    ("candidates", &candidates),
                ],
            )];
        }
    }
    let tops: Vec<String> = columns
        .iter()
        .map(|(c, top)| {
            lang.fill(
                "takeaway.probs_item",
                &[
                    ("t", &c.temperature),
                    ("piece", &lang.quote(&top.piece)),
                    ("percent", &percent(top.probability)),
                ],
            )
        })
        .collect();
    vec![lang.fill(
        "takeaway.probs",
        &[
            ("tops", &tops.join(lang.list_gap())),
            ("entropies", &entropies),
            ("candidates", &candidates),
        ],
    )]
}

fn trace(report: &TraceReport, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    let samples = &report.model.samples;
    let distinct = samples
        .iter()
        .map(|s| &s.text)
        .collect::<BTreeSet<_>>()
        .len();
    match report
        .model
        .divergence
        .as_ref()
        .and_then(|d| d.branches.first().map(|b| (d, b)))
    {
        Some((d, b)) => out.push(lang.fill(
            "takeaway.trace.branch",
            &[
                ("seeds", &samples.len()),
                ("distinct", &distinct),
                ("shared", &d.shared_steps),
                ("seed", &b.seed),
                ("piece", &lang.quote(&b.piece)),
                ("p", &format!("{:.2}", b.probability)),
                ("model_p", &format!("{:.2}", b.model_probability)),
                ("t", &report.model.sampling.temperature()),
                ("other_seed", &b.from_seed),
                ("other_piece", &lang.quote(&b.other_piece)),
                ("other_p", &format!("{:.2}", b.other_probability)),
                (
                    "other_model_p",
                    &format!("{:.2}", b.other_model_probability),
                ),
            ],
        )),
        None => out.push(lang.fill(
            "takeaway.trace.no_branch",
            &[("seeds", &samples.len()), ("distinct", &distinct)],
        )),
    }
    // Every seed starts from the same prompt: if the first step's
    // distributions are identical, the forward pass was the same arithmetic
    // and only the draw differed.
    if samples.len() >= 2 {
        let firsts: Vec<_> = samples.iter().filter_map(|s| s.steps.first()).collect();
        let same = firsts.len() == samples.len()
            && firsts.iter().all(|f| {
                f.alternatives.len() == firsts[0].alternatives.len()
                    && f.alternatives
                        .iter()
                        .zip(&firsts[0].alternatives)
                        .all(|(a, b)| {
                            a.piece == b.piece && a.probability.to_bits() == b.probability.to_bits()
                        })
            });
        if let (true, Some(top)) = (same, firsts.first().and_then(|f| f.alternatives.first())) {
            out.push(lang.fill(
                "takeaway.trace.same_distribution",
                &[
                    ("seeds", &samples.len()),
                    ("piece", &lang.quote(&top.piece)),
                    ("p", &format!("{:.3}", top.probability)),
                ],
            ));
        }
    }
    if let Some(rule) = &report.rule {
        let sourced = rule.steps.iter().filter(|s| !s.source.is_empty()).count();
        out.push(lang.fill(
            "takeaway.trace.rule",
            &[
                ("rule", &rule.rule),
                ("steps", &rule.steps.len()),
                ("sourced", &sourced),
                ("output", &lang.quote(&rule.output.text(lang))),
            ],
        ));
    }
    out
}

/// The fresh seeds of a row as a `--seeds` list, so a sample can be replayed.
pub fn seed_list(row: &RepeatRow) -> String {
    row.seeds
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn repeat(report: &RepeatReport, lang: Lang) -> Vec<String> {
    // One sentence: how many distinct outputs each row gave, named by what
    // the row held fixed (the table says the rest; the seeds to replay are
    // listed under it).
    let rows: Vec<String> = report
        .rows
        .iter()
        .map(|row| {
            let key = match (row.temperature, row.fixed_seed) {
                (None, _) => "takeaway.repeat_by.rule",
                (Some(_), None) => "takeaway.repeat_by.greedy",
                (Some(_), Some(true)) => "takeaway.repeat_by.fixed",
                (Some(_), Some(false)) => "takeaway.repeat_by.fresh",
            };
            lang.fill(
                key,
                &[
                    ("distinct", &row.distinct),
                    ("rule", &report.rule),
                    ("t", &row.temperature.unwrap_or_default()),
                    ("seed", &row.seeds.first().copied().unwrap_or_default()),
                ],
            )
        })
        .collect();
    let runs: BTreeSet<usize> = report.rows.iter().map(|r| r.runs).collect();
    vec![lang.fill(
        "takeaway.repeat",
        &[
            (
                "runs",
                &runs
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join("/"),
            ),
            ("rows", &rows.join(lang.text("list.clause_separator"))),
        ],
    )]
}

fn facts(facts: &Facts, lang: Lang) -> String {
    lang.fill(
        "takeaway.facts",
        &[
            ("rules", &facts.rules.len()),
            ("code", &facts.rule_code_lines),
            ("data", &facts.rule_data_lines),
            ("model", &facts.model),
            ("layers", &facts.layers),
            (
                "vocab",
                &crate::words::numbers::group_digits(facts.vocab_size as u64),
            ),
            (
                "params",
                &crate::words::numbers::group_digits(facts.parameters),
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparison::testing::fake_compare;

    /// Over T = 0 and 1 × seeds 1..4.
    fn run(script: &[(&str, f64)], rule: &str, input: &str, truth: Option<&str>) -> CompareReport {
        fake_compare(script, rule, input, truth, "0,1", "1..4")
    }

    fn both(reports: Vec<CompareReport>) -> (String, String) {
        let result = ViewResult::Compare { reports };
        (takeaway(&result, Lang::En), takeaway(&result, Lang::Zh))
    }

    #[test]
    fn inputs_asked_of_different_models_name_the_model_that_answered() {
        let small = run(&[("2176", 1.0)], "arithmetic", "48 × 52 等于多少？", None);
        let mut large = run(&[("2496", 1.0)], "arithmetic", "48 × 52 等于多少？", None);
        large.model.model = "qwen2.5-coder-1.5b".into();
        let (en, zh) = both(vec![small.clone(), large]);
        assert!(
            en.contains("The model's score per row: 0/8, 8/8 from qwen2.5-coder-1.5b."),
            "{en}"
        );
        assert!(
            zh.contains("模型逐行答对的次数：0/8、8/8（问 qwen2.5-coder-1.5b）。"),
            "{zh}"
        );
        // One model for every input: no model named.
        let (en, _) = both(vec![small.clone(), small]);
        assert!(!en.contains("from qwen"), "{en}");
    }

    #[test]
    fn a_table_of_inputs_sums_up_the_rule_and_counts_the_model_row_by_row() {
        let leap = run(
            &[("no", 1.0)],
            "leap-year-buggy",
            "Is 1900 a leap year?",
            None,
        );
        let sum = run(&[("42", 1.0)], "arithmetic", "What is 17 + 25?", None);
        let capital = run(
            &[("Birnin Zana", 1.0)],
            "capitals",
            "What is the capital of Qzrbland?",
            None,
        );
        let echo = run(
            &[("17 + 25 =", 0.5), ("42", 0.5)],
            "arithmetic",
            "What is 17 + 25?",
            None,
        );
        let t = Tally::of(&echo);
        assert!(t.unanswered > 0 && t.right > 0, "{t:?}");
        let (en, zh) = both(vec![leap, sum, capital, echo]);
        assert!(
            en.starts_with(
                "The rule never varied in 8 runs per input: right on 2, \
                 wrong on 1 (decided at src/rules/leap_year_buggy.rs:"
            ),
            "{en}"
        );
        assert!(en.contains("an explicit error on 1."), "{en}");
        assert!(
            en.contains(&format!(
                "score per row: 8/8, 8/8, 8/8 answered (no right answer to score), {}/8 ({} unanswered).",
                t.right, t.unanswered
            )),
            "{en}"
        );
        assert!(
            zh.starts_with("规则每个输入跑 8 次，次次相同：2 个答对，1 个答错"),
            "{zh}"
        );
        assert!(
            zh.contains(&format!("{}/8（{} 次没有答案）。", t.right, t.unanswered)),
            "{zh}"
        );
        // The table shows each answer: the takeaway does not repeat them.
        assert!(!en.contains("most often"), "{en}");
    }

    #[test]
    fn a_number_the_token_limit_cuts_is_cut_off_not_a_wrong_answer() {
        // 31 characters: the 24-token limit cuts the number after "1219".
        let script = [("The product is 1219326311126352", 1.0)];
        let r = run(
            &script,
            "arithmetic",
            "What is 123456789 × 987654321?",
            None,
        );
        let t = Tally::of(&r);
        assert_eq!((t.cut_off, t.wrong, t.unanswered), (8, 0, 0));
        assert!(r
            .model
            .samples
            .iter()
            .all(|s| s.answer.is_none() && s.cut_off_at == Some(24)));
        let (en, zh) = both(vec![r.clone()]);
        assert!(
            en.contains(
                "the model was cut off at the 24-token limit before an answer in all 8 samples"
            ),
            "{en}"
        );
        assert!(zh.contains("都在 24 个词元的上限处被截断"), "{zh}");
        let error = r.verdicts.error_type.text.text(Lang::En);
        assert!(!error.contains("hallucination"), "{error}");
        assert!(
            error.contains("8 of its 8 samples were cut off at 24 tokens"),
            "{error}"
        );
        // A whole answer before the limit is still an answer.
        let whole = run(
            &[("It is 42, and more words follow here.", 1.0)],
            "arithmetic",
            "What is 17 + 25?",
            None,
        );
        assert!(whole
            .model
            .samples
            .iter()
            .all(|s| s.answer.as_deref() == Some("42") && s.cut_off_at.is_none()));
    }

    #[test]
    fn all_right_is_said_only_when_every_sample_is_right() {
        let r = run(&[("42", 1.0)], "arithmetic", "What is 17 + 25?", None);
        assert_eq!(
            Tally::of(&r),
            Tally {
                samples: 8,
                right: 8,
                wrong: 0,
                unanswered: 0,
                cut_off: 0,
            }
        );
        let (en, zh) = both(vec![r]);
        assert!(
            en.contains("the rule answered “42” in all 8 runs (right)"),
            "{en}"
        );
        assert!(en.contains("the model was right in all 8 samples"), "{en}");
        assert!(zh.contains("规则 8 次都答“42”（正确）"), "{zh}");
        assert!(zh.contains("模型 8 次采样全部答对"), "{zh}");
    }

    #[test]
    fn all_wrong_names_the_most_frequent_wrong_answer() {
        let r = run(&[("32", 1.0)], "arithmetic", "What is 17 + 25?", None);
        let (en, zh) = both(vec![r]);
        assert!(
            en.contains("the model was wrong in all 8 samples (most often “32”, ×8)"),
            "{en}"
        );
        assert!(
            zh.contains("模型 8 次采样全部答错（错答最多的是“32”，8 次）"),
            "{zh}"
        );
    }

    #[test]
    fn the_most_frequent_wrong_answer_follows_the_wrong_count_when_given_twice() {
        let r = run(
            &[("32", 0.5), ("42", 0.25), ("I cannot say", 0.25)],
            "arithmetic",
            "What is 17 + 25?",
            None,
        );
        let t = Tally::of(&r);
        assert!(t.right > 0, "{t:?}");
        let (en, zh) = both(vec![r]);
        // T = 0 is greedy on "32": four times at least.
        let top = en
            .split(&format!("{} wrong (most often “32”, ×", t.wrong))
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|n| n.parse::<usize>().ok());
        assert!(top.is_some_and(|n| n >= 4), "{en}");
        assert!(
            zh.contains(&format!("{} 次答错（错答最多的是“32”", t.wrong)),
            "{zh}"
        );
        // Wrong answers all different: none is "most often".
        let r = fake_compare(
            &[("31", 0.5), ("33", 0.5)],
            "arithmetic",
            "What is 17 + 25?",
            None,
            "1",
            "3..4",
        );
        let counts: Vec<usize> = r.model.temperatures[0]
            .answers
            .iter()
            .map(|a| a.count)
            .collect();
        assert_eq!(counts, [1, 1], "seeds 3 and 4 draw different answers");
        let (en, zh) = both(vec![r]);
        assert!(en.contains("the model was wrong in all 2 samples."), "{en}");
        assert!(
            !en.contains("most often") && !zh.contains("错答最多"),
            "{en}"
        );
    }

    #[test]
    fn one_input_at_several_temperatures_counts_the_outcomes_at_each() {
        let r = run(
            &[("32", 0.5), ("42", 0.25), ("I cannot say", 0.25)],
            "arithmetic",
            "What is 17 + 25?",
            None,
        );
        let at_one = r.model.temperatures[1].answers.len();
        assert!(at_one > 1, "T = 1 draws more than one outcome");
        let (en, zh) = both(vec![r]);
        assert!(
            en.ends_with(&format!(
                "Different outcomes at each temperature: 1 at T=0, {at_one} at T=1; from the rule: 1."
            )),
            "{en}"
        );
        assert!(
            zh.ends_with(&format!(
                "各温度下不同结果的种数：T=0 时 1 种，T=1 时 {at_one} 种；规则：1 种。"
            )),
            "{zh}"
        );
        // One temperature: nothing to set beside it.
        let r = fake_compare(
            &[("42", 1.0)],
            "arithmetic",
            "What is 17 + 25?",
            None,
            "1",
            "1..4",
        );
        let (en, _) = both(vec![r]);
        assert!(!en.contains("at each temperature"), "{en}");
    }

    #[test]
    fn no_readable_answer_is_never_called_an_answer() {
        // Every sample echoes the question: no answer at all.
        let r = run(
            &[("17 + 25 =", 1.0)],
            "arithmetic",
            "What is 17 + 25?",
            None,
        );
        assert_eq!(Tally::of(&r).unanswered, 8);
        let (en, zh) = both(vec![r]);
        assert!(
            en.contains("the model gave no readable answer in any of its 8 samples"),
            "{en}"
        );
        assert!(zh.contains("模型 8 次采样都没有给出可读的答案"), "{zh}");
        assert!(
            !en.contains("answered in all") && !zh.contains("都给出了回答"),
            "{en} {zh}"
        );
    }

    #[test]
    fn a_mixed_run_counts_right_wrong_and_silent_samples() {
        let r = run(
            &[("42", 0.4), ("32", 0.3), ("I cannot say", 0.3)],
            "arithmetic",
            "What is 17 + 25?",
            None,
        );
        let t = Tally::of(&r);
        assert_eq!(t.right + t.wrong + t.unanswered, 8);
        assert!(t.right >= 1, "T=0 is greedy on the heaviest branch, 42");
        let (en, _) = both(vec![r]);
        let parts: Vec<String> = [
            (t.right, "right"),
            (t.wrong, "wrong"),
            (t.unanswered, "with no answer"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        let expected = format!("the model's 8 samples: {}", parts.join(", "));
        assert!(en.contains(&expected), "{en}");
        assert!(!en.contains(" 0 "), "no part that did not happen: {en}");
    }

    #[test]
    fn the_rule_error_and_the_unscored_branches_say_what_happened() {
        let r = run(
            &[("Birnin Zana", 1.0)],
            "capitals",
            "What is the capital of Qzrbland?",
            None,
        );
        assert!(r.truth.is_none(), "Qzrbland is in no table");
        let (en, zh) = both(vec![r]);
        assert!(
            en.contains("stopped with the same explicit error in all 8 runs"),
            "{en}"
        );
        assert!(en.contains("the model gave a readable answer in 8 of 8 samples (no right answer to score them against)"), "{en}");
        assert!(
            zh.contains("模型 8 次采样中有 8 次给出了可读的答案（没有正确答案可评分）"),
            "{zh}"
        );
    }

    #[test]
    fn a_wrong_rule_names_the_line_with_the_bug() {
        let r = run(
            &[("no", 1.0)],
            "leap-year-buggy",
            "Is 1900 a leap year?",
            None,
        );
        let (en, _) = both(vec![r]);
        assert!(en.contains("answered “yes” in all 8 runs — wrong the same way each time, decided at src/rules/leap_year_buggy.rs:"), "{en}");
        assert!(en.contains("the model was right in all 8 samples"), "{en}");
    }

    #[test]
    fn the_same_answer_to_inputs_with_different_truths_is_called_a_bias() {
        let script = [("positive", 1.0)];
        let good = run(
            &script,
            "sentiment",
            "I loved this movie.",
            Some("positive"),
        );
        let bad = run(
            &script,
            "sentiment",
            "This movie was not good.",
            Some("negative"),
        );
        let (en, zh) = both(vec![good.clone(), bad.clone()]);
        // Two inputs are too few to call it a bias; three are enough.
        assert!(en.contains("On 2 inputs with different right answers, the model most often said “positive” each time: perhaps a bias, but 2 inputs are too few to tell."), "{en}");
        assert!(
            zh.contains("还不能判断") && !zh.contains("这是偏差"),
            "{zh}"
        );
        let also_bad = run(&script, "sentiment", "Dull and too long.", Some("negative"));
        let (en, zh) = both(vec![good, bad, also_bad]);
        assert!(en.contains("On 3 inputs with different right answers, the model most often said “positive” each time: a bias, not a random slip."), "{en}");
        assert!(zh.contains("这是偏差"), "{zh}");
        // Different answers: no bias claimed.
        let good = run(
            &[("positive", 1.0)],
            "sentiment",
            "I loved this movie.",
            Some("positive"),
        );
        let bad = run(
            &[("negative", 1.0)],
            "sentiment",
            "This movie was not good.",
            Some("negative"),
        );
        let (en, _) = both(vec![good, bad]);
        assert!(!en.contains("bias"), "{en}");
    }

    #[test]
    fn a_takeaway_never_claims_an_answer_the_samples_do_not_contain() {
        let scripts: [&[(&str, f64)]; 4] = [
            &[("42", 1.0)],
            &[("32", 0.5), ("52", 0.5)],
            &[("I am not sure", 1.0)],
            &[("42", 0.2), ("32", 0.5), ("nothing", 0.3)],
        ];
        for script in scripts {
            let r = run(script, "arithmetic", "What is 17 + 25?", None);
            let answers: BTreeSet<String> = r
                .model
                .samples
                .iter()
                .filter_map(|s| s.answer.clone())
                .collect();
            let (en, _) = both(vec![r]);
            // Every quoted answer in the model's part exists among the samples.
            let model_part = en.split_once("; ").map(|(_, m)| m).unwrap_or_default();
            for quoted in model_part
                .split('“')
                .skip(1)
                .filter_map(|q| q.split_once('”').map(|(a, _)| a))
            {
                assert!(
                    answers.contains(quoted),
                    "{quoted:?} not among {answers:?}: {en}"
                );
            }
        }
    }
}
