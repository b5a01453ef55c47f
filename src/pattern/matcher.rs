//! Value tests over lists of alert fields: one comparison becomes a term, regexp, wildcard or
//! range per field (field patterns through one `query_string` regexp), with the values escaped
//! for each syntax.

use serde_json::{json, Value};

use super::ast::{Literal, ObjectPath};
use super::pcre;
use super::target::{glob_match, Kind, NUMERIC_FIELDS};
use super::PatternError;
use crate::search::dsl::{exists, multi_match_lenient, one_of, regexp, wildcard};
use crate::search::escape::{path_regexp, regexp_literal, wildcard_literal};
use crate::search::query::HIVES;

/// A value test over a list of fields.
pub(super) enum Matcher {
    /// Exact term (numbers, IPs and case-sensitive text).
    Term(String),
    /// Lucene regexp (whole value), optionally ASCII case-insensitive.
    Regexp { re: String, ci: bool },
    /// A LIKE: `glob` for `wildcard` queries on concrete fields, `re` for field patterns.
    Like { glob: String, re: String, ci: bool },
    /// Numeric range (`gt`/`gte`/`lt`/`lte` → value).
    Range(Vec<(&'static str, i64)>),
}

/// Any of several fields exists.
pub(super) fn exists_any(fields: &[&str]) -> Value {
    one_of(fields.iter().map(|x| exists(x)).collect())
}

/// A constant as the text alerts would hold.
pub(super) fn literal_text(path: &ObjectPath, l: &Literal) -> Result<String, PatternError> {
    Ok(match l {
        Literal::Str(s) => s.clone(),
        Literal::Int(n) => n.to_string(),
        Literal::Float(x) => x.to_string(),
        Literal::Bool(b) => b.to_string(),
        Literal::Timestamp(t) => t.clone(),
        Literal::Hex(h) => hex::encode(h),
        Literal::Binary(_) => {
            return Err(PatternError::unsupported(format!(
                "{path}: binary constants cannot be compared with alert text"
            )))
        }
    })
}

pub(super) fn over(fields: &[&str], m: &Matcher) -> Value {
    let (concrete, patterns): (Vec<&str>, Vec<&str>) =
        fields.iter().partition(|x| !x.contains('*'));
    let mut should: Vec<Value> = Vec::new();
    match m {
        Matcher::Term(v) => {
            should.push(multi_match_lenient(v, fields));
        }
        Matcher::Regexp { re, ci } | Matcher::Like { re, ci, .. } => {
            for c in &concrete {
                should.push(match m {
                    Matcher::Like { glob, .. } => wildcard(c, glob, *ci),
                    _ => regexp(c, re, *ci),
                });
            }
            if !patterns.is_empty() {
                let body = if *ci { pcre::fold_case(re) } else { re.clone() };
                should.push(json!({"query_string": {
                    "query": format!("/{}/", body.replace('/', "\\/")),
                    "fields": patterns, "lenient": true}}));
            }
        }
        Matcher::Range(bounds) => {
            let b: serde_json::Map<String, Value> = bounds
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            for n in NUMERIC_FIELDS {
                if fields.iter().any(|p| glob_match(p, n)) {
                    should.push(json!({"range": {*n: b.clone()}}));
                }
            }
            // Keyword fields: a Lucene numeric interval over the digits.
            let (lo, hi) = range_bounds(bounds);
            if lo <= hi {
                let re = format!("<{lo}-{hi}>");
                for c in &concrete {
                    should.push(json!({"regexp": {*c: {"value": re}}}));
                }
                if !patterns.is_empty() {
                    should.push(json!({"query_string": {"query": format!("/{re}/"),
                        "fields": patterns, "lenient": true}}));
                }
            }
        }
    }
    one_of(should)
}

/// Inclusive `[lo, hi]` of a range over non-negative integers.
pub(super) fn range_bounds(bounds: &[(&'static str, i64)]) -> (i64, i64) {
    // Lucene numeric intervals take 32-bit signed bounds.
    let (mut lo, mut hi) = (0i64, i64::from(i32::MAX));
    for (k, v) in bounds {
        match *k {
            "gt" => lo = lo.max(v.saturating_add(1)),
            "gte" => lo = lo.max(*v),
            "lt" => hi = hi.min(v.saturating_sub(1)),
            _ => hi = hi.min(*v),
        }
    }
    (lo, hi)
}

/// Splits a leading hive name (long or short form, any case) off a registry key: returns the
/// alternation of both forms and the rest of the key.
pub(super) fn split_hive(key: &str) -> Option<(String, &str)> {
    for (long, short) in HIVES {
        for name in [long, short] {
            let n = name.len();
            if key.len() >= n
                && key.is_char_boundary(n)
                && key[..n].eq_ignore_ascii_case(name)
                && (key.len() == n || key[n..].starts_with('\\'))
            {
                return Some((format!("({long}|{short})"), &key[n..]));
            }
        }
    }
    None
}

pub(super) fn regkey_regexp(key: &str, aliases: bool) -> String {
    match split_hive(key).filter(|_| aliases) {
        Some((hive, rest)) => format!("{hive}{}", path_regexp(rest)),
        None => path_regexp(key),
    }
}

/// LIKE → (wildcard glob, Lucene regexp). `%` any run (a run of `%` is one), `_` one character, no escape character;
/// literal runs are escaped for each syntax (paths: backslash runs match one or more).
pub(super) fn like_forms(like: &str, kind: Kind) -> (String, String) {
    let path_like = matches!(kind, Kind::Path { .. } | Kind::RegKey { .. });
    let (mut glob, mut re, mut lit) = (String::new(), String::new(), String::new());
    let flush = |lit: &mut String, glob: &mut String, re: &mut String| {
        glob.push_str(&wildcard_literal(lit));
        re.push_str(&if path_like {
            path_regexp(lit)
        } else {
            regexp_literal(lit)
        });
        lit.clear();
    };
    let mut last = None;
    for c in like.chars() {
        // A run of `%` means what one does; kept, each would be another `.*` for the indexer
        // to turn into automaton states.
        if c == '%' && last == Some('%') {
            continue;
        }
        last = Some(c);
        match c {
            '%' => {
                flush(&mut lit, &mut glob, &mut re);
                glob.push('*');
                re.push_str(".*");
            }
            '_' => {
                flush(&mut lit, &mut glob, &mut re);
                glob.push('?');
                re.push('.');
            }
            c => lit.push(c),
        }
    }
    flush(&mut lit, &mut glob, &mut re);
    (glob, re)
}
