//! The pattern corpus (`tests/fixtures/patterns/`): every valid pattern parses, prints back to an
//! equivalent pattern, and translates (or is refused as unsupported, naming why); every invalid
//! pattern is rejected with the expected line, column and message.

use connector_wazuh::config::options::SearchOptions;
use connector_wazuh::pattern::{parse, query_for_pattern, PatternError};

const VALID: &str = include_str!("../fixtures/patterns/valid.tsv");
const INVALID: &str = include_str!("../fixtures/patterns/invalid.tsv");

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

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn corpus() -> Vec<String> {
        rows(VALID).map(|r| r[1].to_string()).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any text: parse and translate return a value or an error, never panic.
        #[test]
        fn arbitrary_text(s in "\\PC{0,200}") {
            let _ = query_for_pattern(&s, &SearchOptions::default());
        }

        /// Corpus patterns with one character replaced, inserted or removed: same.
        #[test]
        fn mutated_corpus(i in 0usize..1000, pos in 0usize..400, c in prop::sample::select(
            vec!['[', ']', '(', ')', '\'', '\\', ' ', '=', '.', '*', '%', '_', '/', ':', '0', 'a', '-', 'é'])) {
            let all = corpus();
            let p = &all[i % all.len()];
            let chars: Vec<char> = p.chars().collect();
            let at = pos % (chars.len() + 1);
            for variant in 0..3 {
                let mut v = chars.clone();
                match variant {
                    0 if at < v.len() => v[at] = c,
                    1 => v.insert(at, c),
                    _ if at < v.len() => { v.remove(at); }
                    _ => {}
                }
                let text: String = v.into_iter().collect();
                if let Ok(ast) = parse(&text) {
                    // Whatever parses prints back to the same tree.
                    prop_assert_eq!(parse(&ast.to_string()).unwrap(), ast);
                }
                let _ = query_for_pattern(&text, &SearchOptions::default());
            }
        }
    }
}
