//! Search and knowledge options (the `WAZUH_*` settings). Defaults equal the reference connector's
//! unless `docs/migration.md` lists a difference.

use std::collections::BTreeSet;

/// Generates a string-backed option enum with `ALL`, `as_str` and case/`_`-tolerant `parse`.
macro_rules! option_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The canonical spellings, in `ALL`'s order (the configuration schema lists them).
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Accepts the reference's spellings: case-insensitive, `_` or `-` or none between words.
            pub fn parse(s: &str) -> Option<Self> {
                let norm: String = s.trim().chars().filter(|c| *c != '-' && *c != '_' && *c != ' ').collect::<String>().to_ascii_lowercase();
                $( if norm == $text.replace('-', "") { return Some($name::$variant); } )+
                None
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

option_enum!(
    /// `WAZUH_SEARCH_FILESEARCH_OPTIONS`
    FileSearchOption {
        SearchSize = "search-size",
        SearchNameAndHash = "search-name-and-hash",
        SearchFilenameOnly = "search-filename-only",
        SearchAdditionalFilenames = "search-additional-filenames",
        BasenameOnly = "basename-only",
        IncludeParentDirRef = "include-parent-dir-ref",
        IncludeRegValues = "include-reg-values",
        AllowRegexp = "allow-regexp",
        CaseInsensitive = "case-insensitive",
        RequireAbsPath = "require-abs-path",
    }
);

option_enum!(
    /// `WAZUH_SEARCH_DIRSEARCH_OPTIONS`
    DirSearchOption {
        MatchSubdirs = "match-subdirs",
        SearchFilenames = "search-filenames",
        CaseInsensitive = "case-insensitive",
        RequireAbsPath = "require-abs-path",
        AllowRegexp = "allow-regexp",
        NormaliseBackslashes = "normalise-backslashes",
        IgnoreTrailingSlash = "ignore-trailing-slash",
    }
);

option_enum!(
    /// `WAZUH_SEARCH_PROCSEARCH_OPTIONS`
    ProcSearchOption {
        CaseInsensitive = "case-insensitive",
    }
);

option_enum!(
    /// `WAZUH_SEARCH_REGKEYSEARCH_OPTIONS`
    RegKeySearchOption {
        MatchSubdirs = "match-subdirs",
        RequireAbsPath = "require-abs-path",
        IgnoreTrailingSlash = "ignore-trailing-slash",
        IgnoreSid = "ignore-sid",
        CaseInsensitive = "case-insensitive",
        SearchHiveAliases = "search-hive-aliases",
        AllowRegexp = "allow-regexp",
    }
);

option_enum!(
    /// `WAZUH_ENRICH_TYPES`
    EnrichType {
        AttackPattern = "attack-pattern",
        Tool = "tool",
        UserAccount = "user-account",
        Url = "url",
        EmailAddr = "email-addr",
        File = "file",
        Directory = "directory",
        WindowsRegistryKey = "windows-registry-key",
        Ipv4Addr = "ipv4-addr",
        Ipv6Addr = "ipv6-addr",
        MacAddr = "mac-addr",
        UserAgent = "user-agent",
        Process = "process",
        Software = "software",
        NetworkTraffic = "network-traffic",
        DomainName = "domain-name",
        Vulnerability = "vulnerability",
    }
);

option_enum!(
    /// `WAZUH_ENRICH_FILENAME_BEHAVIOUR`
    FilenameBehaviour {
        CreateDir = "create-dir",
        RemovePath = "remove-path",
    }
);

option_enum!(
    /// `WAZUH_CREATE_INCIDENT`
    IncidentMode {
        PerQuery = "per-query",
        PerSighting = "per-sighting",
        PerAlertRule = "per-alert-rule",
        PerAlert = "per-alert",
        Never = "never",
    }
);

option_enum!(
    /// `WAZUH_INDICATOR_SEARCH`: how an Indicator is looked up.
    IndicatorSearch {
        Pattern = "pattern",
        BasedOn = "based-on",
        Both = "both",
    }
);

option_enum!(
    /// `WAZUH_SCHEMA`: which Wazuh schema the indexer holds (`auto` asks it at start-up).
    SchemaChoice {
        Auto = "auto",
        V4 = "4.x",
        V5 = "5.x",
        Mixed = "4.x+5.x",
    }
);

/// How observables are turned into OpenSearch queries (`WAZUH_SEARCH_*`).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    pub filesearch_options: BTreeSet<FileSearchOption>,
    pub dirsearch_options: BTreeSet<DirSearchOption>,
    pub procsearch_options: BTreeSet<ProcSearchOption>,
    pub regkeysearch_options: BTreeSet<RegKeySearchOption>,
    /// `WAZUH_SEARCH_LOOKUP_AGENT_IP`
    pub lookup_agent_ip: bool,
    /// `WAZUH_SEARCH_LOOKUP_AGENT_NAME` (unused by the reference; here: also match `agent.name`
    /// for Domain-Name/Hostname).
    pub lookup_agent_name: bool,
    /// `WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS`
    pub ignore_private_addrs: bool,
    /// `WAZUH_SEARCH_LOOKUP_MAC_VARIANTS`
    pub lookup_mac_variants: bool,
    /// `WAZUH_SEARCH_LOOKUP_HOSTNAMES_IN_CMD_LINE`
    pub lookup_hostnames_in_cmd_line: bool,
    /// `WAZUH_SEARCH_LOOKUP_URL_WITHOUT_HOST`
    pub lookup_url_without_host: bool,
    /// `WAZUH_SEARCH_LOOKUP_URL_IGNORE_TRAILING_SLASH`
    pub lookup_url_ignore_trailing_slash: bool,
    /// `WAZUH_INDICATOR_SEARCH` (pattern | based-on | both; default both)
    pub indicator_search: IndicatorSearch,
    /// The Wazuh field vocabulary with `WAZUH_SEARCH_FIELDS_ADD` / `_REMOVE` applied.
    pub vocabulary: std::sync::Arc<crate::vocabulary::Vocabulary>,
    /// `WAZUH_SCHEMA` (auto | 4.x | 5.x; default auto): the vocabulary above is the 4.x one
    /// until the schema is resolved at start-up.
    pub schema: SchemaChoice,
    /// `WAZUH_SEARCH_FIELDS_ADD` as given, to rebuild the vocabulary of the resolved schema.
    pub fields_add: String,
    /// `WAZUH_SEARCH_FIELDS_REMOVE` as given.
    pub fields_remove: String,
}

