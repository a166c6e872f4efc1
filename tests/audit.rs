//! `detprob audit --local` (detprob serve started for the audit:
//! reproducible everywhere), and
//! against small fake servers on 127.0.0.1: one whose every third answer
//! differs and whose every fifth request first fails with 503 (retried), one
//! that answers malformed JSON (a one-line error, never a panic).

mod common;

use serde_json::{json, Value};

/// A completion of the given tokens, with logprobs.
fn completion(tokens: &[&str]) -> String {
    json!({"choices": [{"index": 0, "text": tokens.concat(), "finish_reason": "stop",
        "logprobs": {"tokens": tokens, "token_logprobs": vec![-0.25; tokens.len()],
                     "top_logprobs": tokens.iter().map(|t| json!({*t: -0.25})).collect::<Vec<_>>()}}],
        "system_fingerprint": "fake-1"})
    .to_string()
}

fn audit(endpoint: &str, extra: &[&str]) -> std::process::Output {
    common::detprob()
        .args([
            "audit",
            "--endpoint",
            endpoint,
            "--format",
            "json",
            "--max-tokens",
            "8",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn an_unsteady_server_is_caught_with_its_first_divergent_token_and_retries_hide_its_503s() {
    let endpoint = common::fake_server(|n| {
        if n % 5 == 4 && n % 10 != 9 {
            // Every fifth request fails once; the retry (the next number) answers.
            return (503, json!({"error": {"message": "busy"}}).to_string());
        }
        if n % 3 == 2 {
            (200, completion(&["The", " capital", " was", " Paris"]))
        } else {
            (200, completion(&["The", " capital", " is", " Paris"]))
        }
    });
    let out = audit(
        &endpoint,
        &[
            "--runs",
            "6",
            "--concurrency",
            "1,3",
            "--prompts",
            "/dev/stdin",
        ],
    );
    // /dev/stdin is empty here: a clear refusal first.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let prompts = dir.path().join("prompts.txt");
    std::fs::write(&prompts, "The capital of France is\n").unwrap();
    let out = audit(
        &endpoint,
        &[
            "--runs",
            "6",
            "--concurrency",
            "1,3",
            "--prompts",
            prompts.to_str().unwrap(),
        ],
    );
    common::assert_success(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["model"], "fake");
    assert_eq!(report["failed"], 0, "the 503s were retried");
    assert_eq!(report["reproducible_alone"], false);
    assert_eq!(report["reproducible_under_load"], false);
    assert_eq!(report["fingerprints"], json!(["fake-1"]));
    let level = &report["cases"][0]["levels"][0];
    assert_eq!(level["distinct"], 2);
    let divergence = &level["first_divergence"];
    assert_eq!(divergence["token_index"], 2);
    let texts = [
        divergence["reference"]["text"].as_str().unwrap(),
        divergence["divergent"]["text"].as_str().unwrap(),
    ];
    assert!(
        texts.contains(&" is") && texts.contains(&" was"),
        "{divergence}"
    );
}

#[test]
fn a_server_that_answers_garbage_gets_a_one_line_error() {
    let endpoint = common::fake_server(|_| (200, "{\"choices\": [".to_string()));
    let out = audit(
        &endpoint,
        &["--runs", "1", "--concurrency", "1", "--timeout", "5"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| !l.trim().is_empty()).count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("no answer after 4 attempts"), "{stderr}");
    // Bad flags are refused before any request.
    common::assert_input_error(&["audit", "--endpoint", "ftp://x"], "--endpoint");
    common::assert_input_error(
        &["audit", "--endpoint", &endpoint, "--concurrency", "0"],
        "--concurrency",
    );
    common::assert_input_error(
        &["audit", "--endpoint", &endpoint, "--temperature", "0"],
        "--temperature",
    );
    common::assert_input_error(
        &[
            "audit",
            "--endpoint",
            &endpoint,
            "--api-key-env",
            "DETPROB_NO_SUCH_VAR",
        ],
        "DETPROB_NO_SUCH_VAR",
    );
}

#[test]
fn detprob_serve_is_reproducible_alone_and_under_load_and_honours_the_seed() {
    // `--local` starts detprob serve for the audit on a free loopback port.
    let out = common::detprob()
        .args(["audit", "--local", "--runs", "4", "--concurrency", "1,4"])
        .args(["--max-tokens", "12", "--format", "json"])
        .output()
        .unwrap();
    common::assert_success(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["reproducible_alone"], true);
    assert_eq!(report["reproducible_under_load"], true);
    assert_eq!(report["seed_honoured"], true);
    assert_eq!(report["local"], true);
    assert!(report["endpoint"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert_eq!(report["model"], "smollm2-135m");
    for case in report["cases"].as_array().unwrap() {
        for level in case["levels"].as_array().unwrap() {
            assert_eq!(level["distinct"], 1, "{case}");
            assert_eq!(level["answered"], 4);
        }
    }
}

#[test]
fn a_local_audit_of_an_unknown_model_is_a_one_line_error() {
    common::assert_input_error(
        &["audit", "--local", "--model", "no-such-model"],
        "detprob serve did not start: unknown model 'no-such-model'",
    );
    common::assert_input_error(
        &["audit", "--local", "--endpoint", "http://127.0.0.1:9"],
        "cannot be used with",
    );
}
