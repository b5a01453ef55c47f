//! One request, from delivery to acknowledgement: parse, report receipt, enrich, deliver the
//! result, report the end of the work — and only then let the delivery be acked.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::attempts::Attempt;
use super::breaker::{self, Dependency, DownSince};
use super::cooldown::Admission;
use super::result;
use super::Shared;
use crate::config::QueueProtocol;
use crate::opencti::message::{self, granted_refs};
use crate::opencti::{operations, ApiError};
use crate::ops;
use crate::pipeline::{EnrichError, Enriched, ErrorKind, Found, Mode, Request};

/// What to do with the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Done (successfully or for good): acknowledge.
    Ack,
    /// Try again later as the next attempt (bounded by `CONNECTOR_MAX_ATTEMPTS`).
    Requeue,
    /// Shutting down while the request was held for an outage: give it back at once, as the
    /// same attempt.
    Release,
}

/// Why delivering a result failed.
#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    /// An OpenCTI call (expectations, API push, playbook reply) failed.
    #[error("{0}")]
    OpenCti(#[source] ApiError),
    /// The broker did not take the messages (worth a retry until the attempt limit).
    #[error("{0}")]
    Broker(String),
    /// Results go only to the bundle directory and it did not take the file (a full disk may
    /// free up: retried like the broker).
    #[error("{0}")]
    Directory(String),
}

/// Pause before a held request is tried again, so that a dependency that answers one probe but
/// still fails under load is not hammered.
const HOLD_RETRY_DELAY: Duration = Duration::from_secs(1);

const RECEIVED: &str = "Connector ready to process the operation";
const WORK_PING_PERIOD: Duration = Duration::from_secs(300);
/// Retries of a result's publication across a broker reconnection (× the delay: one minute).
const PUBLISH_ATTEMPTS: u32 = 12;
const PUBLISH_RETRY_DELAY: Duration = Duration::from_secs(5);

fn mode_str(m: Mode) -> &'static str {
    match m {
        Mode::Manual => "manual",
        Mode::Auto => "auto",
        Mode::Playbook => "playbook",
        Mode::Unstated => "unstated",
    }
}

/// How one request ended: what the log line and the metrics say, and what happens to the
/// delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The work was ended successfully with `message`.
    Done { found: Found, message: String },
    /// Refused by policy (TLP, an abort limit): the work was ended in error.
    Refused(String),
    /// The work was ended in error (or a playbook's bundle returned unchanged).
    Failed(String),
    /// Nothing can be reported: the platform says the work does not exist.
    Dropped(String),
    /// Given back to the broker for another attempt.
    Retry(String),
    /// A dependency is down: held in the process until it answers (never logged or counted as
    /// such: the request is tried again).
    Held(Dependency, String),
    /// Shutdown came while the request was held: given back without an attempt spent.
    Released(String),
    /// An interrupted delivery whose work an earlier delivery had already ended: acked as it is.
    AlreadyEnded,
}

impl Outcome {
    /// The `outcome` label of `enrichment_requests_total`.
    pub fn metric(&self) -> ops::Outcome {
        match self {
            Outcome::Done {
                found: Found::Alerts,
                ..
            } => ops::Outcome::Enriched,
            Outcome::Done {
                found: Found::NoHits,
                ..
            } => ops::Outcome::NoHits,
            Outcome::Done {
                found: Found::NotSearched,
                ..
            } => ops::Outcome::Skipped,
            Outcome::AlreadyEnded => ops::Outcome::Skipped,
            Outcome::Refused(_) => ops::Outcome::Refused,
            Outcome::Failed(_)
            | Outcome::Dropped(_)
            | Outcome::Retry(_)
            | Outcome::Held(..)
            | Outcome::Released(_) => ops::Outcome::Failed,
        }
    }

    /// What to do with the delivery.
    pub fn disposition(&self) -> Disposition {
        match self {
            Outcome::Retry(_) => Disposition::Requeue,
            Outcome::Held(..) | Outcome::Released(_) => Disposition::Release,
            _ => Disposition::Ack,
        }
    }

