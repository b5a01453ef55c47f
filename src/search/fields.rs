//! Where each kind of observable value appears in Wazuh 4.x alerts: the one source of truth for
//! the query builders ([`super`]) and the STIX pattern translator ([`crate::pattern`]).
//!
//! Field names may contain `*` (OpenSearch `multi_match` field patterns). Lists start from the
//! reference connector's (spec §3) with its bugs fixed (merged/duplicated uid fields, see
//! README "Differences") and with the fields users reported missing (e.g. `data.remip`,
//! reference issue #89) added at the end.

/// IPv4/IPv6 addresses (spec §3.2 plus `data.remip`, `data.win.eventdata.ipAddress`,
/// `data.win.eventdata.sourceIp/destinationIp`, `data.flow.*`, `data.aws.sourceIPAddress`,
/// `data.office365.ClientIP`, `data.gcp.jsonPayload.sourceIP`).
pub const IP_FIELDS: &[&str] = &[
    "*.ActorIpAddress",
    "*.ClientIP",
    "*.IP",
    "*.IPAddress",
    "*.LocalIp",
    "*.callerIp",
    "*.dest_ip",
    "*.destination_address",
    "*.dstip",
    "*.ip",
    "*.ipAddress",
    "*.ipv*.address",
    "*.local_address",
    "*.nat_destination_ip",
    "*.nat_source_ip",
    "*.remote_address",
    "*.remote_ip",
    "*.remote_ip_address",
    "*.sourceIPAddress",
    "*.source_address",
    "*.source_ip_address",
    "*.src_ip",
    "*.srcip",
    "data.win.eventdata.queryName",
    "data.osquery.columns.address",
    // Added (not in the reference):
    "data.remip",
    "data.win.eventdata.sourceIp",
    "data.win.eventdata.destinationIp",
    "data.gcp.jsonPayload.sourceIP",
    "data.aws.client_ip",
    "data.osquery.columns.src_ip",
    "data.osquery.columns.dst_ip",
];

/// MAC addresses (spec §3.3).
pub const MAC_FIELDS: &[&str] = &[
    "*.dmac",
    "*.dst_mac",
    "*.dstmac",
    "*.mac",
    "*.smac",
    "*.src_mac",
    "*.srcmac",
    "data.osquery.columns.interface",
];

/// Network-traffic endpoints and ports (spec §3.4).
pub const TRAFFIC_SRC_MAC_FIELDS: &[&str] = &["*.mac", "*.smac", "*.src_mac", "*.srcmac"];
pub const TRAFFIC_DST_MAC_FIELDS: &[&str] = &["*.dmac", "*.dst_mac", "*.dstmac", "*.mac"];
pub const TRAFFIC_SRC_IP_FIELDS: &[&str] = &[
    "*.LocalIp",
    "*.local_address",
    "*.nat_source_ip",
    "*.sourceIp",
    "*.source_address",
    "*.src_ip",
    "*.srcip",
];
pub const TRAFFIC_SRC_PORT_FIELDS: &[&str] = &[
    "*.local_port",
    "*.nat_source_port",
    "*.sourcePort",
    "*.spt",
    "*.src_port",
    "*.srcport",
    "data.IP",
];
pub const TRAFFIC_DST_IP_FIELDS: &[&str] = &[
    "*.dest_ip",
    "*.destinationIp",
    "*.destination_address",
    "*.dstip",
    "*.nat_destination_ip",
    "*.remote_address",
];
pub const TRAFFIC_DST_PORT_FIELDS: &[&str] = &[
    "*.dest_port",
    "*.destinationPort",
    "*.dpt",
    "*.dstport",
    "*.nat_destination_port",
    "*.remote_port",
];
pub const TRAFFIC_PROTOCOL_FIELDS: &[&str] = &["*.protocol"];

/// E-mail addresses (spec §3.5).
pub const EMAIL_FIELDS: &[&str] = &["*Email", "*email", "data.office365.UserId"];

/// User agents (spec §3.5, plus Suricata's `data.http.http_user_agent` and IIS `data.user_agent`).
pub const USER_AGENT_FIELDS: &[&str] = &[
    "data.aws.userAgent",
    "data.office365.UserAgent",
    "data.http.http_user_agent",
    "data.user_agent",
];

