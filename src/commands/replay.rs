//! `detprob replay`: verify a manifest, find its model, re-run every recorded
//! completion and report identical or the first differing step; a run on a
//! server is sent to the server again and compared by text.

use crate::cli::ReplayArgs;
use crate::error::invalid;
use crate::experiments::manifest::{file_sha256, Manifest};
use crate::experiments::replay::{check_model_hash, replay, replay_remote};
use crate::lm;
use crate::render::{self, Format, Render, View};
use crate::store::ModelChoice;

pub fn run(args: ReplayArgs, view: &View) -> anyhow::Result<Box<dyn Render>> {
    let manifest = Manifest::load(&args.manifest)?;
    replay_manifest(&manifest, args.model_file.as_deref(), view)
}

/// Finds `manifest`'s model (or `model_file`), checks its hash, re-runs
/// every recorded completion: the report when identical, else an error
/// (exit 1) after the report is shown.
pub fn replay_manifest(
    manifest: &Manifest,
    model_file: Option<&std::path::Path>,
    view: &View,
) -> anyhow::Result<Box<dyn Render>> {
    let spinner = || {
        crate::progress::spinner(
            &view
                .lang
                .fill("replay.progress", &[("command", &manifest.command)]),
        )
    };
    let replayed = match &manifest.endpoint {
        Some(recorded) => {
            if model_file.is_some() {
                return Err(invalid(
                    "--model-file replays a local run; this manifest records a run on a server",
                )
                .into());
            }
            let endpoint = crate::remote::Endpoint::new(
                &recorded.url,
                None,
                std::time::Duration::from_secs(120),
            )?;
            let spinner = spinner();
            let replayed = replay_remote(&endpoint, recorded, manifest, 4);
            spinner.finish_and_clear();
            replayed?
        }
        None => replay_local(manifest, model_file, spinner)?,
    };
    if replayed.identical() {
        return Ok(Box::new(replayed));
    }
    // A difference is an error (exit 1): the report goes with it, to stderr
    // as text, or to stdout when a machine reads it.
    let rendered = render::render(&replayed, view);
    if view.format == Format::Terminal {
        eprint!("{rendered}");
    } else {
        print!("{rendered}");
    }
    let first = &replayed.differences[0];
    let unit = if replayed.endpoint.is_some() {
        "character"
    } else {
        "step"
    };
    anyhow::bail!(
        "replay differs: {} of {} runs, first at run {} {unit} {}",
        replayed.differences.len(),
        replayed.runs,
        first.run,
        first.step
    )
}

/// Replays a local run on detprob's engine: finds the manifest's model (or
/// `model_file`), checks its hash, re-runs every recorded completion.
fn replay_local(
    manifest: &Manifest,
    model_file: Option<&std::path::Path>,
    spinner: impl Fn() -> indicatif::ProgressBar,
) -> anyhow::Result<crate::report::experiments::ReplayReport> {
    let choice = match (model_file, &manifest.model.alias) {
        (Some(path), _) => ModelChoice::File(path.to_path_buf(), None),
        (None, Some(alias)) => ModelChoice::resolve(Some(alias), None, None)?,
        (None, None) => {
            let path = &manifest.model.path;
            if !path.exists() {
                return Err(invalid(format!(
                    "the manifest's model file {} is not present: pass --model-file PATH to a copy (SHA-256 {})",
                    path.display(),
                    manifest.model.sha256
                ))
                .into());
            }
            ModelChoice::File(path.clone(), None)
        }
    };
    match choice.spec() {
        Some(spec) => check_model_hash(manifest, spec.sha256)?,
        None => check_model_hash(manifest, &file_sha256(&choice.local_path()?)?)?,
    }
    let spinner = spinner();
    let engine = manifest.model.engine.unwrap_or(lm::Engine::Detprob);
    let replayed = lm::load(&choice, engine)
        .map_err(anyhow::Error::from)
        .and_then(|mut loaded| replay(&mut loaded, manifest));
    spinner.finish_and_clear();
    replayed
}
