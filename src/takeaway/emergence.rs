//! Takeaways of part 0's measured views — metric, ladder, subtasks,
//! scale — worded from the findings their reports carry.

use crate::report::emergence::{
    Change, LadderReport, MetricReport, PredictorCheck, ScaleReport, SubtasksReport,
};
use crate::stats::Difference;
use crate::words::numbers::{parameter_count, percent, share_with, whole_percent};
use crate::words::Lang;

/// How a measure moved, in words: rose, fell, or too few to tell.
pub fn change_words(change: &Change, lang: Lang) -> String {
    let key = match change.difference {
        Difference::Higher => "emergence.change.higher",
        Difference::Lower => "emergence.change.lower",
        Difference::TooFewToTell if change.from == change.to => "emergence.change.same",
        Difference::TooFewToTell => "emergence.change.too_few",
    };
    lang.fill(
        key,
        &[
            ("from", &share_with(change.from, &change.from_interval)),
            ("to", &share_with(change.to, &change.to_interval)),
        ],
    )
}

pub fn list_of_k(ks: impl IntoIterator<Item = usize>, lang: Lang) -> String {
    let items = ks
        .into_iter()
        .map(|k| crate::words::Phrase::data(k.to_string()))
        .collect();
    crate::words::Phrase::list(items).text(lang)
}

/// What the run showed, per model, worded from the report's findings.
pub fn metric(report: &MetricReport, lang: Lang) -> Vec<String> {
    metric_told(report, true, lang)
}

/// The takeaway of one of several tasks side by side: each task's exact
/// match and per-digit change and multiple choice against chance (how the
/// tasks differ), without the probability and the per-place prediction
/// that one task's takeaway adds.
pub fn metric_beside_others(report: &MetricReport, lang: Lang) -> Vec<String> {
    metric_told(report, false, lang)
}

fn metric_told(report: &MetricReport, whole: bool, lang: Lang) -> Vec<String> {
    let family = lang.text(&format!("emergence.family.{}", report.family));
    report
        .findings
        .iter()
        .map(|f| {
            let (exact, digit) = (
                change_words(&f.exact, lang),
                change_words(&f.per_digit, lang),
            );
            let mut args: Vec<(&str, &dyn std::fmt::Display)> = vec![
                ("model", &f.model),
                ("family", &family),
                ("k1", &f.first_k),
                ("k2", &f.last_k),
                ("exact", &exact),
                ("digit", &digit),
            ];
            // The probability's change where it was measured (not on a server).
            let probability = f
                .probability
                .as_ref()
                .filter(|_| whole)
                .map(|p| change_words(p, lang));
            let key = match &probability {
                Some(prob) => {
                    args.push(("prob", prob));
                    "emergence.takeaway.metric"
                }
                None if !whole => "emergence.takeaway.metric_beside",
                None => "emergence.takeaway.metric_text",
            };
            let text = lang.fill(key, &args);
            let mut sentences = vec![text];
            let informative: Vec<&PredictorCheck> =
                f.predictor.iter().filter(|c| c.informative).collect();
            let inside: Vec<usize> = informative
                .iter()
                .filter(|c| c.inside)
                .map(|c| c.k)
                .collect();
            if !whole {
            } else if informative.is_empty() {
                sentences.push(
                    lang.text("emergence.takeaway.predictor_untested")
                        .to_string(),
                );
            } else if !inside.is_empty() {
                sentences.push(lang.fill(
                    "emergence.takeaway.predictor_inside",
                    &[("ks", &list_of_k(inside, lang))],
                ));
            }
            for check in informative.iter().filter(|c| whole && !c.inside) {
                let key = if check.measured > check.predicted {
                    "emergence.takeaway.predictor_above"
                } else {
                    "emergence.takeaway.predictor_below"
                };
                sentences.push(lang.fill(
                    key,
                    &[
                        ("k", &check.k),
                        ("predicted", &percent(check.predicted)),
                        ("measured", &share_with(check.measured, &check.interval)),
                    ],
                ));
            }
            // Multiple choice, where it was measured (not on a server).
            let Some(above) = &f.choice_above_chance else {
                return sentences.join(lang.sentence_gap());
            };
            let rest: Vec<usize> = f
                .predictor
                .iter()
                .map(|c| c.k)
                .filter(|k| !above.contains(k))
                .collect();
            let chance = whole_percent(report.chance.multiple_choice);
            sentences.push(if rest.is_empty() {
                lang.fill(
                    "emergence.takeaway.choice_all_above",
                    &[("chance", &chance)],
                )
            } else if above.is_empty() {
                lang.fill(
                    "emergence.takeaway.choice_none_above",
                    &[("chance", &chance)],
                )
            } else {
                lang.fill(
                    "emergence.takeaway.choice_some_above",
                    &[
                        ("chance", &chance),
                        ("above", &list_of_k(above.iter().copied(), lang)),
                        ("rest", &list_of_k(rest, lang)),
                    ],
                )
            });
            sentences.join(lang.sentence_gap())
        })
        .collect()
}

