//! On the network: addresses, MACs, traffic, domain names, URLs and user agents.

use super::values::{describe, normalise_mac, values, DOMAIN};
use super::Extractor;
use crate::alert::Alert;
use crate::config::EnrichType;
use crate::stix::model::{self, single};
use crate::stix::StixObject;
use std::net::IpAddr;

impl Extractor<'_, '_> {
    pub(super) fn urls(&mut self, a: &Alert) {
        const FIELDS: &[&str] = &[
            "data.docker.Actor.Attributes.org.opencontainers.image.source",
            "data.office365.MeetingURL",
            "data.office365.MessageURLs",
            "data.office365.RemoteItemWebUrl",
            "data.osquery.columns.update_url",
            "data.url",
            // Wazuh 5 findings (WCS).
            "url.full",
            "url.original",
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

    pub(super) fn addresses(&mut self, a: &Alert) {
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
            // Wazuh 5 findings (WCS): the ECS places of the event's addresses.
            "source.ip",
            "destination.ip",
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

    pub(super) fn macs(&mut self, a: &Alert) {
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

    pub(super) fn user_agents(&mut self, a: &Alert) {
        for f in [
            "data.aws.userAgent",
            "data.office365.UserAgent",
            "user_agent.original",
        ] {
            for v in values(a, f) {
                let (o, _) = self.sco(StixObject::UserAgent, single(v.as_str()));
                let d = describe(&format!("User-Agent {v}"), f, a);
                self.push(o, vec![], "related-to", d, a);
            }
        }
    }

    pub(super) fn network_traffic(&mut self, a: &Alert) {
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
        // 4.x decoder fields, then the ECS fields of Wazuh 5 findings.
        let src = addr(&[
            "data.srcip",
            "data.src_ip",
            "data.win.eventdata.sourceIp",
            "source.ip",
        ]);
        let dst = addr(&[
            "data.dstip",
            "data.dest_ip",
            "data.win.eventdata.destinationIp",
            "destination.ip",
            "agent.ip",
        ]);
        let sport = port(&[
            "data.src_port",
            "data.srcport",
            "data.win.eventdata.sourcePort",
            "source.port",
        ]);
        let dport = port(&[
            "data.dest_port",
            "data.dstport",
            "data.win.eventdata.destinationPort",
            "destination.port",
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
        for f in ["data.win.eventdata.protocol", "network.transport"] {
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
        for f in [
            "data.osquery.columns.hostname",
            "data.dns.question.name",
            "data.win.eventdata.queryName",
            "data.win.system.computer",
            "data.office365.ParticipantInfo.ParticipatingDomains",
            // Wazuh 5 findings (WCS).
            "dns.question.name",
            "url.domain",
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