impl Default for SearchOptions {
    fn default() -> Self {
        use DirSearchOption as D;
        use FileSearchOption as F;
        use RegKeySearchOption as R;
        SearchOptions {
            filesearch_options: [
                F::SearchSize,
                F::SearchAdditionalFilenames,
                F::IncludeParentDirRef,
                F::IncludeRegValues,
                F::SearchFilenameOnly,
                F::AllowRegexp,
                F::CaseInsensitive,
            ]
            .into_iter()
            .collect(),
            dirsearch_options: [
                D::MatchSubdirs,
                D::SearchFilenames,
                D::AllowRegexp,
                D::IgnoreTrailingSlash,
                D::CaseInsensitive,
            ]
            .into_iter()
            .collect(),
            procsearch_options: [ProcSearchOption::CaseInsensitive].into_iter().collect(),
            regkeysearch_options: [
                R::MatchSubdirs,
                R::IgnoreTrailingSlash,
                R::IgnoreSid,
                R::CaseInsensitive,
                R::SearchHiveAliases,
                R::AllowRegexp,
            ]
            .into_iter()
            .collect(),
            lookup_agent_ip: false,
            lookup_agent_name: false,
            ignore_private_addrs: true,
            lookup_mac_variants: true,
            lookup_hostnames_in_cmd_line: false,
            lookup_url_without_host: false,
            lookup_url_ignore_trailing_slash: false,
            indicator_search: IndicatorSearch::Both,
            vocabulary: Default::default(),
            schema: SchemaChoice::Auto,
            fields_add: String::new(),
            fields_remove: String::new(),
        }
    }
}

/// The exact TLP marking names (`TLP:WHITE` is the older name of `TLP:CLEAR`): what the TLP
/// options list as accepted words, and the spellings pycti gives fixed marking ids.
pub const TLP_NAMES: [&str; 6] = [
    "TLP:CLEAR",
    "TLP:WHITE",
    "TLP:GREEN",
    "TLP:AMBER",
    "TLP:AMBER+STRICT",
    "TLP:RED",
];

