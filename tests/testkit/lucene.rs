//! The exact-match property of the query builders: the Lucene regexps (and wildcards) a query
//! holds are translated to the `regex` crate's syntax (refusing any unescaped Lucene operator the
//! builders never mean to emit: `# @ & ~ < > "`), and must match the observable's value and not
//! a look-alike. Shared by the property tests (`tests/offline/search_escaping.rs`) and the
//! query-building fuzz target (`fuzz/fuzz_targets/query_build.rs`), so the fuzzer checks the same
//! property on the inputs it finds.

use connector_wazuh::config::options::*;
use connector_wazuh::entity::{FileObservable, Observable};
use connector_wazuh::search::query;
use serde_json::Value;

/// Lucene regexp (as OpenSearch receives it) → anchored `regex` pattern.
pub fn lucene_to_regex(lucene: &str, ci: bool) -> Result<regex::Regex, String> {
    let mut out = String::from(if ci { "(?i)^(?:" } else { "^(?:" });
    let chars: Vec<char> = lucene.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let next = *chars.get(i + 1).ok_or("dangling backslash")?;
            out.push_str(&regex::escape(&next.to_string()));
            i += 2;
            continue;
        }
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                '^' if chars[i - 1] == '[' => out.push('^'),
                '-' => out.push('-'),
                _ => out.push_str(&regex::escape(&c.to_string())),
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push('[');
            }
            '.' => out.push_str("(?s:.)"),
            '(' | ')' | '|' | '?' | '*' | '+' | '{' | '}' | ',' => out.push(c),
            '0'..='9' => out.push(c),
            '#' | '@' | '&' | '~' | '<' | '>' | '"' | ']' => {
                return Err(format!("unescaped Lucene operator {c:?} in {lucene:?}"))
            }
            _ => out.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    if in_class {
        return Err("unclosed class".into());
    }
    out.push_str(")$");
    regex::Regex::new(&out).map_err(|e| format!("{e} in {out:?}"))
}

/// Wildcard pattern → anchored regex.
pub fn wildcard_to_regex(glob: &str) -> regex::Regex {
    let mut out = String::from("^");
    let mut it = glob.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => out.push_str(&regex::escape(&it.next().unwrap().to_string())),
            '*' => out.push_str("(?s:.*)"),
            '?' => out.push_str("(?s:.)"),
            _ => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    regex::Regex::new(&out).unwrap()
}

/// All `regexp` clause values for `field` in a query (with their case-insensitivity).
pub fn regexps(q: &Value, field: &str, out: &mut Vec<(String, bool)>) {
    match q {
        Value::Object(m) => {
            if let Some(r) = m.get("regexp").and_then(|r| r.get(field)) {
                out.push((
                    r["value"].as_str().unwrap().to_string(),
                    r["case_insensitive"].as_bool().unwrap(),
                ));
            }
            m.values().for_each(|v| regexps(v, field, out));
        }
        Value::Array(a) => a.iter().for_each(|v| regexps(v, field, out)),
        _ => {}
    }
}

/// The one regexp on `field`, translated.
pub fn single_regexp(q: &Value, field: &str) -> Result<regex::Regex, String> {
    let mut found = Vec::new();
    regexps(q, field, &mut found);
    match found.as_slice() {
        [(v, ci)] => lucene_to_regex(v, *ci),
        _ => Err(format!("{} regexps on {field} in {q}", found.len())),
    }
}

/// A different last character (never a backslash, never equal ignoring ASCII case).
pub fn change_last(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let last = chars.pop().unwrap();
    let repl = if last.eq_ignore_ascii_case(&'\u{1}') {
        '\u{2}'
    } else {
        '\u{1}'
    };
    chars.push(repl);
    chars.into_iter().collect()
}

/// Search options with every case-insensitive file, directory, registry and process search off.
pub fn case_sensitive_files() -> SearchOptions {
    let mut o = SearchOptions::default();
    o.filesearch_options
        .remove(&FileSearchOption::CaseInsensitive);
    o.dirsearch_options
        .remove(&DirSearchOption::CaseInsensitive);
    o.regkeysearch_options
        .remove(&RegKeySearchOption::CaseInsensitive);
    o.procsearch_options.clear();
    o
}

