//! Continuous hunting (`WAZUH_HUNT_ENABLED`): every interval, the hunter looks in the alerts
//! written since its last window for every indicator of the platform at once, and asks for an
//! enrichment of each indicator that matched — as if a user had pressed *Enrich* — so the
//! sightings, incidents and counts are the enrichment's own (exact totals, deterministic ids).
//!
//! One replica hunts at a time ([`crate::amqp::election`]). A cycle:
//! 1. brings the indicator set up to date: a full listing at the first cycle and every hour
//!    (indicators deleted in the platform leave the set then), otherwise the changes since the
//!    newest `updated_at` seen (a revoked, expired or re-marked indicator leaves it at once);
//! 2. searches the windows since the checkpoint ([`crate::hunt::window`]) with the detection
//!    plan ([`crate::hunt::detect`]): batched value lists, a few requests for any number of
//!    indicators, paged by time;
//! 3. for each indicator with hits: a work named after the cycle, and a request on the
//!    connector's own listen queue, which any replica then handles like any other;
//! 4. moves the checkpoint to the end of the last window searched in full: in the token it
//!    passes on, and in the connector state the platform keeps (pinged at once), so that a
//!    replacement container resumes where this one stopped.
//!
//! A failed search ends the cycle with the checkpoint at the last complete window; the next
//! attempt comes after 30 s (or the interval, if shorter), and missed time is caught up.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::heartbeat::StateCell;
use crate::amqp::election::Election;
use crate::amqp::{self, AmqpError};
use crate::config::Settings;
use crate::hunt::detect::{DetectionPlan, Huntable};
use crate::hunt::indicators::{self, IndicatorSet, Listed};
use crate::hunt::window;
use crate::indexer::IndexerError;
use crate::opencti::register::{self, Registration};
use crate::opencti::{operations, ApiError, OpenCtiClient};
use crate::ops::{Health, Metrics};
use crate::pipeline;

/// Indicators per listing page.
const LIST_PAGE: usize = 1000;
/// Alerts per detection page.
const DETECT_PAGE: usize = 5000;
/// Detection pages per request and window before the rest is left to the enrichment (an
/// indicator that matched is enriched with exact totals anyway; this bounds a cycle whose
/// window holds an unusual flood of matching alerts).
const MAX_PAGES: usize = 40;
/// How often the whole indicator set is listed again.
const FULL_RELOAD: Duration = Duration::from_secs(3600);
/// The longest a token is held before it is passed on (below RabbitMQ's consumer timeout).
const MAX_HOLD: Duration = Duration::from_secs(600);

/// What the hunter needs from the daemon.
pub struct HuntDeps {
    pub settings: Arc<Settings>,
    pub client: OpenCtiClient,
    pub ctx: pipeline::Context,
    pub metrics: Metrics,
    pub health: Health,
    pub state: StateCell,
    pub reg: Registration,
}

