//! An OpenAI-style endpoint as something to sample from: one completion
//! request (`/v1/completions`, or `/v1/chat/completions` for a chat) with
//! its settings, retried with backoff on 429, 5xx and dropped connections,
//! and read into text plus, where the server gives them, each token with
//! its logprob and alternatives. Used by `detprob audit` and by `generate`,
//! `repeat` and `sweep` with `--endpoint`.

// ureq's calls return its own (large) error type; the closures pass it on.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use serde_json::{json, Value};

use crate::error::{invalid, InputError};

/// Attempts per request (the first and three retries).
const ATTEMPTS: usize = 4;

/// A server speaking the OpenAI-style API.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The base URL, ending before `/v1` (`http://host:port`).
    pub base: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// Keeps connections, with the per-request timeout.
    agent: ureq::Agent,
}

/// One request's settings.
#[derive(Debug, Clone)]
pub struct RemoteRequest {
    pub model: String,
    pub prompt: String,
    /// As a chat's user message (else a plain completion of the prompt).
    pub chat: bool,
    /// Earlier turns of the chat, (user, assistant) pairs before the prompt
    /// (worked examples); empty for a one-message chat.
    pub history: Vec<(String, String)>,
    pub temperature: f64,
    /// Nucleus filter (sent only when set).
    pub top_p: Option<f64>,
    /// Top-k filter (not in OpenAI's API; vLLM, llama.cpp and detprob
    /// accept it; sent only when set).
    pub top_k: Option<usize>,
    /// Min-p filter (likewise not OpenAI's; sent only when set).
    pub min_p: Option<f64>,
    pub seed: Option<u64>,
    pub max_tokens: usize,
    /// Alternatives to ask for per token (0: logprobs of the chosen tokens only).
    pub top_logprobs: usize,
    /// Stop strings (empty: none).
    pub stop: Vec<String>,
}

impl RemoteRequest {
    /// A greedy request for the one token after `prompt` (a chat's user
    /// message, or a plain prompt), with its `top` most likely alternatives.
    pub fn next_token(model: &str, prompt: &str, chat: bool, top: usize) -> Self {
        Self {
            model: model.to_string(),
            prompt: prompt.to_string(),
            chat,
            history: Vec::new(),
            temperature: 0.0,
            top_p: None,
            top_k: None,
            min_p: None,
            seed: None,
            max_tokens: 1,
            top_logprobs: top,
            stop: Vec::new(),
        }
    }

    /// The request for one sample of `prompt` with `settings`: its seed,
    /// temperature, filters and token limit (a one-line answer stops at a
    /// newline), logprobs of the chosen tokens.
    pub fn for_settings(
        model: &str,
        prompt: &str,
        chat: bool,
        settings: &crate::generation::GenerationSettings,
    ) -> Self {
        let filters = settings.sampling.filters();
        Self {
            model: model.to_string(),
            prompt: prompt.to_string(),
            chat,
            history: Vec::new(),
            temperature: settings.sampling.temperature().value(),
            top_p: filters.top_p,
            top_k: filters.top_k,
            min_p: filters.min_p,
            seed: Some(settings.seed),
            max_tokens: settings.max_tokens,
            top_logprobs: settings.alternatives,
            stop: if settings.stop_at_newline {
                vec!["\n".to_string()]
            } else {
                Vec::new()
            },
        }
    }
}

/// Adds `fingerprint` (a server's `system_fingerprint`) to `seen` unless
/// it is there already: every distinct one, in the order first seen.
pub fn note_fingerprint(seen: &mut Vec<String>, fingerprint: &str) {
    if !seen.iter().any(|f| f == fingerprint) {
        seen.push(fingerprint.to_string());
    }
}

/// One generated token as the server reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RemoteToken {
    pub text: String,
    /// Its bytes, where the server gives them (a chat's `bytes`): a token
    /// that is part of a character has no text of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<Vec<u8>>,
    pub logprob: Option<f64>,
    /// The most likely tokens there, with their logprobs.
    pub alternatives: Vec<RemoteAlternative>,
}

