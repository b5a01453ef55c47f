//! Knowledge building: from what a search found to the STIX objects sent to OpenCTI: identities
//! of the systems that saw the entity, sightings with exact counts,
//! incidents (per the configured mode), an incident-response case, notes and context objects
//! extracted from the alerts.
//!
//! [`build`] is a pure function of its [`KnowledgeInput`]: no I/O, no clock (the time is an
//! input), no randomness — the same input always gives the same bundle, which the golden tests
//! and OpenCTI's de-duplication both rely on. `docs/knowledge.md` describes the result and every
//! difference from the reference connector.

pub mod case;
pub mod enrich;
pub mod incidents;
pub mod markdown;
pub mod notes;
pub mod severity;
pub mod sightings;
pub mod stats;

use crate::alert::SearchResult;
use crate::config::{IndexerSettings, KnowledgeOptions, SearchOptions};
use crate::entity::{Entity, IndicatorInfo, Observable};
use crate::stix::{self, id, Common, StixObject};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};

/// Everything knowledge building needs (already fetched and searched by the pipeline).
#[derive(Debug, Clone)]
pub struct KnowledgeInput<'a> {
    pub entity: &'a Entity,
    pub observable: Option<&'a Observable>,
    /// The entity's indicators as fetched; validity filters are applied here
    /// ([`valid_indicators`]).
    pub indicators: &'a [IndicatorInfo],
    pub result: &'a SearchResult,
    pub options: &'a KnowledgeOptions,
    /// For the summary note (limit, window, filters, index).
    pub indexer: &'a IndexerSettings,
    /// For the summary note (the settings that shaped the search).
    pub search: &'a SearchOptions,
    /// Tool names known in OpenCTI (for `tool` context objects).
    pub tools_in_opencti: &'a [String],
    pub now: DateTime<Utc>,
    /// True for automatic (`internal.mode = auto`/trigger) requests, false for manual ones.
    pub automatic: bool,
    /// `sighting_of` target: the entity's standard id, or the indicator's when an indicator was
    /// searched by its pattern.
    pub sighting_of: String,
}

/// The objects to send and the work message.
#[derive(Debug, Clone, PartialEq)]
pub struct Knowledge {
    /// De-duplicated by id, in a stable order (identities first, case last).
    pub objects: Vec<Value>,
    pub message: String,
}

/// Why no knowledge is sent (the work is marked as failed with this message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KnowledgeError {
    #[error("Too many hits ({total} > {limit}): aborting. Narrow the search (WAZUH_OPENSEARCH_SEARCH_AFTER, WAZUH_OPENSEARCH_EXCLUDE_MATCH, WAZUH_RULE_EXCLUDE_LIST) or raise WAZUH_HITS_ABORT_LIMIT")]
    TooManyHits { total: u64, limit: u64 },
    #[error("Bundle is too large ({objects} > {limit}): aborting. Lower WAZUH_MAX_NOTES / WAZUH_OPENSEARCH_LIMIT, disable WAZUH_ENRICH_TYPES, or raise WAZUH_BUNDLE_ABORT_LIMIT")]
    BundleTooLarge { objects: usize, limit: usize },
}

/// Why an indicator does not count, or `None` when it does: detection required if
/// `require_indicator_detection`, not revoked if `ignore_revoked_indicators`, score (default 50)
/// at least `indicator_score_threshold`. The same gates apply whether the indicator is the
/// request's subject or one of an observable's indicators.
pub fn indicator_excluded(i: &IndicatorInfo, options: &KnowledgeOptions) -> Option<String> {
    if options.require_indicator_detection && i.detection != Some(true) {
        return Some("its detection flag is not set (WAZUH_REQUIRE_INDICATOR_DETECTION)".into());
    }
    if options.ignore_revoked_indicators && i.revoked {
        return Some("it is revoked (WAZUH_IGNORE_REVOKED_INDICATORS)".into());
    }
    if let Some(t) = options.indicator_score_threshold {
        let score = i.score.unwrap_or(50);
        if score < i64::from(t) {
            return Some(format!(
                "its score {score} is below WAZUH_INDICATOR_SCORE_THRESHOLD={t}"
            ));
        }
    }
    None
}

