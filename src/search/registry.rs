//! Registry keys and values: the clauses that find a key (under either hive spelling, in any
//! letter case, with its subkeys and values) and a value (its data, and its name when the
//! observable has one).
//!
//! Wazuh writes keys in several shapes: Sysmon `targetObject` with doubled backslashes and the
//! value name as the last part, registry FIM `syscheck.path` with the hive spelled out and,
//! from some agents, an architecture tag in front (`[x32] HKEY_LOCAL_MACHINE\…`).

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::dsl::{bool_q, multi_match, one_of, regexp, term_ci};
use super::escape::{path_regexp, regexp_literal};
use super::paths::{collapse_backslashes, hive_of, sid_regex, HIVES, SID_REGEXP};
use crate::config::options::{RegKeySearchOption as R, SearchOptions};
use crate::vocabulary::{Match, ValueKind as K, Vocabulary};

/// The architecture tag registry FIM may put before a key (`[x32] `, `[x64] `).
const ARCH_TAG: &str = "(\\[x(32|64)\\] )?";

/// The key query of a `Windows-Registry-Key` observable (`None`: nothing to search).
pub fn key(raw: &str, opts: &SearchOptions) -> Option<Value> {
    let c = key_clauses(raw, opts);
    (!c.is_empty()).then(|| bool_q(vec![], c, vec![]))
}

/// The clauses that find a registry key (any of them may match; none: nothing to search).
pub fn key_clauses(raw: &str, opts: &SearchOptions) -> Vec<Value> {
    let r = &opts.regkeysearch_options;
    let fields = opts.vocabulary.fields(K::RegistryKey, Match::Exact);
    let key = if r.contains(&R::IgnoreTrailingSlash) {
        raw.trim_end_matches('\\')
    } else {
        raw
    };
    if key.is_empty() {
        return Vec::new();
    }
    let hive = hive_of(key);
    let is_abs = hive.is_some();
    if !is_abs && (r.contains(&R::RequireAbsPath) || !r.contains(&R::AllowRegexp)) {
        return Vec::new();
    }
    if !r.contains(&R::AllowRegexp) {
        let mut variants = vec![collapse_backslashes(key, 1), collapse_backslashes(key, 2)];
        variants.dedup();
        return variants.iter().map(|v| multi_match(v, &fields)).collect();
    }
    let (mut p, rest) = match hive {
        // The hive is detected case-insensitively and matched in both spellings.
        Some((i, len)) if r.contains(&R::SearchHiveAliases) => {
            let (full, alias) = HIVES[i];
            (format!("({full}|{alias})"), &key[len..])
        }
        _ => (String::new(), key),
    };
    if r.contains(&R::IgnoreSid) {
        let mut last = 0;
        for m in sid_regex().into_iter().flat_map(|re| re.find_iter(rest)) {
            p.push_str(&path_regexp(&rest[last..m.start()]));
            p.push_str(SID_REGEXP);
            last = m.end();
        }
        p.push_str(&path_regexp(&rest[last..]));
    } else {
        p.push_str(&path_regexp(rest));
    }
    p = if is_abs {
        format!("{ARCH_TAG}{p}")
    } else {
        format!(".+\\\\+{p}")
    };
    if r.contains(&R::MatchSubdirs) {
        p.push_str("(\\\\+.*)?");
    } else if r.contains(&R::IgnoreTrailingSlash) {
        p.push_str("\\\\*");
    }
    let ci = r.contains(&R::CaseInsensitive);
    fields
        .iter()
        .filter(|fl| !fl.contains('*'))
        .map(|fl| regexp(fl, &p, ci))
        .collect()
}

