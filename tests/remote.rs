//! Experiments against a server (`--endpoint`): `sweep` fills the same cells
//! and rows from a server as from the local model, `repeat` counts the same
//! outputs and `generate` writes the same text (against `detprob serve`, which is reproducible, they match
//! row for row); a failed request ends a sweep with the rows before it kept
//! for `--resume`; bad combinations are refused before any request.

mod common;

use std::path::Path;

use common::{assert_input_error, detprob, fake_server, Server};
use serde_json::json;

/// The grid both sides run: a task with a known truth, a task whose truth
/// the rule finds, a free prompt; two temperatures, three seeds.
const GRID: [&str; 9] = [
    "23*19",
    "2024 leap year",
    "--prompt",
    "The capital of France is",
    "--temperatures",
    "0,0.8",
    "--seeds",
    "1..3",
    "-q",
];

fn sweep(output: &Path, extra: &[&str]) -> std::process::Output {
    detprob()
        .arg("sweep")
        .args(GRID)
        .arg("-o")
        .arg(output)
        .args(["--row-format", "jsonl"])
        .args(extra)
        .output()
        .unwrap()
}

/// `args` as JSON, run on the local SmolLM2 and against the server at
/// `base` (with `remote`'s extra flags).
fn local_and_remote(
    args: &[&str],
    base: &str,
    remote: &[&str],
) -> (serde_json::Value, serde_json::Value) {
    let run = |extra: &[&str]| common::json(&[args, &["-f", "json"], extra].concat());
    (
        run(&["-m", "smollm2-135m"]),
        run(&[&["--endpoint", base][..], remote].concat()),
    )
}