/// The indicators that count ([`indicator_excluded`] says why the others do not).
pub fn valid_indicators<'a>(
    indicators: &'a [IndicatorInfo],
    options: &KnowledgeOptions,
) -> Vec<&'a IndicatorInfo> {
    indicators
        .iter()
        .filter(|i| match indicator_excluded(i, options) {
            Some(why) => {
                tracing::debug!(indicator = %i.standard_id, "ignoring indicator: {why}");
                false
            }
            None => true,
        })
        .collect()
}

/// True for entities OpenCTI treats as observables (everything but SDOs such as Vulnerability
/// and Indicator).
pub fn is_observable_type(entity_type: &str) -> bool {
    !matches!(
        entity_type.to_ascii_lowercase().as_str(),
        "vulnerability" | "indicator"
    )
}

/// An observable without valid indicators is not processed when
/// `WAZUH_CREATE_OBS_SIGHTINGS=false`. Returns the work message, or `None` to go on.
pub fn observable_gate(
    entity: &Entity,
    valid_indicator_count: usize,
    options: &KnowledgeOptions,
) -> Option<String> {
    (is_observable_type(&entity.entity_type)
        && valid_indicator_count == 0
        && !options.create_obs_sightings)
        .then(|| "Observable has no indicators".to_string())
}

/// The entity carries a label of `label_ignore_list`. Returns the work message.
pub fn label_gate(entity: &Entity, options: &KnowledgeOptions) -> Option<String> {
    let found: Vec<&str> = options
        .label_ignore_list
        .iter()
        .filter(|l| entity.labels.iter().any(|e| e == *l))
        .map(String::as_str)
        .collect();
    (!found.is_empty()).then(|| {
        format!(
            "Ignoring entity because it has the following label(s): {}",
            found.join(", ")
        )
    })
}

/// Ids a bundle built for this input may reference without containing them: the entity, its
/// indicators, the sighting target, the markings and the placeholder sighting indicator.
pub fn known_refs(input: &KnowledgeInput<'_>) -> BTreeSet<String> {
    let mut k: BTreeSet<String> = BTreeSet::new();
    k.insert(input.entity.standard_id.clone());
    k.insert(input.sighting_of.clone());
    k.insert(id::DUMMY_INDICATOR_ID.to_string());
    k.extend(input.indicators.iter().map(|i| i.standard_id.clone()));
    k.extend(input.options.tlps.iter().cloned());
    k.extend(input.entity.markings.iter().cloned());
    k
}

