//! Which alert fields the hunt reads for each kind of value, and how: the vocabulary
//! ([`crate::vocabulary`]) seen through what a batched lookup can express; and the spellings
//! of a value a `terms` list must hold, since `terms` compares exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::detect::Atom;
use crate::config::options::SearchOptions;
use crate::pattern::glob_match;
use crate::search::fields as f;
use crate::search::lookup::mac_variants;
use crate::vocabulary::{Match, ValueKind};

/// Concrete fields of Wazuh 4.x alerts that the vocabulary's field patterns (`*.srcip`,
/// `*md5*`…) cover: the fields of the `wazuh-alerts-4.x` template and of the decoders'
/// dynamically mapped documents (Suricata `data.src_ip`, Sysmon `data.win.eventdata.*`, GCP,
/// MS Graph). A `terms` query takes one concrete field, never a pattern, so a pattern is
/// searched through these (and through the names the indexer reports, given to
/// [`super::DetectionPlan::with_fields`]).
pub(super) const KNOWN_FIELDS: &[&str] = &[
    "GeoLocation.ip",
    "agent.ip",
    "data.audit.srcip",
    "data.aws.dstaddr",
    "data.aws.resource.instanceDetails.networkInterfaces.privateIpAddress",
    "data.aws.resource.instanceDetails.networkInterfaces.publicIp",
    "data.aws.service.action.networkConnectionAction.localIpDetails.ipAddressV4",
    "data.aws.service.action.networkConnectionAction.remoteIpDetails.ipAddressV4",
    "data.aws.sourceIPAddress",
    "data.aws.source_ip_address",
    "data.aws.srcaddr",
    "data.dest_ip",
    "data.dstip",
    "data.gcp.jsonPayload.connection.dest_ip",
    "data.gcp.jsonPayload.connection.src_ip",
    "data.gcp.jsonPayload.sourceIP",
    "data.host",
    "data.http.hostname",
    "data.http.url",
    "data.ms-graph.actor.ipAddress",
    "data.ms-graph.alertWebUrl",
    "data.ms-graph.incidentWebUrl",
    "data.ms-graph.ipAddress",
    "data.netinfo.iface.ipv4.address",
    "data.netinfo.iface.ipv6.address",
    "data.netinfo.iface.mac",
    "data.office365.ClientIP",
    "data.office365.SiteUrl",
    "data.os.hostname",
    "data.port.local_ip",
    "data.port.remote_ip",
    "data.src_ip",
    "data.srcip",
    "data.url",
    "data.virustotal.sha1",
    "data.virustotal.source.md5",
    "data.virustotal.source.sha1",
    "data.win.eventdata.destinationIp",
    "data.win.eventdata.ipAddress",
    "data.win.eventdata.sourceIp",
    "predecoder.hostname",
    "syscheck.md5_after",
    "syscheck.md5_before",
    "syscheck.sha1_after",
    "syscheck.sha1_before",
    "syscheck.sha256_after",
    "syscheck.sha256_before",
];

/// Fields every alert has. A value inside one of them (a list kept in one string) could only
/// be found by fetching the field of every alert of the window; the decoders put the same
/// values in their own fields, which the hunt searches.
const EVERY_ALERT_FIELDS: &[&str] = &["rule.description"];

/// How the hunt reads one field for one kind of value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Read {
    /// The whole value (`terms` with each spelling).
    Whole,
    /// The whole value, with or without the root dot (`terms` with both).
    Dotted,
    /// A word of analysed free text: only IPv4 addresses, which the standard analyzer keeps
    /// as one token (`terms` with the address). A domain or an e-mail address is split into
    /// several tokens, which only a phrase query finds, one value at a time: such values
    /// are left to the enrichment that follows a detection.
    Words,
    /// One item of a list delimited by these characters (`exists`, then split locally).
    Token(&'static str),
    /// The hex value of an `ALG=hex,…` list (`exists`, then parsed locally).
    HashList,
    /// The host of a URL (`exists`, then parsed locally).
    UrlHost,
}

