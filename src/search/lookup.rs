//! One value of one kind → the clauses that find it in every field the vocabulary lists for
//! that kind, each field queried the way it holds the value.
//!
//! The first clause is one `multi_match` over the kind's exact fields (field patterns
//! included); every other mode adds one clause per field. Values are escaped for the syntax
//! they are put in. The clause count stays far below OpenSearch's `max_clause_count` (the
//! largest kind lists fewer than 70 fields).

use serde_json::{json, Value};

use super::dsl::{multi_match, regexp, term_ci};
use super::escape::regexp_literal;
use crate::vocabulary::{Match, ValueKind, Vocabulary};

/// The clauses that find `value` as a value of `kind` (any of them may match).
pub fn clauses(v: &Vocabulary, kind: ValueKind, value: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let exact = v.fields(kind, Match::Exact);
    if !exact.is_empty() {
        out.push(multi_match(value, &exact));
    }
    for (field, how) in v.of(kind) {
        match how {
            Match::Exact => {}
            Match::CaseInsensitive => out.push(term_ci(field, value)),
            Match::TrailingDot => {
                let bare = value.strip_suffix('.').unwrap_or(value);
                out.push(term_ci(field, bare));
                out.push(term_ci(field, &format!("{bare}.")));
            }
            Match::Token(seps) => out.push(regexp(field, &token_regexp(value, seps), true)),
            Match::HashList => out.push(regexp(field, &hash_list_regexp(value), true)),
            Match::UrlHost => out.push(regexp(field, &url_host_regexp(value), true)),
            Match::Phrase => out.push(json!({"match_phrase": {field: {"query": value}}})),
        }
    }
    out
}

/// The clauses of [`clauses`] as one query: the clause itself when there is one, else a
/// `bool.should` of them.
pub fn any(v: &Vocabulary, kind: ValueKind, value: &str) -> Value {
    super::dsl::one_of(clauses(v, kind, value))
}

/// A Lucene character class of the separator characters.
fn class(seps: &str) -> String {
    let inner: String = seps
        .chars()
        .map(|c| regexp_literal(&c.to_string()))
        .collect();
    format!("[{inner}]")
}

/// `value` as one whole item of a list separated by `seps`.
pub fn token_regexp(value: &str, seps: &str) -> String {
    let c = class(seps);
    format!("(.*{c})?{}({c}.*)?", regexp_literal(value))
}

/// `hex` as the value of one `ALG=hex` item of a comma-separated list.
pub fn hash_list_regexp(hex: &str) -> String {
    format!("(.*[,=])?{}(,.*)?", regexp_literal(hex))
}

/// `host` (a domain or host name, with or without the root dot) as the host of a URL:
/// `scheme://[user@]host[.][:port][/?#…]`. (`@` and `#` are operators in Lucene regexps:
/// escaped.)
pub fn url_host_regexp(host: &str) -> String {
    let bare = host.strip_suffix('.').unwrap_or(host);
    format!(
        "[a-zA-Z][a-zA-Z0-9+.\\-]*://([^/\\@]*\\@)?{}\\.?(:[0-9]+)?([/?\\#].*)?",
        regexp_literal(bare)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(s: &str) -> regex::Regex {
        regex::Regex::new(&format!("^(?:{s})$")).unwrap()
    }

    #[test]
    fn tokens_match_whole_items_only() {
        let r = re(&token_regexp("1.2.3.4", "; :"));
        assert!(r.is_match("type: 5 x.example.net;::ffff:1.2.3.4;"));
        assert!(r.is_match("1.2.3.4"));
        assert!(!r.is_match("::ffff:11.2.3.4;"));
        assert!(!r.is_match("::ffff:1.2.3.45;"));
    }

    #[test]
    fn hash_lists_match_one_item() {
        let r = regex::RegexBuilder::new(&format!("^(?:{})$", hash_list_regexp("ab12")))
            .case_insensitive(true)
            .build()
            .unwrap();
        assert!(r.is_match("SHA1=00,MD5=AB12,IMPHASH=FF"));
        assert!(r.is_match("MD5=ab12"));
        assert!(!r.is_match("MD5=AB123"));
        assert!(!r.is_match("MD5=0AB12"));
    }

    #[test]
    fn url_hosts_match_the_host_not_a_longer_name() {
        let r = re(&url_host_regexp("example.com"));
        assert!(r.is_match("https://example.com/a?b"));
        assert!(r.is_match("http://u@example.com:8080"));
        assert!(!r.is_match("https://notexample.com/"));
        assert!(!r.is_match("https://example.com.evil.net/"));
    }

    #[test]
    fn every_mode_gives_clauses_and_the_exact_fields_come_first() {
        let v = Vocabulary::default();
        let c = clauses(&v, ValueKind::Domain, "evil.example");
        assert!(c[0]["multi_match"]["fields"].is_array());
        let text = serde_json::to_string(&c).unwrap();
        for needle in [
            "case_insensitive",
            "evil.example.",
            "match_phrase",
            "regexp",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
        assert!(c.len() < 100);
    }
}