fn rows(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn sweep_repeat_and_generate_against_a_server_give_the_local_answers() {
    let server = Server::start(&[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let (local, remote) = (
        dir.path().join("local.jsonl"),
        dir.path().join("remote.jsonl"),
    );
    let out = sweep(&local, &["-m", "smollm2-135m"]);
    common::assert_success(&out);
    let out = sweep(&remote, &["--endpoint", &server.base, "--parallel", "4"]);
    common::assert_success(&out);
    let (local, remote) = (rows(&local), rows(&remote));
    assert_eq!(local.len(), 18);
    assert_eq!(remote.len(), 18);
    for (l, r) in local.iter().zip(&remote) {
        for field in [
            "input",
            "model",
            "temperature",
            "seed",
            "text",
            "answer",
            "truth",
            "correct",
        ] {
            assert_eq!(l[field], r[field], "{field}: {l} vs {r}");
        }
        // What a server does not report stays empty rather than invented.
        assert_eq!(r["token_ids"], "");
        assert!(r["mean_entropy"].is_null() && l["mean_entropy"].is_number());
        assert!(r["total_logprob"].is_number(), "{r}");
        assert!(["stop", "max_tokens"].contains(&r["stop_reason"].as_str().unwrap()));
    }
    // Seeds matter at T = 0.8 and not at T = 0: the server was sent each
    // cell's own settings.
    let texts = |t: f64| -> std::collections::BTreeSet<String> {
        remote
            .iter()
            .filter(|r| r["input"] == "The capital of France is" && r["temperature"] == t)
            .map(|r| r["text"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(texts(0.0).len(), 1);
    assert!(texts(0.8).len() > 1, "{:?}", texts(0.8));

    // `repeat`: the greedy and fixed-seed rows count the same outputs from
    // the server as from the local model (fresh seeds are random on both).
    let repeat = |extra: &[&str]| {
        let mut args = vec!["repeat", "23*19", "--runs", "4", "--temperatures", "0,0.9"];
        args.extend(["--format", "json"]);
        args.extend(extra);
        common::json(&args)
    };
    let (local, remote) = (
        repeat(&["-m", "smollm2-135m"]),
        repeat(&["--endpoint", &server.base]),
    );
    let fixed = |report: &serde_json::Value| -> Vec<serde_json::Value> {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["fixed_seed"] != false)
            .map(|r| {
                json!([
                    r["side"],
                    r["temperature"],
                    r["distinct"],
                    r["most_common"],
                    r["most_common_count"]
                ])
            })
            .collect()
    };
    assert_eq!(fixed(&local).len(), 3, "{local}");
    assert_eq!(fixed(&local), fixed(&remote));
    assert_eq!(remote["model"], "smollm2-135m");
    assert_eq!(remote["rows"].as_array().unwrap().len(), 4);

    // `generate`: the server's text is the local engine's, token for token
    // in its logprobs list, with the alternatives asked for.
    for settings in [
        &["-t", "0.8", "-s", "5", "--top-k", "40"][..],
        &["-t", "0"][..],
    ] {
        let generate = |extra: &[&str]| {
            let mut args = vec!["generate", "Tell me a story", "-n", "16", "-f", "json"];
            args.extend(settings);
            args.extend(extra);
            common::json(&args)
        };
        let local = generate(&["-m", "smollm2-135m"]);
        let remote = generate(&["--endpoint", &server.base, "--alternatives", "2"]);
        assert_eq!(local["completion"]["text"], remote["text"], "{settings:?}");
        let tokens = remote["tokens"].as_array().unwrap();
        let pieces: String = tokens.iter().map(|t| t["text"].as_str().unwrap()).collect();
        assert_eq!(pieces, remote["text"].as_str().unwrap());
        assert!(tokens
            .iter()
            .all(|t| t["alternatives"].as_array().unwrap().len() == 2));
        assert_eq!(remote["stop_reason"], "max_tokens");
    }

    // `compare`: the model's side from the server is the local one — texts,
    // answers, their probabilities, the seed check and the verdicts.
    let (local, remote) = local_and_remote(
        &["compare", "What is 17 * 23?", "--seeds", "1..3"],
        &server.base,
        &["--parallel", "3"],
    );
    let samples = |report: &serde_json::Value| -> Vec<serde_json::Value> {
        report["model"]["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                json!([
                    s["temperature"],
                    s["seed"],
                    s["text"],
                    s["answer"],
                    s["correct"],
                    s["cut_off_at"]
                ])
            })
            .collect()
    };
    assert_eq!(samples(&local).len(), 9);
    assert_eq!(samples(&local), samples(&remote));
    for (l, r) in local["model"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .zip(remote["model"]["samples"].as_array().unwrap())
    {
        let (l, r) = (
            l["answer_probability"].as_f64().unwrap(),
            r["answer_probability"].as_f64().unwrap(),
        );
        assert!((l - r).abs() <= 1e-9 * l.max(1e-300), "{l} vs {r}");
    }
    assert_eq!(local["verdicts"], remote["verdicts"]);
    assert_eq!(local["model"]["seed_check"], remote["model"]["seed_check"]);
    assert_eq!(remote["model"]["endpoint"], server.base.as_str());
    assert!(remote["model"]["system_fingerprints"][0]
        .as_str()
        .unwrap()
        .starts_with("detprob-"));
    assert!(remote["model"]["prompt_tokens"].is_null());
    assert!(local["model"]["prompt_tokens"].as_u64().unwrap() > 0);

    // `emergence metric`: the same problems asked through the server's chat
    // template get the local greedy answers, exact match and per-place
    // accuracy; what needs the model's tokens and probabilities is not
    // measured, and no takeaway speaks of it.
    let metric = [
        "emergence",
        "metric",
        "--digits",
        "1..2",
        "--problems",
        "12",
    ];
    let (local, remote) = local_and_remote(&metric, &server.base, &[]);
    let answers = |report: &serde_json::Value| -> Vec<serde_json::Value> {
        report["models"][0]["points"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["results"].as_array().unwrap().clone())
            .map(|r| json!([r["question"], r["greedy_text"], r["exact"], r["places"]]))
            .collect()
    };
    assert_eq!(answers(&local).len(), 24);
    assert_eq!(answers(&local), answers(&remote));
    for (l, r) in local["models"][0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .zip(remote["models"][0]["points"].as_array().unwrap())
    {
        assert_eq!(l["exact_match"], r["exact_match"]);
        assert_eq!(l["per_digit_accuracy"], r["per_digit_accuracy"]);
        assert!(l["answer_probability"].is_number() && r.get("answer_probability").is_none());
        assert!(r["results"][0].get("choice_rank").is_none());
    }
    let findings = &remote["findings"][0];
    assert!(findings["probability"].is_null() && findings["choice_above_chance"].is_null());
    assert_eq!(remote["models"][0]["endpoint"], server.base.as_str());
    assert!(remote["models"][0]["parameters"].is_null());
    let text = common::stdout(&[&metric[..], &["--endpoint", &server.base]].concat());
    assert!(!text.contains("Multiple choice is"), "{text}");
    assert!(
        text.contains("no probabilities were measured") && text.contains("not reported"),
        "{text}"
    );

    // `probs`: the server's reported alternatives are the local model's
    // most likely tokens, and its temperature columns are the local ones
    // under a top-k filter of as many tokens (a Chinese prompt, so some
    // tokens are parts of a character, shown by their bytes on both sides).
    for prompt in ["法国的首都是", "The capital of France is"] {
        let probs = |extra: &[&str]| {
            let mut args = vec![
                "probs",
                prompt,
                "--top",
                "6",
                "--temperatures",
                "0,0.7,1.5",
                "-f",
                "json",
            ];
            args.extend(extra);
            common::json(&args)
        };
        let local = probs(&["-m", "smollm2-135m", "--top-k", "6"]);
        let remote = probs(&["--endpoint", &server.base]);
        assert_eq!(remote["reported"], 6);
        let column = |c: &serde_json::Value| -> Vec<(String, f64)> {
            c["top"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    (
                        t["piece"].as_str().unwrap().to_string(),
                        t["probability"].as_f64().unwrap(),
                    )
                })
                .collect()
        };
        let close = |a: &[(String, f64)], b: &[(String, f64)]| {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| x.0 == y.0 && (x.1 - y.1).abs() < 1e-6)
        };
        let (model_local, model_remote) =
            (column(&local["filters"][0]), column(&remote["filters"][0]));
        assert!(
            close(&model_local, &model_remote),
            "{model_local:?} vs {model_remote:?}"
        );
        assert!(remote["filters"][0]["entropy_bits"].is_null());
        for i in 0..3 {
            let (l, r) = (
                column(&local["temperatures"][i]),
                column(&remote["temperatures"][i]),
            );
            assert!(close(&l, &r), "column {i}: {l:?} vs {r:?}");
        }
    }
}

#[test]
fn a_run_on_a_server_is_recorded_and_replayed_by_text() {
    let server = Server::start(&[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs.sqlite");
    let manifest = dir.path().join("compare.json");
    // A comparison on the server, recorded in a manifest and in the run log.
    let out = detprob()
        .env("DETPROB_LOG", &log)
        .args([
            "compare",
            "2+3*4",
            "--seeds",
            "1,2",
            "--endpoint",
            &server.base,
            "--record",
        ])
        .arg(&manifest)
        .output()
        .unwrap();
    common::assert_success(&out);
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let body = &recorded["body"];
    assert_eq!(body["endpoint"]["url"], server.base.as_str());
    assert_eq!(body["endpoint"]["model"], "smollm2-135m");
    assert!(body["model"]["engine"].is_null() && body["model"]["sha256"] == "");
    assert_eq!(body["runs"].as_array().unwrap().len(), 6);
    assert!(body["endpoint"]["system_fingerprints"][0]
        .as_str()
        .unwrap()
        .starts_with("detprob-"));
    // Replayed: the same requests give the same texts.
    let out = detprob()
        .arg("replay")
        .arg(&manifest)
        .args(["--lang", "en"])
        .output()
        .unwrap();
    common::assert_success(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("replayed 6 compare run(s) on http://"),
        "{text}"
    );
    assert!(
        text.contains("identical: every request gave the recorded text"),
        "{text}"
    );
    // The run log holds it, and an audit too.
    let prompts = dir.path().join("prompts.txt");
    std::fs::write(&prompts, "Hi there\n").unwrap();
    let out = detprob()
        .env("DETPROB_LOG", &log)
        .args([
            "audit",
            "--endpoint",
            &server.base,
            "--runs",
            "2",
            "--concurrency",
            "2",
            "--prompts",
        ])
        .arg(&prompts)
        .output()
        .unwrap();
    common::assert_success(&out);
    let listed = common::json_with_env(
        &["log", "list", "-f", "json"],
        &[("DETPROB_LOG", log.to_str().unwrap())],
    );
    let commands: Vec<&str> = listed["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .map(|e| e["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["audit", "compare"]);

    // A server that now answers otherwise: the replay says where (exit 1).
    let changing = fake_server(|n| {
        let text = if n == 0 {
            "The answer is 14."
        } else {
            "The answer is 20."
        };
        let body = json!({"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]});
        (200, body.to_string())
    });
    let manifest = dir.path().join("generate.json");
    let out = detprob()
        .args([
            "generate",
            "2+3*4",
            "-t",
            "0",
            "--endpoint",
            &changing,
            "--record",
        ])
        .arg(&manifest)
        .output()
        .unwrap();
    common::assert_success(&out);
    let out = detprob()
        .arg("replay")
        .arg(&manifest)
        .args(["--lang", "en"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "run 0 differs at character 14: recorded “answer is 14.”, replayed “answer is 20.”"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("replay differs: 1 of 1 runs, first at run 0 character 14"),
        "{stderr}"
    );
}

#[test]
fn compare_says_what_a_server_did_not_report() {
    // A server that answers without logprobs: the panel and the verdict say
    // the answer's probability was not reported instead of inventing one.
    let server = fake_server(|_| {
        let body = json!({"choices": [{"message": {"role": "assistant", "content": "17 * 23 = 341."},
            "finish_reason": "stop"}], "system_fingerprint": "fp-test"});
        (200, body.to_string())
    });
    let args = [
        "compare",
        "What is 17 * 23?",
        "--seeds",
        "1,2",
        "--endpoint",
        &server,
    ];
    let report = common::json(&[&args[..], &["-f", "json"]].concat());
    let samples = report["model"]["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 6);
    assert!(samples.iter().all(|s| s["answer"] == "341"
        && s["correct"] == false
        && s["answer_probability"].is_null()));
    assert_eq!(report["model"]["model"], "fake");
    let text = common::stdout(&args);
    assert!(text.contains("p(answer)=not reported"), "{text}");
    assert!(
        text.contains("fluent wrong answers (hallucination): '341'")
            && !text.contains("its tokens given probability"),
        "{text}"
    );
    assert!(text.contains("samples from http://"), "{text}");

    // `probs` needs the alternatives this server does not give.
    let out = detprob()
        .args(["probs", "2+2=", "--endpoint", &server])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("reported no alternatives") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

#[test]
fn a_failed_request_keeps_the_rows_before_it_and_resume_continues() {
    // The first five requests get an answer, every later one a 500 (retried,
    // then given up): one request at a time, so the five are cells 1–5.
    let failing = fake_server(|n| {
        if n < 5 {
            let body = json!({"choices": [{"message": {"role": "assistant", "content": "42"},
                "finish_reason": "stop"}], "usage": {"completion_tokens": 1}});
            (200, body.to_string())
        } else {
            (500, json!({"error": {"message": "overloaded"}}).to_string())
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("rows.jsonl");
    let flags = ["--remote-model", "smollm2-135m", "--parallel", "1"];
    let out = sweep(
        &output,
        &[&["--endpoint", &failing][..], &flags[..]].concat(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cell 6 of 18 failed") && stderr.contains("--resume continues"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let kept = rows(&output);
    assert_eq!(kept.len(), 5);
    assert!(kept.iter().all(|r| r["text"] == "42"));
    // That server gave no logprobs: the row says so instead of a number.
    assert!(kept
        .iter()
        .all(|r| r["total_logprob"].is_null() && r["tokens"] == 1));
    // The cells in order: input 1 at T = 0 seeds 1–3, then T = 0.8 seeds 1–2.
    let cells: Vec<(f64, u64)> = kept
        .iter()
        .map(|r| {
            (
                r["temperature"].as_f64().unwrap(),
                r["seed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(cells, [(0.0, 1), (0.0, 2), (0.0, 3), (0.8, 1), (0.8, 2)]);
    // Resumed against a working server: the five rows stay, the other 13
    // are added, and nothing is repeated.
    let server = Server::start(&[], &[]);
    let out = sweep(
        &output,
        &[&["--endpoint", &server.base, "--resume"][..], &flags[..]].concat(),
    );
    common::assert_success(&out);
    let all = rows(&output);
    assert_eq!(all.len(), 18);
    assert_eq!(&all[..5], &kept[..]);
    assert!(all[5..].iter().all(|r| r["text"] != "42"));
    // A server down from the first request leaves no file behind.
    let empty = dir.path().join("none.jsonl");
    let down = fake_server(|_| (503, "{}".to_string()));
    let out = sweep(&empty, &[&["--endpoint", &down][..], &flags[..]].concat());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no rows were written"));
    assert!(!empty.exists());
}

#[test]
fn a_flaky_server_costs_retries_not_rows() {
    // Of every three requests one gets 429, one a dropped connection, one
    // an answer: each cell's retries reach an answer, every row is written
    // once, in order.
    let flaky = fake_server(|n| match n % 3 {
        0 => (429, json!({"error": {"message": "slow down"}}).to_string()),
        1 => (0, String::new()),
        _ => {
            let body = json!({"choices": [{"message": {"role": "assistant", "content": format!("answer {n}")},
                "finish_reason": "length"}]});
            (200, body.to_string())
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("rows.jsonl");
    // Four cells (each retry waits 0.5 s, then 1 s).
    let out = detprob()
        .args([
            "sweep",
            "23*19",
            "--temperatures",
            "0.8",
            "--seeds",
            "1..4",
            "-q",
            "-o",
        ])
        .arg(&output)
        .args([
            "--row-format",
            "jsonl",
            "--endpoint",
            &flaky,
            "--parallel",
            "1",
        ])
        .output()
        .unwrap();
    common::assert_success(&out);
    let rows = rows(&output);
    let answers: Vec<&str> = rows.iter().map(|r| r["text"].as_str().unwrap()).collect();
    assert_eq!(answers, ["answer 2", "answer 5", "answer 8", "answer 11"]);
    // The token limit cut every answer: a task's answer is then none, never
    // the number it was cut at.
    assert!(rows.iter().all(|r| r["stop_reason"] == "max_tokens"));
    assert!(rows
        .iter()
        .all(|r| r["answer"].is_null() && r["correct"] == false));
}

#[test]
fn remote_flags_that_cannot_work_are_refused_before_any_request() {
    // No server listens on port 9 (discard): a request would fail, but each
    // of these is refused before one is made.
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("x.csv");
    let output = output.to_str().unwrap();
    let base = [
        "sweep",
        "2+2",
        "-o",
        output,
        "--endpoint",
        "http://127.0.0.1:9",
    ];
    for (extra, needle) in [
        (&["-m", "smollm2-135m"][..], "--remote-model, not --model"),
        (&["--parallel", "0"][..], "--parallel must be from 1 to 256"),
        (
            &["--ignore-eos"][..],
            "--ignore-eos is not available with --endpoint",
        ),
        (
            &["--timeout", "0"][..],
            "--timeout must be at least 1 second",
        ),
        (
            &["--api-key-env", "DETPROB_NO_SUCH_VARIABLE"][..],
            "is not set",
        ),
    ] {
        assert_input_error(&[&base[..], extra].concat(), needle);
        assert!(!Path::new(output).exists(), "{extra:?} left a file");
    }
    assert_input_error(
        &[
            "probs",
            "2+2=",
            "--endpoint",
            "http://127.0.0.1:9",
            "--top-k",
            "5",
        ],
        "need the whole distribution",
    );
    assert_input_error(
        &["sweep", "2+2", "-o", output, "--endpoint", "ftp://x"],
        "not an http:// or https:// URL",
    );
    assert_input_error(
        &[
            "repeat",
            "2+2",
            "--endpoint",
            "http://127.0.0.1:9",
            "-m",
            "smollm2-135m",
        ],
        "--remote-model, not --model",
    );
}

#[test]
fn a_request_the_server_refuses_is_bad_input_in_every_command() {
    // An unknown model name: the server answers 404, which no retry mends.
    let refusing = fake_server(|_| {
        (
            404,
            json!({"error": {"message": "model 'nope' not found"}}).to_string(),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("rows.csv");
    let prompts = dir.path().join("prompts.txt");
    std::fs::write(&prompts, "Hi\n").unwrap();
    let (rows, prompts) = (rows.to_str().unwrap(), prompts.to_str().unwrap());
    for args in [
        &["generate", "Hi", "-n", "4"][..],
        &["compare", "2+2", "--seeds", "1"][..],
        &["repeat", "2+2", "--runs", "2"][..],
        &["probs", "2+2="][..],
        &["sweep", "2+2", "--seeds", "1", "-q", "-o", rows][..],
        &["score", "2+2=", "4"][..],
        &[
            "audit",
            "--runs",
            "2",
            "--concurrency",
            "1",
            "--prompts",
            prompts,
        ][..],
    ] {
        let out = detprob()
            .args(args)
            .args(["--endpoint", &refusing])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("refused the request (404): model 'nope' not found")
                && stderr.trim().lines().count() == 1,
            "{args:?}: {stderr}"
        );
    }
    assert!(!Path::new(rows).exists(), "a refused sweep left its file");
}

#[test]
fn score_reads_the_answers_tokens_from_a_server_that_scores_prompts() {
    // A server offering echo with logprobs scores "What is 17 + 25? 42"
    // (its fixed logprobs stand in for a model): the answer's tokens are
    // " 4" (rank 2 behind " 3") and "2"; the token it then generated is not
    // part of the answer. Its next-token answer after the question (the
    // second request) agrees with what it reported at " 4" — unless the
    // server is one that reports each token from the distribution after it.
    let server = |aligned: bool| {
        fake_server(move |n| {
            let body = if n % 2 == 0 {
                json!({"choices": [{"text": "What is 17 + 25? 42\n", "finish_reason": "length",
                    "logprobs": {
                        "tokens": ["What", " is", " 17", " +", " 25", "?", " 4", "2", "\n"],
                        "text_offset": [0, 4, 7, 10, 12, 15, 16, 18, 19],
                        "token_logprobs": [null, -1.0, -2.0, -0.5, -0.7, -0.1, -0.9, -0.25, -0.3],
                        "top_logprobs": [null, {" is": -1.0}, {" 17": -2.0}, {" +": -0.5}, {" 25": -0.7}, {"?": -0.1},
                                         {" 3": -0.6, " 4": -0.9}, {"2": -0.25, "4": -2.0}, {"\n": -0.3}]}}]})
            } else {
                let top = if aligned {
                    json!({" 3": -0.6, " 4": -0.9})
                } else {
                    json!({"2": -0.25})
                };
                json!({"choices": [{"text": " 3", "finish_reason": "length",
                    "logprobs": {"tokens": [" 3"], "token_logprobs": [-0.6], "top_logprobs": [top]}}]})
            };
            (200, body.to_string())
        })
    };
    let aligned = server(true);
    let report = common::json(&[
        "score",
        "What is 17 + 25?",
        "42",
        "--endpoint",
        &aligned,
        "-f",
        "json",
    ]);
    let tokens = report["tokens"].as_array().unwrap();
    let pieces: Vec<&str> = tokens
        .iter()
        .map(|t| t["piece"].as_str().unwrap())
        .collect();
    assert_eq!(pieces, ["␣4", "2"]);
    assert_eq!(tokens[0]["rank"], 2);
    assert_eq!(tokens[0]["top_piece"], "␣3");
    assert_eq!(tokens[1]["rank"], 1);
    assert!(tokens.iter().all(|t| t["token"].is_null()));
    assert!((report["logprob"].as_f64().unwrap() + 1.15).abs() < 1e-12);
    assert_eq!(report["greedy_would_write_it"], false);
    assert_eq!(report["reported"], 5);
    let text = common::stdout(&["score", "What is 17 + 25?", "42", "--endpoint", &aligned]);
    assert!(
        text.contains("ranks known within the 5 alternatives"),
        "{text}"
    );

    // Shifted by one token: refused in one line, no score shown.
    let shifted = server(false);
    let out = detprob()
        .args(["score", "What is 17 + 25?", "42", "--endpoint", &shifted])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("prompt logprobs are not aligned") && stderr.trim().lines().count() == 1,
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_slow_or_garbled_answer_is_retried_and_a_non_completion_is_one_line() {
    // The first answer comes after the timeout, the second is cut-off JSON,
    // the third is whole: the request is retried until it has it.
    let flaky = fake_server(|n| match n {
        0 => {
            std::thread::sleep(std::time::Duration::from_millis(2500));
            (200, json!({"choices": [{"text": "late"}]}).to_string())
        }
        1 => (200, "{\"choices\": [{\"text\": \"cut".to_string()),
        _ => (
            200,
            json!({"choices": [{"text": " fine", "finish_reason": "stop"}]}).to_string(),
        ),
    });
    let report = common::json(&[
        "generate",
        "Hi",
        "--raw",
        "-n",
        "4",
        "--endpoint",
        &flaky,
        "--timeout",
        "1",
        "-f",
        "json",
    ]);
    assert_eq!(report["text"], " fine");

    // Valid JSON that is no completion: no retry helps; one line, exit 1.
    let odd = fake_server(|_| (200, json!({"result": "ok"}).to_string()));
    let out = detprob()
        .args(["generate", "Hi", "--raw", "-n", "4", "--endpoint", &odd])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the server's answer is not a completion")
            && stderr.trim().lines().count() == 1,
        "{stderr}"
    );
}