/// What the curves show, computed from them.
pub fn subtasks(report: &SubtasksReport, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(first), Some(last)) = (report.curves.first(), report.curves.last()) {
        out.push(lang.fill(
            "emergence.takeaway.subtasks",
            &[
                ("k", &last.k),
                ("at80", &percent(last.success_at_80)),
                ("at95", &percent(last.success_at_95)),
                ("k1", &first.k),
                ("one80", &percent(first.success_at_80)),
                ("one95", &percent(first.success_at_95)),
                ("half", &format!("{:.2}", last.half_success_at)),
                ("half1", &format!("{:.2}", first.half_success_at)),
            ],
        ));
    }
    if let Some(gap) = report.measured_mean_gap {
        out.push(lang.fill(
            "emergence.takeaway.measured",
            &[
                ("points", &report.measured.len()),
                ("gap", &format!("{:.1}", 100.0 * gap)),
            ],
        ));
    }
    out
}

/// What the sweep showed, from its numbers.
pub fn scale(report: &ScaleReport, lang: Lang) -> Vec<String> {
    let (Some(first), Some(last)) = (report.points.first(), report.points.last()) else {
        return Vec::new();
    };
    let width_or_never = |width: Option<usize>| {
        width.map_or_else(|| lang.text("grok.never").to_string(), |w| w.to_string())
    };
    let half = width_or_never(report.exact_half_width);
    let digits_half = width_or_never(report.digit_half_width);
    let mut out = vec![lang.fill(
        if report.runs.len() > 1 {
            "scale.takeaway_mean"
        } else {
            "scale.takeaway"
        },
        &[
            ("w1", &first.width),
            ("w2", &last.width),
            ("digit1", &percent(first.per_digit_accuracy)),
            ("digit2", &percent(last.per_digit_accuracy)),
            ("exact1", &percent(first.exact_match)),
            ("exact2", &percent(last.exact_match)),
            ("digits_half", &digits_half),
            ("half", &half),
            ("seeds", &report.runs.len()),
        ],
    )];
    let widths: Vec<String> = report
        .runs
        .iter()
        .map(|r| width_or_never(r.exact_half_width))
        .collect();
    let seeds: Vec<String> = report.runs.iter().map(|r| r.seed.to_string()).collect();
    let list = |items: &[String]| {
        crate::words::Phrase::list(
            items
                .iter()
                .map(|i| crate::words::Phrase::data(i.clone()))
                .collect(),
        )
        .text(lang)
    };
    out.push(match report.runs.as_slice() {
        [_] => lang.text("scale.takeaway_one_seed").to_string(),
        _ if report.seeds_agree => lang.fill(
            "scale.takeaway_seeds_agree",
            &[("seeds", &list(&seeds)), ("width", &widths[0])],
        ),
        _ => lang.fill(
            "scale.takeaway_seeds_vary",
            &[("seeds", &list(&seeds)), ("widths", &list(&widths))],
        ),
    });
    out
}

/// What the ladder showed, from its steps.
pub fn ladder(report: &LadderReport, lang: Lang) -> Vec<String> {
    let models = &report.metric.models;
    let params = |name: &str| {
        models
            .iter()
            .find(|m| m.model == name)
            .map(|m| parameter_count(m.parameters.unwrap_or_default()))
            .unwrap_or_default()
    };
    // One sentence per comparison, its lengths in turn.
    let at_k = |k: usize, exact: &Change, digit: &Change| {
        lang.fill(
            "ladder.takeaway.at_k",
            &[
                ("k", &k),
                ("exact", &change_words(exact, lang)),
                ("digit", &change_words(digit, lang)),
            ],
        )
    };
    let gap = lang.text("list.clause_separator");
    let mut out = Vec::new();
    // The span from the smallest model to the largest crosses families
    // (confounded); it is told only when no same-family step exists.
    let span = (models.first(), models.last());
    if let (Some(small), Some(large), true) = (span.0, span.1, report.same_family.is_empty()) {
        let steps: Vec<String> = report
            .steps
            .iter()
            .map(|step| {
                at_k(
                    step.k,
                    &step.exact_smallest_to_largest,
                    &step.digit_smallest_to_largest,
                )
            })
            .collect();
        out.push(lang.fill(
            "ladder.takeaway.span",
            &[
                ("small", &small.model),
                (
                    "small_params",
                    &parameter_count(small.parameters.unwrap_or_default()),
                ),
                ("large", &large.model),
                (
                    "large_params",
                    &parameter_count(large.parameters.unwrap_or_default()),
                ),
                ("steps", &steps.join(gap)),
            ],
        ));
    }
    for (i, [small, large]) in report.same_family.iter().enumerate() {
        let steps: Vec<String> = report
            .steps
            .iter()
            .filter_map(|step| {
                let exact = step.exact_same_family.get(i)?;
                let digit = step.digit_same_family.get(i)?;
                Some(at_k(step.k, exact, digit))
            })
            .collect();
        if steps.is_empty() {
            continue;
        }
        out.push(lang.fill(
            "ladder.takeaway.same_family",
            &[
                ("small", small),
                ("small_params", &params(small)),
                ("large", large),
                ("large_params", &params(large)),
                ("steps", &steps.join(gap)),
            ],
        ));
    }
    if report.same_family.is_empty() {
        out.push(lang.text("ladder.takeaway.no_family").to_string());
    }
    out.push(
        lang.text(if report.confounded {
            "ladder.takeaway.confounded"
        } else {
            "ladder.takeaway.clean"
        })
        .to_string(),
    );
    out
}
