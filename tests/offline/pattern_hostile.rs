//! Hostile STIX patterns: indicators arrive from feeds and are enriched automatically, so a
//! pattern built to exhaust the connector or the indexer must be refused with a message naming
//! the limit, or translated into a query within the limits (clauses, regexp length, bytes) —
//! quickly and without large allocations, at every size up to the largest request message.

use connector_wazuh::config::options::SearchOptions;
use connector_wazuh::pattern::budget::{
    clause_count, serialized_len_within, MAX_CLAUSES, MAX_QUERY_BYTES, MAX_REGEX_LEN,
};
use connector_wazuh::pattern::{query_for_pattern, PatternError, MAX_PATTERN_LEN};

/// `CONNECTOR_MAX_MESSAGE_BYTES`' default: the largest request body the connector reads.
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// `unit` repeated to just under `len` bytes, joined by `sep`.
fn fill(unit: &str, sep: &str, len: usize) -> String {
    let n = (len / (unit.len() + sep.len())).max(1);
    vec![unit; n].join(sep)
}

/// One observation: `cmp` ORed with itself to about `len` bytes.
fn any_of(cmp: &str, len: usize) -> String {
    format!("[{}]", fill(cmp, " OR ", len))
}

/// The sizes each construct is tried at: small, just under the pattern length limit, and the
/// largest request message.
const SIZES: [usize; 3] = [200, MAX_PATTERN_LEN - 64, MAX_MESSAGE_BYTES];

/// Calls `f(name, pattern)` for each hostile construct at each size, one pattern in memory at
/// a time.
fn each_hostile_pattern(mut f: impl FnMut(&str, &str)) {
    for size in SIZES {
        let mut add = |name: &str, p: String| f(&format!("{name} @{size}"), &p);
        // Address blocks expanded to one clause per address and field.
        add(
            "ipv6 ISSUBSET",
            any_of("ipv6-addr:value ISSUBSET '2001:db8::/120'", size),
        );
        add(
            "ipv6 small ISSUBSET",
            any_of("ipv6-addr:value ISSUBSET '2001:db8::/125'", size),
        );
        add(
            "wide ipv4 ISSUBSET",
            any_of("ipv4-addr:value ISSUBSET '10.0.0.0/9'", size),
        );
        add(
            "IN list",
            format!(
                "[ipv4-addr:value IN ({})]",
                fill("'93.184.216.34'", ",", size)
            ),
        );
        add(
            "observations",
            fill("[domain-name:value = 'evil.example']", " OR ", size),
        );
        // Automata on the indexer: `%` runs, long LIKE values, nested counted repetitions.
        add(
            "LIKE % runs",
            format!("[url:value LIKE '{}']", fill("%%%%%%%%a", "", size)),
        );
        add(
            "LIKE only %",
            format!("[url:value LIKE '{}']", "%".repeat(size)),
        );
        add(
            "MATCHES nested repetitions",
            format!(
                "[url:value MATCHES '{}a{}']",
                "(".repeat(size / 20),
                "{1,1000})".repeat(size / 20)
            ),
        );
        add(
            "MATCHES long",
            format!("[url:value MATCHES '^{}$']", "a".repeat(size)),
        );
        add(
            "MATCHES many stars",
            format!("[url:value MATCHES '{}']", "(a*)*".repeat(size / 5)),
        );
        // Recursion: qualifier chains and parentheses.
        add(
            "REPEATS chain",
            format!(
                "[domain-name:value = 'a']{}",
                " REPEATS 2 TIMES".repeat(size / 16)
            ),
        );
        add(
            "START STOP chain",
            format!(
                "[domain-name:value = 'a']{}",
                " START t'2024-01-01T00:00:00Z' STOP t'2024-01-02T00:00:00Z'".repeat(size / 60)
            ),
        );
        add(
            "WITHIN in parentheses",
            format!(
                "{}[domain-name:value = 'a']{}",
                "(".repeat(size / 20),
                ") WITHIN 1 SECONDS".repeat(size / 20)
            ),
        );
    }
}

