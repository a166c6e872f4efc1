//! The OpenAI-style API's requests and responses: request bodies read and
//! checked into a [`Plan`] (the prompt text and one set of
//! [`GenerationSettings`] per choice), and the JSON shapes of completions,
//! chat completions, their streamed chunks and errors. No HTTP here.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::generation::{GenerationSettings, Step, StopReason};
use crate::prompt::{ChatMessage, ChatRole, PromptFormat};
use crate::sampler::Sampling;
use crate::tokenizer::TextTokenizer;

/// Bounds on one request (a room of phones must not be able to hog the model).
pub const MAX_TOKENS: u64 = 1024;
/// Choices per request at most.
pub const MAX_CHOICES: u64 = 16;
/// Alternatives per token at most (`top_logprobs`, or `logprobs` of `/v1/completions`).
pub const MAX_TOP_LOGPROBS: u64 = 20;
/// Stop strings per request at most.
pub const MAX_STOPS: usize = 4;
/// The temperature range OpenAI's API accepts.
pub const MAX_TEMPERATURE: f64 = 2.0;
/// `max_tokens` when a completion request gives none (OpenAI's default).
const COMPLETION_DEFAULT_TOKENS: u64 = 16;
/// `max_tokens` when a chat request gives none.
const CHAT_DEFAULT_TOKENS: u64 = 256;

/// A request the API refuses, as an OpenAI-style error object.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub kind: &'static str,
    pub param: Option<String>,
    pub code: Option<&'static str>,
}

impl ApiError {
    /// A 400 about `param`.
    pub fn invalid(param: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
            kind: "invalid_request_error",
            param: param.map(str::to_string),
            code: None,
        }
    }

    /// Any status, with a code.
    pub fn new(
        status: u16,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            param: None,
            code: Some(code),
        }
    }

    /// The body: `{"error": {"message", "type", "param", "code"}}`.
    pub fn body(&self) -> Value {
        json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }
}

/// A text or a list of texts (OpenAI accepts both for `prompt` and `stop`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Message content: a text, or a list of parts of which only text parts are read.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Deserialize)]
struct ContentPart {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    role: String,
    content: Option<Content>,
}

#[derive(Debug, Default, Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

/// The fields both endpoints read. Unknown fields are ignored (clients
/// send many); known ones this engine cannot honour are refused.
#[derive(Debug, Deserialize)]
struct Body {
    model: Option<String>,
    prompt: Option<OneOrMany>,
    messages: Option<Vec<Message>>,
    max_tokens: Option<u64>,
    max_completion_tokens: Option<u64>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    top_k: Option<i64>,
    min_p: Option<f64>,
    seed: Option<u64>,
    n: Option<u64>,
    stop: Option<OneOrMany>,
    /// `/v1/completions`: a number of alternatives; chat: a boolean.
    logprobs: Option<Value>,
    top_logprobs: Option<u64>,
    #[serde(default)]
    stream: bool,
    stream_options: Option<StreamOptions>,
    #[serde(default)]
    echo: bool,
    suffix: Option<String>,
    best_of: Option<u64>,
    frequency_penalty: Option<f64>,
    presence_penalty: Option<f64>,
    logit_bias: Option<Value>,
}

/// Which endpoint a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Completions,
    Chat,
}

/// A checked request: what to run and how to answer.
#[derive(Debug, Clone)]
pub struct Plan {
    pub endpoint: Endpoint,
    pub model: String,
    /// The text to tokenize (a chat already in the model's template).
    pub prompt: String,
    /// One per choice; choice `i` samples with seed `seed + i`.
    pub settings: Vec<GenerationSettings>,
    pub stop: Vec<String>,
    /// Whether to return logprobs, and how many alternatives per token.
    pub logprobs: Option<usize>,
    pub stream: bool,
    pub include_usage: bool,
}

