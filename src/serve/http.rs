//! The HTTP layer: routes, access (class code, API key, per-client limits),
//! the OpenAI-style endpoints and the classroom's endpoints, each turning a
//! request into work for a model's worker and the worker's events into
//! JSON or Server-Sent Events. Every refusal is a JSON error object.

// A refusal is the response itself (axum's way): helpers return
// `Result<_, Response>`, whose error is as large as a response.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use super::class::{Question, Room, SAMPLE_TOKENS};
use super::openai::{self, ApiError, Endpoint, ModelCard, Plan};
use super::pages;
use super::scheduler::{Ending, Event, Refused, Work, Worker};
use crate::comparison::sample_settings;
use crate::generation::Step;
use crate::prompt::PromptFormat;
use crate::sampler::{fresh_seed, Temperature};
use crate::tokenizer::TextTokenizer;
use crate::words::Lang;

/// Request bodies larger than this are refused (413).
pub const MAX_BODY: usize = 64 * 1024;
/// Requests one client may have running at once (more: 429).
pub const MAX_PER_CLIENT: usize = 32;
/// A request must be read and answered (or its stream begun) within this.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// A model the server runs.
pub struct Served {
    pub alias: String,
    pub worker: Worker,
    pub format: PromptFormat,
    pub tokenizer: Arc<TextTokenizer>,
    /// Names the weights (their SHA-256) and this engine's version.
    pub fingerprint: String,
}

/// Everything the handlers share.
pub struct Server {
    pub models: Vec<Served>,
    pub room: Room,
    pub lang: Lang,
    /// Required of students and scripts when the server is reachable beyond loopback.
    pub class_code: Option<String>,
    /// Accepted from scripts in place of the class code (and required on
    /// loopback too when given).
    pub api_key: Option<String>,
    /// Unix time the server started (the models' `created`).
    pub started: u64,
    in_flight: Mutex<HashMap<IpAddr, usize>>,
}

impl Server {
    pub fn new(
        models: Vec<Served>,
        room: Room,
        lang: Lang,
        class_code: Option<String>,
        api_key: Option<String>,
    ) -> Self {
        Self {
            models,
            room,
            lang,
            class_code,
            api_key,
            started: now(),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    fn model(&self, alias: &str) -> Option<&Served> {
        self.models.iter().find(|m| m.alias == alias)
    }

    /// The model the class samples (the first one given).
    fn class_model(&self) -> &Served {
        &self.models[0]
    }

    /// Whether `headers` (or a `code` field) carry the class code or the
    /// API key where one is required.
    fn admitted(&self, headers: &HeaderMap, code: Option<&str>) -> bool {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let offered = [bearer, code];
        let matches = |secret: &Option<String>| {
            secret
                .as_deref()
                .is_some_and(|s| offered.iter().flatten().any(|o| *o == s))
        };
        if self.class_code.is_none() && self.api_key.is_none() {
            return true;
        }
        matches(&self.class_code) || matches(&self.api_key)
    }

    /// Counts a request of `client` as running until the guard is dropped;
    /// `None` when the client has too many running already.
    fn enter(self: &Arc<Self>, client: IpAddr) -> Option<InFlight> {
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        let count = map.entry(client).or_insert(0);
        if *count >= MAX_PER_CLIENT {
            return None;
        }
        *count += 1;
        Some(InFlight {
            server: self.clone(),
            client,
        })
    }
}

/// One running request of a client (see [`Server::enter`]).
pub struct InFlight {
    server: Arc<Server>,
    client: IpAddr,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut map = self
            .server
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(count) = map.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                map.remove(&self.client);
            }
        }
    }
}

