//! The enrichment seam: one request in, STIX objects and a work message out.
//!
//! The runtime calls [`enrich`] and knows nothing about searching; the stages behind it (inspect
//! now; search and knowledge when they land) are plain functions over typed data plus an
//! [`EntitySource`] for the few reads they need from OpenCTI, so they can be unit-tested without a
//! platform.

pub mod inspect;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use crate::config::Settings;
use crate::entity::IndicatorInfo;

/// How the request was triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A user clicked "Enrich".
    Manual,
    /// The platform enriched on create/update.
    Auto,
    /// A playbook step (reply with `playbookStepExecution`).
    Playbook,
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
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Enriched {
    /// New STIX objects (without the incoming ones; the runtime adds those).
    pub objects: Vec<Value>,
    /// Work message shown in OpenCTI.
    pub message: String,
}

/// Whether repeating the request may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input, refused by policy, entity gone: do not retry.
    Permanent,
    /// A dependency is down (indexer, OpenCTI): redeliver later, up to the attempt limit.
    Transient,
}

/// A user-actionable failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EnrichError {
    pub message: String,
    pub kind: ErrorKind,
}

impl EnrichError {
    pub fn permanent(message: impl Into<String>) -> Self {
        EnrichError {
            message: message.into(),
            kind: ErrorKind::Permanent,
        }
    }
    pub fn transient(message: impl Into<String>) -> Self {
        EnrichError {
            message: message.into(),
            kind: ErrorKind::Transient,
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
pub trait EntitySource: Send + Sync {
    /// An entity's STIX 2.1 export.
    fn read_stix<'a>(
        &'a self,
        id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Option<Value>, EnrichError>>;
    /// The indicators of an observable.
    fn indicators_of<'a>(
        &'a self,
        observable_id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Vec<IndicatorInfo>, EnrichError>>;
    /// An indicator and its based-on observables.
    fn indicator<'a>(
        &'a self,
        id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Option<IndicatorWithObservables>, EnrichError>>;
    /// Names of the Tool entities known to the platform.
    fn tool_names(&self) -> BoxFut<'_, Result<Vec<String>, EnrichError>>;
}

/// Everything the stages need, shared by all requests.
#[derive(Clone)]
pub struct Context {
    pub settings: Arc<Settings>,
    pub source: Arc<dyn EntitySource>,
    /// The Wazuh indexer client (for the search stage; `None` in unit tests of other stages).
    pub indexer: Option<Arc<crate::indexer::IndexerClient>>,
}

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

/// Enrich one request. Today: the inspect stage (resolve, TLP, labels, own entity, indicator
/// resolution), then a clear message that searching is not available yet.
pub async fn enrich(ctx: &Context, request: &Request) -> Result<Enriched, EnrichError> {
    let inspected = match inspect::inspect(ctx, request).await? {
        inspect::Outcome::Skip(message) => {
            return Ok(Enriched {
                objects: Vec::new(),
                message,
            })
        }
        inspect::Outcome::Proceed(i) => i,
    };
    Ok(Enriched {
        objects: Vec::new(),
        message: format!(
            "Inspected {} {} ({} observable(s), {} indicator(s)): no search for this type yet, nothing was sent",
            inspected.entity_type,
            inspected.entity_id,
            inspected.observables.len(),
            inspected.indicators.len()
        ),
    })
}
