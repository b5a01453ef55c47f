//! Assembly: every option read through the [`Resolver`], parsed, and put into [`Settings`].

use std::collections::BTreeSet;

use super::parse::*;
use super::resolve::{ConfigError, Resolver};
use super::table::{DEFAULT_SCOPE, OPTIONS};
use super::*;

pub(crate) fn build(r: &mut Resolver<'_>) -> Result<Settings, ConfigError> {
    let opencti = OpenCtiSettings {
        url: r
            .with("OPENCTI_URL", parse_http_url)?
            .trim_end_matches('/')
            .to_string(),
        token: Secret::new(r.text("OPENCTI_TOKEN")?),
        ssl_verify: r.bool("OPENCTI_SSL_VERIFY")?,
        ca_bundle: r.with_opt("OPENCTI_CA_BUNDLE", parse_file_path)?,
        timeout: r.with("OPENCTI_TIMEOUT", parse_duration)?,
        custom_headers: r
            .list("OPENCTI_CUSTOM_HEADERS", parse_custom_headers)?
            .into_iter()
            .map(|(name, value)| (name, Secret::new(value)))
            .collect(),
    };
    r.with("CONNECTOR_TYPE", |s| {
        if s.eq_ignore_ascii_case("INTERNAL_ENRICHMENT") {
            Ok(())
        } else {
            Err(Bad::new("is not supported", "INTERNAL_ENRICHMENT"))
        }
    })?;
    let connector = ConnectorSettings {
        id: r.with("CONNECTOR_ID", |s| {
            uuid::Uuid::parse_str(s)
                .map(|u| u.to_string())
                .map_err(|_| {
                    Bad::new(
                        "is not a UUID",
                        "a UUID such as 0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11",
                    )
                })
        })?,
        name: r.with("CONNECTOR_NAME", |s| {
            if s.chars().count() >= 2 {
                Ok(s.to_string())
            } else {
                Err(Bad::new("is too short", "at least 2 characters"))
            }
        })?,
        scope: r.with("CONNECTOR_SCOPE", |s| {
            let list = parse_list(s)?;
            // OpenCTI takes the scope as a list of types, not the word `all`: expand it.
            if list.len() == 1 && list[0].eq_ignore_ascii_case("all") {
                return parse_list(DEFAULT_SCOPE);
            }
            Ok(list)
        })?,
        auto: r.bool("CONNECTOR_AUTO")?,
        auto_update: r.bool("CONNECTOR_AUTO_UPDATE")?,
        auto_enrichment_cooldown: r.with("CONNECTOR_AUTO_ENRICHMENT_COOLDOWN", parse_duration)?,
        log_level: r.with("CONNECTOR_LOG_LEVEL", parse_log_level)?,
        json_logging: r.bool("CONNECTOR_JSON_LOGGING")?,
        concurrency: r.with("CONNECTOR_CONCURRENCY", |s| parse_int(s, 1usize, 256))?,
        queue_protocol: r.with("CONNECTOR_QUEUE_PROTOCOL", parse_queue_protocol)?,
        shutdown_grace_period: r.with("CONNECTOR_SHUTDOWN_GRACE_PERIOD", parse_duration)?,
        outage_window: r.with("CONNECTOR_OUTAGE_WINDOW", parse_duration)?,
        max_attempts: r.with("CONNECTOR_MAX_ATTEMPTS", |s| parse_int(s, 1u32, 100))?,
        expose_metrics: r.bool("CONNECTOR_EXPOSE_METRICS")?,
        metrics_port: r.with("CONNECTOR_METRICS_PORT", |s| parse_int(s, 1u16, u16::MAX))?,
        metrics_host: r.with("CONNECTOR_METRICS_HOST", |s| {
            s.parse::<std::net::IpAddr>()
                .map(|_| s.to_string())
                .map_err(|_| {
                    Bad::new(
                        "is not an IP address",
                        "an IPv4 or IPv6 address such as 0.0.0.0",
                    )
                })
        })?,
        metrics_namespace: r.with("CONNECTOR_METRICS_NAMESPACE", parse_metric_prefix)?,
        metrics_subsystem: r.with("CONNECTOR_METRICS_SUBSYSTEM", parse_metric_prefix)?,
        mq: MqOverrides {
            host: r.opt_text("MQ_HOST")?,
            port: r.with_opt("MQ_PORT", |s| parse_int(s, 1u16, u16::MAX))?,
            vhost: r.opt_text("MQ_VHOST")?,
            use_ssl: r.with_opt("MQ_USE_SSL", parse_bool)?,
            user: r.opt_text("MQ_USER")?,
            pass: r.raw("MQ_PASS")?.filter(|s| !s.is_empty()).map(Secret::new),
            ssl_ca: r.with_opt("MQ_USE_SSL_CA", parse_file_path)?,
        },
        max_message_bytes: r.with("CONNECTOR_MAX_MESSAGE_BYTES", |s| {
            parse_int(s, 1024usize, 512 * 1024 * 1024)
        })?,
        listen: super::listen::build(r)?,
        send_to_queue: r.bool("CONNECTOR_SEND_TO_QUEUE")?,
        send_to_directory: bundle_directory(r)?,
    };
    if !connector.send_to_queue && connector.send_to_directory.is_none() {
        return Err(ConfigError::Invalid {
            name: "CONNECTOR_SEND_TO_QUEUE".into(),
            problem: "is false while CONNECTOR_SEND_TO_DIRECTORY is off: results would go nowhere"
                .into(),
            accepted: "true, or CONNECTOR_SEND_TO_DIRECTORY=true with a path".into(),
        });
    }
    let indexer = IndexerSettings {
        url: r.with("WAZUH_OPENSEARCH_URL", parse_http_url)?,
        username: r.text("WAZUH_OPENSEARCH_USERNAME")?,
        password: Secret::new(r.raw("WAZUH_OPENSEARCH_PASSWORD")?.unwrap_or_default()),
        verify_tls: r.bool("WAZUH_OPENSEARCH_VERIFY_TLS")?,
        ca_bundle: r.with_opt("WAZUH_OPENSEARCH_CA_BUNDLE", parse_file_path)?,
        index: r.with("WAZUH_OPENSEARCH_INDEX", |s| {
            if s.is_empty() {
                Err(Bad::new(
                    "is empty",
                    "an index pattern such as wazuh-alerts-*",
                ))
            } else {
                Ok(s.to_string())
            }
        })?,
        timeout: r.with("WAZUH_OPENSEARCH_TIMEOUT", parse_duration)?,
        retries: r.with("WAZUH_OPENSEARCH_RETRIES", |s| parse_int(s, 0u32, 20))?,
        search_after: r.with_opt("WAZUH_OPENSEARCH_SEARCH_AFTER", parse_time_bound)?,
        include_match: r.with("WAZUH_OPENSEARCH_INCLUDE_MATCH", parse_matches)?,
        exclude_match: r.with("WAZUH_OPENSEARCH_EXCLUDE_MATCH", parse_matches)?,
        filter: r.with("WAZUH_OPENSEARCH_FILTER", parse_filter)?,
        limit: r.with("WAZUH_OPENSEARCH_LIMIT", |s| parse_int(s, 1usize, 10_000))?,
        order_by: r.with("WAZUH_OPENSEARCH_ORDER_BY", parse_order_by)?,
        exclude_sample_data: r.bool("WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA")?,
        vulnerability_state_index: r.opt_text("WAZUH_OPENSEARCH_VULNERABILITY_STATE_INDEX")?,
    };
    let mut search = SearchOptions {
        filesearch_options: r.list("WAZUH_SEARCH_FILESEARCH_OPTIONS", |s| {
            parse_enum_set(s, FileSearchOption::ALL, FileSearchOption::parse)
        })?,
        dirsearch_options: r.list("WAZUH_SEARCH_DIRSEARCH_OPTIONS", |s| {
            parse_enum_set(s, DirSearchOption::ALL, DirSearchOption::parse)
        })?,
        procsearch_options: r.list("WAZUH_SEARCH_PROCSEARCH_OPTIONS", |s| {
            parse_enum_set(s, ProcSearchOption::ALL, ProcSearchOption::parse)
        })?,
        regkeysearch_options: r.list("WAZUH_SEARCH_REGKEYSEARCH_OPTIONS", |s| {
            parse_enum_set(s, RegKeySearchOption::ALL, RegKeySearchOption::parse)
        })?,
        lookup_agent_ip: r.bool("WAZUH_SEARCH_LOOKUP_AGENT_IP")?,
        lookup_agent_name: r.bool("WAZUH_SEARCH_LOOKUP_AGENT_NAME")?,
        ignore_private_addrs: r.bool("WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS")?,
        lookup_mac_variants: r.bool("WAZUH_SEARCH_LOOKUP_MAC_VARIANTS")?,
        lookup_hostnames_in_cmd_line: r.bool("WAZUH_SEARCH_LOOKUP_HOSTNAMES_IN_CMD_LINE")?,
        lookup_url_without_host: r.bool("WAZUH_SEARCH_LOOKUP_URL_WITHOUT_HOST")?,
        lookup_url_ignore_trailing_slash: r
            .bool("WAZUH_SEARCH_LOOKUP_URL_IGNORE_TRAILING_SLASH")?,
        indicator_search: r.with("WAZUH_INDICATOR_SEARCH", |s| {
            parse_enum(s, IndicatorSearch::ALL, IndicatorSearch::parse)
        })?,
        vocabulary: Default::default(),
        schema: r.with("WAZUH_SCHEMA", |s| {
            parse_enum(s, SchemaChoice::ALL, SchemaChoice::parse)
        })?,
        fields_add: r.text("WAZUH_SEARCH_FIELDS_ADD")?,
        fields_remove: r.text("WAZUH_SEARCH_FIELDS_REMOVE")?,
    };
    search.vocabulary = std::sync::Arc::new(vocabulary(r, search.schema)?);
    let set = |v: Vec<String>| v.into_iter().collect::<BTreeSet<String>>();
    let knowledge = KnowledgeOptions {
        max_tlp: r.with("WAZUH_MAX_TLP", parse_tlp)?,
        allowed_markings: set(r.list("WAZUH_ALLOWED_MARKINGS", parse_marking_ids)?),
        tlps: r.list("WAZUH_TLPS", parse_tlps)?,
        hits_abort_limit: r.with_opt("WAZUH_HITS_ABORT_LIMIT", |s| parse_int(s, 1u64, u64::MAX))?,
        bundle_abort_limit: r.with_opt("WAZUH_BUNDLE_ABORT_LIMIT", |s| {
            parse_int(s, 1usize, usize::MAX)
        })?,
        system_name: r.with("WAZUH_SYSTEM_NAME", |s| {
            if s.is_empty() {
                Err(Bad::new("is empty", "a non-empty name"))
            } else {
                Ok(s.to_string())
            }
        })?,
        agents_as_systems: r.bool("WAZUH_AGENTS_AS_SYSTEMS")?,
        create_obs_sightings: r.bool("WAZUH_CREATE_OBS_SIGHTINGS")?,
        max_extrefs: r.with("WAZUH_MAX_EXTREFS", |s| parse_int(s, 0usize, 10_000))?,
        max_extrefs_per_alert_rule: r.with("WAZUH_MAX_EXTREFS_PER_ALERT_RULE", |s| {
            parse_int(s, 0usize, 10_000)
        })?,
        max_notes: r.with("WAZUH_MAX_NOTES", |s| parse_int(s, 0usize, 10_000))?,
        max_notes_per_alert_rule: r.with("WAZUH_MAX_NOTES_PER_ALERT_RULE", |s| {
            parse_int(s, 0usize, 10_000)
        })?,
        create_sighting_summary: r.bool("WAZUH_CREATE_SIGHTING_SUMMARY")?,
        create_incident_summary: r.bool("WAZUH_CREATE_INCIDENT_SUMMARY")?,
        require_indicator_for_incidents: r.bool("WAZUH_REQUIRE_INDICATOR_FOR_INCIDENTS")?,
        create_incident: r.with("WAZUH_CREATE_INCIDENT", |s| {
            parse_enum(s, IncidentMode::ALL, IncidentMode::parse)
        })?,
        vulnerability_incident_cvss3_score_threshold: r
            .with_opt("WAZUH_VULNERABILITY_INCIDENT_CVSS3_SCORE_THRESHOLD", |s| {
                parse_float(s, 0.0, 10.0)
            })?,
        vulnerability_incident_active_only: r.bool("WAZUH_VULNERABILITY_INCIDENT_ACTIVE_ONLY")?,
        create_incident_threshold: r
            .with("WAZUH_CREATE_INCIDENT_THRESHOLD", |s| parse_int(s, 1u8, 15))?,
        rule_exclude_list: set(r.list("WAZUH_RULE_EXCLUDE_LIST", parse_list)?),
        incident_rule_exclude_list: set(r.list("WAZUH_INCIDENT_RULE_EXCLUDE_LIST", parse_list)?),
        create_agent_ip_observable: r.bool("WAZUH_CREATE_AGENT_IP_OBSERVABLE")?,
        create_agent_hostname_observable: r.bool("WAZUH_CREATE_AGENT_HOSTNAME_OBSERVABLE")?,
        ignore_own_entities: r.bool("WAZUH_IGNORE_OWN_ENTITIES")?,
        label_ignore_list: set(r.list("WAZUH_LABEL_IGNORE_LIST", parse_list)?),
        enrich_labels: set(r.list("WAZUH_ENRICH_LABELS", parse_list)?),
        create_incident_response: r.bool("WAZUH_CREATE_INCIDENT_RESPONSE")?,
        author_name: r.with("WAZUH_AUTHOR_NAME", |s| {
            if s.is_empty() {
                Err(Bad::new("is empty", "a non-empty name"))
            } else {
                Ok(s.to_string())
            }
        })?,
        app_url: {
            let u = r.with("WAZUH_APP_URL", parse_http_url)?;
            if u.ends_with('/') {
                u
            } else {
                format!("{u}/")
            }
        },
        require_indicator_detection: r.bool("WAZUH_REQUIRE_INDICATOR_DETECTION")?,
        ignore_revoked_indicators: r.bool("WAZUH_IGNORE_REVOKED_INDICATORS")?,
        indicator_score_threshold: r.with_opt("WAZUH_INDICATOR_SCORE_THRESHOLD", |s| {
            parse_int(s, 0u8, 100)
        })?,
        enrich_types: r.list("WAZUH_ENRICH_TYPES", |s| {
            parse_enum_set(s, EnrichType::ALL, EnrichType::parse)
        })?,
        filename_behaviour: r.list("WAZUH_ENRICH_FILENAME_BEHAVIOUR", |s| {
            parse_enum_set(s, FilenameBehaviour::ALL, FilenameBehaviour::parse)
        })?,
        enrich_urls_without_host: r.bool("WAZUH_ENRICH_ENRICH_URLS_WITHOUT_HOST")?,
        skip_auto_own_objects: r.bool("WAZUH_SKIP_AUTO_ENRICHMENT_OF_OWN_OBJECTS")?,
        max_note_chars: r.with("WAZUH_MAX_NOTE_CHARS", |s| {
            parse_int(s, 100usize, 10_000_000)
        })?,
        max_context_alerts: r.with("WAZUH_MAX_CONTEXT_ALERTS", |s| parse_int(s, 0usize, 10_000))?,
    };
    cross_check(&knowledge)?;
    // Record options that the build did not read (none expected) so the listing is complete.
    for o in OPTIONS {
        if !r.entries.iter().any(|e| e.env == o.env) {
            r.raw(o.env)?;
        }
    }
    r.entries
        .sort_by_key(|e| OPTIONS.iter().position(|o| o.env == e.env));
    Ok(Settings {
        opencti,
        connector,
        indexer,
        search,
        knowledge,
        hunt: super::hunt::build(r)?,
    })
}