/// The routes.
pub fn router(server: Arc<Server>) -> Router {
    Router::new()
        .route("/", get(projector_page))
        .route("/join", get(student_page))
        .route(
            "/class.js",
            get(|| async { asset("text/javascript; charset=utf-8", pages::SCRIPT) }),
        )
        .route(
            "/class.css",
            get(|| async { asset("text/css; charset=utf-8", pages::STYLE) }),
        )
        .route("/v1/models", get(list_models))
        .route("/v1/completions", post(completions))
        .route("/v1/chat/completions", post(chat_completions))
        .route("/class/state", get(class_state))
        .route("/class/events", get(class_events))
        .route("/class/question", post(class_question))
        .route("/class/reset", post(class_reset))
        .route("/class/sample", post(class_sample))
        .route("/class/next", get(class_next))
        .fallback(|| async {
            error(ApiError::new(
                404,
                "invalid_request_error",
                "not_found",
                "no such route",
            ))
        })
        .method_not_allowed_fallback(|| async {
            error(ApiError::new(
                405,
                "invalid_request_error",
                "method_not_allowed",
                "method not allowed on this route",
            ))
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(time_limit))
        .with_state(server)
}

/// Answers 408 when a request is not read and answered (or its stream
/// begun) within [`REQUEST_TIMEOUT`]: a client that sends its body slowly
/// cannot hold a connection and a place forever.
async fn time_limit(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error(ApiError::new(
            408,
            "invalid_request_error",
            "request_timeout",
            format!(
                "the request was not complete within {} s",
                REQUEST_TIMEOUT.as_secs()
            ),
        )),
    }
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// An OpenAI-style error response.
pub fn error(e: ApiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(e.body())).into_response()
}

fn unauthorized() -> Response {
    error(ApiError::new(
        401,
        "invalid_request_error",
        "invalid_api_key",
        "this server needs the class code (or the API key) as `Authorization: Bearer …`",
    ))
}

fn too_many() -> Response {
    error(ApiError::new(
        429,
        "rate_limit_error",
        "too_many_requests",
        format!("at most {MAX_PER_CLIENT} requests at once per client"),
    ))
}

fn refused(r: Refused) -> Response {
    match r {
        Refused::Busy => error(ApiError::new(
            503,
            "server_error",
            "overloaded",
            "the model's queue is full; try again shortly",
        )),
        Refused::Gone => error(ApiError::new(
            500,
            "server_error",
            "worker_stopped",
            "the model has stopped",
        )),
    }
}

