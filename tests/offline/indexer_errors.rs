//! Indexer failure modes against small local HTTP servers: bounded retries on 5xx, no retry
//! on 4xx, timeouts, garbage JSON and `timed_out: true` give clear, classified errors.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::any;
use axum::Router;
use connector_wazuh::config::{IndexerSettings, Secret};
use connector_wazuh::indexer::{IndexerClient, IndexerError};

fn settings(url: &str) -> IndexerSettings {
    IndexerSettings {
        username: "u".into(),
        password: Secret::new("p"),
        timeout: Duration::from_millis(800),
        retries: 2,
        exclude_match: vec![],
        ..crate::testkit::settings::indexer(url)
    }
}

/// Serves `reply` for every request and counts the requests.
async fn serve<F, R>(reply: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn() -> R + Clone + Send + Sync + 'static,
    R: std::future::Future<Output = axum::response::Response> + Send + 'static,
{
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = Router::new().fallback(any(move || {
        h.fetch_add(1, Ordering::SeqCst);
        reply()
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, hits)
}

#[tokio::test]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let (url, hits) = serve(|| async {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "{\"error\":\"cluster_block_exception\"}",
        )
            .into_response()
    })
    .await;
    let e = IndexerClient::new(&settings(&url))
        .unwrap()
        .check("wazuh-alerts-*")
        .await
        .unwrap_err();
    assert!(matches!(e, IndexerError::Server { status: 503, .. }), "{e}");
    assert!(e.is_transient() && e.to_string().contains("transient"));
    assert_eq!(hits.load(Ordering::SeqCst), 3, "1 try + 2 retries");
}

#[tokio::test]
async fn client_errors_are_not_retried_and_show_the_reason() {
    let (url, hits) = serve(|| async {
        (
            StatusCode::BAD_REQUEST,
            r#"{"error":{"root_cause":[{"type":"query_shard_exception","reason":"[regexp] queries cannot be executed when 'search.allow_expensive_queries' is set to false."}],"type":"search_phase_execution_exception","reason":"all shards failed"},"status":400}"#,
        )
            .into_response()
    })
    .await;
    let e = IndexerClient::new(&settings(&url))
        .unwrap()
        .check("wazuh-alerts-*")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("allow_expensive_queries"), "{e}");
    assert!(!e.is_transient());
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let (url, _) = serve(|| async {
        (StatusCode::FORBIDDEN, r#"{"error":{"type":"security_exception","reason":"no permissions for [indices:data/read/search]"}}"#).into_response()
    })
    .await;
    let e = IndexerClient::new(&settings(&url))
        .unwrap()
        .check("wazuh-alerts-*")
        .await
        .unwrap_err();
    assert!(matches!(e, IndexerError::Permissions(_)), "{e}");
    assert!(e.to_string().contains("no permissions for"), "{e}");
}

#[tokio::test]
async fn timeouts_and_garbage_are_reported() {
    let (url, hits) = serve(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "{}".into_response()
    })
    .await;
    let s = IndexerSettings {
        retries: 0,
        ..settings(&url)
    };
    let e = IndexerClient::new(&s)
        .unwrap()
        .check("wazuh-alerts-*")
        .await
        .unwrap_err();
    assert!(matches!(e, IndexerError::Timeout(_)), "{e}");
    assert!(e.to_string().contains("WAZUH_OPENSEARCH_TIMEOUT") && e.is_transient());
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let (url, _) = serve(|| async { "<html>Wazuh dashboard</html>".into_response() }).await;
    let e = IndexerClient::new(&settings(&url))
        .unwrap()
        .check("wazuh-alerts-*")
        .await
        .unwrap_err();
    assert!(matches!(e, IndexerError::InvalidResponse(_)), "{e}");
    assert!(e.to_string().contains("not valid search JSON"), "{e}");

    let body = r#"{"took":5,"timed_out":true,"_shards":{"total":1,"failed":0},"hits":{"total":{"value":0},"hits":[]}}"#;
    let e = connector_wazuh::indexer::parse_search_response(body.as_bytes(), serde_json::json!({}))
        .unwrap_err();
    assert_eq!(e, IndexerError::SearchTimedOut);
}

#[test]
fn shard_failures_are_kept_and_odd_hits_skipped() {
    let big = "x".repeat(connector_wazuh::indexer::MAX_SOURCE_BYTES + 1);
    let body = serde_json::json!({
        "took": 3, "timed_out": false,
        "_shards": {"total": 2, "failed": 1, "failures": [{"index": "wazuh-alerts-4.x-2026.11.27", "reason": {"type": "too_many_clauses", "reason": "maxClauseCount is set to 1024"}}]},
        "hits": {"total": {"value": 3}, "hits": [
            {"_id": "a", "_index": "i", "_source": {"@timestamp": "2026-11-27T10:00:00.000Z", "rule": {"id": "1"}, "agent": {"id": "001"}}},
            {"_id": "b", "_index": "i", "_source": {"rule": {"id": "2"}}},
            {"_id": "c", "_index": "i", "_source": {"@timestamp": "2026-11-27T10:00:00.000Z", "full_log": big}}
        ]}
    });
    let r = connector_wazuh::indexer::parse_search_response(
        &serde_json::to_vec(&body).unwrap(),
        serde_json::json!({}),
    )
    .unwrap();
    assert_eq!(r.total, 3);
    assert_eq!(r.alerts.len(), 1);
    assert_eq!(r.alerts[0].doc_id, "a");
    assert_eq!(
        r.shard_failures,
        vec!["wazuh-alerts-4.x-2026.11.27: too_many_clauses: maxClauseCount is set to 1024"]
    );
}

#[tokio::test]
async fn requests_are_plain_json_posts_with_basic_auth() {
    use std::sync::Mutex;
    /// (method, uri, content-type, authorization) of each request.
    type Seen = Vec<(String, String, String, String)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let s2 = seen.clone();
    let app = Router::new().fallback(any(
        move |method: axum::http::Method, uri: axum::http::Uri, headers: axum::http::HeaderMap| {
            let s2 = s2.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                s2.lock().unwrap().push((
                    method.to_string(),
                    uri.to_string(),
                    h("content-type"),
                    h("authorization"),
                ));
                r#"{"took":1,"timed_out":false,"_shards":{"total":1,"failed":0},"hits":{"total":{"value":0},"hits":[]}}"#
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    IndexerClient::new(&settings(&url))
        .unwrap()
        .check("wazuh-alerts-*")
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (method, uri, ct, auth) = &seen[0];
    assert_eq!(method, "POST");
    let (path, query) = uri.split_once('?').unwrap_or((uri.as_str(), ""));
    assert_eq!(path, "/wazuh-alerts-*/_search");
    assert!(
        query.starts_with("cancel_after_time_interval="),
        "the indexer drops a search the client gave up on: {uri}"
    );
    assert_eq!(
        ct, "application/json",
        "never an Elasticsearch vendor media type"
    );
    assert_eq!(auth, "Basic dTpw", "basic auth u:p");
}