/// Reads a request body for `endpoint`. `format_of` gives a model's chat
/// template (`None`: no such model).
pub fn plan(
    endpoint: Endpoint,
    body: &[u8],
    format_of: &dyn Fn(&str) -> Option<PromptFormat>,
    default_model: &str,
    fresh_seed: u64,
) -> Result<Plan, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    let body: Body = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("the body is not valid JSON: {inner}")
        } else {
            format!("{inner}")
        };
        ApiError::invalid(named(&path), message)
    })?;
    refuse_unsupported(&body)?;
    let model = body
        .model
        .clone()
        .unwrap_or_else(|| default_model.to_string());
    let Some(format) = format_of(&model) else {
        return Err(ApiError {
            code: Some("model_not_found"),
            ..ApiError::invalid(
                Some("model"),
                format!("the model '{model}' is not served here (GET /v1/models lists them)"),
            )
        });
    };
    let prompt = match endpoint {
        Endpoint::Completions => completion_prompt(&body)?,
        Endpoint::Chat => chat_prompt(&body, &format)?,
    };
    let temperature = body.temperature.unwrap_or(1.0);
    if !(0.0..=MAX_TEMPERATURE).contains(&temperature) {
        return Err(ApiError::invalid(
            Some("temperature"),
            format!("temperature must be between 0 and {MAX_TEMPERATURE}, got {temperature}"),
        ));
    }
    // top_k 0 or -1 means "no top-k", as in llama.cpp and vLLM.
    let top_k = match body.top_k {
        None | Some(0) | Some(-1) => None,
        Some(k) if k > 0 => Some(k as usize),
        Some(k) => {
            return Err(ApiError::invalid(
                Some("top_k"),
                format!("top_k must be at least 1 (or 0 / -1 for none), got {k}"),
            ))
        }
    };
    let top_p = body.top_p.filter(|&p| p != 1.0);
    let min_p = body.min_p.filter(|&p| p != 0.0);
    let sampling = Sampling::from_settings(temperature, top_k, top_p, min_p).map_err(|e| {
        let param = ["top_p", "min_p", "temperature"]
            .into_iter()
            .find(|p| e.to_string().contains(&p.replace('_', "-")));
        ApiError::invalid(param, e.to_string())
    })?;
    let default_tokens = match endpoint {
        Endpoint::Completions => COMPLETION_DEFAULT_TOKENS,
        Endpoint::Chat => CHAT_DEFAULT_TOKENS,
    };
    let max_tokens = body
        .max_completion_tokens
        .or(body.max_tokens)
        .unwrap_or(default_tokens);
    if !(1..=MAX_TOKENS).contains(&max_tokens) {
        return Err(ApiError::invalid(
            Some("max_tokens"),
            format!("max_tokens must be between 1 and {MAX_TOKENS}, got {max_tokens}"),
        ));
    }
    let n = body.n.unwrap_or(1);
    if !(1..=MAX_CHOICES).contains(&n) {
        return Err(ApiError::invalid(
            Some("n"),
            format!("n must be between 1 and {MAX_CHOICES}, got {n}"),
        ));
    }
    let stop = match body.stop {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    };
    if stop.len() > MAX_STOPS || stop.iter().any(|s| s.is_empty() || s.len() > 256) {
        return Err(ApiError::invalid(
            Some("stop"),
            format!("stop takes up to {MAX_STOPS} non-empty strings of at most 256 bytes"),
        ));
    }
    let logprobs = logprobs_wanted(endpoint, body.logprobs.as_ref(), body.top_logprobs)?;
    let seed = body.seed.unwrap_or(fresh_seed);
    let settings = (0..n)
        .map(|i| GenerationSettings {
            sampling: sampling.clone(),
            seed: seed.wrapping_add(i),
            max_tokens: max_tokens as usize,
            ignore_eos: false,
            alternatives: logprobs.unwrap_or(0),
            stop_at_newline: false,
        })
        .collect();
    Ok(Plan {
        endpoint,
        model,
        prompt,
        settings,
        stop,
        logprobs,
        stream: body.stream,
        include_usage: body.stream_options.unwrap_or_default().include_usage,
    })
}

/// The parameter a body error is about (`None` for the body as a whole).
pub fn named(path: &str) -> Option<&str> {
    (path != "." && path != "?").then_some(path)
}

