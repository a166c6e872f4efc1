//! The run log on the real SmolLM2: generate, compare, sweep and served
//! requests are recorded; `log list`, `show`, `export` read them; `log
//! replay` gives the same tokens; `--no-log` and `DETPROB_LOG=off` record
//! nothing; and a server killed with SIGKILL in the middle of a burst of
//! requests leaves a log whose every entry replays identically.

mod common;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn with_log(log: &std::path::Path, args: &[&str]) -> std::process::Output {
    common::detprob()
        .env("DETPROB_LOG", log)
        .args(args)
        .output()
        .unwrap()
}

fn list(log: &std::path::Path) -> Vec<Value> {
    let out = with_log(log, &["log", "list", "--format", "json", "--limit", "1000"]);
    common::assert_success(&out);
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    value["entries"].as_array().unwrap().clone()
}

fn replays_identically(log: &std::path::Path, id: i64) {
    let out = with_log(log, &["log", "replay", &id.to_string(), "--format", "json"]);
    assert!(
        out.status.success(),
        "entry {id}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["differences"], json!([]), "entry {id}");
    assert!(report["tokens"].as_u64().unwrap() > 0);
}

#[test]
fn generate_compare_and_sweep_are_logged_and_replay_identically() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs.sqlite");
    let model = ["--model", "smollm2-135m"];
    let runs: [&[&str]; 3] = [
        &[
            "generate",
            "--seed",
            "5",
            "--temperature",
            "0.8",
            "--max-tokens",
            "12",
            "Tell me a fact.",
        ],
        &[
            "compare",
            "What is 12 * 12?",
            "--seeds",
            "1..2",
            "--temperatures",
            "0,1",
        ],
        &[
            "sweep",
            "What is 3 + 4?",
            "--seeds",
            "1..3",
            "--temperatures",
            "0.7",
            "-o",
        ],
    ];
    for (i, args) in runs.iter().enumerate() {
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if i == 2 {
            args.push(dir.path().join("rows.csv").display().to_string());
        }
        args.extend(model.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = with_log(&log, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let entries = list(&log);
    let commands: Vec<&str> = entries
        .iter()
        .map(|e| e["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["sweep", "compare", "generate"]);
    let counts: Vec<u64> = entries
        .iter()
        .map(|e| e["runs"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [3, 4, 1]);
    for entry in &entries {
        replays_identically(&log, entry["id"].as_i64().unwrap());
    }
    // The generate entry holds what generate printed.
    let generated = common::json(&[
        "generate",
        "--seed",
        "5",
        "--temperature",
        "0.8",
        "--max-tokens",
        "12",
        "--format",
        "json",
        "--model",
        "smollm2-135m",
        "Tell me a fact.",
    ]);
    assert_eq!(entries[2]["text"], generated["completion"]["text"]);

    // Filters: text, and time.
    let out = with_log(
        &log,
        &["log", "list", "--grep", "12 * 12", "--format", "json"],
    );
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found["entries"].as_array().unwrap().len(), 1);
    let out = with_log(
        &log,
        &["log", "list", "--since", "2999-01-01", "--format", "json"],
    );
    let none: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(none["entries"], json!([]));

    // Export: one row per completion, in JSON Lines and CSV.
    let out = with_log(&log, &["log", "export"]);
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 8);
    assert!(rows
        .iter()
        .all(|r| r["model"] == "smollm2-135m" && r["model_sha256"].as_str().unwrap().len() == 64));
    let out = with_log(&log, &["log", "export", "--format", "csv"]);
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.records().count(), 8);

    // Off: --no-log and DETPROB_LOG=off record nothing.
    let quiet = [
        "generate",
        "--max-tokens",
        "2",
        "--model",
        "smollm2-135m",
        "Hi",
        "--no-log",
    ];
    assert!(with_log(&log, &quiet).status.success());
    assert_eq!(list(&log).len(), 3);
    common::assert_input_error_env(
        &["log", "list"],
        &[("DETPROB_LOG", "off".as_ref())],
        "the run log is off",
    );
    common::assert_input_error_env(
        &["log", "show", "99"],
        &[("DETPROB_LOG", log.as_os_str())],
        "no entry 99",
    );
    common::assert_input_error_env(
        &["log", "list", "--since", "soon"],
        &[("DETPROB_LOG", log.as_os_str())],
        "--since",
    );
    let missing = dir.path().join("none.sqlite");
    common::assert_input_error_env(
        &["log", "list"],
        &[("DETPROB_LOG", missing.as_os_str())],
        "no run log",
    );
    assert!(!missing.exists(), "reading a log must not create one");
}

#[test]
fn a_server_killed_mid_burst_leaves_a_log_whose_every_entry_replays_identically() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs.sqlite");
    let mut server = common::Server::start(&[], &[("DETPROB_LOG", log.to_str().unwrap())]);
    let base = server.base.clone();
    // A burst of 24 requests of different lengths, sent at once; the server
    // is killed once a few have been logged, with others still decoding.
    let senders: Vec<_> = (0..24u64)
        .map(|i| {
            let url = format!("{base}/v1/completions");
            std::thread::spawn(move || {
                let body = json!({"prompt": "Once upon a time", "seed": i, "temperature": 0.9,
                                  "max_tokens": 4 + 6 * i, "n": 1 + i % 2});
                let _ = ureq::post(&url)
                    .timeout(Duration::from_secs(60))
                    .send_json(body);
            })
        })
        .collect();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if log.exists() && list(&log).len() >= 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    for s in senders {
        s.join().unwrap();
    }
    let entries = list(&log);
    assert!(
        entries.len() >= 4 && entries.len() < 24,
        "{} entries",
        entries.len()
    );
    for entry in &entries {
        assert_eq!(entry["command"], "serve");
        let id = entry["id"].as_i64().unwrap();
        let shown = with_log(&log, &["log", "show", &id.to_string(), "--format", "json"]);
        let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
        let runs = shown["manifest"]["runs"].as_array().unwrap();
        assert_eq!(runs.len() as u64, entry["runs"].as_u64().unwrap());
        // Whole entries only: each holds all its request's choices.
        let max_tokens = runs[0]["settings"]["max_tokens"].as_u64().unwrap();
        let n = if (max_tokens - 4) / 6 % 2 == 1 { 2 } else { 1 };
        assert_eq!(runs.len(), n, "entry {id}");
        replays_identically(&log, id);
    }
}