/// The body, or a JSON 413 / 400 when it cannot be read.
fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, Response> {
    body.map_err(|e| {
        let status = e.status().as_u16();
        error(ApiError::new(
            if status == 413 { 413 } else { 400 },
            "invalid_request_error",
            if status == 413 {
                "body_too_large"
            } else {
                "bad_body"
            },
            if status == 413 {
                format!("the request body is larger than {MAX_BODY} bytes")
            } else {
                e.body_text()
            },
        ))
    })
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn page_lang(server: &Server, query: &LangQuery) -> Lang {
    match query.lang.as_deref() {
        Some("zh") => Lang::Zh,
        Some("en") => Lang::En,
        _ => server.lang,
    }
}

async fn projector_page(
    State(server): State<Arc<Server>>,
    Query(q): Query<LangQuery>,
) -> Html<String> {
    Html(pages::page(pages::Page::Projector, page_lang(&server, &q)))
}

async fn student_page(
    State(server): State<Arc<Server>>,
    Query(q): Query<LangQuery>,
) -> Html<String> {
    Html(pages::page(pages::Page::Student, page_lang(&server, &q)))
}

async fn list_models(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    if !server.admitted(&headers, None) {
        return unauthorized();
    }
    let data: Vec<ModelCard> = server
        .models
        .iter()
        .map(|m| ModelCard {
            id: m.alias.clone(),
            object: "model",
            created: server.started,
            owned_by: "detprob",
        })
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

async fn completions(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    api(server, peer, headers, body, Endpoint::Completions).await
}

async fn chat_completions(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    api(server, peer, headers, body, Endpoint::Chat).await
}

/// Both OpenAI endpoints: check, queue, then answer whole or streamed.
async fn api(
    server: Arc<Server>,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    endpoint: Endpoint,
) -> Response {
    if !server.admitted(&headers, None) {
        return unauthorized();
    }
    let body = match body_bytes(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let format_of = |alias: &str| server.model(alias).map(|m| m.format.clone());
    let plan = match openai::plan(
        endpoint,
        &body,
        &format_of,
        &server.models[0].alias,
        fresh_seed(),
    ) {
        Ok(p) => p,
        Err(e) => return error(e),
    };
    let Some(guard) = server.enter(peer.ip()) else {
        return too_many();
    };
    let served = server.model(&plan.model).expect("plan checked the model");
    let (events, mut rx) = unbounded_channel();
    let work = Work::Complete {
        prompt: plan.prompt.clone(),
        settings: plan.settings.clone(),
        stop: plan.stop.clone(),
        events,
    };
    if let Err(r) = served.worker.submit(work) {
        return refused(r);
    }
    let prompt_tokens = match started(&mut rx).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    let reply = Reply {
        id: format!(
            "{}-{:016x}",
            if endpoint == Endpoint::Chat {
                "chatcmpl"
            } else {
                "cmpl"
            },
            fresh_seed()
        ),
        created: now(),
        fingerprint: served.fingerprint.clone(),
        tokenizer: served.tokenizer.clone(),
        plan,
        prompt_tokens,
    };
    if reply.plan.stream {
        stream_reply(reply, rx, guard).into_response()
    } else {
        whole_reply(reply, rx).await
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Waits for the worker to accept the prompt: its token count, or the error response.
async fn started(rx: &mut UnboundedReceiver<Event>) -> Result<usize, Response> {
    match rx.recv().await {
        Some(Event::Started { prompt_tokens }) => Ok(prompt_tokens),
        Some(Event::Failed {
            message,
            bad_input: true,
        }) => Err(error(ApiError::invalid(Some("prompt"), message))),
        Some(Event::Failed { message, .. }) => Err(error(ApiError::new(
            500,
            "server_error",
            "engine_error",
            message,
        ))),
        _ => Err(error(ApiError::new(
            500,
            "server_error",
            "worker_stopped",
            "the model stopped before answering",
        ))),
    }
}

/// What every part of one response shares.
struct Reply {
    id: String,
    created: u64,
    fingerprint: String,
    tokenizer: Arc<TextTokenizer>,
    plan: Plan,
    prompt_tokens: usize,
}

impl Reply {
    fn object(&self, chunk: bool) -> &'static str {
        match (self.plan.endpoint, chunk) {
            (Endpoint::Chat, false) => "chat.completion",
            (Endpoint::Chat, true) => "chat.completion.chunk",
            (Endpoint::Completions, _) => "text_completion",
        }
    }

    fn envelope(&self, chunk: bool, choices: Vec<Value>) -> Value {
        json!({
            "id": self.id,
            "object": self.object(chunk),
            "created": self.created,
            "model": self.plan.model,
            "system_fingerprint": self.fingerprint,
            "choices": choices,
        })
    }

    fn usage(&self, completion_tokens: usize) -> Value {
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": self.prompt_tokens + completion_tokens,
        })
    }

    fn seed(&self, choice: usize) -> u64 {
        self.plan.settings[choice].seed
    }

    /// A choice's text (and logprobs, for its new `steps`), whole or as a chunk.
    fn choice(
        &self,
        index: usize,
        text: &str,
        steps: &[Step],
        offset: usize,
        finish: Option<&str>,
        chunk: bool,
    ) -> Value {
        let logprobs = self
            .plan
            .logprobs
            .map(|_| openai::logprobs_json(self.plan.endpoint, &self.tokenizer, steps, offset));
        let mut choice = json!({
            "index": index,
            "logprobs": logprobs,
            "finish_reason": finish,
            "seed": self.seed(index),
        });
        match (self.plan.endpoint, chunk) {
            (Endpoint::Completions, _) => choice["text"] = json!(text),
            (Endpoint::Chat, false) => {
                choice["message"] = json!({"role": "assistant", "content": text})
            }
            (Endpoint::Chat, true) if finish.is_some() && text.is_empty() => {
                choice["delta"] = json!({})
            }
            (Endpoint::Chat, true) => choice["delta"] = json!({"content": text}),
        }
        choice
    }
}

/// Collects every choice, then answers with one JSON object.
async fn whole_reply(reply: Reply, mut rx: UnboundedReceiver<Event>) -> Response {
    let n = reply.plan.settings.len();
    let mut steps: Vec<Vec<Step>> = vec![Vec::new(); n];
    let mut endings: Vec<Option<Ending>> = vec![None; n];
    while endings.iter().any(Option::is_none) {
        match rx.recv().await {
            Some(Event::Token { choice, step, .. }) => steps[choice].push(step),
            Some(Event::Finished { choice, ending }) => endings[choice] = Some(ending),
            Some(Event::Failed { message, .. }) => {
                return error(ApiError::new(500, "server_error", "engine_error", message))
            }
            Some(Event::Started { .. }) => {}
            None => {
                return error(ApiError::new(
                    500,
                    "server_error",
                    "worker_stopped",
                    "the model stopped while answering",
                ))
            }
        }
    }
    let endings: Vec<Ending> = endings.into_iter().flatten().collect();
    let completion_tokens = endings.iter().map(|e| e.tokens.len()).sum();
    let choices = endings
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let kept = kept_steps(&reply.tokenizer, &steps[i], &e.text);
            reply.choice(
                i,
                &e.text,
                &steps[i][..kept],
                0,
                Some(openai::finish_reason(e.stop_reason)),
                false,
            )
        })
        .collect();
    let mut body = reply.envelope(false, choices);
    body["usage"] = reply.usage(completion_tokens);
    Json(body).into_response()
}

