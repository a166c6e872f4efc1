//! `detprob serve`: one process that loads its models once and serves the
//! classroom page (`/`, for the projector), the student page (`/join`) and
//! an OpenAI-style API (`/v1/…`), all from the same workers. Loopback by
//! default; bound beyond it, a class code guards the student page and the
//! API.

mod class;
mod http;
pub mod openai;
mod pages;
mod scheduler;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::cli::ServeArgs;
use crate::error::{invalid, InputError};
use crate::lm;
use crate::sampler::fresh_seed;
use crate::store::ModelChoice;
use crate::words::Lang;

pub use scheduler::MAX_BATCH;

/// Runs the server until Ctrl-C (or SIGTERM).
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    if args.models.is_empty() {
        return Err(invalid("--model needs at least one model alias").into());
    }
    let mut aliases: Vec<String> = Vec::new();
    for alias in &args.models {
        if aliases.contains(alias) {
            return Err(invalid(format!("--model lists '{alias}' twice")).into());
        }
        aliases.push(alias.clone());
    }
    let choices: Vec<ModelChoice> = aliases
        .iter()
        .map(|a| ModelChoice::resolve(Some(a), None, None))
        .collect::<Result<_, InputError>>()?;
    // Bind first: a port in use is refused before any model loads.
    let address = SocketAddr::new(args.host, args.port);
    let listener = std::net::TcpListener::bind(address)
        .map_err(|e| invalid(format!("cannot listen on {address}: {e}")))?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;

    let pool = Arc::new(rayon::ThreadPoolBuilder::new().build()?);
    // A log that cannot be opened does not stop the class: it is said once.
    let log = crate::runlog::current().and_then(|path| {
        crate::runlog::writer(path.to_path_buf())
            .map_err(|e| eprintln!("warning: {e} (requests are answered, not logged)"))
            .ok()
    });
    let mut models = Vec::new();
    for (alias, choice) in aliases.iter().zip(choices) {
        let progress = crate::progress::spinner(&lang.fill("serve.loading", &[("model", alias)]));
        let engine = args.engine;
        let fingerprint = fingerprint(&choice, engine);
        let (worker, format, tokenizer) =
            scheduler::Worker::start(alias.clone(), pool.clone(), choice, engine, log.clone())?;
        progress.finish_and_clear();
        models.push(http::Served {
            alias: alias.clone(),
            worker,
            format,
            tokenizer,
            fingerprint,
        });
    }
    let question = args
        .question
        .clone()
        .unwrap_or_else(|| lang.text("serve.first_question").to_string());
    let loopback = args.host.is_loopback();
    let class_code = (!loopback).then(class_code);
    let room = class::Room::new(
        &question,
        aliases[0].clone(),
        models[0].format.clone(),
        args.own_questions,
        class_code.is_some() || args.api_key.is_some(),
    )
    .map_err(|e| invalid(format!("--question: {e}")))?;
    let server = Arc::new(http::Server::new(
        models,
        room,
        lang,
        class_code.clone(),
        args.api_key.clone(),
    ));

    print_addresses(lang, bound, class_code.as_deref());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let app = http::router(server).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(stopped())
            .await
    })?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stopped() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return interrupt.await.unwrap_or(()),
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// What `system_fingerprint` says: this engine's version and code, and the
/// weights' published SHA-256.
fn fingerprint(choice: &ModelChoice, engine: lm::Engine) -> String {
    let weights = choice.spec().map_or("unknown", |s| &s.sha256[..16]);
    let engine = match engine {
        lm::Engine::Detprob => "detprob",
        lm::Engine::Candle => "candle",
    };
    format!("detprob-{}-{engine}-{weights}", env!("CARGO_PKG_VERSION"))
}

/// Six letters and digits a class types on their phones (no 0/O, 1/I).
fn class_code() -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut seed = fresh_seed();
    (0..6)
        .map(|_| {
            let c = LETTERS[(seed % LETTERS.len() as u64) as usize] as char;
            seed /= LETTERS.len() as u64;
            c
        })
        .collect()
}

/// The address others reach a server bound to `host` at (the machine's
/// address on its network when bound to all interfaces).
fn reachable(host: IpAddr) -> IpAddr {
    if !host.is_unspecified() {
        return host;
    }
    // A UDP "connection" sends nothing; it only picks the outgoing interface.
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .unwrap_or(host)
}

/// The first lines a teacher reads: where to point the projector, the
/// students and scripts (the first line is the projector's URL alone, for
/// scripts). Written at once; a closed stdout (a script that read the first
/// line and went) does not stop the server.
fn print_addresses(lang: Lang, bound: SocketAddr, code: Option<&str>) {
    let host = reachable(bound.ip());
    let base = match host {
        IpAddr::V6(v6) => format!("http://[{v6}]:{}", bound.port()),
        IpAddr::V4(v4) => format!("http://{v4}:{}", bound.port()),
    };
    let join = match code {
        Some(code) => format!("{base}/join?code={code}"),
        None => format!("{base}/join"),
    };
    let mut lines = vec![
        format!("{base}/"),
        lang.fill("serve.projector", &[("url", &format!("{base}/"))]),
        lang.fill("serve.students", &[("url", &join)]),
    ];
    if let Some(code) = code {
        lines.push(lang.fill("serve.class_code", &[("code", &code)]));
    }
    lines.push(lang.fill("serve.api", &[("url", &format!("{base}/v1"))]));
    lines.push(lang.text("serve.stop").to_string());
    let mut out = std::io::stdout().lock();
    let _ = out.write_all((lines.join("\n") + "\n").as_bytes());
    let _ = out.flush();
}
