//! The bundle directory (`CONNECTOR_SEND_TO_DIRECTORY`): every bundle the connector sends is also
//! written there as one JSON file, in the layout pycti's connectors use, so that an auditor (or an
//! air-gapped hand-over with `CONNECTOR_SEND_TO_QUEUE=false`) sees exactly what OpenCTI got.
//!
//! The file is written under a temporary name and renamed, so a reader watching for `*.json`
//! never sees half a bundle; the write runs off the async workers and is bounded in time, so a
//! hung network mount holds one request for at most [`WRITE_TIMEOUT`], never the daemon. Files
//! older than the retention are deleted when a bundle is written (at most once per
//! [`SWEEP_PERIOD`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::config::{BundleDirectorySettings, ConnectorSettings};

/// Longest a bundle write (with its retention sweep) may take before the request reports it failed.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Least time between two retention sweeps: a busy connector does not list the directory for
/// every bundle.
pub const SWEEP_PERIOD: Duration = Duration::from_secs(600);
/// Most directory entries looked at in one sweep (a directory shared with a huge archive must
/// not stall a request).
const SWEEP_MAX_ENTRIES: usize = 100_000;
const DAY: Duration = Duration::from_secs(86_400);

/// A bundle directory problem: which operation, on which path, and the system's reason.
#[derive(Debug, thiserror::Error)]
#[error("cannot {op} {path}: {reason}")]
pub struct DirectoryError {
    op: &'static str,
    path: String,
    reason: String,
}

