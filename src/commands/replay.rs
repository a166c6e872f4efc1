//! `detprob replay`: verify a manifest, find its model, re-run every recorded
//! completion and report identical or the first differing step.

use crate::cli::ReplayArgs;
use crate::error::invalid;
use crate::experiments::manifest::{file_sha256, Manifest};
use crate::experiments::replay::{check_model_hash, replay};
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
    let spinner = crate::progress::spinner(
        &view
            .lang
            .fill("replay.progress", &[("command", &manifest.command)]),
    );
    let replayed = lm::load(&choice, manifest.model.engine)
        .map_err(anyhow::Error::from)
        .and_then(|mut loaded| replay(&mut loaded, manifest));
    spinner.finish_and_clear();
    let report = replayed?;
    if report.identical() {
        return Ok(Box::new(report));
    }
    // A difference is an error (exit 1): the report goes with it, to stderr
    // as text, or to stdout when a machine reads it.
    let rendered = render::render(&report, view);
    if view.format == Format::Terminal {
        eprint!("{rendered}");
    } else {
        print!("{rendered}");
    }
    let first = &report.differences[0];
    anyhow::bail!(
        "replay differs: {} of {} runs, first at run {} step {}",
        report.differences.len(),
        report.runs,
        first.run,
        first.step
    )
}
