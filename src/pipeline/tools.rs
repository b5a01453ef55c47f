//! The names of the Tool entities known in OpenCTI, fetched once at start-up and refreshed at most
//! once an hour: the knowledge stage links a `tool` context object only to tools OpenCTI knows,
//! and tools created while the daemon runs should be found without a restart.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::EntitySource;

/// How long a fetched list is used before it is fetched again.
pub const TOOLS_REFRESH: Duration = Duration::from_secs(3600);

#[derive(Default)]
struct Cached {
    names: Arc<Vec<String>>,
    fetched: Option<Instant>,
}

/// A shared, lazily refreshed list of tool names.
#[derive(Default)]
pub struct ToolCache {
    inner: Mutex<Cached>,
}

impl std::fmt::Debug for ToolCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolCache").finish_non_exhaustive()
    }
}

impl ToolCache {
    /// The cached names, fetched first when never fetched or older than [`TOOLS_REFRESH`]. A
    /// failed fetch keeps the previous list (possibly empty) and is retried on the next request.
    pub async fn names(&self, source: &dyn EntitySource) -> Arc<Vec<String>> {
        let mut g = self.inner.lock().await;
        let fresh = g.fetched.is_some_and(|t| t.elapsed() < TOOLS_REFRESH);
        if !fresh {
            match source.tool_names().await {
                Ok(mut names) => {
                    names.sort();
                    names.dedup();
                    tracing::debug!(tools = names.len(), "tools known in OpenCTI fetched");
                    g.names = Arc::new(names);
                    g.fetched = Some(Instant::now());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot list the tools known in OpenCTI; tool context objects use the previous list");
                }
            }
        }
        g.names.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{BoxFut, EnrichError};
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Counting(AtomicU32, bool);
    impl EntitySource for Counting {
        fn tool_names(&self) -> BoxFut<'_, Result<Vec<String>, EnrichError>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            let fail = self.1;
            Box::pin(async move {
                if fail {
                    Err(EnrichError::transient("down"))
                } else {
                    Ok(vec!["psexec".into(), "mimikatz".into(), "psexec".into()])
                }
            })
        }
    }

    #[tokio::test]
    async fn fetched_once_then_cached() {
        let src = Counting(AtomicU32::new(0), false);
        let c = ToolCache::default();
        assert_eq!(*c.names(&src).await, vec!["mimikatz", "psexec"]);
        c.names(&src).await;
        assert_eq!(src.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failures_are_retried_on_the_next_request() {
        let src = Counting(AtomicU32::new(0), true);
        let c = ToolCache::default();
        assert!(c.names(&src).await.is_empty());
        c.names(&src).await;
        assert_eq!(src.0.load(Ordering::SeqCst), 2);
    }
}
