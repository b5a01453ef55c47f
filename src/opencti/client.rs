//! OpenCTI GraphQL client: reqwest + rustls, bearer token, optional CA bundle, timeouts, bounded
//! retries for calls whose loss would leave a work unfinished.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{json, Value};

use super::operations;
use crate::config::{OpenCtiSettings, Secret};

/// Why an API call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Connection refused, DNS, TLS, timeout…: worth retrying.
    #[error("OpenCTI unreachable: {0}")]
    Transport(String),
    /// HTTP status without a GraphQL answer (5xx are transient).
    #[error("OpenCTI answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// The platform refused the operation (validation, permissions, unknown work…).
    #[error("OpenCTI refused {operation}: {message}")]
    GraphQl {
        operation: String,
        code: Option<String>,
        message: String,
    },
    /// The answer could not be read.
    #[error("unreadable OpenCTI answer: {0}")]
    Decode(String),
}

impl ApiError {
    /// Whether repeating the same call may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport(_) => true,
            ApiError::Http { status, .. } => *status >= 500 || *status == 429,
            ApiError::GraphQl { .. } | ApiError::Decode(_) => false,
        }
    }
    /// The platform's answer that a work does not exist (deleted by a user, or expired): the one
    /// error after which nothing can be reported on it. Any other error — an outage, a permission
    /// problem, an internal error — may pass, so the request is kept.
    pub fn is_work_gone(&self) -> bool {
        match self {
            ApiError::GraphQl { code, message, .. } => {
                code.as_deref() == Some("WORK_NOT_ALIVE")
                    || message.contains("WORK_NOT_ALIVE")
                    || message.contains("document_missing_exception")
            }
            _ => false,
        }
    }
    /// A GraphQL validation failure (the platform lacks a field or argument).
    pub fn is_validation(&self) -> bool {
        matches!(self, ApiError::GraphQl { code: Some(c), .. } if c == "GRAPHQL_VALIDATION_FAILED")
            || matches!(self, ApiError::Http { status: 400, body } if body.contains("GRAPHQL_VALIDATION_FAILED"))
    }
}

/// `OPENCTI_CUSTOM_HEADERS` as default headers of every request. Values are marked sensitive so
/// that no debug output of the HTTP stack shows them. The bearer token set per request is not
/// overridden (the configuration refuses an `Authorization` header).
fn custom_headers(pairs: &[(String, Secret)]) -> Result<reqwest::header::HeaderMap, SetupError> {
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let invalid = || SetupError::Header(name.clone());
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let mut value = HeaderValue::from_str(value.expose()).map_err(|_| invalid())?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

/// Why the client could not be built (a configuration problem: fix it and restart).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("OPENCTI_CA_BUNDLE {}: {source}", path.display())]
    CaBundleRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("OPENCTI_CA_BUNDLE {}: not a PEM bundle ({source})", path.display())]
    CaBundlePem {
        path: PathBuf,
        #[source]
        source: reqwest::Error,
    },
    #[error("OPENCTI_CA_BUNDLE {}: no certificate found", path.display())]
    CaBundleEmpty { path: PathBuf },
    /// Refused by the configuration already; here only so that no path can panic on it.
    #[error("OPENCTI_CUSTOM_HEADERS: header `{0}` is not a valid HTTP header")]
    Header(String),
    #[error("cannot build the OpenCTI HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

/// Bounded retry schedule for calls that must not be lost (work reports, result delivery).
#[derive(Debug, Clone, Copy)]
struct RetryPolicy {
    attempts: u32,
    first_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `n` (0-based): exponential, capped.
    fn delay(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n.min(16));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Largest answer body read from OpenCTI.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// A GraphQL client for one platform.
/// What the platform knows of a work ([`OpenCtiClient::work_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkState {
    /// The work was ended (`toProcessed`).
    pub processed: bool,
    /// Imports announced so far (`addExpectations`).
    pub expected: u64,
}

