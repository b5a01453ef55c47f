//! Counts failed OpenCTI reads of the pipeline in `opencti_api_errors_total{operation}` (and
//! pycti's `client_errors_total`), without the pipeline knowing about metrics.

use std::sync::Arc;

use serde_json::Value;

use crate::entity::IndicatorInfo;
use crate::ops::Metrics;
use crate::pipeline::{BoxFut, EnrichError, EntitySource, IndicatorWithObservables};

/// An [`EntitySource`] that records the failures of the one it wraps.
pub struct Metered {
    pub inner: Arc<dyn EntitySource>,
    pub metrics: Metrics,
}

impl Metered {
    fn count<T>(
        &self,
        operation: &'static str,
        r: Result<T, EnrichError>,
    ) -> Result<T, EnrichError> {
        if r.is_err() {
            self.metrics.opencti_api_error(operation);
        }
        r
    }
}

impl EntitySource for Metered {
    fn read_stix<'a>(
        &'a self,
        id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Option<Value>, EnrichError>> {
        Box::pin(async move { self.count("stix", self.inner.read_stix(id, applicant).await) })
    }
    fn indicators_of<'a>(
        &'a self,
        observable_id: &'a str,
        applicant: Option<&'a str>,
    ) -> BoxFut<'a, Result<Vec<IndicatorInfo>, EnrichError>> {
        Box::pin(async move {
            self.count(
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
        Box::pin(async move { self.count("indicator", self.inner.indicator(id, applicant).await) })
    }
    fn tool_names(&self) -> BoxFut<'_, Result<Vec<String>, EnrichError>> {
        Box::pin(async move { self.count("tools", self.inner.tool_names().await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn failures_are_counted_by_operation_successes_are_not() {
        let m = Metered {
            inner: Arc::new(Failing),
            metrics: Metrics::new(),
        };
        assert!(m.read_stix("x", None).await.is_err());
        assert!(m.tool_names().await.is_err());
        assert!(m.indicators_of("x", None).await.is_ok());
        let text = m.metrics.encode();
        assert!(
            text.contains("opencti_api_errors_total{operation=\"stix\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("opencti_api_errors_total{operation=\"tools\"} 1"),
            "{text}"
        );
        assert!(
            !text.contains("operation=\"stixCyberObservable\"} 1"),
            "{text}"
        );
    }
}
