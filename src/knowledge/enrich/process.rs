//! Processes: Windows event data (with parent, image and user) or auditd `execve` arguments.

use super::values::{
    describe, first, first_in, login, lookup, parse_pid, parse_sysmon_hashes, user_id,
};
use super::Extractor;
use crate::alert::Alert;
use crate::stix::{id, model, StixObject};
use crate::vocabulary::context::Role;
use serde_json::Value;
use std::collections::BTreeMap;

impl Extractor<'_, '_> {
    pub(super) fn processes(&mut self, a: &Alert) {
        let agent = a.agent.id.as_str();
        // Windows event data, else the ECS place of the same value (Wazuh 5 findings).
        let w = |role| first(a, self.fields(role));
        if let Some((field, cmd)) = first_in(a, self.fields(Role::ProcessCommandLine)) {
            let mut nested = Vec::new();
            let pid = w(Role::ProcessPid).and_then(|p| parse_pid(&p));
            let mut props = model::Process {
                command_line: Some(cmd.clone()),
                pid,
                cwd: w(Role::ProcessCwd),
                ..Default::default()
            };
            if let Some(u) = w(Role::ProcessUser) {
                props.creator_user_ref = Some(self.account_ref(login(u), &mut nested));
            }
            if let Some(img) = w(Role::ProcessImage) {
                let hashes = w(Role::ProcessHashList)
                    .map(|h| parse_sysmon_hashes(&h))
                    .unwrap_or_else(|| image_hashes(self, a));
                props.image_ref = Some(self.image_ref(&img, hashes, &mut nested));
            }
            let ppid = w(Role::ParentPid).and_then(|p| parse_pid(&p));
            let pcmd = w(Role::ParentCommandLine);
            if ppid.is_some() || pcmd.is_some() {
                let parent_id = id::process(agent, ppid, pcmd.as_deref());
                let mut pprops = model::Process {
                    pid: ppid,
                    command_line: pcmd,
                    ..Default::default()
                };
                if let Some(u) = w(Role::ParentUser) {
                    pprops.creator_user_ref = Some(self.account_ref(login(u), &mut nested));
                }
                if let Some(img) = w(Role::ParentImage) {
                    pprops.image_ref = Some(self.image_ref(&img, BTreeMap::new(), &mut nested));
                }
                nested.push(self.process(parent_id.clone(), pprops));
                props.parent_ref = Some(parent_id);
            }
            self.push_process(props, nested, field, a);
            return;
        }
        // auditd: execve arguments a0, a1, … in numeric order.
        let Some((args_field, execve)) = self.fields(Role::AuditArgs).into_iter().find_map(|f| {
            let o = lookup(a.source.value(), f).and_then(Value::as_object)?;
            Some((f, o))
        }) else {
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
        let aud = |role| first(a, self.fields(role));
        let mut nested = Vec::new();
        let pid = aud(Role::AuditPid).and_then(|p| parse_pid(&p));
        let mut props = model::Process {
            command_line: Some(cmd.clone()),
            pid,
            ..Default::default()
        };
        if let Some(uid) = aud(Role::AuditUid).filter(|u| u != "4294967295") {
            props.creator_user_ref = Some(self.account_ref(user_id(uid), &mut nested));
        }
        if let Some(img) = aud(Role::AuditImage) {
            props.image_ref = Some(self.image_ref(&img, BTreeMap::new(), &mut nested));
        }
        if let Some(ppid) = aud(Role::AuditParentPid).and_then(|p| parse_pid(&p)) {
            let parent_id = id::process(agent, Some(ppid), None);
            let pprops = model::Process {
                pid: Some(ppid),
                ..Default::default()
            };
            nested.push(self.process(parent_id.clone(), pprops));
            props.parent_ref = Some(parent_id);
        }
        self.push_process(props, nested, args_field, a);
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

/// The image hashes of a process stored one field per algorithm (WCS `process.hash.*`), by
/// STIX hash name.
fn image_hashes(x: &Extractor<'_, '_>, a: &Alert) -> BTreeMap<String, String> {
    [
        ("MD5", Role::ProcessImageMd5),
        ("SHA-1", Role::ProcessImageSha1),
        ("SHA-256", Role::ProcessImageSha256),
    ]
    .into_iter()
    .filter_map(|(name, role)| {
        let h = first(a, x.fields(role))?;
        h.chars()
            .all(|c| c.is_ascii_hexdigit())
            .then(|| (name.to_string(), h))
    })
    .collect()
}
