//! The deterministic benchmark corpus: Wazuh-shaped alerts built from the 53 sample alerts
//! (`tests/fixtures/wazuh/alerts.ndjson`), with varied agents, timestamps and values, and for
//! each benchmarked observable kind one value per hit tier (0, 10, 1,000, 10,000 and every
//! alert).
//!
//! Layout, for alert `n` of `N`:
//! * the base document is sample `n mod 53`; agent `n·7 mod 25`; `@timestamp` 12 s apart from
//!   2026-11-01T00:00:00Z (alert `N-1` is the newest);
//! * per kind, field A carries the every-alert value in all alerts;
//! * per kind, field B carries, by a fixed permutation `m = n·7919 mod N` of the alerts, the
//!   10-hit value for `m < 10`, the 1,000-hit value for `m < 1,010`, the 10,000-hit value for
//!   `m < 11,010`, and a value unique to that alert otherwise (so tiers are spread over time and
//!   agents instead of being the newest alerts).
//!
//! The 0-hit value of every kind is in no alert. No generated value contains another one (the
//! counts are exact for every query form, including regexp).

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// The hit tiers below "every alert" (the last tier is the corpus size).
pub const FIXED_TIERS: [u64; 4] = [0, 10, 1_000, 10_000];
/// The permutation multiplier (prime; must not divide the corpus size).
const PERM: u64 = 7919;
/// Number of distinct agents.
pub const AGENTS: u64 = 25;
/// Index the corpus goes to (matched by the default `wazuh-alerts-*`).
pub const INDEX: &str = "wazuh-alerts-4.x-2026.11.01";

/// The observable kinds of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ipv4,
    Domain,
    FileSha256,
    FileName,
    RegistryKey,
    Process,
}

pub const KINDS: [Kind; 6] = [
    Kind::Ipv4,
    Kind::Domain,
    Kind::FileSha256,
    Kind::FileName,
    Kind::RegistryKey,
    Kind::Process,
];

impl Kind {
    /// Short label for tables and the `--kinds` option.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4",
            Kind::Domain => "domain",
            Kind::FileSha256 => "file-sha256",
            Kind::FileName => "file-name",
            Kind::RegistryKey => "regkey",
            Kind::Process => "process",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        KINDS.into_iter().find(|k| k.label() == s)
    }

    /// OpenCTI entity type (for `search::plan`).
    pub fn entity_type(self) -> &'static str {
        match self {
            Kind::Ipv4 => "IPv4-Addr",
            Kind::Domain => "Domain-Name",
            Kind::FileSha256 | Kind::FileName => "StixFile",
            Kind::RegistryKey => "Windows-Registry-Key",
            Kind::Process => "Process",
        }
    }

    /// Field A (every alert) and field B (the tiers and unique values).
    fn fields(self) -> (&'static str, &'static str) {
        match self {
            Kind::Ipv4 => ("data.srcip", "data.dstip"),
            Kind::Domain => ("data.dns.question.name", "data.tls.sni"),
            Kind::FileSha256 => ("syscheck.sha256_after", "data.virustotal.source.sha256"),
            Kind::FileName => ("data.win.eventdata.targetFilename", "data.audit.file.name"),
            Kind::RegistryKey => ("data.win.eventdata.targetObject", "syscheck.path"),
            Kind::Process => ("data.win.eventdata.parentCommandLine", "data.command"),
        }
    }

    /// The observable's value for a tag (`t0`, `t10`, …, `all`), as searched.
    pub fn value(self, tag: &str) -> String {
        let i = tag_index(tag);
        match self {
            Kind::Ipv4 => format!("45.83.64.{}", 10 + i),
            Kind::Domain => format!("{tag}.bench-c2.net"),
            Kind::FileSha256 => hex::encode(Sha256::digest(format!("bench-file-{tag}"))),
            Kind::FileName => format!("bench_{tag}.dll"),
            Kind::RegistryKey => format!("HKEY_LOCAL_MACHINE\\SOFTWARE\\BenchCorp\\{tag}"),
            Kind::Process => format!("benchsvc_{tag}.exe --tier {tag}"),
        }
    }

    /// The value stored in an alert for a tag (the file name and process appear with a path).
    fn stored(self, tag: &str, field_a: bool) -> String {
        match self {
            Kind::FileName if field_a => format!("C:\\Users\\Public\\{}", self.value(tag)),
            Kind::FileName => format!("/var/tmp/bench/{}", self.value(tag)),
            Kind::Process if field_a => format!("C:\\Bench\\{}", self.value(tag)),
            Kind::Process => format!("/opt/bench/{}", self.value(tag)),
            _ => self.value(tag),
        }
    }

    /// A value unique to alert `n` that matches none of the tier values.
    fn noise(self, n: u64) -> String {
        match self {
            Kind::Ipv4 => format!("91.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255),
            Kind::Domain => format!("n{n}.noise.example.org"),
            Kind::FileSha256 => hex::encode(Sha256::digest(format!("noise-{n}"))),
            Kind::FileName => format!("/var/tmp/noise/noise_{n}.so"),
            Kind::RegistryKey => format!("HKEY_LOCAL_MACHINE\\SOFTWARE\\Noise\\k{n}"),
            Kind::Process => format!("/usr/bin/noise{n} --run {n}"),
        }
    }

    /// The observable's STIX export as OpenCTI would send it (deterministic id).
    pub fn stix(self, tag: &str, marking: &str) -> Value {
        let value = self.value(tag);
        let (stix_type, body) = match self {
            Kind::Ipv4 => ("ipv4-addr", json!({ "value": value })),
            Kind::Domain => ("domain-name", json!({ "value": value })),
            Kind::FileSha256 => ("file", json!({ "hashes": { "SHA-256": value } })),
            Kind::FileName => ("file", json!({ "name": value })),
            Kind::RegistryKey => ("windows-registry-key", json!({ "key": value })),
            Kind::Process => ("process", json!({ "command_line": value })),
        };
        let id = format!(
            "{stix_type}--{}",
            uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!("bench-{}-{tag}", self.label()).as_bytes()
            )
        );
        let mut v = body;
        v["id"] = json!(id);
        v["type"] = json!(stix_type);
        v["spec_version"] = json!("2.1");
        v["object_marking_refs"] = json!([marking]);
        v
    }
}

