//! One value of one kind → the clauses that find it in every field the vocabulary lists for
//! that kind, each field queried the way it holds the value.
//!
//! The first clause is one `multi_match` over the kind's exact fields (field patterns
//! included); every other mode adds one clause per field. Values are escaped for the syntax
//! they are put in. The clause count stays far below OpenSearch's `max_clause_count` (the
//! largest kind lists fewer than 70 fields).
//!
//! [`inner_clauses`] is what the observable search puts in for one main value (an address in
//! each of its spellings, a MAC address in each of its notations, a registry key under its
//! hive aliases); the STIX pattern translation reuses it for `=` and `IN`, so an Indicator
//! finds what the observable it describes finds.

use std::net::IpAddr;

use serde_json::{json, Value};

use super::dsl::{multi_match, multi_match_lenient, regexp, term_ci};
use super::escape::regexp_literal;
use crate::config::options::SearchOptions;
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
            Match::Phrase => out.push(phrase(field, value)),
        }
    }
    out
}

fn phrase(field: &str, value: &str) -> Value {
    json!({"match_phrase": {field: {"query": value}}})
}

/// What the observable search puts in for one main value of `kind`: the vocabulary's clauses
/// for every spelling alerts use (IP addresses: also the expanded IPv6 form and the reverse-DNS
/// name; MAC addresses: every notation; registry keys: hive aliases, any letter case, below
/// the key).
pub fn inner_clauses(opts: &SearchOptions, kind: ValueKind, value: &str) -> Vec<Value> {
    use ValueKind as K;
    let v: &Vocabulary = &opts.vocabulary;
    match kind {
        K::Ip | K::SrcIp | K::DstIp => match value.parse::<IpAddr>() {
            Ok(ip) => ip_clauses(v, kind, ip, value),
            // Text that is no address: `ip`-typed fields would refuse it, so they are skipped.
            Err(_) => vec![multi_match_lenient(value, &v.fields(kind, Match::Exact))],
        },
        K::Mac | K::SrcMac | K::DstMac => mac_clauses(v, kind, value, opts.lookup_mac_variants),
        K::RegistryKey => super::registry::key_clauses(value, opts),
        _ => clauses(v, kind, value),
    }
}

/// At most how many clauses [`inner_clauses`] gives for any value of `kind`, counting a
/// `multi_match` once per field as the indexer does: what the pattern clause budget charges
/// for one `=` value before any query is built.
pub fn clause_bound(opts: &SearchOptions, kind: ValueKind) -> usize {
    use ValueKind as K;
    let v: &Vocabulary = &opts.vocabulary;
    let count = |k: ValueKind| -> usize {
        v.of(k)
            .map(|(_, how)| if how == Match::TrailingDot { 2 } else { 1 })
            .sum()
    };
    let base = count(kind);
    match kind {
        // IPv6 as given and expanded; any-role IPv4 also as a reverse-DNS name in the domain
        // fields.
        K::Ip => base + base.max(count(K::Domain)),
        K::SrcIp | K::DstIp => 2 * base,
        // Six spellings at most per field.
        K::Mac | K::SrcMac | K::DstMac => 6 * base,
        // The single and doubled backslash spellings.
        K::RegistryKey => 2 * base,
        _ => base,
    }
}

/// An address in every spelling: as given, IPv6 also expanded (some decoders write
/// `2606:4700:0000:…`), and for any-role IPv4 the reverse-DNS name `d.c.b.a.in-addr.arpa`
/// that resolver logs name it by.
pub fn ip_clauses(v: &Vocabulary, kind: ValueKind, ip: IpAddr, value: &str) -> Vec<Value> {
    let mut out = clauses(v, kind, value);
    match ip {
        IpAddr::V6(a) => {
            let expanded = a
                .segments()
                .iter()
                .map(|g| format!("{g:04x}"))
                .collect::<Vec<_>>()
                .join(":");
            if expanded != value {
                out.extend(clauses(v, kind, &expanded));
            }
        }
        IpAddr::V4(a) if kind == ValueKind::Ip => {
            let o = a.octets();
            let reverse = format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0]);
            out.extend(
                v.fields(ValueKind::Domain, Match::CaseInsensitive)
                    .into_iter()
                    .map(|fl| term_ci(fl, &reverse)),
            );
            for fl in v.fields(ValueKind::Domain, Match::TrailingDot) {
                out.push(term_ci(fl, &reverse));
                out.push(term_ci(fl, &format!("{reverse}.")));
            }
        }
        IpAddr::V4(_) => {}
    }
    out
}

/// The six spellings of a MAC address Wazuh decoders write (or the value as given).
pub fn mac_variants(value: &str, variants: bool) -> Vec<String> {
    let hex: String = value
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase();
    if !variants || hex.len() != 12 {
        return vec![value.to_string()];
    }
    let pairs: Vec<&str> = (0..6).map(|i| &hex[i * 2..i * 2 + 2]).collect();
    let quads: Vec<&str> = (0..3).map(|i| &hex[i * 4..i * 4 + 4]).collect();
    let colon = pairs.join(":");
    let dotted = quads.join(".");
    vec![
        colon.clone(),
        colon.to_ascii_uppercase(),
        hex.clone(),
        hex.to_ascii_uppercase(),
        dotted.clone(),
        dotted.to_ascii_uppercase(),
    ]
}

/// A MAC address in every spelling over the exact fields, its lower-case spellings over the
/// case-insensitive ones, and in free text as written by logs (`00:1b:…` and the Windows and
/// DHCP `00-1B-…`; the analyser folds case).
pub fn mac_clauses(v: &Vocabulary, kind: ValueKind, value: &str, variants: bool) -> Vec<Value> {
    let spellings = mac_variants(value, variants);
    let exact = v.fields(kind, Match::Exact);
    let mut out: Vec<Value> = if exact.is_empty() {
        Vec::new()
    } else {
        spellings.iter().map(|m| multi_match(m, &exact)).collect()
    };
    let mut lower: Vec<String> = spellings.iter().map(|m| m.to_ascii_lowercase()).collect();
    lower.dedup();
    for fl in v.fields(kind, Match::CaseInsensitive) {
        out.extend(lower.iter().map(|m| term_ci(fl, m)));
    }
    let mut text = vec![value.to_ascii_lowercase()];
    if variants && lower.len() > 1 {
        text = vec![lower[0].clone(), lower[0].replace(':', "-")];
    }
    for fl in v.fields(kind, Match::Phrase) {
        out.extend(text.iter().map(|m| phrase(fl, m)));
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
    fn the_clause_bound_holds_for_every_spelling() {
        let opts = SearchOptions::default();
        for (kind, value) in [
            (ValueKind::Ip, "93.184.216.34"),
            (ValueKind::Ip, "2606:4700:4700::1111"),
            (ValueKind::SrcIp, "2606:4700:4700::1111"),
            (ValueKind::Mac, "00:0C:29:AB:CD:EF"),
            (ValueKind::Domain, "evil.example"),
            (ValueKind::RegistryKey, "HKLM\\Software\\Run"),
            (ValueKind::Sha256, "ab"),
        ] {
            let q = crate::search::dsl::one_of(inner_clauses(&opts, kind, value));
            let n = crate::pattern::budget::clause_count(&q);
            assert!(n <= clause_bound(&opts, kind), "{kind} {value}: {n}");
        }
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
