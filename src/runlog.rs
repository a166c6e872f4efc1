//! The run log: every `generate`, `compare`, `sweep` (local or on a server
//! with `--endpoint`), every `audit` and every request `detprob serve`
//! answered, recorded in an SQLite database beside the cache
//! (`runs.sqlite`). Each entry holds a replay manifest (model and its
//! checksum or the server, prompts and ids, settings and seeds, tokens, text) plus the
//! facts `log list` shows. Each entry is written in one transaction, so a
//! killed process loses at most the entry it was writing, never the
//! database. `--no-log` or `DETPROB_LOG=off` turns it off; `DETPROB_LOG=PATH`
//! puts it elsewhere.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags};

use crate::error::{invalid, InputError};
use crate::experiments::manifest::Manifest;

/// The environment variable that turns the log off (`off`) or moves it (a path).
pub const LOG_ENV: &str = "DETPROB_LOG";

/// Where the log is, or `None` when it is turned off.
pub fn location(no_log: bool) -> Option<PathBuf> {
    if no_log {
        return None;
    }
    match std::env::var_os(LOG_ENV) {
        Some(v) if v == "off" || v == "0" || v == "false" => None,
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => Some(crate::store::cache_dir().join("runs.sqlite")),
    }
}

static CONFIGURED: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();

/// Sets this process's log from the command line's `--no-log` (once, at start).
pub fn configure(no_log: bool) {
    let _ = CONFIGURED.set(location(no_log));
}

/// This process's log: where runs are recorded, or `None` when it is off.
pub fn current() -> Option<&'static Path> {
    CONFIGURED.get_or_init(|| location(false)).as_deref()
}

pub use crate::report::log::{EntrySummary, LogEntry as Entry};

