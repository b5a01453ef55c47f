//! Reading alert fields for context extraction: dotted-path lookup, value lists, descriptions
//! and the value shapes (registry keys, SIDs, MACs, Sysmon hash lists) the families test for.

use crate::alert::Alert;
use crate::stix::model;
use crate::vocabulary::context::doubles_backslashes;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Looks a dotted path up; keys that themselves contain dots (Docker labels such as
/// `org.opencontainers.image.source`) are matched too.
pub fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    fn go<'v>(v: &'v Value, parts: &[&str]) -> Option<&'v Value> {
        if parts.is_empty() {
            return Some(v);
        }
        let m = v.as_object()?;
        if let Some(found) = m.get(parts[0]).and_then(|x| go(x, &parts[1..])) {
            return Some(found);
        }
        // Only when some key continues with a dot is a dotted key worth building.
        let dotted = m.keys().any(|k| {
            k.len() > parts[0].len()
                && k.starts_with(parts[0])
                && k.as_bytes()[parts[0].len()] == b'.'
        });
        if !dotted {
            return None;
        }
        for k in 2..=parts.len() {
            if let Some(x) = m.get(&parts[..k].join(".")) {
                if let Some(found) = go(x, &parts[k..]) {
                    return Some(found);
                }
            }
        }
        None
    }
    let parts: Vec<&str> = path.split('.').collect();
    go(v, &parts)
}

/// Windows event data is stored with doubled backslashes; STIX values use single ones.
pub fn undouble(s: &str) -> String {
    s.replace("\\\\", "\\")
}

/// The non-empty string values at `field` (lists expanded, numbers as text; Windows event data
/// un-doubled).
pub(super) fn values(a: &Alert, field: &str) -> Vec<String> {
    let Some(v) = lookup(a.source.value(), field) else {
        return Vec::new();
    };
    let one = |x: &Value| -> Option<String> {
        match x {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut out: Vec<String> = match v {
        Value::Array(a) => a.iter().filter_map(one).collect(),
        x => one(x).into_iter().collect(),
    };
    out.retain(|s| !s.is_empty());
    if doubles_backslashes(field) {
        out = out.iter().map(|s| undouble(s)).collect();
    }
    out
}

/// The first value of the first of `fields` that has one, with that field.
pub(super) fn first_in<'f>(a: &Alert, fields: Vec<&'f str>) -> Option<(&'f str, String)> {
    fields
        .into_iter()
        .find_map(|f| values(a, f).into_iter().next().map(|v| (f, v)))
}

/// The first value of the first of `fields` that has one.
pub(super) fn first(a: &Alert, fields: Vec<&str>) -> Option<String> {
    first_in(a, fields).map(|(_, v)| v)
}

pub(super) fn describe(what: &str, field: &str, a: &Alert) -> String {
    let field = if field.is_empty() {
        String::new()
    } else {
        format!(" in {field}")
    };
    format!(
        "{what} found{field} in alert (ID {}, rule ID {}): {}",
        a.doc_id, a.rule.id, a.rule.description
    )
}

/// Splits a Windows or POSIX path into (directory, basename).
pub fn split_path(p: &str) -> (Option<&str>, &str) {
    match p.rfind(['\\', '/']) {
        Some(0) => (Some(&p[..1]), &p[1..]),
        Some(i) => (Some(&p[..i]), &p[i + 1..]),
        None => (None, p),
    }
}

pub(super) static REGISTRY: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?i)^(HKEY_[A-Z_]+|HK(LM|CU|CR|U|CC))(\\+.*)?$").expect("static regex")
});
pub(super) static SID: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"S-1-[0-59]-\d{1,10}(-\d{1,10}){1,14}").expect("static regex")
});
pub(super) static UID_SUFFIX: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"\(uid=(\d+)\)\s*$").expect("static regex"));
pub(super) static MITRE: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^T\d{4}(\.\d{3})?$").expect("static regex"));
pub(super) static EMAIL: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").expect("static regex"));
pub(super) static DOMAIN: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^(?i)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$")
        .expect("static regex")
});

