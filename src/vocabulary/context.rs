//! The places context extraction ([`crate::knowledge`]) reads, by [`Role`]: which fields hold
//! the file an alert is about, the source and destination of a connection, the parts of a
//! process. Search only needs to know where a value *may* be; a context object needs to know
//! what the value *is* there (a directory, not the file path that contains it; the destination
//! port that pairs with the destination address), so these are a selection of the profiles'
//! fields sorted by role, kept here so that this module stays the one place that names Wazuh
//! fields.
//!
//! Both schemas' places are read for every alert: a mixed estate's answers become one build,
//! and a field of one schema never appears in the other's documents. Within a role the 4.x
//! places come first, so an alert that has both reads the decoder's value.

use super::{Match, ValueKind, Vocabulary};

/// What context extraction reads a field for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A file path or name (a File).
    File,
    /// The file the alert is about: its size, hashes and times (below) describe it.
    FileWithMetadata,
    /// A list whose first item is the value (SCA: the checked file, then candidates).
    FirstItemOnly,
    FileSize,
    FileMd5,
    FileSha1,
    FileSha256,
    FileCtime,
    FileMtime,
    FileAtime,
    Directory,
    /// A path that may be a registry key (FIM watches registry keys and files alike).
    RegistryKey,
    /// A registry key whose value is named by [`Role::RegistryValueName`] (registry FIM).
    RegistryKeyWithValue,
    RegistryValueName,
    RegistryValueType,
    /// Text where OpenCTI's tool names are looked for (command lines, images).
    ToolText,
    /// An account as `login(uid=N)` (sshd/PAM `srcuser` / `dstuser`).
    AccountWithUid,
    AccountLogin,
    AccountUserId,
    /// Text that may contain a Windows SID (registry paths under `HKEY_USERS`).
    SidInside,
    Email,
    Url,
    Address,
    Mac,
    UserAgent,
    DomainName,
    TrafficSrc,
    TrafficDst,
    TrafficSrcPort,
    TrafficDstPort,
    TrafficProtocol,
    ProcessCommandLine,
    ProcessPid,
    ProcessCwd,
    ProcessUser,
    ProcessImage,
    /// The image's hashes as one `ALG=hex,…` string (Sysmon).
    ProcessHashList,
    ProcessImageMd5,
    ProcessImageSha1,
    ProcessImageSha256,
    ParentPid,
    ParentCommandLine,
    ParentUser,
    ParentImage,
    /// auditd `execve`: an object of arguments `a0`, `a1`, …
    AuditArgs,
    AuditPid,
    AuditUid,
    AuditImage,
    AuditParentPid,
    /// A 4.x vulnerability-detector object (`cve`, `package`, `cvss`, …).
    VulnerabilityAlert,
    /// A 5.x vulnerability finding (`id`, `severity`, `score`, …) and its package.
    VulnerabilityFinding,
    VulnerabilityPackage,
}

impl Role {
    /// The value kind the search vocabulary files this role's values under, when it has one
    /// (a field read for context should also be searched: `tests` checks it).
    pub fn kind(self) -> Option<ValueKind> {
        use Role::*;
        use ValueKind as K;
        Some(match self {
            File | FileWithMetadata | ProcessImage | ParentImage | AuditImage => K::File,
            FileMd5 | ProcessImageMd5 => K::Md5,
            FileSha1 | ProcessImageSha1 => K::Sha1,
            FileSha256 | ProcessImageSha256 => K::Sha256,
            Directory | ProcessCwd => K::Directory,
            RegistryKey | RegistryKeyWithValue => K::RegistryKey,
            RegistryValueName => K::RegistryValueName,
            AccountWithUid | AccountLogin | ProcessUser | ParentUser => K::Account,
            AccountUserId | AuditUid => K::UserId,
            Email => K::Email,
            Url => K::Url,
            Address => K::Ip,
            Mac => K::Mac,
            UserAgent => K::UserAgent,
            DomainName => K::Domain,
            TrafficSrc => K::SrcIp,
            TrafficDst => K::DstIp,
            TrafficSrcPort => K::SrcPort,
            TrafficDstPort => K::DstPort,
            TrafficProtocol => K::Protocol,
            ProcessCommandLine | ParentCommandLine => K::CommandLine,
            _ => return None,
        })
    }

