//! What a `metric` run's numbers support, judged by their 95 % intervals:
//! how each measure moved from the first length to the last, where multiple
//! choice beats chance, and where independent places predict exact match.
//! Renderers only word these; JSON carries them.

use super::problems::{Family, DISTRACTORS};
use crate::report::emergence::{
    ChanceLevels, Change, MetricClasses, MetricPoint, MetricReport, ModelFindings, ModelMetrics,
    PredictorCheck,
};
#[cfg(test)]
use crate::stats::Difference;
use crate::stats::{self, Interval};

/// A measure at two points, compared by intervals.
pub fn change(from: (f64, Interval), to: (f64, Interval)) -> Change {
    Change {
        from: from.0,
        from_interval: from.1,
        to: to.0,
        to_interval: to.1,
        difference: stats::compare(&to.1, &from.1),
    }
}

/// What guessing scores on `family`'s problems.
pub fn chance(family: Family) -> ChanceLevels {
    let options = (1 + DISTRACTORS) as f64;
    ChanceLevels {
        multiple_choice: 1.0 / options,
        choice_brier: 1.0 - 1.0 / options,
        per_digit: match family {
            Family::Addition | Family::Multiplication => 0.1,
            Family::Reverse => 1.0 / 26.0,
        },
    }
}

/// The metrics by class, as Schaeffer et al. 2023 class them.
pub fn classes() -> MetricClasses {
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
    MetricClasses {
        discontinuous: names(&["exact_match", "multiple_choice_accuracy"]),
        continuous: names(&[
            "per_digit_accuracy",
            "token_edit_distance",
            "answer_probability",
            "choice_brier",
        ]),
    }
}

/// One model's findings (none for a model with no points).
pub fn of_model(model: &ModelMetrics, chance: &ChanceLevels) -> Option<ModelFindings> {
    let (first, last) = (model.points.first()?, model.points.last()?);
    let pick = |measure: fn(&MetricPoint) -> (f64, Interval)| change(measure(first), measure(last));
    Some(ModelFindings {
        model: model.model.clone(),
        first_k: first.k,
        last_k: last.k,
        exact: pick(MetricPoint::exact),
        per_digit: pick(MetricPoint::per_digit),
        probability: first
            .probability()
            .zip(last.probability())
            .map(|(a, b)| change(a, b)),
        choice_above_chance: model.points.iter().all(|p| p.choice().is_some()).then(|| {
            model
                .points
                .iter()
                .filter(|p| {
                    p.choice()
                        .is_some_and(|(_, interval)| interval.above_level(chance.multiple_choice))
                })
                .map(|p| p.k)
                .collect()
        }),
        predictor: model
            .points
            .iter()
            .map(|p| PredictorCheck {
                k: p.k,
                predicted: p.predicted_exact_from_digits,
                measured: p.exact_match,
                interval: p.exact_match_interval,
                inside: (p.exact_match_interval.low..=p.exact_match_interval.high)
                    .contains(&p.predicted_exact_from_digits),
                informative: (0.05..=0.95).contains(&p.predicted_exact_from_digits),
            })
            .collect(),
    })
}