    /// One word for the log line, then the detail.
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Outcome::Done { message, .. } => ("ok", message),
            Outcome::Refused(m) => ("refused", m),
            Outcome::Failed(m) => ("error", m),
            Outcome::Dropped(m) => ("dropped", m),
            Outcome::Retry(m) => ("retry", m),
            Outcome::Held(_, m) => ("held", m),
            Outcome::Released(m) => ("released", m),
            Outcome::AlreadyEnded => (
                "already-ended",
                "an earlier delivery ended the work before it was interrupted",
            ),
        }
    }
}

/// Handle one delivery body, delivered as `attempt`.
pub async fn handle(shared: &Arc<Shared>, body: &[u8], attempt: Attempt) -> Disposition {
    let started = Instant::now();
    shared.metrics.request_started();
    let max = shared.settings.connector.max_message_bytes;
    let req = match message::parse(body, max, chrono::Utc::now()) {
        Ok(r) => r,
        Err(rej) => {
            tracing::warn!(outcome = "rejected", reason = %rej.reason, work_id = rej.work_id.as_deref().unwrap_or(""), "request dropped");
            if let Some(w) = &rej.work_id {
                if let Err(e) = shared
                    .client
                    .work_to_processed(w, &format!("Request refused: {}", rej.reason), true)
                    .await
                {
                    tracing::warn!(error = %e, work_id = %w, "could not report the refused request on its work");
                }
            }
            shared
                .metrics
                .request_finished(ops::Outcome::Failed, started.elapsed());
            return Disposition::Ack;
        }
    };
    // A delivery interrupted between the end of its work and its ack comes back although the
    // request was done: ending the work again would report it twice.
    let outcome = if attempt.interrupted > 0 && already_ended(shared, &req).await {
        Outcome::AlreadyEnded
    } else {
        attempt_request(shared, &req, attempt).await
    };
    let disposition = outcome.disposition();
    shared
        .metrics
        .request_finished(outcome.metric(), started.elapsed());
    let (word, detail) = outcome.parts();
    tracing::info!(
        entity_id = %req.entity_id,
        entity_type = req.entity_type.as_deref().unwrap_or(""),
        mode = mode_str(req.mode),
        work_id = req.work_id.as_deref().unwrap_or(""),
        attempt = attempt.number,
        interrupted = attempt.interrupted,
        outcome = word,
        detail,
        ack = disposition == Disposition::Ack,
        duration_ms = started.elapsed().as_millis() as u64,
        "request handled"
    );
    disposition
}

/// One attempt at the request: processed (or, past the attempt limit, ended in error), held
/// through outages.
async fn attempt_request(shared: &Arc<Shared>, req: &Request, attempt: Attempt) -> Outcome {
    let max_attempts = shared.settings.connector.max_attempts;
    let mut give_up = attempt
        .exhausted(max_attempts)
        .then(|| attempt.give_up_message(max_attempts));
    let mut held_since: Option<DownSince> = None;
    // An outage holds the request here, without spending an attempt, until the dependency
    // answers (then the request is tried again) or the outage window is over (then it is ended
    // in error; if even that cannot be reported, it waits for OpenCTI without a bound).
    loop {
        let o = match &give_up {
            Some(msg) => finish_failed(shared, req, msg).await,
            None => {
                let admission = shared
                    .cooldown
                    .admit(&req.entity_id, req.mode, Instant::now());
                let o = process(shared, req, attempt.number, &admission).await;
                if let Admission::Run { started } = admission {
                    let searched = matches!(
                        o,
                        Outcome::Done {
                            found: Found::Alerts | Found::NoHits,
                            ..
                        }
                    );
                    shared.cooldown.settle(&req.entity_id, started, searched);
                }
                o
            }
        };
        let Outcome::Held(dependency, reason) = o else {
            break o;
        };
        tracing::info!(entity_id = %req.entity_id, work_id = req.work_id.as_deref().unwrap_or(""), dependency = dependency.display_name(), reason = %reason, "request held until the dependency answers");
        let since = *held_since.get_or_insert_with(DownSince::now);
        match hold(shared, dependency, &since, give_up.is_none()).await {
            Hold::Retry => {}
            Hold::GiveUp(msg) => give_up = Some(msg),
            Hold::Shutdown => break Outcome::Released(reason),
        }
    }
}

