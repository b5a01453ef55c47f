//! The daemon's [`Observer`]: what the pipeline reports about the indexer and OpenCTI goes into
//! the metrics, the readiness flags and the dependencies' circuit breakers.

use std::sync::Arc;
use std::time::Duration;

use super::breaker::Breakers;
use crate::indexer::IndexerError;
use crate::ops::{Health, Metrics};
use crate::pipeline::observe::Observer;
use crate::pipeline::search::reachable_after;
use crate::pipeline::{EnrichError, ErrorKind};

/// Records the pipeline's events in the daemon's metrics and health flags.
pub struct DaemonObserver {
    pub metrics: Metrics,
    pub health: Health,
    pub breakers: Arc<Breakers>,
}

impl Observer for DaemonObserver {
    fn search_finished(&self, took: Duration, hits: u64) {
        self.metrics.search_finished(took, hits);
        self.health.set_indexer_reachable(true);
        self.breakers.indexer.succeeded();
    }
    fn search_failed(&self, took: Duration, error: &IndexerError) {
        self.metrics.search_failed(took);
        self.health.set_indexer_reachable(reachable_after(error));
        if error.is_transient() {
            self.breakers.indexer.failed();
        } else {
            // It answered (with a refusal that is the request's or the configuration's own).
            self.breakers.indexer.succeeded();
        }
    }
    fn opencti_read_failed(&self, operation: &'static str, error: &EnrichError) {
        self.metrics.opencti_api_error(operation);
        if error.kind == ErrorKind::Transient {
            self.breakers.opencti.failed();
        }
    }
    fn opencti_read_succeeded(&self) {
        self.breakers.opencti.succeeded();
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
            breakers: Arc::new(Breakers::default()),
        };
        o.search_finished(Duration::from_millis(5), 3);
        assert!(o.health.snapshot().indexer_reachable);
        o.search_failed(
            Duration::from_millis(5),
            &IndexerError::Connection("refused".into()),
        );
        assert!(!o.health.snapshot().indexer_reachable);
        assert!(o.breakers.indexer.down_since().is_some());
        o.search_finished(Duration::from_millis(5), 0);
        assert!(o.breakers.indexer.down_since().is_none());
        o.opencti_read_failed("stix", &EnrichError::transient("down"));
        assert!(o.breakers.opencti.down_since().is_some());
        o.opencti_read_failed("stix", &EnrichError::permanent("entity unreadable"));
        o.opencti_read_succeeded();
        assert!(o.breakers.opencti.down_since().is_none());
        let text = o.metrics.encode();
        assert!(
            text.contains("opencti_api_errors_total{operation=\"stix\"} 2"),
            "{text}"
        );
        assert!(text.contains("indexer_search_errors_total 1"), "{text}");
    }
}