/// Vulnerability ids (spec §3.5).
pub const VULNERABILITY_FIELDS: &[&str] = &["data.vulnerability.cve"];

/// Software (reference dev branch): package name and version of vulnerability alerts.
pub const SOFTWARE_NAME_FIELD: &str = "data.vulnerability.package.name";
pub const SOFTWARE_VERSION_FIELD: &str = "data.vulnerability.package.version";

/// Domain names and hostnames (spec §3.6, plus Suricata `data.http.hostname`, `data.dns.rrname`,
/// `data.tls.sni` and Sysmon 3 `destinationHostname`).
pub const DOMAIN_FIELDS: &[&str] = &[
    "*.HostName",
    "*.dns_hostname",
    "*.domain",
    "*.host",
    "*.hostname",
    "*.netbios_hostname",
    "data.dns.question.name",
    "data.win.eventdata.queryName",
    // Added (not in the reference):
    "data.dns.rrname",
    "data.tls.sni",
    "data.win.eventdata.destinationHostname",
];

/// Command-line fields searched for domains with `lookup_hostnames_in_cmd_line` (spec §3.6).
pub const DOMAIN_CMDLINE_FIELDS: &[&str] = &[
    "data.win.eventdata.commandLine",
    "data.win.eventdata.parentCommandLine",
    "data.command",
    "data.audit.execve.a1",
    "data.audit.execve.a2",
    "data.audit.execve.a3",
    "data.audit.execve.a4",
    "data.audit.execve.a5",
    "data.audit.execve.a6",
    "data.audit.execve.a7",
];

/// The syslog host header: a domain equal to it is not a sighting (spec §3.6).
pub const DOMAIN_EXCLUDE_FIELD: &str = "predecoder.hostname";

/// URLs, exact match (spec §3.7).
pub const URL_MATCH_FIELDS: &[&str] = &[
    "*url",
    "*Url",
    "*URL",
    "*.uri",
    "data.office365.MessageURLs",
];
/// URLs, regexp forms (spec §3.7).
pub const URL_REGEXP_FIELDS: &[&str] = &[
    "data.URL",
    "data.docker.Actor.Attributes.org.opencontainers.image.source",
    "data.github.config.url",
    "data.office365.MessageURLs",
    "data.office365.SiteUrl",
    "data.uri",
    "data.url",
];

/// File names and paths (spec §3.1, FILE_FIELDS).
pub const FILE_FIELDS: &[&str] = &[
    "data.ChildPath",
    "data.ParentPath",
    "data.Path",
    "data.TargetPath",
    "data.audit.exe",
    "data.audit.execve.a1",
    "data.audit.execve.a2",
    "data.audit.execve.a3",
    "data.audit.execve.a4",
    "data.audit.execve.a5",
    "data.audit.execve.a6",
    "data.audit.execve.a7",
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
    "data.win.eventdata.image",
    "data.win.eventdata.parentImage",
    "data.win.eventdata.targetFilename",
    "syscheck.path",
];

/// Hash fields per STIX hash algorithm (spec §3.1: `multi_match` field patterns).
pub const HASH_FIELDS_SHA256: &[&str] = &["*sha256*"];
pub const HASH_FIELDS_SHA1: &[&str] = &["*sha1*"];
pub const HASH_FIELDS_MD5: &[&str] = &["*md5*"];

/// File size (spec §3.1).
pub const FILE_SIZE_FIELDS: &[&str] = &["syscheck.size*"];

/// Directory paths (spec §3.8).
pub const DIR_FIELDS: &[&str] = &[
    "data.SourceFilePath",
    "data.TargetPath",
    "data.audit.directory.name",
    "data.home",
    "data.office365.SourceRelativeUrl",
    "data.pwd",
    "syscheck.path",
];
/// Extra field patterns of the non-regexp directory search (spec §3.8).
pub const DIR_EXTRA_MATCH_FIELDS: &[&str] =
    &["*.currentDirectory", "*.directory", "*.path", "*.pwd"];
