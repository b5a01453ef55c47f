//! A fake OpenCTI platform for integration tests.
//!
//! * An axum server on 127.0.0.1:0 that validates **every** GraphQL operation against a real
//!   OpenCTI schema (apollo-compiler) and refuses invalid ones the way the platform does (HTTP 400,
//!   `GRAPHQL_VALIDATION_FAILED`).
//! * Answers like the platform: `about`, introspection of `RegisterConnectorInput` (the fields of
//!   that version's schema), `registerConnector` (queues declared in the real RabbitMQ as protocol
//!   §3.1), `pingConnector`, `workEdit` (work states and messages recorded), `stixBundlePush`,
//!   `playbookStepExecution`, `stix`/`stixCoreObject`/`stixCyberObservable`/`indicator` (entities
//!   the test added; null for deleted ones), `tools`; for continuous hunting ([`hunt`]): the
//!   `indicators` listing (filters, `updated_at` order, cursor paging), `workAdd`, `connector`,
//!   and the connector's state (`pingConnector(state:)`, reset like the platform).
//! * Misbehaves on command ([`FakeOpenCti::fail_next`]: HTTP 500 or a hang for the next N calls).
//! * Consumes the push queue like the worker: decodes the base64 content and records the objects
//!   per work id, accounting expectations like the platform.
//!
//! Typical use:
//! ```ignore
//! let octi = FakeOpenCti::start("6.9.17").await;
//! let ip = octi.add_entity(fake_opencti::ipv4("8.8.8.8", Some(TLP_GREEN)));
//! let work = octi.new_work();
//! octi.publish_request(&octi.manual_request(&work, &ip, true)).await;
//! let rec = octi.wait_for_work(&work).await;
//! octi.cleanup().await;
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use apollo_compiler::ast::Type;
use apollo_compiler::executable::Selection;
use apollo_compiler::response::JsonMap;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ExchangeKind};
use serde_json::{json, Value};

use super::rabbit;

pub mod hunt;

pub const SCHEMA_VERSIONS: &[&str] = &["6.4.5", "6.6.10", "6.8.10", "6.9.17"];
/// Key id of the fake platform's callback-signing key.
pub const CALLBACK_KID: &str = "fake-opencti-callbacks";
pub const CONNECTOR_USER_ID: &str = "88ec0c6a-13ce-5e39-b486-354fe4a7084f";
pub const TLP_CLEAR: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
pub const TLP_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
pub const TLP_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
pub const TLP_RED: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
pub const TLP_AMBER_STRICT: &str = "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37";
const CONNECTOR_EXCHANGE: &str = "amqp.connector.exchange";
const WORKER_EXCHANGE: &str = "amqp.worker.exchange";

/// The schema of one OpenCTI version (parsed once per process).
pub fn schema(version: &str) -> &'static Valid<Schema> {
    static CACHE: OnceLock<Mutex<HashMap<String, &'static Valid<Schema>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(s) = cache.lock().unwrap().get(version) {
        return s;
    }
    // `<version>+jwks`: that schema with OpenCTI 7's `Connector.jwks` (the keys that sign HTTP
    // callbacks), for the API listen protocol's 7.x path; no complete 7.x schema is available.
    let (base, jwks) = match version.split_once('+') {
        Some((b, "jwks")) => (b, true),
        _ => (version, false),
    };
    let path = format!(
        "{}/tests/fixtures/opencti-schema/opencti-{base}.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if jwks {
        text.push_str("\nextend type Connector { jwks: String! }\n");
    }
    // The printed platform schemas carry a few SDL quirks (directive/scalar declarations) that a
    // strict schema validation flags; operations are still validated strictly against them.
    let s = match Schema::parse_and_validate(text.clone(), &path) {
        Ok(v) => v,
        Err(with_errors) => Valid::assume_valid(with_errors.partial),
    };
    let leaked: &'static Valid<Schema> = Box::leak(Box::new(s));
    cache.lock().unwrap().insert(version.to_string(), leaked);
    leaked
}

/// Validate one operation against a schema: `Err` holds the platform-style message.
pub fn validate_operation(schema: &Valid<Schema>, text: &str) -> Result<(), String> {
    ExecutableDocument::parse_and_validate(schema, text, "operation.graphql")
        .map(drop)
        .map_err(|e| e.errors.to_string())
}

/// How an operation misbehaves.
#[derive(Debug, Clone, Copy)]
pub enum FailMode {
    /// Answer HTTP 500.
    Status500,
    /// Wait this long, then answer HTTP 500 (a client with a shorter timeout sees a timeout).
    Hang(Duration),
    /// Wait this long, then answer normally (a slow platform).
    Delay(Duration),
    /// Hold the call until the test releases it ([`FakeOpenCti::release_held`]), then answer
    /// normally: a request stays in flight exactly as long as the test needs, whatever the
    /// machine's speed.
    Hold,
}

/// What the platform knows about one work.
#[derive(Debug, Clone, Default)]
pub struct WorkRecord {
    /// `wait` | `progress` | `complete`
    pub status: String,
    pub messages: Vec<String>,
    pub errors: Vec<String>,
    pub in_error: bool,
    pub received: u32,
    pub processed_calls: u32,
    pub expected: i64,
    pub imported: i64,
    pub pings: u32,
}

impl WorkRecord {
    fn update_status(&mut self) {
        self.status = if self.processed_calls > 0 && self.imported >= self.expected {
            "complete".into()
        } else if self.received > 0 {
            "progress".into()
        } else {
            "wait".into()
        };
    }
}

