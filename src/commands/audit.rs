//! `detprob audit`: checks the flags, finds the model, runs the audit with
//! a progress bar, records it in the run log, and returns its report.

use std::time::Duration;

use crate::audit::{audit, AuditPlan};
use crate::cli::AuditArgs;
use crate::error::invalid;
use crate::experiments::manifest::{Manifest, RecordedRun};
use crate::generation::GenerationSettings;
use crate::remote::Endpoint;
use crate::report::audit::AuditReport;
use crate::sampler::Sampling;
use crate::words::Lang;

/// Prompts audited when none are given: a fact, a sum, a story, Chinese.
const DEFAULT_PROMPTS: [&str; 4] = [
    "The capital of France is",
    "17 * 23 =",
    "Once upon a time",
    "法国的首都是",
];
/// Prompts in a --prompts file at most.
const MAX_PROMPTS: usize = 100;
/// Requests in flight at once at most.
const MAX_CONCURRENCY: usize = 256;

pub fn run(args: AuditArgs, lang: Lang) -> anyhow::Result<AuditReport> {
    let runs = crate::options::check_runs(args.runs, "--runs")?;
    if args.concurrency.is_empty()
        || args
            .concurrency
            .iter()
            .any(|&c| c == 0 || c > MAX_CONCURRENCY)
    {
        return Err(invalid(format!(
            "--concurrency takes numbers from 1 to {MAX_CONCURRENCY}"
        ))
        .into());
    }
    if !(1..=4096).contains(&args.max_tokens) {
        return Err(invalid("--max-tokens must be from 1 to 4096").into());
    }
    if !(args.temperature > 0.0 && args.temperature <= 2.0) {
        return Err(invalid(format!(
            "--temperature must be in (0, 2], got {}",
            args.temperature
        ))
        .into());
    }
    let prompts: Vec<String> = match &args.prompts {
        Some(path) => {
            let text = crate::files::read_text(path, "--prompts", 1 << 20)?;
            let prompts: Vec<String> = text
                .lines()
                .map(str::trim_end)
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect();
            if prompts.is_empty() || prompts.len() > MAX_PROMPTS {
                return Err(invalid(format!(
                    "--prompts {}: give 1 to {MAX_PROMPTS} prompts, one per line",
                    path.display()
                ))
                .into());
            }
            prompts
        }
        None => DEFAULT_PROMPTS.iter().map(|p| p.to_string()).collect(),
    };
    // With --local, detprob serve runs for as long as the audit (stopped
    // when this guard drops).
    let local = if args.local {
        let spinner = crate::progress::spinner(lang.text("audit.starting"));
        let server = LocalServer::start(args.model.as_deref())?;
        spinner.finish_and_clear();
        Some(server)
    } else {
        None
    };
    let url = match &local {
        Some(server) => server.base.clone(),
        None => args.endpoint.clone().unwrap_or_default(),
    };
    let endpoint = Endpoint::with_key_from(
        &url,
        args.api_key_env.as_deref(),
        Duration::from_secs(args.timeout),
    )?;
    let model = endpoint.model_or_first(args.model, "--model")?;
    let plan = AuditPlan {
        model,
        runs,
        max_tokens: args.max_tokens,
        chat: args.chat,
        temperature: args.temperature,
        seed: args.seed,
        concurrency: args.concurrency,
        prompts,
    };
    let total = plan.prompts.len() as u64
        * (2 * (1 + plan.runs as u64 * plan.concurrency.len() as u64) + 1);
    let bar = crate::progress::bar(lang.text("audit.progress"), total);
    let report = audit(&endpoint, &plan, &|| bar.inc(1));
    bar.finish_and_clear();
    let mut report = report.map_err(|e| e.failure(format!("{}: {e}", endpoint.base)))?;
    report.local = local.is_some();
    if crate::runlog::current().is_some() {
        crate::runlog::record_quietly(&audit_manifest(&report, plan.chat)?);
    }
    Ok(report)
}

/// The audit for the run log: each case's reference answer as one run (so
/// `replay` can later ask whether the server still gives it), with the
/// server's fingerprints.
fn audit_manifest(report: &AuditReport, chat: bool) -> anyhow::Result<Manifest> {
    let mut manifest = Manifest::remote("audit", &report.endpoint, &report.model, chat);
    if let Some(endpoint) = manifest.endpoint.as_mut() {
        endpoint.system_fingerprints = report.fingerprints.clone();
    }
    for case in &report.cases {
        let prompt = manifest.prompt(None, &case.prompt, &[]);
        manifest.runs.push(RecordedRun {
            prompt,
            settings: GenerationSettings {
                sampling: Sampling::from_settings(case.temperature, None, None, None)?,
                seed: case.seed.unwrap_or_default(),
                max_tokens: report.max_tokens,
                ignore_eos: false,
                alternatives: 2,
                stop_at_newline: false,
            },
            tokens: Vec::new(),
            logprobs: Vec::new(),
            text: case.reference.clone(),
        });
    }
    Ok(manifest)
}

/// `detprob serve` on a free loopback port, started for `audit --local`
/// from this same binary and stopped when dropped.
struct LocalServer {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`
    base: String,
}

impl LocalServer {
    fn start(model: Option<&str>) -> anyhow::Result<Self> {
        use std::io::{BufRead, Read};
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command.args(["serve", "--host", "127.0.0.1", "--port", "0", "--no-log"]);
        if let Some(model) = model {
            command.args(["--model", model]);
        }
        let mut child = command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("piped"));
        let mut stderr = child.stderr.take().expect("piped");
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        // The first line is the server's URL, printed once it listens.
        let mut first = String::new();
        let _ = stdout.read_line(&mut first);
        if !first.starts_with("http://") {
            let status = child.wait()?;
            let message = errors.join().unwrap_or_default();
            let line = message
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("it exited")
                .trim_start_matches("error: ")
                .to_string();
            let message = format!("--local: detprob serve did not start: {line}");
            return Err(if status.code() == Some(2) {
                invalid(message).into()
            } else {
                anyhow::anyhow!(message)
            });
        }
        // Keep reading, so the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(Self {
            child,
            base: first.trim().trim_end_matches('/').to_string(),
        })
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
