//! The API listen protocol (`CONNECTOR_LISTEN_PROTOCOL=API`, OpenCTI 6.6 and later): instead of
//! consuming the listen queue, the connector registers a `listen_callback_uri` and serves it;
//! OpenCTI's worker takes each request from the listen queue and POSTs its body there with the
//! connector user's token as bearer, acking the queue message only on a 202 answer (any other
//! answer or a connection error: the worker waits 10–30 s and requeues it).
//!
//! Delivery guarantees therefore differ from AMQP listening: a request is retried by the platform
//! only until the connector answers 202. Once accepted it lives in this process alone; a crash
//! loses it (its work stays "in progress" in OpenCTI until it times out) — there is no
//! redelivery. The connector accepts a request only when a processing slot
//! (`CONNECTOR_CONCURRENCY`) is free and answers 503 otherwise, so a saturated connector leaves
//! requests in the platform's queue rather than in its memory. A transient failure is retried
//! here, in-process, up to `CONNECTOR_MAX_ATTEMPTS`; a request still held when the connector
//! stops has its work ended in error saying so, since nothing would deliver it again.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_lite::FutureExt;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::{handler, Shared};
use crate::amqp::{self, Publisher};
use crate::config::{Secret, Settings};
use crate::opencti::jwt::{self, Jwks};
use crate::opencti::message::scan_work_id;
use crate::opencti::register::Registration;
use crate::ops::Health;

/// How long a platform worker is asked to wait before retrying a refused request (it waits
/// 10–30 s whatever the answer says; the header helps any other client).
const RETRY_AFTER_S: &str = "10";

