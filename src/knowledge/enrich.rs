//! Context objects extracted from alerts (spec §5.6, `WAZUH_ENRICH_TYPES`): attack patterns,
//! tools, accounts, URLs, e-mail addresses, files, directories, registry keys, addresses,
//! user agents, processes, software and vulnerabilities, network traffic and domain names, each
//! linked to its incident with a description naming the alert and the field.
//!
//! Robust by construction: every value is looked up, type-checked and validated; anything odd is
//! skipped with a debug log (the reference crashed the whole enrichment on several shapes, §7.3).

use super::sightings::stix_time;
use super::Ctx;
use crate::alert::Alert;
use crate::config::{EnrichType, FilenameBehaviour};
use crate::stix::model::{self, single, Sco};
use crate::stix::{self, id, StixObject};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::LazyLock;

/// At most this many context objects (with their nested objects) per incident.
pub const MAX_CONTEXT_OBJECTS: usize = 500;

/// One context object found in an alert.
#[derive(Debug, Clone)]
pub struct Found {
    pub object: StixObject,
    /// Objects it refers to (directories, images, accounts, endpoints, `has` relationships).
    pub nested: Vec<StixObject>,
    /// Relationship type from the incident (`related-to`, `uses`).
    pub relation: &'static str,
    pub description: String,
    /// STIX time of the alert (the relationship's `created`).
    pub alert_time: String,
}

/// Looks a dotted path up; keys that themselves contain dots (Docker labels such as
/// `org.opencontainers.image.source`) are matched too.
pub fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    fn go<'v>(v: &'v Value, parts: &[&str]) -> Option<&'v Value> {
        if parts.is_empty() {
            return Some(v);
        }
        let m = v.as_object()?;
        if let Some(found) = m.get(parts[0]).and_then(|x| go(x, &parts[1..])) {
            return Some(found);
        }
        // Only when some key continues with a dot is a dotted key worth building.
        let dotted = m.keys().any(|k| {
            k.len() > parts[0].len()
                && k.starts_with(parts[0])
                && k.as_bytes()[parts[0].len()] == b'.'
        });
        if !dotted {
            return None;
        }
        for k in 2..=parts.len() {
            if let Some(x) = m.get(&parts[..k].join(".")) {
                if let Some(found) = go(x, &parts[k..]) {
                    return Some(found);
                }
            }
        }
        None
    }
    let parts: Vec<&str> = path.split('.').collect();
    go(v, &parts)
}

/// Windows event data is stored with doubled backslashes; STIX values use single ones.
pub fn undouble(s: &str) -> String {
    s.replace("\\\\", "\\")
}

/// The non-empty string values at `field` (lists expanded, numbers as text; Windows event data
/// un-doubled).
fn values(a: &Alert, field: &str) -> Vec<String> {
    let Some(v) = lookup(&a.source, field) else {
        return Vec::new();
    };
    let one = |x: &Value| -> Option<String> {
        match x {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut out: Vec<String> = match v {
        Value::Array(a) => a.iter().filter_map(one).collect(),
        x => one(x).into_iter().collect(),
    };
    out.retain(|s| !s.is_empty());
    if field.starts_with("data.win.") {
        out = out.iter().map(|s| undouble(s)).collect();
    }
    out
}

fn describe(what: &str, field: &str, a: &Alert) -> String {
    let field = if field.is_empty() {
        String::new()
    } else {
        format!(" in {field}")
    };
    format!(
        "{what} found{field} in alert (ID {}, rule ID {}): {}",
        a.doc_id, a.rule.id, a.rule.description
    )
}

/// Splits a Windows or POSIX path into (directory, basename).
pub fn split_path(p: &str) -> (Option<&str>, &str) {
    match p.rfind(['\\', '/']) {
        Some(0) => (Some(&p[..1]), &p[1..]),
        Some(i) => (Some(&p[..i]), &p[i + 1..]),
        None => (None, p),
    }
}

static REGISTRY: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?i)^(HKEY_[A-Z_]+|HK(LM|CU|CR|U|CC))(\\+.*)?$").expect("static regex")
});
static SID: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"S-1-[0-59]-\d{1,10}(-\d{1,10}){1,14}").expect("static regex")
});
static UID_SUFFIX: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"\(uid=(\d+)\)\s*$").expect("static regex"));
static MITRE: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^T\d{4}(\.\d{3})?$").expect("static regex"));
static EMAIL: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").expect("static regex"));
static DOMAIN: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^(?i)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$")
        .expect("static regex")
});

