//! What the pipeline reports about its dependencies while it works: searches (duration, hits,
//! failures) and failed OpenCTI reads. The daemon turns these events into metrics, readiness
//! flags and the dependencies' circuit breakers; the one-shot command ignores them. This is the
//! only way the pipeline reports anything, so each event is recorded exactly once.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::{BoxFut, EnrichError, EntitySource, IndicatorWithObservables};
use crate::entity::IndicatorInfo;
use crate::indexer::IndexerError;

/// Receiver of the pipeline's dependency events (every method defaults to doing nothing).
pub trait Observer: Send + Sync {
    /// One search succeeded after `took` with `hits` matching alerts in total.
    fn search_finished(&self, _took: Duration, _hits: u64) {}
    /// One search failed for good (after the client's retries).
    fn search_failed(&self, _took: Duration, _error: &IndexerError) {}
    /// A read from OpenCTI failed; `operation` names it (`stix`, `indicator`, …).
    fn opencti_read_failed(&self, _operation: &'static str, _error: &EnrichError) {}
    /// A read from OpenCTI succeeded (the platform answers).
    fn opencti_read_succeeded(&self) {}
    /// The indexer client's adaptive limit of searches in flight is now `limit`.
    fn search_limit(&self, _limit: usize) {}
}

/// An observer that records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unobserved;

impl Observer for Unobserved {}

/// The context's [`EntitySource`]: every read goes to `inner` and its result to `observer`.
pub(super) struct Observed {
    pub inner: Arc<dyn EntitySource>,
    pub observer: Arc<dyn Observer>,
}

impl Observed {
    fn report<T>(
        &self,
        operation: &'static str,
        r: Result<T, EnrichError>,
    ) -> Result<T, EnrichError> {
        match &r {
            Ok(_) => self.observer.opencti_read_succeeded(),
            Err(e) => self.observer.opencti_read_failed(operation, e),
        }
        r
    }
}

impl EntitySource for Observed {
    fn read_stix<'a>(
        &'a self,
        id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Option<Value>, EnrichError>> {
        Box::pin(async move { self.report("stix", self.inner.read_stix(id, applicant).await) })
    }
    fn indicators_of<'a>(
        &'a self,
        observable_id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Vec<IndicatorInfo>, EnrichError>> {
        Box::pin(async move {
            self.report(
                "stixCyberObservable",
                self.inner.indicators_of(observable_id, applicant).await,
            )
        })
    }
    fn indicator<'a>(
        &'a self,
        id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Option<IndicatorWithObservables>, EnrichError>> {
        Box::pin(async move { self.report("indicator", self.inner.indicator(id, applicant).await) })
    }
    fn tool_names(&self) -> BoxFut<'_, Result<Vec<String>, EnrichError>> {
        Box::pin(async move { self.report("tools", self.inner.tool_names().await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Failing;
    impl EntitySource for Failing {
        fn read_stix<'a>(
            &'a self,
            _: &'a str,
            _: Option<&'a str>,
        ) -> BoxFut<'a, Result<Option<Value>, EnrichError>> {
            Box::pin(async { Err(EnrichError::transient("down")) })
        }
        fn indicators_of<'a>(
            &'a self,
            _: &'a str,
            _: Option<&'a str>,
        ) -> BoxFut<'a, Result<Vec<IndicatorInfo>, EnrichError>> {
            Box::pin(async { Ok(vec![]) })
        }
        fn indicator<'a>(
            &'a self,
            _: &'a str,
            _: Option<&'a str>,
        ) -> BoxFut<'a, Result<Option<IndicatorWithObservables>, EnrichError>> {
            Box::pin(async { Ok(None) })
        }
        fn tool_names(&self) -> BoxFut<'_, Result<Vec<String>, EnrichError>> {
            Box::pin(async { Err(EnrichError::permanent("no")) })
        }
    }

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);
    impl Observer for Log {
        fn opencti_read_failed(&self, operation: &'static str, _: &EnrichError) {
            self.0.lock().unwrap().push(format!("failed {operation}"));
        }
        fn opencti_read_succeeded(&self) {
            self.0.lock().unwrap().push("ok".into());
        }
    }

    #[tokio::test]
    async fn every_read_is_reported_once_by_operation() {
        let log = Arc::new(Log::default());
        let o = Observed {
            inner: Arc::new(Failing),
            observer: log.clone(),
        };
        assert!(o.read_stix("x", None).await.is_err());
        assert!(o.tool_names().await.is_err());
        assert!(o.indicators_of("x", None).await.is_ok());
        assert_eq!(
            *log.0.lock().unwrap(),
            ["failed stix", "failed tools", "ok"]
        );
    }
}
