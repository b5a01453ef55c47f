//! The enrichment seam: one request in, STIX objects and a work message out.
//!
//! The runtime calls [`enrich`] and knows nothing about searching. The stages behind it are, in
//! order: [`inspect`] (resolve, TLP, own objects, labels), [`plan`] (pure: the typed entity, the
//! query, the sighting target, or the message that ends the work without a search), [`search`]
//! (the indexer call) and [`crate::knowledge::build`] (pure: the STIX objects). The reads they
//! need from OpenCTI go through an [`EntitySource`], so every stage can be tested without a
//! platform. `docs/runtime.md` lists the messages a user sees on the work.

pub mod inspect;
pub mod observe;
pub mod plan;
pub mod schema;
pub mod search;
pub mod tools;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use crate::alert::SearchResult;
use crate::config::options::EnrichType;
use crate::config::Settings;
use crate::entity::IndicatorInfo;
use crate::indexer::IndexerClient;
use crate::knowledge::{self, KnowledgeInput};
use crate::search::envelope::SearchRequest;
use crate::search::observable::ref_ids;

/// How the request was triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A user clicked "Enrich".
    Manual,
    /// The platform enriched on create/update.
    Auto,
    /// A playbook step (reply with `playbookStepExecution`).
    Playbook,
    /// The message did not say (the minimal message of older platforms): not known to be a
    /// user's request, so guards against automatic loops apply.
    Unstated,
}

/// `internal.trigger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Create,
    Update,
}

/// Playbook context copied into the `playbookStepExecution` reply.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybookInfo {
    pub event_id: String,
    pub execution_id: String,
    pub playbook_id: String,
    pub data_instance_id: String,
    pub step_id: String,
    pub previous_step_id: String,
    /// When the connector received the step (RFC 3339, seconds, UTC).
    pub execution_start: String,
    /// The bundle as received.
    pub bundle: Value,
}

/// A parsed enrichment request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub work_id: Option<String>,
    pub entity_id: String,
    pub entity_type: Option<String>,
    pub mode: Mode,
    pub trigger: Option<Trigger>,
    pub applicant_id: Option<String>,
    pub draft_id: Option<String>,
    /// The entity's STIX export, when the message carried it.
    pub stix_entity: Option<Value>,
    /// Objects sent with the request (`stix_objects`, or the playbook bundle's objects).
    pub stix_objects: Vec<Value>,
    pub playbook: Option<PlaybookInfo>,
}

impl Request {
    /// Manual requests are always worked on; automatic ones may be skipped (e.g. our own objects).
    pub fn is_manual(&self) -> bool {
        self.mode == Mode::Manual
    }
}

/// What a successful enrichment produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Enriched {
    /// New STIX objects (without the incoming ones; the runtime adds those).
    pub objects: Vec<Value>,
    /// Work message shown in OpenCTI.
    pub message: String,
    pub found: Found,
}

/// Whether the indexer was searched and what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Matching alerts; `objects` holds the knowledge built from them.
    Alerts,
    /// The search ran and matched nothing.
    NoHits,
    /// Not searched on purpose (out of scope, own object, ignore label…).
    NotSearched,
}

impl Enriched {
    /// Knowledge built from matching alerts.
    pub fn alerts(objects: Vec<Value>, message: impl Into<String>) -> Enriched {
        Enriched {
            objects,
            message: message.into(),
            found: Found::Alerts,
        }
    }
    /// A search that matched nothing.
    pub fn no_hits(message: impl Into<String>) -> Enriched {
        Enriched {
            objects: Vec::new(),
            message: message.into(),
            found: Found::NoHits,
        }
    }
    /// A request answered without searching.
    pub fn not_searched(message: impl Into<String>) -> Enriched {
        Enriched {
            objects: Vec::new(),
            message: message.into(),
            found: Found::NotSearched,
        }
    }
}

/// Whether repeating the request may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input, entity gone, bad query: do not retry.
    Permanent,
    /// Refused by policy (TLP above the maximum, an abort limit): do not retry.
    Refused,
    /// Trying again later may help (a dependency down, slow or overloaded).
    Transient,
}

/// A dependency of the pipeline, named in transient failures so that the daemon can tell an
/// outage (hold the request until the dependency answers) from the request's own failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dependency {
    Indexer,
    OpenCti,
}

impl Dependency {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Dependency::Indexer => "indexer",
            Dependency::OpenCti => "opencti",
        }
    }

    /// The name users see in work messages and logs.
    pub fn display_name(self) -> &'static str {
        match self {
            Dependency::Indexer => "the Wazuh indexer",
            Dependency::OpenCti => "OpenCTI",
        }
    }
}

/// A user-actionable failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EnrichError {
    pub message: String,
    pub kind: ErrorKind,
    /// The dependency that was unavailable, for a transient failure that says so.
    pub unavailable: Option<Dependency>,
}