/// Refuses settings that would silently be ignored.
fn refuse_unsupported(body: &Body) -> Result<(), ApiError> {
    let unsupported = |param: &str| {
        Err(ApiError::invalid(
            Some(param),
            format!("{param} is not supported by this server"),
        ))
    };
    if body.echo {
        return unsupported("echo");
    }
    if body.suffix.as_deref().is_some_and(|s| !s.is_empty()) {
        return unsupported("suffix");
    }
    if body.best_of.is_some_and(|b| b > 1) {
        return unsupported("best_of");
    }
    if body.frequency_penalty.is_some_and(|p| p != 0.0) {
        return unsupported("frequency_penalty");
    }
    if body.presence_penalty.is_some_and(|p| p != 0.0) {
        return unsupported("presence_penalty");
    }
    if body
        .logit_bias
        .as_ref()
        .is_some_and(|b| b.as_object().is_none_or(|o| !o.is_empty()))
    {
        return unsupported("logit_bias");
    }
    Ok(())
}

fn completion_prompt(body: &Body) -> Result<String, ApiError> {
    if body.messages.is_some() {
        return Err(ApiError::invalid(
            Some("messages"),
            "/v1/completions takes a prompt, not messages (use /v1/chat/completions)",
        ));
    }
    let prompt = match &body.prompt {
        Some(OneOrMany::One(p)) => p.clone(),
        Some(OneOrMany::Many(v)) if v.len() == 1 => v[0].clone(),
        Some(OneOrMany::Many(_)) => {
            return Err(ApiError::invalid(
                Some("prompt"),
                "one prompt per request (send several requests instead)",
            ))
        }
        None => return Err(ApiError::invalid(Some("prompt"), "prompt is required")),
    };
    if prompt.is_empty() {
        return Err(ApiError::invalid(Some("prompt"), "the prompt is empty"));
    }
    Ok(prompt)
}

fn chat_prompt(body: &Body, format: &PromptFormat) -> Result<String, ApiError> {
    let Some(messages) = &body.messages else {
        return Err(ApiError::invalid(Some("messages"), "messages is required"));
    };
    if messages.is_empty() {
        return Err(ApiError::invalid(Some("messages"), "messages is empty"));
    }
    let mut chat = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let param = format!("messages[{i}]");
        let role = match m.role.as_str() {
            "system" | "developer" if i == 0 => ChatRole::System,
            "system" | "developer" => {
                return Err(ApiError::invalid(
                    Some(&param),
                    "a system message may only come first",
                ))
            }
            "user" => ChatRole::User,
            "assistant" => ChatRole::Assistant,
            other => {
                return Err(ApiError::invalid(
                    Some(&param),
                    format!("unsupported role '{other}' (system, user, assistant)"),
                ))
            }
        };
        let content = match &m.content {
            Some(Content::Text(t)) => t.clone(),
            Some(Content::Parts(parts)) => {
                if let Some(p) = parts.iter().find(|p| p.kind != "text") {
                    return Err(ApiError::invalid(
                        Some(&param),
                        format!("content of type '{}' is not supported (text only)", p.kind),
                    ));
                }
                parts
                    .iter()
                    .filter_map(|p| p.text.as_deref())
                    .collect::<Vec<_>>()
                    .join("")
            }
            None => String::new(),
        };
        chat.push(ChatMessage { role, content });
    }
    format.render_chat(&chat).ok_or_else(|| {
        ApiError::invalid(
            Some("model"),
            "this model has no chat template (a base model): use /v1/completions",
        )
    })
}

