//! Wazuh schema profiles: where a Wazuh line keeps what the connector reads, so that one search
//! envelope and one knowledge builder serve both.
//!
//! * **4.x**: alerts in `wazuh-alerts-4.x-*`, agent and rule under `agent.*` / `rule.*`, numeric
//!   rule levels 0–16, observables in decoder-specific `data.*` fields ([`WAZUH_4X`]).
//! * **5.x**: Wazuh 5 has no alerts index; its detections are Sigma *findings* in the
//!   `wazuh-findings-v5-<category>` data streams, every field WCS (ECS plus `wazuh.*`): agent and
//!   rule under `wazuh.agent.*` / `wazuh.rule.*`, rule ids are UUIDs, levels are keywords
//!   (`informational` … `critical`), observables in ECS places ([`WAZUH_5X`]).
//!
//! The search envelope and the response parser are written in the 4.x envelope names. Under
//! 5.x the indexer client translates each request ([`wcs::request`]) and gives every returned
//! `_source` the 4.x envelope ([`wcs::source`]); the observable fields themselves come from the
//! profile's vocabulary. So everything downstream (statistics, systems, sightings, incidents,
//! cases, notes) reads one shape and has no schema branch.
//!
//! Which profile applies is the `WAZUH_SCHEMA` option; `auto` asks the indexer at start-up which
//! index patterns have indices ([`decide`]).

pub mod mixed;
pub mod wcs;

use crate::config::options::SchemaChoice;
use crate::config::Settings;
use crate::vocabulary::{FieldChangeError, FieldChanges, Profile, Vocabulary, WAZUH_4X, WAZUH_5X};

/// A Wazuh schema the connector can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schema {
    V4,
    V5,
}

impl Schema {
    /// The name used in configuration, logs and `check` (`4.x`, `5.x`).
    pub fn name(self) -> &'static str {
        match self {
            Schema::V4 => "4.x",
            Schema::V5 => "5.x",
        }
    }

    pub fn profile(self) -> &'static SchemaProfile {
        match self {
            Schema::V4 => &V4,
            Schema::V5 => &V5,
        }
    }
}

/// The schemas searched: one, or both side by side (an estate with 4.x and 5.x managers, or
/// one upgraded that keeps its 4.x alerts), each with its own fields, in one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Estate {
    One(Schema),
    Mixed,
}

impl Estate {
    pub fn schemas(self) -> &'static [Schema] {
        match self {
            Estate::One(Schema::V4) => &[Schema::V4],
            Estate::One(Schema::V5) => &[Schema::V5],
            Estate::Mixed => &[Schema::V4, Schema::V5],
        }
    }

    /// The estate an explicit choice names (`None` for `auto`).
    pub fn chosen(choice: SchemaChoice) -> Option<Estate> {
        match choice {
            SchemaChoice::Auto => None,
            SchemaChoice::V4 => Some(Estate::One(Schema::V4)),
            SchemaChoice::V5 => Some(Estate::One(Schema::V5)),
            SchemaChoice::Mixed => Some(Estate::Mixed),
        }
    }
}

impl std::fmt::Display for Estate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Estate::One(s) => s.fmt(f),
            Estate::Mixed => f.write_str("4.x+5.x"),
        }
    }
}

impl std::fmt::Display for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where one schema keeps the envelope of a detection (time, agent, rule) and its observables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaProfile {
    pub schema: Schema,
    /// Index pattern searched when `WAZUH_OPENSEARCH_INDEX` is left at its default.
    pub index_pattern: &'static str,
    pub time_field: &'static str,
    pub agent_id: &'static str,
    pub agent_name: &'static str,
    pub agent_ip: &'static str,
    pub rule_id: &'static str,
    /// The rule's short text (4.x `rule.description`, the Sigma title in 5.x).
    pub rule_title: &'static str,
    /// The rule's longer text when it has one besides the title.
    pub rule_description: Option<&'static str>,
    pub rule_level: &'static str,
    /// Whether levels are numbers (4.x) or keywords mapped by [`keyword_level`] (5.x).
    pub numeric_levels: bool,
    /// Rule groups (4.x) or tags (5.x).
    pub rule_groups: &'static str,
    /// MITRE ATT&CK technique ids (and, in 5.x, sub-technique ids).
    pub mitre_ids: &'static [&'static str],
    pub sigma_id: Option<&'static str>,
    /// The observable fields.
    pub vocabulary: &'static Profile,
}