impl EnrichError {
    fn new(message: impl Into<String>, kind: ErrorKind) -> Self {
        EnrichError {
            message: message.into(),
            kind,
            unavailable: None,
        }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        EnrichError::new(message, ErrorKind::Permanent)
    }
    pub fn transient(message: impl Into<String>) -> Self {
        EnrichError::new(message, ErrorKind::Transient)
    }
    pub fn refused(message: impl Into<String>) -> Self {
        EnrichError::new(message, ErrorKind::Refused)
    }
    /// A transient failure because `dependency` did not answer (down, time-out, 5xx, 429).
    pub fn unavailable(dependency: Dependency, message: impl Into<String>) -> Self {
        EnrichError {
            unavailable: Some(dependency),
            ..EnrichError::transient(message)
        }
    }
}

/// A boxed future, so [`EntitySource`] can be used as a trait object.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An observable an indicator is based on.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservableRef {
    pub id: String,
    pub standard_id: String,
    pub entity_type: String,
}

/// An indicator with the observables it is based on.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorWithObservables {
    pub indicator: IndicatorInfo,
    pub observables: Vec<ObservableRef>,
}

/// The reads the pipeline needs from OpenCTI (implemented by the GraphQL client; tests use an
/// in-memory implementation). `Ok(None)` means deleted or not visible to the connector's user.
///
/// Every method has a default that answers like an empty platform (nothing visible, no
/// indicators, no tools), so a test double implements only the reads it is about.
pub trait EntitySource: Send + Sync {
    /// An entity's STIX 2.1 export.
    fn read_stix<'a>(
        &'a self,
        id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Option<Value>, EnrichError>> {
        let _ = (id, applicant);
        Box::pin(async { Ok(None) })
    }
    /// The indicators of an observable.
    fn indicators_of<'a>(
        &'a self,
        observable_id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Vec<IndicatorInfo>, EnrichError>> {
        let _ = (observable_id, applicant);
        Box::pin(async { Ok(vec![]) })
    }
    /// An indicator and its based-on observables.
    fn indicator<'a>(
        &'a self,
        id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Option<IndicatorWithObservables>, EnrichError>> {
        let _ = (id, applicant);
        Box::pin(async { Ok(None) })
    }
    /// Names of the Tool entities known to the platform.
    fn tool_names(&self) -> BoxFut<'_, Result<Vec<String>, EnrichError>> {
        Box::pin(async { Ok(vec![]) })
    }
}

/// Everything the stages need, shared by all requests.
#[derive(Clone)]
pub struct Context {
    pub settings: Arc<Settings>,
    pub source: Arc<dyn EntitySource>,
    /// The Wazuh indexer client (`None`: requests that need a search end in error).
    pub indexer: Option<Arc<IndexerClient>>,
    /// Tool names known in OpenCTI (fetched at start-up, refreshed hourly).
    pub tools: Arc<tools::ToolCache>,
    /// Receives the searches and OpenCTI reads (see [`observe`]).
    pub observer: Arc<dyn observe::Observer>,
    /// The Wazuh schema searched, once known (see [`schema`]).
    pub schema: schema::SchemaSlot,
}

impl Context {
    /// A context that reports nothing, with a fresh tool cache.
    pub fn new(
        settings: Arc<Settings>,
        source: Arc<dyn EntitySource>,
        indexer: Option<Arc<IndexerClient>>,
    ) -> Context {
        Context::observed(settings, source, indexer, Arc::new(observe::Unobserved))
    }

    /// A context whose searches and OpenCTI reads are reported to `observer`.
    pub fn observed(
        settings: Arc<Settings>,
        source: Arc<dyn EntitySource>,
        indexer: Option<Arc<IndexerClient>>,
        observer: Arc<dyn observe::Observer>,
    ) -> Context {
        let source = Arc::new(observe::Observed {
            inner: source,
            observer: observer.clone(),
        });
        Context {
            settings,
            source,
            indexer,
            tools: Arc::default(),
            observer,
            schema: Arc::default(),
        }
    }
}

/// The work message when the search found nothing (nothing is sent).
pub const NO_HITS: &str = "No hits found";
/// Longest work message (notes from pattern translation can add up).
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// At most this many references are resolved per request (file parent directories,
/// network-traffic endpoints).
const MAX_REFS: usize = 16;

/// The enrichment step as the runtime sees it: production uses [`Pipeline`]; integration tests of
/// the runtime can substitute another implementation to exercise result delivery.
pub trait Enricher: Send + Sync {
    fn enrich<'a>(
        &'a self,
        ctx: &'a Context,
        request: &'a Request,
    ) -> BoxFut<'a, Result<Enriched, EnrichError>>;
}

/// The connector's pipeline ([`enrich`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Pipeline;

impl Enricher for Pipeline {
    fn enrich<'a>(
        &'a self,
        ctx: &'a Context,
        request: &'a Request,
    ) -> BoxFut<'a, Result<Enriched, EnrichError>> {
        Box::pin(enrich(ctx, request))
    }
}