#[derive(Clone)]
pub struct OpenCtiClient {
    http: reqwest::Client,
    endpoint: String,
    token: Secret,
    retry: RetryPolicy,
}

impl std::fmt::Debug for OpenCtiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenCtiClient")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Extra per-request headers (impersonation, draft).
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub applicant_id: Option<String>,
    pub draft_id: Option<String>,
}

impl OpenCtiClient {
    pub fn new(settings: &OpenCtiSettings) -> Result<Self, SetupError> {
        if !settings.ssl_verify {
            tracing::warn!(
                url = %settings.url,
                "TLS certificate verification of OpenCTI is DISABLED (OPENCTI_SSL_VERIFY=false): \
                 anyone on the network path can steal the API token and forge answers; prefer \
                 OPENCTI_CA_BUNDLE"
            );
        }
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("connector-wazuh/", env!("CARGO_PKG_VERSION")))
            .tls_danger_accept_invalid_certs(!settings.ssl_verify);
        if let Some(path) = &settings.ca_bundle {
            let pem = std::fs::read(path).map_err(|source| SetupError::CaBundleRead {
                path: path.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|source| {
                SetupError::CaBundlePem {
                    path: path.clone(),
                    source,
                }
            })?;
            if certs.is_empty() {
                return Err(SetupError::CaBundleEmpty { path: path.clone() });
            }
            builder = builder.tls_certs_merge(certs);
        }
        if !settings.custom_headers.is_empty() {
            builder = builder.default_headers(custom_headers(&settings.custom_headers)?);
        }
        let http = builder.build().map_err(SetupError::Build)?;
        Ok(OpenCtiClient {
            http,
            endpoint: format!("{}/graphql", settings.url.trim_end_matches('/')),
            token: settings.token.clone(),
            retry: RetryPolicy::default(),
        })
    }