/// The bundle directory, when `CONNECTOR_SEND_TO_DIRECTORY` is on (it then needs a path). All
/// three options are read either way so that `connector-wazuh config` lists them.
fn bundle_directory(r: &mut Resolver<'_>) -> Result<Option<BundleDirectorySettings>, ConfigError> {
    let enabled = r.bool("CONNECTOR_SEND_TO_DIRECTORY")?;
    let path = r.opt_text("CONNECTOR_SEND_TO_DIRECTORY_PATH")?;
    let retention_days = r.with("CONNECTOR_SEND_TO_DIRECTORY_RETENTION", |s| {
        parse_int(s, 0u32, 36_500)
    })?;
    match (enabled, path) {
        (false, _) => Ok(None),
        (true, Some(p)) if !p.trim().is_empty() => Ok(Some(BundleDirectorySettings {
            path: PathBuf::from(p),
            retention_days,
        })),
        (true, _) => Err(ConfigError::Invalid {
            name: "CONNECTOR_SEND_TO_DIRECTORY_PATH".into(),
            problem: "is not set while CONNECTOR_SEND_TO_DIRECTORY is true".into(),
            accepted: "the path of an existing, writable directory".into(),
        }),
    }
}

fn cross_check(k: &KnowledgeOptions) -> Result<(), ConfigError> {
    if k.max_extrefs_per_alert_rule > k.max_extrefs {
        return Err(ConfigError::Invalid {
            name: "WAZUH_MAX_EXTREFS_PER_ALERT_RULE".into(),
            problem: format!(
                "`{}` is larger than WAZUH_MAX_EXTREFS ({})",
                k.max_extrefs_per_alert_rule, k.max_extrefs
            ),
            accepted: "a value not above WAZUH_MAX_EXTREFS".into(),
        });
    }
    if k.max_notes_per_alert_rule > k.max_notes {
        return Err(ConfigError::Invalid {
            name: "WAZUH_MAX_NOTES_PER_ALERT_RULE".into(),
            problem: format!(
                "`{}` is larger than WAZUH_MAX_NOTES ({})",
                k.max_notes_per_alert_rule, k.max_notes
            ),
            accepted: "a value not above WAZUH_MAX_NOTES".into(),
        });
    }
    Ok(())
}