/// How many of `steps` lie inside `text` (a stop string cuts the text;
/// the tokens after the cut are not reported).
fn kept_steps(tokenizer: &TextTokenizer, steps: &[Step], text: &str) -> usize {
    let mut length = 0;
    for (i, step) in steps.iter().enumerate() {
        if length >= text.len() && i > 0 {
            return i;
        }
        length += tokenizer.bytes_of(step.token).len();
    }
    steps.len()
}

/// Streams the choices as Server-Sent Events, ending with `[DONE]`.
fn stream_reply(
    reply: Reply,
    rx: UnboundedReceiver<Event>,
    guard: InFlight,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let n = reply.plan.settings.len();
    struct Progress {
        reply: Reply,
        rx: UnboundedReceiver<Event>,
        open: usize,
        offsets: Vec<usize>,
        tokens: usize,
        done: bool,
        _guard: InFlight,
    }
    let start = Progress {
        open: n,
        offsets: vec![0; n],
        tokens: 0,
        done: false,
        rx,
        _guard: guard,
        reply,
    };
    let first: Vec<SseEvent> = if start.reply.plan.endpoint == Endpoint::Chat {
        (0..n)
            .map(|i| {
                let mut choice = start.reply.choice(i, "", &[], 0, None, true);
                choice["delta"] = json!({"role": "assistant", "content": ""});
                choice["logprobs"] = Value::Null;
                data(&start.reply.envelope(true, vec![choice]))
            })
            .collect()
    } else {
        Vec::new()
    };
    let rest = stream::unfold(start, |mut p| async move {
        if p.done {
            return None;
        }
        let mut out = Vec::new();
        match p.rx.recv().await {
            Some(Event::Token { choice, step, text }) => {
                p.tokens += 1;
                if !text.is_empty() || p.reply.plan.logprobs.is_some() {
                    let offset = p.offsets[choice];
                    p.offsets[choice] += text.len();
                    let steps = if text.is_empty() {
                        Vec::new()
                    } else {
                        vec![step]
                    };
                    let c = p.reply.choice(choice, &text, &steps, offset, None, true);
                    if !text.is_empty() {
                        out.push(data(&p.reply.envelope(true, vec![c])));
                    }
                }
            }
            Some(Event::Finished { choice, ending }) => {
                let c = p.reply.choice(
                    choice,
                    "",
                    &[],
                    p.offsets[choice],
                    Some(openai::finish_reason(ending.stop_reason)),
                    true,
                );
                out.push(data(&p.reply.envelope(true, vec![c])));
                p.open -= 1;
                if p.open == 0 {
                    if p.reply.plan.include_usage {
                        let mut usage = p.reply.envelope(true, Vec::new());
                        usage["usage"] = p.reply.usage(p.tokens);
                        out.push(data(&usage));
                    }
                    out.push(SseEvent::default().data("[DONE]"));
                    p.done = true;
                }
            }
            Some(Event::Failed { message, .. }) => {
                out.push(data(
                    &ApiError::new(500, "server_error", "engine_error", message).body(),
                ));
                p.done = true;
            }
            Some(Event::Started { .. }) => {}
            None => p.done = true,
        }
        Some((stream::iter(out.into_iter().map(Ok)), p))
    })
    .flatten();
    Sse::new(stream::iter(first.into_iter().map(Ok)).chain(rest)).keep_alive(KeepAlive::default())
}

