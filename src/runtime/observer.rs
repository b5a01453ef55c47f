//! The daemon's [`Observer`]: what the pipeline reports about the indexer and OpenCTI goes into
//! the metrics and the readiness flags.

use std::time::Duration;

use crate::indexer::IndexerError;
use crate::ops::{Health, Metrics};
use crate::pipeline::observe::Observer;
use crate::pipeline::search::reachable_after;
use crate::pipeline::EnrichError;

/// Records the pipeline's events in the daemon's metrics and health flags.
pub struct DaemonObserver {
    pub metrics: Metrics,
    pub health: Health,
}

impl Observer for DaemonObserver {
    fn search_finished(&self, took: Duration, hits: u64) {
        self.metrics.search_finished(took, hits);
        self.health.set_indexer_reachable(true);
    }
    fn search_failed(&self, took: Duration, error: &IndexerError) {
        self.metrics.search_failed(took);
        self.health.set_indexer_reachable(reachable_after(error));
    }
    fn opencti_read_failed(&self, operation: &'static str, _error: &EnrichError) {
        self.metrics.opencti_api_error(operation);
    }
    fn search_limit(&self, limit: usize) {
        self.metrics.set_search_limit(limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_and_reads_land_in_metrics_and_readiness() {
        let o = DaemonObserver {
            metrics: Metrics::new(),
            health: Health::new(),
        };
        o.search_finished(Duration::from_millis(5), 3);
        assert!(o.health.snapshot().indexer_reachable);
        o.search_failed(
            Duration::from_millis(5),
            &IndexerError::Connection("refused".into()),
        );
        assert!(!o.health.snapshot().indexer_reachable);
        o.opencti_read_failed("stix", &EnrichError::transient("down"));
        let text = o.metrics.encode();
        assert!(
            text.contains("opencti_api_errors_total{operation=\"stix\"} 1"),
            "{text}"
        );
        assert!(text.contains("indexer_search_errors_total 1"), "{text}");
    }
}
