//! Checks a file of id vectors (`tests/fixtures/stix/*-id-vectors.json`: pycti function inputs and
//! the id pycti returned) against this crate's id functions. Used by the test suite and by
//! `scripts/check-id-vectors` (the `check-id-vectors` example), so that maintainers can re-run a
//! freshly generated vector file whenever OpenCTI changes its id rules.

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

/// One line per mismatch, then `N passed, M failed`.
impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for m in &self.mismatches {
            writeln!(f, "{m}")?;
        }
        write!(
            f,
            "{} passed, {} failed",
            self.passed,
            self.mismatches.len()
        )
    }
}

/// Reads and checks a vector file; `Err` when it cannot be read or is not a vector file.
pub fn check_path(path: &std::path::Path) -> Result<Report, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let file: Value =
        serde_json::from_str(&text).map_err(|e| format!("{shown} is not JSON: {e}"))?;
    check(&file).map_err(|e| format!("{shown}: {e}"))
}

fn s<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input.get(key).and_then(Value::as_str)
}

fn req<'a>(input: &'a Value, key: &str) -> Result<&'a str, String> {
    s(input, key).ok_or_else(|| format!("input has no string `{key}`"))
}

fn val<'a>(input: &'a Value, key: &str) -> Result<&'a Value, String> {
    input
        .get(key)
        .ok_or_else(|| format!("input has no `{key}`"))
}

/// A time input: a Python `datetime` is given with its `isoformat()` in `<key>_serialized`, a
/// string (or null) as itself.
fn time<'a>(input: &'a Value, key: &str) -> Option<&'a Value> {
    input
        .get(format!("{key}_serialized"))
        .or_else(|| input.get(key))
}

/// Computes the id of one vector from its `type` and `input` (the arguments of the pycti
/// function, or the properties of an SCO), as pycti does for any JSON input it accepts.
pub fn compute(stix_type: &str, input: &Value) -> Result<String, String> {
    Ok(match stix_type {
        "identity" => id::identity(req(input, "name")?, req(input, "identity_class")?),
        "sighting" => id::sighting_json(
            val(input, "sighting_of_ref")?,
            val(input, "where_sighted_refs")?,
            time(input, "first_seen"),
            time(input, "last_seen"),
        ),
        "relationship" => id::relationship_json(
            val(input, "relationship_type")?,
            val(input, "source_ref")?,
            val(input, "target_ref")?,
            time(input, "start_time"),
            time(input, "stop_time"),
        ),
        "incident" | "case-incident" => id::named_at(
            stix_type,
            req(input, "name")?,
            time(input, "created").unwrap_or(&Value::Null),
        ),
        "note" => id::note_json(
            time(input, "created"),
            req(input, "content")?,
            s(input, "abstract"),
        ),
        "attack-pattern" => id::attack_pattern(req(input, "name")?, s(input, "x_mitre_id")),
        "external-reference" => id::external_reference_json(
            input.get("url"),
            input.get("source_name"),
            input.get("external_id"),
        )
        .ok_or("pycti gives no id without a url or both source_name and external_id")?,
        "kill-chain-phase" => {
            id::kill_chain_phase(val(input, "phase_name")?, val(input, "kill_chain_name")?)
        }
        "marking-definition" => {
            id::marking_definition(val(input, "definition_type")?, val(input, "definition")?)
        }
        "location" => id::location(
            s(input, "name").unwrap_or_default(),
            val(input, "x_opencti_location_type")?,
            input.get("latitude"),
            input.get("longitude"),
        ),
        "tool" | "vulnerability" | "malware" | "campaign" | "intrusion-set" | "threat-actor"
        | "infrastructure" | "course-of-action" | "report" | "grouping" => {
            id::named(stix_type, req(input, "name")?)
        }
        t if super::is_sco(t) && t != "process" => id::sco(t, input),
        "phone-number" | "cryptocurrency-wallet" | "credential" | "tracking-number" => {
            id::sco(stix_type, input)
        }
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