    /// One GraphQL call; returns `data`.
    pub async fn query(
        &self,
        operation: &str,
        variables: Value,
        ctx: Option<&RequestContext>,
    ) -> Result<Value, ApiError> {
        let mut req = self
            .http
            .post(&self.endpoint)
            .bearer_auth(self.token.expose())
            .json(&json!({ "query": operation, "variables": variables }));
        if let Some(c) = ctx {
            if let Some(a) = c.applicant_id.as_deref().filter(|s| !s.is_empty()) {
                req = req.header("opencti-applicant-id", a);
            }
            if let Some(d) = c.draft_id.as_deref().filter(|s| !s.is_empty()) {
                req = req.header("opencti-draft-id", d);
            }
        }
        let resp = req
            .send()
            .await
            .map_err(|e| ApiError::Transport(describe(&e)))?;
        let status = resp.status().as_u16();
        let bytes = read_capped(resp, MAX_RESPONSE_BYTES).await?;
        let body: Option<Value> = serde_json::from_slice(&bytes).ok();
        let name = operation_name(operation);
        if let Some(errs) = body
            .as_ref()
            .and_then(|b| b.get("errors"))
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
        {
            let first = &errs[0];
            let message = first
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
                .to_string();
            let code = first
                .pointer("/extensions/code")
                .or_else(|| first.get("name"))
                .and_then(Value::as_str)
                .map(String::from);
            if status >= 500 {
                return Err(ApiError::Http {
                    status,
                    body: message,
                });
            }
            return Err(ApiError::GraphQl {
                operation: name,
                code,
                message,
            });
        }
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).to_string();
            return Err(ApiError::Http { status, body: text });
        }
        match body.and_then(|mut b| b.get_mut("data").map(Value::take)) {
            Some(data) => Ok(data),
            None => Err(ApiError::Decode(format!("{name}: no data in the answer"))),
        }
    }

    /// [`Self::query`] retried on transient errors with capped exponential backoff (bounded).
    pub async fn query_retry(
        &self,
        operation: &str,
        variables: Value,
        ctx: Option<&RequestContext>,
    ) -> Result<Value, ApiError> {
        let mut n = 0;
        loop {
            match self.query(operation, variables.clone(), ctx).await {
                Err(e) if e.is_transient() && n + 1 < self.retry.attempts => {
                    tracing::warn!(operation = %operation_name(operation), error = %e, attempt = n + 1, "OpenCTI call failed, retrying");
                    tokio::time::sleep(self.retry.delay(n)).await;
                    n += 1;
                }
                other => return other,
            }
        }
    }

    /// `about { version }`.
    pub async fn version(&self) -> Result<String, ApiError> {
        let d = self.query(operations::ABOUT, json!({}), None).await?;
        d.pointer("/about/version")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| ApiError::Decode("about.version missing".into()))
    }

    /// Input field names of the platform's `RegisterConnectorInput`.
    pub async fn register_input_fields(&self) -> Result<Vec<String>, ApiError> {
        self.type_fields(
            operations::REGISTER_INPUT_FIELDS,
            "/__type/inputFields",
            "RegisterConnectorInput",
        )
        .await
    }

    /// The fields of the platform's `Connector` type.
    pub async fn connector_fields(&self) -> Result<Vec<String>, ApiError> {
        self.type_fields(operations::CONNECTOR_FIELDS, "/__type/fields", "Connector")
            .await
    }

    async fn type_fields(
        &self,
        op: &str,
        pointer: &str,
        type_name: &str,
    ) -> Result<Vec<String>, ApiError> {
        let d = self.query(op, json!({}), None).await?;
        let fields = d
            .pointer(pointer)
            .and_then(Value::as_array)
            .ok_or_else(|| {
                ApiError::Decode(format!("{type_name} introspection returned no fields"))
            })?;
        Ok(fields
            .iter()
            .filter_map(|f| f.get("name").and_then(Value::as_str).map(String::from))
            .collect())
    }

    pub async fn work_to_received(&self, work_id: &str, message: &str) -> Result<(), ApiError> {
        self.query_retry(
            operations::WORK_TO_RECEIVED,
            json!({ "id": work_id, "message": message }),
            None,
        )
        .await
        .map(drop)
    }

    pub async fn work_to_processed(
        &self,
        work_id: &str,
        message: &str,
        in_error: bool,
    ) -> Result<(), ApiError> {
        self.query_retry(
            operations::WORK_TO_PROCESSED,
            json!({ "id": work_id, "message": message, "inError": in_error }),
            None,
        )
        .await
        .map(drop)
    }

    /// What the platform knows of a work an earlier delivery may have touched (a work it does not
    /// know reads as untouched).
    pub async fn work_state(&self, work_id: &str) -> Result<WorkState, ApiError> {
        let d = self
            .query_retry(operations::READ_WORK, json!({ "id": work_id }), None)
            .await?;
        Ok(WorkState {
            processed: d
                .pointer("/work/processed_time")
                .is_some_and(|v| !v.is_null()),
            expected: d
                .pointer("/work/tracking/import_expected_number")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        })
    }

    pub async fn work_ping(&self, work_id: &str) -> Result<(), ApiError> {
        self.query(operations::WORK_PING, json!({ "id": work_id }), None)
            .await
            .map(drop)
    }

    pub async fn work_add_expectations(&self, work_id: &str, n: usize) -> Result<(), ApiError> {
        self.query_retry(
            operations::WORK_ADD_EXPECTATIONS,
            json!({ "id": work_id, "expectations": n }),
            None,
        )
        .await
        .map(drop)
    }
}