/// File fields searched for files inside a directory (`search-filenames`, spec §3.8).
pub const DIR_FILENAME_FIELDS: &[&str] = &[
    "data.ChildPath",
    "data.ParentPath",
    "data.Path",
    "data.TargetPath",
    "data.audit.file.name",
    "data.smbd.filename",
    "data.smbd.new_filename",
    "data.win.eventdata.image",
    "data.win.eventdata.sourceImage",
    "data.win.eventdata.targetImage",
];

/// Registry keys (spec §3.9).
pub const REGKEY_FIELDS: &[&str] = &["data.win.eventdata.targetObject", "syscheck.path"];
/// Registry value data hash (spec §3.10).
pub const REGVALUE_HASH_FIELDS: &[&str] = &["syscheck.sha256_after"];

/// Process command lines (spec §3.11).
pub const PROCESS_WIN_FIELDS: &[&str] = &[
    "data.win.eventdata.commandLine",
    "data.win.eventdata.details",
    "data.win.eventdata.image",
    "data.win.eventdata.parentCommandLine",
    "data.win.eventdata.sourceImage",
    "data.win.eventdata.targetImage",
];
pub const PROCESS_COMMAND_FIELD: &str = "data.command";
pub const PROCESS_AUDIT_COMMAND_FIELDS: &[&str] = &["data.audit.command", "data.audit.exe"];
pub const PROCESS_AUDIT_ARG_FIELDS: &[&str] = &["data.audit.execve.a*"];

/// User-account logins (spec §3.12).
pub const USER_FIELDS: &[&str] = &[
    "*.LoggedUser",
    "*.destination_user",
    "*.dstuser",
    "*.parentUser",
    "*.sourceUser",
    "*.source_user",
    "*.srcuser",
    "*.user",
    "*.userName",
    "*.username",
    "*.user.name",
    "data.gcp.protoPayload.authenticationInfo.principalEmail",
    "data.gcp.resource.labels.email_id",
    "data.office365.UserId",
    "data.win.eventdata.samAccountname",
    "syscheck.uname_after",
    "syscheck.uname_before",
    // Added (not in the reference):
    "data.win.eventdata.targetUserName",
    "data.win.eventdata.subjectUserName",
];

/// User ids and SIDs (spec §3.12 with the reference's merged `data.Authorization.sid` /
/// `data.userID` split again and the duplicate `*.ouid` removed).
pub const UID_FIELDS: &[&str] = &[
    "data.Authorization.sid",
    "data.userID",
    "data.win.eventdata.subjectUserSid",
    "data.win.eventdata.targetSid",
    "syscheck.uid_after",
    "syscheck.uid_before",
    "*.user.id",
    "*.auid",
    "*.euid",
    "*.fsuid",
    "*.inode_uid",
    "*.oauid",
    "*.obj_uid",
    "*.ouid",
    "*.sauid",
    "*.suid",
    "*.uid",
    "data.aws.userIdentity.accountId",
    "data.aws.userIdentity.principalId",
    // Added (not in the reference):
    "data.win.eventdata.targetUserSid",
];

/// Fields that carry the alert's time, agent and rule (used by aggregations and sorting).
pub const TIMESTAMP_FIELD: &str = "@timestamp";
pub const AGENT_ID_FIELD: &str = "agent.id";
pub const RULE_ID_FIELD: &str = "rule.id";
pub const RULE_LEVEL_FIELD: &str = "rule.level";
pub const AGENT_NAME_FIELD: &str = "agent.name";
pub const AGENT_IP_FIELD: &str = "agent.ip";
/// Dashboard sample alerts carry this field; they are excluded by default.
pub const SAMPLE_DATA_FIELD: &str = "@sampledata";
/// The manager's time of the alert (Filebeat copies it into `@timestamp`; documents loaded by
/// other means may only have this one).
pub const ALERT_TIME_FIELD: &str = "timestamp";

/// Registry value names (FIM registry value alerts, rules 750–752).
pub const REGVALUE_NAME_FIELDS: &[&str] = &["syscheck.value_name"];
/// Registry value data as text (Sysmon 13 `SetValue`).
pub const REGVALUE_DATA_FIELDS: &[&str] = &["data.win.eventdata.details"];
