//! Repeatable experiments on the real model: record → replay is identical
//! across thread counts, a resumed sweep equals an uninterrupted one, a sweep
//! cell equals `generate`, tampered manifests are refused, and feeding a
//! prompt in one batch or token by token gives bitwise-identical logits.

mod common;

use std::fs;

use common::{assert_input_error, detprob, ids, json, json_with_env, resign_manifest};
use detprob::lm::{self, Engine};
use detprob::store::ModelChoice;

const SWEEP: &[&str] = &[
    "sweep",
    "What is 17 + 25?",
    "Is 1900 a leap year?",
    "--temperatures",
    "0,0.9",
    "--seeds",
    "1..3",
    "--max-tokens",
    "12",
    "-q",
];

fn sweep_to(path: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&str> = SWEEP.to_vec();
    args.extend(["--output", path.to_str().unwrap()]);
    args.extend(extra);
    detprob().args(&args).output().unwrap()
}

#[test]
fn a_recorded_generate_replays_identically_on_one_thread() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("run.json");
    let recorded = json_with_env(
        &[
            "generate",
            "-t",
            "1.0",
            "-s",
            "7",
            "-n",
            "24",
            "--ignore-eos",
            "-f",
            "json",
            "--record",
            manifest.to_str().unwrap(),
            "Tell me a short story.",
        ],
        &[("RAYON_NUM_THREADS", "2")],
    );
    let replay = json_with_env(
        &["replay", manifest.to_str().unwrap(), "-f", "json"],
        &[("RAYON_NUM_THREADS", "1")],
    );
    assert_eq!(replay["runs"], 1);
    assert_eq!(replay["tokens"], 24);
    assert_eq!(replay["recorded_threads"], 2);
    assert_eq!(replay["replay_threads"], 1);
    assert!(
        replay["differences"].as_array().unwrap().is_empty(),
        "{replay}"
    );
    let body: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(
        ids(&body["body"]["runs"][0]["tokens"]),
        ids(&recorded["completion"]["tokens"])
    );
    assert_eq!(body["body"]["model"]["sha256"].as_str().unwrap().len(), 64);
    // A FIFO or a device as the model file is refused at once, not hashed
    // forever (a FIFO's open waits for a writer; /dev/zero never ends).
    let fifo = dir.path().join("model.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for model in [fifo.to_str().unwrap(), "/dev/zero"] {
        let started = std::time::Instant::now();
        common::assert_input_error(
            &["replay", manifest.to_str().unwrap(), "--model-file", model],
            "not a regular file",
        );
        assert!(started.elapsed().as_secs() < 10, "{model}");
    }
}

#[test]
fn a_tampered_or_truncated_manifest_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("run.json");
    let path = manifest.to_str().unwrap();
    json(&[
        "generate", "-t", "0.8", "-s", "3", "-n", "6", "-f", "json", "--record", path, "Hi",
    ]);
    let text = fs::read_to_string(&manifest).unwrap();
    let tampered = dir.path().join("tampered.json");
    fs::write(&tampered, text.replacen("\"seed\": 3", "\"seed\": 4", 1)).unwrap();
    assert_input_error(
        &["replay", tampered.to_str().unwrap()],
        "modified after it was recorded",
    );
    let truncated = dir.path().join("truncated.json");
    fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    assert_input_error(&["replay", truncated.to_str().unwrap()], "truncated");
    assert_input_error(&["replay", "no-such-manifest.json"], "cannot read manifest");
}

#[test]
fn a_changed_token_is_reported_at_its_step() {
    // Re-sign a manifest whose recorded tokens were altered: the checksum
    // passes, so replay runs and must name the first differing step.
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("run.json");
    json(&[
        "generate",
        "-t",
        "0",
        "-n",
        "5",
        "--ignore-eos",
        "-f",
        "json",
        "--record",
        manifest.to_str().unwrap(),
        "Count: one, two,",
    ]);
    let mut original = 0;
    resign_manifest(&manifest, |body| {
        original = body["runs"][0]["tokens"][2].as_u64().unwrap();
        body["runs"][0]["tokens"][2] = (original + 1).into();
    });
    let out = detprob()
        .args(["replay", manifest.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("run 0 differs at step 2"), "{stderr}");
    assert!(stderr.contains(&format!("id {}", original + 1)), "{stderr}");
}

#[test]
fn a_resumed_sweep_writes_the_same_file_as_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["rows.csv", "rows.jsonl"] {
        let whole = dir.path().join(name);
        assert!(sweep_to(&whole, &[]).status.success());
        let bytes = fs::read(&whole).unwrap();
        let lines = bytes.iter().filter(|&&b| b == b'\n').count();
        assert!(lines >= 12, "{name}: {lines} lines");
        // An interruption in the middle of the seventh row.
        let cut = bytes
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .nth(6)
            .map(|(i, _)| i + 9)
            .unwrap();
        let resumed = dir.path().join(format!("resumed-{name}"));
        fs::write(&resumed, &bytes[..cut]).unwrap();
        let out = sweep_to(&resumed, &["--resume"]);
        common::assert_success(&out);
        assert!(String::from_utf8_lossy(&out.stdout).contains("kept from the interrupted run"));
        assert_eq!(fs::read(&resumed).unwrap(), bytes, "{name}");
    }
}

