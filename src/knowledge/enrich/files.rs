//! Where on disk: files (with their directory), directories and registry keys.

use super::values::{describe, first, undouble, values, REGISTRY};
use super::Extractor;
use crate::alert::Alert;
use crate::stix::model;
use crate::stix::{self, StixObject};
use crate::vocabulary::context::Role;

impl Extractor<'_, '_> {
    pub(super) fn files(&mut self, a: &Alert) {
        for f in self.fields(Role::File) {
            let vals = values(a, f);
            let vals = if self.has_role(f, Role::FirstItemOnly) {
                vals.into_iter().take(1).collect()
            } else {
                vals
            };
            for v in vals {
                if REGISTRY.is_match(&v) {
                    continue;
                }
                // File metadata belongs to the file the alert is about (FIM / osquery path).
                let props = if self.has_role(f, Role::FileWithMetadata) {
                    file_metadata(self, a)
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
        for f in self.fields(Role::Directory) {
            for v in values(a, f) {
                let (o, _) = self.sco(StixObject::Directory, model::Directory { path: v.clone() });
                let d = describe(&format!("Directory {v}"), f, a);
                self.push(o, vec![], "related-to", d, a);
            }
        }
    }

    pub(super) fn registry_keys(&mut self, a: &Alert) {
        for f in self.fields(Role::RegistryKey) {
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
                if self.has_role(f, Role::RegistryKeyWithValue) {
                    if let Some(name) = first(a, self.fields(Role::RegistryValueName)) {
                        props.values.push(model::RegistryValue {
                            name,
                            data_type: first(a, self.fields(Role::RegistryValueType)),
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
fn file_metadata(x: &Extractor<'_, '_>, a: &Alert) -> model::File {
    let mut m = model::File::default();
    if let Some(size) = first(a, x.fields(Role::FileSize)).and_then(|s| s.parse::<u64>().ok()) {
        m.size = Some(size);
    }
    for (name, role) in [
        ("MD5", Role::FileMd5),
        ("SHA-1", Role::FileSha1),
        ("SHA-256", Role::FileSha256),
    ] {
        if let Some(h) =
            first(a, x.fields(role)).filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
        {
            m.hashes.insert(name.to_string(), h);
        }
    }
    let time = |role| {
        x.fields(role).into_iter().find_map(|f| {
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
    m.ctime = time(Role::FileCtime);
    m.mtime = time(Role::FileMtime);
    m.atime = time(Role::FileAtime);
    m
}
