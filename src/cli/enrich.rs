//! `connector-wazuh enrich <observable>`: one request through the real pipeline
//! ([`crate::pipeline::enrich`]: inspect, search on the indexer, knowledge building) without a
//! platform. The entity comes from the command line; OpenCTI is asked only for the observable's
//! indicators and the tool names, and only with `--with-opencti` and when it answers. Nothing is
//! sent unless `--send` (which, like the daemon, also writes the bundle directory when
//! `CONNECTOR_SEND_TO_DIRECTORY` is on).

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde_json::{json, Value};

use super::observable::Target;
use crate::config::Settings;
use crate::entity::IndicatorInfo;
use crate::indexer::{IndexerClient, IndexerError};
use crate::opencti::client::{ApiError, OpenCtiClient, SetupError};
use crate::opencti::entities::indicator_info;
use crate::pipeline::{
    self, BoxFut, Context, EnrichError, Enriched, EntitySource, IndicatorWithObservables, Mode,
    ObservableRef, Request,
};

/// The entity and its companions in memory, with an optional platform behind for indicators and
/// tools.
pub struct LocalSource {
    objects: HashMap<String, Value>,
    opencti: Option<OpenCtiClient>,
}

impl LocalSource {
    pub fn new(target: &Target, opencti: Option<OpenCtiClient>) -> LocalSource {
        let objects = std::iter::once(&target.entity)
            .chain(target.others.iter())
            .map(|o| (crate::stix::id_of(o).to_string(), o.clone()))
            .collect();
        LocalSource { objects, opencti }
    }
}

/// The observables an indicator is based on, from `based-on` relationships among `objects`.
pub fn based_on(indicator_id: &str, objects: &HashMap<String, Value>) -> Vec<ObservableRef> {
    let mut out: Vec<ObservableRef> = objects
        .values()
        .filter(|r| {
            crate::stix::type_of(r) == "relationship"
                && r.get("relationship_type").and_then(Value::as_str) == Some("based-on")
                && r.get("source_ref").and_then(Value::as_str) == Some(indicator_id)
        })
        .filter_map(|r| r.get("target_ref").and_then(Value::as_str))
        .filter_map(|t| objects.get(t))
        .map(|o| ObservableRef {
            id: crate::stix::id_of(o).to_string(),
            standard_id: crate::stix::id_of(o).to_string(),
            entity_type: crate::stix::type_of(o).to_string(),
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

impl EntitySource for LocalSource {
    fn read_stix<'a>(
        &'a self,
        id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Option<Value>, EnrichError>> {
        Box::pin(async move {
            if let Some(o) = self.objects.get(id) {
                return Ok(Some(o.clone()));
            }
            match &self.opencti {
                Some(c) => c.read_stix(id, applicant).await,
                None => Ok(None),
            }
        })
    }
    fn indicators_of<'a>(
        &'a self,
        observable_id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Vec<IndicatorInfo>, EnrichError>> {
        Box::pin(async move {
            let mut out: Vec<IndicatorInfo> = self
                .objects
                .values()
                .filter(|o| crate::stix::type_of(o) == "indicator")
                .filter(|o| {
                    based_on(crate::stix::id_of(o), &self.objects)
                        .iter()
                        .any(|r| r.id == observable_id)
                })
                .map(indicator_info)
                .collect();
            if let Some(c) = &self.opencti {
                out.extend(c.indicators_of(observable_id, applicant).await?);
            }
            Ok(out)
        })
    }
    fn indicator<'a>(
        &'a self,
        id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Option<IndicatorWithObservables>, EnrichError>> {
        Box::pin(async move {
            match self.objects.get(id) {
                Some(o) if crate::stix::type_of(o) == "indicator" => {
                    Ok(Some(IndicatorWithObservables {
                        indicator: indicator_info(o),
                        observables: based_on(id, &self.objects),
                    }))
                }
                _ => match &self.opencti {
                    Some(c) => c.indicator(id, applicant).await,
                    None => Ok(None),
                },
            }
        })
    }
    fn tool_names(&self) -> BoxFut<'_, Result<Vec<String>, EnrichError>> {
        Box::pin(async move {
            match &self.opencti {
                Some(c) => c.tool_names().await,
                None => Ok(Vec::new()),
            }
        })
    }
}

/// The request OpenCTI would send for a manual enrichment of `target`.
pub fn request(target: &Target) -> Request {
    Request {
        work_id: None,
        entity_id: crate::stix::id_of(&target.entity).to_string(),
        entity_type: Some(crate::stix::type_of(&target.entity).to_string()),
        mode: Mode::Manual,
        trigger: None,
        applicant_id: None,
        draft_id: None,
        stix_entity: Some(target.entity.clone()),
        stix_objects: target.others.clone(),
        playbook: None,
    }
}

/// The bundle the connector would send: the entity first, then the new objects.
pub fn bundle(target: &Target, enriched: &Enriched) -> Value {
    let mut objects = vec![target.entity.clone()];
    objects.extend(enriched.objects.iter().cloned());
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid::Uuid::new_v4()),
        "objects": objects,
    })
}

/// `--graph FILE`: the bundle's knowledge as a Mermaid flowchart, wrapped in a Markdown page
/// (which code hosts draw) when FILE ends in `.md`.
pub fn graph(file: &std::path::Path, bundle: &Value, observable: &str) -> String {
    let objects = bundle["objects"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"))
    {
        crate::stix::mermaid::markdown(objects, &format!("connector-wazuh enrich {observable}"))
    } else {
        crate::stix::mermaid::render(objects)
    }
}

/// Options of the command.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub with_opencti: bool,
    pub send: bool,
}

