//! `check-id-vectors FILE`: recomputes every id of a vector file (the shared
//! `pycti-id-vectors.json` format) with this crate's code, prints one line per mismatch and a
//! final `N passed, M failed` line; exits 1 on any failure, 2 on unusable input.

use connector_wazuh::stix::vectors;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: check-id-vectors FILE");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let file: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{} is not JSON: {e}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let report = match vectors::check(&file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    for m in &report.mismatches {
        println!("{m}");
    }
    println!(
        "{} passed, {} failed",
        report.passed,
        report.mismatches.len()
    );
    if report.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
