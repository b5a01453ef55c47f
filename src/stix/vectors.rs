//! Checks a file of id vectors (the shared `pycti-id-vectors.json` format) against this crate's
//! id functions. Used by the `check-id-vectors` binary and the test suite, so that maintainers can
//! re-run a freshly generated vector file whenever OpenCTI changes its id rules.

use super::id;
use serde_json::Value;

/// One vector whose computed id differs from the expected one (or could not be computed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The vector's `n` (or its position, 1-based, when absent).
    pub n: u64,
    pub stix_type: String,
    pub expected: String,
    /// The id computed here, or why none could be.
    pub got: Result<String, String>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.got {
            Ok(got) => write!(
                f,
                "#{} {}: expected {} got {}",
                self.n, self.stix_type, self.expected, got
            ),
            Err(e) => write!(
                f,
                "#{} {}: expected {} but {}",
                self.n, self.stix_type, self.expected, e
            ),
        }
    }
}

/// Outcome of checking a vector file.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub passed: usize,
    pub mismatches: Vec<Mismatch>,
}

fn s<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input.get(key).and_then(Value::as_str)
}

fn req<'a>(input: &'a Value, key: &str) -> Result<&'a str, String> {
    s(input, key).ok_or_else(|| format!("input has no string `{key}`"))
}

/// Computes the id of one vector from its `type` and `input`.
pub fn compute(stix_type: &str, input: &Value) -> Result<String, String> {
    Ok(match stix_type {
        "identity" => id::identity(req(input, "name")?, req(input, "identity_class")?),
        "sighting" => {
            let refs: Vec<String> = input
                .get("where_sighted_refs")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            // Python datetime inputs are given with their serialised form.
            let first = s(input, "first_seen_serialized").or_else(|| s(input, "first_seen"));
            let last = s(input, "last_seen_serialized").or_else(|| s(input, "last_seen"));
            id::sighting(req(input, "sighting_of_ref")?, &refs, first, last)
        }
        "relationship" => id::relationship(
            req(input, "relationship_type")?,
            req(input, "source_ref")?,
            req(input, "target_ref")?,
            s(input, "start_time"),
            s(input, "stop_time"),
        ),
        "incident" => id::incident(req(input, "name")?, s(input, "created")),
        "case-incident" => id::case_incident(req(input, "name")?, s(input, "created")),
        "note" => id::note(
            s(input, "created"),
            req(input, "content")?,
            s(input, "abstract"),
        ),
        "attack-pattern" => id::attack_pattern(req(input, "name")?, s(input, "x_mitre_id")),
        "external-reference" => id::external_reference(
            s(input, "url"),
            s(input, "source_name"),
            s(input, "external_id"),
        ),
        "kill-chain-phase" => {
            id::kill_chain_phase(req(input, "phase_name")?, req(input, "kill_chain_name")?)
        }
        "marking-definition" => {
            id::marking_definition(req(input, "definition_type")?, req(input, "definition")?)
        }
        "location" => id::location(req(input, "name")?, req(input, "x_opencti_location_type")?),
        "tool" | "vulnerability" | "malware" | "campaign" | "intrusion-set" | "threat-actor"
        | "infrastructure" | "course-of-action" | "report" | "grouping" => {
            id::named(stix_type, req(input, "name")?)
        }
        "ipv4-addr"
        | "ipv6-addr"
        | "domain-name"
        | "url"
        | "email-addr"
        | "mac-addr"
        | "hostname"
        | "user-agent"
        | "autonomous-system"
        | "file"
        | "artifact"
        | "directory"
        | "software"
        | "user-account"
        | "windows-registry-key"
        | "network-traffic"
        | "mutex"
        | "x509-certificate"
        | "email-message"
        | "text"
        | "phone-number"
        | "cryptocurrency-wallet"
        | "credential"
        | "tracking-number" => id::sco(stix_type, input),
        other => return Err(format!("type `{other}` is not supported by this connector")),
    })
}

/// Checks every vector of a parsed vector file (`{"vectors": [...]}` or a bare list).
pub fn check(file: &Value) -> Result<Report, String> {
    let vectors = file
        .get("vectors")
        .unwrap_or(file)
        .as_array()
        .ok_or("the file has no `vectors` list")?;
    let mut report = Report::default();
    for (i, v) in vectors.iter().enumerate() {
        let n = v.get("n").and_then(Value::as_u64).unwrap_or(i as u64 + 1);
        let stix_type = s(v, "type").unwrap_or("?").to_string();
        let expected = s(v, "expected_id").unwrap_or_default().to_string();
        let got = match v.get("input") {
            Some(input) => compute(&stix_type, input),
            None => Err("vector has no `input`".to_string()),
        };
        if got.as_deref() == Ok(expected.as_str()) && !expected.is_empty() {
            report.passed += 1;
        } else {
            report.mismatches.push(Mismatch {
                n,
                stix_type,
                expected,
                got,
            });
        }
    }
    Ok(report)
}