/// The observable kinds whose queries carry the value in a regexp.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    FileName,
    Directory,
    RegistryKey,
    Url,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::FileName,
        Kind::Directory,
        Kind::RegistryKey,
        Kind::Url,
    ];
}

fn check(ok: bool, what: &str, re: &regex::Regex, value: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("{what}: {re} / {value:?}"))
    }
}

/// The query for an observable of `kind` holding `value` matches that value exactly: it matches
/// the value (and what the kind allows around it: a file inside a directory, a URL with a
/// trailing slash, the long form of a registry hive) and neither a look-alike (last character
/// changed) nor a longer value.
pub fn exact_match(kind: Kind, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    match kind {
        Kind::FileName => {
            let obs = Observable::File(FileObservable {
                name: Some(value.to_string()),
                ..Default::default()
            });
            let q = query::build(&obs, &case_sensitive_files())
                .map_err(|e| e.to_string())?
                .ok_or("no query for a file name")?;
            let re = single_regexp(&q, "data.win.eventdata.image")?;
            check(re.is_match(value), "misses the value", &re, value)?;
            check(
                !re.is_match(&change_last(value)),
                "matches a look-alike",
                &re,
                value,
            )?;
            check(
                !re.is_match(&format!("{value}x")),
                "matches a longer value",
                &re,
                value,
            )
        }
        Kind::Directory => {
            let path = format!("/{value}");
            let obs = Observable::Directory { path: path.clone() };
            let Some(q) = query::build(&obs, &case_sensitive_files()).map_err(|e| e.to_string())?
            else {
                return Ok(()); // only separators: nothing to search
            };
            let re = single_regexp(&q, "data.home")?;
            let trimmed = path.trim_end_matches(['/', '\\']);
            check(re.is_match(trimmed), "misses the value", &re, trimmed)?;
            check(
                re.is_match(&format!("{trimmed}/sub")),
                "misses its contents",
                &re,
                trimmed,
            )?;
            if trimmed.len() > 1 {
                check(
                    !re.is_match(&change_last(trimmed)),
                    "matches a look-alike",
                    &re,
                    trimmed,
                )?;
            }
            Ok(())
        }
        Kind::RegistryKey => {
            let key = format!("HKLM\\{value}");
            let obs = Observable::WindowsRegistryKey { key: key.clone() };
            let Some(q) = query::build(&obs, &case_sensitive_files()).map_err(|e| e.to_string())?
            else {
                return Ok(());
            };
            let re = single_regexp(&q, "syscheck.path")?;
            let k = key.trim_end_matches('\\');
            check(re.is_match(k), "misses the value", &re, k)?;
            let long = k.replacen("HKLM", "HKEY_LOCAL_MACHINE", 1);
            check(re.is_match(&long), "misses the long hive name", &re, k)?;
            if k.len() > 5 {
                check(
                    !re.is_match(&change_last(k)),
                    "matches a look-alike",
                    &re,
                    k,
                )?;
            }
            Ok(())
        }
        Kind::Url => {
            let o = SearchOptions {
                lookup_url_ignore_trailing_slash: true,
                ..SearchOptions::default()
            };
            let obs = Observable::Url {
                value: value.to_string(),
            };
            let q = query::build(&obs, &o)
                .map_err(|e| e.to_string())?
                .ok_or("no query for a URL")?;
            let re = single_regexp(&q, "data.url")?;
            let u = value.trim_end_matches('/');
            check(re.is_match(u), "misses the value", &re, u)?;
            check(
                re.is_match(&format!("{u}/")),
                "misses the trailing slash",
                &re,
                u,
            )?;
            if !u.is_empty() {
                check(
                    !re.is_match(&change_last(u)),
                    "matches a look-alike",
                    &re,
                    u,
                )?;
            }
            check(
                !re.is_match(&format!("{u}x")),
                "matches a longer value",
                &re,
                u,
            )
        }
    }
}