    /// Whether the role also reads every concrete whole-value field of its kinds in the
    /// profile: the roles whose values are checked by their form (an address must parse, a
    /// MAC must normalise), so a field of the kind cannot give a wrong object. Patterns (`*.ip`)
    /// are not walked: they also match the agent's own address, which is the sighting's
    /// system, not context of the incident.
    pub fn reads_profile_fields(self) -> bool {
        matches!(self, Role::Address | Role::Mac)
    }

    /// The kinds whose configured extra fields (and, see above, profile fields) this role
    /// reads: the roles that take a value whole and on its own (an address, a file); roles
    /// that pair values (a connection's ports, a process's parts) need a place whose partner
    /// fields are known.
    pub fn added_kinds(self) -> &'static [ValueKind] {
        use Role::*;
        use ValueKind as K;
        match self {
            File => &[K::File],
            Directory => &[K::Directory],
            RegistryKey => &[K::RegistryKey],
            AccountLogin => &[K::Account],
            AccountUserId => &[K::UserId],
            Email => &[K::Email],
            Url => &[K::Url],
            Address => &[K::Ip, K::SrcIp, K::DstIp],
            Mac => &[K::Mac, K::SrcMac, K::DstMac],
            UserAgent => &[K::UserAgent],
            DomainName => &[K::Domain],
            _ => &[],
        }
    }
}

/// `pattern` (an OpenSearch field pattern, `*` for any run of characters) matches `field`.
pub fn field_matches(pattern: &str, field: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().expect("split yields one part");
    let Some(mut left) = field.strip_prefix(first) else {
        return false;
    };
    for (i, p) in rest.iter().enumerate() {
        if i == rest.len() - 1 {
            return left.ends_with(p);
        }
        match left.find(p) {
            Some(at) => left = &left[at + p.len()..],
            None => return false,
        }
    }
    left.is_empty()
}

impl Vocabulary {
    /// The fields context extraction reads for `role`: the role's places, less those a
    /// configured removal names (`WAZUH_SEARCH_FIELDS_REMOVE`: neither searched nor read for
    /// context), then the fields configuration added to the kinds whose values the role takes
    /// whole (`WAZUH_SEARCH_FIELDS_ADD`: `ip:data.fw.peer` gives an address object too) or,
    /// for the roles that read the profile's fields ([`Role::reads_profile_fields`]), every
    /// concrete whole-value field of those kinds, added ones included.
    pub fn context_fields(&self, role: Role) -> Vec<&str> {
        let removed = |f: &str| {
            role.kind().is_some_and(|k| {
                self.changes
                    .removed
                    .iter()
                    .any(|(rk, rf)| *rk == k && field_matches(rf, f))
            })
        };
        let mut out: Vec<&str> = context_fields(role).filter(|f| !removed(f)).collect();
        let whole = |how: &Match| {
            matches!(
                how,
                Match::Exact | Match::CaseInsensitive | Match::TrailingDot
            )
        };
        let candidates = if role.reads_profile_fields() {
            &self.entries
        } else {
            &self.changes.added
        };
        for (k, f, how) in candidates {
            let f = f.as_str();
            if role.added_kinds().contains(k) && whole(how) && !f.contains('*') && !out.contains(&f)
            {
                out.push(f);
            }
        }
        out
    }
}

/// One place context extraction reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextField {
    pub role: Role,
    pub field: &'static str,
}

const fn c(role: Role, field: &'static str) -> ContextField {
    ContextField { role, field }
}

/// The fields of `role`, 4.x places first.
pub fn context_fields(role: Role) -> impl Iterator<Item = &'static str> {
    CONTEXT_4X
        .iter()
        .chain(CONTEXT_5X)
        .filter(move |c| c.role == role)
        .map(|c| c.field)
}

/// Windows event data (4.x `data.win.*`) is stored with doubled backslashes; STIX values use
/// single ones.
pub fn doubles_backslashes(field: &str) -> bool {
    field.starts_with("data.win.")
}

use Role::*;