/// Normalises a MAC address (`aa:bb:cc:dd:ee:ff`) from colon, hyphen, bare or Cisco dotted form.
pub fn normalise_mac(s: &str) -> Option<String> {
    let s = s.trim();
    let hex: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let seps: Vec<char> = s.chars().filter(|c| !c.is_ascii_hexdigit()).collect();
    let ok_shape = match seps.first() {
        None => s.len() == 12,
        Some('.') => seps.len() == 2 && seps.iter().all(|c| *c == '.') && s.len() == 14,
        Some(c @ (':' | '-')) => seps.len() == 5 && seps.iter().all(|x| x == c) && s.len() == 17,
        _ => false,
    };
    if !ok_shape || hex.len() != 12 {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    let pairs: Vec<&str> = (0..6).map(|i| &lower[i * 2..i * 2 + 2]).collect();
    Some(pairs.join(":"))
}

/// Sysmon's `hashes` string (`SHA1=…,MD5=…,SHA256=…,IMPHASH=…`) as STIX hashes.
pub fn parse_sysmon_hashes(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in s.split(',') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() || !v.chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        let name = match k.trim().to_ascii_uppercase().as_str() {
            "MD5" => "MD5",
            "SHA1" => "SHA-1",
            "SHA256" => "SHA-256",
            "SHA512" => "SHA-512",
            _ => continue,
        };
        out.insert(name.to_string(), v.to_string());
    }
    out
}

fn login(v: String) -> model::UserAccount {
    model::UserAccount {
        account_login: Some(v),
        user_id: None,
    }
}

fn user_id(v: String) -> model::UserAccount {
    model::UserAccount {
        account_login: None,
        user_id: Some(v),
    }
}

fn parse_pid(v: &str) -> Option<i64> {
    v.trim().parse::<i64>().ok().filter(|p| *p >= 0)
}

/// Extraction state for one incident.
struct Extractor<'c, 'a> {
    ctx: &'c Ctx<'a>,
    out: Vec<Found>,
    /// Ids already found: the first (newest) alert naming an object describes its link.
    seen: std::collections::HashSet<String>,
}

impl Extractor<'_, '_> {
    fn on(&self, t: EnrichType) -> bool {
        self.ctx.opts.enrich_types.contains(&t)
    }

    /// An SCO with the enrichment labels; returns it with the id others should refer to (the
    /// entity's own id when it is the entity — never re-emitted, never labelled).
    fn sco<T: Serialize>(&self, wrap: fn(Sco<T>) -> StixObject, props: T) -> (StixObject, String) {
        let o = self.ctx.common.sco(wrap, props, &self.ctx.enrich_labels);
        let rid = self.ref_id(o.id());
        (o, rid)
    }

    /// A Process (its id recipe is this project's: [`id::process`]).
    fn process(&self, id: String, props: model::Process) -> StixObject {
        self.ctx
            .common
            .sco_with_id(StixObject::Process, id, props, &self.ctx.enrich_labels)
    }

    fn ref_id(&self, id: &str) -> String {
        match &self.ctx.entity_alias {
            Some(alias) if alias == id => self.ctx.input.entity.standard_id.clone(),
            _ => id.to_string(),
        }
    }

    fn push(
        &mut self,
        object: StixObject,
        nested: Vec<StixObject>,
        relation: &'static str,
        description: String,
        a: &Alert,
    ) {
        if !self.seen.insert(object.id().to_string()) {
            return;
        }
        self.out.push(Found {
            object,
            nested,
            relation,
            description,
            alert_time: stix_time(self.ctx, &a.timestamp),
        });
    }

    fn attack_patterns(&mut self, a: &Alert) {
        for m in &a.rule.mitre_ids {
            let m = m.trim();
            if !MITRE.is_match(m) {
                tracing::debug!(mitre = m, "skipping a malformed MITRE id");
                continue;
            }
            let c = &self.ctx.common;
            let o = c.sdo(
                StixObject::AttackPattern,
                id::attack_pattern(m, Some(m)),
                &c.now,
                model::AttackPattern {
                    name: m.to_string(),
                    x_mitre_id: m.to_string(),
                },
            );
            let d = describe(&format!("Attack pattern {m}"), "rule.mitre.id", a);
            self.push(o, vec![], "uses", d, a);
        }
    }

