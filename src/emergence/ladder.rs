//! `detprob emergence ladder`: the same problems asked of real models of
//! growing size (the figure of Wei et al. 2022 and Schaeffer et al. 2023,
//! on models the class watches answer). Models are ordered by the parameter
//! count of their files; a pair of one family (same architecture and
//! vocabulary) is the one comparison where size is the difference the
//! files show, and the report says so, and says when the rest is confounded
//! by family, training and prompt style.

use super::findings::change;
use crate::report::emergence::{
    Change, LadderReport, LadderStep, MetricPoint, MetricReport, ModelMetrics,
};

/// The ladder of `metric`'s models (sorted here by parameter count).
pub fn report(
    mut metric: MetricReport,
    prompts: Vec<crate::report::emergence::ShownPrompt>,
) -> LadderReport {
    metric.models.sort_by_key(|m| m.parameters);
    metric.findings.sort_by_key(|f| {
        metric
            .models
            .iter()
            .position(|m| m.model == f.model)
            .unwrap_or(usize::MAX)
    });
    let models = &metric.models;
    let one_family = |a: &ModelMetrics, b: &ModelMetrics| {
        a.architecture == b.architecture && a.tokenizer == b.tokenizer
    };
    let mut same_family = Vec::new();
    for (i, small) in models.iter().enumerate() {
        for large in &models[i + 1..] {
            if one_family(small, large) && small.parameters < large.parameters {
                same_family.push([small.model.clone(), large.model.clone()]);
            }
        }
    }
    let confounded = models
        .windows(2)
        .any(|w| !one_family(&w[0], &w[1]) || w[0].prompt_style != w[1].prompt_style);
    let point = |model: &str, k: usize| -> Option<&MetricPoint> {
        models
            .iter()
            .find(|m| m.model == model)?
            .points
            .iter()
            .find(|p| p.k == k)
    };
    let exact = MetricPoint::exact;
    let digit = MetricPoint::per_digit;
    let between =
        |a: &str,
         b: &str,
         k: usize,
         measure: fn(&MetricPoint) -> (f64, crate::stats::Interval)|
         -> Option<Change> { Some(change(measure(point(a, k)?), measure(point(b, k)?))) };
    let steps = match (models.first(), models.last()) {
        (Some(smallest), Some(largest)) if models.len() > 1 => metric
            .lengths
            .iter()
            .filter_map(|&k| {
                Some(LadderStep {
                    k,
                    exact_smallest_to_largest: between(&smallest.model, &largest.model, k, exact)?,
                    digit_smallest_to_largest: between(&smallest.model, &largest.model, k, digit)?,
                    exact_same_family: same_family
                        .iter()
                        .filter_map(|[a, b]| between(a, b, k, exact))
                        .collect(),
                    digit_same_family: same_family
                        .iter()
                        .filter_map(|[a, b]| between(a, b, k, digit))
                        .collect(),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    LadderReport {
        metric,
        same_family,
        confounded,
        steps,
        prompts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emergence::findings;
    use crate::emergence::metric::{point_from_results, tests::result};
    use crate::emergence::problems::Family;
    use crate::stats::Difference;

    fn model(name: &str, parameters: u64, architecture: &str, right: usize) -> ModelMetrics {
        ModelMetrics {
            model: name.into(),
            parameters: Some(parameters),
            architecture: architecture.into(),
            tokenizer: format!("{architecture}-vocab"),
            endpoint: None,
            prompt_style: "chat".into(),
            points: vec![point_from_results(
                2,
                (0..40)
                    .map(|i| result(&i.to_string(), if i < right { 2 } else { 0 }, 2))
                    .collect(),
            )],
            seconds: 0.0,
        }
    }

    #[test]
    fn models_climb_by_size_and_the_one_family_pair_is_named() {
        let metric = findings::report(
            Family::Multiplication,
            &[1],
            40,
            vec![2],
            vec![
                model("big-q", 1_500, "qwen2", 38),
                model("small-l", 135, "llama", 1),
                model("small-q", 500, "qwen2", 10),
            ],
        );
        let ladder = report(metric, Vec::new());
        let order: Vec<&str> = ladder
            .metric
            .models
            .iter()
            .map(|m| m.model.as_str())
            .collect();
        assert_eq!(order, ["small-l", "small-q", "big-q"]);
        let findings: Vec<&str> = ladder
            .metric
            .findings
            .iter()
            .map(|f| f.model.as_str())
            .collect();
        assert_eq!(findings, order);
        assert_eq!(
            ladder.same_family,
            [["small-q".to_string(), "big-q".to_string()]]
        );
        assert!(ladder.confounded, "a llama model beside qwen2 ones");
        let step = &ladder.steps[0];
        assert_eq!(
            step.exact_smallest_to_largest.difference,
            Difference::Higher
        );
        assert_eq!(step.exact_same_family[0].difference, Difference::Higher);
        assert_eq!(step.exact_same_family[0].from, 0.25);
    }

    #[test]
    fn one_family_alone_is_not_confounded_and_close_results_are_too_few_to_tell() {
        let metric = findings::report(
            Family::Multiplication,
            &[1],
            40,
            vec![2],
            vec![model("a", 100, "qwen2", 20), model("b", 200, "qwen2", 22)],
        );
        let ladder = report(metric, Vec::new());
        assert!(!ladder.confounded);
        assert_eq!(
            ladder.steps[0].exact_same_family[0].difference,
            Difference::TooFewToTell
        );
    }
}
