//! Where each STIX object path is searched: the alert fields that hold that kind of value
//! (from [`crate::vocabulary`], the one source of truth) and how values compare there.

use super::ast::{ObjectPath, PathStep};
use super::PatternError;
use crate::config::options::{RegKeySearchOption, SearchOptions};
use crate::search::fields as f;
use crate::vocabulary::{Match, ValueKind as V, Vocabulary};

/// Fields that the Wazuh template (or dynamic mapping of JSON numbers) types as `ip`/`long`:
/// regexps do not work there, so they get a native `term`/`range` next to the regexp.
/// (The numeric ports are JSON numbers in Suricata, GCP and syscollector alerts.)
pub(super) const IP_TYPED_FIELDS: &[&str] = &[
    "data.port.local_ip",
    "data.port.remote_ip",
    "data.aws.srcaddr",
    "data.aws.dstaddr",
    "data.aws.source_ip_address",
];
pub(super) const NUMERIC_FIELDS: &[&str] = &[
    "data.src_port",
    "data.dest_port",
    "data.port.local_port",
    "data.port.remote_port",
    "data.gcp.jsonPayload.connection.src_port",
    "data.gcp.jsonPayload.connection.dest_port",
    "syscheck.size_after",
    "syscheck.size_before",
];

/// How values of a path compare with alert field values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// Exact, case-sensitive text.
    Text,
    /// Exact text, ASCII case-insensitive (hashes, protocols).
    TextCi,
    /// MAC addresses: case-insensitive, and with `WAZUH_SEARCH_LOOKUP_MAC_VARIANTS` also the
    /// `aabbccddeeff` and `aabb.ccdd.eeff` spellings (as the observable search).
    Mac,
    /// IP addresses (CIDR with ISSUBSET).
    Ip,
    /// Integers (ports, sizes): ordering comparisons allowed.
    Number,
    /// Paths: any run of backslashes matches any run (Wazuh doubles them in EventChannel
    /// fields); `basename`: a value without separator also matches at the end of a path.
    Path { ci: bool, basename: bool },
    /// Registry keys: paths, case-insensitive, with hive aliases (HKLM ↔ HKEY_LOCAL_MACHINE).
    RegKey { aliases: bool },
}

#[derive(Debug, Clone)]
pub(super) struct Target<'v> {
    pub(super) fields: Vec<&'v str>,
    pub(super) kind: Kind,
    /// A field whose equal value means "not a sighting" (the syslog host, the agent's own IP).
    pub(super) exclude: Option<&'static str>,
    /// The observable's main value (an address, a domain, a hash…): `=` and `IN` put in the
    /// observable search's clauses for it ([`crate::search::lookup::inner_clauses`]), so an
    /// Indicator finds what the observable it describes finds.
    pub(super) main: Option<V>,
}