impl Read {
    /// Searched with a `terms` clause (else with `exists` and read locally).
    pub(super) fn is_terms(self) -> bool {
        matches!(self, Read::Whole | Read::Dotted | Read::Words)
    }
}

/// The field whose equal value means "not a sighting" for `kind` (the agent's own address,
/// the syslog header's host), as in the pattern translation.
pub(super) fn exclude_field(kind: ValueKind, opts: &SearchOptions) -> Option<&'static str> {
    match kind {
        ValueKind::Ip | ValueKind::SrcIp | ValueKind::DstIp if !opts.lookup_agent_ip => {
            Some(f::AGENT_IP_FIELD)
        }
        ValueKind::Domain => Some(f::DOMAIN_EXCLUDE_FIELD),
        _ => None,
    }
}

/// The fields of one kind and how each is read, sorted by field; the field patterns met are
/// added to `patterns`.
pub(super) fn kind_fields(
    kind: ValueKind,
    opts: &SearchOptions,
    known: &BTreeSet<String>,
    patterns: &mut BTreeSet<String>,
) -> Vec<(String, Read)> {
    let ip_kind = matches!(kind, ValueKind::Ip | ValueKind::SrcIp | ValueKind::DstIp);
    let mut out: BTreeMap<String, BTreeSet<Read>> = BTreeMap::new();
    let mut add = |field: &str, read: Read| {
        out.entry(field.to_string()).or_default().insert(read);
    };
    for (field, how) in opts.vocabulary.of(kind) {
        if EVERY_ALERT_FIELDS.contains(&field) {
            continue;
        }
        match how {
            Match::Exact | Match::CaseInsensitive if field.contains('*') => {
                patterns.insert(field.to_string());
                for k in known.iter().filter(|k| glob_match(field, k)) {
                    add(k, Read::Whole);
                }
            }
            Match::Exact | Match::CaseInsensitive => add(field, Read::Whole),
            Match::TrailingDot => add(field, Read::Dotted),
            Match::Phrase if ip_kind => add(field, Read::Words),
            Match::Phrase => {}
            Match::Token(seps) => add(field, Read::Token(seps)),
            Match::HashList => add(field, Read::HashList),
            Match::UrlHost => add(field, Read::UrlHost),
        }
    }
    if let Some(ex) = exclude_field(kind, opts) {
        out.remove(ex);
    }
    let mut fields = Vec::new();
    for (field, mut reads) in out {
        // Both spellings of a DNS name cover the whole value as given.
        if reads.contains(&Read::Dotted) {
            reads.remove(&Read::Whole);
        }
        fields.extend(reads.into_iter().map(|r| (field.clone(), r)));
    }
    fields
}

/// The concrete field names patterns are expanded against: the known ones, every concrete
/// text field the vocabulary names, and those given. Numeric fields are left out: a `terms`
/// of words on a `long` field fails the whole request (`*.IP` covers the port `data.IP`).
pub(super) fn expansion_names(opts: &SearchOptions, given: &[String]) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = KNOWN_FIELDS.iter().map(|s| s.to_string()).collect();
    let numeric = [ValueKind::SrcPort, ValueKind::DstPort, ValueKind::FileSize];
    for kind in ValueKind::ALL.iter().filter(|k| !numeric.contains(k)) {
        names.extend(
            opts.vocabulary
                .of(*kind)
                .filter(|(fl, _)| !fl.contains('*'))
                .map(|(fl, _)| fl.to_string()),
        );
    }
    names.extend(given.iter().filter(|g| !g.contains('*')).cloned());
    let numeric_fields: BTreeSet<&str> = numeric
        .iter()
        .flat_map(|k| opts.vocabulary.of(*k).map(|(fl, _)| fl))
        .collect();
    names.retain(|n| !numeric_fields.contains(n.as_str()));
    names
}

fn ip_kind(kind: ValueKind) -> bool {
    matches!(kind, ValueKind::Ip | ValueKind::SrcIp | ValueKind::DstIp)
}

