//! The compose file documents every option with its default: every environment variable named
//! in `src/config/` appears in `docker/docker-compose.yml`, and the defaults written there equal
//! the defaults the code uses (so the file cannot drift from the code).

use std::collections::{BTreeMap, BTreeSet};

use connector_wazuh::config::{EnrichType, KnowledgeOptions, SearchOptions, Tlp};
use regex::Regex;

const COMPOSE: &str = include_str!("../docker/docker-compose.yml");
const CONFIG_SOURCES: [&str; 2] = [
    include_str!("../src/config/mod.rs"),
    include_str!("../src/config/options.rs"),
];

/// `NAME -> value` for every `- NAME=value` environment entry, active or commented out
/// (a trailing ` # comment` is not part of the value).
fn compose_env() -> BTreeMap<String, String> {
    let re = Regex::new(r"^\s*(?:#\s*)?- ([A-Z][A-Z0-9_]+)=(.*)$").unwrap();
    COMPOSE
        .lines()
        .filter_map(|l| re.captures(l))
        .map(|c| {
            let v = c[2].split(" # ").next().unwrap_or("").trim().to_string();
            (c[1].to_string(), v)
        })
        .collect()
}

fn set(v: &str) -> BTreeSet<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn strs<'a, T: 'a>(
    it: impl IntoIterator<Item = &'a T>,
    f: fn(&T) -> &'static str,
) -> BTreeSet<String> {
    it.into_iter().map(|x| f(x).to_string()).collect()
}

#[test]
fn every_configuration_variable_is_in_the_compose_file() {
    let env = compose_env();
    let re = Regex::new(r"`((?:OPENCTI|CONNECTOR|WAZUH|MQ)_[A-Z0-9_]+)`").unwrap();
    let named: BTreeSet<&str> = CONFIG_SOURCES
        .iter()
        .flat_map(|src| re.captures_iter(src).map(|c| c.get(1).unwrap().as_str()))
        .collect();
    assert!(named.len() > 40, "found only {named:?}");
    let missing: Vec<&&str> = named.iter().filter(|n| !env.contains_key(**n)).collect();
    assert!(
        missing.is_empty(),
        "not in docker/docker-compose.yml: {missing:?}"
    );
}

#[test]
fn required_values_come_from_the_env_file_and_opencti_is_the_compose_service() {
    let env = compose_env();
    for (name, var) in [
        ("OPENCTI_TOKEN", "CONNECTOR_WAZUH_OPENCTI_TOKEN"),
        ("CONNECTOR_ID", "CONNECTOR_WAZUH_ID"),
        ("WAZUH_OPENSEARCH_URL", "WAZUH_INDEXER_URL"),
        ("WAZUH_OPENSEARCH_USERNAME", "WAZUH_INDEXER_USERNAME"),
        ("WAZUH_OPENSEARCH_PASSWORD", "WAZUH_INDEXER_PASSWORD"),
        ("WAZUH_APP_URL", "WAZUH_APP_URL"),
    ] {
        let v = &env[name];
        assert!(v.starts_with(&format!("${{{var}:?")), "{name}={v}");
        assert!(
            include_str!("../docker/.env.sample").contains(&format!("\n{var}=")),
            "{var} not in docker/.env.sample"
        );
    }
    assert_eq!(env["OPENCTI_URL"], "http://opencti:8080");
}