    fn tools(&mut self, a: &Alert) {
        let mut names: Vec<(String, String)> = Vec::new();
        if a.rule.mitre_ids.iter().any(|m| m.trim() == "T1053.005") {
            names.push(("schtasks".into(), "rule.mitre.id".into()));
        } else if a.rule.description.to_lowercase().contains("psexec") {
            names.push(("PsExec".into(), "rule.description".into()));
        } else if !self.ctx.input.tools_in_opencti.is_empty() {
            const FIELDS: &[&str] = &[
                "data.win.eventdata.commandLine",
                "data.win.eventdata.details",
                "data.win.eventdata.parentCommandLine",
                "data.win.eventdata.image",
                "data.win.eventdata.sourceImage",
                "data.win.eventdata.targetImage",
                "data.audit.command",
                "data.command",
            ];
            for f in FIELDS {
                for v in values(a, f) {
                    for token in v.split(|c: char| {
                        c.is_whitespace() || matches!(c, '\\' | '/' | '"' | '\'' | ',' | ';')
                    }) {
                        let lower = token.to_ascii_lowercase();
                        let base = lower.strip_suffix(".exe").unwrap_or(&lower);
                        if base.is_empty() {
                            continue;
                        }
                        if let Some(t) = self
                            .ctx
                            .input
                            .tools_in_opencti
                            .iter()
                            .find(|t| t.trim().eq_ignore_ascii_case(base))
                        {
                            if !names.iter().any(|(n, _)| n == t) {
                                names.push((t.trim().to_string(), f.to_string()));
                            }
                        }
                    }
                }
            }
        }
        for (name, field) in names {
            let c = &self.ctx.common;
            let o = c.sdo(
                StixObject::Tool,
                id::named("tool", &name),
                &c.now,
                model::Tool { name: name.clone() },
            );
            let d = describe(&format!("Tool {name}"), &field, a);
            self.push(o, vec![], "uses", d, a);
        }
    }

    fn user_accounts(&mut self, a: &Alert) {
        let mut accounts: Vec<(model::UserAccount, String)> = Vec::new();
        for f in ["data.srcuser", "data.dstuser"] {
            for v in values(a, f) {
                let login = v.split('(').next().unwrap_or("").trim().to_string();
                let m = model::UserAccount {
                    account_login: (!login.is_empty()).then_some(login),
                    user_id: UID_SUFFIX
                        .captures(&v)
                        .and_then(|c| c.get(1))
                        .map(|uid| uid.as_str().to_string()),
                };
                if m.account_login.is_some() || m.user_id.is_some() {
                    accounts.push((m, f.to_string()));
                }
            }
        }
        const LOGINS: &[&str] = &[
            "data.aws.userIdentity.userName",
            "data.gcp.protoPayload.authenticationInfo.principalEmail",
            "data.office365.UserId",
            "data.win.eventdata.samAccountName",
            "data.win.eventdata.user",
            "syscheck.uname_after",
            "syscheck.uname_before",
        ];
        const UIDS: &[&str] = &[
            "data.audit.uid",
            "data.aws.userIdentity.accountId",
            "data.uid",
            "data.userId",
        ];
        for f in LOGINS {
            for v in values(a, f) {
                accounts.push((login(v), f.to_string()));
            }
        }
        for f in UIDS {
            for v in values(a, f) {
                accounts.push((user_id(v), f.to_string()));
            }
        }
        for f in ["data.win.eventdata.targetObject", "syscheck.path"] {
            for v in values(a, f) {
                if let Some(sid) = SID.find(&v) {
                    accounts.push((user_id(sid.as_str().to_string()), f.to_string()));
                }
            }
        }
        for (m, field) in accounts {
            let label = m
                .account_login
                .clone()
                .or_else(|| m.user_id.clone())
                .unwrap_or_default();
            let (o, _) = self.sco(StixObject::UserAccount, m);
            let d = describe(&format!("User-Account {label}"), &field, a);
            self.push(o, vec![], "related-to", d, a);
        }
    }

    fn urls(&mut self, a: &Alert) {
        const FIELDS: &[&str] = &[
            "data.docker.Actor.Attributes.org.opencontainers.image.source",
            "data.office365.MeetingURL",
            "data.office365.MessageURLs",
            "data.office365.RemoteItemWebUrl",
            "data.osquery.columns.update_url",
            "data.url",
        ];
        for f in FIELDS {
            for v in values(a, f) {
                let full = url::Url::parse(&v)
                    .map(|u| u.host_str().is_some_and(|h| !h.is_empty()))
                    .unwrap_or(false);
                if !full && !self.ctx.opts.enrich_urls_without_host {
                    tracing::debug!(field = f, "skipping a URL without host");
                    continue;
                }
                let (o, _) = self.sco(StixObject::Url, single(v.as_str()));
                let d = describe(&format!("Url {v}"), f, a);
                self.push(o, vec![], "related-to", d, a);
            }
        }
    }

