//! How the process asks glibc's allocator to hold memory: return large blocks to the system
//! as soon as they are freed, keep two arenas instead of one per thread, and give free pages
//! back after each request.
//!
//! A request's large, short-lived blocks — the HTTP client's read buffers (up to ~400 KiB each
//! while a 10,000-alert answer streams in), serialised bundles and push messages — are freed
//! within the request. glibc's defaults keep them: after the first large block is freed its
//! mmap threshold rises to that block's size, so later ones come from the heap, where freed
//! space is kept unless it lies at the top; and every thread that allocates (tokio's workers,
//! the blocking threads that read answers) may get an arena of its own that keeps its own
//! high-water mark. With blocks of 128 KiB and more mapped on their own (and unmapped when
//! freed) and two arenas, peak RSS at four concurrent 10,000-hit requests drops by 2–6 MB
//! (BENCHMARKS.md §5.3) for a few `mmap` calls per request.
//!
//! After each request, the free pages left between live blocks go back too ([`release_free`]).
//!
//! An operator's own allocator settings win: with `GLIBC_TUNABLES` naming a `glibc.malloc`
//! tunable, or any `MALLOC_*` variable set, nothing here changes.

/// Blocks of this size and more are mapped on their own and returned when freed.
pub const MMAP_THRESHOLD: i32 = 128 * 1024;
/// Free space above this at the top of the heap is returned to the system.
pub const TRIM_THRESHOLD: i32 = 128 * 1024;
/// Arenas shared by all threads.
pub const ARENAS: i32 = 2;

/// What [`tune`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tuning {
    /// The settings above are in effect.
    Applied,
    /// The operator's environment sets the allocator; left as they set it.
    OperatorSettings,
    /// Not glibc (or a setting was refused): the allocator's defaults stay.
    Unavailable,
}

/// Set once [`tune`] applied the settings: [`release_free`] acts only then.
static APPLIED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Returns the free pages inside the heaps to the system, after a request ends.
///
/// The trim threshold only returns free space at the *top* of a heap; a request's many small
/// blocks (knowledge objects, parsed documents) are freed in whatever order, and the free
/// pages they leave between live blocks stay resident until a later request happens to reuse
/// them. Trimming after each request keeps the resident set near what the requests in flight
/// hold. It walks the free lists of the two arenas and the pages it returns are faulted in again
/// when reused: measured end to end, a few milliseconds of CPU per 10,000-hit request
/// (BENCHMARKS.md §5.4). Nothing is done under the operator's own allocator settings.
pub fn release_free() {
    if APPLIED.load(std::sync::atomic::Ordering::Relaxed) {
        trim();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: `malloc_trim` takes a plain integer (the padding to keep) and only returns free
    // pages of the allocator's own heaps to the system; it is thread-safe (each arena is
    // locked while it is trimmed).
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

/// Whether the environment already tunes glibc's allocator.
pub fn operator_tunes(vars: impl IntoIterator<Item = (String, String)>) -> bool {
    vars.into_iter().any(|(k, v)| {
        k.starts_with("MALLOC_") || (k == "GLIBC_TUNABLES" && v.contains("glibc.malloc."))
    })
}

/// Applies the settings, unless the operator's environment has its own. Call it first in
/// `main`, before any thread starts.
pub fn tune() -> Tuning {
    if operator_tunes(
        std::env::vars_os().filter_map(|(k, v)| {
            Some((k.into_string().ok()?, v.into_string().unwrap_or_default()))
        }),
    ) {
        return Tuning::OperatorSettings;
    }
    apply()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn apply() -> Tuning {
    let settings = [
        (libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (libc::M_ARENA_MAX, ARENAS),
    ];
    let mut applied = true;
    for (param, value) in settings {
        // SAFETY: `mallopt` takes two plain integers and only changes the allocator's
        // parameters; glibc documents it as callable at any time, and it is called before the
        // runtime starts any thread.
        applied &= unsafe { libc::mallopt(param, value) } == 1;
    }
    if applied {
        APPLIED.store(true, std::sync::atomic::Ordering::Relaxed);
        Tuning::Applied
    } else {
        Tuning::Unavailable
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn apply() -> Tuning {
    Tuning::Unavailable
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_operators_allocator_settings_are_left_alone() {
        assert!(operator_tunes(env(&[("MALLOC_ARENA_MAX", "4")])));
        assert!(operator_tunes(env(&[(
            "GLIBC_TUNABLES",
            "glibc.malloc.mmap_threshold=65536"
        )])));
        assert!(!operator_tunes(env(&[(
            "GLIBC_TUNABLES",
            "glibc.rtld.optional_static_tls=2048"
        )])));
        assert!(!operator_tunes(env(&[
            ("CONNECTOR_ID", "x"),
            ("PATH", "/bin")
        ])));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn anon_rss_mb() -> f64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("RssAnon:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap();
        kb / 1024.0
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn trimming_returns_the_free_pages_between_live_blocks() {
        // 64 MB of small blocks, one in 32 kept: the free space lies between live blocks, where
        // neither the trim threshold nor unmapping reaches it.
        let mut blocks: Vec<Vec<u8>> = (0..131_072).map(|i| vec![i as u8; 512]).collect();
        let kept: Vec<Vec<u8>> = blocks.iter_mut().step_by(32).map(std::mem::take).collect();
        drop(blocks);
        let before = anon_rss_mb();
        trim();
        let after = anon_rss_mb();
        assert!(
            before - after > 32.0,
            "resident anonymous memory {before:.1} MB -> {after:.1} MB"
        );
        assert!(kept.iter().all(|b| b.len() == 512));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_accepts_the_settings() {
        // The test binary's own allocator: the same calls the daemon makes at start-up.
        assert_eq!(apply(), Tuning::Applied);
    }
}