/// What happened, for the caller to print.
#[derive(Debug)]
pub struct Outcome {
    pub enriched: Enriched,
    pub bundle: Value,
    /// Notes for stderr (OpenCTI not used, bundle sent, …).
    pub notes: Vec<String>,
}

/// Why the one-shot enrichment could not produce (or send) its bundle.
#[derive(Debug, thiserror::Error)]
pub enum EnrichCommandError {
    #[error(transparent)]
    OpenCti(#[from] SetupError),
    #[error(transparent)]
    Indexer(#[from] IndexerError),
    #[error(transparent)]
    Pipeline(#[from] EnrichError),
    #[error("cannot send the bundle: {0}")]
    Send(#[source] ApiError),
    #[error("bundle directory: {0}")]
    Directory(#[from] crate::runtime::directory::DirectoryError),
}

/// Runs the pipeline once; pushes the bundle with `stixBundlePush` when `opts.send`.
pub async fn run(
    settings: Settings,
    target: Target,
    opts: Options,
) -> Result<Outcome, EnrichCommandError> {
    let mut notes = Vec::new();
    let needs_opencti = opts.with_opencti || opts.send;
    let client = if needs_opencti {
        Some(OpenCtiClient::new(&settings.opencti)?)
    } else {
        None
    };
    let mut source_client = None;
    if opts.with_opencti {
        if let Some(c) = &client {
            match c.version().await {
                Ok(v) => {
                    notes.push(format!("indicators and tools read from OpenCTI {v}"));
                    source_client = Some(c.clone());
                }
                Err(e) => notes.push(format!(
                    "OpenCTI not used (indicators and tools unknown): {e}"
                )),
            }
        }
    }
    let indexer = IndexerClient::new(&settings.indexer)?;
    let source = LocalSource::new(&target, source_client);
    let ctx = Context::new(
        Arc::new(settings.clone()),
        Arc::new(source),
        Some(Arc::new(indexer)),
    );
    let req = request(&target);
    let enriched = pipeline::enrich(&ctx, &req).await?;
    if let Some(d) = ctx.schema.get().and_then(|v| v.detection.as_ref()) {
        notes.push(format!("Wazuh schema {} detected: {}", d.estate, d.reason));
    }
    let bundle = bundle(&target, &enriched);
    if opts.send && enriched.objects.is_empty() {
        notes.push("nothing to send (no new objects)".into());
    } else if opts.send {
        // What the daemon does with a result: the bundle directory keeps a copy, and
        // CONNECTOR_SEND_TO_QUEUE=false keeps it from OpenCTI.
        if let Some(d) = &settings.connector.send_to_directory {
            let dir = crate::runtime::directory::BundleDirectory::open(d, &settings.connector)?;
            let path = dir.write(&bundle, None, None).await?;
            notes.push(format!("bundle written to {}", path.display()));
        }
        if !settings.connector.send_to_queue {
            notes.push("not sent to OpenCTI (CONNECTOR_SEND_TO_QUEUE=false)".into());
        } else if let Some(c) = &client {
            c.push_bundle(
                &settings.connector.id,
                &bundle.to_string(),
                None,
                &AtomicBool::new(false),
            )
            .await
            .map_err(EnrichCommandError::Send)?;
            notes.push(format!(
                "sent {} object(s) to OpenCTI with stixBundlePush",
                enriched.objects.len() + 1
            ));
        }
    }
    Ok(Outcome {
        enriched,
        bundle,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        let obs = json!({"type":"ipv4-addr","id":"ipv4-addr--1","value":"1.2.3.4"});
        let ind = json!({"type":"indicator","id":"indicator--1","name":"bad ip","pattern":"[ipv4-addr:value = '1.2.3.4']","pattern_type":"stix","x_opencti_score":80});
        let rel = json!({"type":"relationship","id":"relationship--1","relationship_type":"based-on","source_ref":"indicator--1","target_ref":"ipv4-addr--1"});
        Target {
            entity: obs,
            others: vec![ind, rel],
        }
    }

    #[tokio::test]
    async fn local_source_resolves_indicators_both_ways() {
        let src = LocalSource::new(&target(), None);
        let inds = src.indicators_of("ipv4-addr--1", None).await.unwrap();
        assert_eq!(inds.len(), 1);
        assert_eq!(inds[0].score, Some(80));
        let ind = src.indicator("indicator--1", None).await.unwrap().unwrap();
        assert_eq!(ind.observables.len(), 1);
        assert_eq!(ind.observables[0].entity_type, "ipv4-addr");
        assert!(src.read_stix("ipv4-addr--1", None).await.unwrap().is_some());
        assert!(src.read_stix("ipv4-addr--2", None).await.unwrap().is_none());
        assert!(src.tool_names().await.unwrap().is_empty());
    }

    #[test]
    fn request_is_manual_with_entity() {
        let r = request(&target());
        assert_eq!(r.entity_id, "ipv4-addr--1");
        assert!(r.is_manual());
        assert_eq!(r.stix_objects.len(), 2);
        let b = bundle(
            &target(),
            &Enriched::alerts(vec![json!({"type":"note","id":"note--1"})], ""),
        );
        assert_eq!(b["objects"][0]["id"], "ipv4-addr--1");
        assert_eq!(b["objects"][1]["id"], "note--1");
    }
}
