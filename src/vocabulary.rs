//! The Wazuh field vocabulary: for every kind of value an observable can be (an IP address, a
//! domain name, a SHA-256 hash, a registry key…), the alert fields where Wazuh stores it and how
//! each field must be matched. The one source of truth for the observable queries
//! ([`crate::search::query`]), the STIX pattern translation ([`crate::pattern`]) and context extraction
//! ([`crate::knowledge`]).
//!
//! A [`Profile`] is the table of one Wazuh schema: [`WAZUH_4X`] maps the value kinds to the
//! fields of the `wazuh-alerts-4.x-*` template (almost every string is a `keyword`; only
//! `full_log`, `previous_log` and `message` are analysed text). A later schema (5.x, ECS field
//! names) is another table over the same [`ValueKind`]s. Users add or remove fields per kind
//! without rebuilding ([`FieldChanges`], `WAZUH_SEARCH_FIELDS_ADD` / `_REMOVE`).
//!
//! Field names may contain `*` (an OpenSearch field pattern) only in [`Match::Exact`] entries,
//! which are searched with one `multi_match`; every other mode needs a concrete field.

use std::fmt;

/// A kind of value found in alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueKind {
    /// IPv4 or IPv6 address, any role.
    Ip,
    /// Source address of a connection.
    SrcIp,
    /// Destination address of a connection.
    DstIp,
    SrcPort,
    DstPort,
    /// Transport or application protocol name.
    Protocol,
    /// MAC address, any role.
    Mac,
    SrcMac,
    DstMac,
    /// Domain name or host name.
    Domain,
    /// Full URL (scheme, host, path).
    Url,
    /// E-mail address.
    Email,
    UserAgent,
    Md5,
    Sha1,
    Sha256,
    /// A file: its name or its full path.
    File,
    /// File size in bytes.
    FileSize,
    /// A directory path (also found as the parent of file paths).
    Directory,
    RegistryKey,
    RegistryValueName,
    /// Registry value data as text.
    RegistryValueData,
    /// SHA-256 of registry value data (FIM).
    RegistryValueSha256,
    /// A whole command line.
    CommandLine,
    /// The executable of a process (path or name).
    ProcessImage,
    /// One argument of a command line stored split up (auditd `execve`).
    ProcessArg,
    /// Account login name.
    Account,
    /// Numeric user id or Windows SID.
    UserId,
    /// Vulnerability id (CVE).
    Cve,
    PackageName,
    PackageVersion,
}

