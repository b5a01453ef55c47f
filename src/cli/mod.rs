//! The operator commands behind `connector-wazuh check | enrich | config`.
//!
//! Each command is split the same way: pure functions that turn typed results into lines, tables
//! or STIX objects (unit-tested here), and one small async function that does the I/O. `main.rs`
//! only parses arguments and prints.

pub mod check;
pub mod check_hunt;
pub mod check_schema;
pub mod config_view;
pub mod enrich;
pub mod observable;
pub mod summary;

/// Replaces every occurrence of the given secrets in `text` by `***`, so that no error message
/// quoted from a library (which may echo a URL or a header) can leak a token or password.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(*s, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_secrets_but_not_short_fragments() {
        assert_eq!(
            redact("token abc123 and pw hunter2", &["abc123", "hunter2", "a"]),
            "token *** and pw ***"
        );
        assert_eq!(redact("nothing", &[""]), "nothing");
    }
}
