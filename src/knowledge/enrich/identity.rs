//! Who and how: ATT&CK techniques and tools of the rule, user accounts and e-mail addresses.

use super::values::{describe, login, user_id, values, EMAIL, MITRE, SID, UID_SUFFIX};
use super::Extractor;
use crate::alert::Alert;
use crate::stix::model::{self, single};
use crate::stix::{id, StixObject};
use crate::vocabulary::context::Role;

impl Extractor<'_, '_> {
    pub(super) fn attack_patterns(&mut self, a: &Alert) {
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
            // Rule metadata, not a value field: named as the 4.x schema profile
            // (`crate::schema::V4`) names it, whatever the schema.
            let d = describe(&format!("Attack pattern {m}"), "rule.mitre.id", a);
            self.push(o, vec![], "uses", d, a);
        }
    }

    pub(super) fn tools(&mut self, a: &Alert) {
        let mut names: Vec<(String, String)> = Vec::new();
        if a.rule.mitre_ids.iter().any(|m| m.trim() == "T1053.005") {
            names.push(("schtasks".into(), "rule.mitre.id".into()));
        } else if a.rule.description.to_lowercase().contains("psexec") {
            names.push(("PsExec".into(), "rule.description".into()));
        } else if !self.ctx.input.tools_in_opencti.is_empty() {
            for f in self.fields(Role::ToolText) {
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

    pub(super) fn user_accounts(&mut self, a: &Alert) {
        let mut accounts: Vec<(model::UserAccount, String)> = Vec::new();
        for f in self.fields(Role::AccountWithUid) {
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
        for f in self.fields(Role::AccountLogin) {
            for v in values(a, f) {
                accounts.push((login(v), f.to_string()));
            }
        }
        for f in self.fields(Role::AccountUserId) {
            for v in values(a, f) {
                accounts.push((user_id(v), f.to_string()));
            }
        }
        for f in self.fields(Role::SidInside) {
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

    pub(super) fn emails(&mut self, a: &Alert) {
        for f in self.fields(Role::Email) {
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
}