#[test]
fn documented_defaults_equal_the_code_defaults() {
    let env = compose_env();
    let s = SearchOptions::default();
    let k = KnowledgeOptions::default();
    let b = |v: bool| v.to_string();
    let opt = |v: Option<String>| v.unwrap_or_default();

    let sets: Vec<(&str, BTreeSet<String>)> = vec![
        (
            "WAZUH_SEARCH_FILESEARCH_OPTIONS",
            strs(&s.filesearch_options, |x| x.as_str()),
        ),
        (
            "WAZUH_SEARCH_DIRSEARCH_OPTIONS",
            strs(&s.dirsearch_options, |x| x.as_str()),
        ),
        (
            "WAZUH_SEARCH_PROCSEARCH_OPTIONS",
            strs(&s.procsearch_options, |x| x.as_str()),
        ),
        (
            "WAZUH_SEARCH_REGKEYSEARCH_OPTIONS",
            strs(&s.regkeysearch_options, |x| x.as_str()),
        ),
        (
            "WAZUH_ENRICH_FILENAME_BEHAVIOUR",
            strs(&k.filename_behaviour, |x| x.as_str()),
        ),
        ("WAZUH_RULE_EXCLUDE_LIST", k.rule_exclude_list.clone()),
        (
            "WAZUH_INCIDENT_RULE_EXCLUDE_LIST",
            k.incident_rule_exclude_list.clone(),
        ),
        ("WAZUH_LABEL_IGNORE_LIST", k.label_ignore_list.clone()),
        ("WAZUH_ENRICH_LABELS", k.enrich_labels.clone()),
    ];
    for (name, expected) in sets {
        assert_eq!(set(&env[name]), expected, "{name}");
    }

    let scalars: Vec<(&str, String)> = vec![
        ("WAZUH_SEARCH_LOOKUP_AGENT_IP", b(s.lookup_agent_ip)),
        ("WAZUH_SEARCH_LOOKUP_AGENT_NAME", b(s.lookup_agent_name)),
        (
            "WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS",
            b(s.ignore_private_addrs),
        ),
        ("WAZUH_SEARCH_LOOKUP_MAC_VARIANTS", b(s.lookup_mac_variants)),
        (
            "WAZUH_SEARCH_LOOKUP_HOSTNAMES_IN_CMD_LINE",
            b(s.lookup_hostnames_in_cmd_line),
        ),
        (
            "WAZUH_SEARCH_LOOKUP_URL_WITHOUT_HOST",
            b(s.lookup_url_without_host),
        ),
        (
            "WAZUH_SEARCH_LOOKUP_URL_IGNORE_TRAILING_SLASH",
            b(s.lookup_url_ignore_trailing_slash),
        ),
        ("WAZUH_INDICATOR_SEARCH", s.indicator_search.as_str().into()),
        ("WAZUH_MAX_TLP", k.max_tlp.as_str().into()),
        (
            "WAZUH_HITS_ABORT_LIMIT",
            opt(k.hits_abort_limit.map(|v| v.to_string())),
        ),
        (
            "WAZUH_BUNDLE_ABORT_LIMIT",
            opt(k.bundle_abort_limit.map(|v| v.to_string())),
        ),
        ("WAZUH_SYSTEM_NAME", k.system_name.clone()),
        ("WAZUH_AGENTS_AS_SYSTEMS", b(k.agents_as_systems)),
        ("WAZUH_CREATE_OBS_SIGHTINGS", b(k.create_obs_sightings)),
        ("WAZUH_MAX_EXTREFS", k.max_extrefs.to_string()),
        (
            "WAZUH_MAX_EXTREFS_PER_ALERT_RULE",
            k.max_extrefs_per_alert_rule.to_string(),
        ),
        ("WAZUH_MAX_NOTES", k.max_notes.to_string()),
        (
            "WAZUH_MAX_NOTES_PER_ALERT_RULE",
            k.max_notes_per_alert_rule.to_string(),
        ),
        (
            "WAZUH_CREATE_SIGHTING_SUMMARY",
            b(k.create_sighting_summary),
        ),
        (
            "WAZUH_CREATE_INCIDENT_SUMMARY",
            b(k.create_incident_summary),
        ),
        (
            "WAZUH_REQUIRE_INDICATOR_FOR_INCIDENTS",
            b(k.require_indicator_for_incidents),
        ),
        ("WAZUH_CREATE_INCIDENT", k.create_incident.as_str().into()),
        (
            "WAZUH_VULNERABILITY_INCIDENT_CVSS3_SCORE_THRESHOLD",
            opt(k
                .vulnerability_incident_cvss3_score_threshold
                .map(|v| v.to_string())),
        ),
        (
            "WAZUH_VULNERABILITY_INCIDENT_ACTIVE_ONLY",
            b(k.vulnerability_incident_active_only),
        ),
        (
            "WAZUH_CREATE_INCIDENT_THRESHOLD",
            k.create_incident_threshold.to_string(),
        ),
        (
            "WAZUH_CREATE_AGENT_IP_OBSERVABLE",
            b(k.create_agent_ip_observable),
        ),
        (
            "WAZUH_CREATE_AGENT_HOSTNAME_OBSERVABLE",
            b(k.create_agent_hostname_observable),
        ),
        ("WAZUH_IGNORE_OWN_ENTITIES", b(k.ignore_own_entities)),
        (
            "WAZUH_CREATE_INCIDENT_RESPONSE",
            b(k.create_incident_response),
        ),
        ("WAZUH_AUTHOR_NAME", k.author_name.clone()),
        (
            "WAZUH_REQUIRE_INDICATOR_DETECTION",
            b(k.require_indicator_detection),
        ),
        (
            "WAZUH_IGNORE_REVOKED_INDICATORS",
            b(k.ignore_revoked_indicators),
        ),
        (
            "WAZUH_INDICATOR_SCORE_THRESHOLD",
            opt(k.indicator_score_threshold.map(|v| v.to_string())),
        ),
        (
            "WAZUH_ENRICH_ENRICH_URLS_WITHOUT_HOST",
            b(k.enrich_urls_without_host),
        ),
        (
            "WAZUH_SKIP_AUTO_ENRICHMENT_OF_OWN_OBJECTS",
            b(k.skip_auto_own_objects),
        ),
        ("WAZUH_MAX_NOTE_CHARS", k.max_note_chars.to_string()),
        ("WAZUH_MAX_CONTEXT_ALERTS", k.max_context_alerts.to_string()),
    ];
    for (name, expected) in scalars {
        assert_eq!(env[name], expected, "{name}");
    }

    // Markings are written as TLP names in the file and stored as marking ids in the code.
    let tlps: Vec<String> = set(&env["WAZUH_TLPS"])
        .iter()
        .map(|t| Tlp::parse(t).expect("TLP name").marking_id().to_string())
        .collect();
    assert_eq!(tlps, k.tlps);
    // `all` means every type.
    assert_eq!(env["WAZUH_ENRICH_TYPES"], "all");
    assert_eq!(k.enrich_types.len(), EnrichType::ALL.len());
}
