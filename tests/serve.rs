//! `detprob serve` on the real SmolLM2, started on 127.0.0.1 with an
//! ephemeral port: the OpenAI-style API against the command line's own
//! sampling, a seed's output alone and among 31 concurrent requests (on one
//! and two threads), streaming against whole answers, the classroom's
//! endpoints and pages, access with an API key, and a corpus of bad requests
//! that must each get a 4xx JSON error while the server stays up.

mod common;

use std::process::Command;

use common::Server;
use serde_json::{json, Value};

fn text(response: &Value, choice: usize) -> String {
    let c = &response["choices"][choice];
    c["text"]
        .as_str()
        .or(c["message"]["content"].as_str())
        .unwrap()
        .to_string()
}

/// A request of the reproducibility tests: sampled, seeded, long enough to diverge.
fn seeded(seed: u64) -> Value {
    json!({"model": "smollm2-135m", "prompt": "Once upon a time", "max_tokens": 24,
           "temperature": 0.9, "top_p": 0.95, "seed": seed})
}

/// `body` to `path` from 32 threads at once (`seeds` vary the rest), the
/// probe's text among them returned with every other answer's status.
fn crowd(server: &Server, probe: Value) -> String {
    std::thread::scope(|scope| {
        let others: Vec<_> = (0..31u64)
            .map(|i| scope.spawn(move || server.post("/v1/completions", &seeded(1000 + i)).0))
            .collect();
        let mine = scope.spawn(|| server.ok("/v1/completions", &probe));
        let statuses: Vec<u16> = others.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
        text(&mine.join().unwrap(), 0)
    })
}

