//! `detprob replay`: verify a manifest, find its model, re-run every recorded
//! completion and report identical or the first differing step.

use crate::cli::{OutputFormat, ReplayArgs};
use crate::error::invalid;
use crate::experiments::manifest::{file_sha256, Manifest};
use crate::experiments::replay::{check_model_hash, replay};
use crate::lm;
use crate::render;
use crate::render::TextReport;
use crate::store::ModelChoice;

pub fn run(args: ReplayArgs) -> anyhow::Result<String> {
    let manifest = Manifest::load(&args.manifest)?;
    let choice = match (&args.model_file, &manifest.model.alias) {
        (Some(path), _) => ModelChoice::File(path.clone(), None),
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
        Some(spec) => check_model_hash(&manifest, spec.sha256)?,
        None => check_model_hash(&manifest, &file_sha256(&choice.local_path()?)?)?,
    }
    let mut loaded = lm::load(&choice, manifest.model.engine)?;
    let report = replay(&mut loaded, &manifest)?;
    let rendered = render::render(&report, args.format);
    if report.identical() {
        return Ok(rendered);
    }
    if args.format == OutputFormat::Text {
        eprint!("{}", report.to_text());
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