/// One of the most likely tokens at a step, as the server reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RemoteAlternative {
    pub text: String,
    /// Its bytes, where the server gives them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<Vec<u8>>,
    pub logprob: f64,
}

impl RemoteAlternative {
    /// The token shown so a class can see it (from its bytes where given:
    /// `<0xE6>` rather than a replacement character).
    pub fn visible(&self) -> String {
        crate::tokenizer::visible(self.bytes.as_deref().unwrap_or(self.text.as_bytes()))
    }
}

/// A token's `bytes` in a chat's logprobs, where given.
fn token_bytes(entry: &Value) -> Option<Vec<u8>> {
    entry["bytes"]
        .as_array()?
        .iter()
        .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
        .collect()
}

/// One token of a text the server was asked to score (`echo`), where it
/// starts in the text, and its logprob given the tokens before it.
#[derive(Debug, Clone, PartialEq)]
pub struct EchoedToken {
    pub text: String,
    /// Byte offset in the text.
    pub offset: usize,
    /// `None` for the first token (nothing before it) or where not given.
    pub logprob: Option<f64>,
    /// The most likely tokens there, most likely first.
    pub alternatives: Vec<RemoteAlternative>,
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteCompletion {
    pub text: String,
    /// Each token, where the server gave logprobs.
    pub tokens: Option<Vec<RemoteToken>>,
    pub finish_reason: Option<String>,
    pub system_fingerprint: Option<String>,
    /// Tokens generated, as the server counts them (`usage`).
    pub completion_tokens: Option<usize>,
}

/// Why a request failed after its retries.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RemoteError {
    /// The server refused the request (a 4xx other than 429): retrying will not help.
    #[error("the server refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    /// Still failing after every attempt (429, 5xx, a dropped connection, a timeout).
    #[error("no answer after {ATTEMPTS} attempts: {last}")]
    Unavailable { last: String },
    /// An answer that is not an OpenAI-shaped completion.
    #[error("the server's answer is not a completion: {0}")]
    Malformed(String),
}

impl RemoteError {
    /// `message`, which tells of this failure, as the run's error: bad input
    /// (exit 2) when the server refused the request, else a failure of the
    /// environment.
    pub fn failure(&self, message: String) -> anyhow::Error {
        match self {
            Self::Refused { .. } => invalid(message).into(),
            _ => anyhow::anyhow!(message),
        }
    }
}

impl RemoteCompletion {
    /// Whether the token limit cut the text (`finish_reason` `length`).
    pub fn cut_at_limit(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }

    /// Each generated token's logprob, where the server gave one for every
    /// token (`None` otherwise).
    pub fn logprobs(&self) -> Option<Vec<f64>> {
        self.tokens
            .as_ref()
            .and_then(|tokens| tokens.iter().map(|t| t.logprob).collect())
    }

    /// Tokens generated: as the server counts them (`usage`), else as many
    /// as it reported, else 0.
    pub fn generated_tokens(&self) -> usize {
        self.completion_tokens
            .or_else(|| self.tokens.as_ref().map(Vec::len))
            .unwrap_or(0)
    }

    /// Why the text ended, in the local engine's words: the token limit, or
    /// else an end (an end token or a stop string: servers do not say which).
    pub fn stop_reason(&self) -> crate::generation::StopReason {
        if self.cut_at_limit() {
            crate::generation::StopReason::MaxTokens
        } else {
            crate::generation::StopReason::EndOfText
        }
    }
}

impl Endpoint {
    /// An endpoint at `url` (`http(s)://host[:port]`, with or without a
    /// trailing `/v1`).
    pub fn new(url: &str, api_key: Option<String>, timeout: Duration) -> Result<Self, InputError> {
        let trimmed = url.trim().trim_end_matches('/');
        let base = trimmed.strip_suffix("/v1").unwrap_or(trimmed).to_string();
        if !(base.starts_with("http://") || base.starts_with("https://"))
            || base.len() <= "https://".len()
        {
            return Err(invalid(format!(
                "--endpoint: '{url}' is not an http:// or https:// URL"
            )));
        }
        Ok(Self {
            base,
            api_key,
            agent: ureq::AgentBuilder::new().timeout(timeout).build(),
        })
    }