/// Whether the request's work was already ended (by an earlier delivery). A failed check is
/// logged and answered "no": processing again is idempotent, a lost request is not.
async fn already_ended(shared: &Arc<Shared>, req: &Request) -> bool {
    let Some(w) = &req.work_id else {
        return false;
    };
    match shared.client.work_state(w).await {
        Ok(state) => state.processed,
        Err(e) => {
            tracing::warn!(error = %e, work_id = %w, "cannot tell whether the interrupted request's work was already ended; processing it");
            false
        }
    }
}

/// How a hold ended.
enum Hold {
    /// The dependency answers again: try the request again.
    Retry,
    /// The indexer stayed down longer than the outage window: end the request with this message.
    GiveUp(String),
    /// Shutdown: give the request back.
    Shutdown,
}

/// Waits until `dependency` answers (then the request is tried again), shutdown, or — when
/// `bounded` — the end of the outage window counted from `held_since`, the request's first hold.
async fn hold(
    shared: &Arc<Shared>,
    dependency: Dependency,
    held_since: &DownSince,
    bounded: bool,
) -> Hold {
    let cancel = &shared.shutdown;
    tokio::select! {
        _ = tokio::time::sleep(HOLD_RETRY_DELAY) => {}
        _ = cancel.cancelled() => return Hold::Shutdown,
    }
    let window = shared.outage_window;
    let give_up = || Hold::GiveUp(breaker::outage_message(dependency, held_since, window));
    if bounded && breaker::past_window(held_since, window) {
        return give_up();
    }
    let left = if bounded {
        window.saturating_sub(held_since.at.elapsed())
    } else {
        Duration::MAX
    };
    let b = shared.breakers.get(dependency);
    tokio::select! {
        closed = b.wait_closed(cancel) => if closed { Hold::Retry } else { Hold::Shutdown },
        _ = tokio::time::sleep(left) => give_up(),
    }
}

/// The outcome of a failed OpenCTI work call: dropped when the platform says the work does not
/// exist, held while OpenCTI is down, otherwise tried again later (an attempt spent).
fn work_call_failed(
    shared: &Arc<Shared>,
    operation: &'static str,
    what: &str,
    e: &ApiError,
) -> Outcome {
    shared.metrics.opencti_api_error(operation);
    opencti_failed(shared, what, e)
}

/// [`work_call_failed`] for a call whose failure was already counted.
fn opencti_failed(shared: &Arc<Shared>, what: &str, e: &ApiError) -> Outcome {
    if e.is_work_gone() {
        return Outcome::Dropped(format!(
            "the work no longer exists in OpenCTI, nothing can be reported ({e})"
        ));
    }
    if e.is_transient() {
        shared.breakers.opencti.failed();
        return Outcome::Held(Dependency::OpenCti, format!("{what}: {e}"));
    }
    Outcome::Retry(format!("{what}: {e}"))
}

/// End the request in error (work in error, or for a playbook the incoming bundle unchanged).
/// Only a failure that was reported is `Failed`: one that could not be is held or retried.
async fn finish_failed(shared: &Arc<Shared>, req: &Request, msg: &str) -> Outcome {
    if req.mode == Mode::Playbook {
        if let Err(e) = reply_playbook(shared, req, Vec::new()).await {
            return delivery_failed(shared, "cannot return the playbook bundle", e);
        }
    } else if let Some(w) = &req.work_id {
        match shared.client.work_to_processed(w, msg, true).await {
            Ok(()) => {
                shared.breakers.opencti.succeeded();
            }
            Err(e) => {
                return work_call_failed(
                    shared,
                    "workToProcessed",
                    "cannot end the work in error",
                    &e,
                )
            }
        }
    }
    Outcome::Failed(msg.to_string())
}

