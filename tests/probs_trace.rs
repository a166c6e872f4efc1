//! `detprob probs` and `detprob trace` on the real SmolLM2 model: columns are
//! distributions, T=0 is the argmax, a trace is exactly what `generate` does,
//! and reported divergence steps are where token ids first differ.

mod common;

use common::{assert_input_error, detprob, ids, json};

const PROMPT: &str = "What is the capital of France?";

#[test]
fn every_column_is_a_distribution_and_t0_is_the_argmax() {
    let report = json(&[
        "probs", "-f", "json", "--top", "8", "--top-k", "20", "--top-p", "0.9", "--min-p", "0.05",
        PROMPT,
    ]);
    let filters = report["filters"].as_array().unwrap();
    let labels: Vec<&str> = filters
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, vec!["model", "top-k 20", "top-p 0.9", "min-p 0.05"]);
    let candidates: Vec<u64> = filters
        .iter()
        .map(|c| c["candidates"].as_u64().unwrap())
        .collect();
    assert_eq!(candidates[0], 49152);
    assert_eq!(candidates[1], 20);
    assert!(
        candidates.windows(2).all(|w| w[1] <= w[0]),
        "{candidates:?}"
    );
    let temperatures = report["temperatures"].as_array().unwrap();
    assert_eq!(temperatures.len(), 4);
    for column in filters.iter().chain(temperatures) {
        let shown: f64 = column["top"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["probability"].as_f64().unwrap())
            .sum();
        let tail = column["tail"].as_f64().unwrap();
        assert!(
            (shown + tail - 1.0).abs() < 1e-5,
            "{}: {shown} + {tail}",
            column["label"]
        );
        assert!((column["total"].as_f64().unwrap() - 1.0).abs() < 1e-5);
        assert!(column["entropy_bits"].as_f64().unwrap() >= 0.0);
    }
    // The sampled-from distribution is the last filter's candidate set.
    assert_eq!(temperatures[2]["candidates"], filters[3]["candidates"]);
    let greedy = &temperatures[0];
    assert_eq!(greedy["label"], "T=0");
    assert_eq!(greedy["top"].as_array().unwrap().len(), 1);
    assert_eq!(greedy["top"][0]["probability"], 1.0);
    assert_eq!(
        greedy["top"][0]["token"], filters[0]["top"][0]["token"],
        "T=0 must be the model's argmax"
    );
    assert_eq!(greedy["entropy_bits"], 0.0);
}

#[test]
fn a_traced_sample_is_exactly_what_generate_gives() {
    let trace = json(&[
        "trace", "-f", "json", "-t", "0.9", "-s", "7", "-n", "12", PROMPT,
    ]);
    let generated = json(&[
        "generate", "-f", "json", "-t", "0.9", "-s", "7", "-n", "12", PROMPT,
    ]);
    let sample = &trace["model"]["samples"][0];
    assert_eq!(
        ids(&sample["tokens"]),
        ids(&generated["completion"]["tokens"])
    );
    let steps = sample["steps"].as_array().unwrap();
    let mut running = 1.0;
    for (step, from_generate) in steps
        .iter()
        .zip(generated["completion"]["steps"].as_array().unwrap())
    {
        let p = step["probability"].as_f64().unwrap();
        assert_eq!(p, from_generate["probability"].as_f64().unwrap());
        running *= p;
        assert!(
            (step["running_probability"].as_f64().unwrap() - running).abs()
                <= 1e-12 * running.max(1e-300)
        );
        assert_eq!(step["low"].as_bool().unwrap(), p < 0.5);
    }
}

