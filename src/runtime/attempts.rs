//! Bounded redelivery: how many times a request has been delivered, so that one that keeps
//! failing is ended in error instead of circulating forever.

use std::collections::HashMap;
use std::sync::Mutex;

/// Most requests tracked at once (oldest forgotten first).
const CAPACITY: usize = 10_000;

/// Request key → (deliveries seen, last-seen clock).
type Counts = HashMap<String, (u32, u64)>;

/// Delivery counts keyed by a stable request key (work id, else entity id + mode).
#[derive(Default)]
pub struct Attempts {
    inner: Mutex<(Counts, u64)>,
}

impl Attempts {
    /// Record a delivery and return its number (1 = first). `redelivered` is the broker's flag; a
    /// redelivery we never saw (e.g. after a restart) counts as the second; `x_delivery_count` (quorum
    /// queues) wins when present.
    pub fn record(&self, key: &str, redelivered: bool, x_delivery_count: Option<u32>) -> u32 {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, clock) = &mut *guard;
        *clock += 1;
        let now = *clock;
        let n = match (x_delivery_count, map.get(key)) {
            (Some(c), _) => c.saturating_add(1),
            (None, Some((c, _))) if redelivered => c.saturating_add(1),
            (None, None) if redelivered => 2,
            _ => 1,
        };
        map.insert(key.to_string(), (n, now));
        if map.len() > CAPACITY {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        n
    }

    /// Forget a request that was finished (acked).
    pub fn forget(&self, key: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_redeliveries() {
        let a = Attempts::default();
        assert_eq!(a.record("w", false, None), 1);
        assert_eq!(a.record("w", true, None), 2);
        assert_eq!(a.record("w", true, None), 3);
        assert_eq!(a.record("other", true, None), 2);
        assert_eq!(a.record("q", true, Some(4)), 5);
        a.forget("w");
        assert_eq!(a.record("w", false, None), 1);
    }
}
