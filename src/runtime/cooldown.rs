//! The re-enrichment cool-down (`CONNECTOR_AUTO_ENRICHMENT_COOLDOWN`): an automatic request for
//! an entity that was enriched less than the cool-down ago is answered without a search.
//!
//! After a feed import or a burst of updates, OpenCTI asks for the same entities again and again
//! (`CONNECTOR_AUTO_UPDATE`, several feeds touching one observable); each request would search the
//! indexer for the same answer. Manual requests and playbook steps always run: a user or a
//! playbook asking has a reason. The window starts when an enrichment starts (so concurrent
//! duplicates are caught too) and is withdrawn when that enrichment does not complete with a
//! search (it failed, was retried, held, or skipped for another reason), so that a failure never
//! suppresses the next request.
//!
//! The memory is this process's: a restart or another replica starts with none, which costs at
//! most one search per entity. Time is passed in, so the rules are tested without waiting.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::pipeline::Mode;

/// Entries are pruned (those older than the window dropped) when the map grows past this, and
/// then past twice what was left, so that pruning stays rare and the map bounded by the number of
/// entities enriched within one window.
const PRUNE_FLOOR: usize = 4096;

#[derive(Debug, Default)]
struct Starts {
    at: HashMap<String, Instant>,
    prune_at: usize,
}

/// When each entity's latest enrichment started, within the cool-down window.
#[derive(Debug)]
pub struct Cooldown {
    window: Duration,
    starts: Mutex<Starts>,
}

/// Whether a request may search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Search; the window of the entity starts at `started` (`None`: the cool-down is off).
    Run { started: Option<Instant> },
    /// Answer without a search; the message ends the work.
    Skip(String),
}

impl Cooldown {
    /// A cool-down of `window`; zero turns it off.
    pub fn new(window: Duration) -> Cooldown {
        Cooldown {
            window,
            starts: Mutex::new(Starts {
                at: HashMap::new(),
                prune_at: PRUNE_FLOOR,
            }),
        }
    }

    fn starts(&self) -> std::sync::MutexGuard<'_, Starts> {
        // A poisoned lock only means a panic elsewhere mid-update of plain data: keep going.
        self.starts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides for a request of `mode` about `entity_id` arriving at `now`. Requests that are not
    /// known to be a user's or a playbook's (automatic ones, and those whose message does not
    /// say, as for the own-objects guard) are skipped inside the window; every request that runs
    /// starts a new window.
    pub fn admit(&self, entity_id: &str, mode: Mode, now: Instant) -> Admission {
        if self.window.is_zero() {
            return Admission::Run { started: None };
        }
        let mut s = self.starts();
        if !matches!(mode, Mode::Manual | Mode::Playbook) {
            if let Some(at) = s.at.get(entity_id) {
                let age = now.saturating_duration_since(*at);
                if age < self.window {
                    return Admission::Skip(skip_message(age, self.window));
                }
            }
        }
        if s.at.len() >= s.prune_at {
            let window = self.window;
            s.at.retain(|_, at| now.saturating_duration_since(*at) < window);
            s.prune_at = (s.at.len() * 2).max(PRUNE_FLOOR);
        }
        s.at.insert(entity_id.to_string(), now);
        Admission::Run { started: Some(now) }
    }

    /// The request admitted at `started` ended; `searched` tells whether it completed with a
    /// search. If not, its window is withdrawn (unless a later request started a newer one).
    pub fn settle(&self, entity_id: &str, started: Option<Instant>, searched: bool) {
        let Some(started) = started.filter(|_| !searched) else {
            return;
        };
        let mut s = self.starts();
        if s.at.get(entity_id) == Some(&started) {
            s.at.remove(entity_id);
        }
    }
}