    fn emails(&mut self, a: &Alert) {
        for f in [
            "data.gcp.protoPayload.authenticationInfo.principalEmail",
            "data.office365.UserId",
        ] {
            for v in values(a, f) {
                if !EMAIL.is_match(&v) {
                    continue;
                }
                let (o, _) = self.sco(StixObject::EmailAddr, single(v.as_str()));
                let d = describe(&format!("Email-Addr {v}"), f, a);
                self.push(o, vec![], "related-to", d, a);
            }
        }
    }

    /// A File (and its directory, per `WAZUH_ENRICH_FILENAME_BEHAVIOUR`) for `path`; returns
    /// (file, nested objects, id to refer to it by).
    fn file_for_path(
        &self,
        path: &str,
        mut props: model::File,
    ) -> (StixObject, Vec<StixObject>, String) {
        let fb = &self.ctx.opts.filename_behaviour;
        let (dir, base) = split_path(path);
        let name = if fb.contains(&FilenameBehaviour::RemovePath) && !base.is_empty() {
            base
        } else {
            path
        };
        props.name = name.to_string();
        if name != path {
            // The full path stays searchable in OpenCTI (`search-additional-filenames`).
            props.x_opencti_additional_names = vec![path.to_string()];
        }
        let mut nested = Vec::new();
        if fb.contains(&FilenameBehaviour::CreateDir) {
            if let Some(d) = dir.filter(|d| !d.is_empty()) {
                let (dobj, did) = self.sco(
                    StixObject::Directory,
                    model::Directory {
                        path: d.to_string(),
                    },
                );
                props.parent_directory_ref = Some(did);
                nested.push(dobj);
            }
        }
        let (f, fid) = self.sco(StixObject::File, props);
        (f, nested, fid)
    }