    /// An endpoint at `url` whose API key, if any, is in the environment
    /// variable `api_key_env`.
    pub fn with_key_from(
        url: &str,
        api_key_env: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, InputError> {
        if timeout.is_zero() {
            return Err(invalid("--timeout must be at least 1 second"));
        }
        let api_key = match api_key_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                invalid(format!(
                    "--api-key-env: the environment variable {var} is not set"
                ))
            })?),
            None => None,
        };
        Self::new(url, api_key, timeout)
    }

    /// `name`, or else the first model the server lists.
    pub fn model_or_first(&self, name: Option<String>, flag: &str) -> anyhow::Result<String> {
        match name {
            Some(name) => Ok(name),
            None => self
                .models()
                .map_err(|e| anyhow::anyhow!("{}: {e}", self.base))?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    anyhow::anyhow!("{} lists no models: name one with {flag}", self.base)
                }),
        }
    }

    /// Every one of `requests`, `parallel` in flight at once (`on_answer`
    /// hears of each as it comes); the answers in the requests' order.
    pub fn complete_all(
        &self,
        requests: &[RemoteRequest],
        parallel: usize,
        on_answer: &(dyn Fn() + Sync),
    ) -> Vec<Result<RemoteCompletion, RemoteError>> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let answers: Vec<std::sync::Mutex<Option<_>>> = requests
            .iter()
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        std::thread::scope(|scope| {
            for _ in 0..parallel.clamp(1, requests.len().max(1)) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(request) = requests.get(i) else {
                        break;
                    };
                    let answer = self.complete(request);
                    on_answer();
                    *answers[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(answer);
                });
            }
        });
        answers
            .into_iter()
            .map(|a| {
                a.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .expect("every request was sent")
            })
            .collect()
    }

    /// The models the server lists (`GET /v1/models`).
    pub fn models(&self) -> Result<Vec<String>, RemoteError> {
        let value = self.call(|| self.request("GET", "/v1/models").call())?;
        let ids = value["data"]
            .as_array()
            .ok_or_else(|| RemoteError::Malformed("no data list in /v1/models".into()))?
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect();
        Ok(ids)
    }

    /// The logprob the server's `model` gives each token of `text` after
    /// the ones before it, with `top` alternatives per token: `echo` with
    /// `logprobs` on `/v1/completions` (vLLM). A server
    /// that does not offer it refuses the request or answers without them.
    pub fn prompt_logprobs(
        &self,
        model: &str,
        text: &str,
        top: usize,
    ) -> Result<Vec<EchoedToken>, RemoteError> {
        let body = json!({
            "model": model,
            "prompt": text,
            "max_tokens": 1,
            "temperature": 0.0,
            "echo": true,
            "logprobs": top,
        });
        let value = self.call(|| {
            self.request("POST", "/v1/completions")
                .send_json(body.clone())
        })?;
        let logprobs = &value["choices"][0]["logprobs"];
        let (Some(tokens), Some(offsets)) = (
            logprobs["tokens"].as_array(),
            logprobs["text_offset"].as_array(),
        ) else {
            return Err(RemoteError::Malformed(
                "no logprobs of the prompt's tokens (echo is not offered)".into(),
            ));
        };
        let echoed = tokens
            .iter()
            .zip(offsets)
            .enumerate()
            .map(|(i, (token, offset))| EchoedToken {
                text: token.as_str().unwrap_or_default().to_string(),
                offset: offset.as_u64().unwrap_or(u64::MAX) as usize,
                logprob: logprobs["token_logprobs"][i].as_f64(),
                alternatives: completion_alternatives(&logprobs["top_logprobs"][i]),
            })
            .collect();
        Ok(echoed)
    }

    /// One completion of `request`.
    pub fn complete(&self, request: &RemoteRequest) -> Result<RemoteCompletion, RemoteError> {
        let (path, body) = body(request);
        let value = self.call(|| self.request("POST", path).send_json(body.clone()))?;
        read_completion(&value, request.chat)
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        let request = self.agent.request(method, &format!("{}{path}", self.base));
        match &self.api_key {
            Some(key) => request.set("Authorization", &format!("Bearer {key}")),
            None => request,
        }
    }

    /// Sends with retries: 429, 5xx and transport failures wait and try
    /// again (0.5 s, 1 s, 2 s); another 4xx is final.
    fn call(
        &self,
        send: impl Fn() -> Result<ureq::Response, ureq::Error>,
    ) -> Result<Value, RemoteError> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(500 << (attempt - 1)));
            }
            match send() {
                Ok(response) => {
                    let text = response
                        .into_string()
                        .map_err(|e| RemoteError::Malformed(e.to_string()));
                    match text.and_then(|t| {
                        serde_json::from_str::<Value>(&t).map_err(|e| {
                            RemoteError::Malformed(format!(
                                "{e}: {}",
                                crate::comparison::shorten(&t, 80)
                            ))
                        })
                    }) {
                        Ok(value) => return Ok(value),
                        // A body cut off mid-way is a transport failure: retry.
                        Err(e) => last = e.to_string(),
                    }
                }
                Err(ureq::Error::Status(status, response)) if status == 429 || status >= 500 => {
                    last = format!("HTTP {status} {}", error_message(response));
                }
                Err(ureq::Error::Status(status, response)) => {
                    return Err(RemoteError::Refused {
                        status,
                        message: error_message(response),
                    })
                }
                Err(ureq::Error::Transport(t)) => last = t.to_string(),
            }
        }
        Err(RemoteError::Unavailable { last })
    }
}