impl ValueKind {
    /// Every kind, in table order.
    pub const ALL: &'static [ValueKind] = &[
        ValueKind::Ip,
        ValueKind::SrcIp,
        ValueKind::DstIp,
        ValueKind::SrcPort,
        ValueKind::DstPort,
        ValueKind::Protocol,
        ValueKind::Mac,
        ValueKind::SrcMac,
        ValueKind::DstMac,
        ValueKind::Domain,
        ValueKind::Url,
        ValueKind::Email,
        ValueKind::UserAgent,
        ValueKind::Md5,
        ValueKind::Sha1,
        ValueKind::Sha256,
        ValueKind::File,
        ValueKind::FileSize,
        ValueKind::Directory,
        ValueKind::RegistryKey,
        ValueKind::RegistryValueName,
        ValueKind::RegistryValueData,
        ValueKind::RegistryValueSha256,
        ValueKind::CommandLine,
        ValueKind::ProcessImage,
        ValueKind::ProcessArg,
        ValueKind::Account,
        ValueKind::UserId,
        ValueKind::Cve,
        ValueKind::PackageName,
        ValueKind::PackageVersion,
    ];

    /// The name used in configuration (`ip`, `src-ip`, `sha256`, `registry-key`…).
    pub fn name(self) -> &'static str {
        use ValueKind::*;
        match self {
            Ip => "ip",
            SrcIp => "src-ip",
            DstIp => "dst-ip",
            SrcPort => "src-port",
            DstPort => "dst-port",
            Protocol => "protocol",
            Mac => "mac",
            SrcMac => "src-mac",
            DstMac => "dst-mac",
            Domain => "domain",
            Url => "url",
            Email => "email",
            UserAgent => "user-agent",
            Md5 => "md5",
            Sha1 => "sha1",
            Sha256 => "sha256",
            File => "file",
            FileSize => "file-size",
            Directory => "directory",
            RegistryKey => "registry-key",
            RegistryValueName => "registry-value-name",
            RegistryValueData => "registry-value-data",
            RegistryValueSha256 => "registry-value-sha256",
            CommandLine => "command-line",
            ProcessImage => "process-image",
            ProcessArg => "process-arg",
            Account => "account",
            UserId => "user-id",
            Cve => "cve",
            PackageName => "package-name",
            PackageVersion => "package-version",
        }
    }

    /// The kind of a configuration name.
    pub fn from_name(s: &str) -> Option<ValueKind> {
        ValueKind::ALL.iter().copied().find(|k| k.name() == s)
    }

    /// How a user-added field of this kind is matched (values of these kinds differ only in
    /// letter case between sources, so a case-sensitive term would miss them).
    pub fn default_match(self) -> Match {
        use ValueKind::*;
        match self {
            Domain | Email | Md5 | Sha1 | Sha256 | Mac | SrcMac | DstMac | Protocol
            | RegistryValueSha256 => Match::CaseInsensitive,
            _ => Match::Exact,
        }
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a field holds its value, and so how it must be queried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Match {
    /// The whole value, exact (a `keyword`, `ip` or number: `term`).
    Exact,
    /// The whole value, ASCII case-insensitive (`term` with `case_insensitive`).
    CaseInsensitive,
    /// A DNS name that may end with the root dot (`example.com.`), case-insensitive.
    TrailingDot,
    /// One item of a list kept in one string: the value is delimited by the start or end of the
    /// field or by one of these characters (Sysmon DNS `queryResults`: `;`).
    Token(&'static str),
    /// The hex value in a `ALG=hex,ALG=hex` list (Sysmon `hashes`), case-insensitive.
    HashList,
    /// The host of URLs stored whole (`scheme://host[:port]/…`), case-insensitive.
    UrlHost,
    /// A phrase in analysed free text (`match_phrase` on a `text` field).
    Phrase,
}

impl Match {
    /// The name used in configuration (`exact`, `case-insensitive`, `phrase`).
    pub fn name(self) -> &'static str {
        match self {
            Match::Exact => "exact",
            Match::CaseInsensitive => "case-insensitive",
            Match::TrailingDot => "trailing-dot",
            Match::Token(_) => "token",
            Match::HashList => "hash-list",
            Match::UrlHost => "url-host",
            Match::Phrase => "phrase",
        }
    }

    /// The modes a user may choose for an added field.
    pub fn from_name(s: &str) -> Option<Match> {
        Some(match s {
            "exact" => Match::Exact,
            "case-insensitive" => Match::CaseInsensitive,
            "trailing-dot" => Match::TrailingDot,
            "hash-list" => Match::HashList,
            "url-host" => Match::UrlHost,
            "phrase" => Match::Phrase,
            _ => return None,
        })
    }
}

/// One field of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub kind: ValueKind,
    pub field: &'static str,
    pub how: Match,
}

/// The fields of one Wazuh schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    pub name: &'static str,
    pub fields: &'static [FieldSpec],
}

/// Fields added to or removed from a profile by configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldChanges {
    /// `(kind, field, how)` searched in addition to the profile's fields.
    pub added: Vec<(ValueKind, String, Match)>,
    /// `(kind, field)` no longer searched (nor read for context).
    pub removed: Vec<(ValueKind, String)>,
}

/// Why a field change is not acceptable (reported at start-up).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldChangeError {
    #[error("{0:?}: expected KIND:FIELD or KIND:FIELD:MATCH (for example ip:data.remip)")]
    Shape(String),
    #[error("{0:?} is not a value kind; one of: {1}")]
    Kind(String, String),
    #[error("{0:?} is not a match mode; one of: exact, case-insensitive, trailing-dot, hash-list, url-host, phrase")]
    Match(String),
    #[error(
        "{0:?} is not a field name (letters, digits, '.', '_', '-', '@'; '*' only with exact)"
    )]
    Field(String),
    #[error("{kind}:{field} is not a field of the {profile} profile, so it cannot be removed")]
    NotInProfile {
        kind: ValueKind,
        field: String,
        profile: &'static str,
    },
}