    fn files(&mut self, a: &Alert) {
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
                let props = if matches!(*f, "syscheck.path" | "data.osquery.columns.path") {
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

    fn directories(&mut self, a: &Alert) {
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

    fn registry_keys(&mut self, a: &Alert) {
        for f in ["syscheck.path", "data.win.eventdata.targetObject"] {
            for v in values(a, f) {
                let key = undouble(&v);
                if !REGISTRY.is_match(&key) {
                    continue;
                }
                let key = super::registry_key_in_stix_form(&key);
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

    fn addresses(&mut self, a: &Alert) {
        const FIELDS: &[&str] = &[
            "data.aws.remote_ip",
            "data.aws.source_ip_address",
            "data.dest_ip",
            "data.dstip",
            "data.gcp.protoPayload.requestMetadata.callerIp",
            "data.office365.ClientIP",
            "data.src_ip",
            "data.srcip",
            "data.win.eventdata.destinationIp",
            "data.win.eventdata.sourceIp",
        ];
        let v4 = self.on(EnrichType::Ipv4Addr);
        let v6 = self.on(EnrichType::Ipv6Addr);
        for f in FIELDS {
            for v in values(a, f) {
                let (t, label): (fn(_) -> _, _) = match v.parse::<IpAddr>() {
                    Ok(IpAddr::V4(_)) if v4 => (StixObject::Ipv4Addr, "IPv4-Addr"),
                    Ok(IpAddr::V6(_)) if v6 => (StixObject::Ipv6Addr, "IPv6-Addr"),
                    _ => continue,
                };
                let (o, _) = self.sco(t, single(v.as_str()));
                let d = describe(&format!("{label} {v}"), f, a);
                self.push(o, vec![], "related-to", d, a);
            }
        }
    }

    fn macs(&mut self, a: &Alert) {
        const FIELDS: &[&str] = &[
            "data.dmac",
            "data.dstMac",
            "data.dst_mac",
            "data.dstmac",
            "data.mastersrcmac",
            "data.osquery.columns.interface",
            "data.osquery.columns.mac",
            "data.smac",
            "data.srcMac",
            "data.src_mac",
            "data.srcmac",
        ];
        for f in FIELDS {
            for v in values(a, f) {
                let Some(mac) = normalise_mac(&v) else {
                    continue;
                };
                let (o, _) = self.sco(StixObject::MacAddr, single(mac.as_str()));
                let d = describe(&format!("Mac-Addr {mac}"), f, a);
                self.push(o, vec![], "related-to", d, a);
            }
        }
    }

    fn user_agents(&mut self, a: &Alert) {
        for f in ["data.aws.userAgent", "data.office365.UserAgent"] {
            for v in values(a, f) {
                let (o, _) = self.sco(StixObject::UserAgent, single(v.as_str()));
                let d = describe(&format!("User-Agent {v}"), f, a);
                self.push(o, vec![], "related-to", d, a);
            }
        }
    }

    fn account_ref(&self, props: model::UserAccount, nested: &mut Vec<StixObject>) -> String {
        let (o, rid) = self.sco(StixObject::UserAccount, props);
        nested.push(o);
        rid
    }

    fn image_ref(
        &self,
        path: &str,
        hashes: BTreeMap<String, String>,
        nested: &mut Vec<StixObject>,
    ) -> String {
        let props = model::File {
            hashes,
            ..Default::default()
        };
        let (f, more, fid) = self.file_for_path(path, props);
        nested.extend(more);
        nested.push(f);
        fid
    }

    fn processes(&mut self, a: &Alert) {
        let agent = a.agent.id.as_str();
        let w = |k: &str| {
            values(a, &format!("data.win.eventdata.{k}"))
                .into_iter()
                .next()
        };
        if let Some(cmd) = w("commandLine") {
            let mut nested = Vec::new();
            let pid = w("processId").and_then(|p| parse_pid(&p));
            let mut props = model::Process {
                command_line: Some(cmd.clone()),
                pid,
                cwd: w("currentDirectory"),
                ..Default::default()
            };
            if let Some(u) = w("user") {
                props.creator_user_ref = Some(self.account_ref(login(u), &mut nested));
            }
            if let Some(img) = w("image") {
                let hashes = w("hashes")
                    .map(|h| parse_sysmon_hashes(&h))
                    .unwrap_or_default();
                props.image_ref = Some(self.image_ref(&img, hashes, &mut nested));
            }
            let ppid = w("parentProcessId").and_then(|p| parse_pid(&p));
            let pcmd = w("parentCommandLine");
            if ppid.is_some() || pcmd.is_some() {
                let parent_id = id::process(agent, ppid, pcmd.as_deref());
                let mut pprops = model::Process {
                    pid: ppid,
                    command_line: pcmd,
                    ..Default::default()
                };
                if let Some(u) = w("parentUser") {
                    pprops.creator_user_ref = Some(self.account_ref(login(u), &mut nested));
                }
                if let Some(img) = w("parentImage") {
                    pprops.image_ref = Some(self.image_ref(&img, BTreeMap::new(), &mut nested));
                }
                nested.push(self.process(parent_id.clone(), pprops));
                // Fixed: the reference emitted the parent but never linked it.
                props.parent_ref = Some(parent_id);
            }
            let o = self.process(id::process(agent, pid, Some(&cmd)), props);
            let d = describe(
                &format!(
                    "Process {}",
                    pid.map(|p| p.to_string()).unwrap_or_else(|| cmd.clone())
                ),
                "data.win.eventdata.commandLine",
                a,
            );
            self.push(o, nested, "related-to", d, a);
            return;
        }
        // auditd: execve arguments a0, a1, … in numeric order.
        let Some(execve) = lookup(&a.source, "data.audit.execve").and_then(Value::as_object) else {
            return;
        };
        let mut args: Vec<(u32, String)> = execve
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix('a')?.parse::<u32>().ok()?;
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some((n, s))
            })
            .collect();
        if args.is_empty() {
            return;
        }
        args.sort();
        let cmd = args
            .into_iter()
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(" ");
        let aud = |k: &str| values(a, &format!("data.audit.{k}")).into_iter().next();
        let mut nested = Vec::new();
        let pid = aud("pid").and_then(|p| parse_pid(&p));
        let mut props = model::Process {
            command_line: Some(cmd.clone()),
            pid,
            ..Default::default()
        };
        if let Some(uid) = aud("auid").filter(|u| u != "4294967295") {
            props.creator_user_ref = Some(self.account_ref(user_id(uid), &mut nested));
        }
        if let Some(img) = aud("file.name") {
            props.image_ref = Some(self.image_ref(&img, BTreeMap::new(), &mut nested));
        }
        if let Some(ppid) = aud("ppid").and_then(|p| parse_pid(&p)) {
            let parent_id = id::process(agent, Some(ppid), None);
            let pprops = model::Process {
                pid: Some(ppid),
                ..Default::default()
            };
            nested.push(self.process(parent_id.clone(), pprops));
            props.parent_ref = Some(parent_id);
        }
        let o = self.process(id::process(agent, pid, Some(&cmd)), props);
        let d = describe(
            &format!(
                "Process {}",
                pid.map(|p| p.to_string()).unwrap_or_else(|| cmd.clone())
            ),
            "data.audit.execve",
            a,
        );
        self.push(o, nested, "related-to", d, a);
    }

    fn software_and_vulnerabilities(&mut self, a: &Alert) {
        let Some(v) = lookup(&a.source, "data.vulnerability") else {
            return;
        };
        let s = |p: &str| {
            lookup(v, p).and_then(|x| match x {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let c = &self.ctx.common;
        let mut software = None;
        if self.on(EnrichType::Software) {
            if let Some(name) = s("package.name") {
                let (o, sid) = self.sco(
                    StixObject::Software,
                    model::Software {
                        name: name.clone(),
                        version: s("package.version"),
                    },
                );
                software = Some((o, sid, name));
            }
        }
        let mut vuln = None;
        if self.on(EnrichType::Vulnerability) {
            if let Some(cve) = s("cve") {
                let score = s("cvss.cvss3.base_score")
                    .and_then(|x| x.parse::<f64>().ok())
                    .filter(|f| f.is_finite() && (0.0..=10.0).contains(f));
                let vid = id::named("vulnerability", &cve);
                // No labels: vulnerabilities usually exist in OpenCTI already (§9.3 #17).
                let o = c.sdo(
                    StixObject::Vulnerability,
                    vid.clone(),
                    &c.now,
                    model::Vulnerability {
                        name: cve.clone(),
                        x_opencti_cvss_base_score: score,
                        x_opencti_cvss_base_severity: s("severity").map(|x| x.to_uppercase()),
                        x_opencti_cvss_attack_vector: s("cvss.cvss3.vector.attack_vector"),
                        x_opencti_cvss_integrity_impact: s("cvss.cvss3.vector.integrity_impact"),
                        x_opencti_cvss_availability_impact: s("cvss.cvss3.vector.availability"),
                        x_opencti_cvss_confidentiality_impact: s(
                            "cvss.cvss3.vector.confidentiality_impact",
                        ),
                    },
                );
                vuln = Some((o, self.ref_id(&vid), cve));
            }
        }
        if let Some((so, sid, name)) = software {
            let mut nested = Vec::new();
            if let Some((_, vid, _)) = &vuln {
                let mut r = c.relationship("has", &sid, vid, &stix_time(self.ctx, &a.timestamp));
                r.props.description = s("title");
                r.props.start_time = s("published").and_then(|p| stix::normalise_time(&p));
                nested.push(StixObject::Relationship(r));
            }
            let d = describe(
                &format!("Software {name}"),
                "data.vulnerability.package.name",
                a,
            );
            self.push(so, nested, "related-to", d, a);
        }
        if let Some((vo, _, cve)) = vuln {
            let d = describe(&format!("Vulnerability {cve}"), "data.vulnerability.cve", a);
            self.push(vo, vec![], "related-to", d, a);
        }
    }

    fn network_traffic(&mut self, a: &Alert) {
        let addr = |fields: &[&str]| -> Option<(String, IpAddr)> {
            fields.iter().find_map(|f| {
                values(a, f)
                    .into_iter()
                    .find_map(|v| v.parse::<IpAddr>().ok().map(|ip| (v, ip)))
            })
        };
        let port = |fields: &[&str]| -> Option<u16> {
            fields
                .iter()
                .find_map(|f| values(a, f).into_iter().find_map(|v| v.parse::<u16>().ok()))
        };
        let src = addr(&["data.srcip", "data.src_ip", "data.win.eventdata.sourceIp"]);
        let dst = addr(&[
            "data.dstip",
            "data.dest_ip",
            "data.win.eventdata.destinationIp",
            "agent.ip",
        ]);
        let sport = port(&[
            "data.src_port",
            "data.srcport",
            "data.win.eventdata.sourcePort",
        ]);
        let dport = port(&[
            "data.dest_port",
            "data.dstport",
            "data.win.eventdata.destinationPort",
        ]);
        if src.is_none() && dst.is_none() {
            return;
        }
        let known = [
            src.is_some(),
            dst.is_some(),
            sport.is_some(),
            dport.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if known < 2 {
            return;
        }
        let mut protocols: Vec<String> = Vec::new();
        let mut add = |p: &str| {
            let p = p.trim().to_ascii_lowercase();
            if !p.is_empty() && !protocols.contains(&p) {
                protocols.push(p);
            }
        };
        for (_, ip) in src.iter().chain(dst.iter()) {
            add(if ip.is_ipv4() { "ipv4" } else { "ipv6" });
        }
        for p in values(a, "data.win.eventdata.protocol") {
            add(&p);
        }
        for g in &a.rule.groups {
            let g = g.to_ascii_lowercase();
            if g == "sshd" {
                add("ssh");
            } else if g == "smbd" {
                add("smb");
            } else if ["ftpd", "msftp", "proftpd", "vsftpd", "pure-ftpd"]
                .iter()
                .any(|f| g.contains(f))
            {
                add("ftp");
            }
        }
        if protocols.is_empty() {
            // STIX requires at least one protocol: ports alone, without an address or a known
            // service, do not say which.
            return;
        }
        let mut nested = Vec::new();
        let mut endpoint = |e: &Option<(String, IpAddr)>| -> Option<String> {
            let (v, ip) = e.as_ref()?;
            let t = if ip.is_ipv4() {
                StixObject::Ipv4Addr
            } else {
                StixObject::Ipv6Addr
            };
            let (o, rid) = self.sco(t, single(v.as_str()));
            nested.push(o);
            Some(rid)
        };
        let src_ref = endpoint(&src);
        let dst_ref = endpoint(&dst);
        let show = |e: &Option<(String, IpAddr)>| {
            e.as_ref()
                .map(|(v, _)| v.clone())
                .unwrap_or_else(|| "?".into())
        };
        let showp = |p: Option<u16>| p.map(|p| p.to_string()).unwrap_or_else(|| "?".into());
        let summary = format!(
            "{} {}:{} → {}:{}",
            protocols.join(":"),
            show(&src),
            showp(sport),
            show(&dst),
            showp(dport)
        );
        let (o, _) = self.sco(
            StixObject::NetworkTraffic,
            model::NetworkTraffic {
                src_ref,
                dst_ref,
                src_port: sport,
                dst_port: dport,
                protocols,
                description: summary.clone(),
            },
        );
        let d = describe(&format!("Network-Traffic {summary}"), "", a);
        self.push(o, nested, "related-to", d, a);
    }

    fn domains(&mut self, a: &Alert) {
        for f in [
            "data.osquery.columns.hostname",
            "data.dns.question.name",
            "data.win.eventdata.queryName",
            "data.win.system.computer",
            "data.office365.ParticipantInfo.ParticipatingDomains",
        ] {
            for v in values(a, f) {
                if v.len() > 253 || !v.contains('.') || !DOMAIN.is_match(&v) {
                    continue;
                }
                let (o, _) = self.sco(StixObject::DomainName, single(v.as_str()));
                let d = describe(&format!("Domain-Name {v}"), f, a);
                self.push(o, vec![], "related-to", d, a);
            }
        }
    }
}

/// Size, hashes and times of the file an alert is about (syscheck / osquery).
fn file_metadata(a: &Alert) -> model::File {
    let mut m = model::File::default();
    let first = |fields: &[&str]| fields.iter().find_map(|f| values(a, f).into_iter().next());
    if let Some(size) =
        first(&["syscheck.size_after", "syscheck.size_before"]).and_then(|s| s.parse::<u64>().ok())
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
            ],
        ),
        (
            "SHA-1",
            [
                "data.osquery.columns.sha1",
                "syscheck.sha1_after",
                "syscheck.sha1_before",
            ],
        ),
        (
            "SHA-256",
            [
                "data.osquery.columns.sha256",
                "syscheck.sha256_after",
                "syscheck.sha256_before",
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

/// Context objects of `alerts` (at most `WAZUH_MAX_CONTEXT_ALERTS` of them), in the reference's
/// type order.
pub fn extract(ctx: &Ctx<'_>, alerts: &[&Alert]) -> Vec<Found> {
    let mut x = Extractor {
        ctx,
        out: Vec::new(),
        seen: Default::default(),
    };
    for a in alerts.iter().take(ctx.opts.max_context_alerts) {
        if x.on(EnrichType::AttackPattern) {
            x.attack_patterns(a);
        }
        if x.on(EnrichType::Tool) {
            x.tools(a);
        }
        if x.on(EnrichType::UserAccount) {
            x.user_accounts(a);
        }
        if x.on(EnrichType::Url) {
            x.urls(a);
        }
        if x.on(EnrichType::EmailAddr) {
            x.emails(a);
        }
        if x.on(EnrichType::File) {
            x.files(a);
        }
        if x.on(EnrichType::Directory) {
            x.directories(a);
        }
        if x.on(EnrichType::WindowsRegistryKey) {
            x.registry_keys(a);
        }
        if x.on(EnrichType::Ipv4Addr) || x.on(EnrichType::Ipv6Addr) {
            x.addresses(a);
        }
        if x.on(EnrichType::MacAddr) {
            x.macs(a);
        }
        if x.on(EnrichType::UserAgent) {
            x.user_agents(a);
        }
        if x.on(EnrichType::Process) {
            x.processes(a);
        }
        if x.on(EnrichType::Software) || x.on(EnrichType::Vulnerability) {
            x.software_and_vulnerabilities(a);
        }
        if x.on(EnrichType::NetworkTraffic) {
            x.network_traffic(a);
        }
        if x.on(EnrichType::DomainName) {
            x.domains(a);
        }
        if x.out.len() >= MAX_CONTEXT_OBJECTS {
            tracing::debug!("context object limit reached");
            x.out.truncate(MAX_CONTEXT_OBJECTS);
            break;
        }
    }
    x.out
}

/// The found objects, their nested objects and one relationship from the incident to each.
pub fn link(
    ctx: &Ctx<'_>,
    incident_id: &str,
    _incident_created: &str,
    found: Vec<Found>,
) -> Vec<StixObject> {
    let c = &ctx.common;
    let mut out = Vec::new();
    for f in found {
        let oid = f.object.id().to_string();
        let target = match &ctx.entity_alias {
            Some(alias) if *alias == oid => ctx.input.entity.standard_id.clone(),
            _ => oid,
        };
        out.extend(f.nested);
        out.push(f.object);
        if target == ctx.input.entity.standard_id {
            // The incident is already related to the entity itself.
            continue;
        }
        let mut r = c.relationship(f.relation, incident_id, &target, &f.alert_time);
        r.props.description = Some(f.description);
        out.push(StixObject::Relationship(r));
    }
    out
}

/// Drops copies of the enriched entity (an alert field holding its own value) and points their
/// references at the entity: the entity is never re-sent, so it never gets the enrichment labels
/// (fixes §9.3 #17, which silently disabled future enrichments).
pub fn remove_entity_copies(ctx: &Ctx<'_>, objects: Vec<StixObject>) -> Vec<StixObject> {
    let Some(alias) = &ctx.entity_alias else {
        return objects;
    };
    let entity_id = &ctx.input.entity.standard_id;
    objects
        .into_iter()
        .filter(|o| o.id() != alias && o.id() != entity_id)
        .map(|mut o| {
            if alias != entity_id {
                o.rewrite_refs(alias, entity_id);
            }
            o
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_handles_dotted_keys() {
        let v = json!({"data": {"docker": {"Actor": {"Attributes": {"org.opencontainers.image.source": "https://x.org/r"}}}}});
        assert_eq!(
            lookup(
                &v,
                "data.docker.Actor.Attributes.org.opencontainers.image.source"
            )
            .and_then(Value::as_str),
            Some("https://x.org/r")
        );
        assert!(lookup(&v, "data.nope").is_none());
    }

    #[test]
    fn macs() {
        assert_eq!(
            normalise_mac("00-1A-2B-3C-4D-5E").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(
            normalise_mac("001a.2b3c.4d5e").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(
            normalise_mac("001a2b3c4d5e").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(normalise_mac("00:1a-2b:3c:4d:5e"), None);
        assert_eq!(normalise_mac("eth0"), None);
    }

    #[test]
    fn sysmon_hashes() {
        let h = parse_sysmon_hashes("SHA1=AA,MD5=BB,SHA256=CC,IMPHASH=DD");
        assert_eq!(h.get("SHA-1").map(String::as_str), Some("AA"));
        assert_eq!(h.get("MD5").map(String::as_str), Some("BB"));
        assert_eq!(h.get("SHA-256").map(String::as_str), Some("CC"));
        assert_eq!(h.len(), 3);
        assert!(parse_sysmon_hashes("garbage").is_empty());
    }

    #[test]
    fn paths() {
        assert_eq!(
            split_path("c:\\users\\public\\a.ps1"),
            (Some("c:\\users\\public"), "a.ps1")
        );
        assert_eq!(split_path("/etc/passwd"), (Some("/etc"), "passwd"));
        assert_eq!(split_path("/x"), (Some("/"), "x"));
        assert_eq!(split_path("x"), (None, "x"));
        assert_eq!(undouble("C:\\\\Windows\\\\cmd.exe"), "C:\\Windows\\cmd.exe");
    }
}
