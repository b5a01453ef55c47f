//! Which Wazuh schema the indexer holds (`WAZUH_SCHEMA=auto`), asked once at start-up.
//!
//! Each candidate index pattern gets the readiness probe's search (`match_none`, no document
//! visited): a search is what a read-only Wazuh role may always do, where `_cat/indices` or
//! `_resolve/index` need monitor privileges it often lacks. The shard count of the answer says
//! whether the pattern has indices. The choice itself is [`crate::schema::decide`].

use super::{IndexerClient, IndexerError};
use crate::config::Settings;
use crate::schema::{self, ApplyError, Detection, Estate, Presence, Schema};

/// The schemas searches use and the settings each implies.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub estate: Estate,
    /// `None` when `WAZUH_SCHEMA` named the schema.
    pub detection: Option<Detection>,
    /// Per schema searched: the settings with its index pattern and vocabulary.
    pub parts: Vec<(Schema, Settings)>,
}

impl Resolved {
    /// The index patterns searched, for the log and `check`.
    pub fn indices(&self) -> String {
        let list: Vec<&str> = self
            .parts
            .iter()
            .map(|(_, s)| s.indexer.index.as_str())
            .collect();
        list.join(", ")
    }
}

/// Why the schema could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("WAZUH_SCHEMA=auto: the indexer did not say which Wazuh indices it has: {0}")]
    Unanswered(IndexerError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

impl IndexerClient {
    /// Whether `pattern` has indices; the error when the indexer gave no answer.
    pub async fn presence(&self, pattern: &str) -> Result<Presence, IndexerError> {
        match self.probe(pattern).await {
            Ok(shards) => Ok(Presence::Found(shards)),
            // A pattern the role may not read is no more searchable than a missing one.
            Err(
                IndexerError::NoIndex(_) | IndexerError::NotFound(_) | IndexerError::Permissions(_),
            ) => Ok(Presence::Absent),
            Err(e) => Err(e),
        }
    }

    /// One detection round: the configured pattern (`WAZUH_OPENSEARCH_INDEX`, the 4.x alerts
    /// by default) and the 5.x findings pattern.
    pub async fn detect_schema(&self, legacy_pattern: &str) -> Result<Detection, IndexerError> {
        // Findings matched by a broad configured pattern (`wazuh-*`) are not 4.x alerts.
        let legacy = self.presence(&schema::legacy_only(legacy_pattern)).await?;
        let findings = self.presence(schema::V5.index_pattern).await?;
        schema::decide(legacy_pattern, legacy, findings)
            .ok_or_else(|| IndexerError::InvalidResponse("no decision from two answers".into()))
    }
}

/// The schemas of `settings`: the named ones, or one detection round under `auto`. Without an
/// answer there is no guess (it would make every answer "not seen" for the wrong reason): the
/// caller reports the failure or asks again later.
pub async fn resolve(client: &IndexerClient, settings: &Settings) -> Result<Resolved, SchemaError> {
    let (estate, detection) = match Estate::chosen(settings.search.schema) {
        Some(e) => (e, None),
        None => {
            let d = client
                .detect_schema(&settings.indexer.index)
                .await
                .map_err(SchemaError::Unanswered)?;
            (d.estate, Some(d))
        }
    };
    let parts = estate
        .schemas()
        .iter()
        .map(|s| Ok((*s, schema::apply_in(settings, *s, estate)?)))
        .collect::<Result<Vec<_>, ApplyError>>()?;
    Ok(Resolved {
        estate,
        detection,
        parts,
    })
}

/// Logs the outcome of [`resolve`].
pub fn log(r: &Resolved) {
    let (schema, index) = (&r.estate, r.indices());
    match &r.detection {
        None => tracing::info!(%schema, %index, "Wazuh schema set by WAZUH_SCHEMA"),
        Some(d) if d.doubtful => {
            tracing::warn!(%schema, %index, found = %d.reason, "Wazuh schema detected")
        }
        Some(d) => tracing::info!(%schema, %index, found = %d.reason, "Wazuh schema detected"),
    }
}
