//! `detprob emergence`: the metric run on both real models (every field,
//! the same JSON twice, greedy answers equal to plain generation), the p^k
//! curves with measured points, charts for slides, and bad input.

mod common;

use common::{assert_input_error, detprob, json};
use detprob::emergence::metric::ask;
use detprob::emergence::problems::{self, Family};
use detprob::generation::{complete, GenerationSettings};
use detprob::lm::{self, Engine};
use detprob::sampler::Sampling;
use detprob::store::ModelChoice;
use serde_json::Value;

const RUN: &[&str] = &[
    "emergence",
    "metric",
    "--problems",
    "4",
    "--digits",
    "1..3",
    "--format",
    "json",
];

/// The report without its wall times, the only fields allowed to differ.
fn without_times(mut report: Value) -> Value {
    for model in report["models"].as_array_mut().unwrap() {
        model.as_object_mut().unwrap().remove("seconds");
    }
    report
}

#[test]
fn both_models_report_every_metric_and_a_second_run_agrees() {
    let first = json(RUN);
    let models = first["models"].as_array().unwrap();
    let names: Vec<&str> = models
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["smollm2-135m", "gemma3-270m"]);
    assert_eq!(models[0]["prompt_style"], "chat");
    assert_eq!(models[1]["prompt_style"], "few_shot");
    for model in models {
        let points = model["points"].as_array().unwrap();
        assert_eq!(points.len(), 3);
        for (point, k) in points.iter().zip(1..) {
            assert_eq!(point["k"], k);
            for field in [
                "exact_match",
                "per_digit_accuracy",
                "answer_probability",
                "answer_probability_whole",
                "multiple_choice_accuracy",
                "predicted_exact_from_digits",
            ] {
                let share = point[field].as_f64().unwrap_or_else(|| panic!("{field}"));
                assert!((0.0..=1.0).contains(&share), "{field} = {share}");
            }
            assert!(point["token_edit_distance"].as_f64().unwrap() >= 0.0);
            // Every measure sits inside its interval.
            for (field, interval) in [
                ("exact_match", "exact_match_interval"),
                ("per_digit_accuracy", "per_digit_interval"),
                ("multiple_choice_accuracy", "multiple_choice_interval"),
                ("choice_brier", "choice_brier_interval"),
                ("answer_probability", "answer_probability_interval"),
                ("token_edit_distance", "token_edit_distance_interval"),
            ] {
                let value = point[field].as_f64().unwrap();
                let (low, high) = (
                    point[interval]["low"].as_f64().unwrap(),
                    point[interval]["high"].as_f64().unwrap(),
                );
                assert!(
                    low <= value + 1e-12 && value <= high + 1e-12,
                    "{field} {value} not in [{low}, {high}]"
                );
            }
            let results = point["results"].as_array().unwrap();
            assert_eq!(results.len(), 4);
            // Exact match is the share of results marked exact.
            let exact = results.iter().filter(|r| r["exact"] == true).count();
            assert_eq!(point["exact_match"].as_f64().unwrap(), exact as f64 / 4.0);
        }
    }
    // Parameter counts come from the files; findings and chance levels ride along.
    let parameters: Vec<u64> = models
        .iter()
        .map(|m| m["parameters"].as_u64().unwrap())
        .collect();
    assert!(
        (100_000_000..200_000_000).contains(&parameters[0]),
        "{parameters:?}"
    );
    assert!(
        (200_000_000..300_000_000).contains(&parameters[1]),
        "{parameters:?}"
    );
    assert_eq!(first["chance"]["multiple_choice"], 0.25);
    assert_eq!(first["findings"].as_array().unwrap().len(), 2);
    assert_eq!(without_times(first), without_times(json(RUN)));
}