pub(super) fn target<'v>(
    path: &ObjectPath,
    opts: &'v SearchOptions,
) -> Result<Target<'v>, PatternError> {
    use PathStep::*;
    let props: Vec<&str> = path
        .steps
        .iter()
        .map(|s| match s {
            Property(p) => p.as_str(),
            Index(_) | AnyIndex => "[]",
        })
        .collect();
    let v: &Vocabulary = &opts.vocabulary;
    // The fields that hold the whole value (patterns included); the other match modes (tokens
    // in lists, phrases in text) are the observable search's.
    let t = |kind: V, k: Kind| Target {
        fields: v
            .of(kind)
            .filter(|(_, h)| {
                matches!(
                    h,
                    Match::Exact | Match::CaseInsensitive | Match::TrailingDot
                )
            })
            .map(|(f, _)| f)
            .fold(Vec::new(), |mut acc, f| {
                if !acc.contains(&f) {
                    acc.push(f);
                }
                acc
            }),
        kind: k,
        exclude: None,
        main: None,
    };
    // A main value: the observable search's clauses for `=` and `IN`.
    let m = |kind: V, k: Kind| Target {
        main: Some(kind),
        ..t(kind, k)
    };
    let ip_exclude = if opts.lookup_agent_ip {
        None
    } else {
        Some(f::AGENT_IP_FIELD)
    };
    let path_kind = Kind::Path {
        ci: false,
        basename: false,
    };
    let r = match (path.object_type.as_str(), props.as_slice()) {
        ("ipv4-addr" | "ipv6-addr", ["value"]) => Target {
            exclude: ip_exclude,
            ..m(V::Ip, Kind::Ip)
        },
        ("domain-name" | "hostname", ["value"]) => Target {
            exclude: Some(f::DOMAIN_EXCLUDE_FIELD),
            ..m(V::Domain, Kind::Text)
        },
        ("url", ["value"]) => m(V::Url, Kind::Text),
        ("email-addr", ["value"]) => m(V::Email, Kind::Text),
        ("mac-addr", ["value"]) => m(V::Mac, Kind::Mac),
        ("user-agent", ["value"]) => m(V::UserAgent, Kind::Text),
        ("file" | "artifact", ["hashes", algo]) => {
            let norm: String = algo
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_uppercase();
            let kind = match norm.as_str() {
                "SHA256" => V::Sha256,
                "SHA1" => V::Sha1,
                "MD5" => V::Md5,
                _ => {
                    return Err(PatternError::unsupported(format!(
                        "{path}: Wazuh alerts carry only MD5, SHA-1 and SHA-256 hashes, not {algo}"
                    )))
                }
            };
            m(kind, Kind::TextCi)
        }
        ("file", ["name"]) => t(
            V::File,
            Kind::Path {
                ci: false,
                basename: true,
            },
        ),
        ("file", ["size"]) => t(V::FileSize, Kind::Number),
        ("file", ["parent_directory_ref", "path"]) | ("directory", ["path"]) => {
            t(V::Directory, path_kind)
        }
        ("windows-registry-key", ["key"]) => m(
            V::RegistryKey,
            Kind::RegKey {
                aliases: opts
                    .regkeysearch_options
                    .contains(&RegKeySearchOption::SearchHiveAliases),
            },
        ),
        ("windows-registry-key", ["values", "[]", "name"]) => t(V::RegistryValueName, Kind::Text),
        ("windows-registry-key", ["values", "[]", "data"]) => t(V::RegistryValueData, Kind::Text),
        ("process", ["command_line"]) => t(V::CommandLine, path_kind),
        ("process", ["name"]) => t(
            V::ProcessImage,
            Kind::Path {
                ci: true,
                basename: true,
            },
        ),
        ("user-account", ["account_login"]) => t(V::Account, Kind::Text),
        ("user-account", ["user_id"]) => t(V::UserId, Kind::Text),
        ("network-traffic", ["src_ref", "value"]) => Target {
            exclude: ip_exclude,
            ..m(V::SrcIp, Kind::Ip)
        },
        ("network-traffic", ["dst_ref", "value"]) => Target {
            exclude: ip_exclude,
            ..m(V::DstIp, Kind::Ip)
        },
        ("network-traffic", ["src_port"]) => t(V::SrcPort, Kind::Number),
        ("network-traffic", ["dst_port"]) => t(V::DstPort, Kind::Number),
        ("network-traffic", ["protocols", "[]"]) => t(V::Protocol, Kind::TextCi),
        ("vulnerability", ["name"]) => m(V::Cve, Kind::Text),
        ("software", ["name"]) => t(V::PackageName, Kind::Text),
        ("software", ["version"]) => t(V::PackageVersion, Kind::Text),
        _ => {
            return Err(PatternError::unsupported(format!(
                "object path {path} cannot be searched in Wazuh alerts (no alert field holds it)"
            )))
        }
    };
    Ok(r)
}

/// `*`-glob match of a field pattern against a concrete field name.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(p) => rest = &rest[p + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matching() {
        assert!(glob_match("*.srcip", "data.srcip"));
        assert!(glob_match("*sha256*", "syscheck.sha256_after"));
        assert!(glob_match("data.*.x", "data.a.b.x"));
        assert!(!glob_match("*.srcip", "data.srcip2"));
        assert!(!glob_match("data.srcip", "data.srcip.x"));
    }
}