/// At most this many user-added fields (each adds clauses to every query of its kind).
pub const MAX_ADDED_FIELDS: usize = 100;

fn valid_field(f: &str, how: Match) -> bool {
    !f.is_empty()
        && f.len() <= 256
        && !f.starts_with('.')
        && !f.ends_with('.')
        && f.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '*'))
        && (how == Match::Exact || !f.contains('*'))
}

fn parse_kind(k: &str) -> Result<ValueKind, FieldChangeError> {
    ValueKind::from_name(k.trim()).ok_or_else(|| {
        let names: Vec<&str> = ValueKind::ALL.iter().map(|k| k.name()).collect();
        FieldChangeError::Kind(k.to_string(), names.join(", "))
    })
}

impl FieldChanges {
    /// Parses the comma-separated `KIND:FIELD[:MATCH]` lists of the add and remove options
    /// and checks them against `profile`.
    pub fn parse(add: &str, remove: &str, profile: &Profile) -> Result<Self, FieldChangeError> {
        let items = |s: &str| -> Vec<String> {
            s.split([',', '\n'])
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        };
        let mut out = FieldChanges::default();
        for item in items(add) {
            let parts: Vec<&str> = item.split(':').collect();
            let (kind, field, how) = match parts.as_slice() {
                [k, f] => {
                    let kind = parse_kind(k)?;
                    (kind, f.trim(), kind.default_match())
                }
                [k, f, m] => (
                    parse_kind(k)?,
                    f.trim(),
                    Match::from_name(m.trim())
                        .ok_or_else(|| FieldChangeError::Match(m.to_string()))?,
                ),
                _ => return Err(FieldChangeError::Shape(item.clone())),
            };
            if !valid_field(field, how) {
                return Err(FieldChangeError::Field(field.to_string()));
            }
            out.added.push((kind, field.to_string(), how));
        }
        if out.added.len() > MAX_ADDED_FIELDS {
            return Err(FieldChangeError::Shape(format!(
                "{} added fields (at most {MAX_ADDED_FIELDS})",
                out.added.len()
            )));
        }
        for item in items(remove) {
            let Some((k, f)) = item.split_once(':') else {
                return Err(FieldChangeError::Shape(item.clone()));
            };
            let kind = parse_kind(k)?;
            let field = f.trim();
            if !profile
                .fields
                .iter()
                .any(|s| s.kind == kind && s.field == field)
            {
                return Err(FieldChangeError::NotInProfile {
                    kind,
                    field: field.to_string(),
                    profile: profile.name,
                });
            }
            out.removed.push((kind, field.to_string()));
        }
        Ok(out)
    }
}

/// A profile with the configured changes applied: what queries and extraction read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    entries: Vec<(ValueKind, String, Match)>,
    /// The changes applied, which context extraction also honours ([`Vocabulary::context_fields`]).
    changes: FieldChanges,
}

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary::new(&WAZUH_4X, &FieldChanges::default())
    }
}

impl Vocabulary {
    pub fn new(profile: &Profile, changes: &FieldChanges) -> Self {
        let mut entries: Vec<(ValueKind, String, Match)> = profile
            .fields
            .iter()
            .filter(|s| {
                !changes
                    .removed
                    .iter()
                    .any(|(k, f)| *k == s.kind && f == s.field)
            })
            .map(|s| (s.kind, s.field.to_string(), s.how))
            .collect();
        for a in &changes.added {
            if !entries.contains(a) {
                entries.push(a.clone());
            }
        }
        Vocabulary {
            entries,
            changes: changes.clone(),
        }
    }

    /// The fields of `kind` matched with `how`, in table order.
    pub fn fields(&self, kind: ValueKind, how: Match) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(k, _, h)| *k == kind && *h == how)
            .map(|(_, f, _)| f.as_str())
            .collect()
    }

    /// Every `(field, how)` of `kind`, in table order.
    pub fn of(&self, kind: ValueKind) -> impl Iterator<Item = (&str, Match)> {
        self.entries
            .iter()
            .filter(move |(k, _, _)| *k == kind)
            .map(|(_, f, h)| (f.as_str(), *h))
    }
}

pub mod context;
mod wazuh_4x;
pub use wazuh_4x::WAZUH_4X;
mod wazuh_5x;
pub use wazuh_5x::WAZUH_5X;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_5x;