/// The query of a `Windows-Registry-Value-Type` observable: its data (as text in any field
/// that holds value data, quoted or not, backslash runs of any length; or `hashed`: the
/// clauses for the SHA-256 FIM records of it, see [`fim_digest`]), and, when the value has a
/// name, that name as a value name or as the last part of a key path (Sysmon's `targetObject`
/// ends in it). `None` without data: a name alone is too common to be a sighting.
pub fn value(
    v: &Vocabulary,
    name: Option<&str>,
    data: Option<&str>,
    hashed: Vec<Value>,
) -> Option<Value> {
    let data = data.filter(|d| !d.is_empty())?;
    let quote = "(\\\\*[\"'])?";
    let text = format!("{quote}{}{quote}", path_regexp(data));
    let mut data_clauses: Vec<Value> = v
        .of(K::RegistryValueData)
        .filter(|(fl, _)| !fl.contains('*'))
        .map(|(fl, _)| regexp(fl, &text, true))
        .collect();
    data_clauses.extend(hashed);
    let mut must = vec![one_of(data_clauses)];
    if let Some(n) = name.filter(|n| !n.is_empty()) {
        let mut named: Vec<Value> = v
            .of(K::RegistryValueName)
            .filter(|(fl, _)| !fl.contains('*'))
            .map(|(fl, _)| term_ci(fl, n))
            .collect();
        let last = format!(".*\\\\+{}", regexp_literal(n));
        named.extend(
            v.of(K::RegistryKey)
                .filter(|(fl, _)| !fl.contains('*'))
                .map(|(fl, _)| regexp(fl, &last, true)),
        );
        must.push(one_of(named));
    }
    Some(bool_q(must, vec![], vec![]))
}

/// The SHA-256 registry FIM records for value data of a type it hashes as text or bytes.
pub fn fim_digest(data: &str, data_type: &str) -> Option<String> {
    let digest = match data_type {
        "REG_SZ" | "REG_EXPAND_SZ" => Sha256::digest(data.as_bytes()),
        "REG_BINARY" => {
            let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
            Sha256::digest(hex::decode(compact).ok()?)
        }
        _ => return None,
    };
    Some(hex::encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(q: &Value) -> regex::Regex {
        let s = q["regexp"]
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(|x| x["value"].as_str())
            .unwrap();
        regex::RegexBuilder::new(&format!("^(?:{s})$"))
            .case_insensitive(true)
            .build()
            .unwrap()
    }

    #[test]
    fn keys_match_with_an_arch_tag_and_below_but_not_siblings() {
        let c = key_clauses(
            "HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Services\\SharedAccess",
            &SearchOptions::default(),
        );
        let r = re(&c[0]);
        assert!(r.is_match(
            "[x32] HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Services\\SharedAccess\\Epoch"
        ));
        assert!(r.is_match("hklm\\\\SYSTEM\\\\CurrentControlSet\\\\Services\\\\SharedAccess"));
        assert!(!r.is_match("HKLM\\System\\CurrentControlSet\\Services\\SharedAccess2"));
        assert!(!r.is_match("[x16] HKLM\\System\\CurrentControlSet\\Services\\SharedAccess"));
    }

    #[test]
    fn values_need_data_and_match_their_name_too() {
        let v = Vocabulary::default();
        assert!(value(&v, Some("x"), None, vec![]).is_none());
        let q = value(
            &v,
            Some("Java-Update"),
            Some("C:\\Users\\Public\\J.vbs"),
            vec![],
        )
        .unwrap();
        let must = q["bool"]["must"].as_array().unwrap();
        assert_eq!(must.len(), 2);
        let data = re(&must[0]);
        assert!(data.is_match("C:\\\\Users\\\\Public\\\\J.vbs"));
        assert!(data.is_match("\\\"c:\\users\\public\\j.vbs\\\""));
        assert!(!data.is_match("C:\\Users\\Public\\J.vbs2"));
        let names = serde_json::to_string(&must[1]).unwrap();
        assert!(names.contains("syscheck.value_name") && names.contains("targetObject"));
        let digest = fim_digest("de ad", "REG_BINARY").unwrap();
        assert_eq!(fim_digest("x", "REG_DWORD"), None);
        let hashed = crate::search::lookup::clauses(&v, K::RegistryValueSha256, &digest);
        let typed = value(&v, None, Some("de ad"), hashed).unwrap();
        assert!(serde_json::to_string(&typed)
            .unwrap()
            .contains("sha256_after"));
    }
}
