//! Stage "search" (the imperative shell around [`crate::indexer`]): runs one search request,
//! reports its duration and hits (or its failure) to the context's observer, and turns indexer
//! failures into work errors that say whether trying again later can help.

use std::time::Instant;

use super::{Context, Dependency, EnrichError};
use crate::alert::SearchResult;
use crate::indexer::{IndexerClient, IndexerError};
use crate::pattern::budget;
use crate::search::envelope::SearchRequest;

/// Whether an answer (or failure) shows the indexer usable. An indexer that answers but refuses
/// a query (400) or has no matching index is reachable; bad credentials, TLS problems and
/// connection failures make it unusable for every request.
pub fn reachable_after(e: &IndexerError) -> bool {
    matches!(
        e,
        IndexerError::BadRequest(_)
            | IndexerError::NoIndex(_)
            | IndexerError::NotFound(_)
            | IndexerError::TooLarge(_)
    )
}

/// The work error for an indexer failure: transient (redelivered up to the attempt limit) when
/// the indexer is down, slow or overloaded (timeouts, connection errors, 429, 5xx), permanent
/// otherwise (bad query, credentials, permissions), always with the indexer's reason.
pub fn enrich_error(e: &IndexerError) -> EnrichError {
    let message = format!("Wazuh indexer search failed: {e}");
    if e.is_transient() {
        EnrichError::unavailable(Dependency::Indexer, message)
    } else {
        EnrichError::permanent(message)
    }
}

/// Runs `req` on `indexer`, reporting the outcome to the context's observer.
pub async fn run(
    ctx: &Context,
    indexer: &IndexerClient,
    req: &SearchRequest,
) -> Result<SearchResult, EnrichError> {
    // Every part of the body is bounded where it is built; this is the last line of defence,
    // so that no request can make the indexer parse an unbounded query.
    if let Err(max) = budget::serialized_len_within(&req.body, budget::MAX_SEARCH_BODY_BYTES) {
        return Err(EnrichError::permanent(format!(
            "the search was not sent: its body is larger than {max} bytes, the connector's \
             limit on one search (split the indicator's pattern or its based-on observables)"
        )));
    }
    let started = Instant::now();
    let outcome = indexer.search(req).await;
    ctx.observer.search_limit(indexer.limiter().limit());
    match outcome {
        Ok(result) => {
            ctx.observer
                .search_finished(started.elapsed(), result.total);
            for f in &result.shard_failures {
                tracing::error!(failure = %f, "indexer shard failure; using the hits that came back");
            }
            Ok(result)
        }
        Err(e) => {
            ctx.observer.search_failed(started.elapsed(), &e);
            tracing::warn!(error = %e, transient = e.is_transient(), "indexer search failed");
            Err(enrich_error(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::ErrorKind;
    use std::time::Duration;

    #[test]
    fn down_slow_or_overloaded_is_transient_and_named() {
        for e in [
            IndexerError::Connection("refused".into()),
            IndexerError::Timeout(Duration::from_secs(20)),
            IndexerError::Server {
                status: 429,
                reason: "too many requests".into(),
            },
            IndexerError::Server {
                status: 503,
                reason: "unavailable".into(),
            },
            IndexerError::SearchTimedOut,
        ] {
            let w = enrich_error(&e);
            assert_eq!(w.kind, ErrorKind::Transient, "{e}");
            assert!(w.message.contains("indexer"), "{}", w.message);
            assert!(!reachable_after(&e));
        }
    }

    #[test]
    fn refusals_are_permanent_with_the_reason() {
        let e = enrich_error(&IndexerError::BadRequest(
            "[regexp] queries cannot be executed when 'search.allow_expensive_queries' is false"
                .into(),
        ));
        assert_eq!(e.kind, ErrorKind::Permanent);
        assert!(
            e.message.contains("allow_expensive_queries"),
            "{}",
            e.message
        );
        for e in [
            IndexerError::Credentials,
            IndexerError::Permissions("no read on wazuh-alerts-*".into()),
        ] {
            assert_eq!(enrich_error(&e).kind, ErrorKind::Permanent);
            assert!(!reachable_after(&e));
        }
        assert!(reachable_after(&IndexerError::BadRequest("x".into())));
    }
}
