//! Running the connector in-process against a [`FakeOpenCti`], and a test enrichment step that
//! produces a real STIX object (a note about the entity) after the real inspect stage, so result
//! delivery can be observed before the search stage exists.

use std::sync::Arc;
use std::time::Duration;

use connector_wazuh::pipeline::{
    self, inspect, BoxFut, Context, EnrichError, Enriched, Enricher, Request,
};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::fake_opencti::FakeOpenCti;

/// Inspect, then one Note referring to the entity (deterministic id per entity).
pub struct NoteEnricher {
    pub delay: Duration,
}

impl Enricher for NoteEnricher {
    fn enrich<'a>(
        &'a self,
        ctx: &'a Context,
        req: &'a Request,
    ) -> BoxFut<'a, Result<Enriched, EnrichError>> {
        Box::pin(async move {
            let i = match inspect::inspect(ctx, req).await? {
                inspect::Outcome::Skip(m) => return Ok(Enriched::not_searched(m)),
                inspect::Outcome::Proceed(i) => i,
            };
            tokio::time::sleep(self.delay).await;
            let note_id = format!(
                "note--{}",
                uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, i.entity_id.as_bytes())
            );
            let note: Value = json!({"type": "note", "spec_version": "2.1", "id": note_id, "content": format!("Looked up {}", i.entity_id), "object_refs": [i.entity_id], "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z"});
            Ok(Enriched::alerts(vec![note], "Sent 1 object"))
        })
    }
}

/// A connector running in this process.
pub struct Running {
    pub shutdown: CancellationToken,
    pub handle: tokio::task::JoinHandle<Result<(), connector_wazuh::runtime::RunError>>,
}

impl Running {
    pub async fn stop(self) {
        self.shutdown.cancel();
        let r = tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("connector did not stop")
            .unwrap();
        assert!(r.is_ok(), "connector failed: {r:?}");
    }
}

/// Start the connector with the production pipeline, or `enricher` if given.
pub fn spawn(
    octi: &FakeOpenCti,
    extra: &[(&str, &str)],
    enricher: Option<Arc<dyn Enricher>>,
) -> Running {
    let settings = octi.settings(extra);
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let enricher = enricher.unwrap_or_else(|| Arc::new(pipeline::Pipeline));
    let handle = tokio::spawn(connector_wazuh::runtime::run_with(
        settings, token, enricher,
    ));
    Running { shutdown, handle }
}

/// Always fails with a transient error (a dependency that stays down).
pub struct DownEnricher;

impl Enricher for DownEnricher {
    fn enrich<'a>(
        &'a self,
        _: &'a Context,
        _: &'a Request,
    ) -> BoxFut<'a, Result<Enriched, EnrichError>> {
        Box::pin(async { Err(EnrichError::transient("the Wazuh indexer is unreachable")) })
    }
}

/// A free local TCP port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