/// The error object's message, or the body's start.
fn error_message(response: ureq::Response) -> String {
    let text = response.into_string().unwrap_or_default();
    serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| crate::comparison::shorten(&text, 120))
}

/// The path and JSON body of `request`.
fn body(request: &RemoteRequest) -> (&'static str, Value) {
    let mut body = json!({
        "model": request.model,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
    });
    if let Some(seed) = request.seed {
        body["seed"] = json!(seed);
    }
    if let Some(top_p) = request.top_p {
        body["top_p"] = json!(top_p);
    }
    if let Some(top_k) = request.top_k {
        body["top_k"] = json!(top_k);
    }
    if let Some(min_p) = request.min_p {
        body["min_p"] = json!(min_p);
    }
    if !request.stop.is_empty() {
        body["stop"] = json!(request.stop);
    }
    if request.chat {
        let mut messages: Vec<Value> = request
            .history
            .iter()
            .flat_map(|(user, assistant)| {
                [
                    json!({"role": "user", "content": user}),
                    json!({"role": "assistant", "content": assistant}),
                ]
            })
            .collect();
        messages.push(json!({"role": "user", "content": request.prompt}));
        body["messages"] = json!(messages);
        body["logprobs"] = json!(true);
        body["top_logprobs"] = json!(request.top_logprobs);
        ("/v1/chat/completions", body)
    } else {
        body["prompt"] = json!(request.prompt);
        body["logprobs"] = json!(request.top_logprobs.max(1));
        ("/v1/completions", body)
    }
}

/// One step's alternatives in `/v1/completions`' shape (an object of
/// token text to logprob), most likely first.
fn completion_alternatives(top: &Value) -> Vec<RemoteAlternative> {
    let Some(top) = top.as_object() else {
        return Vec::new();
    };
    let mut alternatives: Vec<RemoteAlternative> = top
        .iter()
        .filter_map(|(text, logprob)| {
            Some(RemoteAlternative {
                text: text.clone(),
                bytes: None,
                logprob: logprob.as_f64()?,
            })
        })
        .collect();
    alternatives.sort_by(|a, b| b.logprob.total_cmp(&a.logprob));
    alternatives
}

