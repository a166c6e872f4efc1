//! Files detprob reads and writes for the user, held to two promises.
//!
//! - **Reading**: a text file the user names (a scenario, an inputs file, a
//!   manifest) must be a regular file no larger than a stated limit, checked
//!   before and while it is read, so a FIFO or `/dev/zero` is refused at once
//!   instead of being read forever.
//! - **Writing**: an output never destroys what is at its path. A path that
//!   is not a regular file (a directory, a symlink, a FIFO, a device) is
//!   refused; an existing regular file is replaced only when the user says so
//!   (`--force`); a refusal changes nothing at the path. Whole files are
//!   written to a temporary file beside the target and renamed into place, so
//!   no half-written output is ever left behind.

use std::io::{Read, Write};
use std::path::Path;

use crate::error::{invalid, InputError};

/// Largest scenario or inputs file detprob reads: 1 MiB.
pub const TEXT_LIMIT: u64 = 1 << 20;

/// Largest manifest or sweep output detprob reads back: 256 MiB.
pub const DATA_LIMIT: u64 = 256 << 20;

/// The whole of `path` as UTF-8 text, if it is a regular file of at most
/// `limit` bytes; `what` names it in errors ("scenario", "manifest").
pub fn read_text(path: &Path, what: &str, limit: u64) -> Result<String, InputError> {
    String::from_utf8(read_bytes(path, what, limit)?)
        .map_err(|_| invalid(format!("{what} {} is not UTF-8 text", path.display())))
}