#[test]
fn reported_divergence_steps_are_where_token_ids_first_differ() {
    let trace = json(&[
        "trace",
        "-f",
        "json",
        "-t",
        "1.0",
        "--seeds",
        "1..4",
        "-n",
        "12",
        "Name a colour.",
    ]);
    let samples = trace["model"]["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 4);
    let tokens: Vec<Vec<u64>> = samples.iter().map(|s| ids(&s["tokens"])).collect();
    let divergence = &trace["model"]["divergence"];
    let pairs = divergence["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 6);
    for pair in pairs {
        let (a, b) = (
            pair["a"].as_u64().unwrap() as usize - 1,
            pair["b"].as_u64().unwrap() as usize - 1,
        );
        let expected = if tokens[a] == tokens[b] {
            None
        } else {
            Some(
                tokens[a]
                    .iter()
                    .zip(&tokens[b])
                    .position(|(x, y)| x != y)
                    .unwrap_or(tokens[a].len().min(tokens[b].len()))
                    + 1,
            )
        };
        assert_eq!(
            pair["step"].as_u64().map(|s| s as usize),
            expected,
            "{pair}"
        );
    }
    let shared = divergence["shared_steps"].as_u64().unwrap() as usize;
    assert!(tokens.iter().all(|t| t[..shared] == tokens[0][..shared]));
    for branch in divergence["branches"].as_array().unwrap() {
        let (s, f) = (
            branch["seed"].as_u64().unwrap() as usize - 1,
            branch["from_seed"].as_u64().unwrap() as usize - 1,
        );
        let step = branch["step"].as_u64().unwrap() as usize;
        assert_eq!(tokens[s][..step - 1], tokens[f][..step - 1]);
        assert_ne!(tokens[s].get(step - 1), tokens[f].get(step - 1));
    }
}

#[test]
fn the_rule_trace_sits_beside_the_model_trace() {
    let trace = json(&[
        "trace",
        "-f",
        "json",
        "--rule",
        "arithmetic",
        "-t",
        "0",
        "-n",
        "8",
        "17 + 25",
    ]);
    assert_eq!(trace["rule"]["output"], "42");
    let details: Vec<&str> = trace["rule"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["detail"].as_str().unwrap())
        .collect();
    assert!(details.contains(&"17 + 25 = 42"), "{details:?}");
    assert!(trace["model"]["formatted_prompt"]
        .as_str()
        .unwrap()
        .contains("17 + 25\nReply with the number only."));
    assert!(!trace["model"]["samples"][0]["steps"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn terminal_views_fit_80_columns() {
    for args in [
        vec!["probs", "--top", "5", PROMPT],
        vec!["trace", "-n", "6", PROMPT],
        vec!["trace", "-n", "6", "--seeds", "1..3", PROMPT],
    ] {
        let out = detprob().args(&args).env("COLUMNS", "80").output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(widest <= 80, "{args:?} is {widest} columns wide:\n{text}");
    }
}

#[test]
fn markdown_views_are_tables() {
    let out = detprob()
        .args(["probs", "-f", "markdown", "--top", "3", PROMPT])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("| rank | T=0 | T=0.5 | T=1 | T=1.5 |"),
        "{text}"
    );
    assert!(text.contains("| entropy |"));
}

#[test]
fn bad_probs_and_trace_flags_are_one_line_errors() {
    for (args, needle) in [
        (
            vec!["probs", "--temperatures", "0,x", PROMPT],
            "'x' is not a number",
        ),
        (
            vec!["probs", "--top", "0", PROMPT],
            "--top must be at least 1",
        ),
        (
            vec!["probs", "--top-p", "2", PROMPT],
            "top-p must be in (0, 1]",
        ),
        (vec!["probs", " "], "the prompt is empty"),
        (
            vec!["trace", "--seeds", "9..1", PROMPT],
            "must be ascending",
        ),
        (
            vec!["trace", "--low", "3", PROMPT],
            "--low must be in [0, 1]",
        ),
        (
            vec!["trace", "--rule", "magic", PROMPT],
            "unknown rule 'magic'",
        ),
    ] {
        assert_input_error(&args, needle);
    }
}

#[test]
fn score_gives_each_answer_token_its_probability_and_rank_on_the_real_model() {
    let report = json(&[
        "score",
        "--rule",
        "arithmetic",
        "What is 48 × 52?",
        "2496",
        "-f",
        "json",
    ]);
    let tokens = report["tokens"].as_array().unwrap();
    assert_eq!(
        tokens.len(),
        4,
        "SmolLM2 splits digits one by one: {report}"
    );
    let mut logprob = 0.0;
    for t in tokens {
        let p = t["probability"].as_f64().unwrap();
        assert!(p > 0.0 && p <= 1.0, "{t}");
        assert!(t["rank"].as_u64().unwrap() >= 1);
        logprob += t["logprob"].as_f64().unwrap();
        // Rank 1 exactly when the token is the model's first choice.
        assert_eq!(
            t["rank"].as_u64() == Some(1),
            t["piece"] == t["top_piece"],
            "{t}"
        );
    }
    assert!((report["logprob"].as_f64().unwrap() - logprob).abs() < 1e-9);
    assert!((report["probability"].as_f64().unwrap() - logprob.exp()).abs() < 1e-12);
    let greedy = tokens.iter().all(|t| t["rank"] == 1);
    assert_eq!(report["greedy_would_write_it"].as_bool(), Some(greedy));
    // The same run twice gives the same numbers.
    let again = json(&[
        "score",
        "--rule",
        "arithmetic",
        "What is 48 × 52?",
        "2496",
        "-f",
        "json",
    ]);
    assert_eq!(report["tokens"], again["tokens"]);
    assert_input_error(
        &["score", "What is 48 × 52?", " "],
        "answer to score is empty",
    );
}