/// Every spelling of an atom a field reading `read` may hold (a `terms` list compares exactly).
pub(super) fn variants(atom: &Atom, read: Read, mac_spellings: bool) -> BTreeSet<String> {
    let mut base: BTreeSet<String> = atom.spellings.clone();
    base.insert(atom.norm.clone());
    match atom.kind {
        k if ip_kind(k) => {
            // Some decoders write IPv6 addresses with every group in full.
            if let Ok(IpAddr::V6(a)) = atom.norm.parse::<IpAddr>() {
                let full: Vec<String> = a.segments().iter().map(|g| format!("{g:04x}")).collect();
                base.insert(full.join(":"));
            }
        }
        k if k.default_match() == Match::CaseInsensitive => {
            if matches!(k, ValueKind::Mac | ValueKind::SrcMac | ValueKind::DstMac) {
                base.extend(mac_variants(&atom.norm, mac_spellings));
            }
            // `terms` has no case-insensitive form: the spellings sources use.
            let folded: Vec<String> = base
                .iter()
                .flat_map(|s| [s.to_lowercase(), s.to_uppercase()])
                .collect();
            base.extend(folded);
        }
        _ => {}
    }
    match read {
        Read::Whole => base,
        Read::Dotted => base
            .iter()
            .flat_map(|s| {
                let bare = s.strip_suffix('.').unwrap_or(s);
                [bare.to_string(), format!("{bare}.")]
            })
            .collect(),
        Read::Words => match atom.norm.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => BTreeSet::from([atom.norm.to_lowercase()]),
            _ => BTreeSet::new(),
        },
        Read::Token(_) | Read::HashList | Read::UrlHost => BTreeSet::new(),
    }
}

/// Every field pattern of the vocabulary (`*.srcip`, `*sha256*`…): what the indexer is asked
/// to expand into concrete fields ([`searchable_fields`]) before a plan is built.
pub fn vocabulary_patterns(opts: &SearchOptions) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    for kind in ValueKind::ALL {
        for (field, _) in opts.vocabulary.of(*kind) {
            if field.contains('*') {
                out.insert(field.to_string());
            }
        }
    }
    out.into_iter().collect()
}

/// The concrete fields of an indexer's `_field_caps` answer that a `terms` lookup can read:
/// text-like and `ip` fields (numbers and dates are left out: `*.IP`-style patterns also cover
/// port numbers), no metadata field.
pub fn searchable_fields(field_caps: &serde_json::Value) -> Vec<String> {
    const TYPES: &[&str] = &[
        "keyword",
        "constant_keyword",
        "wildcard",
        "text",
        "match_only_text",
        "ip",
    ];
    let Some(fields) = field_caps.get("fields").and_then(|f| f.as_object()) else {
        return Vec::new();
    };
    fields
        .iter()
        .filter(|(name, _)| !name.starts_with('_'))
        .filter(|(_, types)| {
            types
                .as_object()
                .is_some_and(|t| !t.is_empty() && t.keys().all(|k| TYPES.contains(&k.as_str())))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod discovery_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_fields_a_terms_lookup_can_read() {
        let caps = json!({"fields": {
            "data.srcip": {"ip": {}},
            "data.virustotal.source.sha256": {"keyword": {}},
            "data.IP": {"long": {}},
            "data.mixed": {"keyword": {}, "long": {}},
            "_id": {"_id": {}},
        }});
        let mut f = searchable_fields(&caps);
        f.sort();
        assert_eq!(f, vec!["data.srcip", "data.virustotal.source.sha256"]);
        assert!(searchable_fields(&json!({})).is_empty());
    }

    #[test]
    fn the_vocabulary_has_field_patterns_to_expand() {
        let p = vocabulary_patterns(&SearchOptions::default());
        assert!(p.iter().any(|f| f == "*sha256*"), "{p:?}");
        assert!(p.iter().all(|f| f.contains('*')));
    }
}
