//! Reading a hit: the values of a field in a document's `_source`, the candidate values a
//! field holds (whole, or inside a list, a URL, free text) and the one spelling a value is
//! indexed under.

use std::net::IpAddr;

use serde_json::Value;

use super::fields::Read;
use crate::search::lookup::mac_variants;
use crate::vocabulary::ValueKind;

/// The scalar values (strings and numbers) at a dotted `path` of `doc`. The path may be
/// nested (`{"data":{"srcip":…}}`), a literal dotted key (`{"data.srcip":…}`) or a mix, and
/// arrays are walked at every level (arrays of objects, arrays of values).
pub(super) fn values_at<'a>(doc: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    match doc {
        Value::Array(items) => {
            for x in items {
                values_at(x, path, out);
            }
        }
        Value::Object(obj) if !path.is_empty() => {
            // Every prefix of the path ending at a dot (or the whole path) may be one key.
            let ends = path
                .char_indices()
                .filter(|(_, c)| *c == '.')
                .map(|(i, _)| i)
                .chain(std::iter::once(path.len()));
            for end in ends {
                if let Some(inner) = obj.get(&path[..end]) {
                    values_at(inner, path.get(end + 1..).unwrap_or(""), out);
                }
            }
        }
        Value::String(_) | Value::Number(_) if path.is_empty() => out.push(doc),
        _ => {}
    }
}

/// The text of a scalar value.
pub(super) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The candidate values a field value holds for a reading mode.
pub(super) fn candidates(read: Read, s: &str) -> Vec<&str> {
    match read {
        Read::Whole | Read::Dotted => vec![s],
        Read::Words => s
            .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_'))
            .map(|w| w.trim_matches('.'))
            .filter(|w| !w.is_empty())
            .collect(),
        Read::Token(seps) => s
            .split(|c: char| seps.contains(c))
            .filter(|w| !w.is_empty())
            .collect(),
        Read::HashList => s
            .split(',')
            .filter_map(|item| item.rsplit('=').next())
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect(),
        Read::UrlHost => url_host(s).into_iter().collect(),
    }
}

/// The host of `scheme://[user@]host[:port][/?#…]` (an IPv6 host without its brackets).
pub(super) fn url_host(s: &str) -> Option<&str> {
    let (scheme, rest) = s.split_once("://")?;
    let mut sc = scheme.chars();
    if !sc.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !sc.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
    {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host_port.split(':').next()?,
    };
    (!host.is_empty()).then_some(host)
}

/// The one spelling a value of `kind` is indexed under (and compared in): addresses as
/// printed by the standard library, DNS names without the root dot, case folded where the
/// kind ignores case; `None` when the text is no value of the kind.
pub(super) fn normalise(kind: ValueKind, s: &str, mac_spellings: bool) -> Option<String> {
    use ValueKind as K;
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    Some(match kind {
        K::Ip | K::SrcIp | K::DstIp => s.parse::<IpAddr>().ok()?.to_string(),
        K::Domain => {
            let bare = s.strip_suffix('.').unwrap_or(s);
            if bare.is_empty() {
                return None;
            }
            bare.to_lowercase()
        }
        K::Mac | K::SrcMac | K::DstMac => {
            // Every notation of one address is the same address when the notations are
            // searched ([`mac_variants`] gives the colon form first).
            let spellings = mac_variants(s, mac_spellings);
            spellings
                .first()
                .map_or(s, String::as_str)
                .to_ascii_lowercase()
        }
        _ if kind.default_match() == crate::vocabulary::Match::CaseInsensitive => s.to_lowercase(),
        _ => s.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(doc: &Value, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        values_at(doc, path, &mut out);
        out.into_iter().cloned().collect()
    }

    #[test]
    fn values_are_found_nested_dotted_and_in_arrays() {
        let doc = json!({
            "data": {"srcip": "1.1.1.1", "aws": {"ips": [{"ip": "2.2.2.2"}, {"ip": ["3.3.3.3"]}]}},
            "data.dstip": "4.4.4.4",
            "data.win": {"eventdata": {"port": 53}},
        });
        assert_eq!(at(&doc, "data.srcip"), vec![json!("1.1.1.1")]);
        assert_eq!(at(&doc, "data.dstip"), vec![json!("4.4.4.4")]);
        assert_eq!(
            at(&doc, "data.aws.ips.ip"),
            vec![json!("2.2.2.2"), json!("3.3.3.3")]
        );
        assert_eq!(at(&doc, "data.win.eventdata.port"), vec![json!(53)]);
        assert!(at(&doc, "data").is_empty());
        assert!(at(&doc, "data.srci").is_empty());
    }

    #[test]
    fn composite_values_are_split_as_the_indexer_query_would_match_them() {
        assert_eq!(
            candidates(Read::HashList, "SHA1=AB,MD5=CD,IMPHASH=EF"),
            vec!["AB", "CD", "EF"]
        );
        assert_eq!(
            candidates(Read::Token("; :"), "type: 5 x.org;::ffff:1.2.3.4;"),
            vec!["type", "5", "x.org", "ffff", "1.2.3.4"]
        );
        assert_eq!(
            candidates(Read::Words, "Failed password from 1.2.3.4 port 22."),
            vec!["Failed", "password", "from", "1.2.3.4", "port", "22"]
        );
        assert_eq!(
            url_host("https://u@Evil.Example.:8443/a?b"),
            Some("Evil.Example.")
        );
        assert_eq!(url_host("http://[2001:db8::1]:80/"), Some("2001:db8::1"));
        assert_eq!(url_host("evil.example/path"), None);
    }

    #[test]
    fn normalisation_folds_spellings_of_one_value() {
        assert_eq!(
            normalise(ValueKind::Ip, "2001:DB8:0:0::1", true).as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(normalise(ValueKind::Ip, "evil.example", true), None);
        assert_eq!(
            normalise(ValueKind::Domain, "Evil.Example.", true).as_deref(),
            Some("evil.example")
        );
        assert_eq!(
            normalise(ValueKind::Mac, "001B.44AA.BBCC", true).as_deref(),
            Some("00:1b:44:aa:bb:cc")
        );
        assert_eq!(
            normalise(ValueKind::Sha256, "ABCD", true).as_deref(),
            Some("abcd")
        );
        assert_eq!(
            normalise(ValueKind::Url, "http://X/", true).as_deref(),
            Some("http://X/")
        );
    }
}