/// Normalises a MAC address (`aa:bb:cc:dd:ee:ff`) from colon, hyphen, bare or Cisco dotted form.
pub fn normalise_mac(s: &str) -> Option<String> {
    let s = s.trim();
    let hex: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let seps: Vec<char> = s.chars().filter(|c| !c.is_ascii_hexdigit()).collect();
    let ok_shape = match seps.first() {
        None => s.len() == 12,
        Some('.') => seps.len() == 2 && seps.iter().all(|c| *c == '.') && s.len() == 14,
        Some(c @ (':' | '-')) => seps.len() == 5 && seps.iter().all(|x| x == c) && s.len() == 17,
        _ => false,
    };
    if !ok_shape || hex.len() != 12 {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    let pairs: Vec<&str> = (0..6).map(|i| &lower[i * 2..i * 2 + 2]).collect();
    Some(pairs.join(":"))
}

/// Sysmon's `hashes` string (`SHA1=…,MD5=…,SHA256=…,IMPHASH=…`) as STIX hashes.
pub fn parse_sysmon_hashes(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in s.split(',') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() || !v.chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        let name = match k.trim().to_ascii_uppercase().as_str() {
            "MD5" => "MD5",
            "SHA1" => "SHA-1",
            "SHA256" => "SHA-256",
            "SHA512" => "SHA-512",
            _ => continue,
        };
        out.insert(name.to_string(), v.to_string());
    }
    out
}

pub(super) fn login(v: String) -> model::UserAccount {
    model::UserAccount {
        account_login: Some(v),
        user_id: None,
    }
}

pub(super) fn user_id(v: String) -> model::UserAccount {
    model::UserAccount {
        account_login: None,
        user_id: Some(v),
    }
}

pub(super) fn parse_pid(v: &str) -> Option<i64> {
    v.trim().parse::<i64>().ok().filter(|p| *p >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_handles_dotted_keys() {
        let v = json!({"data": {"docker": {"Actor": {"Attributes": {"org.opencontainers.image.source": "https://x.org/r"}}}}});
        assert_eq!(
            lookup(
                &v,
                "data.docker.Actor.Attributes.org.opencontainers.image.source"
            )
            .and_then(Value::as_str),
            Some("https://x.org/r")
        );
        assert!(lookup(&v, "data.nope").is_none());
    }

    #[test]
    fn macs() {
        assert_eq!(
            normalise_mac("00-1A-2B-3C-4D-5E").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(
            normalise_mac("001a.2b3c.4d5e").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(
            normalise_mac("001a2b3c4d5e").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(normalise_mac("00:1a-2b:3c:4d:5e"), None);
        assert_eq!(normalise_mac("eth0"), None);
    }

    #[test]
    fn sysmon_hashes() {
        let h = parse_sysmon_hashes("SHA1=AA,MD5=BB,SHA256=CC,IMPHASH=DD");
        assert_eq!(h.get("SHA-1").map(String::as_str), Some("AA"));
        assert_eq!(h.get("MD5").map(String::as_str), Some("BB"));
        assert_eq!(h.get("SHA-256").map(String::as_str), Some("CC"));
        assert_eq!(h.len(), 3);
        assert!(parse_sysmon_hashes("garbage").is_empty());
    }

    #[test]
    fn paths() {
        assert_eq!(
            split_path("c:\\users\\public\\a.ps1"),
            (Some("c:\\users\\public"), "a.ps1")
        );
        assert_eq!(split_path("/etc/passwd"), (Some("/etc"), "passwd"));
        assert_eq!(split_path("/x"), (Some("/"), "x"));
        assert_eq!(split_path("x"), (None, "x"));
        assert_eq!(undouble("C:\\\\Windows\\\\cmd.exe"), "C:\\Windows\\cmd.exe");
    }
}
