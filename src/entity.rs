//! The entity a request asks to enrich, as the functional core sees it: its STIX export, the
//! typed observable the search works on, and the indicators that point at it.

use std::collections::BTreeMap;

/// An observable's searchable properties, typed per STIX Cyber-observable type.
///
/// Built from the entity's STIX 2.1 export (`stix_entity`) by
/// [`crate::search::observable::from_stix`]; references (`parent_directory_ref`, `src_ref`,
/// `dst_ref`) are resolved beforehand and given as nested observables / paths.
#[derive(Debug, Clone, PartialEq)]
pub enum Observable {
    Ipv4Addr {
        value: String,
    },
    Ipv6Addr {
        value: String,
    },
    DomainName {
        value: String,
    },
    Hostname {
        value: String,
    },
    Url {
        value: String,
    },
    EmailAddr {
        value: String,
    },
    MacAddr {
        value: String,
    },
    UserAgent {
        value: String,
    },
    File(FileObservable),
    Artifact {
        hashes: BTreeMap<String, String>,
    },
    Directory {
        path: String,
    },
    WindowsRegistryKey {
        key: String,
    },
    WindowsRegistryValue {
        name: Option<String>,
        data: Option<String>,
        data_type: Option<String>,
    },
    Process {
        command_line: Option<String>,
        pid: Option<i64>,
    },
    UserAccount {
        account_login: Option<String>,
        user_id: Option<String>,
        display_name: Option<String>,
    },
    NetworkTraffic(NetworkTrafficObservable),
    Vulnerability {
        name: String,
    },
    Software {
        name: String,
        version: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileObservable {
    /// STIX hash names as given (`SHA-256`, `SHA-1`, `MD5`, …).
    pub hashes: BTreeMap<String, String>,
    pub name: Option<String>,
    pub additional_names: Vec<String>,
    pub size: Option<u64>,
    /// Path of the resolved `parent_directory_ref`, if any.
    pub parent_directory: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetworkTrafficObservable {
    pub src: Option<Box<Observable>>,
    pub dst: Option<Box<Observable>>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    pub protocols: Vec<String>,
}

/// An indicator of the enriched entity (or the enriched indicator itself).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndicatorInfo {
    pub standard_id: String,
    pub name: String,
    pub pattern: Option<String>,
    pub pattern_type: Option<String>,
    pub detection: Option<bool>,
    pub revoked: bool,
    pub score: Option<i64>,
}

/// The entity being enriched.
#[derive(Debug, Clone)]
pub struct Entity {
    /// STIX standard id (`ipv4-addr--…`).
    pub standard_id: String,
    /// OpenCTI entity type (`IPv4-Addr`, `StixFile`, `Indicator`, …).
    pub entity_type: String,
    /// The STIX 2.1 export as received (with OpenCTI extensions).
    pub stix: serde_json::Value,
    /// Marking-definition ids (`object_marking_refs`).
    pub markings: Vec<String>,
    /// Labels (`labels` ∪ `x_opencti_labels`).
    pub labels: Vec<String>,
    /// `created_by_ref`
    pub created_by_ref: Option<String>,
}