#[derive(Default)]
struct Inner {
    entities: HashMap<String, Value>,
    deleted: HashSet<String>,
    based_on: HashMap<String, Vec<String>>,
    tools: Vec<String>,
    works: HashMap<String, WorkRecord>,
    pushed: HashMap<String, Vec<Value>>,
    push_messages: Vec<Value>,
    api_pushes: Vec<Value>,
    playbook_replies: Vec<Value>,
    registrations: Vec<Value>,
    pings: u32,
    calls: Vec<String>,
    rejected: Vec<String>,
    failures: HashMap<String, (u32, FailMode)>,
    /// Calls answered with an injected failure, per operation name.
    faulted: HashMap<String, u32>,
    /// Objects the worker refused (invalid id, unknown type), with why.
    refused_objects: Vec<String>,
    /// Calls held so far ([`FailMode::Hold`]).
    held: u32,
    /// Times the worker started consuming the push queue.
    worker_connections: u32,
    /// An access gateway in front of the API ([`FakeOpenCti::require_header`]): the header every
    /// call must carry, and the calls it turned away.
    gate: Option<(String, String)>,
    gate_refusals: Vec<String>,
    /// Indicator `updated_at`s, named works, the connector's state ([`hunt`]).
    hunt: hunt::HuntState,
}

struct App {
    version: String,
    token: String,
    connector_id: String,
    inner: Mutex<Inner>,
    changed: tokio::sync::Notify,
    /// Becomes true when the test releases the held calls.
    released: tokio::sync::watch::Sender<bool>,
    /// The `jwks` registration returns on a `+jwks` platform.
    jwks: String,
}

