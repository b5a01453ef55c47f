//! Liveness and readiness state.
//!
//! The runtime flips four flags as it goes: `registered` (the last `registerConnector` succeeded),
//! `consuming` (the AMQP consumer on the listen queue is running), `indexer_reachable` (the last
//! contact with the Wazuh indexer succeeded) and `opencti_reachable` (OpenCTI's circuit breaker is
//! closed). The connector is *ready* only when all four hold:
//! before that, or while the indexer is down, an orchestrator should not count it as serving.
//! With continuous hunting on, a fifth: `hunt_current` (the last hunting window ended less than
//! three intervals ago, or this replica is not the hunter).
//! Liveness (`/health`) needs none of them — a process that answers HTTP is alive, and restarting
//! it would not fix an unreachable indexer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;

/// Cloneable handle on the readiness flags (all false at start).
#[derive(Debug, Clone, Default)]
pub struct Health {
    inner: Arc<Flags>,
}

#[derive(Debug, Default)]
struct Flags {
    registered: AtomicBool,
    consuming: AtomicBool,
    indexer_reachable: AtomicBool,
    opencti_unreachable: AtomicBool,
    hunt_behind: AtomicBool,
}

/// The flags at one instant, and what follows from them (the `/ready` JSON body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub registered: bool,
    pub consuming: bool,
    pub indexer_reachable: bool,
    pub opencti_reachable: bool,
    pub hunt_current: bool,
}

/// The `/ready` response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub ready: bool,
    #[serde(flatten)]
    pub flags: Snapshot,
    /// Names of the conditions that do not hold, in a fixed order.
    pub missing: Vec<&'static str>,
}

impl Snapshot {
    /// Pure readiness rule: ready iff registered AND consuming AND both dependencies reachable.
    pub fn readiness(self) -> Readiness {
        let missing: Vec<&'static str> = [
            ("registered", self.registered),
            ("consuming", self.consuming),
            ("indexer_reachable", self.indexer_reachable),
            ("opencti_reachable", self.opencti_reachable),
            ("hunt_current", self.hunt_current),
        ]
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| name)
        .collect();
        Readiness {
            ready: missing.is_empty(),
            flags: self,
            missing,
        }
    }
}

impl Health {
    pub fn new() -> Health {
        Health::default()
    }
    pub fn set_registered(&self, v: bool) {
        self.inner.registered.store(v, Ordering::Relaxed);
    }
    pub fn set_consuming(&self, v: bool) {
        self.inner.consuming.store(v, Ordering::Relaxed);
    }
    pub fn set_indexer_reachable(&self, v: bool) {
        self.inner.indexer_reachable.store(v, Ordering::Relaxed);
    }
    /// OpenCTI's circuit breaker state (reachable until the first outage).
    pub fn set_opencti_reachable(&self, v: bool) {
        self.inner.opencti_unreachable.store(!v, Ordering::Relaxed);
    }
    /// Whether the hunter fell behind (its last window ended more than three intervals ago).
    pub fn set_hunt_behind(&self, v: bool) {
        self.inner.hunt_behind.store(v, Ordering::Relaxed);
    }
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            registered: self.inner.registered.load(Ordering::Relaxed),
            consuming: self.inner.consuming.load(Ordering::Relaxed),
            indexer_reachable: self.inner.indexer_reachable.load(Ordering::Relaxed),
            opencti_reachable: !self.inner.opencti_unreachable.load(Ordering::Relaxed),
            hunt_current: !self.inner.hunt_behind.load(Ordering::Relaxed),
        }
    }
    pub fn readiness(&self) -> Readiness {
        self.snapshot().readiness()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_all_four_hold() {
        for bits in 0u8..16 {
            let s = Snapshot {
                registered: bits & 1 != 0,
                consuming: bits & 2 != 0,
                indexer_reachable: bits & 4 != 0,
                opencti_reachable: bits & 8 != 0,
                hunt_current: true,
            };
            let r = s.readiness();
            assert_eq!(r.ready, bits == 15, "{s:?}");
            assert_eq!(r.missing.len(), 4 - bits.count_ones() as usize);
        }
    }

    #[test]
    fn a_hunter_that_fell_behind_is_not_ready() {
        let h = Health::new();
        h.set_registered(true);
        h.set_consuming(true);
        h.set_indexer_reachable(true);
        assert!(h.readiness().ready);
        h.set_hunt_behind(true);
        assert_eq!(h.readiness().missing, ["hunt_current"]);
        h.set_hunt_behind(false);
        assert!(h.readiness().ready);
    }

    #[test]
    fn missing_names_the_failing_conditions_in_order() {
        let h = Health::new();
        assert_eq!(
            h.readiness().missing,
            ["registered", "consuming", "indexer_reachable"]
        );
        h.set_registered(true);
        h.set_indexer_reachable(true);
        assert_eq!(h.readiness().missing, ["consuming"]);
        let body = serde_json::to_value(h.readiness()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"ready": false, "registered": true, "consuming": false,
                               "indexer_reachable": true, "opencti_reachable": true,
                               "hunt_current": true, "missing": ["consuming"]})
        );
    }
}