/// An open log.
pub struct RunLog {
    connection: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_unix REAL NOT NULL,
    recorded TEXT NOT NULL,
    command TEXT NOT NULL,
    model TEXT NOT NULL,
    runs INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    text TEXT NOT NULL,
    manifest TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_recorded ON entries (recorded_unix);
";

impl RunLog {
    /// Opens (creating if needed) the log at `path`.
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let unreadable = |e: rusqlite::Error| {
            invalid(format!(
                "run log {}: {}",
                path.display(),
                crate::gguf::first_line(&e.to_string())
            ))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| invalid(format!("run log {}: {e}", path.display())))?;
        }
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(unreadable)?;
        connection
            .busy_timeout(Duration::from_secs(10))
            .map_err(unreadable)?;
        // WAL: readers never block the writer, and a killed writer leaves the
        // last committed entry whole.
        connection
            .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(unreadable)?;
        connection
            .execute_batch("PRAGMA synchronous = NORMAL;")
            .map_err(unreadable)?;
        connection.execute_batch(SCHEMA).map_err(unreadable)?;
        Ok(Self { connection })
    }

    /// Opens an existing log for reading (an error when there is none).
    pub fn open_existing(path: &Path) -> Result<Self, InputError> {
        if !path.exists() {
            return Err(invalid(format!(
                "no run log at {} (nothing recorded yet, or the log is off)",
                path.display()
            )));
        }
        Self::open(path)
    }

    /// Records `manifest` as one entry, in one transaction; returns its id.
    pub fn record(&mut self, manifest: &Manifest) -> Result<i64, InputError> {
        let body = serde_json::to_string(manifest).expect("a manifest serializes");
        let model = manifest.model.alias.clone().unwrap_or_else(|| {
            manifest
                .model
                .path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        });
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let tokens: usize = manifest.runs.iter().map(|r| r.tokens.len()).sum();
        let prompt = manifest.prompts.first().map_or("", |p| p.text.as_str());
        let text = manifest.runs.first().map_or("", |r| r.text.as_str());
        let failed = |e: rusqlite::Error| {
            invalid(format!(
                "run log: {}",
                crate::gguf::first_line(&e.to_string())
            ))
        };
        let transaction = self.connection.transaction().map_err(failed)?;
        transaction
            .execute(
                "INSERT INTO entries (recorded_unix, recorded, command, model, runs, tokens, prompt, text, manifest)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    now.as_secs_f64(),
                    rfc3339(now.as_secs()),
                    manifest.command,
                    model,
                    manifest.runs.len() as i64,
                    tokens as i64,
                    prompt,
                    text,
                    body
                ],
            )
            .map_err(failed)?;
        let id = transaction.last_insert_rowid();
        transaction.commit().map_err(failed)?;
        Ok(id)
    }

    /// Entries recorded at or after `since` (Unix seconds) whose prompt or
    /// text contains `grep`, newest first, at most `limit`.
    pub fn list(
        &self,
        since: Option<f64>,
        grep: Option<&str>,
        limit: usize,
    ) -> Result<Vec<EntrySummary>, InputError> {
        let failed = |e: rusqlite::Error| {
            invalid(format!(
                "run log: {}",
                crate::gguf::first_line(&e.to_string())
            ))
        };
        let mut statement = self
            .connection
            .prepare(
                "SELECT id, recorded, command, model, runs, tokens, prompt, text FROM entries
                 WHERE recorded_unix >= ?1 AND (?2 IS NULL OR instr(prompt, ?2) > 0 OR instr(text, ?2) > 0)
                 ORDER BY id DESC LIMIT ?3",
            )
            .map_err(failed)?;
        let rows = statement
            .query_map(
                params![since.unwrap_or(0.0), grep, limit as i64],
                summary_of,
            )
            .map_err(failed)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(failed)
    }

    /// The entry `id`.
    pub fn get(&self, id: i64) -> Result<Entry, InputError> {
        let failed = |e: rusqlite::Error| {
            invalid(format!(
                "run log: {}",
                crate::gguf::first_line(&e.to_string())
            ))
        };
        let row = self
            .connection
            .query_row(
                "SELECT id, recorded, command, model, runs, tokens, prompt, text, manifest FROM entries WHERE id = ?1",
                params![id],
                |row| Ok((summary_of(row)?, row.get::<_, String>(8)?)),
            )
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => invalid(format!("the run log has no entry {id}")),
                e => failed(e),
            })?;
        let manifest: Manifest = serde_json::from_str(&row.1)
            .map_err(|e| invalid(format!("run log entry {id} is damaged: {e}")))?;
        Ok(Entry {
            summary: row.0,
            manifest,
        })
    }
}

fn summary_of(row: &rusqlite::Row) -> rusqlite::Result<EntrySummary> {
    Ok(EntrySummary {
        id: row.get(0)?,
        recorded: row.get(1)?,
        command: row.get(2)?,
        model: row.get(3)?,
        runs: row.get::<_, i64>(4)? as usize,
        tokens: row.get::<_, i64>(5)? as usize,
        prompt: row.get(6)?,
        text: row.get(7)?,
    })
}

/// Records `manifest` in this process's log (if on). A log that cannot be
/// written never fails the run: it says so on stderr, once per run.
pub fn record_quietly(manifest: &Manifest) {
    let Some(path) = current() else { return };
    if let Err(e) = RunLog::open(path).and_then(|mut log| log.record(manifest)) {
        eprintln!("warning: {e} (the run itself is unaffected)");
    }
}

/// A thread that records the manifests sent to it (for `detprob serve`,
/// whose workers must not wait on the disk). Dropping every sender ends it.
pub fn writer(path: PathBuf) -> Result<mpsc::Sender<Manifest>, InputError> {
    let mut log = RunLog::open(&path)?;
    let (sender, manifests) = mpsc::channel::<Manifest>();
    std::thread::Builder::new()
        .name("run log".into())
        .spawn(move || {
            let mut warned = false;
            for manifest in manifests {
                if let Err(e) = log.record(&manifest) {
                    if !warned {
                        eprintln!("warning: {e} (requests are still answered)");
                        warned = true;
                    }
                }
            }
        })
        .map_err(|e| invalid(format!("run log: cannot start its thread: {e}")))?;
    Ok(sender)
}