fn logprobs_wanted(
    endpoint: Endpoint,
    logprobs: Option<&Value>,
    top_logprobs: Option<u64>,
) -> Result<Option<usize>, ApiError> {
    let top = |n: u64, param: &str| {
        if n > MAX_TOP_LOGPROBS {
            Err(ApiError::invalid(
                Some(param),
                format!("{param} must be at most {MAX_TOP_LOGPROBS}, got {n}"),
            ))
        } else {
            Ok(n as usize)
        }
    };
    match (endpoint, logprobs) {
        (_, None | Some(Value::Null)) => {
            if top_logprobs.is_some_and(|n| n > 0) && endpoint == Endpoint::Chat {
                return Err(ApiError::invalid(
                    Some("top_logprobs"),
                    "top_logprobs needs logprobs: true",
                ));
            }
            Ok(None)
        }
        (Endpoint::Chat, Some(Value::Bool(false))) => Ok(None),
        (Endpoint::Chat, Some(Value::Bool(true))) => {
            Ok(Some(top(top_logprobs.unwrap_or(0), "top_logprobs")?))
        }
        (Endpoint::Completions, Some(Value::Number(n))) => match n.as_u64() {
            Some(n) => Ok(Some(top(n, "logprobs")?)),
            None => Err(ApiError::invalid(
                Some("logprobs"),
                "logprobs must be a whole number from 0",
            )),
        },
        (Endpoint::Chat, Some(_)) => Err(ApiError::invalid(
            Some("logprobs"),
            "logprobs must be true or false",
        )),
        (Endpoint::Completions, Some(_)) => Err(ApiError::invalid(
            Some("logprobs"),
            "logprobs must be a whole number from 0",
        )),
    }
}

/// OpenAI's `finish_reason`: "stop" at an end-of-text token or a stop
/// string (`None`), "length" at the token limit or the context's end.
pub fn finish_reason(reason: Option<StopReason>) -> &'static str {
    match reason {
        None | Some(StopReason::EndOfText) | Some(StopReason::Newline) => "stop",
        Some(StopReason::MaxTokens) | Some(StopReason::ContextFull) => "length",
    }
}

/// The token's text as the API shows it.
fn token_text(tokenizer: &TextTokenizer, token: u32) -> String {
    String::from_utf8_lossy(tokenizer.bytes_of(token)).into_owned()
}

/// Logprobs of `steps` in the shape of `endpoint` (`offset`: the text's
/// length before the first of them, for `/v1/completions`' `text_offset`).
pub fn logprobs_json(
    endpoint: Endpoint,
    tokenizer: &TextTokenizer,
    steps: &[Step],
    offset: usize,
) -> Value {
    match endpoint {
        Endpoint::Chat => {
            let content: Vec<Value> = steps
                .iter()
                .map(|s| {
                    let entry = |token: u32, logprob: f64| {
                        json!({
                            "token": token_text(tokenizer, token),
                            "logprob": logprob,
                            "bytes": tokenizer.bytes_of(token),
                        })
                    };
                    let mut e = entry(s.token, s.logprob);
                    e["top_logprobs"] = s
                        .alternatives
                        .iter()
                        .map(|a| entry(a.token, a.logprob))
                        .collect();
                    e
                })
                .collect();
            json!({ "content": content })
        }
        Endpoint::Completions => {
            let mut offsets = Vec::with_capacity(steps.len());
            let mut at = offset;
            for s in steps {
                offsets.push(at);
                at += token_text(tokenizer, s.token).len();
            }
            json!({
                "tokens": steps.iter().map(|s| token_text(tokenizer, s.token)).collect::<Vec<_>>(),
                "token_logprobs": steps.iter().map(|s| s.logprob).collect::<Vec<_>>(),
                "top_logprobs": steps.iter().map(|s| {
                    s.alternatives.iter().map(|a| (token_text(tokenizer, a.token), json!(a.logprob))).collect::<serde_json::Map<_, _>>()
                }).collect::<Vec<_>>(),
                "text_offset": offsets,
            })
        }
    }
}