/// Pause before an in-process retry of a request that failed transiently (as a requeue does).
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// Whether an `Authorization` header carries the expected bearer token. The comparison does not
/// stop at the first differing byte, so its time does not tell how much of a guess was right.
pub fn bearer_matches(authorization: Option<&str>, token: &str) -> bool {
    let Some(value) = authorization else {
        return false;
    };
    let mut parts = value.split_whitespace();
    let (Some(scheme), Some(given), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return false;
    }
    let (a, b) = (given.as_bytes(), token.as_bytes());
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

/// Whether a callback is from the platform: the connector user's token (what OpenCTI's worker
/// sends up to 6.x), or a JWT signed by a key of the platform's `jwks` (OpenCTI 7).
fn authorized(authorization: Option<&str>, token: &str, jwks: Option<&Jwks>) -> bool {
    if bearer_matches(authorization, token) {
        return true;
    }
    let bearer = authorization.and_then(|a| {
        let (scheme, rest) = a.trim().split_once(char::is_whitespace)?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    });
    let (Some(jwks), Some(bearer)) = (jwks, bearer) else {
        return false;
    };
    match jwt::verify(bearer, jwks, chrono::Utc::now().timestamp()) {
        Ok(()) => true,
        Err(why) => {
            tracing::debug!(reason = %why, "callback bearer is not a valid platform JWT");
            false
        }
    }
}

#[derive(Clone)]
struct CallbackState {
    shared: Arc<Shared>,
    jwks: Option<Arc<Jwks>>,
    token: Secret,
    slots: Arc<Semaphore>,
    max_bytes: usize,
}

fn refuse(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

/// The callback routes (without a listener): `POST <path>` and pycti's `GET /health`.
fn router(state: CallbackState, path: &str) -> Router {
    Router::new()
        .route(path, post(callback))
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .with_state(state)
}

async fn callback(State(st): State<CallbackState>, req: Request<Body>) -> Response {
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !authorized(auth, st.token.expose(), st.jwks.as_deref()) {
        // Never log the header: it may be a real token of another user.
        tracing::warn!(
            with_header = auth.is_some(),
            "listen callback refused: wrong or missing bearer token"
        );
        st.shared.metrics.listen_callback("unauthorized");
        return refuse(StatusCode::UNAUTHORIZED, "Invalid credentials");
    }
    if declared_length(req.headers()).is_some_and(|n| n > st.max_bytes) {
        st.shared.metrics.listen_callback("too_large");
        return too_large(st.max_bytes);
    }
    let Ok(permit) = st.slots.clone().try_acquire_owned() else {
        tracing::debug!("listen callback refused with 503: every processing slot is busy");
        st.shared.metrics.listen_callback("busy");
        let mut r = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "All processing slots are busy; retry later",
        );
        if let Ok(v) = RETRY_AFTER_S.parse() {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    };
    let body = match axum::body::to_bytes(req.into_body(), st.max_bytes).await {
        Ok(b) => b,
        Err(e) => {
            // Either over the limit (no Content-Length) or the client went away mid-body.
            let over = e.into_inner().is::<http_body_util::LengthLimitError>();
            return if over {
                st.shared.metrics.listen_callback("too_large");
                too_large(st.max_bytes)
            } else {
                st.shared.metrics.listen_callback("unreadable");
                refuse(StatusCode::BAD_REQUEST, "Unreadable request body")
            };
        }
    };
    st.shared.metrics.listen_callback("accepted");
    let shared = st.shared.clone();
    tokio::spawn(async move {
        process(&shared, &body).await;
        drop(permit);
    });
    (
        StatusCode::ACCEPTED,
        Json(json!({"message": "Message successfully received"})),
    )
        .into_response()
}

fn declared_length(h: &HeaderMap) -> Option<usize> {
    h.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn too_large(max: usize) -> Response {
    tracing::warn!(
        max_bytes = max,
        "listen callback refused: body larger than CONNECTOR_MAX_MESSAGE_BYTES"
    );
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Request larger than CONNECTOR_MAX_MESSAGE_BYTES",
    )
}

/// One accepted request through the same handler as a queue delivery; what a queue would
/// requeue is tried again here, since the platform will not deliver it again.
async fn process(shared: &Arc<Shared>, body: &[u8]) {
    let mut previous: u32 = 0;
    loop {
        let attempt = super::attempts::Attempt {
            number: previous + 1,
            interrupted: 0,
        };
        let handled = std::panic::AssertUnwindSafe(handler::handle(shared, body, attempt))
            .catch_unwind()
            .await;
        crate::ops::allocator::release_free();
        let disposition = handled.unwrap_or_else(|_| {
            shared.metrics.handler_panicked();
            tracing::error!("the request handler panicked; the request counts as a failed attempt");
            handler::Disposition::Requeue
        });
        match disposition {
            handler::Disposition::Ack => return,
            handler::Disposition::Requeue => {
                previous += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            handler::Disposition::Release => return lost_at_shutdown(shared, body).await,
        }
    }
}

/// A request still waiting when the connector stops: no one will deliver it again, so its work
/// is ended in error (when OpenCTI answers within a few seconds) for the user to ask again.
async fn lost_at_shutdown(shared: &Arc<Shared>, body: &[u8]) {
    let work = scan_work_id(body);
    tracing::warn!(
        work_id = work.as_deref().unwrap_or(""),
        "connector stopping: an accepted HTTP request was not finished and will not be delivered again"
    );
    if let Some(w) = work {
        let msg =
            "The connector stopped before finishing this request; ask for the enrichment again";
        let report = shared.client.work_to_processed(&w, msg, true);
        if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(5), report).await {
            tracing::warn!(error = %e, work_id = %w, "could not end the unfinished request's work");
        }
    }
}

/// The broker connection that pushes results (`CONNECTOR_QUEUE_PROTOCOL=amqp`) while requests
/// arrive over HTTP; rebuilt when it drops.
struct PushLink {
    conn: lapin::Connection,
}

impl PushLink {
    async fn open(
        reg: &Registration,
        name: &str,
        wait: Duration,
    ) -> Result<(Self, Publisher), amqp::AmqpError> {
        let conn = amqp::connect(&reg.connection, name, wait).await?;
        let publisher = Publisher::new(&conn, &reg.push_exchange, &reg.push_routing).await?;
        Ok((PushLink { conn }, publisher))
    }
}

/// Opens the push connection when results go through the broker (`None` with the API push
/// protocol).
pub async fn open_push(
    reg: &Registration,
    settings: &Settings,
) -> Result<Option<(PushConnection, Publisher)>, amqp::AmqpError> {
    if settings.connector.queue_protocol != crate::config::QueueProtocol::Amqp {
        return Ok(None);
    }
    let name = format!("connector-wazuh {} (push)", settings.connector.id);
    let (link, publisher) = PushLink::open(reg, &name, Duration::from_secs(60)).await?;
    Ok(Some((
        PushConnection {
            link,
            reg: reg.clone(),
            name,
        },
        publisher,
    )))
}

/// The push connection of the API listen protocol, kept up by [`serve`].
pub struct PushConnection {
    link: PushLink,
    reg: Registration,
    name: String,
}

/// Replaces the push connection when it drops, until `stop`.
async fn keep_push(mut push: PushConnection, shared: Arc<Shared>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        if push.link.conn.status().connected() {
            continue;
        }
        tracing::warn!("the broker connection that pushes results is gone; reconnecting");
        match PushLink::open(&push.reg, &push.name, Duration::from_secs(30)).await {
            Ok((link, publisher)) => {
                push.link = link;
                if let Ok(mut g) = shared.publisher.write() {
                    *g = Some(publisher);
                }
                tracing::info!("broker connection for results restored");
            }
            Err(e) => {
                tracing::warn!(error = %e, "reconnecting to the broker failed; retrying in 5 s")
            }
        }
    }
    let _ = push.link.conn.close(200, "shutdown".into()).await;
}

/// Serves the callback until `shutdown`, then waits up to the grace period for accepted
/// requests to finish. Binding errors are returned at once so that start-up fails clearly.
pub async fn serve(
    shared: &Arc<Shared>,
    health: &Health,
    push: Option<PushConnection>,
    jwks: Option<&str>,
    shutdown: &CancellationToken,
) -> std::io::Result<()> {
    let jwks = match jwks.map(jwt::parse_jwks) {
        Some(Ok(k)) if !k.is_empty() => Some(Arc::new(k)),
        Some(Ok(_)) => {
            tracing::warn!(
                "the platform's jwks has no Ed25519 key; only the token is accepted as bearer"
            );
            None
        }
        Some(Err(e)) => {
            tracing::warn!(error = %e, "the platform's jwks is unreadable; only the token is accepted as bearer");
            None
        }
        None => None,
    };
    let c = &shared.settings.connector;
    let api = &c.listen.api;
    let addr = crate::ops::server::listen_addr(&api.host, api.port)?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {addr} for OpenCTI's callbacks (CONNECTOR_LISTEN_PROTOCOL_API_HOST/CONNECTOR_LISTEN_PROTOCOL_API_PORT): {e}"),
        )
    })?;
    let slots = Arc::new(Semaphore::new(c.concurrency));
    let state = CallbackState {
        shared: shared.clone(),
        jwks,
        token: shared.settings.opencti.token.clone(),
        slots: slots.clone(),
        max_bytes: c.max_message_bytes,
    };
    let app = router(state, &api.path);
    let push_stop = CancellationToken::new();
    let keeper = push.map(|p| tokio::spawn(keep_push(p, shared.clone(), push_stop.clone())));
    health.set_consuming(true);
    tracing::info!(addr = %addr, path = %api.path, callback_uri = %api.callback_uri(), concurrency = c.concurrency, "listening for OpenCTI's HTTP callbacks");
    let stop = shutdown.clone();
    let served = super::listen_tls::serve(listener, app, api.tls.as_ref(), async move {
        stop.cancelled().await
    })
    .await;
    health.set_consuming(false);
    let busy = c.concurrency - slots.available_permits();
    tracing::info!(
        in_flight = busy,
        grace_s = c.shutdown_grace_period.as_secs(),
        "shutting down: no new requests"
    );
    let all = u32::try_from(c.concurrency).unwrap_or(u32::MAX);
    if tokio::time::timeout(c.shutdown_grace_period, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            left = c.concurrency - slots.available_permits(),
            "grace period over; unfinished accepted requests are lost (the platform does not deliver them again)"
        );
    }
    push_stop.cancel();
    if let Some(k) = keeper {
        let _ = k.await;
    }
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_check() {
        assert!(bearer_matches(Some("Bearer s3cret"), "s3cret"));
        assert!(bearer_matches(Some("bearer  s3cret "), "s3cret"));
        for bad in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer s3cre"),
            Some("Bearer s3cret1"),
            Some("Basic s3cret"),
            Some("Bearer s3cret extra"),
        ] {
            assert!(!bearer_matches(bad, "s3cret"), "{bad:?}");
        }
        assert!(
            !bearer_matches(Some("Bearer "), ""),
            "an empty token never matches"
        );
    }

    #[test]
    fn token_or_platform_jwt() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        use rcgen::SigningKey as _;
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let x = URL_SAFE_NO_PAD.encode(key.public_key_raw());
        let jwks = jwt::parse_jwks(&format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"k"}}]}}"#
        ))
        .unwrap();
        let exp = chrono::Utc::now().timestamp() + 600;
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","kid":"k"}"#);
        let p = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"iss":"opencti","sub":"connector","exp":{exp}}}"#
        ));
        let sig = URL_SAFE_NO_PAD.encode(key.sign(format!("{h}.{p}").as_bytes()).unwrap());
        let bearer = format!("Bearer {h}.{p}.{sig}");
        assert!(authorized(Some(&bearer), "tok", Some(&jwks)));
        assert!(
            !authorized(Some(&bearer), "tok", None),
            "no keys: token only"
        );
        assert!(authorized(Some("Bearer tok"), "tok", Some(&jwks)));
        assert!(!authorized(Some("Bearer nope"), "tok", Some(&jwks)));
        assert!(!authorized(None, "tok", Some(&jwks)));
    }
}