fn data(value: &Value) -> SseEvent {
    SseEvent::default().data(value.to_string())
}

// ---- the classroom ---------------------------------------------------------

/// Whether a request comes from the teacher: from this machine, or with the API key.
fn teacher(server: &Server, peer: &SocketAddr, headers: &HeaderMap) -> bool {
    let keyed = server.api_key.is_some() && server.admitted(headers, None);
    keyed || (peer.ip().is_loopback() && server.api_key.is_none())
}

async fn class_state(State(server): State<Arc<Server>>) -> Response {
    Json(server.room.snapshot()).into_response()
}

/// The room's snapshot now and after every change.
async fn class_events(
    State(server): State<Arc<Server>>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let changes = server.room.subscribe();
    let updates = stream::unfold(
        (server, changes, true),
        |(server, mut changes, first)| async move {
            if !first && changes.changed().await.is_err() {
                return None;
            }
            changes.borrow_and_update();
            let snapshot = serde_json::to_value(server.room.snapshot()).unwrap_or(Value::Null);
            Some((Ok(data(&snapshot)), (server, changes, false)))
        },
    );
    Sse::new(updates).keep_alive(KeepAlive::default())
}

#[derive(Deserialize)]
struct AskBody {
    question: String,
}

async fn class_question(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !teacher(&server, &peer, &headers) {
        return error(ApiError::new(
            403,
            "permission_error",
            "teacher_only",
            "only the teacher's machine may change the question",
        ));
    }
    let body: AskBody = match body_bytes(body).and_then(|b| parse(&b)) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match server.room.ask(&body.question) {
        Ok(()) => Json(server.room.snapshot()).into_response(),
        Err(message) => error(ApiError::invalid(Some("question"), message)),
    }
}

async fn class_reset(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !teacher(&server, &peer, &headers) {
        return error(ApiError::new(
            403,
            "permission_error",
            "teacher_only",
            "only the teacher's machine may reset the counts",
        ));
    }
    server.room.reset();
    Json(server.room.snapshot()).into_response()
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Response> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        error(ApiError::invalid(
            openai::named(&path),
            e.into_inner().to_string(),
        ))
    })
}

#[derive(Deserialize)]
struct SampleBody {
    temperature: f64,
    seed: Option<u64>,
    /// The class code (students), unless sent as a bearer token.
    code: Option<String>,
    /// A student's own question, where the teacher allows them.
    question: Option<String>,
}