fn stix_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The entity's display value (its value, name, path, key, … without the type).
pub fn entity_value(entity: &Entity) -> Option<String> {
    let s = &entity.stix;
    let t = entity.entity_type.to_ascii_lowercase();
    let v = match t.as_str() {
        "stixfile" | "file" | "artifact" => stix_str(s, "name").map(str::to_string).or_else(|| {
            s.get("x_opencti_additional_names")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
        "directory" => stix_str(s, "path").map(str::to_string),
        "process" => s
            .get("pid")
            .and_then(Value::as_i64)
            .map(|p| p.to_string())
            .or_else(|| stix_str(s, "command_line").map(str::to_string)),
        "user-account" => stix_str(s, "account_login")
            .or_else(|| stix_str(s, "user_id"))
            .or_else(|| stix_str(s, "display_name"))
            .map(str::to_string),
        "windows-registry-key" => stix_str(s, "key").map(str::to_string),
        "software" | "windows-registry-value-type" | "vulnerability" | "indicator" => {
            stix_str(s, "name").map(str::to_string)
        }
        _ => stix_str(s, "value")
            .or_else(|| stix_str(s, "name"))
            .map(str::to_string),
    };
    v.map(|v| v.trim().to_string())
}

/// A registry key as STIX writes it: the hive by its full name (`HKLM\Software` →
/// `HKEY_LOCAL_MACHINE\Software`). Alerts use both spellings; the search looks for both.
pub fn registry_key_in_stix_form(key: &str) -> String {
    use crate::search::paths::{hive_of, HIVES};
    match hive_of(key) {
        Some((i, len)) => format!("{}{}", HIVES[i].0, &key[len..]),
        None => key.to_string(),
    }
}

/// `"<entity_type> <value>"`, or the type alone when the entity has no display value.
pub fn entity_name_value(entity: &Entity) -> String {
    match entity_value(entity) {
        Some(v) => format!("{} {}", entity.entity_type, v),
        None => entity.entity_type.clone(),
    }
}

/// The values that identify the entity in alert text (for the "Matches" table of alert notes).
pub fn entity_match_values(entity: &Entity) -> Vec<String> {
    let s = &entity.stix;
    let mut out: Vec<String> = Vec::new();
    for k in [
        "value",
        "name",
        "path",
        "key",
        "command_line",
        "account_login",
        "user_id",
        "display_name",
    ] {
        if let Some(v) = stix_str(s, k) {
            out.push(v.to_string());
        }
    }
    if let Some(p) = s.get("pid").and_then(Value::as_i64) {
        out.push(p.to_string());
    }
    if let Some(a) = s
        .get("x_opencti_additional_names")
        .and_then(Value::as_array)
    {
        out.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let Some(h) = s.get("hashes").and_then(Value::as_object) {
        out.extend(h.values().filter_map(Value::as_str).map(str::to_string));
    }
    out.retain(|v| v.len() >= 2);
    out.sort();
    out.dedup();
    out
}

/// Shared state of one build.
pub struct Ctx<'a> {
    pub input: &'a KnowledgeInput<'a>,
    pub opts: &'a KnowledgeOptions,
    pub common: Common,
    /// `"<type> <value>"` of the entity.
    pub env: String,
    pub is_observable: bool,
    pub is_vulnerability: bool,
    pub indicators: Vec<&'a IndicatorInfo>,
    /// Labels put on context SCOs this connector creates.
    pub enrich_labels: Vec<String>,
    pub siem_id: String,
    /// The id this crate would compute for the entity (SCO rules, or Vulnerability by name):
    /// context objects with this id are the entity itself and are never re-emitted.
    pub entity_alias: Option<String>,
}

impl<'a> Ctx<'a> {
    fn new(input: &'a KnowledgeInput<'a>) -> Ctx<'a> {
        let opts = input.options;
        let entity = input.entity;
        let is_vulnerability = entity.entity_type.eq_ignore_ascii_case("vulnerability");
        let stix_type = entity
            .stix
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("");
        let entity_alias = if is_vulnerability {
            entity_value(entity).map(|n| id::named("vulnerability", &n))
        } else if stix::is_sco(stix_type) && stix_type != "process" {
            Some(id::sco(stix_type, &entity.stix))
        } else {
            None
        };
        Ctx {
            input,
            opts,
            common: Common {
                markings: opts.tlps.clone(),
                author_id: id::author(&opts.author_name),
                confidence: 100,
                now: stix::timestamp(input.now),
            },
            env: entity_name_value(entity),
            is_observable: is_observable_type(&entity.entity_type),
            is_vulnerability,
            indicators: valid_indicators(input.indicators, opts),
            enrich_labels: opts.enrich_labels.iter().cloned().collect(),
            siem_id: id::identity(&opts.system_name, "system"),
            entity_alias,
        }
    }
}

/// Appends objects, keeping the first of each id.
#[derive(Default)]
pub struct Bundle {
    pub objects: Vec<StixObject>,
    seen: HashSet<String>,
}

impl Bundle {
    pub fn push(&mut self, o: StixObject) {
        let id = o.id().to_string();
        if self.seen.insert(id) {
            self.objects.push(o);
        }
    }
    pub fn extend(&mut self, objs: impl IntoIterator<Item = StixObject>) {
        for o in objs {
            self.push(o);
        }
    }
    pub fn contains(&self, id: &str) -> bool {
        self.seen.contains(id)
    }
    pub fn ids_of_type(&self, t: &str) -> Vec<String> {
        self.objects
            .iter()
            .filter(|o| o.stix_type() == t)
            .map(|o| o.id().to_string())
            .collect()
    }
}

/// Builds the knowledge for one enrichment (`docs/knowledge.md`).
///
/// Gates applied here: the hits-abort limit (on the exact total) and the bundle-abort limit (on
/// the de-duplicated bundle). The caller handles "no hits" (nothing to build) and the entity
/// gates ([`label_gate`], [`observable_gate`]).
pub fn build(input: &KnowledgeInput<'_>) -> Result<Knowledge, KnowledgeError> {
    if let Some(limit) = input.options.hits_abort_limit {
        if input.result.total > limit {
            return Err(KnowledgeError::TooManyHits {
                total: input.result.total,
                limit,
            });
        }
    }
    let ctx = Ctx::new(input);
    let mut bundle = Bundle::default();

    let sighters = sightings::sighters(&ctx);
    bundle.extend(sightings::identities(&ctx, &sighters));
    bundle.extend(sightings::agent_observables(&ctx, &sighters));
    let sighting_ids: Vec<(String, String)> = sighters
        .iter()
        .map(|s| (s.id.clone(), sightings::sighting_id(&ctx, s)))
        .collect();

    let incidents = incidents::plan(&ctx, &sighters);
    let case_id = case::case_id(&ctx, &sighters, &incidents);

    for s in &sighters {
        bundle.push(sightings::sighting(&ctx, s));
    }
    for inc in &incidents {
        bundle.extend(incidents::objects(&ctx, inc));
        let found = enrich::extract(&ctx, &inc.alerts);
        bundle.extend(enrich::link(&ctx, &inc.id, &inc.created_stix, found));
    }
    let mut notes_out = notes::alert_notes(&ctx, &sighters, &sighting_ids, &incidents, &case_id);
    notes_out.push(notes::summary(&ctx, &sighters, &bundle));
    bundle.extend(notes_out);
    if let Some(cid) = &case_id {
        bundle.push(case::case(&ctx, cid, &sighters, &incidents, &bundle));
    }
    let objects = enrich::remove_entity_copies(&ctx, bundle.objects);
    let objects = stix::model::to_values(&stix::seal::seal(objects));

    if let Some(limit) = input.options.bundle_abort_limit {
        if objects.len() > limit {
            return Err(KnowledgeError::BundleTooLarge {
                objects: objects.len(),
                limit,
            });
        }
    }
    let message = format!(
        "{} alert(s) in {} system(s): {} sighting(s), {} incident(s), {} object(s)",
        input.result.total,
        sighters.len(),
        sighters.len(),
        incidents.len(),
        objects.len()
    );
    Ok(Knowledge { objects, message })
}

#[cfg(test)]
mod tests {
    use super::registry_key_in_stix_form as stix_form;

    #[test]
    fn registry_keys_name_their_hive_in_full() {
        assert_eq!(
            stix_form(r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\Java-Update"),
            r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\Java-Update"
        );
        assert_eq!(
            stix_form(r"hkcu\Software\x"),
            r"HKEY_CURRENT_USER\Software\x"
        );
        assert_eq!(stix_form(r"HKEY_USERS\S-1-5-18"), r"HKEY_USERS\S-1-5-18");
        // Not a hive prefix: left as it is.
        assert_eq!(stix_form(r"HKLMX\a"), r"HKLMX\a");
    }
}