/// The outcome of a failed delivery (OpenCTI calls as [`work_call_failed`]; the broker: retry).
fn delivery_failed(shared: &Arc<Shared>, what: &str, e: DeliveryError) -> Outcome {
    match e {
        DeliveryError::OpenCti(e) => opencti_failed(shared, what, &e),
        DeliveryError::Broker(m) | DeliveryError::Directory(m) => {
            Outcome::Retry(format!("{what}: {m}"))
        }
    }
}

/// One attempt at a request; a request the cool-down skips ends its work like any request
/// answered without a search.
async fn process(
    shared: &Arc<Shared>,
    req: &Request,
    attempt: u32,
    admission: &Admission,
) -> Outcome {
    #[cfg(debug_assertions)]
    super::test_hook::panic_if_asked(&req.entity_id);
    let max_attempts = shared.settings.connector.max_attempts;
    if let Some(w) = &req.work_id {
        if let Err(e) = shared.client.work_to_received(w, RECEIVED).await {
            return work_call_failed(shared, "workToReceived", "cannot report receipt", &e);
        }
        shared.breakers.opencti.succeeded();
    }
    let pinger = req.work_id.clone().map(|w| {
        let client = shared.client.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(WORK_PING_PERIOD).await;
                if let Err(e) = client.work_ping(&w).await {
                    tracing::warn!(error = %e, work_id = %w, "work ping failed");
                }
            }
        })
    });
    let result = match admission {
        Admission::Skip(message) => Ok(Enriched::not_searched(message.clone())),
        Admission::Run { .. } => shared.enricher.enrich(&shared.ctx, req).await,
    };
    if let Some(p) = pinger {
        p.abort();
    }
    match result {
        Ok(Enriched {
            objects,
            message,
            found,
        }) => {
            let note = match deliver(shared, req, attempt, objects).await {
                Ok(note) => note,
                Err(DeliveryError::Broker(e) | DeliveryError::Directory(e))
                    if attempt >= max_attempts =>
                {
                    let msg = format!("Could not deliver the results: {e}");
                    return finish_failed(shared, req, &msg).await;
                }
                Err(e) => return delivery_failed(shared, "delivery failed", e),
            };
            // A bundle directory problem is told to the analyst in the work, not only logged.
            let message = match note {
                Some(n) => format!("{message} {n}"),
                None => message,
            };
            if let Some(w) = &req.work_id {
                if let Err(e) = shared.client.work_to_processed(w, &message, false).await {
                    // Results were delivered; trying again re-sends the same ids (idempotent).
                    return work_call_failed(
                        shared,
                        "workToProcessed",
                        "cannot report the end of the work",
                        &e,
                    );
                }
            }
            Outcome::Done { found, message }
        }
        // A dependency did not answer: an outage, not the request's fault — hold it.
        Err(EnrichError {
            message,
            unavailable: Some(d),
            ..
        }) => Outcome::Held(d, message),
        Err(e) if e.kind == ErrorKind::Transient && attempt < max_attempts => {
            Outcome::Retry(e.message)
        }
        Err(e) if e.kind == ErrorKind::Refused => {
            match finish_failed(shared, req, &e.message).await {
                Outcome::Failed(_) => Outcome::Refused(e.message),
                other => other,
            }
        }
        Err(e) => {
            let msg = if e.kind == ErrorKind::Transient {
                format!("Gave up after {attempt} attempt(s): {}", e.message)
            } else {
                e.message.clone()
            };
            finish_failed(shared, req, &msg).await
        }
    }
}