/// The places of the Wazuh 4.x alerts.
pub const CONTEXT_4X: &[ContextField] = &[
    c(File, "data.ChildPath"),
    c(File, "data.ParentPath"),
    c(File, "data.Path"),
    c(File, "data.TargetFilename"),
    c(File, "data.TargetPath"),
    c(File, "data.audit.file.name"),
    c(File, "data.file"),
    c(File, "data.office365.SourceFileName"),
    c(File, "data.osquery.columns.path"),
    c(File, "data.sca.check.file"),
    c(File, "data.smbd.filename"),
    c(File, "data.smbd.new_filename"),
    c(File, "data.virustotal.source.file"),
    c(File, "data.win.eventdata.file"),
    c(File, "data.win.eventdata.filePath"),
    c(File, "syscheck.path"),
    c(FileWithMetadata, "syscheck.path"),
    c(FileWithMetadata, "data.osquery.columns.path"),
    c(FirstItemOnly, "data.sca.check.file"),
    c(FileSize, "syscheck.size_after"),
    c(FileSize, "syscheck.size_before"),
    c(FileMd5, "data.osquery.columns.md5"),
    c(FileMd5, "syscheck.md5_after"),
    c(FileMd5, "syscheck.md5_before"),
    c(FileSha1, "data.osquery.columns.sha1"),
    c(FileSha1, "syscheck.sha1_after"),
    c(FileSha1, "syscheck.sha1_before"),
    c(FileSha256, "data.osquery.columns.sha256"),
    c(FileSha256, "syscheck.sha256_after"),
    c(FileSha256, "syscheck.sha256_before"),
    c(FileCtime, "data.osquery.columns.ctime"),
    c(FileMtime, "syscheck.mtime_after"),
    c(FileMtime, "syscheck.mtime_before"),
    c(FileMtime, "data.osquery.columns.mtime"),
    c(FileAtime, "data.osquery.columns.atime"),
    c(Directory, "data.audit.directory.name"),
    c(Directory, "data.home"),
    c(Directory, "data.office365.SourceRelativeUrl"),
    c(Directory, "data.osquery.columns.directory"),
    c(Directory, "data.pwd"),
    c(RegistryKey, "syscheck.path"),
    c(RegistryKey, "data.win.eventdata.targetObject"),
    c(RegistryKeyWithValue, "syscheck.path"),
    c(RegistryValueName, "syscheck.value_name"),
    c(RegistryValueType, "syscheck.value_type"),
    c(ToolText, "data.win.eventdata.commandLine"),
    c(ToolText, "data.win.eventdata.details"),
    c(ToolText, "data.win.eventdata.parentCommandLine"),
    c(ToolText, "data.win.eventdata.image"),
    c(ToolText, "data.win.eventdata.sourceImage"),
    c(ToolText, "data.win.eventdata.targetImage"),
    c(ToolText, "data.audit.command"),
    c(ToolText, "data.command"),
    c(AccountWithUid, "data.srcuser"),
    c(AccountWithUid, "data.dstuser"),
    c(AccountLogin, "data.aws.userIdentity.userName"),
    c(
        AccountLogin,
        "data.gcp.protoPayload.authenticationInfo.principalEmail",
    ),
    c(AccountLogin, "data.office365.UserId"),
    c(AccountLogin, "data.win.eventdata.samAccountName"),
    c(AccountLogin, "data.win.eventdata.user"),
    c(AccountLogin, "syscheck.uname_after"),
    c(AccountLogin, "syscheck.uname_before"),
    c(AccountUserId, "data.audit.uid"),
    c(AccountUserId, "data.aws.userIdentity.accountId"),
    c(AccountUserId, "data.uid"),
    c(AccountUserId, "data.userId"),
    c(SidInside, "data.win.eventdata.targetObject"),
    c(SidInside, "syscheck.path"),
    c(
        Email,
        "data.gcp.protoPayload.authenticationInfo.principalEmail",
    ),
    c(Email, "data.office365.UserId"),
    c(
        Url,
        "data.docker.Actor.Attributes.org.opencontainers.image.source",
    ),
    c(Url, "data.office365.MeetingURL"),
    c(Url, "data.office365.MessageURLs"),
    c(Url, "data.office365.RemoteItemWebUrl"),
    c(Url, "data.osquery.columns.update_url"),
    c(Url, "data.url"),
    c(Address, "data.aws.remote_ip"),
    c(Address, "data.aws.source_ip_address"),
    c(Address, "data.dest_ip"),
    c(Address, "data.dstip"),
    c(Address, "data.gcp.protoPayload.requestMetadata.callerIp"),
    c(Address, "data.office365.ClientIP"),
    c(Address, "data.src_ip"),
    c(Address, "data.srcip"),
    c(Address, "data.win.eventdata.destinationIp"),
    c(Address, "data.win.eventdata.sourceIp"),
    c(Mac, "data.dmac"),
    c(Mac, "data.dstMac"),
    c(Mac, "data.dst_mac"),
    c(Mac, "data.dstmac"),
    c(Mac, "data.mastersrcmac"),
    c(Mac, "data.osquery.columns.interface"),
    c(Mac, "data.osquery.columns.mac"),
    c(Mac, "data.smac"),
    c(Mac, "data.srcMac"),
    c(Mac, "data.src_mac"),
    c(Mac, "data.srcmac"),
    c(UserAgent, "data.aws.userAgent"),
    c(UserAgent, "data.office365.UserAgent"),
    c(DomainName, "data.osquery.columns.hostname"),
    c(DomainName, "data.dns.question.name"),
    c(DomainName, "data.win.eventdata.queryName"),
    c(DomainName, "data.win.system.computer"),
    c(
        DomainName,
        "data.office365.ParticipantInfo.ParticipatingDomains",
    ),
    c(TrafficSrc, "data.srcip"),
    c(TrafficSrc, "data.src_ip"),
    c(TrafficSrc, "data.win.eventdata.sourceIp"),
    c(TrafficDst, "data.dstip"),
    c(TrafficDst, "data.dest_ip"),
    c(TrafficDst, "data.win.eventdata.destinationIp"),
    c(TrafficSrcPort, "data.src_port"),
    c(TrafficSrcPort, "data.srcport"),
    c(TrafficSrcPort, "data.win.eventdata.sourcePort"),
    c(TrafficDstPort, "data.dest_port"),
    c(TrafficDstPort, "data.dstport"),
    c(TrafficDstPort, "data.win.eventdata.destinationPort"),
    c(TrafficProtocol, "data.win.eventdata.protocol"),
    c(ProcessCommandLine, "data.win.eventdata.commandLine"),
    c(ProcessPid, "data.win.eventdata.processId"),
    c(ProcessCwd, "data.win.eventdata.currentDirectory"),
    c(ProcessUser, "data.win.eventdata.user"),
    c(ProcessImage, "data.win.eventdata.image"),
    c(ProcessHashList, "data.win.eventdata.hashes"),
    c(ParentPid, "data.win.eventdata.parentProcessId"),
    c(ParentCommandLine, "data.win.eventdata.parentCommandLine"),
    c(ParentUser, "data.win.eventdata.parentUser"),
    c(ParentImage, "data.win.eventdata.parentImage"),
    c(AuditArgs, "data.audit.execve"),
    c(AuditPid, "data.audit.pid"),
    c(AuditUid, "data.audit.auid"),
    c(AuditImage, "data.audit.file.name"),
    c(AuditParentPid, "data.audit.ppid"),
    c(VulnerabilityAlert, "data.vulnerability"),
];

