//! On the network: addresses, MACs, traffic, domain names, URLs and user agents.

use super::values::{describe, normalise_mac, values, DOMAIN};
use super::Extractor;
use crate::alert::Alert;
use crate::config::EnrichType;
use crate::stix::model::{self, single};
use crate::stix::StixObject;
use crate::vocabulary::context::Role;
use std::net::IpAddr;

impl Extractor<'_, '_> {
    pub(super) fn urls(&mut self, a: &Alert) {
        for f in self.fields(Role::Url) {
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

    pub(super) fn addresses(&mut self, a: &Alert) {
        let v4 = self.on(EnrichType::Ipv4Addr);
        let v6 = self.on(EnrichType::Ipv6Addr);
        for f in self.fields(Role::Address) {
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

    pub(super) fn macs(&mut self, a: &Alert) {
        for f in self.fields(Role::Mac) {
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

    pub(super) fn user_agents(&mut self, a: &Alert) {
        for f in self.fields(Role::UserAgent) {
            for v in values(a, f) {
                let (o, _) = self.sco(StixObject::UserAgent, single(v.as_str()));
                let d = describe(&format!("User-Agent {v}"), f, a);
                self.push(o, vec![], "related-to", d, a);
            }
        }
    }

    pub(super) fn network_traffic(&mut self, a: &Alert) {
        let addr = |fields: Vec<&str>| -> Option<(String, IpAddr)> {
            fields.into_iter().find_map(|f| {
                values(a, f)
                    .into_iter()
                    .find_map(|v| v.parse::<IpAddr>().ok().map(|ip| (v, ip)))
            })
        };
        let port = |role| -> Option<u16> {
            self.fields(role)
                .into_iter()
                .find_map(|f| values(a, f).into_iter().find_map(|v| v.parse::<u16>().ok()))
        };
        let src = addr(self.fields(Role::TrafficSrc));
        // Without a destination field, the agent that reported the connection is its end.
        let dst = addr(self.fields(Role::TrafficDst)).or_else(|| {
            let v = a.agent.ip.as_deref()?.trim();
            v.parse::<IpAddr>().ok().map(|ip| (v.to_string(), ip))
        });
        let sport = port(Role::TrafficSrcPort);
        let dport = port(Role::TrafficDstPort);
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
        for f in self.fields(Role::TrafficProtocol) {
            for p in values(a, f) {
                add(&p);
            }
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

    pub(super) fn domains(&mut self, a: &Alert) {
        for f in self.fields(Role::DomainName) {
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