/// Why a hunting session or cycle stopped.
#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    #[error("broker: {0}")]
    Amqp(#[from] AmqpError),
    #[error("OpenCTI: {0}")]
    OpenCti(#[from] ApiError),
    #[error("Wazuh indexer: {0}")]
    Indexer(#[from] IndexerError),
    #[error("{0}")]
    Other(String),
}

/// Starts the hunter when hunting is on.
pub fn spawn(deps: HuntDeps, cancel: CancellationToken) -> Option<JoinHandle<()>> {
    if !deps.settings.hunt.enabled {
        return None;
    }
    Some(tokio::spawn(run(deps, cancel)))
}

async fn run(deps: HuntDeps, cancel: CancellationToken) {
    let queue = format!("hunt_{}", deps.reg.connector_id);
    let mut hunter = Hunter::default();
    loop {
        let r = tokio::select! {
            r = session(&deps, &mut hunter, &queue) => r,
            _ = cancel.cancelled() => Ok(()),
        };
        deps.metrics.hunt().active.set(0);
        if cancel.is_cancelled() {
            return;
        }
        if let Err(e) = r {
            tracing::warn!(error = %e, "hunting paused; joining the hunters' election again in 5 s");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// One connection to the broker: wait to be the hunter, then hunt every interval.
async fn session(deps: &HuntDeps, hunter: &mut Hunter, queue: &str) -> Result<(), HuntError> {
    let name = format!("connector-wazuh hunt {}", deps.settings.connector.id);
    let conn = amqp::connect(&deps.reg.connection, &name, Duration::from_secs(30)).await?;
    let mut election = Election::join(conn, queue).await?;
    tracing::info!(
        queue,
        "hunting: waiting to be the hunter (one replica hunts at a time)"
    );
    let token = election.hold().await?;
    deps.metrics.hunt().active.set(1);
    let parse = |t: Option<&str>| {
        t.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    // The newer of the token's checkpoint and the platform's copy (a broker that lost its
    // queues, or a new deployment, resumes from the platform's).
    let mut checkpoint =
        parse(token.checkpoint.as_deref()).max(window::checkpoint_of(deps.state.get().as_deref()));
    tracing::info!(checkpoint = ?checkpoint, "this replica is the hunter");
    let interval = deps.settings.hunt.interval;
    let mut retry_at: Option<Instant> = None;
    loop {
        // A state reset in the platform starts hunting afresh from now.
        if deps.state.get().is_none() && checkpoint.is_some() && hunter.cycles > 0 {
            tracing::info!("the connector state was reset in the platform: hunting starts again from one interval ago");
            checkpoint = None;
        }
        let now = Utc::now();
        let due = checkpoint.map(|c| c + chrono_d(interval)).unwrap_or(now);
        let may_retry = retry_at.is_none_or(|r| Instant::now() >= r);
        if now >= due && may_retry {
            let started = Instant::now();
            let (reached, outcome) = hunter.cycle(deps, &election, checkpoint).await;
            if let Some(r) = reached {
                checkpoint = Some(r);
                let state = window::with_checkpoint(deps.state.get().as_deref(), r);
                deps.state.set(Some(state.clone()));
                // Stored at once, not at the next heartbeat: a replacement resumes from here.
                if let Err(e) =
                    register::ping(&deps.client, &deps.reg.connector_id, 0, Some(&state)).await
                {
                    tracing::warn!(error = %e, "storing the hunt checkpoint in the platform failed; the next heartbeat stores it");
                }
            }
            let h = deps.metrics.hunt();
            h.cycle_ms.set(started.elapsed().as_millis() as i64);
            match outcome {
                Ok(()) => {
                    retry_at = None;
                    h.cycles.get_or_create(&ok_label("ok")).inc();
                }
                Err(e) => {
                    retry_at = Some(Instant::now() + interval.min(Duration::from_secs(30)));
                    h.cycles.get_or_create(&ok_label("failed")).inc();
                    tracing::warn!(error = %e, "hunting cycle failed; the missed time is searched at the next attempt");
                    if matches!(e, HuntError::Amqp(_)) {
                        return Err(e);
                    }
                }
            }
        }
        let lag = checkpoint
            .map(|c| (Utc::now() - c).num_seconds().max(0))
            .unwrap_or(0);
        deps.metrics.hunt().lag_seconds.set(lag);
        deps.health
            .set_hunt_behind(lag as u64 > 3 * interval.as_secs().max(1));
        election
            .pass(checkpoint.map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
            .await?;
        election.hold().await?;
        let next = checkpoint
            .map(|c| c + chrono_d(interval))
            .unwrap_or_else(Utc::now);
        let mut wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        if let Some(r) = retry_at {
            wait = wait.max(r.saturating_duration_since(Instant::now()));
        }
        tokio::time::sleep(wait.clamp(Duration::from_millis(200), MAX_HOLD)).await;
    }
}

fn ok_label(o: &str) -> crate::ops::hunt_metrics::CycleLabels {
    crate::ops::hunt_metrics::CycleLabels { outcome: o.into() }
}

fn chrono_d(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The hunter's memory between cycles (kept across elections of this process).
#[derive(Default)]
struct Hunter {
    set: IndicatorSet,
    full_at: Option<Instant>,
    /// The detection plan of each schema searched, rebuilt when the set changes.
    plans: Vec<(pipeline::schema::Part, DetectionPlan)>,
    dirty: bool,
    cycles: u64,
}

impl Hunter {
    /// One cycle. Returns the end of the last window searched in full (`None`: none) and how
    /// the cycle ended.
    async fn cycle(
        &mut self,
        deps: &HuntDeps,
        election: &Election,
        checkpoint: Option<DateTime<Utc>>,
    ) -> (Option<DateTime<Utc>>, Result<(), HuntError>) {
        self.cycles += 1;
        let now = Utc::now();
        if let Err(e) = self.refresh(deps, now).await {
            return (None, Err(e));
        }
        let h = deps.metrics.hunt();
        h.indicators.set(self.set.hunted.len() as i64);
        if self.set.hunted.is_empty() {
            tracing::debug!("hunting: no indicator to hunt");
            return (Some(now), Ok(()));
        }
        if let Err(e) = self.plan(deps).await {
            return (None, Err(e));
        }
        let (windows, skipped) = window::windows(checkpoint, now, &deps.settings.hunt);
        if let Some(s) = skipped {
            tracing::warn!(skipped_s = s.as_secs(), "hunting resumes from an old checkpoint: alerts older than WAZUH_HUNT_CATCH_UP are not hunted (enrich indicators by hand to search them)");
        }
        let (found, reached, searches, failure) = self.detect(&windows).await;
        h.searches.inc_by(searches);
        tracing::info!(
            indicators = self.set.hunted.len(),
            windows = windows.len(),
            searches,
            hit = found.len(),
            "hunting cycle searched"
        );
        if let Err(e) = self.dispatch(deps, election, &found, now).await {
            // Not advanced: the next attempt finds (and dispatches) the same hits again, which
            // the deterministic enrichment absorbs.
            return (checkpoint, Err(e));
        }
        h.indicators_hit.inc_by(found.len() as u64);
        match failure {
            // The windows searched in full count; the rest is searched at the next attempt.
            Some(e) => (reached, Err(e)),
            None => (reached, Ok(())),
        }
    }

    /// The detection searches of `windows`: the indicators found, the end of the last window
    /// searched in full, the number of searches, and the failure that stopped them, if any
    /// (what was found before it is still reported).
    async fn detect(
        &self,
        windows: &[window::Window],
    ) -> (
        BTreeSet<String>,
        Option<DateTime<Utc>>,
        u64,
        Option<HuntError>,
    ) {
        let mut found: BTreeSet<String> = BTreeSet::new();
        let mut reached = None;
        let mut searches = 0u64;
        for (from, to) in windows {
            for (part, plan) in &self.plans {
                let Some(indexer) = part.indexer.as_ref() else {
                    return (
                        found,
                        reached,
                        searches,
                        Some(HuntError::Other("no indexer client".into())),
                    );
                };
                let time_field = part.schema.profile().time_field;
                // One request built at a time: all the value lists of 100,000 indicators
                // held at once would be tens of megabytes.
                for i in 0..plan.len() {
                    let Some(mut req) = plan.request(i, from, to, time_field, DETECT_PAGE) else {
                        continue;
                    };
                    // Attribution reads only the request's part and label.
                    let mut body = std::mem::take(&mut req.body);
                    crate::search::envelope::narrow(
                        &mut body,
                        &part.settings.indexer,
                        &part.settings.knowledge,
                    );
                    for page in 0.. {
                        let answer = match indexer
                            .search_raw(&part.settings.indexer.index, &body)
                            .await
                        {
                            Ok(a) => a,
                            Err(e) => return (found, reached, searches, Some(e.into())),
                        };
                        searches += 1;
                        let hits = answer
                            .pointer("/hits/hits")
                            .and_then(Value::as_array)
                            .map(Vec::as_slice)
                            .unwrap_or_default();
                        for hit in hits {
                            found.extend(plan.attribute(&req, hit));
                        }
                        match crate::hunt::next_page(&body, hits, DETECT_PAGE, time_field) {
                            Some(next) if page + 1 < MAX_PAGES => body = next,
                            Some(_) => {
                                tracing::warn!(request = %req.label, pages = MAX_PAGES, "hunting: more matching alerts in this window than one cycle reads; the indicators found so far are enriched with exact totals");
                                break;
                            }
                            None if hits.len() >= DETECT_PAGE => {
                                tracing::warn!(request = %req.label, "hunting: a whole page of matching alerts shares one millisecond; the rest of that millisecond is left to the enrichment");
                                break;
                            }
                            None => break,
                        }
                    }
                }
            }
            reached = Some(*to);
        }
        (found, reached, searches, None)
    }

    /// Brings the indicator set up to date (full listing, or the changes since the last one).
    async fn refresh(&mut self, deps: &HuntDeps, now: DateTime<Utc>) -> Result<(), HuntError> {
        let k = &deps.settings.knowledge;
        let full = self.full_at.is_none_or(|t| t.elapsed() >= FULL_RELOAD);
        let since = if full {
            None
        } else {
            self.set.newest_update.clone()
        };
        let bound = deps
            .settings
            .hunt
            .max_indicators
            .saturating_mul(2)
            .max(LIST_PAGE);
        let filters = indicators::filters(since.as_deref(), k, now);
        let listed = list_indicators(&deps.client, &filters, bound).await?;
        if full {
            let mut fresh = IndicatorSet::default();
            fresh.apply(listed, k, now);
            // Hourly, the plan is rebuilt anyway: the indexer may hold new fields (a new
            // decoder's, in today's index) under the vocabulary's field patterns.
            self.dirty = true;
            self.set = fresh;
            self.full_at = Some(Instant::now());
        } else {
            self.dirty |= self.set.apply(listed, k, now);
        }
        self.dirty |= self.set.expire(now);
        let max = deps.settings.hunt.max_indicators;
        if self.set.hunted.len() > max {
            return Err(HuntError::Other(format!(
                "{} indicators to hunt exceed WAZUH_HUNT_MAX_INDICATORS={max}: hunting is paused (raise the limit, or narrow the hunted indicators with WAZUH_MAX_TLP, WAZUH_INDICATOR_SCORE_THRESHOLD, WAZUH_REQUIRE_INDICATOR_DETECTION)",
                self.set.hunted.len()
            )));
        }
        Ok(())
    }

    /// Rebuilds the detection plans when the set changed.
    async fn plan(&mut self, deps: &HuntDeps) -> Result<(), HuntError> {
        if !self.dirty && !self.plans.is_empty() {
            return Ok(());
        }
        let view = deps
            .ctx
            .schema_view()
            .await
            .map_err(|e| HuntError::Other(e.message))?;
        let huntable: Vec<Huntable> = self
            .set
            .hunted
            .values()
            .map(|i: &Listed| Huntable {
                id: i.id.clone(),
                pattern: i.pattern.clone(),
                pattern_type: i.pattern_type.clone(),
            })
            .collect();
        let mut plans = Vec::new();
        for p in &view.parts {
            let fields = match &p.indexer {
                Some(indexer) => indexer_fields(indexer, &p.settings).await,
                None => Vec::new(),
            };
            plans.push((
                p.clone(),
                DetectionPlan::with_fields(&huntable, &p.settings.search, &fields),
            ));
        }
        self.plans = plans;
        if let Some((_, plan)) = self.plans.first() {
            let s = plan.summary();
            let h = deps.metrics.hunt();
            h.values.clear();
            for (kind, n) in &s.atoms_by_kind {
                h.values
                    .get_or_create(&crate::ops::hunt_metrics::KindLabels {
                        kind: kind.to_string(),
                    })
                    .set(*n as i64);
            }
            for (id, why) in s.skipped.iter().take(20) {
                tracing::info!(indicator = %id, reason = %why, "hunting: indicator cannot be hunted");
            }
            tracing::info!(
                indicators = huntable.len(),
                complex = s.complex,
                skipped = s.skipped.len(),
                "hunting plan built"
            );
        }
        self.dirty = false;
        Ok(())
    }

    /// A work and a request on the listen queue for each indicator with new hits.
    async fn dispatch(
        &self,
        deps: &HuntDeps,
        election: &Election,
        found: &BTreeSet<String>,
        cycle: DateTime<Utc>,
    ) -> Result<(), HuntError> {
        let at = cycle.format("%Y-%m-%d %H:%M UTC");
        for id in found {
            let what = self
                .set
                .hunted
                .get(id)
                .map(|i| i.pattern.chars().take(120).collect::<String>())
                .unwrap_or_default();
            let data = deps
                .client
                .query(
                    operations::HUNT_WORK_ADD,
                    json!({"connectorId": deps.reg.connector_id, "friendlyName": format!("Wazuh hunt {at}: {what}")}),
                    None,
                )
                .await?;
            let work_id = data
                .pointer("/workAdd/id")
                .and_then(Value::as_str)
                .ok_or_else(|| HuntError::Other("workAdd returned no work id".into()))?;
            let message = json!({
                "internal": {"work_id": work_id, "applicant_id": deps.reg.connector_user_id, "mode": "manual", "trigger": "hunt"},
                "event": {"entity_id": id, "entity_type": "Indicator"},
            });
            election
                .publish_to(&deps.reg.listen, message.to_string().as_bytes())
                .await?;
        }
        Ok(())
    }
}

/// The concrete fields the indices hold under the vocabulary's field patterns (a `terms`
/// lookup takes one concrete field). When the indexer does not answer, the plan falls back to
/// the fields the connector knows of, and says so.
pub async fn indexer_fields(
    indexer: &crate::indexer::IndexerClient,
    settings: &Settings,
) -> Vec<String> {
    let patterns = crate::hunt::vocabulary_patterns(&settings.search);
    if patterns.is_empty() {
        return Vec::new();
    }
    match indexer.field_caps(&settings.indexer.index, &patterns).await {
        Ok(caps) => crate::hunt::searchable_fields(&caps),
        Err(e) => {
            tracing::warn!(error = %e, "hunting: the indexer did not list its fields; field patterns are searched through the fields the connector knows of");
            Vec::new()
        }
    }
}

/// Every page of a listing (at most `bound` indicators, else an error).
pub async fn list_indicators(
    client: &OpenCtiClient,
    filters: &Value,
    bound: usize,
) -> Result<Vec<Listed>, HuntError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = client
            .query(
                operations::HUNT_INDICATORS,
                json!({"first": LIST_PAGE, "after": after, "filters": filters}),
                None,
            )
            .await?;
        let conn = data
            .get("indicators")
            .filter(|c| c.is_object())
            .ok_or_else(|| {
                HuntError::Other("the platform answered the indicator listing with no list".into())
            })?;
        for edge in conn
            .get("edges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match edge.get("node").and_then(indicators::parse_node) {
                Some(i) => out.push(i),
                None => {
                    return Err(HuntError::Other(
                        "the platform listed an indicator without an id".into(),
                    ))
                }
            }
        }
        if out.len() > bound {
            return Err(HuntError::Other(format!(
                "more than {bound} indicators listed: hunting is paused (WAZUH_HUNT_MAX_INDICATORS)"
            )));
        }
        let next = conn
            .pointer("/pageInfo/hasNextPage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        after = conn
            .pointer("/pageInfo/endCursor")
            .and_then(Value::as_str)
            .map(String::from);
        if !next || after.is_none() {
            return Ok(out);
        }
    }
}
