//! Helpers shared by the integration tests: run the real binary, read its
//! JSON, and check that bad input is a one-line error with exit code 2.
#![allow(dead_code)] // each test file uses its own subset

use std::ffi::OsStr;
use std::io::Write as _;

use assert_cmd::Command;
use serde_json::Value;

/// The `detprob` binary under test, its run log off (the suite's runs do
/// not go into the user's log; the log's own tests turn it on).
pub fn detprob() -> Command {
    let mut command = Command::cargo_bin("detprob").unwrap();
    command.env("DETPROB_LOG", "off");
    command
}

/// Runs detprob with `args` and `envs`, asserts success, and parses stdout as JSON.
pub fn json_with_env(args: &[&str], envs: &[(&str, &str)]) -> Value {
    let mut cmd = detprob();
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs detprob with `args`, asserts success, and parses stdout as JSON.
pub fn json(args: &[&str]) -> Value {
    json_with_env(args, &[])
}

/// A JSON array of whole numbers.
pub fn ids(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

/// Asserts the run failed with exit code 2 and exactly one `error: …` line
/// on stderr that contains `needle`, without a panic.
pub fn assert_input_error_env(args: &[&str], envs: &[(&str, &OsStr)], needle: &str) {
    let mut cmd = detprob();
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "args {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "not one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
}

/// [`assert_input_error_env`] with the inherited environment.
pub fn assert_input_error(args: &[&str], needle: &str) {
    assert_input_error_env(args, &[], needle);
}

/// Edits the body of the manifest at `path` with `edit`, then signs it again
/// (a new checksum), as someone tampering with it on purpose would.
pub fn resign_manifest(path: &std::path::Path, edit: impl FnOnce(&mut Value)) {
    use sha2::Digest;
    let envelope: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut body = envelope["body"].clone();
    edit(&mut body);
    let body_text = serde_json::to_string_pretty(&body).unwrap();
    let checksum: String = sha2::Sha256::digest(body_text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(
        path,
        format!("{{\"checksum\": \"{checksum}\", \"body\": {body_text}}}"),
    )
    .unwrap();
}

/// Where model `alias`'s cached file is (fetched first if needed).
pub fn cached_model_path(alias: &str) -> std::path::PathBuf {
    let out = detprob().args(["model", "path", alias]).output().unwrap();
    assert!(out.status.success());
    std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Whether the program `tool` runs (`tool -V`). A missing tool fails the
/// test under CI (`.ci/run` installs it); elsewhere the test is skipped
/// visibly: the line goes straight to the terminal, past the test
/// harness's capture.
pub fn has_tool(tool: &str) -> bool {
    if std::process::Command::new(tool).arg("-V").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{tool} is required under CI (.ci/run installs it)"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED: {tool} is not installed");
    false
}