impl DirectoryError {
    fn new(op: &'static str, path: &Path, reason: impl ToString) -> DirectoryError {
        DirectoryError {
            op,
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Who wrote a bundle, as pycti records it in each file (`connector` block).
#[derive(Debug, Clone)]
struct Writer {
    id: String,
    name: String,
    scope: String,
    auto: bool,
}

/// The open bundle directory of a running connector.
#[derive(Debug)]
pub struct BundleDirectory {
    path: PathBuf,
    retention_days: u32,
    writer: Writer,
    /// When the next retention sweep is due (`None`: at the next write).
    next_sweep: Arc<Mutex<Option<Instant>>>,
}

impl BundleDirectory {
    /// Check at start-up that the directory exists and takes files (a probe file is written and
    /// removed), so that a wrong path stops the connector instead of failing every request.
    pub fn open(
        settings: &BundleDirectorySettings,
        connector: &ConnectorSettings,
    ) -> Result<BundleDirectory, DirectoryError> {
        let path = settings.path.clone();
        if !path.is_dir() {
            return Err(DirectoryError::new(
                "use",
                &path,
                "not an existing directory (CONNECTOR_SEND_TO_DIRECTORY_PATH)",
            ));
        }
        let probe = path.join(format!(
            ".connector-wazuh-probe-{}.tmp",
            uuid::Uuid::new_v4()
        ));
        std::fs::write(&probe, b"{}").map_err(|e| DirectoryError::new("write to", &path, e))?;
        std::fs::remove_file(&probe).map_err(|e| DirectoryError::new("remove", &probe, e))?;
        Ok(BundleDirectory {
            path,
            retention_days: settings.retention_days,
            writer: Writer {
                id: connector.id.clone(),
                name: connector.name.clone(),
                scope: connector.scope.join(","),
                auto: connector.auto,
            },
            next_sweep: Arc::new(Mutex::new(None)),
        })
    }

    /// What `connector-wazuh check` says about a directory that takes files.
    pub fn describe(&self) -> String {
        let retention = match self.retention_days {
            0 => "kept forever".to_string(),
            d => format!("deleted after {d} day(s)"),
        };
        format!("{} takes bundle files ({retention})", self.path.display())
    }

    /// Write one sent bundle (with the request's applicant and work); returns the file's path.
    pub async fn write(
        &self,
        bundle: &Value,
        applicant_id: Option<&str>,
        work_id: Option<&str>,
    ) -> Result<PathBuf, DirectoryError> {
        let now = SystemTime::now();
        let bundle_id = bundle["id"].as_str().unwrap_or_default();
        let name = file_name(&self.writer.name, now, bundle_id);
        let body = envelope(&self.writer, bundle, applicant_id, work_id).to_string();
        let dir = self.path.clone();
        let retention_days = self.retention_days;
        let sweep = self.sweep_due();
        let job = tokio::task::spawn_blocking(move || {
            if sweep {
                sweep_expired(&dir, retention_days, SystemTime::now());
            }
            write_atomically(&dir, &name, body.as_bytes())
        });
        match tokio::time::timeout(WRITE_TIMEOUT, job).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(DirectoryError::new("write to", &self.path, e)),
            Err(_) => Err(DirectoryError::new(
                "write to",
                &self.path,
                format!("no answer within {}s", WRITE_TIMEOUT.as_secs()),
            )),
        }
    }

    /// Keep a bundle being sent. When results go only here (`only_here`), a failed write is a
    /// failed delivery (`Err`); otherwise the bundle still goes to OpenCTI and the failure comes
    /// back as a remark for the work's message, so the analyst learns that the audit copy is
    /// missing.
    pub async fn keep(
        &self,
        bundle: &Value,
        applicant_id: Option<&str>,
        work_id: Option<&str>,
        only_here: bool,
    ) -> Result<Option<String>, String> {
        match self.write(bundle, applicant_id, work_id).await {
            Ok(path) => {
                tracing::debug!(file = %path.display(), "bundle written to the bundle directory");
                Ok(None)
            }
            Err(e) if only_here => Err(e.to_string()),
            Err(e) => {
                tracing::warn!(error = %e, "bundle sent but not written to the bundle directory");
                Ok(Some(format!(
                    "(The bundle was not written to the bundle directory: {e}.)"
                )))
            }
        }
    }

    /// Whether this write also sweeps expired files (and, if so, when the next one is due).
    fn sweep_due(&self) -> bool {
        if self.retention_days == 0 {
            return false;
        }
        let Ok(mut next) = self.next_sweep.lock() else {
            return false;
        };
        let now = Instant::now();
        if next.is_some_and(|t| t > now) {
            return false;
        }
        *next = Some(now + SWEEP_PERIOD);
        true
    }
}

/// pycti's file name — the connector name in lower case with `_` for spaces, the UTC date and
/// time, the Unix time — plus the start of the bundle id, so that two bundles written in the same
/// microsecond never replace each other. Characters that could leave the directory are replaced.
pub fn file_name(connector_name: &str, now: SystemTime, bundle_id: &str) -> String {
    let stem: String = connector_name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.');
    let t: DateTime<Utc> = now.into();
    let unix = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let tag: String = bundle_id
        .trim_start_matches("bundle--")
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(8)
        .collect();
    format!(
        "{stem}-{}-{}.{:06}-{tag}.json",
        t.format("%Y%m%d-%H%M%S"),
        unix.as_secs(),
        unix.subsec_micros()
    )
}

/// What one file holds: pycti's `DIRECTORY_BUNDLE` message (who sent it, for whom, the bundle),
/// with the work id added so that a file can be matched to its work in OpenCTI.
fn envelope(
    w: &Writer,
    bundle: &Value,
    applicant_id: Option<&str>,
    work_id: Option<&str>,
) -> Value {
    json!({
        "bundle_type": "DIRECTORY_BUNDLE",
        "applicant_id": applicant_id,
        "connector": {
            "id": w.id,
            "name": w.name,
            "type": "INTERNAL_ENRICHMENT",
            "scope": w.scope,
            "auto": w.auto,
            "validate_before_import": false,
        },
        "entities_types": [],
        "bundle": bundle,
        "update": false,
        "work_id": work_id,
    })
}

/// Write `body` as `dir/name` through a temporary file, flushed to disk before the rename, so the
/// final name appears complete (also after a crash: never an empty audit file).
fn write_atomically(dir: &Path, name: &str, body: &[u8]) -> Result<PathBuf, DirectoryError> {
    let tmp = dir.join(format!("{name}.tmp"));
    let path = dir.join(name);
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(body)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(DirectoryError::new("write", &tmp, e));
    }
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        DirectoryError::new("rename into place", &path, e)
    })?;
    Ok(path)
}