/// TLP levels, ordered from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    /// Accepts `TLP:AMBER+STRICT`, `amber+strict`, `white` (= clear) …
    pub fn parse(s: &str) -> Option<Tlp> {
        let u = s.trim().to_ascii_uppercase();
        let u = u.strip_prefix("TLP:").unwrap_or(&u);
        Some(match u {
            "CLEAR" | "WHITE" => Tlp::Clear,
            "GREEN" => Tlp::Green,
            "AMBER" => Tlp::Amber,
            "AMBER+STRICT" => Tlp::AmberStrict,
            "RED" => Tlp::Red,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }
    /// The fixed OpenCTI/STIX marking-definition id of this TLP.
    pub fn marking_id(self) -> &'static str {
        match self {
            Tlp::Clear => "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
            Tlp::Green => "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            Tlp::Amber => "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
            Tlp::AmberStrict => "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37",
            Tlp::Red => "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        }
    }
    /// The TLP whose marking-definition id this is, if any.
    pub fn from_marking_id(id: &str) -> Option<Tlp> {
        [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ]
        .into_iter()
        .find(|t| t.marking_id() == id)
    }
}

/// What is built from the search results (the reference's root `WAZUH_*` settings).
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeOptions {
    /// `WAZUH_MAX_TLP` (required by the reference; default here TLP:AMBER+STRICT).
    pub max_tlp: Tlp,
    /// `WAZUH_ALLOWED_MARKINGS`: marking-definition ids that are not one of the five TLPs and may
    /// still be looked up. Any other such marking is refused, because it cannot be ranked against
    /// `max_tlp` (fail closed).
    pub allowed_markings: BTreeSet<String>,
    /// `WAZUH_TLPS`: marking ids put on every created object.
    pub tlps: Vec<String>,
    /// `WAZUH_HITS_ABORT_LIMIT`: None = never abort (default here: None, see docs/migration.md).
    pub hits_abort_limit: Option<u64>,
    /// `WAZUH_BUNDLE_ABORT_LIMIT`: None = never abort.
    pub bundle_abort_limit: Option<usize>,
    /// `WAZUH_SYSTEM_NAME`
    pub system_name: String,
    /// `WAZUH_AGENTS_AS_SYSTEMS`
    pub agents_as_systems: bool,
    /// `WAZUH_CREATE_OBS_SIGHTINGS`
    pub create_obs_sightings: bool,
    pub max_extrefs: usize,
    pub max_extrefs_per_alert_rule: usize,
    pub max_notes: usize,
    pub max_notes_per_alert_rule: usize,
    pub create_sighting_summary: bool,
    pub create_incident_summary: bool,
    pub require_indicator_for_incidents: bool,
    pub create_incident: IncidentMode,
    pub vulnerability_incident_cvss3_score_threshold: Option<f64>,
    pub vulnerability_incident_active_only: bool,
    /// 1–15
    pub create_incident_threshold: u8,
    pub rule_exclude_list: BTreeSet<String>,
    pub incident_rule_exclude_list: BTreeSet<String>,
    pub create_agent_ip_observable: bool,
    pub create_agent_hostname_observable: bool,
    pub ignore_own_entities: bool,
    pub label_ignore_list: BTreeSet<String>,
    pub enrich_labels: BTreeSet<String>,
    pub create_incident_response: bool,
    pub author_name: String,
    /// `WAZUH_APP_URL`: dashboard base URL (with trailing `/`).
    pub app_url: String,
    pub require_indicator_detection: bool,
    pub ignore_revoked_indicators: bool,
    pub indicator_score_threshold: Option<u8>,
    /// `WAZUH_ENRICH_TYPES`
    pub enrich_types: BTreeSet<EnrichType>,
    /// `WAZUH_ENRICH_FILENAME_BEHAVIOUR`
    pub filename_behaviour: BTreeSet<FilenameBehaviour>,
    /// `WAZUH_ENRICH_ENRICH_URLS_WITHOUT_HOST`
    pub enrich_urls_without_host: bool,
    /// `WAZUH_SKIP_AUTO_ENRICHMENT_OF_OWN_OBJECTS`: replaces the reference's label guard: automatic
    /// requests (`internal.mode = auto`) for objects this connector created are answered without a
    /// search (default true).
    pub skip_auto_own_objects: bool,
    /// `WAZUH_MAX_NOTE_CHARS`: cap on one note's content.
    pub max_note_chars: usize,
    /// `WAZUH_MAX_CONTEXT_ALERTS`: alerts of the sample used for context objects (enrichment).
    pub max_context_alerts: usize,
}

impl Default for KnowledgeOptions {
    fn default() -> Self {
        KnowledgeOptions {
            max_tlp: Tlp::AmberStrict,
            allowed_markings: BTreeSet::new(),
            tlps: vec![Tlp::AmberStrict.marking_id().to_string()],
            hits_abort_limit: None,
            bundle_abort_limit: None,
            system_name: "Wazuh SIEM".into(),
            agents_as_systems: true,
            create_obs_sightings: true,
            max_extrefs: 10,
            max_extrefs_per_alert_rule: 2,
            max_notes: 10,
            max_notes_per_alert_rule: 2,
            create_sighting_summary: true,
            create_incident_summary: true,
            require_indicator_for_incidents: true,
            create_incident: IncidentMode::PerSighting,
            vulnerability_incident_cvss3_score_threshold: None,
            vulnerability_incident_active_only: true,
            create_incident_threshold: 1,
            rule_exclude_list: BTreeSet::new(),
            incident_rule_exclude_list: BTreeSet::new(),
            create_agent_ip_observable: true,
            create_agent_hostname_observable: true,
            ignore_own_entities: false,
            label_ignore_list: ["hygiene", "wazuh_ignore"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            enrich_labels: ["wazuh_ignore"].iter().map(|s| s.to_string()).collect(),
            create_incident_response: true,
            author_name: "Wazuh".into(),
            app_url: "https://wazuh-dashboard/".into(),
            require_indicator_detection: false,
            ignore_revoked_indicators: true,
            indicator_score_threshold: None,
            enrich_types: EnrichType::ALL.iter().copied().collect(),
            filename_behaviour: FilenameBehaviour::ALL.iter().copied().collect(),
            enrich_urls_without_host: false,
            skip_auto_own_objects: true,
            max_note_chars: 60_000,
            max_context_alerts: 50,
        }
    }
}
