//! `check-id-vectors FILE`: recomputes every id of a vector file (the
//! `tests/fixtures/stix/*-id-vectors.json` format) with this crate's code, prints one line per
//! mismatch and a final `N passed, M failed` line; exits 1 on any failure, 2 on unusable input.
//! A development tool (run it with `scripts/check-id-vectors`), not part of the daemon.

use connector_wazuh::stix::vectors;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: check-id-vectors FILE");
        return ExitCode::from(2);
    };
    match vectors::check_path(std::path::Path::new(&path)) {
        Ok(report) => {
            println!("{report}");
            if report.mismatches.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