#[test]
fn a_sweep_refuses_to_overwrite_or_to_resume_another_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.csv");
    fs::write(&path, "not a sweep\n").unwrap();
    let p = path.to_str().unwrap();
    assert_input_error(&["sweep", "What is 1 + 1?", "-o", p], "already exists");
    assert_input_error(&["sweep", "What is 1 + 1?", "-o", p, "--resume"], "header");
    // A user's one-line file (no newline at all) is refused, not cut to
    // nothing and rewritten.
    for (name, text) in [("one.json", "{\"a\": 1}"), ("one.csv", "a,b,c")] {
        let one = dir.path().join(name);
        fs::write(&one, text).unwrap();
        let one_path = one.to_str().unwrap();
        assert_input_error(
            &["sweep", "What is 1 + 1?", "-o", one_path, "--resume"],
            "does not look like a detprob sweep",
        );
        assert_eq!(fs::read_to_string(&one).unwrap(), text);
    }
    let fresh = dir.path().join("fresh.csv");
    assert_input_error(
        &[
            "sweep",
            "What is 1 + 1?",
            "--top-p",
            "0.9,2",
            "-o",
            fresh.to_str().unwrap(),
        ],
        "top-p",
    );
    assert!(
        !fresh.exists(),
        "a rejected sweep must not create its output"
    );
    // Refused before the run, so nothing is made: a --record path in a
    // missing directory, a prompt longer than the model's context.
    let fresh_path = fresh.to_str().unwrap();
    let record = ["--record", "/nonexistent-dir/m.json"];
    assert_input_error(
        &[&["sweep", "2+2", "-o", fresh_path][..], &record[..]].concat(),
        "--record /nonexistent-dir/m.json: cannot write in /nonexistent-dir",
    );
    assert!(!fresh.exists(), "refused for --record, yet made its output");
    let long = "1+".repeat(20_000) + "1";
    assert_input_error(
        &["sweep", &long, "--seeds", "1", "-o", fresh_path],
        "an input to compare is at most 1000 characters",
    );
    // A free prompt longer than the context is refused for its tokens.
    assert_input_error(
        &["sweep", "--prompt", &long, "--seeds", "1", "-o", fresh_path],
        "but the model's context holds",
    );
    assert!(
        !fresh.exists(),
        "refused for its prompt, yet made its output"
    );
    assert_input_error(
        &["sweep", "2+2", "-o", "/nonexistent-dir/rows.csv"],
        "--output /nonexistent-dir/rows.csv: cannot write in",
    );
}

#[test]
fn a_sweep_cell_equals_generate_with_the_same_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.jsonl");
    let prompt = "Write one sentence about rivers.";
    let out = detprob()
        .args([
            "sweep",
            "--prompt",
            prompt,
            "--temperatures",
            "0.8,1.1",
            "--seeds",
            "4,5",
            "--top-k",
            "40",
            "--max-tokens",
            "10",
            "--ignore-eos",
            "-q",
            "-o",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    common::assert_success(&out);
    let rows: Vec<serde_json::Value> = fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    let row = &rows[3];
    assert_eq!(
        (row["temperature"].as_f64(), row["seed"].as_u64()),
        (Some(1.1), Some(5))
    );
    let generated = json(&[
        "generate",
        "-t",
        "1.1",
        "-s",
        "5",
        "--top-k",
        "40",
        "-n",
        "10",
        "--ignore-eos",
        "-f",
        "json",
        prompt,
    ]);
    let want: Vec<String> = ids(&generated["completion"]["tokens"])
        .iter()
        .map(u64::to_string)
        .collect();
    assert_eq!(row["token_ids"].as_str().unwrap(), want.join(" "));
}

#[test]
fn repeat_counts_one_output_for_the_rule_and_for_a_fixed_seed() {
    let report = json(&[
        "repeat",
        "What is 6 × 7?",
        "--runs",
        "4",
        "--temperatures",
        "0,1.0",
        "--max-tokens",
        "8",
        "-f",
        "json",
    ]);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "rule, T=0, T=1 fixed, T=1 fresh seeds");
    assert_eq!(
        (rows[0]["side"].as_str(), rows[0]["distinct"].as_u64()),
        (Some("rule"), Some(1))
    );
    assert_eq!(rows[0]["most_common"], "42");
    assert_eq!(rows[1]["distinct"], 1, "greedy");
    assert_eq!(rows[2]["fixed_seed"], true);
    assert_eq!(rows[2]["distinct"], 1, "a fixed seed repeats");
    let fresh: Vec<u64> = ids(&rows[3]["seeds"]);
    assert_eq!(fresh.len(), 4);
    assert!(fresh.iter().any(|&s| s != fresh[0]), "fresh seeds differ");
}

