//! The Wazuh indexer (OpenSearch) client: one `reqwest` client built once and reused, basic
//! auth, TLS verification on by default (with an optional PEM CA bundle), a request timeout,
//! bounded retries with exponential backoff on 429/5xx/connection errors only, bounded response
//! sizes, and errors that say what is wrong and whether retrying later can help.
//!
//! Requests are `POST <url>/<index>/_search` with `Content-Type: application/json` (never an
//! Elasticsearch vendor media type: the indexer is OpenSearch).
//!
//! Light on the indexer: an enrichment is one plain search, plus one statistics request only
//! when the total exceeds the sample (see `search::envelope`); searches in flight are bounded by
//! an adaptive limit ([`limit`]); and no search outlives the client's interest in it — every
//! search carries the client's timeout in its body (`timeout`, per shard) and in
//! `cancel_after_time_interval` (OpenSearch cancels the whole search task then), and a client
//! that gives up closes the connection, on which OpenSearch cancels the search too. Cancelling
//! through the tasks API would need a cluster privilege a read-only role does not have.
//!
//! Answers are read by `response` (the search answer: statistics, the sample as text) and
//! `facts` (every alert's time, agent and rule, folded into the statistics as the answer
//! streams in through `stream`).

pub mod detect;
mod facts;
pub mod limit;
mod response;
mod stream;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::alert::SearchResult;
use crate::config::IndexerSettings;
use crate::knowledge::stats;
use crate::schema::{wcs, Schema};
use crate::search::envelope::{duration_value, SearchRequest, StateRequest, MAX_FACTS_FETCH};

pub use response::MAX_SOURCE_BYTES;

/// Largest response body read (bytes); larger answers are refused rather than buffered.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;
/// Longest error detail quoted from the indexer.
const MAX_REASON_CHARS: usize = 1000;
/// First retry delay; doubled each time, capped at [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// What went wrong talking to the indexer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexerError {
    #[error("indexer settings are invalid: {0} (permanent: fix the configuration)")]
    Config(String),
    #[error("the indexer rejected the credentials (HTTP 401): check WAZUH_OPENSEARCH_USERNAME/PASSWORD (permanent)")]
    Credentials,
    #[error("the indexer user lacks permissions (HTTP 403): {0} (permanent: grant read access to the alert indices)")]
    Permissions(String),
    #[error("the indexer rejected the query (HTTP 400): {0} (permanent)")]
    BadRequest(String),
    #[error("not found on the indexer (HTTP 404): {0} (permanent: check WAZUH_OPENSEARCH_URL and WAZUH_OPENSEARCH_INDEX)")]
    NotFound(String),
    #[error("no index matches {0:?} (permanent: check WAZUH_OPENSEARCH_INDEX)")]
    NoIndex(String),
    #[error("TLS error talking to the indexer: {0} (permanent: set WAZUH_OPENSEARCH_CA_BUNDLE to the indexer's CA, or WAZUH_OPENSEARCH_VERIFY_TLS=false at your own risk)")]
    Tls(String),
    #[error("the indexer did not answer within {0:?} (transient: retry later, or raise WAZUH_OPENSEARCH_TIMEOUT)")]
    Timeout(Duration),
    #[error("cannot connect to the indexer: {0} (transient: retry later)")]
    Connection(String),
    #[error("the indexer failed (HTTP {status}): {reason} (transient: retry later)")]
    Server { status: u16, reason: String },
    #[error("the search timed out on the indexer (timed_out: true) (transient: retry later, or narrow WAZUH_OPENSEARCH_SEARCH_AFTER)")]
    SearchTimedOut,
    #[error("unexpected HTTP {status} from the indexer: {reason} (permanent)")]
    Http { status: u16, reason: String },
    #[error("the indexer's answer is not valid search JSON: {0} (permanent: is WAZUH_OPENSEARCH_URL the indexer, not the dashboard?)")]
    InvalidResponse(String),
    #[error(
        "the indexer's answer is larger than {0} bytes (permanent: lower WAZUH_OPENSEARCH_LIMIT)"
    )]
    TooLarge(usize),
}

impl IndexerError {
    /// True when the same request may succeed later (retry the enrichment later).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            IndexerError::Timeout(_)
                | IndexerError::Connection(_)
                | IndexerError::Server { .. }
                | IndexerError::SearchTimedOut
        )
    }
}

