//! `detprob compare` and the showcase on the real SmolLM2 model: the
//! deterministic facts (the rule's output, the model at T=0, the same seed),
//! the report's shape in every format, and one-line errors for bad input.

mod common;

use common::{assert_input_error, detprob, ids, json, run_ok};
use serde_json::Value;

fn sample_tokens(report: &Value) -> Vec<Vec<u64>> {
    report["model"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| ids(&s["tokens"]))
        .collect()
}

#[test]
fn rule_and_greedy_model_each_give_one_output_and_the_report_has_every_part() {
    let report = json(&[
        "compare",
        "-f",
        "json",
        "--temperatures",
        "0,1.0",
        "--seeds",
        "1..3",
        "What is 17 + 25?",
    ]);
    assert_eq!(report["input"], "What is 17 + 25?");
    assert_eq!(report["task"], "arithmetic");
    assert_eq!(report["truth"]["answer"], "42");
    assert_eq!(report["truth"]["source"], "rule");
    let rule = &report["rule"];
    assert_eq!(rule["name"], "arithmetic");
    assert_eq!(
        rule["outcome"],
        serde_json::json!({"kind": "answer", "value": "42"})
    );
    assert_eq!(rule["runs"], 6);
    assert_eq!(rule["distinct_outputs"], 1);
    assert_eq!(rule["correct"], true);
    assert!(rule["trace"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["detail"] == "17 + 25 = 42"));

    let model = &report["model"];
    assert_eq!(model["samples"].as_array().unwrap().len(), 6);
    let greedy = &model["temperatures"][0];
    assert_eq!(greedy["temperature"], 0.0);
    assert_eq!(
        greedy["distinct_texts"], 1,
        "the model at T=0 must repeat itself"
    );
    assert_eq!(model["seed_check"]["identical"], true);
    assert!(model["prompt_template"]
        .as_str()
        .unwrap()
        .contains("{input}"));
    for sample in model["samples"].as_array().unwrap() {
        let right = sample["correct"].as_bool().unwrap();
        assert_eq!(right, sample["answer"] == "42", "{sample}");
        let p = sample["answer_probability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
    }
    for verdict in ["reproducibility", "generalization", "error_type"] {
        let v = &report["verdicts"][verdict];
        assert!(!v["text"].as_str().unwrap().is_empty());
        assert!(v["row"].as_str().unwrap().contains('('));
    }
    assert!(report["verdicts"]["reproducibility"]["text"]
        .as_str()
        .unwrap()
        .starts_with("the rule gave 1 distinct output in 6 runs"));
}

#[test]
fn the_rule_the_greedy_model_and_each_seed_repeat_across_runs() {
    let args = [
        "compare",
        "-f",
        "json",
        "--temperatures",
        "0,0.9",
        "--seeds",
        "4,5",
        "What is the capital of Peru?",
    ];
    let (first, second) = (json(&args), json(&args));
    assert_eq!(first["rule"]["outcome"], second["rule"]["outcome"]);
    assert_eq!(first["rule"]["trace"], second["rule"]["trace"]);
    // Samples are temperature-major: T=0 seeds 4 and 5, then T=0.9 seeds 4 and 5.
    let (a, b) = (sample_tokens(&first), sample_tokens(&second));
    assert_eq!(a[0], a[1], "T=0 does not depend on the seed");
    assert_eq!(a, b, "the same seed gives the same tokens in another run");
}

#[test]
fn a_grid_sample_is_what_generate_gives_with_the_same_settings() {
    let report = json(&[
        "compare",
        "-f",
        "json",
        "--temperatures",
        "0.8",
        "--seeds",
        "2",
        "Is 1900 a leap year?",
    ]);
    let sample = &report["model"]["samples"][0];
    let formatted = report["model"]["formatted_prompt"].as_str().unwrap();
    let generated = json(&[
        "generate", "-f", "json", "--raw", "-t", "0.8", "-s", "2", "-n", "32", formatted,
    ]);
    let from_grid: Vec<u64> = sample["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap())
        .collect();
    let from_generate: Vec<u64> = generated["completion"]["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap())
        .collect();
    // compare stops at the end of the first line; generate goes on.
    assert!(!from_grid.is_empty());
    assert_eq!(from_grid[..], from_generate[..from_grid.len()]);
}

#[test]
fn an_input_outside_the_grammar_is_an_explicit_error_scored_from_data() {
    let report = json(&[
        "compare",
        "-f",
        "json",
        "--temperatures",
        "0",
        "--seeds",
        "1",
        "seventeen plus twenty-five",
    ]);
    assert_eq!(report["rule"]["outcome"]["kind"], "error");
    assert_eq!(report["rule"]["outcome"]["error"]["kind"], "cannot_parse");
    assert_eq!(report["truth"]["answer"], "42");
    assert_eq!(report["truth"]["source"], "data");
    let text = report["verdicts"]["generalization"]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.starts_with("the input is outside the rule's grammar or table, and the rule says so"),
        "{text}"
    );
}

#[test]
fn the_planted_bug_is_named_in_the_error_verdict() {
    let report = json(&[
        "compare",
        "-f",
        "json",
        "--rule",
        "leap-year-buggy",
        "--temperatures",
        "0",
        "--seeds",
        "1",
        "Is 1900 a leap year?",
    ]);
    assert_eq!(report["rule"]["outcome"]["value"], "yes");
    assert_eq!(report["rule"]["correct"], false);
    assert_eq!(report["truth"]["answer"], "no");
    let text = report["verdicts"]["error_type"]["text"].as_str().unwrap();
    assert!(
        text.contains("systematic bug at rule 'divisible by 4?'"),
        "{text}"
    );
    assert!(text.contains("src/rules/leap_year_buggy.rs:"), "{text}");
}

#[test]
fn markdown_and_csv_render_the_same_report() {
    let args = |f| {
        vec![
            "compare",
            "-f",
            f,
            "--temperatures",
            "0",
            "--seeds",
            "1,2",
            "What is the capital of Japan?",
        ]
    };
    let markdown =
        String::from_utf8(detprob().args(args("markdown")).output().unwrap().stdout).unwrap();
    assert!(markdown.starts_with("### Input: What is the capital of Japan?"));
    assert!(markdown.contains("**Rule `capitals`**") && markdown.contains("| temperature |"));
    let csv = String::from_utf8(detprob().args(args("csv")).output().unwrap().stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "input,side,name,temperature,seed,output,answer,correct,probability,truth"
    );
    assert_eq!(lines.len(), 1 + 1 + 2, "header, the rule, two samples");
    assert!(lines[1].contains(",rule,capitals,") && lines[1].ends_with(",Tokyo,true,,Tokyo"));
}

#[test]
fn terminal_output_shows_both_sides_and_the_verdicts() {
    let out = detprob()
        .args([
            "compare",
            "--temperatures",
            "0",
            "--seeds",
            "1",
            "What is 2 + 2?",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}'), "colour despite NO_COLOR");
    for needle in [
        "RULE  arithmetic",
        "MODEL  smollm2-135m",
        "✓ 4",
        "Reproducibility:",
        "Generalization:",
        "Error type:",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(
        text.lines().all(|l| l.chars().count() <= 100),
        "wider than 100 columns:\n{text}"
    );
}

#[test]
fn an_inputs_file_gives_a_summary_of_coverage_and_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inputs.txt");
    std::fs::write(
        &file,
        "# comment\nWhat is 6 * 7?\n\nWhat is the capital of Atlantis?\nnot bad at all\tpositive\n",
    )
    .unwrap();
    let report = json(&[
        "compare",
        "-f",
        "json",
        "--temperatures",
        "0",
        "--seeds",
        "1",
        "--inputs",
        file.to_str().unwrap(),
    ]);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["rule"], "arithmetic");
    assert_eq!(rows[1]["rule_output"], "error: not in table: Atlantis");
    assert_eq!(rows[2]["truth"], "positive");
    assert_eq!(report["rule_answered"], 2);
    assert_eq!(report["rule_scored"], 2);
    assert_eq!(
        report["rule_correct"], 1,
        "arithmetic right, sentiment wrong"
    );
    assert_eq!(report["model_totals"][0]["scored"], 3);
    let csv_out = detprob()
        .args([
            "compare",
            "-f",
            "csv",
            "--temperatures",
            "0",
            "--seeds",
            "1",
            "--inputs",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let csv = String::from_utf8(csv_out.stdout).unwrap();
    assert_eq!(csv.lines().count(), 4);
}

#[test]
fn the_showcase_runs_every_input_and_shows_all_three_rows() {
    let report = json(&[
        "showcase",
        "-f",
        "json",
        "--temperatures",
        "0,1",
        "--seeds",
        "1",
    ]);
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    let rules: Vec<&str> = items
        .iter()
        .map(|i| i["comparison"]["rule"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        vec!["arithmetic", "arithmetic", "capitals", "sentiment"]
    );
    // Generalization: at least one input outside the rule's grammar or table.
    assert!(items
        .iter()
        .any(|i| i["comparison"]["rule"]["outcome"]["kind"] == "error"));
    // Error type: the keyword rule's systematic bug.
    assert_eq!(items[3]["comparison"]["rule"]["correct"], false);
    assert!(report["seconds"].as_f64().unwrap() > 0.0);
}

/// Outside every rule's domain (right-to-left script, control characters)
/// the program's side refuses explicitly and the model's side still runs;
/// what would act on a terminal or reorder a line is shown, not obeyed,
/// while JSON keeps the exact text.
#[test]
fn an_input_no_rule_fits_shows_the_refusal_beside_the_model() {
    let input = "مرحبا\u{7} \u{202e}world\u{1b}]0;PWNED\u{7}";
    let args = ["compare", "--temperatures", "0", "--seeds", "1", input];
    let out = run_ok(&args, &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("none") && text.contains("no rule fits this input"),
        "{text}"
    );
    assert!(
        text.contains("مرحبا\\x07 \\u{202e}world\\x1b]0;PWNED\\x07"),
        "{text}"
    );
    assert!(
        !text.contains(['\u{7}', '\u{202e}']) && !text.contains("\u{1b}]"),
        "{text:?}"
    );
    assert!(text.contains("T=0"), "the model's side is shown: {text}");

    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let report = json(&json_args);
    assert_eq!(report["input"], input);
    assert_eq!(report["task"], "open");
    assert_eq!(report["rule"]["name"], "none");
    assert_eq!(report["rule"]["outcome"]["error"]["kind"], "no_rule_fits");
    let sample = &report["model"]["samples"][0];
    assert!(!sample["text"].as_str().unwrap().is_empty(), "{sample}");
    assert!(
        sample["correct"].is_null(),
        "no truth, nothing scored: {sample}"
    );
}

#[test]
fn bad_compare_input_is_a_one_line_error() {
    assert_input_error(&["compare", ""], "the prompt is empty");
    assert_input_error(
        &["compare", "--rule", "astrology", "2 + 2"],
        "unknown rule 'astrology'",
    );
    assert_input_error(&["compare", "--seeds", "", "2 + 2"], "no seeds given");
    assert_input_error(
        &["compare", "--temperatures", "0,warm", "2 + 2"],
        "'warm' is not a number",
    );
    assert_input_error(
        &["compare", "--temperatures", "-1", "2 + 2"],
        "temperature must be",
    );
    assert_input_error(
        &["compare", "--inputs", "a.txt", "2 + 2"],
        "cannot be used with",
    );
    // A huge input is refused before any model work, quoted short (a
    // 20,000-character one took minutes of prefill per sample).
    let huge = format!("What is {}?", "1 + ".repeat(5000) + "1");
    assert_input_error(
        &["compare", "--temperatures", "0", "--seeds", "1", &huge],
        "an input to compare is at most 1000 characters; \"What is 1 + 1 + ",
    );
    let nested = "(".repeat(10_000) + "1" + &")".repeat(10_000);
    assert_input_error(&["compare", "--rule", "arithmetic", &nested], "has 20001");

    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("latin1.txt");
    std::fs::write(&binary, b"What is 2 + 2?\ncaf\xe9\n").unwrap();
    assert_input_error(
        &["compare", "--inputs", binary.to_str().unwrap()],
        "is not UTF-8 (line 2)",
    );
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing\n\n").unwrap();
    assert_input_error(
        &["compare", "--inputs", empty.to_str().unwrap()],
        "has no inputs",
    );
    assert_input_error(
        &["compare", "--inputs", "/no/such/file.txt"],
        "cannot read inputs file",
    );
}

/// A question asked in Chinese, on the Chinese-capable Qwen 0.5B: the rule
/// reads the Chinese phrasing, the model is asked in Chinese (the Chinese
/// template), and its Chinese answer is read as the task's answer.
#[test]
fn a_chinese_question_is_read_by_the_rule_and_asked_and_scored_in_chinese() {
    for (input, rule, rule_answer, truth) in [
        ("1900年是闰年吗？", "leap-year", Some("no"), "no"),
        ("法国的首都是哪里？", "capitals", Some("Paris"), "Paris"),
        ("不丹的首都是什么？", "capitals", None, "Thimphu"),
        (
            "这部电影不好看。",
            "sentiment",
            Some("positive"),
            "negative",
        ),
    ] {
        let report = json(&[
            "compare",
            "-m",
            "qwen2.5-coder-0.5b",
            "-f",
            "json",
            "--temperatures",
            "0",
            "--seeds",
            "1",
            input,
        ]);
        assert_eq!(report["rule"]["name"], rule, "{input}");
        assert_eq!(
            report["rule"]["outcome"]["value"].as_str(),
            rule_answer,
            "{input}"
        );
        assert_eq!(report["truth"]["answer"], truth, "{input}");
        let template = report["model"]["prompt_template"].as_str().unwrap();
        assert!(
            template.contains("只回答") || template.contains("回答"),
            "{template}"
        );
        let sample = &report["model"]["samples"][0];
        let text = sample["text"].as_str().unwrap();
        assert!(
            text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
            "{input}: the model was expected to answer in Chinese: {text:?}"
        );
        let answer = sample["answer"].as_str();
        assert!(
            answer.is_some_and(|a| !a.is_empty()),
            "{input}: no answer read from {text:?}"
        );
        // The verdict is computed from the answer read, against the truth.
        let correct = sample["correct"].as_bool().unwrap();
        assert_eq!(
            correct,
            answer.unwrap().eq_ignore_ascii_case(truth),
            "{input}: {text:?}"
        );
    }
}
