//! The Wazuh schemas a request is searched with, resolved once per context at the first request
//! that searches (`WAZUH_SCHEMA=auto` asks the indexer then; a named schema costs nothing).
//!
//! Resolving on demand rather than before consuming keeps the daemon's other promises: it
//! registers, consumes and reports while the indexer is down, and a request that arrives before
//! the indexer has ever answered is a transient failure like any search during an outage (held,
//! retried), never a search under a guessed schema that would answer "not seen".

use std::sync::Arc;

use super::{Context, EnrichError};
use crate::config::Settings;
use crate::indexer::detect::{self, SchemaError};
use crate::indexer::IndexerClient;
use crate::schema::{self, Detection, Estate, Schema};

/// One schema searched: its settings (index pattern, vocabulary) and indexer client.
#[derive(Clone)]
pub struct Part {
    pub schema: Schema,
    pub settings: Arc<Settings>,
    pub indexer: Option<Arc<IndexerClient>>,
}

/// The schemas searched (one, or both in a mixed estate) and how they were found.
#[derive(Clone)]
pub struct SchemaView {
    pub estate: Estate,
    pub detection: Option<Detection>,
    pub parts: Vec<Part>,
}

/// Filled once per context (clones share it).
pub type SchemaSlot = Arc<tokio::sync::OnceCell<SchemaView>>;

impl Context {
    /// The schema view, resolving it on first use. Without an indexer client nothing can be
    /// asked: a named schema applies, `auto` reads as 4.x (no search will run anyway).
    pub async fn schema_view(&self) -> Result<SchemaView, EnrichError> {
        self.schema
            .get_or_try_init(|| async {
                let part = |(schema, settings): (Schema, Settings)| Part {
                    schema,
                    settings: Arc::new(settings),
                    indexer: self
                        .indexer
                        .as_ref()
                        .map(|i| Arc::new(i.as_ref().clone().with_schema(schema))),
                };
                let chosen = Estate::chosen(self.settings.search.schema);
                let Some(indexer) = self.indexer.as_ref().filter(|_| chosen.is_none()) else {
                    let estate = chosen.unwrap_or(Estate::One(Schema::V4));
                    let mut parts = Vec::new();
                    for s in estate.schemas() {
                        let settings = schema::apply_in(&self.settings, *s, estate)
                            .map_err(|e| EnrichError::permanent(e.to_string()))?;
                        parts.push(part((*s, settings)));
                    }
                    return Ok(SchemaView {
                        estate,
                        detection: None,
                        parts,
                    });
                };
                match detect::resolve(indexer, &self.settings).await {
                    Ok(r) => {
                        detect::log(&r);
                        Ok(SchemaView {
                            estate: r.estate,
                            detection: r.detection,
                            parts: r.parts.into_iter().map(part).collect(),
                        })
                    }
                    // As any search failure: held while the indexer is down, else the reason.
                    Err(SchemaError::Unanswered(e)) => Err(super::search::enrich_error(&e)),
                    Err(e) => Err(EnrichError::permanent(e.to_string())),
                }
            })
            .await
            .cloned()
    }
}