/// One entry of `GET /v1/models`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCard {
    pub id: String,
    pub object: &'static str,
    pub created: u64,
    pub owned_by: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(endpoint: Endpoint, body: &str) -> Result<Plan, ApiError> {
        let format = |m: &str| {
            (m == "m").then_some(PromptFormat::ChatMl {
                default_system: None,
            })
        };
        plan(endpoint, body.as_bytes(), &format, "m", 7)
    }

    #[test]
    fn a_completion_request_becomes_one_setting_per_choice_with_consecutive_seeds() {
        let plan = read(
            Endpoint::Completions,
            r#"{"model":"m","prompt":"2+2=","temperature":0.7,"top_k":40,"seed":41,"n":3,"max_tokens":5,"logprobs":2,"stop":"\n"}"#,
        )
        .unwrap();
        assert_eq!(plan.prompt, "2+2=");
        let seeds: Vec<u64> = plan.settings.iter().map(|s| s.seed).collect();
        assert_eq!(seeds, [41, 42, 43]);
        assert!(plan
            .settings
            .iter()
            .all(|s| s.max_tokens == 5 && s.alternatives == 2));
        assert_eq!(
            plan.settings[0].sampling,
            Sampling::Random {
                temperature: 0.7,
                top_k: Some(40),
                top_p: None,
                min_p: None
            }
        );
        assert_eq!(plan.stop, ["\n"]);
        assert_eq!(plan.logprobs, Some(2));
    }

    #[test]
    fn defaults_are_openais_and_a_missing_seed_is_the_fresh_one() {
        let plan = read(
            Endpoint::Chat,
            r#"{"messages":[{"role":"user","content":"Hi"}]}"#,
        )
        .unwrap();
        assert_eq!(plan.model, "m");
        assert_eq!(plan.settings[0].seed, 7);
        assert_eq!(plan.settings[0].max_tokens, CHAT_DEFAULT_TOKENS as usize);
        assert_eq!(
            plan.prompt,
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
        assert!(
            matches!(plan.settings[0].sampling, Sampling::Random { temperature, .. } if temperature == 1.0)
        );
        let greedy = read(Endpoint::Completions, r#"{"prompt":"x","temperature":0}"#).unwrap();
        assert_eq!(greedy.settings[0].sampling, Sampling::Greedy);
        assert_eq!(greedy.settings[0].max_tokens, 16);
    }

    #[test]
    fn bad_requests_name_the_parameter() {
        let c = Endpoint::Completions;
        let chat = Endpoint::Chat;
        let cases = [
            (c, r#"{"prompt":"x","temperature":"hot"}"#, "temperature"),
            (c, r#"{"prompt":"x","temperature":2.5}"#, "temperature"),
            (c, r#"{"prompt":"x","top_p":0}"#, "top_p"),
            (c, r#"{"prompt":"x","min_p":1.5}"#, "min_p"),
            (c, r#"{"prompt":"x","top_k":-3}"#, "top_k"),
            (c, r#"{"prompt":"x","n":0}"#, "n"),
            (c, r#"{"prompt":"x","max_tokens":100000}"#, "max_tokens"),
            (c, r#"{"prompt":"x","seed":-1}"#, "seed"),
            (c, r#"{"prompt":"x","logprobs":50}"#, "logprobs"),
            (c, r#"{"prompt":""}"#, "prompt"),
            (c, r#"{"prompt":"x","model":"nope"}"#, "model"),
            (
                c,
                r#"{"prompt":"x","presence_penalty":1}"#,
                "presence_penalty",
            ),
            (c, r#"{"prompt":"x","stop":["a","b","c","d","e"]}"#, "stop"),
            (chat, r#"{"messages":[]}"#, "messages"),
            (
                chat,
                r#"{"messages":[{"role":"tool","content":"x"}]}"#,
                "messages[0]",
            ),
            (
                chat,
                r#"{"messages":[{"role":"user","content":"x"}],"logprobs":3}"#,
                "logprobs",
            ),
        ];
        for (endpoint, body, param) in cases {
            let error = read(endpoint, body).unwrap_err();
            assert_eq!(error.status, 400, "{body}");
            assert_eq!(error.param.as_deref(), Some(param), "{body}");
        }
        let truncated = read(c, "{\"prompt\": ").unwrap_err();
        assert!(truncated.message.contains("not valid JSON"));
        assert_eq!(read(chat, "[1,2]").unwrap_err().status, 400);
    }
}