/// `message`, then the notes (approximations, parts not searched), bounded in length.
pub fn with_notes(message: &str, notes: &[String]) -> String {
    let full = if notes.is_empty() {
        message.to_string()
    } else {
        format!("{message}. Notes: {}", notes.join("; "))
    };
    if full.chars().count() <= MAX_MESSAGE_CHARS {
        full
    } else {
        let mut t: String = full.chars().take(MAX_MESSAGE_CHARS).collect();
        t.push('…');
        t
    }
}

/// Resolves the references of the entity and of the observables to search (from the request's
/// `stix_objects` when they are there, else from OpenCTI). Unresolvable ones are left out; the
/// query builder then skips that part instead of failing the request.
async fn resolve_refs(
    ctx: &Context,
    req: &Request,
    inspected: &inspect::Inspected,
) -> Result<plan::Refs, EnrichError> {
    let mut refs = plan::Refs::new();
    let mut wanted: Vec<String> = std::iter::once(&inspected.entity)
        .chain(inspected.observables.iter())
        .flat_map(ref_ids)
        .collect();
    wanted.sort();
    wanted.dedup();
    wanted.truncate(MAX_REFS);
    for id in wanted {
        let given = req
            .stix_objects
            .iter()
            .find(|o| o.get("id").and_then(Value::as_str) == Some(id.as_str()));
        let stix = match given {
            Some(o) => Some(o.clone()),
            None => {
                ctx.source
                    .read_stix(&id, req.applicant_id.as_deref())
                    .await?
            }
        };
        if let Some(s) = stix {
            refs.insert(id, s);
        }
    }
    Ok(refs)
}

/// Enrich one request: inspect → plan → search → knowledge (see the module documentation).
pub async fn enrich(ctx: &Context, request: &Request) -> Result<Enriched, EnrichError> {
    let inspected = match inspect::inspect(ctx, request).await? {
        inspect::Outcome::Skip(message) => return Ok(Enriched::not_searched(message)),
        inspect::Outcome::Proceed(i) => i,
    };
    let refs = resolve_refs(ctx, request, &inspected).await?;
    // A request answered without a search (nothing searchable, a private address…) needs no
    // schema: planned with the configured settings first, it never waits for the indexer.
    let first = plan::plan(&ctx.settings, &inspected, &refs);
    if let Ok(plan::Plan::Done(message)) = first {
        return Ok(Enriched::not_searched(message));
    }
    let view = ctx.schema_view().await?;
    let now = chrono::Utc::now();
    // Each schema is searched with its own fields; a mixed estate's answers become one.
    let mut searched: Option<(plan::SearchPlan, Arc<Settings>, SearchResult)> = None;
    let mut done = None;
    for part in &view.parts {
        let p = match plan::plan(&part.settings, &inspected, &refs)
            .map_err(|e| EnrichError::permanent(e.0))?
        {
            plan::Plan::Done(message) => {
                done.get_or_insert(message);
                continue;
            }
            plan::Plan::Search(p) => *p,
        };
        let indexer = part.indexer.as_ref().ok_or_else(|| {
            EnrichError::permanent("No Wazuh indexer client is configured (WAZUH_OPENSEARCH_URL)")
        })?;
        let ps = &part.settings;
        let mut sreq = SearchRequest::new(p.query.clone(), &ps.indexer, &ps.knowledge, now);
        if let Some(o) = &p.observable {
            sreq = sreq.with_vulnerability_state(o, &ps.indexer);
        }
        let r = search::run(ctx, indexer, &sreq).await?;
        searched = Some(match searched {
            None => (p, ps.clone(), r),
            Some((p0, s0, r0)) => (p0, s0, crate::schema::mixed::merge(r0, r, ps.indexer.limit)),
        });
    }
    let Some((p, settings, result)) = searched else {
        return Ok(Enriched::not_searched(done.unwrap_or_default()));
    };
    if result.total == 0 {
        return Ok(Enriched::no_hits(with_notes(NO_HITS, &p.notes)));
    }
    let tools = if settings.knowledge.enrich_types.contains(&EnrichType::Tool) {
        ctx.tools.names(ctx.source.as_ref()).await
    } else {
        Arc::default()
    };
    let input = KnowledgeInput {
        entity: &p.entity,
        observable: p.observable.as_ref(),
        indicators: &p.indicators,
        result: &result,
        options: &settings.knowledge,
        indexer: &settings.indexer,
        search: &settings.search,
        tools_in_opencti: &tools,
        now,
        automatic: request.mode != Mode::Manual,
        sighting_of: p.sighting_of.clone(),
    };
    let k = knowledge::build(&input).map_err(|e| EnrichError::refused(e.to_string()))?;
    Ok(Enriched::alerts(
        k.objects,
        with_notes(&k.message, &p.notes),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_follow_the_message_and_length_is_bounded() {
        assert_eq!(with_notes("No hits found", &[]), "No hits found");
        assert_eq!(
            with_notes("No hits found", &["a".into(), "b".into()]),
            "No hits found. Notes: a; b"
        );
        let long = with_notes("x", &["y".repeat(10_000)]);
        assert_eq!(long.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
