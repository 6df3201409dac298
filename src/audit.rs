//! The audit trail: one JSON line per tool call, appended to `--audit-log`.
//!
//! A line says who asked for what and how it ended — time, tool, project,
//! environment, path, key, outcome, latency, request id — and never a value,
//! token or client secret: the types written here have no field that could
//! hold one. The file is created 0600, each line goes out in one append, and
//! a file moved away by logrotate is noticed and reopened.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot open the audit log {path}: {source}")]
    Open { path: String, source: std::io::Error },
}

/// What a tool call touched; filled in as the call resolves its arguments.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry<'a> {
    pub time: String,
    pub tool: &'a str,
    #[serde(flatten)]
    pub target: &'a Target,
    pub outcome: &'a str,
    pub latency_ms: u64,
    pub request_id: String,
}

pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

fn open(path: &Path) -> Result<File, AuditError> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|source| AuditError::Open {
        path: path.display().to_string(),
        source,
    })
}

/// Whether `path` still names the file we hold (logrotate renames it away).
#[cfg(unix)]
fn still_ours(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(on_disk), Ok(held)) => on_disk.ino() == held.ino() && on_disk.dev() == held.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_ours(path: &Path, _file: &File) -> bool {
    path.exists()
}

impl AuditLog {
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        Ok(Self {
            path: path.to_path_buf(),
            file: Mutex::new(open(path)?),
        })
    }

    /// Appends one line. An audit failure is logged, not fatal: refusing to
    /// serve because the disk is full would be worse for the operator.
    pub fn record(&self, entry: &(impl Serialize + ?Sized)) {
        let mut line = match serde_json::to_vec(entry) {
            Ok(line) => line,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode an audit line");
                return;
            }
        };
        line.push(b'\n');
        let Ok(mut file) = self.file.lock() else {
            tracing::error!("audit log lock poisoned; line dropped");
            return;
        };
        if !still_ours(&self.path, &file) {
            match open(&self.path) {
                Ok(fresh) => *file = fresh,
                Err(e) => tracing::error!(error = %e, "cannot reopen the audit log"),
            }
        }
        // One write call per line: with O_APPEND, lines from concurrent calls
        // (or processes) never interleave.
        if let Err(e) = file.write_all(&line) {
            tracing::error!(error = %e, path = %self.path.display(), "cannot write the audit log");
        }
    }
}

/// RFC 3339 UTC time, millisecond precision.
pub fn now() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}