/// The work message of a skipped request: what happened, why, and how to search anyway.
fn skip_message(age: Duration, window: Duration) -> String {
    let round = |d: Duration| humantime::format_duration(Duration::from_secs(d.as_secs()));
    let when = if age.as_secs() == 0 {
        "less than a second ago (or is being enriched now)".to_string()
    } else {
        format!("{} ago", round(age))
    };
    format!(
        "Automatic enrichment skipped: the entity was enriched {when}, within the re-enrichment cool-down of {} (CONNECTOR_AUTO_ENRICHMENT_COOLDOWN); no search was made. Enrich it manually to search now.",
        round(window)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn started(a: &Admission) -> Option<Instant> {
        match a {
            Admission::Run { started } => *started,
            Admission::Skip(m) => panic!("skipped: {m}"),
        }
    }

    #[test]
    fn automatic_requests_inside_the_window_are_skipped_with_the_reason() {
        let c = Cooldown::new(10 * MIN);
        let t0 = Instant::now();
        let first = c.admit("x", Mode::Auto, t0);
        c.settle("x", started(&first), true);
        match c.admit("x", Mode::Auto, t0 + 3 * MIN + Duration::from_millis(400)) {
            Admission::Skip(m) => {
                assert!(m.starts_with("Automatic enrichment skipped"), "{m}");
                assert!(
                    m.contains("enriched 3m ago") && m.contains("cool-down of 10m"),
                    "{m}"
                );
                assert!(m.contains("CONNECTOR_AUTO_ENRICHMENT_COOLDOWN"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        // Unstated requests are guarded like automatic ones.
        assert!(matches!(
            c.admit("x", Mode::Unstated, t0 + MIN),
            Admission::Skip(_)
        ));
        // Another entity, and the same one once the window is over, run.
        started(&c.admit("y", Mode::Auto, t0 + MIN));
        started(&c.admit("x", Mode::Auto, t0 + 10 * MIN));
    }

    #[test]
    fn manual_and_playbook_requests_always_run_and_restart_the_window() {
        let c = Cooldown::new(10 * MIN);
        let t0 = Instant::now();
        started(&c.admit("x", Mode::Auto, t0));
        started(&c.admit("x", Mode::Manual, t0 + MIN));
        started(&c.admit("x", Mode::Playbook, t0 + 2 * MIN));
        // The window now runs from the playbook's run.
        assert!(matches!(
            c.admit("x", Mode::Auto, t0 + 11 * MIN),
            Admission::Skip(_)
        ));
        started(&c.admit("x", Mode::Auto, t0 + 12 * MIN));
    }

    #[test]
    fn a_request_that_did_not_search_withdraws_its_window() {
        let c = Cooldown::new(10 * MIN);
        let t0 = Instant::now();
        let failed = c.admit("x", Mode::Auto, t0);
        c.settle("x", started(&failed), false);
        let retried = c.admit("x", Mode::Auto, t0 + MIN);
        // A concurrent duplicate is skipped while it runs ("being enriched now").
        match c.admit("x", Mode::Auto, t0 + MIN) {
            Admission::Skip(m) => assert!(m.contains("being enriched now"), "{m}"),
            other => panic!("{other:?}"),
        }
        // An older request settling late does not withdraw the newer window.
        c.settle("x", started(&failed), false);
        assert!(matches!(
            c.admit("x", Mode::Auto, t0 + 2 * MIN),
            Admission::Skip(_)
        ));
        c.settle("x", started(&retried), true);
    }

    #[test]
    fn off_when_zero_and_bounded_when_on() {
        let off = Cooldown::new(Duration::ZERO);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(
                off.admit("x", Mode::Auto, t0),
                Admission::Run { started: None }
            );
        }
        let c = Cooldown::new(MIN);
        for i in 0..3 * PRUNE_FLOOR {
            let now = t0 + Duration::from_secs(i as u64);
            started(&c.admit(&format!("e{i}"), Mode::Auto, now));
        }
        assert!(
            c.starts().at.len() <= 2 * PRUNE_FLOOR,
            "{}",
            c.starts().at.len()
        );
    }
}
