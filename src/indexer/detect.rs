//! Which Wazuh schema the indexer holds (`WAZUH_SCHEMA=auto`), asked once at start-up.
//!
//! Each candidate index pattern gets the readiness probe's search (`match_none`, no document
//! visited): a search is what a read-only Wazuh role may always do, where `_cat/indices` or
//! `_resolve/index` need monitor privileges it often lacks. The shard count of the answer says
//! whether the pattern has indices. The choice itself is [`crate::schema::decide`].

use super::{IndexerClient, IndexerError};
use crate::config::Settings;
use crate::schema::{self, ApplyError, Detection, Presence, Schema};

/// The schema searches use and the settings it implies.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub schema: Schema,
    /// `None` when `WAZUH_SCHEMA` named the schema.
    pub detection: Option<Detection>,
    /// The settings with the schema's index pattern and vocabulary.
    pub settings: Settings,
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
        let legacy = self.presence(legacy_pattern).await?;
        let findings = self.presence(schema::V5.index_pattern).await?;
        schema::decide(legacy_pattern, legacy, findings)
            .ok_or_else(|| IndexerError::InvalidResponse("no decision from two answers".into()))
    }
}

/// The schema of `settings`: the named one, or one detection round under `auto`. The one-shot
/// commands use it; without an answer they stop with the reason (a guess would make their
/// output say "not seen" for the wrong reason).
pub async fn resolve(client: &IndexerClient, settings: &Settings) -> Result<Resolved, SchemaError> {
    let (schema, detection) = match Schema::chosen(settings.search.schema) {
        Some(s) => (s, None),
        None => {
            let d = client
                .detect_schema(&settings.indexer.index)
                .await
                .map_err(SchemaError::Unanswered)?;
            (d.schema, Some(d))
        }
    };
    Ok(Resolved {
        schema,
        detection,
        settings: schema::apply(settings, schema)?,
    })
}

/// Logs the outcome of [`resolve`].
pub fn log(r: &Resolved) {
    let index = &r.settings.indexer.index;
    match &r.detection {
        None => tracing::info!(schema = %r.schema, %index, "Wazuh schema set by WAZUH_SCHEMA"),
        Some(d) if d.doubtful => {
            tracing::warn!(schema = %r.schema, %index, found = %d.reason, "Wazuh schema detected")
        }
        Some(d) => {
            tracing::info!(schema = %r.schema, %index, found = %d.reason, "Wazuh schema detected")
        }
    }
}
