//! Helpers shared by the integration tests: run the real binary, read its
//! JSON, and check that bad input is a one-line error with exit code 2.
#![allow(dead_code)] // each test file uses its own subset

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::TcpListener;
use std::process::{Child, Command as Process, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

/// The `detprob` binary under test, its run log off (the suite's runs do
/// not go into the user's log; the log's own tests turn it on).
pub fn detprob() -> Command {
    let mut command = Command::cargo_bin("detprob").unwrap();
    command.env("DETPROB_LOG", "off");
    command
}

/// Asserts that a run succeeded, showing its stderr if not.
pub fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs detprob with `args` and `envs` and asserts success (showing the
/// arguments and stderr if not).
pub fn run_ok(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
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
    out
}

/// Runs detprob with `args` and `envs`, asserts success, and parses stdout as JSON.
pub fn json_with_env(args: &[&str], envs: &[(&str, &str)]) -> Value {
    serde_json::from_slice(&run_ok(args, envs).stdout).unwrap()
}

/// Runs detprob with `args`, asserts success, and parses stdout as JSON.
pub fn json(args: &[&str]) -> Value {
    json_with_env(args, &[])
}

/// Runs detprob with `args` in English, asserts success, and returns stdout.
pub fn stdout(args: &[&str]) -> String {
    let args = [args, &["--lang", "en"][..]].concat();
    String::from_utf8(run_ok(&args, &[]).stdout).unwrap()
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

/// A running `detprob serve`, stopped when dropped.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Server {
    pub fn start(extra: &[&str], envs: &[(&str, &str)]) -> Self {
        let binary = assert_cmd::cargo::cargo_bin("detprob");
        let mut command = Process::new(binary);
        command
            .args([
                "serve",
                "--port",
                "0",
                "--model",
                "smollm2-135m",
                "--lang",
                "en",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("DETPROB_LOG", "off");
        for (k, v) in envs {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("detprob starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let mut reader = BufReader::new(stdout);
            let _ = reader.read_line(&mut first);
            let _ = tx.send(first);
            // Keep reading so the server never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let first = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_default();
        if !first.starts_with("http://127.0.0.1:") {
            let _ = child.kill();
            let mut stderr = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
            panic!("the server did not start: {first:?} {stderr}");
        }
        let base = first.trim().trim_end_matches('/').to_string();
        Self { child, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs `body` (raw bytes) and returns the status and the parsed JSON.
    pub fn post_raw(&self, path: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, Value) {
        let mut request = ureq::post(&self.url(path)).timeout(Duration::from_secs(120));
        for (k, v) in headers {
            request = request.set(k, v);
        }
        let response = match request.send_bytes(body) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{path}: {e}"),
        };
        let status = response.status();
        let text = response.into_string().unwrap();
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{path} ({status}) is not JSON: {text:?}"));
        (status, value)
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, body.to_string().as_bytes(), &[])
    }

    pub fn ok(&self, path: &str, body: &Value) -> Value {
        let (status, value) = self.post(path, body);
        assert_eq!(status, 200, "{path} {body}: {value}");
        value
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        match ureq::get(&self.url(path))
            .timeout(Duration::from_secs(60))
            .call()
        {
            Ok(r) => (r.status(), r.into_string().unwrap()),
            Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap()),
            Err(e) => panic!("{path}: {e}"),
        }
    }

    /// The data lines of a streamed POST, in order, up to `[DONE]` (excluded).
    pub fn stream(&self, path: &str, body: &Value) -> Vec<Value> {
        let response = ureq::post(&self.url(path))
            .timeout(Duration::from_secs(120))
            .send_json(body.clone())
            .unwrap();
        assert_eq!(response.header("content-type"), Some("text/event-stream"));
        let mut events = Vec::new();
        for line in BufReader::new(response.into_reader()).lines() {
            let line = line.unwrap();
            let Some(data) = line.strip_prefix("data: ") else {
                continue;
            };
            if data == "[DONE]" {
                return events;
            }
            events.push(serde_json::from_str(data).unwrap());
        }
        panic!("the stream ended without [DONE]: {events:?}");
    }

    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none() && self.get("/v1/models").0 == 200
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fake OpenAI-style server: `answer(n)` gives the n-th POST's status and
/// body (status 0: the connection is dropped without an answer).
pub fn fake_server(answer: impl Fn(usize) -> (u16, String) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (count, answer) = (count.clone(), answer.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    return;
                }
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let (status, text) = if first.starts_with("GET /v1/models") {
                    (
                        200,
                        serde_json::json!({"object": "list", "data": [{"id": "fake"}]}).to_string(),
                    )
                } else {
                    answer(count.fetch_add(1, Ordering::SeqCst))
                };
                if status == 0 {
                    // A dropped connection: no answer at all.
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    return;
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            });
        }
    });
    format!("http://{address}")
}
