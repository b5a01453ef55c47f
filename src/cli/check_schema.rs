//! The `check` line of the Wazuh schema: which one is searched and, under `WAZUH_SCHEMA=auto`,
//! what the indexer showed.

use super::check::Line;
use crate::indexer::detect::{Resolved, SchemaError};

/// The line of a resolved schema: ok when named or found unambiguously, a warning when the
/// indexer holds both schemas or neither (the choice is then a default the operator should
/// confirm).
pub fn line(r: &Result<Resolved, SchemaError>) -> Line {
    const NAME: &str = "Wazuh schema";
    match r {
        Ok(
            r @ Resolved {
                detection: None, ..
            },
        ) => Line::ok(
            NAME,
            format!("{} (WAZUH_SCHEMA), searching {:?}", r.estate, r.indices()),
        ),
        Ok(
            r @ Resolved {
                detection: Some(d), ..
            },
        ) => {
            let detail = format!(
                "{} (auto: {}), searching {:?}",
                r.estate,
                d.reason,
                r.indices()
            );
            if d.doubtful {
                Line::warn(
                    NAME,
                    detail,
                    "set WAZUH_SCHEMA=4.x or 5.x to say which Wazuh indices to search",
                )
            } else {
                Line::ok(NAME, detail)
            }
        }
        Err(e) => Line::fail(
            NAME,
            e.to_string(),
            "make the indexer reachable, or set WAZUH_SCHEMA=4.x or 5.x",
        ),
    }
}