/// The places of the Wazuh 5.x findings (ECS names).
pub const CONTEXT_5X: &[ContextField] = &[
    c(File, "file.path"),
    c(FileWithMetadata, "file.path"),
    c(FileSize, "file.size"),
    c(FileMd5, "file.hash.md5"),
    c(FileSha1, "file.hash.sha1"),
    c(FileSha256, "file.hash.sha256"),
    c(RegistryKey, "registry.path"),
    c(AccountLogin, "source.user.name"),
    c(AccountLogin, "destination.user.name"),
    c(AccountLogin, "user.name"),
    c(AccountLogin, "user.target.name"),
    c(AccountLogin, "file.owner"),
    c(Email, "user.email"),
    c(Email, "source.user.email"),
    c(Email, "destination.user.email"),
    c(Email, "email.from.address"),
    c(Email, "email.to.address"),
    c(Url, "url.full"),
    c(Url, "url.original"),
    c(Address, "source.ip"),
    c(Address, "destination.ip"),
    c(UserAgent, "user_agent.original"),
    c(DomainName, "dns.question.name"),
    c(DomainName, "url.domain"),
    c(TrafficSrc, "source.ip"),
    c(TrafficDst, "destination.ip"),
    c(TrafficSrcPort, "source.port"),
    c(TrafficDstPort, "destination.port"),
    c(TrafficProtocol, "network.transport"),
    c(ProcessCommandLine, "process.command_line"),
    c(ProcessPid, "process.pid"),
    c(ProcessCwd, "process.working_directory"),
    c(ProcessUser, "process.user.name"),
    c(ProcessImage, "process.executable"),
    c(ProcessImageMd5, "process.hash.md5"),
    c(ProcessImageSha1, "process.hash.sha1"),
    c(ProcessImageSha256, "process.hash.sha256"),
    c(ParentPid, "process.parent.pid"),
    c(ParentCommandLine, "process.parent.command_line"),
    c(ParentUser, "process.parent.user.name"),
    c(ParentImage, "process.parent.executable"),
    c(VulnerabilityFinding, "vulnerability"),
    c(VulnerabilityPackage, "package"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::{FieldChanges, WAZUH_4X, WAZUH_5X};

    #[test]
    fn configured_changes_reach_the_roles_that_take_values_whole() {
        let changes = FieldChanges::parse(
            "ip:data.remip, ip:data.ext*:exact, src-ip:data.sip",
            "ip:*.srcip",
            &WAZUH_4X,
        )
        .unwrap();
        let v = Vocabulary::new(&WAZUH_4X, &changes);
        let address = v.context_fields(Role::Address);
        assert!(address.contains(&"data.remip"));
        assert!(address.contains(&"data.sip"));
        assert!(!address.contains(&"data.srcip"), "removed by its pattern");
        assert!(
            !address.iter().any(|f| f.contains('*')),
            "patterns name no place"
        );
        // A connection's source pairs with its port: added fields do not join it, and a
        // removal of another kind leaves it alone.
        let src = v.context_fields(Role::TrafficSrc);
        assert!(src.contains(&"data.srcip"));
        assert!(!src.contains(&"data.sip"));
    }

    #[test]
    fn glob_matches_field_patterns() {
        assert!(field_matches("*.srcip", "data.srcip"));
        assert!(field_matches("*md5*", "syscheck.md5_after"));
        assert!(field_matches(
            "data.audit.execve.a*",
            "data.audit.execve.a1"
        ));
        assert!(!field_matches("*.srcip", "data.srcip2"));
        assert!(field_matches("data.url", "data.url"));
        assert!(!field_matches("data.url", "data.urls"));
    }

    /// A field read for context is also searched as a value of the same kind, so a context
    /// object never names a place the search would not find the observable in. The exceptions
    /// hold the value in a form the search kind does not match whole.
    #[test]
    fn context_fields_are_searched_under_their_kind() {
        const NOT_SEARCHED: &[(Role, &str)] = &[
            // The owner of the file a finding is about: worth an account object in the
            // incident's context, but not an account the finding is about, so the generated
            // 5.x profile does not search it.
            (Role::AccountLogin, "file.owner"),
        ];
        let mut missing = Vec::new();
        for c in CONTEXT_4X.iter().chain(CONTEXT_5X) {
            let Some(kind) = c.role.kind() else { continue };
            let searched = WAZUH_4X
                .fields
                .iter()
                .chain(WAZUH_5X.fields)
                .any(|s| s.kind == kind && field_matches(s.field, c.field));
            if !searched && !NOT_SEARCHED.contains(&(c.role, c.field)) {
                missing.push(format!("{:?} {} ({kind})", c.role, c.field));
            }
        }
        assert!(missing.is_empty(), "not searched:\n{}", missing.join("\n"));
    }
}