/// Refused with a message naming a limit, or a query within every limit.
fn check(name: &str, pattern: &str) {
    match query_for_pattern(pattern, &SearchOptions::default()) {
        Ok(t) => {
            let clauses = clause_count(&t.query);
            assert!(clauses <= MAX_CLAUSES, "{name}: {clauses} clauses");
            let bytes = serialized_len_within(&t.query, MAX_QUERY_BYTES);
            assert!(bytes.is_ok(), "{name}: query over {MAX_QUERY_BYTES} bytes");
            let text = t.query.to_string();
            assert!(!text.contains(".*.*"), "{name}: uncollapsed % run");
        }
        Err(PatternError::TooLarge(m)) => {
            let named = [
                "bytes long",
                "clause",
                "max_regex_length",
                "repeats more than",
                "nested",
                "comparisons and constants",
            ];
            assert!(named.iter().any(|n| m.contains(n)), "{name}: {m}");
            assert!(m.len() < 1000, "{name}: message of {} bytes", m.len());
        }
        Err(PatternError::Syntax { message, .. }) => {
            assert!(message.contains("nesting"), "{name}: {message}")
        }
        Err(e) => panic!("{name}: unexpected {e}"),
    }
}

#[test]
fn hostile_patterns_are_refused_or_bounded() {
    each_hostile_pattern(check);
}

#[test]
fn the_refusal_names_the_limit_and_the_comparison() {
    let e = query_for_pattern(
        "[ipv6-addr:value ISSUBSET '2001:db8::/120']",
        &SearchOptions::default(),
    )
    .unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("ipv6-addr:value ISSUBSET") && m.contains("256 value(s)"),
        "{m}"
    );
    assert!(
        m.contains(&format!("clause budget is {MAX_CLAUSES}")),
        "{m}"
    );
    // A collapsed `%` run is still the same LIKE.
    let a = query_for_pattern("[url:value LIKE 'http://%%%evil%%']", &Default::default());
    let b = query_for_pattern("[url:value LIKE 'http://%evil%']", &Default::default());
    assert_eq!(a.unwrap().query, b.unwrap().query);
    // Longest accepted regexp: exactly the indexer's limit.
    let re = format!("[url:value MATCHES '^{}$']", "a".repeat(MAX_REGEX_LEN));
    if let Err(e) = query_for_pattern(&re, &Default::default()) {
        panic!("{e}");
    }
}

/// Peak resident memory of this process (kB), from `/proc/self/status`.
fn vm_hwm_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Run in a child process by [`translating_hostile_patterns_keeps_memory_small`]: builds and
/// translates every hostile pattern, then prints the peak before and after.
#[test]
fn hostile_memory_child() {
    if std::env::var_os("HOSTILE_MEMORY_CHILD").is_none() {
        return;
    }
    // First the inputs alone, so that the peak they cause is in `before`.
    each_hostile_pattern(|_, p| assert!(!p.is_empty()));
    let before = vm_hwm_kb().unwrap_or(0);
    each_hostile_pattern(|_, p| {
        let _ = query_for_pattern(p, &SearchOptions::default());
    });
    let after = vm_hwm_kb().unwrap_or(0);
    println!("HWM {before} {after}");
}

#[test]
fn translating_hostile_patterns_keeps_memory_small() {
    if vm_hwm_kb().is_none() {
        return; // not Linux
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "pattern_hostile::hostile_memory_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HOSTILE_MEMORY_CHILD", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.split("HWM ").nth(1))
        .unwrap_or_else(|| panic!("no measure in {text}"));
    let v: Vec<u64> = line.split(' ').filter_map(|n| n.parse().ok()).collect();
    let (before, after) = (v[0], v[1]);
    eprintln!("hostile patterns: peak RSS {before} kB before translating, {after} kB after");
    // The peak of the inputs themselves (16 MiB patterns) is in `before`; the translation
    // adds at most a few MB on top.
    assert!(
        after - before < 32 * 1024,
        "translation raised the peak by {} kB",
        after - before
    );
}