impl OpenCtiClient {
    /// `stixBundlePush` of a serialized bundle, attached to `work_id` when given. Platforms whose
    /// `stixBundlePush` has no `work_id` argument (6.4) answer with a validation error: the older
    /// form is used then, and `legacy` remembers it for the next calls.
    pub async fn push_bundle(
        &self,
        connector_id: &str,
        bundle: &str,
        work_id: Option<&str>,
        legacy: &AtomicBool,
    ) -> Result<(), ApiError> {
        if !legacy.load(Ordering::Relaxed) {
            match self
                .query_retry(
                    operations::STIX_BUNDLE_PUSH,
                    json!({ "connectorId": connector_id, "bundle": bundle, "work_id": work_id }),
                    None,
                )
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.is_validation() => {
                    tracing::info!(
                        "stixBundlePush has no work_id on this platform; using the older form"
                    );
                    legacy.store(true, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        self.query_retry(
            operations::STIX_BUNDLE_PUSH_LEGACY,
            json!({ "connectorId": connector_id, "bundle": bundle }),
            None,
        )
        .await
        .map(drop)
    }
}

/// The answer's body, read chunk by chunk and abandoned as soon as it passes `cap` bytes, so an
/// oversized answer never sits in memory whole.
async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, ApiError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_large(cap));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ApiError::Transport(describe(&e)))?
    {
        if out.len() + chunk.len() > cap {
            return Err(too_large(cap));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn too_large(cap: usize) -> ApiError {
    ApiError::Decode(format!("answer larger than the limit of {cap} bytes"))
}

/// The operation name of a document (`mutation Foo(...)` → `Foo`), for logs.
pub fn operation_name(doc: &str) -> String {
    let t = doc.trim_start();
    let rest = t
        .strip_prefix("query")
        .or_else(|| t.strip_prefix("mutation"))
        .unwrap_or(t)
        .trim_start();
    rest.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_operations() {
        assert_eq!(
            operation_name(operations::WORK_TO_PROCESSED),
            "WorkToProcessed"
        );
        assert_eq!(operation_name(operations::ABOUT), "ConnectorHealthCheck");
    }

    #[test]
    fn retry_delays_are_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0), Duration::from_millis(200));
        assert_eq!(p.delay(1), Duration::from_millis(400));
        assert_eq!(p.delay(30), Duration::from_secs(10));
    }

    #[test]
    fn only_the_missing_work_answer_means_gone() {
        let gql = |code: Option<&str>, message: &str| ApiError::GraphQl {
            operation: "WorkToReceived".into(),
            code: code.map(String::from),
            message: message.into(),
        };
        assert!(gql(Some("WORK_NOT_ALIVE"), "x").is_work_gone());
        assert!(gql(None, "Work is not alive (WORK_NOT_ALIVE)").is_work_gone());
        assert!(gql(Some("DATABASE_ERROR"), "[document_missing_exception] work").is_work_gone());
        assert!(!gql(Some("FORBIDDEN_ACCESS"), "no access").is_work_gone());
        assert!(!gql(Some("INTERNAL_SERVER_ERROR"), "boom").is_work_gone());
        assert!(!ApiError::Http {
            status: 404,
            body: "WORK_NOT_ALIVE".into()
        }
        .is_work_gone());
    }

    /// A server that answers every connection with `body` (chunked, no length announced).
    async fn serve_once(body: Vec<u8>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .await;
            for part in body.chunks(1000) {
                let head = format!("{:x}\r\n", part.len());
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(part).await;
                let _ = s.write_all(b"\r\n").await;
            }
            let _ = s.write_all(b"0\r\n\r\n").await;
        });
        url
    }

    #[tokio::test]
    async fn answers_are_read_up_to_the_cap_only() {
        for (len, ok) in [(5_000, true), (50_000, false)] {
            let url = serve_once(vec![b'x'; len]).await;
            let resp = reqwest::get(&url).await.unwrap();
            match read_capped(resp, 10_000).await {
                Ok(b) => assert!(ok && b.len() == len),
                Err(e) => assert!(!ok && e.to_string().contains("limit of 10000 bytes"), "{e}"),
            }
        }
    }

    #[test]
    fn transient_classification() {
        assert!(ApiError::Http {
            status: 502,
            body: String::new()
        }
        .is_transient());
        assert!(!ApiError::Http {
            status: 400,
            body: String::new()
        }
        .is_transient());
        assert!(ApiError::Transport("x".into()).is_transient());
        assert!(!ApiError::GraphQl {
            operation: "x".into(),
            code: None,
            message: "m".into()
        }
        .is_transient());
    }
}