/// The whole of `path`, if it is a regular file of at most `limit` bytes.
pub fn read_bytes(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, InputError> {
    let name = path.display();
    let fail = |e: std::io::Error| invalid(format!("cannot read {what} {name}: {e}"));
    let metadata = std::fs::metadata(path).map_err(fail)?;
    if !metadata.is_file() {
        return Err(invalid(format!(
            "{what} {name} is not a regular file{}",
            if metadata.is_dir() {
                " (it is a directory)"
            } else {
                ""
            }
        )));
    }
    let too_large = || {
        invalid(format!(
            "{what} {name} is larger than detprob reads ({} at most)",
            size_label(limit)
        ))
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    std::fs::File::open(path)
        .map_err(fail)?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(fail)?;
    if bytes.len() as u64 > limit {
        // The file grew while it was read.
        return Err(too_large());
    }
    Ok(bytes)
}

/// "1 MiB", "256 MiB", "512 bytes".
fn size_label(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// Whether an existing output may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse a path where a file already exists.
    Refuse,
    /// Replace an existing regular file (`--force`).
    Replace,
}

impl Overwrite {
    /// `Replace` when the user passed `--force`.
    pub fn forced(force: bool) -> Self {
        if force {
            Self::Replace
        } else {
            Self::Refuse
        }
    }
}

/// Checks that `path` may receive the output `flag` writes: nothing is there,
/// or (with [`Overwrite::Replace`]) a regular file is. Call it before any
/// long computation, so a refusal comes at once; it changes nothing.
pub fn check_output(path: &Path, flag: &str, overwrite: Overwrite) -> Result<(), InputError> {
    let name = path.display();
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(invalid(format!("{flag} {name}: {e}"))),
        Ok(m) if m.is_dir() => Err(invalid(format!("{flag} {name} is a directory"))),
        Ok(m) if !m.file_type().is_file() => Err(invalid(format!(
            "{flag} {name} is not a regular file (a link, FIFO or device); detprob writes only regular files"
        ))),
        Ok(_) if overwrite == Overwrite::Refuse => Err(invalid(format!(
            "{flag} {name} already exists: pass --force to replace it, or choose another path"
        ))),
        Ok(_) => Ok(()),
    }
}

/// [`check_output`], and that a file can be made in the path's directory (it
/// exists and takes a file): for an output written at the end of a run,
/// checked before the run, so that a refusal comes at once and changes
/// nothing.
pub fn check_output_target(
    path: &Path,
    flag: &str,
    overwrite: Overwrite,
) -> Result<(), InputError> {
    check_output(path, flag, overwrite)?;
    let dir = directory_of(path);
    tempfile::NamedTempFile::new_in(dir).map(drop).map_err(|e| {
        // The OS's reason alone (tempfile adds its probe's own name).
        let message = e.to_string();
        let reason = message.split(" at path ").next().unwrap_or_default();
        invalid(format!(
            "{flag} {}: cannot write in {}: {reason}",
            path.display(),
            dir.display()
        ))
    })
}

/// The directory a file at `path` goes in (`.` for a bare name).
fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it,
/// renamed into place only if [`check_output`] allows (and, without
/// `Replace`, only if nothing appeared at the path meanwhile).
pub fn write_whole(
    path: &Path,
    flag: &str,
    overwrite: Overwrite,
    bytes: &[u8],
) -> anyhow::Result<()> {
    check_output(path, flag, overwrite)?;
    let dir = directory_of(path);
    let fail = |e: std::io::Error| write_failure(path, &e);
    // Created as any file the user writes (0666 less the umask: 0644
    // usually), not with a temporary file's private 0600.
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut staged = builder.tempfile_in(dir).map_err(fail)?;
    staged.write_all(bytes).map_err(fail)?;
    staged.as_file().sync_all().map_err(fail)?;
    match overwrite {
        Overwrite::Replace => staged.persist(path).map(drop),
        Overwrite::Refuse => staged.persist_noclobber(path).map(drop),
    }
    .map_err(|e| match e.error.kind() {
        std::io::ErrorKind::AlreadyExists => invalid(format!(
            "{flag} {} already exists: pass --force to replace it, or choose another path",
            path.display()
        ))
        .into(),
        _ => fail(e.error),
    })
}

/// A write that failed after its path was checked: the environment's
/// failure (exit 1), not bad input — a full disk said in plain words.
fn write_failure(path: &Path, error: &std::io::Error) -> anyhow::Error {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => anyhow::anyhow!(
            "cannot write {}: no space left on the device (nothing was written)",
            path.display()
        ),
        _ => anyhow::anyhow!("cannot write {}: {error}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_the_environments_failure_said_plainly() {
        let path = Path::new("out.svg");
        for full in [
            std::io::Error::from(std::io::ErrorKind::StorageFull),
            std::io::Error::from_raw_os_error(28), // ENOSPC
        ] {
            let error = write_failure(path, &full);
            assert!(
                error.to_string().contains("no space left on the device"),
                "{error}"
            );
            assert!(
                error.downcast_ref::<InputError>().is_none(),
                "exit 1, not 2"
            );
        }
        let other = write_failure(path, &std::io::Error::other("I/O error"));
        assert!(other.downcast_ref::<InputError>().is_none());
    }

    #[test]
    fn an_existing_file_is_kept_unless_forced_and_other_kinds_are_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kept.json");
        std::fs::write(&file, "precious").unwrap();
        let error = write_whole(&file, "--record", Overwrite::Refuse, b"new").unwrap_err();
        assert!(
            error.to_string().contains("already exists: pass --force"),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
        write_whole(&file, "--record", Overwrite::Replace, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");

        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let error = write_whole(&link, "--record", Overwrite::Replace, b"x").unwrap_err();
        assert!(error.to_string().contains("not a regular file"), "{error}");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");

        let error = write_whole(dir.path(), "-o", Overwrite::Replace, b"x").unwrap_err();
        assert!(error.to_string().contains("is a directory"), "{error}");
        // Nothing but the two files was left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_written_file_gets_the_mode_of_any_file_the_user_writes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.txt");
        std::fs::write(&plain, "x").unwrap();
        let written = dir.path().join("chart.svg");
        write_whole(&written, "--plot", Overwrite::Refuse, b"<svg/>").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&written), mode(&plain));
        assert_ne!(mode(&written), 0o600, "a private temporary file's mode");
    }

    #[test]
    fn text_files_must_be_regular_and_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("in.txt");
        std::fs::write(&file, "a\nb\n").unwrap();
        assert_eq!(read_text(&file, "inputs file", 16).unwrap(), "a\nb\n");
        let error = read_text(&file, "inputs file", 2).unwrap_err().to_string();
        assert!(
            error.contains("larger than detprob reads (2 bytes at most)"),
            "{error}"
        );
        let error = read_text(dir.path(), "scenario", 16)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("not a regular file (it is a directory)"),
            "{error}"
        );
        let error = read_text(Path::new("/dev/zero"), "manifest", 16)
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a regular file"), "{error}");
    }
}
