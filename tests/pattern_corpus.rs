//! The pattern corpus (`tests/fixtures/patterns/`): every valid pattern parses, prints back to an
//! equivalent pattern, and translates (or is refused as unsupported, naming why); every invalid
//! pattern is rejected with the expected line, column and message.

use connector_wazuh::config::options::SearchOptions;
use connector_wazuh::pattern::{parse, query_for_pattern, PatternError};

const VALID: &str = include_str!("fixtures/patterns/valid.tsv");
const INVALID: &str = include_str!("fixtures/patterns/invalid.tsv");

fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
}

#[test]
fn valid_patterns_parse_round_trip_and_translate() {
    let opts = SearchOptions::default();
    let mut n = 0;
    for row in rows(VALID) {
        let (outcome, pattern) = (row[0], row[1]);
        let ast = parse(pattern).unwrap_or_else(|e| panic!("{pattern}\n{e}"));
        let printed = ast.to_string();
        assert_eq!(
            parse(&printed).unwrap_or_else(|e| panic!("{printed}\n{e}")),
            ast,
            "{pattern} printed as {printed}"
        );
        match (outcome, query_for_pattern(pattern, &opts)) {
            ("ok", Ok(t)) => {
                assert!(t.query.is_object(), "{pattern}");
                let text = t.query.to_string();
                assert!(!text.contains("null"), "{pattern}: {text}");
            }
            ("unsupported", Err(PatternError::Unsupported(m))) => {
                assert!(!m.is_empty(), "{pattern}");
            }
            (want, got) => panic!("{pattern}: expected {want}, got {got:?}"),
        }
        n += 1;
    }
    assert!(n >= 60, "corpus too small: {n}");
}

#[test]
fn invalid_patterns_point_at_the_error() {
    let mut n = 0;
    for row in rows(INVALID) {
        let (line, column, needle) = (row[0], row[1], row[2]);
        let pattern = row[3].replace("\\n", "\n");
        let err = parse(&pattern).expect_err(&pattern);
        let text = err.to_string();
        match &err {
            PatternError::Syntax {
                line: l,
                column: c,
                message,
                excerpt,
            } => {
                assert_eq!(
                    (l.to_string(), c.to_string()),
                    (line.to_string(), column.to_string()),
                    "{pattern:?}: {text}"
                );
                assert!(message.contains(needle), "{pattern:?}: {text}");
                // The caret sits under the reported column.
                let caret_line = excerpt.lines().last().unwrap_or_default();
                assert_eq!(caret_line.trim_start().chars().next(), Some('^'), "{text}");
                assert_eq!(caret_line.len(), *c, "{text}");
            }
            PatternError::Invalid(m) => {
                assert_eq!((line, column), ("0", "0"), "{pattern:?}: {text}");
                assert!(m.contains(needle), "{pattern:?}: {text}");
            }
            other => panic!("{pattern:?}: {other:?}"),
        }
        n += 1;
    }
    assert!(n >= 15);
}
