//! Processes: Windows event data (with parent, image and user) or auditd `execve` arguments.

use super::values::{describe, login, lookup, parse_pid, parse_sysmon_hashes, user_id, values};
use super::Extractor;
use crate::alert::Alert;
use crate::stix::{id, model, StixObject};
use serde_json::Value;
use std::collections::BTreeMap;

impl Extractor<'_, '_> {
    pub(super) fn processes(&mut self, a: &Alert) {
        let agent = a.agent.id.as_str();
        // Windows event data, else the ECS place of the same value (Wazuh 5 findings).
        let w = |k: &str| {
            values(a, &format!("data.win.eventdata.{k}"))
                .into_iter()
                .next()
                .or_else(|| {
                    let wcs = wcs_field(k)?;
                    values(a, wcs).into_iter().next()
                })
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
                    .unwrap_or_else(|| wcs_hashes(a));
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
                props.parent_ref = Some(parent_id);
            }
            let field = if values(a, "data.win.eventdata.commandLine").is_empty() {
                "process.command_line"
            } else {
                "data.win.eventdata.commandLine"
            };
            self.push_process(props, nested, field, a);
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
        self.push_process(props, nested, "data.audit.execve", a);
    }

    /// Emits a process found in `field` (its id from the agent, pid and command line).
    fn push_process(
        &mut self,
        props: model::Process,
        nested: Vec<StixObject>,
        field: &str,
        a: &Alert,
    ) {
        let pid = props.pid;
        let cmd = props.command_line.clone().unwrap_or_default();
        let o = self.process(id::process(&a.agent.id, pid, Some(&cmd)), props);
        let shown = pid.map(|p| p.to_string()).unwrap_or(cmd);
        let d = describe(&format!("Process {shown}"), field, a);
        self.push(o, nested, "related-to", d, a);
    }
}

/// The WCS field of a Windows event-data key of a process.
fn wcs_field(key: &str) -> Option<&'static str> {
    Some(match key {
        "commandLine" => "process.command_line",
        "processId" => "process.pid",
        "currentDirectory" => "process.working_directory",
        "user" => "process.user.name",
        "image" => "process.executable",
        "parentProcessId" => "process.parent.pid",
        "parentCommandLine" => "process.parent.command_line",
        "parentUser" => "process.parent.user.name",
        "parentImage" => "process.parent.executable",
        _ => return None,
    })
}

/// The image hashes of a WCS process (`process.hash.*`), by STIX hash name.
fn wcs_hashes(a: &Alert) -> BTreeMap<String, String> {
    [
        ("MD5", "process.hash.md5"),
        ("SHA-1", "process.hash.sha1"),
        ("SHA-256", "process.hash.sha256"),
    ]
    .into_iter()
    .filter_map(|(name, f)| {
        let h = values(a, f).into_iter().next()?;
        h.chars()
            .all(|c| c.is_ascii_hexdigit())
            .then(|| (name.to_string(), h))
    })
    .collect()
}