/// Hand the result over: playbook reply, or (when there is something new) the bundle directory
/// and AMQP push / API push. `Some` is a remark for the work's message (the directory's problem).
/// `ours` is taken: the objects are held once, and each push message exists only while it is
/// being sent.
async fn deliver(
    shared: &Arc<Shared>,
    req: &Request,
    attempt: u32,
    ours: Vec<Value>,
) -> Result<Option<String>, DeliveryError> {
    if req.mode == Mode::Playbook {
        return reply_playbook(shared, req, ours).await.map(|()| None);
    }
    if ours.is_empty() {
        return Ok(None);
    }
    let mut objects = result::merge(ours, req.stix_entity.iter().chain(&req.stix_objects));
    if let Some(e) = &req.stix_entity {
        result::propagate_granted_refs(&mut objects, &granted_refs(e));
    }
    let count = objects.len();
    let bundle = result::bundle(objects);
    let note = match &shared.bundle_dir {
        Some(dir) => {
            let applicant = req.applicant_id.as_deref();
            let applicant = applicant.or(shared.connector_user_id.as_deref());
            let only_there = !shared.settings.connector.send_to_queue;
            dir.keep(&bundle, applicant, req.work_id.as_deref(), only_there)
                .await
                .map_err(DeliveryError::Directory)?
        }
        None => None,
    };
    if !shared.settings.connector.send_to_queue {
        return Ok(note);
    }
    match shared.settings.connector.queue_protocol {
        QueueProtocol::Amqp => {
            // Cloned out of the lock: the daemon swaps it when it rebuilds the connection.
            let current_publisher = || {
                shared
                    .publisher
                    .read()
                    .ok()
                    .and_then(|p| p.clone())
                    .ok_or_else(|| DeliveryError::Broker("no AMQP publisher".into()))
            };
            current_publisher()?;
            let applicant = req
                .applicant_id
                .as_deref()
                .or(shared.connector_user_id.as_deref());
            // Pre-split, one object per message, expectations announced first (as pycti), so the
            // work completes exactly when the worker has imported every object.
            let bundle_id = bundle["id"].as_str().unwrap_or_default();
            let objects = bundle["objects"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let order = result::split_order(objects);
            if let Some(w) = &req.work_id {
                let announce = expectations_to_add(shared, w, attempt, order.len()).await;
                if announce > 0 {
                    shared
                        .client
                        .work_add_expectations(w, announce)
                        .await
                        .map_err(|e| {
                            shared.metrics.opencti_api_error("addExpectations");
                            DeliveryError::OpenCti(e)
                        })?;
                }
            }
            let message = |i: usize| {
                let (seq, index) = order[i];
                crate::amqp::push_message(
                    &result::part(bundle_id, seq, &objects[index]),
                    applicant,
                    req.work_id.as_deref(),
                    req.draft_id.as_deref(),
                    i as u64 + 1,
                )
            };
            // The expectations are announced: the messages must get through, or the work would
            // wait for them forever. A broker outage is ridden out on the publisher the daemon
            // rebuilds (every 5 s for up to a minute); only then is the request given back.
            let mut attempt = 0;
            let sent = loop {
                match current_publisher()?.publish_all(order.len(), message).await {
                    Ok(n) => break n,
                    Err(e) if attempt < PUBLISH_ATTEMPTS => {
                        attempt += 1;
                        tracing::warn!(error = %e, attempt, "could not publish the result; retrying on the current broker connection");
                        tokio::time::sleep(PUBLISH_RETRY_DELAY).await;
                    }
                    Err(e) => return Err(DeliveryError::Broker(e.to_string())),
                }
            };
            // One pre-split bundle (of one object) per message, as before.
            for _ in 0..sent {
                shared.metrics.bundle_sent(1);
            }
            Ok(note)
        }
        QueueProtocol::Api => {
            api_push(shared, req, &bundle).await?;
            shared.metrics.bundle_sent(count);
            Ok(note)
        }
    }
}

/// How many imports to announce for `parts` messages. An earlier delivery of the request may
/// have announced its own and then died or failed before publishing them all: announcing ours on
/// top would leave the work waiting forever for imports that never come. So a later attempt only
/// tops the expectations up to its own count (its messages, the same deterministic objects,
/// make up for the missing ones). If the work cannot be read, all are announced, as before.
async fn expectations_to_add(
    shared: &Arc<Shared>,
    work_id: &str,
    attempt: u32,
    parts: usize,
) -> usize {
    if attempt <= 1 {
        return parts;
    }
    match shared.client.work_state(work_id).await {
        Ok(state) => {
            let earlier = usize::try_from(state.expected).unwrap_or(usize::MAX);
            parts.saturating_sub(earlier)
        }
        Err(e) => {
            tracing::warn!(error = %e, work_id, "cannot read the expectations an earlier delivery announced; announcing all");
            parts
        }
    }
}

async fn api_push(
    shared: &Arc<Shared>,
    req: &Request,
    bundle: &Value,
) -> Result<(), DeliveryError> {
    shared
        .client
        .push_bundle(
            &shared.settings.connector.id,
            &bundle.to_string(),
            req.work_id.as_deref(),
            &shared.legacy_bundle_push,
        )
        .await
        .map_err(|e| {
            shared.metrics.opencti_api_error("stixBundlePush");
            DeliveryError::OpenCti(e)
        })
}

/// Reply to a playbook step with its incoming objects plus ours (`ours` empty = unchanged).
async fn reply_playbook(
    shared: &Arc<Shared>,
    req: &Request,
    ours: Vec<Value>,
) -> Result<(), DeliveryError> {
    let Some(p) = &req.playbook else {
        return Err(DeliveryError::Broker("not a playbook request".into()));
    };
    let mut bundle = p.bundle.clone();
    if !ours.is_empty() {
        let mut objects = result::merge(ours, &req.stix_objects);
        if let Some(e) = &req.stix_entity {
            result::propagate_granted_refs(&mut objects, &granted_refs(e));
        }
        bundle["objects"] = Value::Array(objects);
    }
    let vars = json!({
        "execution_id": p.execution_id,
        "event_id": p.event_id,
        "execution_start": p.execution_start,
        "data_instance_id": p.data_instance_id,
        "playbook_id": p.playbook_id,
        "previous_step_id": p.previous_step_id,
        "step_id": p.step_id,
        "previous_bundle": p.bundle.to_string(),
        "bundle": bundle.to_string(),
    });
    shared
        .client
        .query_retry(operations::PLAYBOOK_STEP_EXECUTION, vars, None)
        .await
        .map(drop)
        .map_err(DeliveryError::OpenCti)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_map_to_one_metric_label_and_one_disposition() {
        let done = |found| Outcome::Done {
            found,
            message: "m".into(),
        };
        let cases = [
            (
                done(Found::Alerts),
                ops::Outcome::Enriched,
                Disposition::Ack,
            ),
            (done(Found::NoHits), ops::Outcome::NoHits, Disposition::Ack),
            (
                done(Found::NotSearched),
                ops::Outcome::Skipped,
                Disposition::Ack,
            ),
            (
                Outcome::Refused("tlp".into()),
                ops::Outcome::Refused,
                Disposition::Ack,
            ),
            (
                Outcome::Failed("x".into()),
                ops::Outcome::Failed,
                Disposition::Ack,
            ),
            (
                Outcome::Dropped("gone".into()),
                ops::Outcome::Failed,
                Disposition::Ack,
            ),
            (
                Outcome::Retry("down".into()),
                ops::Outcome::Failed,
                Disposition::Requeue,
            ),
            (
                Outcome::AlreadyEnded,
                ops::Outcome::Skipped,
                Disposition::Ack,
            ),
            (
                Outcome::Released("shutdown".into()),
                ops::Outcome::Failed,
                Disposition::Release,
            ),
        ];
        for (o, metric, disposition) in cases {
            assert_eq!(o.metric(), metric, "{o:?}");
            assert_eq!(o.disposition(), disposition, "{o:?}");
        }
    }
}