#[test]
fn the_api_samples_what_the_command_line_samples_and_a_seed_does_not_depend_on_load_or_threads() {
    let mut two = Server::start(&[], &[]);
    // The API's sampler is the command line's: same prompt, settings, seed.
    let response = two.ok("/v1/completions", &seeded(42));
    let alone = text(&response, 0);
    let cli = common::json(&[
        "generate",
        "--model",
        "smollm2-135m",
        "--raw",
        "--temperature",
        "0.9",
        "--top-p",
        "0.95",
        "--seed",
        "42",
        "--max-tokens",
        "24",
        "--format",
        "json",
        "Once upon a time",
    ]);
    assert_eq!(alone, cli["completion"]["text"].as_str().unwrap());
    assert_eq!(
        response["usage"]["completion_tokens"],
        json!(cli["completion"]["tokens"].as_array().unwrap().len())
    );
    assert_eq!(response["choices"][0]["seed"], json!(42));
    assert!(response["system_fingerprint"]
        .as_str()
        .unwrap()
        .contains("b179c9523d0e6a0f"));

    // Among 31 other requests at once: the same text.
    assert_eq!(crowd(&two, seeded(42)), alone);
    // n choices: choice i is seed + i, each equal to a request of its own.
    let three = two.ok("/v1/completions", &{
        let mut b = seeded(41);
        b["n"] = json!(3);
        b
    });
    assert_eq!(text(&three, 1), alone);
    assert_eq!(three["choices"][2]["seed"], json!(43));
    // Streamed, the pieces join to the same text.
    let mut body = seeded(42);
    body["stream"] = json!(true);
    let streamed: String = two
        .stream("/v1/completions", &body)
        .iter()
        .filter_map(|e| e["choices"][0]["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(streamed, alone);
    assert!(two.alive());

    // One thread: the same text alone and in a crowd.
    let one = Server::start(&[], &[("RAYON_NUM_THREADS", "1")]);
    assert_eq!(text(&one.ok("/v1/completions", &seeded(42)), 0), alone);
    assert_eq!(crowd(&one, seeded(42)), alone);
}

#[test]
fn chat_logprobs_stop_strings_and_the_classroom() {
    let mut server = Server::start(&["--question", "What is 17 * 23?"], &[]);
    // Chat: greedy is repeatable; logprobs give the alternatives asked for,
    // the chosen token's logprob among them when it is the most likely.
    let chat = json!({"messages": [{"role": "system", "content": "Answer briefly."},
                                   {"role": "user", "content": "What is the capital of France?"}],
                      "temperature": 0, "max_tokens": 12, "logprobs": true, "top_logprobs": 3});
    let first = server.ok("/v1/chat/completions", &chat);
    let again = server.ok("/v1/chat/completions", &chat);
    assert_eq!(text(&first, 0), text(&again, 0));
    assert_eq!(first["object"], "chat.completion");
    let content = first["choices"][0]["logprobs"]["content"]
        .as_array()
        .unwrap();
    assert_eq!(
        content.len(),
        first["usage"]["completion_tokens"].as_u64().unwrap() as usize
    );
    for entry in content {
        let top = entry["top_logprobs"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        // Greedy: the chosen token is the most likely one.
        assert_eq!(entry["token"], top[0]["token"]);
        assert!(entry["logprob"].as_f64().unwrap() <= 0.0);
    }
    // A stop string (here the text of the greedy answer's fifth token) ends
    // the text before it, and the finish reason is "stop".
    let whole = text(&first, 0);
    let stop = content[4]["token"].as_str().unwrap().to_string();
    let mut stopped = chat.clone();
    stopped["stop"] = json!([stop]);
    let cut = server.ok("/v1/chat/completions", &stopped);
    assert_eq!(text(&cut, 0), whole[..whole.find(&stop).unwrap()]);
    assert_eq!(cut["choices"][0]["finish_reason"], "stop");
    // Streamed, the stop string is never sent, not even in part.
    stopped["stream"] = json!(true);
    let pieces: String = server
        .stream("/v1/chat/completions", &stopped)
        .iter()
        .filter_map(|e| {
            e["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(pieces, text(&cut, 0));

    // The classroom: the rule's one answer, samples counted by answer.
    let (status, state) = server.get("/class/state");
    assert_eq!(status, 200);
    let state: Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["rule"]["answer"], "391");
    let mut answers = Vec::new();
    for seed in 1..=4u64 {
        let response = ureq::post(&server.url("/class/sample"))
            .send_json(json!({"temperature": 0.7, "seed": seed}))
            .unwrap();
        let body = response.into_string().unwrap();
        let last = body
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .next_back()
            .unwrap();
        let event: Value = serde_json::from_str(last).unwrap();
        answers.push(event["sample"]["answer"].clone());
        assert_eq!(event["sample"]["seed"], json!(seed));
        // The text streamed is the sample's text.
        let streamed: String = body
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| {
                serde_json::from_str::<Value>(d).ok()?["text"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        assert_eq!(streamed.trim(), event["sample"]["text"]);
    }
    let state: Value = serde_json::from_str(&server.get("/class/state").1).unwrap();
    assert_eq!(state["total"], 4);
    let counted: u64 = state["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 4);
    for answer in &answers {
        let entry = state["answers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| &a["answer"] == answer)
            .unwrap();
        assert_eq!(entry["rule"], json!(answer == "391"));
    }
    // Next-token bars: probabilities of a distribution, most likely first.
    let next: Value = serde_json::from_str(&server.get("/class/next?temperature=0.7").1).unwrap();
    let p: Vec<f64> = next["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["probability"].as_f64().unwrap())
        .collect();
    assert!(
        p.windows(2).all(|w| w[0] >= w[1]) && p.iter().sum::<f64>() <= 1.0 + 1e-9,
        "{p:?}"
    );
    let greedy: Value = serde_json::from_str(&server.get("/class/next?temperature=0").1).unwrap();
    assert_eq!(greedy["tokens"][0]["probability"], json!(1.0));

    // A question with markup is data: the pages never carry it, the state does.
    let hostile = "<script>alert(1)</script> What is 2 + 2?";
    let state = server.ok("/class/question", &json!({"question": hostile}));
    assert_eq!(state["question"], hostile);
    assert_eq!(state["total"], 0);
    for page in ["/", "/join", "/?lang=zh"] {
        let (status, html) = server.get(page);
        assert_eq!(status, 200);
        assert!(!html.contains("alert(1)"), "{page}");
        assert!(html.contains("/class.js"));
    }
    let (_, zh) = server.get("/?lang=zh");
    assert!(zh.contains("全班的答案"));
    let (status, script) = server.get("/class.js");
    assert_eq!(status, 200);
    assert!(
        !script.contains("innerHTML"),
        "model and user text must go in as text"
    );
    assert!(server.alive());
}

#[test]
fn an_api_key_is_required_when_given_and_a_full_client_is_told_to_wait() {
    let server = Server::start(&["--api-key", "sesame"], &[]);
    let body = json!({"prompt": "Hi", "max_tokens": 2});
    let (status, error) = server.post("/v1/completions", &body);
    assert_eq!(status, 401);
    assert_eq!(error["error"]["code"], "invalid_api_key");
    let (status, _) = server.post_raw(
        "/v1/completions",
        body.to_string().as_bytes(),
        &[("Authorization", "Bearer sesame")],
    );
    assert_eq!(status, 200);
    // The teacher's endpoints need the key too, even from this machine.
    assert_eq!(
        server
            .post("/class/question", &json!({"question": "2+2?"}))
            .0,
        403
    );
    assert_eq!(
        server
            .post_raw(
                "/class/question",
                br#"{"question":"What is 2+2?"}"#,
                &[("Authorization", "Bearer sesame")]
            )
            .0,
        200
    );
    assert_eq!(
        server.post("/class/sample", &json!({"temperature": 0.5})).0,
        401
    );
    assert_eq!(
        server
            .post(
                "/class/sample",
                &json!({"temperature": 0.5, "code": "wrong"})
            )
            .0,
        401
    );
}

/// Request bodies the API must refuse with a 4xx JSON error object.
fn bad_requests() -> Vec<(&'static str, Vec<u8>)> {
    let c = "/v1/completions";
    let chat = "/v1/chat/completions";
    let mut bad: Vec<(&str, Vec<u8>)> = Vec::new();
    let raw = |s: &str| s.as_bytes().to_vec();
    for body in [
        "",
        "{",
        "}",
        "[]",
        "null",
        "42",
        "\"text\"",
        "{\"prompt\":}",
        "{'prompt':'x'}",
        "\u{0}",
        "{\"prompt\":\"x\",}",
        "{\"prompt\":\"x\"",
        "not json at all",
    ] {
        bad.push((c, raw(body)));
        bad.push((chat, raw(body)));
    }
    bad.push((c, vec![0xff, 0xfe, 0x00, 0x7b]));
    let completion_fields = [
        json!({}),
        json!({"prompt": ""}),
        json!({"prompt": 5}),
        json!({"prompt": ["a", "b"]}),
        json!({"prompt": [1, 2, 3]}),
        json!({"prompt": null}),
        json!({"prompt": "x", "model": "gpt-4"}),
        json!({"prompt": "x", "model": 7}),
        json!({"prompt": "x", "temperature": -0.1}),
        json!({"prompt": "x", "temperature": 2.01}),
        json!({"prompt": "x", "temperature": "warm"}),
        json!({"prompt": "x", "temperature": [1]}),
        json!({"prompt": "x", "top_p": 0}),
        json!({"prompt": "x", "top_p": 1.5}),
        json!({"prompt": "x", "top_p": -1}),
        json!({"prompt": "x", "top_k": -2}),
        json!({"prompt": "x", "top_k": 1.5}),
        json!({"prompt": "x", "top_k": "ten"}),
        json!({"prompt": "x", "min_p": -0.5}),
        json!({"prompt": "x", "min_p": 2}),
        json!({"prompt": "x", "seed": -1}),
        json!({"prompt": "x", "seed": 1.5}),
        json!({"prompt": "x", "seed": "one"}),
        json!({"prompt": "x", "seed": 1e30}),
        json!({"prompt": "x", "max_tokens": 0}),
        json!({"prompt": "x", "max_tokens": -5}),
        json!({"prompt": "x", "max_tokens": 1_000_000}),
        json!({"prompt": "x", "max_tokens": "many"}),
        json!({"prompt": "x", "n": 0}),
        json!({"prompt": "x", "n": 1000}),
        json!({"prompt": "x", "n": -1}),
        json!({"prompt": "x", "stop": 5}),
        json!({"prompt": "x", "stop": [""]}),
        json!({"prompt": "x", "stop": ["a", "b", "c", "d", "e"]}),
        json!({"prompt": "x", "stop": ["x".repeat(300)]}),
        json!({"prompt": "x", "logprobs": 21}),
        json!({"prompt": "x", "logprobs": -1}),
        json!({"prompt": "x", "logprobs": "yes"}),
        json!({"prompt": "x", "stream": "yes"}),
        json!({"prompt": "x", "echo": true}),
        json!({"prompt": "x", "suffix": "end"}),
        json!({"prompt": "x", "best_of": 3}),
        json!({"prompt": "x", "frequency_penalty": 0.5}),
        json!({"prompt": "x", "presence_penalty": 0.5}),
        json!({"prompt": "x", "logit_bias": {"50256": -100}}),
        json!({"prompt": "x", "stream_options": 3}),
        json!({"messages": [{"role": "user", "content": "x"}]}),
        json!({"prompt": "x".repeat(60_000)}),
    ];
    for body in completion_fields {
        bad.push((c, body.to_string().into_bytes()));
    }
    let chat_fields = [
        json!({}),
        json!({"messages": []}),
        json!({"messages": "hi"}),
        json!({"messages": [{"content": "x"}]}),
        json!({"messages": [{"role": "tool", "content": "x"}]}),
        json!({"messages": [{"role": "user", "content": 5}]}),
        json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}),
        json!({"messages": [{"role": "user", "content": "x"}, {"role": "system", "content": "late"}]}),
        json!({"messages": [{"role": "user", "content": "x"}], "logprobs": 5}),
        json!({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 3}),
        json!({"messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 50}),
        json!({"messages": [{"role": "user", "content": "x"}], "temperature": 3}),
        json!({"messages": [{"role": "user", "content": "x"}], "model": "llama-70b"}),
        json!({"messages": [{"role": "user", "content": "x"}], "n": 17}),
        json!({"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 0}),
        json!({"messages": [{"role": "user", "content": "x"}], "presence_penalty": 2}),
        json!({"messages": [{"role": "user", "content": "x"}], "seed": "abc"}),
        json!({"prompt": "x"}),
        json!({"messages": [{"role": "user", "content": "x".repeat(40_000)}, {"role": "user", "content": "y".repeat(30_000)}]}),
    ];
    for body in chat_fields {
        bad.push((chat, body.to_string().into_bytes()));
    }
    for body in [
        json!({}),
        json!({"temperature": "hot"}),
        json!({"temperature": -1}),
        json!({"temperature": 5}),
        json!({"temperature": 0.5, "seed": -3}),
        json!({"temperature": 0.5, "question": "my own"}),
    ] {
        bad.push(("/class/sample", body.to_string().into_bytes()));
    }
    for body in [
        json!({}),
        json!({"question": ""}),
        json!({"question": 5}),
        json!({"question": "q".repeat(501)}),
    ] {
        bad.push(("/class/question", body.to_string().into_bytes()));
    }
    bad.push(("/v1/nothing", raw("{}")));
    bad.push(("/v1/models", raw("{}")));
    bad
}

#[test]
fn over_a_hundred_bad_requests_each_get_a_4xx_json_error_and_the_server_stays_up() {
    let mut server = Server::start(&[], &[]);
    let bad = bad_requests();
    assert!(bad.len() >= 100, "{} bad requests", bad.len());
    for (path, body) in &bad {
        let (status, value) = server.post_raw(path, body, &[("Content-Type", "application/json")]);
        let shown = String::from_utf8_lossy(&body[..body.len().min(80)]).to_string();
        assert!(
            (400..500).contains(&status),
            "{path} {shown}: {status} {value}"
        );
        let message = value["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{path} {shown}: {value}"));
        assert!(!message.is_empty() && !message.contains('\n'), "{message}");
        assert!(value["error"]["type"].is_string());
    }
    // Bad query strings too.
    for query in [
        "/class/next",
        "/class/next?temperature=x",
        "/class/next?temperature=-1",
        "/class/next?temperature=9",
    ] {
        let (status, body) = server.get(query);
        assert!((400..500).contains(&status), "{query}: {status}");
        let _: Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{query}: not JSON: {body}"));
    }
    assert!(server.alive());
}

/// A venv with the official `openai` client and a DevTools-protocol client
/// for the browser test (created once, then reused).
fn client_venv() -> std::path::PathBuf {
    static VENV: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = VENV.lock().unwrap_or_else(|p| p.into_inner());
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "clients-openai-{OPENAI_VERSION}-websocket-{WEBSOCKET_VERSION}"
    ));
    let python = venv.join("bin").join("python");
    let ready = venv.join("ready");
    if ready.exists() {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let run = |command: &mut Command| {
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg(format!("openai=={OPENAI_VERSION}"))
        .arg(format!("websocket-client=={WEBSOCKET_VERSION}")));
    std::fs::write(&ready, OPENAI_VERSION).unwrap();
    python
}

/// The client versions the tests pin.
const OPENAI_VERSION: &str = "3.63.0";
const WEBSOCKET_VERSION: &str = "1.8.0";

#[test]
fn the_official_openai_client_gets_openai_shaped_answers_and_the_same_text_for_a_seed_under_load() {
    if !common::has_tool("python3") {
        return;
    }
    let python = client_venv();
    let server = Server::start(&[], &[]);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/openai_client.py"
    );
    let out = Command::new(python)
        .arg(script)
        .arg(&server.base)
        .arg("smollm2-135m")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.trim_end().ends_with("ok"), "{stdout}");
}

#[test]
fn the_tour_handout_fits_a_browser_at_1280_and_800_pixels() {
    if !common::has_tool("python3") || !common::has_tool("chromium") {
        return;
    }
    let python = client_venv();
    let dir = tempfile::tempdir().unwrap();
    let handout = dir.path().join("handout.html");
    // A comparison table and a chart with a legend and a chance line, in
    // Chinese (the page must ask for a CJK font).
    let out = common::detprob()
        .args(["tour", "--only", "1,19", "--lang", "zh", "-f", "html"])
        .output()
        .unwrap();
    common::assert_success(&out);
    std::fs::write(&handout, &out.stdout).unwrap();
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains("Noto Sans CJK SC"), "no CJK font asked for");
    assert!(
        page.contains("<h2>19/22 · 误区1：涌现能力线性增长</h2>"),
        "{page}"
    );
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("handout-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/clients/handout.py"
        ))
        .arg("chromium")
        .arg(&handout)
        .arg(&shots)
        .args(["1280", "800"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for width in [1280, 800] {
        let png = std::fs::read(shots.join(format!("handout-{width}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    }
}

#[test]
fn in_a_real_browser_the_slider_the_buttons_the_stream_and_the_histogram_work() {
    if !common::has_tool("python3") || !common::has_tool("chromium") {
        return;
    }
    let python = client_venv();
    let server = Server::start(&["--question", "What is 17 * 23?"], &[]);
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/browser.py");
    let out = Command::new(python)
        .arg(script)
        .arg("chromium")
        .arg(&server.base)
        .arg(&shots)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.trim_end().ends_with("ok"), "{stdout}");
    for shot in ["projector.png", "student.png"] {
        let png = std::fs::read(shots.join(shot)).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{shot}: {} bytes",
            png.len()
        );
    }
}