/// Whether a file last modified at `modified` is past a retention of `days` (pycti: strictly
/// older than `days` × 24 h).
pub fn expired(modified: SystemTime, now: SystemTime, days: u32) -> bool {
    days > 0
        && now
            .duration_since(modified)
            .is_ok_and(|age| age > DAY * days)
}

/// Delete the directory's `*.json` files past the retention (as pycti, whoever wrote them); a
/// file that cannot be removed is logged and left for the next sweep.
fn sweep_expired(dir: &Path, days: u32, now: SystemTime) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(directory = %dir.display(), "cannot list the bundle directory for its retention");
        return 0;
    };
    let mut removed = 0;
    for entry in entries.take(SWEEP_MAX_ENTRIES).flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let modified = entry.metadata().and_then(|m| m.modified());
        let Ok(modified) = modified else { continue };
        if !expired(modified, now, days) {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot delete an expired bundle file")
            }
        }
    }
    if removed > 0 {
        tracing::info!(directory = %dir.display(), removed, retention_days = days, "expired bundle files deleted");
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn file_names_follow_pycti_and_stay_in_the_directory() {
        let now = at(1_764_921_600) + Duration::from_micros(42);
        assert_eq!(
            file_name(
                "Wazuh SIEM",
                now,
                "bundle--0a1b2c3d-ffff-4000-8000-000000000000"
            ),
            "wazuh_siem-20251205-080000-1764921600.000042-0a1b2c3d.json"
        );
        let hostile = file_name("../../etc/x", now, "bundle--zz");
        assert!(!hostile.contains('/'), "{hostile}");
        assert!(hostile.starts_with("_.._etc_x-"), "{hostile}");
    }

    #[test]
    fn retention_is_in_whole_days_and_zero_keeps_everything() {
        let now = at(10 * 86_400);
        assert!(expired(at(2 * 86_400 - 1), now, 8));
        assert!(!expired(at(2 * 86_400), now, 8));
        assert!(!expired(at(0), now, 0));
        // A clock set back (file from the future) is never deleted.
        assert!(!expired(at(11 * 86_400), now, 1));
    }

    #[test]
    fn envelope_is_pycti_directory_bundle() {
        let w = Writer {
            id: "c".into(),
            name: "Wazuh".into(),
            scope: "IPv4-Addr,StixFile".into(),
            auto: true,
        };
        let b = json!({"type": "bundle", "id": "bundle--1", "objects": [{"id": "x"}]});
        let e = envelope(&w, &b, Some("user--1"), Some("work-1"));
        assert_eq!(e["bundle_type"], "DIRECTORY_BUNDLE");
        assert_eq!(e["bundle"], b);
        assert_eq!(e["connector"]["scope"], "IPv4-Addr,StixFile");
        assert_eq!(e["applicant_id"], "user--1");
        assert_eq!(e["work_id"], "work-1");
    }

    #[test]
    fn atomic_write_and_sweep_on_a_real_directory() {
        let dir = std::env::temp_dir().join(format!("cw-dir-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let p = write_atomically(&dir, "a.json", b"{}").expect("write");
        assert_eq!(std::fs::read(&p).expect("read"), b"{}");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("a.json")],
            "no temporary file left"
        );
        std::fs::write(dir.join("keep.txt"), b"x").expect("other file");
        let later = SystemTime::now() + DAY * 3;
        assert_eq!(sweep_expired(&dir, 2, later), 1);
        assert!(!p.exists());
        assert!(dir.join("keep.txt").exists(), "only JSON files are swept");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