/// The observable vocabulary of an explicitly chosen schema, or the 4.x one until `auto` is
/// resolved at start-up (`crate::schema::apply` then rebuilds it). Field changes are checked
/// now: under `auto` a removal may name a field of either profile.
fn vocabulary(
    r: &mut Resolver<'_>,
    choice: SchemaChoice,
) -> Result<crate::vocabulary::Vocabulary, ConfigError> {
    use crate::vocabulary::{FieldChangeError, FieldChanges, Profile, Vocabulary};
    use crate::vocabulary::{WAZUH_4X, WAZUH_5X};
    let bad = |e: FieldChangeError| Bad::new(e.to_string(), "KIND:FIELD[:MATCH],…");
    let add = r.with("WAZUH_SEARCH_FIELDS_ADD", |add| {
        FieldChanges::parse(add, "", &WAZUH_4X).map_err(bad)?;
        Ok(add.to_string())
    })?;
    r.with("WAZUH_SEARCH_FIELDS_REMOVE", |rm| {
        let build = |p: &Profile, rm: &str| {
            FieldChanges::parse(&add, rm, p).map(|c| Vocabulary::new(p, &c))
        };
        match choice {
            SchemaChoice::V4 => build(&WAZUH_4X, rm).map_err(bad),
            SchemaChoice::V5 => build(&WAZUH_5X, rm).map_err(bad),
            SchemaChoice::Auto | SchemaChoice::Mixed => build(&WAZUH_4X, rm).or_else(|e| {
                // A 5.x field: removed once the schema turns out to be 5.x.
                FieldChanges::parse(&add, rm, &WAZUH_5X).map_err(|_| bad(e))?;
                build(&WAZUH_4X, "").map_err(bad)
            }),
        }
    })
}