#[test]
fn one_batch_or_token_by_token_gives_bitwise_identical_logits() {
    for alias in ["smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b"] {
        let choice = ModelChoice::resolve(Some(alias), None, None).unwrap();
        let mut loaded = lm::load(&choice, Engine::Detprob).unwrap();
        let ids = loaded
            .tokenizer
            .encode_prompt("The quick brown fox jumps over the lazy dog.");
        let batched = loaded.model.forward(&ids, 0).unwrap();
        let mut single = Vec::new();
        for (position, &id) in ids.iter().enumerate() {
            single = loaded.model.forward(&[id], position).unwrap();
        }
        assert!(
            batched
                .iter()
                .zip(&single)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{alias}: prefill chunking changed the logits"
        );
        // Split in two chunks, too.
        let half = ids.len() / 2;
        loaded.model.forward(&ids[..half], 0).unwrap();
        let chunked = loaded.model.forward(&ids[half..], half).unwrap();
        assert_eq!(chunked, batched, "{alias}");

        // A prompt past Gemma's 512-token sliding window and many attention
        // blocks: whole, in uneven chunks, and with a token-by-token tail.
        let long = loaded
            .tokenizer
            .encode_prompt(&"The quick brown fox jumps over the lazy dog, then naps. ".repeat(42));
        assert!(long.len() > 520, "{}", long.len());
        let whole = loaded.model.forward(&long, 0).unwrap();
        let mut at = 0;
        let mut pieces = Vec::new();
        for size in [256, 200, 7] {
            pieces = loaded.model.forward(&long[at..at + size], at).unwrap();
            at += size;
        }
        let tail_start = long.len() - 5;
        pieces = loaded
            .model
            .forward(&long[at..tail_start], at)
            .map_or(pieces, |l| l);
        for (position, &id) in long.iter().enumerate().skip(tail_start) {
            pieces = loaded.model.forward(&[id], position).unwrap();
        }
        assert!(
            whole
                .iter()
                .zip(&pieces)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{alias}: a long prompt's logits depend on how it was fed"
        );
    }
}

#[test]
fn a_prompt_continued_from_a_prefilled_opening_gives_the_same_bits() {
    use detprob::generation::{GenerationSettings, Prefilled};
    use detprob::sampler::Sampling;
    for alias in ["smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b"] {
        let choice = ModelChoice::resolve(Some(alias), None, None).unwrap();
        let mut loaded = lm::load(&choice, Engine::Detprob).unwrap();
        let text = loaded
            .prompt_format
            .prepare("What is the capital of Peru?", false);
        let ids = loaded.tokenizer.encode_prompt(&text);
        let opening = Prefilled::new(&mut loaded, &ids[..ids.len() / 2]).unwrap();
        let continued = opening.extend(&mut loaded, &ids).unwrap();
        let whole = Prefilled::new(&mut loaded, &ids).unwrap();
        assert_eq!(continued.logits(), whole.logits(), "{alias}");
        let settings = GenerationSettings {
            sampling: Sampling::from_settings(0.8, None, None, None).unwrap(),
            seed: 4,
            max_tokens: 12,
            ignore_eos: true,
            alternatives: 0,
            stop_at_newline: false,
        };
        assert_eq!(
            continued.complete(&loaded, &settings).unwrap().tokens,
            whole.complete(&loaded, &settings).unwrap().tokens
        );
    }
}

#[test]
fn a_fork_rewritten_from_an_earlier_position_leaves_its_parent_alone() {
    let choice = ModelChoice::resolve(Some("smollm2-135m"), None, None).unwrap();
    let loaded = lm::load(&choice, Engine::Detprob).unwrap();
    // Long enough that the forks share full chunks of the KV cache and the
    // rewrite lands inside one of them.
    let ids = loaded
        .tokenizer
        .encode_prompt(&"The quick brown fox jumps over the lazy dog. ".repeat(5));
    assert!(ids.len() > 40, "{}", ids.len());
    let next = ids[3];
    let expected = {
        let mut alone = loaded.model.fork();
        alone.forward(&ids, 0).unwrap();
        alone.forward(&[next], ids.len()).unwrap()
    };
    let mut parent = loaded.model.fork();
    parent.forward(&ids, 0).unwrap();
    let mut fork = parent.fork();
    let rewritten = fork.forward(&ids[20..30], 5).unwrap();
    assert_ne!(rewritten, expected);
    fork.forward(&[next], 15).unwrap();
    assert_eq!(parent.forward(&[next], ids.len()).unwrap(), expected);
    // A position past the cached ones would leave a gap: refused.
    let gap = parent.forward(&[next], ids.len() + 3);
    assert!(gap.is_err(), "a gap in the sequence was accepted");
}