/// A running fake platform bound to one unique connector id.
pub struct FakeOpenCti {
    pub url: String,
    pub version: String,
    pub token: String,
    pub connector_id: String,
    /// The Ed25519 key whose public half is the registered `jwks` (kid [`CALLBACK_KID`]).
    pub callback_key: rcgen::KeyPair,
    app: Arc<App>,
    amqp: Connection,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl FakeOpenCti {
    pub fn listen_queue(&self) -> String {
        format!("listen_{}", self.connector_id)
    }
    pub fn push_queue(&self) -> String {
        format!("push_{}", self.connector_id)
    }

    /// Start a platform of `version` (one of [`SCHEMA_VERSIONS`]) with a fresh connector id.
    pub async fn start(version: &str) -> FakeOpenCti {
        let _ = schema(version);
        let connector_id = uuid::Uuid::new_v4().to_string();
        let token = format!("0{}", uuid::Uuid::new_v4().simple());
        let callback_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let jwks = {
            use base64::Engine as _;
            let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(callback_key.public_key_raw());
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": CALLBACK_KID}]})
                .to_string()
        };
        let app = Arc::new(App {
            jwks,
            version: version.into(),
            token: token.clone(),
            connector_id: connector_id.clone(),
            inner: Mutex::default(),
            changed: tokio::sync::Notify::new(),
            released: tokio::sync::watch::Sender::new(false),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = axum::Router::new()
            .route("/graphql", axum::routing::post(graphql))
            .with_state(app.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let amqp = rabbit::connect().await;
        declare_queues(&amqp, &connector_id).await;
        let worker = tokio::spawn(worker(
            rabbit::connect_when_up().await,
            format!("push_{connector_id}"),
            app.clone(),
        ));
        FakeOpenCti {
            url,
            version: version.into(),
            token,
            connector_id,
            callback_key,
            app,
            amqp,
            tasks: vec![server, worker],
        }
    }

    /// Environment for a connector talking to this platform (and a dummy indexer URL). Observables
    /// without indicators are not searched (`WAZUH_CREATE_OBS_SIGHTINGS=false`), so runtime tests
    /// with the production pipeline need no indexer; end-to-end tests override both.
    pub fn connector_env(&self) -> HashMap<String, String> {
        [
            ("OPENCTI_URL", self.url.as_str()),
            ("OPENCTI_TOKEN", self.token.as_str()),
            ("CONNECTOR_ID", self.connector_id.as_str()),
            ("CONNECTOR_NAME", "Wazuh test"),
            ("WAZUH_OPENSEARCH_URL", "http://127.0.0.1:9"),
            ("WAZUH_CREATE_OBS_SIGHTINGS", "false"),
            ("OPENCTI_TIMEOUT", "3s"),
            ("CONNECTOR_SHUTDOWN_GRACE_PERIOD", "10s"),
            ("CONNECTOR_LOG_LEVEL", "info"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Settings for an in-process connector; `extra` overrides variables.
    pub fn settings(&self, extra: &[(&str, &str)]) -> connector_wazuh::config::Settings {
        let mut env = self.connector_env();
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        super::settings::load(env)
    }

    // ------------------------------------------------------------- knowledge served

    /// Serve a STIX object (by its `id`); returns the id.
    pub fn add_entity(&self, stix: Value) -> String {
        let id = stix["id"].as_str().unwrap().to_string();
        let mut g = self.app.inner.lock().unwrap();
        g.deleted.remove(&id);
        if stix["type"] == "indicator" {
            g.hunt.touch(&id);
        }
        g.entities.insert(id.clone(), stix);
        id
    }
    /// Make an entity disappear (reads return null).
    pub fn delete_entity(&self, id: &str) {
        self.app
            .inner
            .lock()
            .unwrap()
            .deleted
            .insert(id.to_string());
    }
    /// Serve an indicator based on the given observables.
    pub fn add_indicator(&self, stix: Value, based_on: &[&str]) -> String {
        let id = self.add_entity(stix);
        self.app
            .inner
            .lock()
            .unwrap()
            .based_on
            .insert(id.clone(), based_on.iter().map(|s| s.to_string()).collect());
        id
    }
    pub fn set_tools(&self, names: &[&str]) {
        self.app.inner.lock().unwrap().tools = names.iter().map(|s| s.to_string()).collect();
    }

    // ------------------------------------------------------------- requests

    /// Create a work (status `wait`), as the platform does before sending a request.
    pub fn new_work(&self) -> String {
        let id = format!(
            "work_{}_{}",
            self.connector_id,
            uuid::Uuid::new_v4().simple()
        );
        let mut rec = WorkRecord::default();
        rec.update_status();
        self.app.inner.lock().unwrap().works.insert(id.clone(), rec);
        id
    }

    pub fn entity(&self, id: &str) -> Value {
        self.app
            .inner
            .lock()
            .unwrap()
            .entities
            .get(id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// A manual-enrichment message; `with_stix` puts the entity in `stix_entity` (as a JSON string).
    pub fn manual_request(&self, work_id: &str, entity_id: &str, with_stix: bool) -> Value {
        self.request("manual", "update", work_id, entity_id, with_stix)
    }
    /// An automatic-enrichment message (`trigger: create`).
    pub fn auto_request(&self, work_id: &str, entity_id: &str) -> Value {
        self.request("auto", "create", work_id, entity_id, true)
    }
    fn request(
        &self,
        mode: &str,
        trigger: &str,
        work_id: &str,
        entity_id: &str,
        with_stix: bool,
    ) -> Value {
        let e = self.entity(entity_id);
        json!({
            "internal": {"work_id": work_id, "applicant_id": null, "draft_id": null, "mode": mode, "trigger": trigger},
            "event": {
                "event_type": "INTERNAL_ENRICHMENT",
                "entity_id": entity_id,
                "entity_type": e.get("type").cloned().unwrap_or(Value::Null),
                "stix_entity": if with_stix { Value::String(e.to_string()) } else { Value::Null },
                "stix_objects": null,
            }
        })
    }
    /// A playbook step message carrying a bundle with the entity.
    pub fn playbook_request(&self, entity_id: &str, execution_id: &str) -> Value {
        let e = self.entity(entity_id);
        json!({
            "internal": {
                "work_id": null,
                "playbook": {"event_id": "1714813951417-0", "execution_id": execution_id, "playbook_id": "5b0e4a2c-9f34-4f0e-8a43-2a6a3b8c1d77",
                    "data_instance_id": entity_id, "step_id": "9a5c3b0e-1d2f-4e6a-8b7c-0d1e2f3a4b5c", "previous_step_id": "1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b"},
                "applicant_id": "c49fe040-2dad-412d-af07-ce639204ad55",
                "trigger": "create",
                "mode": "auto"
            },
            "event": {"entity_id": entity_id, "bundle": {"type": "bundle", "id": format!("bundle--{}", uuid::Uuid::new_v4()), "spec_version": "2.1", "objects": [e]}}
        })
    }

    /// One manual request for a fresh IPv4 observable `value` (entity in the message), waited
    /// for until its work is done; returns the work id and record.
    pub async fn enrich_ipv4(&self, value: &str) -> (String, WorkRecord) {
        let ip = self.add_entity(ipv4(value, None));
        let work = self.new_work();
        self.publish_request(&self.manual_request(&work, &ip, true))
            .await;
        let rec = self.wait_for_work(&work).await;
        (work, rec)
    }

    /// Publish a request to the connector's listen queue, as the platform does.
    pub async fn publish_request(&self, message: &Value) {
        self.publish_raw(message.to_string().as_bytes()).await;
    }
    pub async fn publish_raw(&self, body: &[u8]) {
        let ch = rabbit::channel(&self.amqp).await;
        ch.confirm_select(Default::default()).await.unwrap();
        ch.basic_publish(
            CONNECTOR_EXCHANGE.into(),
            format!("listen_routing_{}", self.connector_id).into(),
            BasicPublishOptions::default(),
            body,
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();
        let _ = ch.close(200, "done".into()).await;
    }

    // ------------------------------------------------------------- observations

    pub fn work(&self, id: &str) -> Option<WorkRecord> {
        self.app.inner.lock().unwrap().works.get(id).cloned()
    }

    /// Wait (≤ 30 s) until the work was ended (`toProcessed`) and everything pushed was imported.
    pub async fn wait_for_work(&self, id: &str) -> WorkRecord {
        self.wait_for_work_within(id, Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("work {id} not finished in time: {:?}", self.work(id)))
    }

    /// Like [`Self::wait_for_work`] with a caller-chosen bound; `None` if not finished in time
    /// (the benchmark harness uses it for slow tiers instead of panicking).
    pub async fn wait_for_work_within(&self, id: &str, timeout: Duration) -> Option<WorkRecord> {
        self.wait_until(timeout, |g| {
            g.works
                .get(id)
                .filter(|w| w.processed_calls > 0 && w.imported >= w.expected)
                .cloned()
        })
        .await
    }

    /// Wait (≤ 30 s) for `n` playbook replies.
    pub async fn wait_for_playbook_replies(&self, n: usize) -> Vec<Value> {
        self.wait_until(Duration::from_secs(30), |g| {
            (g.playbook_replies.len() >= n).then(|| g.playbook_replies.clone())
        })
        .await
        .unwrap_or_else(|| panic!("fewer than {n} playbook replies"))
    }

    /// Wait until `f` returns `Some`, or `timeout`.
    async fn wait_until<T>(&self, timeout: Duration, f: impl Fn(&Inner) -> Option<T>) -> Option<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.app.changed.notified();
            if let Some(v) = f(&self.app.inner.lock().unwrap()) {
                return Some(v);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return f(&self.app.inner.lock().unwrap());
            }
        }
    }

    /// Wait (≤ 30 s) until the connector registered.
    pub async fn wait_for_registration(&self) -> Value {
        self.wait_until(Duration::from_secs(30), |g| {
            g.registrations.first().cloned()
        })
        .await
        .expect("connector did not register")
    }

    /// Objects the worker imported for a work (AMQP push or API push).
    pub fn pushed_objects(&self, work_id: &str) -> Vec<Value> {
        self.app
            .inner
            .lock()
            .unwrap()
            .pushed
            .get(work_id)
            .cloned()
            .unwrap_or_default()
    }
    /// Raw push-queue messages (with `content` decoded into `bundle`).
    pub fn push_messages(&self) -> Vec<Value> {
        self.app.inner.lock().unwrap().push_messages.clone()
    }
    /// Variables of every `stixBundlePush`.
    pub fn api_pushes(&self) -> Vec<Value> {
        self.app.inner.lock().unwrap().api_pushes.clone()
    }
    pub fn playbook_replies(&self) -> Vec<Value> {
        self.app.inner.lock().unwrap().playbook_replies.clone()
    }
    /// `input` of every `registerConnector`.
    pub fn registrations(&self) -> Vec<Value> {
        self.app.inner.lock().unwrap().registrations.clone()
    }
    pub fn pings(&self) -> u32 {
        self.app.inner.lock().unwrap().pings
    }
    /// Operations refused by schema validation (must stay empty).
    pub fn rejected(&self) -> Vec<String> {
        self.app.inner.lock().unwrap().rejected.clone()
    }
    /// Runs the OASIS validator over every object the worker imported (one Python run); fails
    /// the test on what it refuses (see [`super::oasis`]).
    pub fn assert_imports_pass_the_oasis_validator(&self) {
        let mut seen = HashSet::new();
        let objects: Vec<Value> = {
            let g = self.app.inner.lock().unwrap();
            g.pushed
                .values()
                .flatten()
                .filter(|o| seen.insert(o.to_string()))
                .cloned()
                .collect()
        };
        assert!(!objects.is_empty(), "nothing was imported");
        super::oasis::assert_valid(&objects);
    }
    /// Waits (≤ 60 s) until `n` calls are held ([`FailMode::Hold`]).
    pub async fn wait_held(&self, n: u32) {
        self.wait_until(Duration::from_secs(60), |g| (g.held >= n).then_some(()))
            .await
            .unwrap_or_else(|| panic!("fewer than {n} calls held: {}", self.held()));
    }
    /// Times the worker started consuming the push queue (more than 1 after a broker outage).
    pub fn worker_connections(&self) -> u32 {
        self.app.inner.lock().unwrap().worker_connections
    }
    /// Calls held so far.
    pub fn held(&self) -> u32 {
        self.app.inner.lock().unwrap().held
    }
    /// Lets every held call (and every later one) answer normally.
    pub fn release_held(&self) {
        self.app.released.send_replace(true);
    }
    /// Calls of operation `op` that got an injected failure ([`Self::fail_next`]).
    pub fn faulted(&self, op: &str) -> u32 {
        self.app
            .inner
            .lock()
            .unwrap()
            .faulted
            .get(op)
            .copied()
            .unwrap_or(0)
    }
    /// Objects the worker refuses: invalid ids and unknown types on receipt, and references
    /// that resolve to nothing the platform holds once everything was imported (an imported
    /// object, an entity the test added, a TLP marking, the placeholder indicator sightings
    /// point at while `x_opencti_sighting_of_ref` names the real one).
    pub fn worker_refusals(&self) -> Vec<String> {
        let g = self.app.inner.lock().unwrap();
        let mut out = g.refused_objects.clone();
        let mut known: HashSet<&str> = g.entities.keys().map(String::as_str).collect();
        known.extend([TLP_CLEAR, TLP_GREEN, TLP_AMBER, TLP_RED, TLP_AMBER_STRICT]);
        known.insert(connector_wazuh::stix::id::DUMMY_INDICATOR_ID);
        let all = g.pushed.values().flatten();
        known.extend(all.clone().filter_map(|o| o["id"].as_str()));
        for o in all {
            let mut refs = Vec::new();
            refs_in(o, &mut refs);
            for r in refs.iter().filter(|r| !known.contains(r.as_str())) {
                out.push(format!("dangling reference {r} in {}", o["id"]));
            }
        }
        out
    }
    /// Takes the refused requests (for a test that provokes them on purpose), leaving none.
    pub fn take_rejected(&self) -> Vec<String> {
        std::mem::take(&mut self.app.inner.lock().unwrap().rejected)
    }
    /// Names of the operations received, in order.
    /// Puts an access gateway in front of the API, as a reverse proxy would be: a call without
    /// header `name` set to `value` is answered HTTP 403 before reaching the platform.
    pub fn require_header(&self, name: &str, value: &str) {
        self.app.inner.lock().unwrap().gate = Some((name.into(), value.into()));
    }

    /// The calls the gateway turned away (their first 80 characters).
    pub fn gate_refusals(&self) -> Vec<String> {
        self.app.inner.lock().unwrap().gate_refusals.clone()
    }

    pub fn calls(&self) -> Vec<String> {
        self.app.inner.lock().unwrap().calls.clone()
    }
    /// Make the next `n` calls of operation `op` (operation name, e.g. `WorkToProcessed`) misbehave.
    pub fn fail_next(&self, op: &str, n: u32, mode: FailMode) {
        self.app
            .inner
            .lock()
            .unwrap()
            .failures
            .insert(op.to_string(), (n, mode));
    }

    /// Delete the connector's queues and stop the server (held calls are released).
    pub async fn cleanup(self) {
        self.release_held();
        for t in &self.tasks {
            t.abort();
        }
        rabbit::delete(&self.amqp, &self.listen_queue()).await;
        rabbit::delete(&self.amqp, &self.push_queue()).await;
        let _ = self.amqp.close(200, "done".into()).await;
    }
}

/// Every test that talks to the test OpenCTI checks that it refused nothing: a refused request
/// fails the test when the platform goes away (unless the test took the refusals it provoked
/// with [`FakeOpenCti::take_rejected`]).
impl Drop for FakeOpenCti {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let rejected = self.take_rejected();
        assert!(
            rejected.is_empty(),
            "the test OpenCTI refused {} request(s):\n{}",
            rejected.len(),
            rejected.join("\n\n")
        );
        let refused = self.worker_refusals();
        assert!(
            refused.is_empty(),
            "the test OpenCTI's worker refused {} object(s):\n{}",
            refused.len(),
            refused.join("\n")
        );
    }
}

/// STIX 2.1 object types, and the ones OpenCTI adds, that the platform's worker imports.
#[rustfmt::skip]
const KNOWN_TYPES: &[&str] = &[
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
    "indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis",
    "note", "observed-data", "opinion", "report", "threat-actor", "tool", "vulnerability",
    "relationship", "sighting", "marking-definition", "artifact", "autonomous-system", "directory",
    "domain-name", "email-addr", "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr",
    "mutex", "network-traffic", "process", "software", "url", "user-account",
    "windows-registry-key", "x509-certificate", "case-incident", "case-rfi", "case-rft", "task",
    "hostname", "cryptographic-key", "cryptocurrency-wallet", "text", "user-agent", "bank-account",
    "phone-number", "payment-card", "media-content", "persona", "credential", "tracking-number",
    "channel", "event", "narrative", "data-component", "data-source",
];

/// What OpenCTI's worker refuses in a bundle on receipt: an unknown type, an id that is not
/// `<type>--<UUID>` of its own type.
fn refuse_objects(objects: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for o in objects {
        let t = o["type"].as_str().unwrap_or("");
        let id = o["id"].as_str().unwrap_or("");
        if !KNOWN_TYPES.contains(&t) {
            out.push(format!("unknown type {t:?}: {o}"));
        }
        match id.split_once("--") {
            Some((prefix, uuid)) if prefix == t && uuid::Uuid::parse_str(uuid).is_ok() => {}
            _ => out.push(format!("invalid id {id:?} for a {t:?}")),
        }
    }
    out
}

/// Every `*_ref`/`*_refs` value in `v` (nested objects and lists included).
fn refs_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k.ends_with("_ref") || k.ends_with("_refs") {
                    match x {
                        Value::String(s) => out.push(s.clone()),
                        Value::Array(a) => {
                            out.extend(a.iter().filter_map(|s| s.as_str().map(str::to_string)))
                        }
                        _ => refs_in(x, out),
                    }
                } else {
                    refs_in(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs_in(x, out)),
        _ => {}
    }
}

/// A fresh IPv4 observable's STIX export (random id so tests never collide).
pub fn ipv4(value: &str, marking: Option<&str>) -> Value {
    let mut v = json!({
        "id": format!("ipv4-addr--{}", uuid::Uuid::new_v4()),
        "spec_version": "2.1",
        "type": "ipv4-addr",
        "value": value,
        "extensions": {"extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba": {"extension_type": "property-extension", "id": uuid::Uuid::new_v4().to_string(), "type": "IPv4-Addr", "is_inferred": false}}
    });
    if let Some(m) = marking {
        v["object_marking_refs"] = json!([m]);
    }
    v
}

fn tlp_name(id: &str) -> Option<&'static str> {
    Some(match id {
        TLP_CLEAR => "TLP:CLEAR",
        TLP_GREEN => "TLP:GREEN",
        TLP_AMBER => "TLP:AMBER",
        TLP_AMBER_STRICT => "TLP:AMBER+STRICT",
        TLP_RED => "TLP:RED",
        _ => return None,
    })
}

/// `objectMarking` of an entity: its `object_marking_refs` (TLP ids get their definitions).
fn object_marking(e: &Value) -> Vec<Value> {
    e["object_marking_refs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str())
        .map(|m| json!({"id": m, "standard_id": m, "definition_type": if tlp_name(m).is_some() { "TLP" } else { "statement" }, "definition": tlp_name(m).unwrap_or(m)}))
        .collect()
}

async fn declare_queues(conn: &Connection, id: &str) {
    let ch = rabbit::channel(conn).await;
    for ex in [CONNECTOR_EXCHANGE, WORKER_EXCHANGE] {
        ch.exchange_declare(
            ex.into(),
            ExchangeKind::Direct,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    }
    for (queue, routing, exchange) in [
        (
            format!("listen_{id}"),
            format!("listen_routing_{id}"),
            CONNECTOR_EXCHANGE,
        ),
        (
            format!("push_{id}"),
            format!("push_routing_{id}"),
            WORKER_EXCHANGE,
        ),
    ] {
        let mut config = FieldTable::default();
        config.insert("id".into(), AMQPValue::LongString(id.into()));
        config.insert(
            "type".into(),
            AMQPValue::LongString("INTERNAL_ENRICHMENT".into()),
        );
        config.insert("scope".into(), AMQPValue::LongString("IPv4-Addr".into()));
        let mut args = FieldTable::default();
        args.insert("name".into(), AMQPValue::LongString("Wazuh test".into()));
        args.insert("config".into(), AMQPValue::FieldTable(config));
        ch.queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                exclusive: false,
                auto_delete: false,
                ..Default::default()
            },
            args,
        )
        .await
        .unwrap();
        ch.queue_bind(
            queue.as_str().into(),
            exchange.into(),
            routing.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    }
    let _ = ch.close(200, "declared".into()).await;
}

/// Consume the push queue like the opencti-worker, for the life of the platform: when the
/// broker drops the connection or cancels the consumer (broker fault tests), the consumer ends
/// (the connection does not recover by itself) and the worker connects and consumes again
/// (unacknowledged messages come back), as the real worker does.
async fn worker(conn: Connection, queue: String, app: Arc<App>) {
    let mut conn = Some(conn);
    loop {
        let c = match conn.take() {
            Some(c) => c,
            None => rabbit::connect_when_up().await,
        };
        consume_pushes(&c, &queue, &app).await;
        let _ = c.close(200, "reconnecting".into()).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Imports from the push queue until the consumer ends or fails.
async fn consume_pushes(conn: &Connection, queue: &str, app: &App) {
    let Ok(ch) = conn.create_channel().await else {
        return;
    };
    let Ok(mut consumer) = ch
        .basic_consume(
            queue.into(),
            "fake-worker".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
    else {
        return;
    };
    app.inner.lock().unwrap().worker_connections += 1;
    let mut probe = tokio::time::interval(Duration::from_secs(2));
    loop {
        let next = tokio::select! {
            next = consumer.next() => next,
            _ = probe.tick() => {
                // The broker's word on whether this consumer still exists: after
                // stop_app/start_app the client side may neither end nor fail.
                if !consumer_registered(conn, queue).await {
                    return;
                }
                continue;
            }
        };
        let Some(Ok(d)) = next else {
            return;
        };
        let mut msg: Value = serde_json::from_slice(&d.data).unwrap_or(Value::Null);
        let bundle: Value = msg["content"]
            .as_str()
            .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let objects = bundle["objects"].as_array().cloned().unwrap_or_default();
        let work_id = msg["work_id"].as_str().unwrap_or("").to_string();
        {
            let mut g = app.inner.lock().unwrap();
            if let Some(w) = g.works.get_mut(&work_id) {
                // The worker splits multi-object bundles itself and adds their expectations.
                if objects.len() > 1 && msg["no_split"] != json!(true) {
                    w.expected += objects.len() as i64;
                }
                w.imported += objects.len() as i64;
                w.update_status();
            }
            let refused = refuse_objects(&objects);
            g.refused_objects.extend(refused);
            g.pushed.entry(work_id).or_default().extend(objects);
            msg["bundle"] = bundle;
            g.push_messages.push(msg);
        }
        app.changed.notify_waiters();
        let _ = d.ack(BasicAckOptions::default()).await;
    }
}

/// Whether the broker counts a consumer on `queue` (a passive declare on a fresh channel).
async fn consumer_registered(conn: &Connection, queue: &str) -> bool {
    // On a connection the broker dropped during stop_app, opening a channel can wait forever
    // instead of failing: a probe that does not answer counts as "gone", so that the worker
    // reconnects (it once sat on 115 pushed messages until the test timed out).
    tokio::time::timeout(Duration::from_secs(5), probe_consumer(conn, queue))
        .await
        .unwrap_or(false)
}

async fn probe_consumer(conn: &Connection, queue: &str) -> bool {
    let Ok(ch) = conn.create_channel().await else {
        return false;
    };
    let opts = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let registered = matches!(
        ch.queue_declare(queue.into(), opts, FieldTable::default()).await,
        Ok(q) if q.consumer_count() > 0
    );
    let _ = ch.close(200, "probed".into()).await;
    registered
}

/// A root field of an operation: name, sub-field names, literal arguments.
type RootField = (String, Vec<String>, Vec<(String, String)>);

fn gql_error(status: StatusCode, message: &str, code: &str) -> Response {
    (
        status,
        Json(json!({"errors": [{"message": message, "extensions": {"code": code}}]})),
    )
        .into_response()
}

async fn graphql(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    {
        let mut inner = app.inner.lock().unwrap();
        if let Some((name, value)) = inner.gate.clone() {
            if headers.get(name.as_str()).and_then(|v| v.to_str().ok()) != Some(value.as_str()) {
                let call: String = body["query"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(80)
                    .collect();
                inner.gate_refusals.push(call);
                return (StatusCode::FORBIDDEN, "access gateway: missing credential")
                    .into_response();
            }
        }
    }
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Bearer {}", app.token) {
        return gql_error(
            StatusCode::OK,
            "You must be logged in to do this.",
            "AUTH_REQUIRED",
        );
    }
    let query = body["query"].as_str().unwrap_or("").to_string();
    let s = schema(&app.version);
    let refuse = |status: StatusCode, msg: &str, code: &str| {
        app.inner
            .lock()
            .unwrap()
            .rejected
            .push(format!("{code}: {msg}\n--- operation:\n{query}"));
        gql_error(status, msg, code)
    };
    let doc = match ExecutableDocument::parse_and_validate(s, query.clone(), "request.graphql") {
        Ok(d) => d,
        Err(e) => {
            let msg = e.errors.to_string();
            return refuse(StatusCode::BAD_REQUEST, &msg, "GRAPHQL_VALIDATION_FAILED");
        }
    };
    let Ok(op) = doc.operations.get(body["operationName"].as_str()) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "no operation, or an ambiguous one without operationName",
            "GRAPHQL_VALIDATION_FAILED",
        );
    };
    // Variables are coerced against the operation's definitions and this version's schema, as
    // graphql-js does before executing: wrong types, missing required variables and input fields
    // this version does not have are request errors (Apollo Server 4 answers them with HTTP 200,
    // `BAD_USER_INPUT` and no `data`).
    let vars = match coerce_variables(s, op, body.get("variables")) {
        Ok(v) => v,
        Err(msg) => return refuse(StatusCode::OK, &msg, "BAD_USER_INPUT"),
    };
    let op_name = op.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
    let fields: Vec<RootField> = op
        .selection_set
        .selections
        .iter()
        .filter_map(|sel| match sel {
            Selection::Field(f) => Some((
                f.name.to_string(),
                f.selection_set
                    .selections
                    .iter()
                    .filter_map(|s| {
                        if let Selection::Field(sf) = s {
                            Some(sf.name.to_string())
                        } else {
                            None
                        }
                    })
                    .collect(),
                f.arguments
                    .iter()
                    .map(|a| (a.name.to_string(), a.value.to_string()))
                    .collect(),
            )),
            _ => None,
        })
        .collect();
    let failure = {
        let mut g = app.inner.lock().unwrap();
        g.calls.push(op_name.clone());
        let mode = match g.failures.get_mut(&op_name) {
            Some((n, mode)) if *n > 0 => {
                *n -= 1;
                Some(*mode)
            }
            _ => None,
        };
        if mode.is_some() {
            *g.faulted.entry(op_name.clone()).or_default() += 1;
        }
        mode
    };
    match failure {
        Some(FailMode::Status500) => {
            return gql_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
                "INTERNAL_SERVER_ERROR",
            )
        }
        Some(FailMode::Hang(d)) => {
            tokio::time::sleep(d).await;
            return gql_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
                "INTERNAL_SERVER_ERROR",
            );
        }
        Some(FailMode::Delay(d)) => tokio::time::sleep(d).await,
        Some(FailMode::Hold) => {
            app.inner.lock().unwrap().held += 1;
            app.changed.notify_waiters();
            let mut released = app.released.subscribe();
            let _ = released.wait_for(|r| *r).await;
        }
        None => {}
    }
    let mut data = serde_json::Map::new();
    for (field, sub, args) in &fields {
        let answered = match hunt::answer(&app, field, args, &vars) {
            Some(Err(msg)) => return refuse(StatusCode::OK, &msg, "UNSUPPORTED_BY_TEST_OPENCTI"),
            Some(Ok(v)) => Some(v),
            None => answer(&app, s, field, sub, args, &vars),
        };
        match answered {
            Some(v) => data.insert(field.clone(), v),
            None => {
                let msg = format!("the test OpenCTI does not implement the root field `{field}`");
                return refuse(StatusCode::OK, &msg, "UNSUPPORTED_BY_TEST_OPENCTI");
            }
        };
    }
    app.changed.notify_waiters();
    Json(json!({ "data": data })).into_response()
}

fn var<'v>(vars: &'v Value, name: &str) -> &'v Value {
    vars.get(name).unwrap_or(&Value::Null)
}

fn answer(
    app: &App,
    s: &Valid<Schema>,
    field: &str,
    sub: &[String],
    args: &[(String, String)],
    vars: &Value,
) -> Option<Value> {
    let id = var(vars, "id").as_str().unwrap_or("").to_string();
    let mut g = app.inner.lock().unwrap();
    let visible = |g: &Inner, id: &str| {
        if g.deleted.contains(id) {
            None
        } else {
            g.entities.get(id).cloned()
        }
    };
    Some(match field {
        "about" => json!({"version": app.version}),
        "__type" => {
            let name = args
                .iter()
                .find(|(k, _)| k == "name")
                .map(|(_, v)| v.trim_matches('"').to_string())
                .unwrap_or_default();
            match s.types.get(name.as_str()) {
                Some(ExtendedType::InputObject(io)) => {
                    json!({"inputFields": io.fields.keys().map(|k| json!({"name": k.to_string()})).collect::<Vec<_>>()})
                }
                Some(ExtendedType::Object(o)) => {
                    json!({"fields": o.fields.keys().map(|k| json!({"name": k.to_string()})).collect::<Vec<_>>()})
                }
                _ => Value::Null,
            }
        }
        "registerConnector" => {
            g.registrations.push(var(vars, "input").clone());
            let c = &app.connector_id;
            let jwks = if app.version.ends_with("+jwks") {
                Value::String(app.jwks.clone())
            } else {
                Value::Null
            };
            json!({"id": c, "connector_state": g.hunt.state(), "jwks": jwks, "connector_user_id": CONNECTOR_USER_ID, "config": {
                "connection": {"host": "127.0.0.1", "vhost": "/", "use_ssl": false, "port": 5672, "user": "guest", "pass": "guest"},
                "listen": format!("listen_{c}"), "listen_routing": format!("listen_routing_{c}"), "listen_exchange": CONNECTOR_EXCHANGE,
                "push": format!("push_{c}"), "push_routing": format!("push_routing_{c}"), "push_exchange": WORKER_EXCHANGE}})
        }
        "pingConnector" => {
            g.pings += 1;
            json!({"id": app.connector_id, "connector_state": g.hunt.ping(vars.get("state"))})
        }
        "workEdit" => {
            let w = g.works.entry(id.clone()).or_default();
            let message = var(vars, "message").as_str().unwrap_or("").to_string();
            let mut out = serde_json::Map::new();
            for op in sub {
                match op.as_str() {
                    "toReceived" => {
                        w.received += 1;
                        w.messages.push(message.clone());
                    }
                    "toProcessed" => {
                        w.processed_calls += 1;
                        if var(vars, "inError").as_bool() == Some(true) {
                            w.in_error = true;
                            w.errors.push(message.clone());
                        } else {
                            w.messages.push(message.clone());
                        }
                    }
                    "ping" => w.pings += 1,
                    "addExpectations" => {
                        w.expected += var(vars, "expectations").as_i64().unwrap_or(0)
                    }
                    _ => {}
                }
                out.insert(op.clone(), json!(id));
            }
            w.update_status();
            Value::Object(out)
        }
        "stixBundlePush" => {
            let bundle: Value = var(vars, "bundle")
                .as_str()
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or(Value::Null);
            let objects = bundle["objects"].as_array().cloned().unwrap_or_default();
            let work_id = var(vars, "work_id").as_str().unwrap_or("").to_string();
            if let Some(w) = g.works.get_mut(&work_id) {
                w.expected += objects.len() as i64;
                w.imported += objects.len() as i64;
                w.update_status();
            }
            let refused = refuse_objects(&objects);
            g.refused_objects.extend(refused);
            g.pushed.entry(work_id).or_default().extend(objects);
            g.api_pushes.push(vars.clone());
            json!(true)
        }
        "playbookStepExecution" => {
            g.playbook_replies.push(vars.clone());
            json!(true)
        }
        // `toProcessed` sets `processed_time` on the real platform.
        "work" => match g.works.get(&id) {
            None => Value::Null,
            Some(w) => json!({
                "id": id,
                "processed_time": (w.processed_calls > 0).then_some("2026-01-01T00:00:00.000Z"),
                "tracking": {"import_expected_number": w.expected},
            }),
        },
        "stix" => visible(&g, &id)
            .map(|e| json!(e.to_string()))
            .unwrap_or(Value::Null),
        "stixCoreObject" => match visible(&g, &id) {
            None => Value::Null,
            Some(e) => {
                json!({"id": id, "standard_id": id, "entity_type": e["type"], "objectMarking": object_marking(&e)})
            }
        },
        "stixCyberObservable" => match visible(&g, &id) {
            None => Value::Null,
            Some(e) => {
                let edges: Vec<Value> = g
                    .based_on
                    .iter()
                    .filter(|(ind, obs)| obs.contains(&id) && !g.deleted.contains(*ind))
                    .filter_map(|(ind, _)| g.entities.get(ind))
                    .map(|i| json!({"node": indicator_node(i)}))
                    .collect();
                json!({"id": id, "standard_id": id, "entity_type": e["type"], "indicators": {"edges": edges}})
            }
        },
        "indicator" => match visible(&g, &id) {
            None => Value::Null,
            Some(e) => {
                let mut node = indicator_node(&e);
                let obs: Vec<Value> = g
                    .based_on
                    .get(&id)
                    .into_iter()
                    .flatten()
                    .filter_map(|o| g.entities.get(o).map(|oe| json!({"node": {"id": o, "standard_id": o, "entity_type": oe["type"]}})))
                    .collect();
                node["observables"] = json!({"edges": obs});
                node
            }
        },
        "tools" => {
            json!({"edges": g.tools.iter().map(|t| json!({"node": {"name": t}})).collect::<Vec<_>>()})
        }
        _ => return None,
    })
}

/// Coerces a request's `variables` against `op`'s variable definitions and the schema
/// (apollo-compiler for the built-in scalars, enums, input objects and required values; the
/// platform's custom scalars checked here). `Err` holds a graphql-js style message.
fn coerce_variables(
    schema: &Valid<Schema>,
    op: &apollo_compiler::executable::Operation,
    variables: Option<&Value>,
) -> Result<Value, String> {
    let map = match variables {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => return Err(format!("`variables` must be an object, got {other}")),
    };
    let bytes: JsonMap = map
        .iter()
        .map(|(k, v)| (k.as_str().into(), v.clone().into()))
        .collect();
    if let Err(e) = apollo_compiler::request::coerce_variable_values(schema, op, &bytes) {
        return Err(format!("Variable coercion failed: {}", e.message()));
    }
    for def in &op.variables {
        if let Some(v) = map.get(def.name.as_str()) {
            check_custom_scalars(schema, &def.ty, v)
                .map_err(|e| format!("Variable \"${}\" got invalid value {v}; {e}", def.name))?;
        }
    }
    Ok(Value::Object(map))
}

/// OpenCTI's custom scalars that the connector may send: `DateTime` is an RFC 3339 date-time,
/// `StixId`/`StixRef`/`ConstraintString` strings, `ConstraintNumber` a number.
fn check_custom_scalars(schema: &Valid<Schema>, ty: &Type, v: &Value) -> Result<(), String> {
    if v.is_null() {
        return Ok(());
    }
    let name = match ty {
        Type::List(inner) | Type::NonNullList(inner) => {
            return match v.as_array() {
                Some(items) => items
                    .iter()
                    .try_for_each(|i| check_custom_scalars(schema, inner, i)),
                None => check_custom_scalars(schema, inner, v),
            };
        }
        Type::Named(n) | Type::NonNullNamed(n) => n,
    };
    match (schema.types.get(name), name.as_str()) {
        (Some(ExtendedType::InputObject(io)), _) => io.fields.iter().try_for_each(|(f, def)| {
            v.get(f.as_str())
                .map_or(Ok(()), |fv| check_custom_scalars(schema, &def.ty, fv))
                .map_err(|e| format!("at \"{f}\": {e}"))
        }),
        (_, "DateTime") => match v.as_str() {
            Some(t) if chrono::DateTime::parse_from_rfc3339(t).is_ok() => Ok(()),
            _ => Err(format!(
                "DateTime cannot represent an invalid date-time: {v}"
            )),
        },
        (_, "StixId" | "StixRef" | "ConstraintString") if !v.is_string() => {
            Err(format!("{name} cannot represent a non-string value: {v}"))
        }
        (_, "ConstraintNumber") if !v.is_number() => Err(format!(
            "ConstraintNumber cannot represent a non-numeric value: {v}"
        )),
        _ => Ok(()),
    }
}

fn indicator_node(i: &Value) -> Value {
    json!({
        "standard_id": i["id"], "name": i["name"], "pattern": i["pattern"], "pattern_type": i.get("pattern_type").cloned().unwrap_or(json!("stix")),
        "x_opencti_detection": i.get("x_opencti_detection").cloned().unwrap_or(json!(false)),
        "revoked": i.get("revoked").cloned().unwrap_or(json!(false)),
        "x_opencti_score": i.get("x_opencti_score").cloned().unwrap_or(json!(50)),
    })
}