#[test]
fn the_ladder_orders_real_models_by_their_files_and_repeats() {
    // Given largest first: the ladder sorts by the parameter counts it
    // reads from the files, and finds the one same-family pair.
    let args = [
        "emergence",
        "ladder",
        "--models",
        "qwen2.5-coder-1.5b,smollm2-135m,qwen2.5-coder-0.5b",
        "--family",
        "multiplication",
        "--digits",
        "2",
        "--problems",
        "4",
        "--format",
        "json",
    ];
    let first = json(&args);
    let models = first["metric"]["models"].as_array().unwrap();
    let names: Vec<&str> = models
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]
    );
    let parameters: Vec<u64> = models
        .iter()
        .map(|m| m["parameters"].as_u64().unwrap())
        .collect();
    assert!(parameters.windows(2).all(|w| w[0] < w[1]), "{parameters:?}");
    assert_eq!(
        first["same_family"],
        serde_json::json!([["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]])
    );
    assert_eq!(first["confounded"], true);
    let step = &first["steps"][0];
    assert_eq!(step["k"], 2);
    assert_eq!(step["exact_same_family"].as_array().unwrap().len(), 1);
    for model in models {
        let point = &model["points"][0];
        assert_eq!(point["problems"], 4);
        let exact = point["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["exact"] == true)
            .count();
        assert_eq!(point["exact_match"].as_f64().unwrap(), exact as f64 / 4.0);
    }
    let strip = |mut report: Value| {
        for model in report["metric"]["models"].as_array_mut().unwrap() {
            model.as_object_mut().unwrap().remove("seconds");
        }
        report
    };
    assert_eq!(strip(first), strip(json(&args)));
}

#[test]
fn greedy_answers_match_plain_greedy_generation() {
    // The batched trie walk must decode what `generate` decodes alone.
    for alias in ["smollm2-135m", "gemma3-270m"] {
        let choice = ModelChoice::resolve(Some(alias), None, None).unwrap();
        let mut loaded = lm::load(&choice, Engine::Detprob).unwrap();
        let plan = detprob::emergence::metric::MetricPlan {
            family: Family::Addition,
            lengths: vec![2, 3],
            problems: 3,
            seeds: vec![9],
        };
        let report = detprob::emergence::metric::measure(&mut loaded, &plan, &|_, _| {}).unwrap();
        for (point, &k) in report.points.iter().zip(&plan.lengths) {
            let examples = detprob::emergence::metric::example_questions(Family::Addition);
            for (problem, result) in problems::generate(Family::Addition, k, 3, 9, &examples)
                .iter()
                .zip(&point.results)
            {
                let asked = ask(Family::Addition, &loaded.prompt_format, &problem.question);
                let ids = loaded.tokenizer.encode_prompt(&asked.prompt);
                let settings = GenerationSettings {
                    sampling: Sampling::Greedy,
                    seed: 0,
                    max_tokens: 12,
                    ignore_eos: false,
                    alternatives: 0,
                    stop_at_newline: true,
                };
                let alone = complete(&mut loaded, &ids, &settings).unwrap();
                let first_line = alone.text.trim().lines().next().unwrap_or("").trim();
                // The walk stops two tokens past the right answer's length.
                assert!(
                    !result.greedy_text.is_empty() && first_line.starts_with(&result.greedy_text),
                    "{alias} {}: walk {:?}, generate {:?}",
                    problem.question,
                    result.greedy_text,
                    first_line
                );
            }
        }
    }
}

#[test]
fn plots_and_measured_points_for_slides() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("metric.json");
    let plot = dir.path().join("metric.svg");
    // A small metric run with `extra` flags, its plot written to `plot`;
    // returns its JSON report.
    let metric = |extra: &[&str], plot: &std::path::Path| {
        let out = detprob()
            .args([
                "emergence",
                "metric",
                "-m",
                "smollm2-135m",
                "--problems",
                "2",
            ])
            .args(["--digits", "1,2", "--format", "json"])
            .args(extra)
            .arg("--plot")
            .arg(plot)
            .output()
            .unwrap();
        common::assert_success(&out);
        out.stdout
    };
    std::fs::write(&report, metric(&[], &plot)).unwrap();
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("smollm2-135m"));
    assert!(!svg.contains("(log₁₀)"));
    // --log-y draws the terminal chart's shares on a log axis too, without
    // --plot.
    let chart_of = |extra: &[&str]| {
        let mut args = vec!["emergence", "metric", "-m", "smollm2-135m"];
        args.extend(["--problems", "2", "--digits", "1,2"]);
        args.extend(extra);
        common::stdout(&args)
    };
    assert!(chart_of(&["--log-y"]).contains("≤0.1% │"));
    assert!(!chart_of(&[]).contains("≤0.1%"));
    // --log-y draws the shares on a log axis (0.1% to 100%).
    let log_plot = dir.path().join("metric-log.svg");
    metric(&["--log-y"], &log_plot);
    let log_svg = std::fs::read_to_string(&log_plot).unwrap();
    assert!(
        log_svg.contains("% (log₁₀)") && log_svg.contains("\n0.1\n"),
        "{log_svg}"
    );
    // An existing plot is kept without --force.
    let again = detprob()
        .args(["emergence", "subtasks", "--plot"])
        .arg(&plot)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&plot).unwrap(), svg);

    let subtasks = json(&[
        "emergence",
        "subtasks",
        "--from",
        report.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let measured = subtasks["measured"].as_array().unwrap();
    assert_eq!(measured.len(), 2);
    assert_eq!(measured[0]["model"], "smollm2-135m");
    let zh = detprob()
        .args(["emergence", "subtasks", "--lang", "zh", "--from"])
        .arg(&report)
        .output()
        .unwrap();
    let text = String::from_utf8(zh.stdout).unwrap();
    assert!(
        text.contains("子任务准确率") && text.contains("实测"),
        "{text}"
    );
    // A report edited to hold shares no run makes is refused at once (an
    // accuracy of −1e18 panicked; −1e9 grew to gigabytes).
    let mut edited: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for value in [-1e18, -1e9, 1.5] {
        edited["models"][0]["points"][0]["per_digit_accuracy"] = serde_json::json!(value);
        let path = dir.path().join("edited.json");
        std::fs::write(&path, edited.to_string()).unwrap();
        assert_input_error(
            &["emergence", "subtasks", "--from", path.to_str().unwrap()],
            "is not a share from 0 to 1",
        );
    }
}

#[test]
fn bad_emergence_input_is_one_line_and_exit_2() {
    let metric = |extra: &[&str]| {
        let mut args = vec!["emergence", "metric", "-m", "smollm2-135m"];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let check = |args: Vec<String>, needle: &str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_input_error(&args, needle);
    };
    check(metric(&["--digits", "0"]), "outside 1..12");
    check(metric(&["--digits", "40"]), "outside 1..12");
    check(metric(&["--digits", "1,,2"]), "empty item");
    check(metric(&["--problems", "0"]), "--problems must be from 1");
    check(metric(&["--family", "poetry"]), "poetry");
    check(metric(&["--seeds", "1,,2"]), "seed");
    check(
        vec![
            "emergence".into(),
            "ladder".into(),
            "--models".into(),
            "smollm2-135m".into(),
        ],
        "a ladder needs at least two models",
    );
    check(
        vec![
            "emergence".into(),
            "ladder".into(),
            "--models".into(),
            "gemma3-270m,gemma3-270m".into(),
        ],
        "gemma3-270m is named twice",
    );
    check(
        vec![
            "emergence".into(),
            "ladder".into(),
            "--models".into(),
            "smollm2-135m,nosuch".into(),
        ],
        "nosuch",
    );
    check(
        metric(&["--plot", "/nonexistent-dir/chart.svg"]),
        "cannot write in /nonexistent-dir",
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-a-report.json");
    std::fs::write(&bad, "{\"family\": 3}").unwrap();
    check(
        vec![
            "emergence".into(),
            "subtasks".into(),
            "--from".into(),
            bad.to_string_lossy().into_owned(),
        ],
        "is not a report of `detprob emergence metric --format json`",
    );
}

#[test]
fn grokking_curves_have_every_field_and_repeat_bit_for_bit() {
    // The default network (p = 97, width 256): large enough that the matrix
    // products and element-wise passes are split between threads.
    let run = |threads: &str| {
        common::json_with_env(
            &[
                "emergence",
                "grok",
                "--grokfast",
                "--steps",
                "200",
                "--log-every",
                "50",
                "--no-stop",
                "--format",
                "json",
            ],
            &[("RAYON_NUM_THREADS", threads)],
        )
    };
    let strip = |mut report: Value| {
        for row in report["rows"].as_array_mut().unwrap() {
            row.as_object_mut().unwrap().remove("seconds");
        }
        for key in ["seconds", "steps_per_second"] {
            report.as_object_mut().unwrap().remove(key);
        }
        report["settings"]
            .as_object_mut()
            .unwrap()
            .remove("threads");
        report
    };
    let first = run("2");
    let rows = first["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5, "steps 0, 50, 100, 150, 200");
    for field in [
        "step",
        "train_accuracy",
        "test_accuracy",
        "train_loss",
        "test_loss",
        "weight_norm",
        "fourier_share",
        "seconds",
    ] {
        assert!(rows.iter().all(|r| r[field].is_number()), "{field}");
    }
    for field in [
        "memorized_at",
        "generalized_at",
        "delay_ratio",
        "precursor_at",
    ] {
        assert!(first.get(field).is_some(), "{field}");
    }
    assert_eq!(first["settings"]["modulus"], 97);
    assert_eq!(first["settings"]["engine"], "detprob");
    // Same seed and settings: the same curve, at 2 threads and at 1.
    let first = strip(first);
    assert_eq!(first, strip(run("2")));
    assert_eq!(first, strip(run("1")));
    // A different seed draws a different split and start.
    let other = common::json(&[
        "emergence",
        "grok",
        "--grokfast",
        "--steps",
        "200",
        "--log-every",
        "50",
        "--no-stop",
        "--seed",
        "2",
        "--format",
        "json",
    ]);
    assert_ne!(first["rows"], strip(other)["rows"]);
}

#[test]
fn a_grok_run_memorizes_long_before_it_generalizes() {
    // A quarter of the pairs: the delay shows in about 4 s (the default, a
    // fifth, takes about 25 s and is measured in the README).
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("grok.svg");
    let out = detprob()
        .args([
            "emergence",
            "grok",
            "--train-fraction",
            "0.25",
            "--log-every",
            "5",
        ])
        .args(["--format", "json", "--plot"])
        .arg(&plot)
        .output()
        .unwrap();
    common::assert_success(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let memorized = report["memorized_at"].as_u64().expect("memorized");
    let generalized = report["generalized_at"].as_u64().expect("generalized");
    assert!(
        generalized >= 5 * memorized,
        "memorized at {memorized}, generalized at {generalized}"
    );
    // Test loss turned down before test accuracy began to rise; the run
    // stopped at 99 %, so no Fourier precursor is claimed from a cut rise.
    let rise = report["rise_started_at"].as_u64().expect("rise");
    assert!(rise <= generalized);
    assert!(report["test_loss_turned_at"].as_u64().unwrap() < rise);
    assert_eq!(report["stopped_early"], true);
    assert!(report["precursor_at"].is_null());
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("<svg") && svg.contains("Loss, relative to its highest"));
    // On a terminal: the curves on a log step axis, the losses on a log
    // scale below them, and what the weight norm did.
    let text = common::stdout(&["emergence", "grok", "--steps", "200", "--no-stop"]);
    assert!(
        text.contains("Loss, relative to its highest (log scale)"),
        "{text}"
    );
    assert!(text.contains("≤0.1% │"), "{text}");
    // The ticks, on the line that ends with the axis's name or (where both
    // do not fit the width) the line above the name.
    let axis = |text: &str| -> Vec<String> {
        let lines: Vec<&str> = text.lines().collect();
        let at = lines.iter().position(|l| l.trim_end().ends_with("step"));
        let at = at.expect("a step axis");
        let line = if lines[at].trim() == "step" {
            lines[at - 1]
        } else {
            lines[at]
        };
        line.split_whitespace().take(3).map(String::from).collect()
    };
    assert_eq!(axis(&text), ["1", "10", "100"], "{text}");
    assert!(text.contains("The weight norm grew from 17.0"), "{text}");
    let linear = common::stdout(&["emergence", "grok", "--steps", "200", "--linear-steps"]);
    assert_eq!(axis(&linear)[0], "0", "{linear}");
}

#[test]
fn bad_grok_settings_are_one_line_and_exit_2() {
    for (args, needle) in [
        (&["--modulus", "2"][..], "--modulus must be a prime"),
        (&["--modulus", "91"][..], "prime"),
        (&["--train-fraction", "1.5"][..], "--train-fraction"),
        (&["--train-fraction", "0"][..], "--train-fraction"),
        (&["--width", "0"][..], "--width"),
        (&["--steps", "0"][..], "--steps"),
        (&["--lr", "0"][..], "--lr"),
        (&["--lr", "-0.1"][..], "--lr"),
        (&["--plot", "/nonexistent-dir/g.svg"][..], "cannot write in"),
    ] {
        let mut all = vec!["emergence", "grok"];
        all.extend_from_slice(args);
        assert_input_error(&all, needle);
    }
}

#[test]
fn the_scale_sweep_reports_each_width_alike_and_repeats() {
    let args = [
        "emergence",
        "scale",
        "--widths",
        "4,64",
        "--steps",
        "300",
        "--format",
        "json",
    ];
    let strip = |mut report: Value| {
        report.as_object_mut().unwrap().remove("seconds");
        for point in report["points"].as_array_mut().unwrap() {
            point.as_object_mut().unwrap().remove("seconds");
        }
        for run in report["runs"].as_array_mut().unwrap() {
            for point in run["points"].as_array_mut().unwrap() {
                point.as_object_mut().unwrap().remove("seconds");
            }
        }
        report
    };
    let first = strip(common::json(&args));
    let points = first["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    for point in points {
        // The same field names as `emergence metric`.
        for field in [
            "exact_match",
            "per_digit_accuracy",
            "predicted_exact_from_digits",
            "answer_probability",
            "answer_probability_whole",
        ] {
            let share = point[field].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&share), "{field} {share}");
        }
        assert_eq!(point["per_place_accuracy"].as_array().unwrap().len(), 4);
    }
    // The wider model learned more in the same budget.
    let per_digit = |p: &serde_json::Value| p["per_digit_accuracy"].as_f64().unwrap();
    assert!(per_digit(&points[1]) > per_digit(&points[0]));
    // The findings a takeaway states ride in the JSON: the first width
    // whose per-digit accuracy reached one half.
    let digit_half = points
        .iter()
        .find(|p| per_digit(p) >= 0.5)
        .map(|p| p["width"].clone())
        .unwrap_or(Value::Null);
    assert_eq!(first["digit_half_width"], digit_half);
    assert_eq!(first["seeds_agree"], true, "one seed agrees with itself");
    assert_eq!(first, strip(common::json(&args)));
    // Two seeds: each run is the one-seed run of its seed, and each point
    // is their mean, between their least and most.
    let mut two = args.to_vec();
    two.extend(["--seeds", "2,1"]);
    let both = strip(common::json(&two));
    assert_eq!(both["seeds"], serde_json::json!([1, 2]));
    assert_eq!(both["runs"][0], first["runs"][0]);
    let (a, b) = (
        both["runs"][0]["points"][1]["exact_match"]
            .as_f64()
            .unwrap(),
        both["runs"][1]["points"][1]["exact_match"]
            .as_f64()
            .unwrap(),
    );
    let mean = &both["points"][1];
    assert!((mean["exact_match"].as_f64().unwrap() - (a + b) / 2.0).abs() < 1e-12);
    assert_eq!(
        mean["exact_match_range"],
        serde_json::json!([a.min(b), a.max(b)])
    );
    assert_input_error(
        &["emergence", "scale", "--widths", "0"],
        "--widths: 0 is outside",
    );
    assert_input_error(
        &["emergence", "scale", "--steps", "0"],
        "--steps must be from 1",
    );
}

#[test]
fn a_grokking_phase_diagram_finds_each_strategys_data_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("phase.svg");
    let args = [
        "emergence",
        "grok",
        "--phase",
        "--modulus",
        "31",
        "--width",
        "64",
        "--steps",
        "400",
        "--train-fractions",
        "0.3,0.7",
        "--weight-decays",
        "0,1",
        "--format",
        "json",
    ];
    let strip = |mut report: Value| {
        report.as_object_mut().unwrap().remove("seconds");
        report
    };
    let report = strip(json(&args));
    let cells = report["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 4, "2 fractions × 2 weight decays");
    // Every strategy's threshold is the least fraction whose cell generalized.
    for threshold in report["thresholds"].as_array().unwrap() {
        let wd = threshold["weight_decay"].as_f64().unwrap();
        let least = cells
            .iter()
            .filter(|c| c["weight_decay"].as_f64() == Some(wd) && !c["generalized_at"].is_null())
            .map(|c| c["train_fraction"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min);
        match threshold["smallest_fraction"].as_f64() {
            Some(f) => assert_eq!(f, least),
            None => assert!(least.is_infinite()),
        }
    }
    // More data generalizes where less does not, in this budget.
    let generalized = |fraction: f64| {
        cells
            .iter()
            .filter(|c| c["train_fraction"].as_f64() == Some(fraction))
            .filter(|c| !c["generalized_at"].is_null())
            .count()
    };
    assert!(generalized(0.7) > generalized(0.3), "{report}");
    assert_eq!(report, strip(json(&args)));
    let out = detprob()
        .args(&args[..args.len() - 2])
        .arg("--plot")
        .arg(&plot)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    common::assert_success(&out);
    assert!(
        text.contains("decay 0") && text.contains("least data that generalized"),
        "{text}"
    );
    assert!(std::fs::read_to_string(&plot).unwrap().contains("<svg"));
    assert_input_error(&["emergence", "grok", "--weight-decays", "0,1"], "--phase");
}