/// The Wazuh 4.x alerts profile.
pub const V4: SchemaProfile = SchemaProfile {
    schema: Schema::V4,
    index_pattern: "wazuh-alerts-*",
    time_field: "@timestamp",
    agent_id: "agent.id",
    agent_name: "agent.name",
    agent_ip: "agent.ip",
    rule_id: "rule.id",
    rule_title: "rule.description",
    rule_description: None,
    rule_level: "rule.level",
    numeric_levels: true,
    rule_groups: "rule.groups",
    mitre_ids: &["rule.mitre.id"],
    sigma_id: None,
    vocabulary: &WAZUH_4X,
};

/// The Wazuh 5.x findings profile (WCS).
pub const V5: SchemaProfile = SchemaProfile {
    schema: Schema::V5,
    index_pattern: "wazuh-findings-v5*",
    time_field: "@timestamp",
    agent_id: "wazuh.agent.id",
    agent_name: "wazuh.agent.name",
    agent_ip: "wazuh.agent.host.ip",
    rule_id: "wazuh.rule.id",
    rule_title: "wazuh.rule.title",
    rule_description: Some("wazuh.rule.description"),
    rule_level: "wazuh.rule.level",
    numeric_levels: false,
    rule_groups: "wazuh.rule.tags",
    mitre_ids: &[
        "wazuh.rule.mitre.technique.id",
        "wazuh.rule.mitre.subtechnique.id",
    ],
    sigma_id: Some("wazuh.rule.sigma_id"),
    vocabulary: &WAZUH_5X,
};

/// Wazuh 5 level keywords on the 4.x 0–15 scale, so rule-level thresholds
/// (`WAZUH_CREATE_INCIDENT_THRESHOLD`) and incident severities mean the same for both. Each
/// keyword takes a level inside the 4.x band of the same severity (0–6 low, 7–10 medium, 11–13
/// high, 14+ critical): `informational` and `low` stay low, `medium` is 8, `high` 12 and
/// `critical` 15 (the 4.x "severe attack" level).
pub const KEYWORD_LEVELS: &[(&str, u8)] = &[
    ("informational", 3),
    ("low", 5),
    ("medium", 8),
    ("high", 12),
    ("critical", 15),
];

/// The 4.x-scale level of a 5.x level keyword (any letter case); a number written as text
/// (documents of mixed origin) is read as a number.
pub fn keyword_level(s: &str) -> Option<u8> {
    let t = s.trim();
    KEYWORD_LEVELS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(t))
        .map(|(_, n)| *n)
        .or_else(|| t.parse::<f64>().ok().map(|n| n.clamp(0.0, 255.0) as u8))
}

/// What the indexer said about one index pattern at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// It has indices (the number of shards a search on it covers).
    Found(u64),
    /// The indexer answered: no index matches.
    Absent,
    /// No answer (indexer unreachable, refused, timed out).
    Unknown,
}

/// The outcome of `auto` detection, for the log and `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub estate: Estate,
    /// One sentence: what was found and why this schema.
    pub reason: String,
    /// True when the choice is a guess the operator should look at (both or neither found).
    pub doubtful: bool,
}

/// Chooses the schema from what the indexer has: `legacy` is the 4.x pattern searched
/// (`WAZUH_OPENSEARCH_INDEX`), `findings` the 5.x findings pattern. `None` when either answer
/// is missing (the caller asks again).
///
/// Both present (4.x and 5.x managers side by side, or an upgraded estate that keeps its 4.x
/// alerts) searches both, each with its own fields. Neither present chooses 4.x, the schema of
/// every Wazuh release before 5.0.
pub fn decide(legacy_pattern: &str, legacy: Presence, findings: Presence) -> Option<Detection> {
    let f = V5.index_pattern;
    let d = |schema, reason: String, doubtful| {
        Some(Detection {
            estate: schema,
            reason,
            doubtful,
        })
    };
    match (legacy, findings) {
        (Presence::Unknown, _) | (_, Presence::Unknown) => None,
        (Presence::Absent, Presence::Found(n)) => d(
            Estate::One(Schema::V5),
            format!("{f} has indices ({n} shard(s)), {legacy_pattern} has none"),
            false,
        ),
        (Presence::Found(n), Presence::Absent) => d(
            Estate::One(Schema::V4),
            format!("{legacy_pattern} has indices ({n} shard(s)), {f} has none"),
            false,
        ),
        (Presence::Found(a), Presence::Found(b)) => d(
            Estate::Mixed,
            format!(
                "both {legacy_pattern} ({a} shard(s)) and {f} ({b} shard(s)) have indices; \
                 both are searched, each with its own fields"
            ),
            false,
        ),
        (Presence::Absent, Presence::Absent) => d(
            Estate::One(Schema::V4),
            format!("neither {legacy_pattern} nor {f} has indices; assuming Wazuh 4.x"),
            true,
        ),
    }
}

