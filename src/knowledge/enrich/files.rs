//! Where on disk: files (with their directory), directories and registry keys.

use super::values::{describe, undouble, values, REGISTRY};
use super::Extractor;
use crate::alert::Alert;
use crate::stix::model;
use crate::stix::{self, StixObject};

impl Extractor<'_, '_> {
    pub(super) fn files(&mut self, a: &Alert) {
        const FIELDS: &[&str] = &[
            "data.ChildPath",
            "data.ParentPath",
            "data.Path",
            "data.TargetFilename",
            "data.TargetPath",
            "data.audit.file.name",
            "data.file",
            "data.office365.SourceFileName",
            "data.osquery.columns.path",
            "data.sca.check.file",
            "data.smbd.filename",
            "data.smbd.new_filename",
            "data.virustotal.source.file",
            "data.win.eventdata.file",
            "data.win.eventdata.filePath",
            "syscheck.path",
            // Wazuh 5 findings (WCS).
            "file.path",
        ];
        for f in FIELDS {
            let vals = values(a, f);
            // `data.sca.check.file` is a list of candidate files: the first is the checked one.
            let vals = if *f == "data.sca.check.file" {
                vals.into_iter().take(1).collect()
            } else {
                vals
            };
            for v in vals {
                if REGISTRY.is_match(&v) {
                    continue;
                }
                // File metadata belongs to the file the alert is about (FIM / osquery path).
                let props = if matches!(
                    *f,
                    "syscheck.path" | "data.osquery.columns.path" | "file.path"
                ) {
                    file_metadata(a)
                } else {
                    model::File::default()
                };
                let (o, nested, _) = self.file_for_path(&v, props);
                let d = describe(&format!("StixFile {v}"), f, a);
                self.push(o, nested, "related-to", d, a);
            }
        }
    }

    pub(super) fn directories(&mut self, a: &Alert) {
        for f in [
            "data.audit.directory.name",
            "data.home",
            "data.office365.SourceRelativeUrl",
            "data.osquery.columns.directory",
            "data.pwd",
        ] {
            for v in values(a, f) {
                let (o, _) = self.sco(StixObject::Directory, model::Directory { path: v.clone() });
                let d = describe(&format!("Directory {v}"), f, a);
                self.push(o, vec![], "related-to", d, a);
            }
        }
    }

    pub(super) fn registry_keys(&mut self, a: &Alert) {
        for f in [
            "syscheck.path",
            "data.win.eventdata.targetObject",
            "registry.path",
        ] {
            for v in values(a, f) {
                let key = undouble(&v);
                if !REGISTRY.is_match(&key) {
                    continue;
                }
                let key = crate::knowledge::registry_key_in_stix_form(&key);
                let mut props = model::WindowsRegistryKey {
                    key: key.clone(),
                    values: Vec::new(),
                };
                if f == "syscheck.path" {
                    if let Some(name) = values(a, "syscheck.value_name").into_iter().next() {
                        props.values.push(model::RegistryValue {
                            name,
                            data_type: values(a, "syscheck.value_type").into_iter().next(),
                        });
                    }
                }
                let (o, _) = self.sco(StixObject::WindowsRegistryKey, props);
                let d = describe(&format!("Windows-Registry-Key {key}"), f, a);
                self.push(o, vec![], "related-to", d, a);
            }
        }
    }
}

/// Size, hashes and times of the file an alert is about (syscheck / osquery).
fn file_metadata(a: &Alert) -> model::File {
    let mut m = model::File::default();
    let first = |fields: &[&str]| fields.iter().find_map(|f| values(a, f).into_iter().next());
    if let Some(size) = first(&["syscheck.size_after", "syscheck.size_before", "file.size"])
        .and_then(|s| s.parse::<u64>().ok())
    {
        m.size = Some(size);
    }
    let hashes = &mut m.hashes;
    for (name, fields) in [
        (
            "MD5",
            [
                "data.osquery.columns.md5",
                "syscheck.md5_after",
                "syscheck.md5_before",
                "file.hash.md5",
            ],
        ),
        (
            "SHA-1",
            [
                "data.osquery.columns.sha1",
                "syscheck.sha1_after",
                "syscheck.sha1_before",
                "file.hash.sha1",
            ],
        ),
        (
            "SHA-256",
            [
                "data.osquery.columns.sha256",
                "syscheck.sha256_after",
                "syscheck.sha256_before",
                "file.hash.sha256",
            ],
        ),
    ] {
        if let Some(h) = first(&fields).filter(|h| h.chars().all(|c| c.is_ascii_hexdigit())) {
            hashes.insert(name.to_string(), h);
        }
    }
    let time = |fields: &[&str]| {
        fields.iter().find_map(|f| {
            values(a, f).into_iter().find_map(|v| {
                stix::normalise_time(&v).or_else(|| {
                    v.parse::<i64>()
                        .ok()
                        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
                        .map(stix::timestamp)
                })
            })
        })
    };
    m.ctime = time(&["data.osquery.columns.ctime"]);
    m.mtime = time(&[
        "syscheck.mtime_after",
        "syscheck.mtime_before",
        "data.osquery.columns.mtime",
    ]);
    m.atime = time(&["data.osquery.columns.atime"]);
    m
}
