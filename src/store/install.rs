//! Writing a model file into the cache safely: bytes are hashed as they are
//! written to a temporary file beside the target, and only a file whose size
//! and SHA-256 match the catalogue is renamed into place.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use super::ModelSpec;
use crate::error::InputError;

/// A fully written, not yet verified copy of a model file.
pub struct StagedFile {
    temp: NamedTempFile,
    size: u64,
    sha256: String,
    spec: &'static ModelSpec,
}

impl StagedFile {
    /// Checks size and checksum against the catalogue and atomically renames
    /// the file to `target`. On failure the temporary file is deleted.
    pub fn install(self, target: &Path) -> Result<(), InputError> {
        if self.size != self.spec.size {
            return Err(InputError::ChecksumMismatch {
                what: format!(
                    "{} (size {} bytes, expected {})",
                    self.spec.file_name, self.size, self.spec.size
                ),
                expected: self.spec.sha256.to_string(),
                actual: self.sha256,
            });
        }
        if self.sha256 != self.spec.sha256 {
            return Err(InputError::ChecksumMismatch {
                what: self.spec.file_name.to_string(),
                expected: self.spec.sha256.to_string(),
                actual: self.sha256,
            });
        }
        self.temp.as_file().sync_all().map_err(io_error)?;
        // Temporary files are private (0600); a cached model is ordinary data.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let readable = std::fs::Permissions::from_mode(0o644);
            std::fs::set_permissions(self.temp.path(), readable).map_err(io_error)?;
        }
        self.temp.persist(target).map_err(|e| io_error(e.error))?;
        Ok(())
    }
}

/// Builds a [`StagedFile`] from one or more byte streams, hashing as it goes.
pub struct StagingWriter {
    temp: NamedTempFile,
    hasher: Sha256,
    size: u64,
    spec: &'static ModelSpec,
    progress: ProgressBar,
}

impl StagingWriter {
    /// A new temporary file in `dir` (the cache's models directory, so the
    /// final rename stays on one file system).
    pub fn new(dir: &Path, spec: &'static ModelSpec, label: &str) -> Result<Self, InputError> {
        let temp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(dir)
            .map_err(io_error)?;
        Ok(Self {
            temp,
            hasher: Sha256::new(),
            size: 0,
            spec,
            progress: byte_progress(spec.size, label),
        })
    }

    /// Appends everything `reader` yields.
    pub fn append(&mut self, reader: &mut dyn Read) -> Result<(), InputError> {
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = reader.read(&mut buffer).map_err(io_error)?;
            if n == 0 {
                return Ok(());
            }
            self.hasher.update(&buffer[..n]);
            self.temp.write_all(&buffer[..n]).map_err(io_error)?;
            self.size += n as u64;
            self.progress.set_position(self.size);
        }
    }

    /// Finishes writing; the result still has to be installed.
    pub fn finish(mut self) -> Result<StagedFile, InputError> {
        self.temp.flush().map_err(io_error)?;
        self.progress.finish_and_clear();
        Ok(StagedFile {
            temp: self.temp,
            size: self.size,
            sha256: hex(&self.hasher.finalize()),
            spec: self.spec,
        })
    }
}

/// Hashes `path` and compares it with the catalogue.
pub fn verify_file(path: &Path, spec: &ModelSpec) -> Result<(), InputError> {
    let mut file = File::open(path).map_err(io_error)?;
    let progress = byte_progress(spec.size, "verifying");
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io_error)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
        progress.set_position(size);
    }
    progress.finish_and_clear();
    let actual = hex(&hasher.finalize());
    if size != spec.size || actual != spec.sha256 {
        return Err(InputError::ChecksumMismatch {
            what: path.display().to_string(),
            expected: spec.sha256.to_string(),
            actual,
        });
    }
    Ok(())
}

/// An exclusive lock held while one process fetches a model; released on drop.
pub struct FetchLock(Option<File>);

impl FetchLock {
    /// Waits for the lock on `alias` in `dir`. Where locking is not possible
    /// the fetch goes ahead unlocked: the atomic rename keeps it safe.
    pub fn acquire(dir: &Path, alias: &str) -> Self {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!(".{alias}.lock")))
            .ok()
            .filter(|f| f.lock().is_ok());
        Self(file)
    }
}

impl Drop for FetchLock {
    fn drop(&mut self) {
        if let Some(file) = &self.0 {
            let _ = file.unlock();
        }
    }
}

/// A progress bar on stderr (drawn only when stderr is a terminal).
pub fn byte_progress(total: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_error(e: std::io::Error) -> InputError {
    InputError::InvalidSetting(format!("cache i/o error: {e}"))
}