/// The tags of the tiers for a corpus of `n` alerts, with their exact hit counts.
pub fn tiers(n: u64) -> Vec<(String, u64)> {
    let mut t: Vec<(String, u64)> = FIXED_TIERS.iter().map(|c| (format!("t{c}"), *c)).collect();
    t.push(("all".into(), n));
    t
}

fn tag_index(tag: &str) -> usize {
    match tag {
        "t0" => 0,
        "t10" => 1,
        "t1000" => 2,
        "t10000" => 3,
        _ => 4,
    }
}

/// Sets `path` (dotted) in `doc`, creating objects on the way (replacing non-objects).
fn set_path(doc: &mut Value, path: &str, value: Value) {
    let mut cur = doc;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else {
            return;
        };
        if parts.peek().is_none() {
            m.insert(p.to_string(), value);
            return;
        }
        cur = m.entry(p.to_string()).or_insert_with(|| json!({}));
    }
}

/// Checks that the corpus size works with the tier layout.
pub fn check_size(n: u64) -> Result<(), String> {
    if n < 20_000 {
        return Err(format!("the corpus needs at least 20,000 alerts (got {n})"));
    }
    if n.is_multiple_of(PERM) {
        return Err(format!("the corpus size must not be a multiple of {PERM}"));
    }
    Ok(())
}

/// Alert `n` of a corpus of `total` alerts.
pub fn alert(samples: &[Value], n: u64, total: u64) -> Value {
    let mut doc = samples[(n % samples.len() as u64) as usize].clone();
    if let Value::Object(m) = &mut doc {
        // Loaded sample alerts may carry a previous index's metadata; keep only the document.
        m.remove("_id");
        m.remove("@sampledata");
    }
    let a = (n * 7) % AGENTS;
    doc["agent"] = json!({
        "id": format!("{:03}", a + 1),
        "name": format!("bench-host-{:02}", a + 1),
        "ip": format!("10.60.{}.{}", a, 10 + a),
    });
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .map(|d| d.with_timezone(&chrono::Utc))
        .unwrap_or_default();
    let ts = base + chrono::Duration::milliseconds((n * 12_000 + n % 1000) as i64);
    doc["@timestamp"] = json!(ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    doc["timestamp"] = json!(ts.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string());
    doc["id"] = json!(format!("{}.{n}", ts.timestamp()));
    if let Some(r) = doc.get_mut("rule").and_then(Value::as_object_mut) {
        r.insert("firedtimes".into(), json!(n % 1000 + 1));
    }
    let m = (n * PERM) % total;
    let tag = match m {
        0..=9 => Some("t10"),
        10..=1_009 => Some("t1000"),
        1_010..=11_009 => Some("t10000"),
        _ => None,
    };
    for k in KINDS {
        let (fa, fb) = k.fields();
        set_path(&mut doc, fa, json!(k.stored("all", true)));
        let b = match tag {
            Some(t) => k.stored(t, false),
            None => k.noise(n),
        };
        set_path(&mut doc, fb, json!(b));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_have_exact_counts() {
        let samples = vec![json!({"rule": {"id": "1"}, "data": {"x": 1}})];
        let total = 20_001;
        let mut counts = std::collections::HashMap::<String, u64>::new();
        for n in 0..total {
            let d = alert(&samples, n, total);
            let v = d["data"]["dstip"].as_str().unwrap().to_string();
            *counts.entry(v).or_default() += 1;
        }
        assert_eq!(counts[&Kind::Ipv4.value("t10")], 10);
        assert_eq!(counts[&Kind::Ipv4.value("t1000")], 1000);
        assert_eq!(counts[&Kind::Ipv4.value("t10000")], 10000);
        assert!(!counts.contains_key(&Kind::Ipv4.value("t0")));
    }
}
