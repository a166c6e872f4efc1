//! Commands: each turns validated flags into a report (plain, serializable
//! data); [`run`] renders it once, in the format and language asked for.
//! Only the commands that are live on a terminal (the tour, the showcase,
//! `generate`, `emergence grok`) print as they go, and then return what is
//! left to print.

mod audit;
mod compare;
mod demo;
mod emergence;
mod generate;
mod log;
mod model;
mod probs;
mod repeat;
mod replay;
mod score;
mod sweep;
mod tokenize;
mod trace;

use crate::cli::{Cli, Command, ModelArgs, RecordArgs};
use crate::error::InputError;
use crate::render::{self, Format, Render, View};
use crate::store::ModelChoice;
use crate::words::Lang;

/// Runs the command and returns what to print on stdout: its report,
/// rendered once here in the format and language the flags ask for.
pub fn run(cli: Cli) -> anyhow::Result<String> {
    let lang = cli.lang.unwrap_or_else(Lang::from_env);
    crate::progress::set_language(lang);
    crate::runlog::configure(cli.no_log);
    let format = cli
        .command
        .as_ref()
        .map_or(Format::Terminal, Command::format);
    let view = View::new(format, lang);
    let report: Box<dyn Render> = match cli.command {
        None => compare::showcase(None, &view)?,
        Some(Command::Showcase(args)) => compare::showcase(Some(args), &view)?,
        Some(Command::Compare(args)) => compare::run(args, &view)?,
        Some(Command::Generate(args)) => generate::run(args, &view)?,
        Some(Command::Probs(args)) => Box::new(probs::run(args)?),
        Some(Command::Trace(args)) => Box::new(trace::run(args)?),
        Some(Command::Demo(args)) => demo::run(args, lang)?,
        Some(Command::Tour(args)) => demo::tour(args, &view)?,
        Some(Command::Sweep(args)) => Box::new(sweep::run(args, lang)?),
        Some(Command::Replay(args)) => replay::run(args, &view)?,
        Some(Command::Repeat(args)) => Box::new(repeat::run(args, lang)?),
        Some(Command::Score(args)) => Box::new(score::run(args)?),
        Some(Command::Tokenize(args)) => Box::new(tokenize::run(args)?),
        Some(Command::Emergence(command)) => emergence::run(command, &view)?,
        Some(Command::Live(args)) => Box::new(render::Printed(crate::live::run(
            class_model_choice(&args.model, lang)?,
            args.model.engine,
            lang,
        )?)),
        Some(Command::Serve(mut args)) => {
            args.lang = Some(lang);
            if args.models.is_empty() {
                args.models
                    .push(class_model_choice(&empty_model_args(), lang)?.label());
            }
            crate::serve::run(args)?;
            Box::new(render::Printed(String::new()))
        }
        Some(Command::Model(command)) => model::run(command)?,
        Some(Command::Log(command)) => log::run(command, &view)?,
        Some(Command::Audit(args)) => Box::new(audit::run(args, lang)?),
    };
    let text = render::render(report.as_ref(), &view);
    // Text for people shows the control characters an input or a model's
    // output may carry instead of sending them (to a terminal now, or to
    // one that later shows the file); JSON and CSV keep the exact text.
    Ok(match view.format {
        Format::Json | Format::Csv => text,
        Format::Terminal | Format::Markdown | Format::Html => {
            render::style::terminal_safe(&text).into_owned()
        }
    })
}

/// Model flags that select nothing (the default model).
fn empty_model_args() -> ModelArgs {
    ModelArgs {
        model: None,
        model_file: None,
        sha256: None,
        engine: crate::lm::Engine::Detprob,
    }
}

/// The model a class uses: the one the flags select, or, when they name
/// none, the default model of the class's language (a Chinese class gets
/// one that writes Chinese).
fn class_model_choice(
    args: &ModelArgs,
    lang: crate::words::Lang,
) -> Result<ModelChoice, InputError> {
    match (&args.model, &args.model_file, lang) {
        (None, None, crate::words::Lang::Zh) => {
            ModelChoice::resolve(Some(crate::store::catalog::DEFAULT_MODEL_ZH), None, None)
        }
        _ => model_choice(args),
    }
}

/// The model the `--model` / `--model-file` flags select.
fn model_choice(args: &ModelArgs) -> Result<ModelChoice, InputError> {
    ModelChoice::resolve(
        args.model.as_deref(),
        args.model_file.as_deref(),
        args.sha256.as_deref(),
    )
}

/// The server `--endpoint` names, checked before any request: not beside a
/// local model's flags, `--parallel` from 1 to 256, the API key found.
fn remote_endpoint(
    remote: &crate::cli::RemoteArgs,
    model: &ModelArgs,
) -> Result<Option<crate::remote::Endpoint>, InputError> {
    remote_endpoint_beside(remote, model.model.is_some() || model.model_file.is_some())
}

/// [`remote_endpoint`] for a command whose local model flags are its own:
/// `local_model_named` says whether they name one.
fn remote_endpoint_beside(
    remote: &crate::cli::RemoteArgs,
    local_model_named: bool,
) -> Result<Option<crate::remote::Endpoint>, InputError> {
    let Some(url) = remote.endpoint.as_deref() else {
        return Ok(None);
    };
    if local_model_named {
        return Err(crate::error::invalid(
            "--endpoint samples from the server: name its model with --remote-model, not --model",
        ));
    }
    if !(1..=256).contains(&remote.parallel) {
        return Err(crate::error::invalid(format!(
            "--parallel must be from 1 to 256, not {}",
            remote.parallel
        )));
    }
    crate::remote::Endpoint::with_key_from(
        url,
        remote.api_key_env.as_deref(),
        std::time::Duration::from_secs(remote.timeout),
    )
    .map(Some)
}

/// What only a local run offers, refused beside `--endpoint`:
/// `--ignore-eos` (servers do not offer it).
fn refuse_local_only(ignore_eos: bool) -> Result<(), InputError> {
    if ignore_eos {
        return Err(crate::error::invalid(
            "--ignore-eos is not available with --endpoint (servers do not offer it)",
        ));
    }
    Ok(())
}

/// Whether a run needs its manifest built: for `--record`, or for the run log.
fn wants_manifest(record: Option<(&std::path::Path, crate::files::Overwrite)>) -> bool {
    record.is_some() || crate::runlog::current().is_some()
}

/// Writes `manifest` where `--record` asked, and into the run log.
fn keep_manifest(
    manifest: &crate::experiments::manifest::Manifest,
    record: Option<(&std::path::Path, crate::files::Overwrite)>,
) -> anyhow::Result<()> {
    if let Some((path, overwrite)) = record {
        manifest.save(path, overwrite)?;
    }
    crate::runlog::record_quietly(manifest);
    Ok(())
}

/// The `--record` manifest's path and whether it may replace a file,
/// checked now (before any work) so that a refusal comes at once and
/// changes nothing.
fn record_target(
    record: &RecordArgs,
) -> Result<Option<(&std::path::Path, crate::files::Overwrite)>, InputError> {
    let Some(path) = record.path.as_deref() else {
        return Ok(None);
    };
    let overwrite = crate::files::Overwrite::forced(record.force);
    crate::files::check_output_target(path, "--record", overwrite)?;
    Ok(Some((path, overwrite)))
}