/// One sample of the class question (or a student's own): streamed as
/// `{"text": …}` events, then `{"sample": …}` with the counted answer.
async fn class_sample(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body: SampleBody = match body_bytes(body).and_then(|b| parse(&b)) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if !server.admitted(&headers, body.code.as_deref()) {
        return unauthorized();
    }
    let temperature = match Temperature::new(body.temperature) {
        Ok(t) if t.value() <= openai::MAX_TEMPERATURE => t,
        _ => {
            return error(ApiError::invalid(
                Some("temperature"),
                format!(
                    "temperature must be between 0 and {}",
                    openai::MAX_TEMPERATURE
                ),
            ))
        }
    };
    let question: Question = match body.question.as_deref().filter(|q| !q.trim().is_empty()) {
        None => server.room.question(),
        Some(_) if !server.room.own_questions => {
            return error(ApiError::new(
                403,
                "permission_error",
                "own_questions_off",
                "the teacher has not allowed own questions",
            ))
        }
        Some(q) => match server.room.prepare(q) {
            Ok(q) => q,
            Err(message) => return error(ApiError::invalid(Some("question"), message)),
        },
    };
    let own = body.question.is_some();
    let Some(guard) = server.enter(peer.ip()) else {
        return too_many();
    };
    let seed = body.seed.unwrap_or_else(fresh_seed);
    let (events, mut rx) = unbounded_channel();
    let settings = sample_settings(temperature, seed, SAMPLE_TOKENS);
    let work = Work::Complete {
        prompt: question.prompt.clone(),
        settings: vec![settings],
        stop: Vec::new(),
        events,
    };
    if let Err(r) = server.class_model().worker.submit(work) {
        return refused(r);
    }
    if let Err(r) = started(&mut rx).await {
        return r;
    }
    let updates = stream::unfold(
        (server, rx, question, Some(guard)),
        move |(server, mut rx, question, guard)| async move {
            guard.as_ref()?;
            match rx.recv().await {
                Some(Event::Token { text, .. }) => Some((
                    Ok::<_, Infallible>(data(&json!({"text": text}))),
                    (server, rx, question, guard),
                )),
                Some(Event::Finished { ending, .. }) => {
                    let sample = if own {
                        server.room.preview(
                            &question,
                            &ending.text,
                            ending.stop_reason,
                            seed,
                            temperature.value(),
                        )
                    } else {
                        server.room.record(
                            &question,
                            &ending.text,
                            ending.stop_reason,
                            seed,
                            temperature.value(),
                        )
                    };
                    let event = data(&json!({"sample": sample, "own": own}));
                    Some((Ok(event), (server, rx, question, None)))
                }
                Some(Event::Failed { message, .. }) => Some((
                    Ok(data(&json!({"error": message}))),
                    (server, rx, question, None),
                )),
                Some(Event::Started { .. }) => Some((
                    Ok(data(&json!({"text": ""}))),
                    (server, rx, question, guard),
                )),
                None => None,
            }
        },
    );
    Sse::new(updates).into_response()
}

#[derive(Deserialize)]
struct NextQuery {
    temperature: f64,
}

/// The model's most likely first tokens for the class question at a temperature.
async fn class_next(
    State(server): State<Arc<Server>>,
    query: Result<Query<NextQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return error(ApiError::invalid(
            Some("temperature"),
            "give ?temperature= a number from 0 to 2",
        ));
    };
    if Temperature::new(q.temperature).is_err() || q.temperature > openai::MAX_TEMPERATURE {
        return error(ApiError::invalid(
            Some("temperature"),
            "temperature must be between 0 and 2",
        ));
    }
    let (reply, answer) = tokio::sync::oneshot::channel();
    let work = Work::NextTokens {
        prompt: server.room.question().prompt,
        temperature: q.temperature,
        top: 8,
        reply,
    };
    if let Err(r) = server.class_model().worker.submit(work) {
        return refused(r);
    }
    match answer.await {
        Ok(Ok(tokens)) => {
            Json(json!({"temperature": q.temperature, "tokens": tokens})).into_response()
        }
        Ok(Err(message)) => error(ApiError::new(500, "server_error", "engine_error", message)),
        Err(_) => error(ApiError::new(
            500,
            "server_error",
            "worker_stopped",
            "the model stopped",
        )),
    }
}