/// The report of a `metric` run: its models' points with the classes,
/// chance levels and findings that go with them.
pub fn report(
    family: Family,
    seeds: &[u64],
    problems_per_length: usize,
    lengths: Vec<usize>,
    models: Vec<ModelMetrics>,
) -> MetricReport {
    let chance = chance(family);
    let findings = models.iter().filter_map(|m| of_model(m, &chance)).collect();
    MetricReport {
        family: family.name().to_string(),
        seed: seeds.first().copied().unwrap_or(1),
        seeds: seeds.to_vec(),
        problems_per_length,
        lengths,
        metric_classes: classes(),
        chance,
        models,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emergence::metric::{point_from_results, tests::result};
    use crate::words::Lang;

    fn model(points: Vec<MetricPoint>) -> ModelMetrics {
        ModelMetrics {
            model: "m".into(),
            parameters: Some(1),
            architecture: "llama".into(),
            tokenizer: "t".into(),
            endpoint: None,
            prompt_style: "chat".into(),
            points,
            seconds: 0.0,
        }
    }

    fn point(k: usize, exact: usize, of: usize) -> MetricPoint {
        point_from_results(
            k,
            (0..of)
                .map(|i| result(&i.to_string(), if i < exact { 2 } else { 0 }, 2))
                .collect(),
        )
    }

    #[test]
    fn a_fall_is_claimed_only_when_the_intervals_are_apart() {
        let chance = chance(Family::Addition);
        // 9 of 10 → 1 of 10: apart. 6 of 10 → 4 of 10: too few to tell.
        let clear = of_model(&model(vec![point(1, 9, 10), point(2, 1, 10)]), &chance).unwrap();
        assert_eq!(clear.exact.difference, Difference::Lower);
        let unclear = of_model(&model(vec![point(1, 6, 10), point(2, 4, 10)]), &chance).unwrap();
        assert_eq!(unclear.exact.difference, Difference::TooFewToTell);
        // The same shares on 200 problems are apart.
        let many = of_model(&model(vec![point(1, 120, 200), point(2, 80, 200)]), &chance).unwrap();
        assert_eq!(many.exact.difference, Difference::Lower);
        assert!(of_model(&model(Vec::new()), &chance).is_none());
    }

    #[test]
    fn tasks_side_by_side_tell_exact_match_and_per_digit_but_not_the_prediction() {
        let measured = || model(vec![point(1, 9, 10), point(2, 1, 10)]);
        let one = report(Family::Addition, &[1], 10, vec![1, 2], vec![measured()]);
        let whole = crate::takeaway::emergence::metric(&one, Lang::En).join(" ");
        assert!(whole.contains("per-token probability"), "{whole}");
        let beside = crate::takeaway::emergence::metric_beside_others(&one, Lang::En).join(" ");
        assert!(
            beside.starts_with("m, k-digit addition, from k = 1 to k = 2: exact match fell"),
            "{beside}"
        );
        assert!(
            !beside.contains("probability") && !beside.contains("Multiplying"),
            "{beside}"
        );
        assert!(!beside.contains("server"), "{beside}");
        let zh = crate::takeaway::emergence::metric_beside_others(&one, Lang::Zh).join("");
        assert!(zh.contains("逐位准确率") && !zh.contains("概率"), "{zh}");
    }

    #[test]
    fn a_ladder_measured_so_far_shows_its_rows_under_the_claim_within_the_screen() {
        let mut small = model(vec![point(1, 9, 10), point(2, 1, 10)]);
        small.model = "small-model".into();
        // The next model, measured at k = 1 so far.
        let mut next = model(vec![point(1, 10, 10)]);
        next.model = "next-model".into();
        next.parameters = Some(2_000_000_000);
        let so_far = report(
            Family::Multiplication,
            &[1],
            10,
            vec![1, 2],
            vec![small, next],
        );
        let result = crate::report::demo::ViewResult::Ladder {
            report: crate::emergence::ladder::report(so_far, Vec::new()),
        };
        let all = crate::scenario::Scenario::builtin();
        let ladder = all.iter().find(|s| s.name.starts_with("14-")).unwrap();
        let style = crate::render::style::TerminalStyle {
            width: 80,
            height: Some(24),
            ..crate::render::style::TerminalStyle::plain()
        };
        let screen = crate::render::demo::step_so_far(
            ladder,
            Some((14, 22)),
            crate::report::demo::SoFar::Measured(&result),
            Lang::En,
            &style,
        );
        assert!(screen.starts_with("━━ 14/22 · "), "{screen}");
        // A compact screen's tables are open at the sides.
        assert!(screen.contains("\n small-model"), "{screen}");
        assert!(screen.contains("90.0%"), "{screen}");
        // Its k = 2 is not measured yet: "…", not a blank or a zero.
        let next = screen
            .lines()
            .find(|l| l.starts_with(" next-model"))
            .unwrap();
        assert!(
            next.contains("100.0%") && next.trim_end().ends_with('…'),
            "{screen}"
        );
        assert!(screen.lines().count() <= 22, "{screen}");
    }

    #[test]
    fn chance_levels_follow_the_options_and_symbols() {
        let digits = chance(Family::Multiplication);
        assert_eq!(digits.multiple_choice, 0.25);
        assert_eq!(digits.choice_brier, 0.75);
        assert_eq!(digits.per_digit, 0.1);
        assert!((chance(Family::Reverse).per_digit - 1.0 / 26.0).abs() < 1e-15);
        // Multiple choice right in every problem is above chance; in half
        // of 10, not clearly.
        let above = of_model(&model(vec![point(1, 10, 10), point(2, 5, 10)]), &digits).unwrap();
        assert_eq!(above.choice_above_chance, Some(vec![1]));
        // A model on a server (text only): multiple choice and the answer's
        // probability were not measured, so no finding speaks of them.
        let text_only = |p: MetricPoint| {
            let mut results = p.results;
            results.iter_mut().for_each(|r| r.scored = None);
            point_from_results(p.k, results)
        };
        let remote = model(vec![
            text_only(point(1, 10, 10)),
            text_only(point(2, 5, 10)),
        ]);
        assert!(remote.points.iter().all(|p| p.scored.is_none()));
        let found = of_model(&remote, &digits).unwrap();
        assert_eq!(found.choice_above_chance, None);
        assert!(found.probability.is_none());
        let classes = classes();
        assert!(classes
            .discontinuous
            .contains(&"multiple_choice_accuracy".to_string()));
        assert!(classes.continuous.contains(&"choice_brier".to_string()));
    }

    #[test]
    fn the_predictor_is_tested_only_between_5_and_95_percent() {
        let checks = of_model(
            &model(vec![point(1, 10, 10), point(2, 5, 10)]),
            &chance(Family::Addition),
        )
        .unwrap()
        .predictor;
        // All right: predicted 100 %, no test. Half all right, half all
        // wrong: places predict 25 %, 50 % was measured (inside [24, 76]).
        assert!(!checks[0].informative);
        assert!(checks[1].informative && checks[1].inside);
        assert!((checks[1].predicted - 0.25).abs() < 1e-12);
    }
}