/// Reads `--since`: a date (`2026-12-06`), a UTC time
/// (`2026-12-06T13:00:00`), or an age (`30m`, `2h`, `7d`); Unix seconds.
pub fn parse_since(text: &str) -> Result<f64, InputError> {
    let bad = || {
        invalid(format!(
            "--since: '{text}' is not a date (2026-12-06), a UTC time (2026-12-06T13:00:00) or an age (30m, 2h, 7d)"
        ))
    };
    let text = text.trim();
    if let Some((number, unit)) = text
        .find(|c: char| !c.is_ascii_digit())
        .filter(|&i| i > 0 && i + 1 == text.len())
        .map(|i| text.split_at(i))
    {
        let n: f64 = number.parse().map_err(|_| bad())?;
        let seconds = match unit {
            "s" => n,
            "m" => n * 60.0,
            "h" => n * 3600.0,
            "d" => n * 86400.0,
            _ => return Err(bad()),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        return Ok(now.as_secs_f64() - seconds);
    }
    let (date, time) = text.split_once('T').unwrap_or((text, "00:00:00"));
    let parts: Vec<&str> = date.split('-').collect();
    let clock: Vec<&str> = time.trim_end_matches('Z').split(':').collect();
    if parts.len() != 3 || clock.len() != 3 {
        return Err(bad());
    }
    let number = |s: &str| s.parse::<i64>().map_err(|_| bad());
    let (y, m, d) = (number(parts[0])?, number(parts[1])?, number(parts[2])?);
    let (hh, mm, ss) = (number(clock[0])?, number(clock[1])?, number(clock[2])?);
    if !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
        || hh > 23
        || mm > 59
        || ss > 60
        || hh < 0
        || mm < 0
        || ss < 0
    {
        return Err(bad());
    }
    Ok((days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss) as f64)
}

/// `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rest = secs % 86400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ages_are_read_and_written_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_796_564_707), "2026-12-06T13:45:07Z");
        assert_eq!(parse_since("2026-12-06T13:45:07").unwrap(), 1_796_564_707.0);
        assert_eq!(parse_since("1970-01-02").unwrap(), 86400.0);
        assert_eq!(parse_since("2000-02-29").unwrap(), 951_782_400.0);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!((now - 7200.0 - parse_since("2h").unwrap()).abs() < 5.0);
        for bad in [
            "",
            "yesterday",
            "2h30",
            "2026-13-01",
            "5w",
            "2026-12-06T25:00:00",
            "-3d",
        ] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_entry_is_recorded_whole_and_found_by_time_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.sqlite");
        let mut log = RunLog::open(&path).unwrap();
        let mut manifest = crate::experiments::manifest::tests::manifest_fixture();
        let first = log.record(&manifest).unwrap();
        manifest.runs[0].text = "something else".into();
        let second = log.record(&manifest).unwrap();
        assert!(second > first);
        let all = log.list(None, None, 10).unwrap();
        assert_eq!(
            all.iter().map(|e| e.id).collect::<Vec<_>>(),
            [second, first]
        );
        let found = log.list(None, Some("else"), 10).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, second);
        assert!(log.list(Some(4e9), None, 10).unwrap().is_empty());
        assert_eq!(log.get(first).unwrap().manifest.runs[0].text, "ok");
        assert!(log.get(999).is_err());
        // Another connection (another process) sees both entries.
        assert_eq!(
            RunLog::open_existing(&path)
                .unwrap()
                .list(None, None, 10)
                .unwrap()
                .len(),
            2
        );
        assert!(RunLog::open_existing(&dir.path().join("none.sqlite")).is_err());
    }
}