/// Reads choice 0 of a completion or chat completion.
fn read_completion(value: &Value, chat: bool) -> Result<RemoteCompletion, RemoteError> {
    let choice = &value["choices"][0];
    let text = if chat {
        choice["message"]["content"].as_str()
    } else {
        choice["text"].as_str()
    }
    .ok_or_else(|| RemoteError::Malformed("no choices[0] text".into()))?
    .to_string();
    let logprobs = &choice["logprobs"];
    let tokens = if chat {
        logprobs["content"].as_array().map(|content| {
            content
                .iter()
                .map(|t| RemoteToken {
                    text: t["token"].as_str().unwrap_or_default().to_string(),
                    bytes: token_bytes(t),
                    logprob: t["logprob"].as_f64(),
                    alternatives: t["top_logprobs"]
                        .as_array()
                        .map(|top| {
                            top.iter()
                                .filter_map(|a| {
                                    Some(RemoteAlternative {
                                        text: a["token"].as_str()?.to_string(),
                                        bytes: token_bytes(a),
                                        logprob: a["logprob"].as_f64()?,
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
    } else {
        logprobs["tokens"].as_array().map(|tokens| {
            tokens
                .iter()
                .enumerate()
                .map(|(i, t)| RemoteToken {
                    text: t.as_str().unwrap_or_default().to_string(),
                    bytes: None,
                    logprob: logprobs["token_logprobs"][i].as_f64(),
                    alternatives: completion_alternatives(&logprobs["top_logprobs"][i]),
                })
                .collect()
        })
    };
    Ok(RemoteCompletion {
        text,
        tokens,
        finish_reason: choice["finish_reason"].as_str().map(str::to_string),
        system_fingerprint: value["system_fingerprint"].as_str().map(str::to_string),
        completion_tokens: value["usage"]["completion_tokens"]
            .as_u64()
            .map(|n| n as usize),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_of_logprobs_are_read() {
        let completion = json!({"choices": [{"text": " Paris.", "finish_reason": "stop",
            "logprobs": {"tokens": [" Paris", "."], "token_logprobs": [-0.1, -0.5],
                         "top_logprobs": [{" Paris": -0.1, " the": -2.5}, {".": -0.5}]}}],
            "system_fingerprint": "fp"});
        let read = read_completion(&completion, false).unwrap();
        assert_eq!(read.text, " Paris.");
        let tokens = read.tokens.unwrap();
        let alternatives: Vec<(&str, f64)> = tokens[0]
            .alternatives
            .iter()
            .map(|a| (a.text.as_str(), a.logprob))
            .collect();
        assert_eq!(alternatives, [(" Paris", -0.1), (" the", -2.5)]);
        assert_eq!(tokens[1].logprob, Some(-0.5));
        assert_eq!(read.system_fingerprint.as_deref(), Some("fp"));
        let chat = json!({"choices": [{"message": {"role": "assistant", "content": "Hi"},
            "logprobs": {"content": [{"token": "Hi", "logprob": -0.2, "bytes": [72, 105],
                "top_logprobs": [{"token": "Hi", "logprob": -0.2}, {"token": "\u{fffd}", "logprob": -3.0, "bytes": [230]}]}]}}]});
        let read = read_completion(&chat, true).unwrap();
        let token = &read.tokens.unwrap()[0];
        assert_eq!(token.text, "Hi");
        assert_eq!(token.bytes.as_deref(), Some(&b"Hi"[..]));
        // Part of a character is shown by its byte, not as "�".
        assert_eq!(token.alternatives[1].visible(), "<0xE6>");
        assert_eq!(token.alternatives[0].visible(), "Hi");
        // No logprobs: the text alone.
        let bare = json!({"choices": [{"text": "x"}]});
        assert_eq!(read_completion(&bare, false).unwrap().tokens, None);
        assert!(read_completion(&json!({"error": {}}), false).is_err());
    }

    #[test]
    fn an_endpoint_is_an_http_url_with_or_without_v1() {
        let t = Duration::from_secs(1);
        assert_eq!(
            Endpoint::new("http://h:1/v1/", None, t).unwrap().base,
            "http://h:1"
        );
        assert_eq!(
            Endpoint::new("https://h", None, t).unwrap().base,
            "https://h"
        );
        for bad in ["h:1", "ftp://h", "http://", ""] {
            assert!(Endpoint::new(bad, None, t).is_err(), "{bad}");
        }
    }
}