/// Why the settings cannot be used with the resolved schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WAZUH_SEARCH_FIELDS_ADD/_REMOVE under the {schema} schema: {error}")]
pub struct ApplyError {
    pub schema: Schema,
    pub error: FieldChangeError,
}

/// The settings as the resolved schema reads them: its observable vocabulary (with the
/// configured field changes) and, when `WAZUH_OPENSEARCH_INDEX` was left at the 4.x default,
/// its index pattern. Pure; the caller logs what changed.
pub fn apply(settings: &Settings, schema: Schema) -> Result<Settings, ApplyError> {
    let p = schema.profile();
    let mut out = settings.clone();
    // Resolved: whoever reads these settings again does not ask the indexer again.
    out.search.schema = match schema {
        Schema::V4 => SchemaChoice::V4,
        Schema::V5 => SchemaChoice::V5,
    };
    if settings.indexer.index == V4.index_pattern {
        out.indexer.index = p.index_pattern.to_string();
    }
    // A removal that names a field of the other profile only (checked at start-up, under
    // `auto` or `4.x+5.x`) is for that profile.
    let other = match schema {
        Schema::V4 => &WAZUH_5X,
        Schema::V5 => &WAZUH_4X,
    };
    let has = |profile: &Profile, item: &str| {
        item.split_once(':').is_some_and(|(k, f)| {
            profile
                .fields
                .iter()
                .any(|s| s.kind.name() == k.trim() && s.field == f.trim())
        })
    };
    let remove: Vec<&str> = settings
        .search
        .fields_remove
        .split([',', '\n'])
        .map(str::trim)
        .filter(|i| !i.is_empty() && (!has(other, i) || has(p.vocabulary, i)))
        .collect();
    let changes = FieldChanges::parse(&settings.search.fields_add, &remove.join(","), p.vocabulary)
        .map_err(|error| ApplyError { schema, error })?;
    out.search.vocabulary = std::sync::Arc::new(Vocabulary::new(p.vocabulary, &changes));
    Ok(out)
}

/// [`apply`] for one schema of `estate`. In a mixed estate the 4.x part's pattern excludes the
/// findings (`my-*,-wazuh-findings-v5*`): a configured pattern that also matches them
/// (`wazuh-*`) would otherwise have both parts count the same findings.
pub fn apply_in(
    settings: &Settings,
    schema: Schema,
    estate: Estate,
) -> Result<Settings, ApplyError> {
    let mut out = apply(settings, schema)?;
    if estate == Estate::Mixed && schema == Schema::V4 {
        out.indexer.index = legacy_only(&out.indexer.index);
    }
    Ok(out)
}

/// A 4.x pattern without the 5.x findings (the default pattern cannot match them).
pub fn legacy_only(pattern: &str) -> String {
    if pattern == V4.index_pattern {
        pattern.to_string()
    } else {
        format!("{pattern},-{}", V5.index_pattern)
    }
}

/// The pattern the daemon's readiness probe searches: the configured one, and under `auto` or
/// `4.x+5.x` with the default pattern also the 5.x findings, so that a Wazuh 5 indexer reads as
/// ready before the schema has been resolved.
pub fn watched_pattern(settings: &Settings) -> String {
    let index = &settings.indexer.index;
    let both = matches!(
        settings.search.schema,
        SchemaChoice::Auto | SchemaChoice::Mixed
    );
    if both && index == V4.index_pattern {
        format!("{index},{}", V5.index_pattern)
    } else if settings.search.schema == SchemaChoice::V5 && index == V4.index_pattern {
        V5.index_pattern.to_string()
    } else {
        index.clone()
    }
}

#[cfg(test)]
mod tests;
