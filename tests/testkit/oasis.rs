//! The OASIS STIX 2.1 validator (`stix2-validator`, run by the Python of `scripts/pyenv`) over the
//! objects the test OpenCTI's worker imported: one Python run per call, over every object at once.
//! [`run_json`] is how the tests run any Python tool of that environment (also `jsonschema`).
//!
//! OpenCTI's own dialect is allowed: `severity` on `incident` and `case-incident` (a property
//! the validator reserves). Warnings (custom properties without an extension, deterministic ids,
//! OpenCTI's custom types) are not findings.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// **Temporary.** Findings on objects the connector is being fixed to emit correctly; reported
/// (printed) but not failing the test. Each entry is (object type, part of the message). Empty
/// this list once the fixes are merged: every entry left here hides a real defect.
pub const KNOWN_FINDINGS_BEING_FIXED: &[(&str, &str)] = &[];

/// One validator error on one object.
#[derive(Debug, Clone)]
pub struct Finding {
    pub object_type: String,
    pub message: String,
}

impl Finding {
    /// OpenCTI's dialect, accepted by the platform.
    fn is_opencti_dialect(&self) -> bool {
        matches!(self.object_type.as_str(), "incident" | "case-incident")
            && self
                .message
                .contains("Contains a reserved property ('severity'")
    }
    fn is_being_fixed(&self) -> bool {
        KNOWN_FINDINGS_BEING_FIXED
            .iter()
            .any(|(t, m)| self.object_type == *t && self.message.contains(m))
    }
}

/// The interpreter with stix2-validator: `CONNECTOR_TEST_PYTHON` (set by `scripts/test`), else the
/// venv `scripts/pyenv` makes under `target/`.
pub fn python() -> String {
    if let Some(p) = std::env::var("CONNECTOR_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
    {
        return p;
    }
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/target/pyvenv/bin/python");
    assert!(
        std::path::Path::new(venv).exists(),
        "no Python with stix2-validator: run scripts/pyenv, or set CONNECTOR_TEST_PYTHON"
    );
    venv.to_string()
}

const SCRIPT: &str = r#"
import json, sys
from stix2validator import validate_instance, ValidationOptions
opts = ValidationOptions(version="2.1")
out = []
for o in json.load(sys.stdin):
    r = validate_instance(o, opts)
    for e in r.errors:
        out.append({"type": o.get("type", "?"), "message": str(e)})
json.dump(out, sys.stdout)
"#;

/// Runs `script` with the Python of `scripts/pyenv`, `input` as JSON on its standard input, and
/// returns its standard output read as JSON; a failed run fails the test, naming `tool`.
pub fn run_json(script: &str, input: &impl serde::Serialize, tool: &str) -> Value {
    let mut child = Command::new(python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Python of scripts/pyenv");
    let input = serde_json::to_vec(input).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{tool} failed (is it in scripts/pyenv?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{tool} output: {e}"))
}

/// Every validator error on `objects` (each validated on its own).
pub fn validate(objects: &[Value]) -> Vec<Finding> {
    let found: Vec<Value> = serde_json::from_value(run_json(SCRIPT, &objects, "stix2-validator"))
        .expect("validator output");
    found
        .into_iter()
        .map(|f| Finding {
            object_type: f["type"].as_str().unwrap_or("?").to_string(),
            message: f["message"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

/// Fails the test on any finding outside OpenCTI's dialect and the temporary list; prints the
/// findings on the list.
pub fn assert_valid(objects: &[Value]) {
    let findings = validate(objects);
    let (known, defects): (Vec<_>, Vec<_>) = findings
        .into_iter()
        .filter(|f| !f.is_opencti_dialect())
        .partition(Finding::is_being_fixed);
    for f in &known {
        eprintln!(
            "stix2-validator (known, being fixed): {}: {}",
            f.object_type, f.message
        );
    }
    assert!(
        defects.is_empty(),
        "stix2-validator refuses {} object(s):\n{defects:#?}",
        defects.len()
    );
}