/// What [`IndexerClient::check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Shards searched for the index pattern (0 = no index matches).
    pub shards: u64,
    /// Documents in the matching indices.
    pub documents: u64,
}

/// A reusable client for one indexer. Clones share the connection pool and the in-flight limit.
#[derive(Clone)]
pub struct IndexerClient {
    http: reqwest::Client,
    /// For answers of up to 10,000 alerts' facts: a connection that is not kept. The HTTP
    /// client's read buffer grows to ~400 KiB while such an answer streams in and stays that
    /// size for as long as the connection is pooled (the client's read buffers were a third of
    /// the peak heap with four such requests in flight). A fresh connection (and TLS
    /// handshake) costs little next to fetching thousands of alerts.
    http_large: reqwest::Client,
    base: String,
    username: String,
    password: crate::config::Secret,
    timeout: Duration,
    retries: u32,
    limiter: Arc<limit::Limiter>,
    max_facts: u64,
    /// The schema searches are written for (requests are translated and documents normalised
    /// for 5.x; see `crate::schema::wcs`).
    schema: Schema,
}

impl std::fmt::Debug for IndexerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexerClient")
            .field("base", &self.base)
            .field("username", &self.username)
            .field("password", &self.password)
            .finish_non_exhaustive()
    }
}

/// The certificates of `WAZUH_OPENSEARCH_CA_BUNDLE`; an unreadable or empty bundle is a
/// configuration error.
fn read_ca_bundle(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, IndexerError> {
    let pem = std::fs::read(path).map_err(|e| {
        IndexerError::Config(format!(
            "WAZUH_OPENSEARCH_CA_BUNDLE {}: {e}",
            path.display()
        ))
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        IndexerError::Config(format!(
            "WAZUH_OPENSEARCH_CA_BUNDLE {} is not a PEM bundle: {e}",
            path.display()
        ))
    })?;
    if certs.is_empty() {
        return Err(IndexerError::Config(format!(
            "WAZUH_OPENSEARCH_CA_BUNDLE {} holds no certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// Text of an error and all its sources.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_REASON_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX_REASON_CHARS).collect();
        t.push('…');
        t
    }
}

/// OpenSearch's own explanation from an error body (`error.root_cause[0].reason`,
/// `error.reason`, `error.caused_by.reason`), else the body text.
pub fn error_reason(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return truncate(text.trim());
    };
    let err = &v["error"];
    let mut parts: Vec<String> = Vec::new();
    let mut push = |x: &Value| {
        if let Some(r) = x.get("reason").and_then(Value::as_str) {
            let kind = x.get("type").and_then(Value::as_str).unwrap_or("error");
            let p = format!("{kind}: {r}");
            if !parts.contains(&p) {
                parts.push(p);
            }
        }
    };
    if let Some(rc) = err.get("root_cause").and_then(Value::as_array) {
        rc.iter().take(3).for_each(&mut push);
    }
    push(err);
    let mut cause = err.get("caused_by");
    let mut depth = 0;
    while let Some(c) = cause {
        push(c);
        cause = c.get("caused_by");
        depth += 1;
        if depth > 5 {
            break;
        }
    }
    if parts.is_empty() {
        if let Some(s) = err.as_str() {
            return truncate(s);
        }
        return truncate(text.trim());
    }
    truncate(&parts.join("; "))
}

/// Parses a `_search` response body into a [`SearchResult`] (public for benchmarks and the
/// The error of a non-2xx answer.
fn status_error(status: u16, bytes: &[u8]) -> IndexerError {
    match status {
        401 => IndexerError::Credentials,
        403 => IndexerError::Permissions(error_reason(bytes)),
        400 => IndexerError::BadRequest(error_reason(bytes)),
        404 => IndexerError::NotFound(error_reason(bytes)),
        429 | 500..=599 => IndexerError::Server {
            status,
            reason: error_reason(bytes),
        },
        _ => IndexerError::Http {
            status,
            reason: error_reason(bytes),
        },
    }
}

/// `check` tooling). `timed_out: true` is an error; shard failures are logged and kept.
pub fn parse_search_response(bytes: &[u8], query: Value) -> Result<SearchResult, IndexerError> {
    parse_search(bytes, query).map(|(r, _)| r)
}

/// [`parse_search_response`], plus whether the lean statistics overflowed (see
/// `search::envelope::aggregations`).
fn parse_search(bytes: &[u8], query: Value) -> Result<(SearchResult, bool), IndexerError> {
    let resp: response::SearchResponse<'_> = serde_json::from_slice(bytes)
        .map_err(|e| IndexerError::InvalidResponse(truncate(&e.to_string())))?;
    if resp.timed_out {
        return Err(IndexerError::SearchTimedOut);
    }
    for f in &resp.shards.failures {
        tracing::error!(?f, "query failure on a shard");
    }
    Ok(response::to_result(resp, query))
}

/// The readiness probe's body: a query that matches nothing, no hits, no total, the client's
/// timeout.
pub fn probe_body(timeout: Duration) -> Value {
    serde_json::json!({
        "size": 0,
        "track_total_hits": false,
        "timeout": duration_value(timeout),
        "query": {"match_none": {}}
    })
}

impl IndexerClient {
    /// Builds the client (TLS setup, timeouts). Fails on an unreadable CA bundle or a bad URL.
    pub fn new(settings: &IndexerSettings) -> Result<Self, IndexerError> {
        let url = url::Url::parse(&settings.url)
            .map_err(|e| IndexerError::Config(format!("WAZUH_OPENSEARCH_URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(IndexerError::Config(
                "WAZUH_OPENSEARCH_URL must be http(s)".into(),
            ));
        }
        let certs = match &settings.ca_bundle {
            Some(path) => Some(read_ca_bundle(path)?),
            None => None,
        };
        if !settings.verify_tls {
            tracing::warn!(
                url = %settings.url,
                "TLS certificate verification of the Wazuh indexer is DISABLED \
                 (WAZUH_OPENSEARCH_VERIFY_TLS=false): anyone on the network path can read \
                 the credentials and forge results; prefer WAZUH_OPENSEARCH_CA_BUNDLE"
            );
        }
        let build = |keep_idle: bool| {
            let mut b = reqwest::Client::builder()
                .timeout(settings.timeout)
                .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
                .user_agent(concat!("connector-wazuh/", env!("CARGO_PKG_VERSION")));
            if let Some(certs) = &certs {
                // The bundle is the trust root for the indexer (usually its own CA).
                b = b.tls_certs_only(certs.clone());
            }
            if !settings.verify_tls {
                b = b.danger_accept_invalid_certs(true);
            }
            if !keep_idle {
                b = b.pool_max_idle_per_host(0);
            }
            b.build().map_err(|e| IndexerError::Config(error_chain(&e)))
        };
        let http = build(true)?;
        let http_large = build(false)?;
        Ok(IndexerClient {
            http,
            http_large,
            base: settings.url.trim_end_matches('/').to_string(),
            username: settings.username.clone(),
            password: settings.password.clone(),
            timeout: settings.timeout,
            retries: settings.retries,
            limiter: Arc::new(limit::Limiter::new(limit::MAX_IN_FLIGHT)),
            max_facts: MAX_FACTS_FETCH,
            schema: Schema::V4,
        })
    }

    /// Up to how many matching alerts the statistics come from the alerts' fields rather than
    /// from aggregations (default `MAX_FACTS_FETCH`; lower it to exercise the aggregations on
    /// a small index).
    pub fn with_max_facts_fetch(mut self, n: u64) -> Self {
        self.max_facts = n.min(MAX_FACTS_FETCH);
        self
    }

    /// Searches read the indices of `schema` (default 4.x).
    pub fn with_schema(mut self, schema: Schema) -> Self {
        self.schema = schema;
        self
    }

    pub fn schema(&self) -> Schema {
        self.schema
    }

    /// A search request in the client's schema: under 5.x the body is translated to WCS field
    /// names and every returned `_source` gets the alert envelope the parser reads.
    async fn send_search(&self, path: &str, body: &Value) -> Result<Vec<u8>, IndexerError> {
        if self.schema == Schema::V4 {
            return self.send(path, Some(body)).await;
        }
        let bytes = self.send(path, Some(&wcs::request(body))).await?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| IndexerError::InvalidResponse(truncate(&e.to_string())))?;
        drop(bytes);
        serde_json::to_vec(&wcs::response(v))
            .map_err(|e| IndexerError::InvalidResponse(truncate(&e.to_string())))
    }

    /// The adaptive in-flight limit shared by this client and its clones.
    pub fn limiter(&self) -> &limit::Limiter {
        &self.limiter
    }

    /// `POST <index>/_search` with the client's timeout as `cancel_after_time_interval`, so
    /// the indexer cancels a search the client no longer waits for.
    fn search_path(&self, index: &str, extra: &str) -> String {
        format!(
            "{index}/_search?cancel_after_time_interval={}{extra}",
            duration_value(self.timeout)
        )
    }

    fn classify(&self, e: &reqwest::Error) -> IndexerError {
        let chain = error_chain(e);
        let lower = chain.to_ascii_lowercase();
        if e.is_timeout() {
            IndexerError::Timeout(self.timeout)
        } else if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
            || lower.contains("unknownissuer")
        {
            IndexerError::Tls(truncate(&chain))
        } else if e.is_builder() {
            IndexerError::Config(truncate(&chain))
        } else {
            IndexerError::Connection(truncate(&chain))
        }
    }

    /// Reads a body up to [`MAX_RESPONSE_BYTES`].
    async fn read_body(&self, mut resp: reqwest::Response) -> Result<Vec<u8>, IndexerError> {
        // Sized once when the length is announced: growing by doubling would briefly hold up
        // to twice a multi-megabyte answer.
        let announced = resp.content_length().unwrap_or(0) as usize;
        let mut body = Vec::with_capacity(announced.min(MAX_RESPONSE_BYTES));
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    if body.len() + c.len() > MAX_RESPONSE_BYTES {
                        return Err(IndexerError::TooLarge(MAX_RESPONSE_BYTES));
                    }
                    body.extend_from_slice(&c);
                }
                Ok(None) => return Ok(body),
                Err(e) => return Err(self.classify(&e)),
            }
        }
    }

    /// One request with retries, each attempt holding an in-flight permit; returns the 2xx
    /// body.
    async fn send(&self, path: &str, body: Option<&Value>) -> Result<Vec<u8>, IndexerError> {
        self.with_retries(|| self.attempt(path, body)).await
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent; each try
    /// holds an in-flight permit and reports its latency to the adaptive limit.
    async fn with_retries<T, F, Fut>(&self, attempt_once: F) -> Result<T, IndexerError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, IndexerError>>,
    {
        let mut delay = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            let mut permit = self.limiter.acquire().await;
            let started = Instant::now();
            let outcome = attempt_once().await;
            permit.report(match &outcome {
                Err(e) if e.is_transient() => limit::Signal::Overloaded,
                _ => limit::latency_signal(started.elapsed(), self.timeout / 4),
            });
            drop(permit);
            match outcome {
                Err(e) if e.is_transient() && attempt < self.retries => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, retries = self.retries, "indexer request failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_BACKOFF);
                }
                other => return other,
            }
        }
    }

    /// The HTTP request of `path` (POST with `body`, else GET), authenticated.
    fn request(&self, path: &str, body: Option<&Value>) -> reqwest::RequestBuilder {
        self.request_on(&self.http, path, body)
    }

    /// [`Self::request`] on the given client.
    fn request_on(
        &self,
        http: &reqwest::Client,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::RequestBuilder {
        let url = format!("{}/{}", self.base, path);
        match body {
            Some(b) => http.post(&url).json(b),
            None => http.get(&url),
        }
        .basic_auth(&self.username, Some(self.password.expose()))
        .header(reqwest::header::ACCEPT, "application/json")
    }

    /// One HTTP request, no retry, no permit.
    async fn attempt(&self, path: &str, body: Option<&Value>) -> Result<Vec<u8>, IndexerError> {
        let resp = self
            .request(path, body)
            .send()
            .await
            .map_err(|e| self.classify(&e))?;
        let status = resp.status().as_u16();
        let bytes = self.read_body(resp).await?;
        match status {
            200..=299 => Ok(bytes),
            _ => Err(status_error(status, &bytes)),
        }
    }

    /// Runs a search: the newest alerts and the exact total (one plain search), then exact
    /// per-agent and per-rule statistics — computed from the alerts when all of them are in the
    /// sample, else from one aggregation request — and the vulnerability state lookup when the
    /// request has one.
    pub async fn search(&self, req: &SearchRequest) -> Result<SearchResult, IndexerError> {
        let path = self.search_path(&req.index, "");
        let bytes = self.send_search(&path, &req.body).await?;
        let (mut result, _) = parse_search(&bytes, req.query.clone())?;
        drop(bytes);
        if result.total > 0 && result.total <= result.alerts.len() as u64 {
            // Every matching alert is in hand: its statistics cost the indexer nothing.
            let (agents, rules) = stats::from_sample(&result.alerts);
            result.agents = agents;
            result.rules = rules;
        } else if result.total > 0 {
            self.add_statistics(req, &path, &mut result).await?;
        }
        if let Some(state) = &req.state {
            // The alert results stand on their own: a failing state lookup is logged and
            // leaves `vulnerable_agents` empty rather than losing the sightings.
            match self.state_search(state).await {
                Ok((st, took)) => {
                    result.took_ms += took;
                    result.vulnerable_agents = Some(st);
                }
                Err(e) => tracing::error!(
                    error = %e,
                    index = %state.index,
                    "vulnerability state lookup failed"
                ),
            }
        }
        Ok(result)
    }

    /// A search whose body is the caller's (the detection pages of continuous hunting): the
    /// answer as JSON, with the timeout, retries, in-flight limit and 5.x translation of every
    /// search.
    pub async fn search_raw(&self, index: &str, body: &Value) -> Result<Value, IndexerError> {
        let bytes = self.send_search(&self.search_path(index, ""), body).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| IndexerError::InvalidResponse(truncate(&e.to_string())))
    }

    /// The statistics of a search whose total exceeds its sample: one more request — the
    /// few fields they need of every matching alert when there are at most
    /// [`Self::with_max_facts_fetch`] of them, else the lean aggregation tree — and, rarely (the tree overflowed:
    /// more than 50 rules on one agent, or more than 1,000 agents), one more that computes
    /// them separately so they stay exact.
    async fn add_statistics(
        &self,
        req: &SearchRequest,
        path: &str,
        result: &mut SearchResult,
    ) -> Result<(), IndexerError> {
        if result.total <= self.max_facts {
            let facts_path = format!("{path}&filter_path=took,timed_out,hits.hits._source");
            let resp: facts::FactsResponse = if self.schema == Schema::V4 {
                // Up to 10,000 alerts' facts (~3.4 MB of JSON): folded as they arrive, never
                // held whole — what several such requests in flight used to cost in memory.
                self.send_folded(&facts_path, &req.facts_body(result.total))
                    .await?
            } else {
                let bytes = self
                    .send_search(&facts_path, &req.facts_body(result.total))
                    .await?;
                serde_json::from_slice(&bytes)
                    .map_err(|e| IndexerError::InvalidResponse(truncate(&e.to_string())))?
            };
            if resp.timed_out {
                return Err(IndexerError::SearchTimedOut);
            }
            let took = resp.took;
            let fold = resp.hits.hits;
            let (fetched, unusable) = (fold.stats.alerts(), fold.unusable);
            // New alerts may have arrived since the count; an alert without a time cannot be
            // placed. Either way the aggregations below give the exact figures.
            if unusable == 0 && fetched == result.total {
                let (agents, rules) = stats::in_indexer_form(fold.stats.finish());
                result.agents = agents;
                result.rules = rules;
                result.took_ms += took;
                return Ok(());
            }
            tracing::info!(
                total = result.total,
                fetched,
                unusable,
                "the fetched alerts do not cover the total; asking for aggregations"
            );
        }
        let bytes = self.send_search(path, &req.stats_body()).await?;
        let (mut stats, incomplete) = parse_search(&bytes, Value::Null)?;
        drop(bytes);
        if incomplete {
            tracing::info!(
                total = result.total,
                "lean statistics overflowed; asking the indexer for exact per-agent and per-rule statistics"
            );
            let bytes = self.send_search(path, &req.exact_stats_body()).await?;
            let (exact, _) = parse_search(&bytes, Value::Null)?;
            stats.took_ms += exact.took_ms;
            stats.agents = exact.agents;
            stats.rules = exact.rules;
        }
        result.agents = stats.agents;
        result.rules = stats.rules;
        result.took_ms += stats.took_ms;
        Ok(())
    }

    async fn state_search(
        &self,
        state: &StateRequest,
    ) -> Result<(crate::alert::VulnerabilityState, u64), IndexerError> {
        let path = self.search_path(&state.index, "&ignore_unavailable=true");
        // Wazuh 5's state indices keep the agent under `wazuh.agent.*` too.
        let bytes = self.send_search(&path, &state.body).await?;
        let resp: response::StateResponse = serde_json::from_slice(&bytes)
            .map_err(|e| IndexerError::InvalidResponse(truncate(&e.to_string())))?;
        if resp.timed_out {
            return Err(IndexerError::SearchTimedOut);
        }
        if resp.shards.total == 0 {
            // "No index" must not read as "no vulnerable agent".
            return Err(IndexerError::NoIndex(state.index.clone()));
        }
        let took = resp.took;
        Ok((response::to_state(resp), took))
    }

    /// Reachability, credentials, permissions and index existence, with the number of
    /// documents (`size: 0` search with an exact total: it counts every document, so it is for
    /// the one-off `check` command; the periodic readiness check is [`Self::probe`]).
    pub async fn check(&self, index: &str) -> Result<CheckReport, IndexerError> {
        let body = serde_json::json!({
            "size": 0,
            "track_total_hits": true,
            "timeout": duration_value(self.timeout),
            "query": {"match_all": {}}
        });
        let bytes = self.send(&self.search_path(index, ""), Some(&body)).await?;
        let resp: response::SearchResponse<'_> = serde_json::from_slice(&bytes)
            .map_err(|e| IndexerError::InvalidResponse(truncate(&e.to_string())))?;
        if resp.shards.total == 0 {
            return Err(IndexerError::NoIndex(index.to_string()));
        }
        Ok(CheckReport {
            shards: resp.shards.total,
            documents: resp.hits.total.map(|t| t.value).unwrap_or(0),
        })
    }

    /// The periodic readiness probe: reachability, credentials, read permission and index
    /// existence, scanning nothing (a `match_none` query: no document is visited, no total,
    /// no hits; the shard count still says whether the index exists). One attempt, outside
    /// the in-flight limit: it reports the indexer as it is now, and must not wait behind the
    /// searches it is checking on. Returns the shard count.
    pub async fn probe(&self, index: &str) -> Result<u64, IndexerError> {
        let body = probe_body(self.timeout);
        let bytes = self
            .attempt(&self.search_path(index, ""), Some(&body))
            .await?;
        let resp: response::SearchResponse<'_> = serde_json::from_slice(&bytes)
            .map_err(|e| IndexerError::InvalidResponse(truncate(&e.to_string())))?;
        if resp.shards.total == 0 {
            return Err(IndexerError::NoIndex(index.to_string()));
        }
        Ok(resp.shards.total)
    }

    /// `GET <index>/_field_caps` for `patterns`: the concrete fields the indices hold under
    /// field patterns (continuous hunting looks values up field by field).
    pub async fn field_caps(
        &self,
        index: &str,
        patterns: &[String],
    ) -> Result<Value, IndexerError> {
        let fields: String =
            url::form_urlencoded::byte_serialize(patterns.join(",").as_bytes()).collect();
        let path = format!(
            "{index}/_field_caps?fields={fields}&ignore_unavailable=true&allow_no_indices=true"
        );
        let bytes = self.send(&path, None).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| IndexerError::InvalidResponse(truncate(&e.to_string())))
    }

    /// Is the indexer reachable with these credentials? (`GET /`, cluster banner).
    pub async fn ping(&self) -> Result<(), IndexerError> {
        self.send("", None).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_search_asks_the_indexer_to_stop_when_the_client_would_give_up() {
        let s = IndexerSettings {
            timeout: Duration::from_millis(2_500),
            ..crate::pipeline::inspect::tests::settings().indexer
        };
        let c = IndexerClient::new(&s).unwrap();
        assert_eq!(
            c.search_path("wazuh-alerts-*", ""),
            "wazuh-alerts-*/_search?cancel_after_time_interval=2500ms"
        );
        assert_eq!(probe_body(s.timeout)["timeout"], "2500ms");
        assert_eq!(probe_body(s.timeout)["track_total_hits"], false);
    }
}
