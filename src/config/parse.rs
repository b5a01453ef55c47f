//! Value parsers: text of one option → typed value, or a [`Bad`] saying what is wrong and what
//! is accepted. Pure functions; the loader attaches the option's name.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{FieldMatch, OrderBy, QueueProtocol, TimeBound, Tlp};

/// A YAML/JSON scalar as option text (`null` = no value).
pub(crate) fn json_to_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// A parse failure before it is attached to a variable name.
#[derive(Debug, Clone, PartialEq)]
pub struct Bad {
    pub problem: String,
    pub accepted: String,
}

impl Bad {
    pub(crate) fn new(problem: impl Into<String>, accepted: impl Into<String>) -> Self {
        Bad {
            problem: problem.into(),
            accepted: accepted.into(),
        }
    }
}

pub fn parse_bool(s: &str) -> Result<bool, Bad> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err(Bad::new(
            "is not a boolean",
            "true/false, yes/no, 1/0, on/off",
        )),
    }
}

pub fn parse_int<T>(s: &str, min: T, max: T) -> Result<T, Bad>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let accepted = format!("a whole number from {min} to {max}");
    let n: T = s
        .trim()
        .parse()
        .map_err(|_| Bad::new("is not a whole number", accepted.clone()))?;
    if n < min || n > max {
        return Err(Bad::new("is out of range", accepted));
    }
    Ok(n)
}

pub fn parse_float(s: &str, min: f64, max: f64) -> Result<f64, Bad> {
    let accepted = format!("a number from {min} to {max}");
    let n: f64 = s
        .trim()
        .parse()
        .map_err(|_| Bad::new("is not a number", accepted.clone()))?;
    if !(min..=max).contains(&n) {
        return Err(Bad::new("is out of range", accepted));
    }
    Ok(n)
}

const DURATION_ACCEPTED: &str =
    "a duration such as 30s, 5m, 1h 30m, 7 days (a bare number means seconds)";

/// `20` (seconds), `20s`, `1h 30m`, `7 days`.
pub fn parse_duration(s: &str) -> Result<Duration, Bad> {
    let t = s.trim();
    if let Ok(n) = t.parse::<u64>() {
        return Ok(Duration::from_secs(n));
    }
    humantime::parse_duration(t).map_err(|_| Bad::new("is not a duration", DURATION_ACCEPTED))
}

/// RFC 3339 date-time, a plain `YYYY-MM-DD` (midnight UTC), or an age (`30d`, `7 days`, `7 days ago`).
pub fn parse_time_bound(s: &str) -> Result<TimeBound, Bad> {
    let t = s.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(TimeBound::Absolute(dt.with_timezone(&chrono::Utc)));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if let Some(dt) = d.and_hms_opt(0, 0, 0) {
            return Ok(TimeBound::Absolute(dt.and_utc()));
        }
    }
    let age = t.strip_suffix("ago").map(str::trim_end).unwrap_or(t);
    match humantime::parse_duration(age) {
        Ok(d) if !d.is_zero() => Ok(TimeBound::Relative(d)),
        _ => Err(Bad::new(
            "is neither a date nor an age",
            "an RFC 3339 date-time (2024-05-01T00:00:00Z), a date (2024-05-01, UTC) or an age such as 30d, 12h, 7 days",
        )),
    }
}

/// A list: JSON array of strings, or a comma-separated list (items trimmed, empty items dropped).
pub fn parse_list(s: &str) -> Result<Vec<String>, Bad> {
    let t = s.trim();
    if t.starts_with('[') {
        let v: Vec<serde_json::Value> = serde_json::from_str(t).map_err(|e| {
            Bad::new(
                format!("is not a valid JSON array ({e})"),
                "a JSON array of strings or a comma-separated list",
            )
        })?;
        return v
            .into_iter()
            .map(|x| match x {
                serde_json::Value::String(s) => Ok(s.trim().to_string()),
                serde_json::Value::Number(n) => Ok(n.to_string()),
                _ => Err(Bad::new(
                    "contains a non-string item",
                    "a JSON array of strings or a comma-separated list",
                )),
            })
            .filter(|r| r.as_ref().map(|s| !s.is_empty()).unwrap_or(true))
            .collect();
    }
    Ok(t.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect())
}

/// A set of enum values; `all` selects every value.
pub fn parse_enum_set<T: Ord + Copy + fmt::Display>(
    s: &str,
    all: &[T],
    parse: fn(&str) -> Option<T>,
) -> Result<BTreeSet<T>, Bad> {
    let accepted = || {
        let names: Vec<String> = all.iter().map(|v| v.to_string()).collect();
        format!("all, or a list of: {}", names.join(", "))
    };
    let items = parse_list(s).map_err(|b| Bad::new(b.problem, accepted()))?;
    if items.len() == 1 && items[0].eq_ignore_ascii_case("all") {
        return Ok(all.iter().copied().collect());
    }
    items
        .iter()
        .map(|i| {
            parse(i).ok_or_else(|| Bad::new(format!("contains unknown value `{i}`"), accepted()))
        })
        .collect()
}

pub(crate) fn parse_enum<T: Copy + fmt::Display>(
    s: &str,
    all: &[T],
    parse: fn(&str) -> Option<T>,
) -> Result<T, Bad> {
    parse(s).ok_or_else(|| {
        let names: Vec<String> = all.iter().map(|v| v.to_string()).collect();
        Bad::new(
            "is not a known value",
            format!("one of: {}", names.join(", ")),
        )
    })
}

const MATCH_ACCEPTED: &str =
    "a comma list of field=value (or field:value), or a JSON array of {\"field\":…,\"query\":…}";

/// `field=value,field2:value2` or JSON `[{"field":..,"query":..}]`.
pub fn parse_matches(s: &str) -> Result<Vec<FieldMatch>, Bad> {
    let t = s.trim();
    if t.starts_with('[') {
        #[derive(serde::Deserialize)]
        struct M {
            field: String,
            query: serde_json::Value,
        }
        let v: Vec<M> = serde_json::from_str(t).map_err(|e| {
            Bad::new(
                format!("is not a valid JSON match list ({e})"),
                MATCH_ACCEPTED,
            )
        })?;
        return Ok(v
            .into_iter()
            .map(|m| FieldMatch {
                field: m.field,
                query: json_to_text(&m.query).unwrap_or_default(),
            })
            .collect());
    }
    t.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|item| {
            let pos = item.find('=').or_else(|| item.find(':'));
            match pos {
                Some(p) if p > 0 && p + 1 < item.len() => Ok(FieldMatch {
                    field: item[..p].trim().to_string(),
                    query: item[p + 1..].trim().to_string(),
                }),
                _ => Err(Bad::new(
                    format!("has an item `{item}` without field and value"),
                    MATCH_ACCEPTED,
                )),
            }
        })
        .collect()
}

/// `field:asc|desc` list (JSON array of such strings also accepted).
pub fn parse_order_by(s: &str) -> Result<Vec<OrderBy>, Bad> {
    const ACC: &str = "a comma list of field:asc or field:desc, or a JSON list of {\"field\":…,\"order\":\"asc\"|\"desc\"}";
    // The reference connector's `config.yml` writes each item as an object.
    if let Ok(items) = serde_json::from_str::<Vec<serde_json::Map<String, serde_json::Value>>>(s) {
        let text: Vec<String> = items
            .iter()
            .map(|m| {
                let get = |k: &str| m.get(k).and_then(json_to_text).unwrap_or_default();
                format!("{}:{}", get("field"), get("order"))
            })
            .collect();
        return parse_order_by(&text.join(","));
    }
    parse_list(s)
        .map_err(|b| Bad::new(b.problem, ACC))?
        .iter()
        .map(|item| {
            let (field, dir) = item
                .rsplit_once(':')
                .ok_or_else(|| Bad::new(format!("has an item `{item}` without direction"), ACC))?;
            let descending = match dir.trim().to_ascii_lowercase().as_str() {
                "asc" => false,
                "desc" => true,
                _ => {
                    return Err(Bad::new(
                        format!("has an unknown direction in `{item}`"),
                        ACC,
                    ))
                }
            };
            Ok(OrderBy {
                field: field.trim().to_string(),
                descending,
            })
        })
        .collect()
}

/// TLP names or marking-definition ids → marking ids.
pub fn parse_tlps(s: &str) -> Result<Vec<String>, Bad> {
    const ACC: &str = "TLP:CLEAR, TLP:WHITE, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED or marking-definition--<uuid>, as a list";
    let mut out: Vec<String> = Vec::new();
    for item in parse_list(s).map_err(|b| Bad::new(b.problem, ACC))? {
        let id = if let Some(t) = Tlp::parse(&item) {
            t.marking_id().to_string()
        } else if item
            .strip_prefix("marking-definition--")
            .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok())
        {
            item.clone()
        } else {
            return Err(Bad::new(format!("contains unknown marking `{item}`"), ACC));
        };
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// `marking-definition--<uuid>` ids.
pub fn parse_marking_ids(s: &str) -> Result<Vec<String>, Bad> {
    const ACC: &str = "a list of marking-definition--<uuid> ids";
    let items = parse_list(s).map_err(|b| Bad::new(b.problem, ACC))?;
    for item in &items {
        let ok = item
            .strip_prefix("marking-definition--")
            .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok());
        if !ok {
            return Err(Bad::new(
                format!("contains `{item}`, not a marking id"),
                ACC,
            ));
        }
    }
    Ok(items)
}

pub fn parse_tlp(s: &str) -> Result<Tlp, Bad> {
    Tlp::parse(s).ok_or_else(|| Bad::new("is not a TLP", "TLP:CLEAR, TLP:WHITE, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED (prefix optional)"))
}

/// An http(s) URL without credentials, query or fragment.
pub fn parse_http_url(s: &str) -> Result<String, Bad> {
    const ACC: &str =
        "an http:// or https:// URL with a host and no credentials, query or fragment";
    let u = url::Url::parse(s.trim()).map_err(|e| Bad::new(format!("is not a URL ({e})"), ACC))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(Bad::new("is not an http(s) URL with a host", ACC));
    }
    if !u.username().is_empty()
        || u.password().is_some()
        || u.query().is_some()
        || u.fragment().is_some()
    {
        return Err(Bad::new("contains credentials, a query or a fragment", ACC));
    }
    Ok(s.trim().to_string())
}

pub(crate) fn parse_file_path(s: &str) -> Result<PathBuf, Bad> {
    let p = Path::new(s);
    if !p.is_file() {
        return Err(Bad::new(
            "is not a readable file",
            "the path of an existing PEM file",
        ));
    }
    Ok(p.to_path_buf())
}

pub(crate) fn parse_log_level(s: &str) -> Result<String, Bad> {
    let l = s.trim().to_ascii_lowercase();
    match l.as_str() {
        "error" | "warn" | "info" | "debug" | "trace" => Ok(l),
        "warning" => Ok("warn".into()),
        _ => Err(Bad::new(
            "is not a log level",
            "error, warn, warning, info, debug, trace",
        )),
    }
}

pub(crate) fn parse_queue_protocol(s: &str) -> Result<QueueProtocol, Bad> {
    match s.trim().to_ascii_lowercase().as_str() {
        "amqp" => Ok(QueueProtocol::Amqp),
        "api" => Ok(QueueProtocol::Api),
        _ => Err(Bad::new("is not a queue protocol", "amqp or api")),
    }
}

pub(crate) fn parse_filter(s: &str) -> Result<Vec<serde_json::Value>, Bad> {
    const ACC: &str = "a JSON array of query-DSL objects, e.g. [{\"term\":{\"agent.id\":\"001\"}}]";
    let v: serde_json::Value =
        serde_json::from_str(s.trim()).map_err(|e| Bad::new(format!("is not JSON ({e})"), ACC))?;
    match v {
        serde_json::Value::Array(items) if items.iter().all(|i| i.is_object()) => Ok(items),
        serde_json::Value::Object(_) => Ok(vec![v]),
        _ => Err(Bad::new("is not an array of objects", ACC)),
    }
}

/// A Prometheus name part: letters, digits and `_`, not starting with a digit (empty = none).
pub(crate) fn parse_metric_prefix(s: &str) -> Result<String, Bad> {
    let ok = s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(s.to_string())
    } else {
        Err(Bad::new(
            "is not a valid metric name part",
            "letters, digits and _, not starting with a digit (or empty)",
        ))
    }
}

/// The text with the user-info of a URL (`https://user:password@host`) replaced by `***`, so that
/// a value can be shown in an error or by `connector-wazuh config` without its credentials.
pub fn redact_userinfo(s: &str) -> String {
    let Some(scheme_end) = s.find("://").map(|i| i + 3) else {
        return s.to_string();
    };
    let rest = &s[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &s[..scheme_end], &rest[at..]),
        None => s.to_string(),
    }
}

const HEADERS_ACCEPTED: &str =
    "name:value pairs separated by `;`, as pycti reads them (X-Gateway-Key:abc;X-Tenant:blue)";

/// `OPENCTI_CUSTOM_HEADERS`: `name:value;name:value` (pycti's format: pairs split at `;`, each at
/// its first `:`, both sides trimmed, empty pairs skipped). Unlike pycti, which skips a malformed
/// pair with a warning, a malformed pair stops start-up: a silently dropped gateway header shows
/// up only as refused requests. Messages name the header, never its value (it may be a
/// credential). `Authorization` is refused: it carries `OPENCTI_TOKEN`.
pub fn parse_custom_headers(s: &str) -> Result<Vec<(String, String)>, Bad> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = pair.split_once(':') else {
            return Err(Bad::new("has a pair without `:`", HEADERS_ACCEPTED));
        };
        let (name, value) = (name.trim(), value.trim());
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(Bad::new(
                format!("has an invalid header name `{}`", name.escape_default()),
                HEADERS_ACCEPTED,
            ));
        }
        if reqwest::header::HeaderValue::from_str(value).is_err() {
            return Err(Bad::new(
                format!("has an invalid value for header `{name}` (control characters?)"),
                HEADERS_ACCEPTED,
            ));
        }
        if name.eq_ignore_ascii_case("authorization") {
            return Err(Bad::new(
                "sets `Authorization`, which carries OPENCTI_TOKEN",
                "other headers; the token is sent as `Authorization: Bearer …`",
            ));
        }
        // A later pair wins, as in pycti's dictionary.
        out.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EnrichType;

    #[test]
    fn list_syntaxes() {
        assert_eq!(parse_list("a, b,,c").unwrap(), vec!["a", "b", "c"]);
        assert_eq!(parse_list("[\"a\",\"b\"]").unwrap(), vec!["a", "b"]);
        assert_eq!(parse_list("").unwrap(), Vec::<String>::new());
        assert!(parse_list("[1,").is_err());
        let all = parse_enum_set("all", EnrichType::ALL, EnrichType::parse).unwrap();
        assert_eq!(all.len(), EnrichType::ALL.len());
        let some =
            parse_enum_set("[\"Tool\",\"file\"]", EnrichType::ALL, EnrichType::parse).unwrap();
        assert_eq!(some.len(), 2);
        let m = parse_matches("a.b=1, c:two").unwrap();
        assert_eq!(
            m[1],
            FieldMatch {
                field: "c".into(),
                query: "two".into()
            }
        );
        let m = parse_matches("[{\"field\":\"x\",\"query\":\"y\"}]").unwrap();
        assert_eq!(m[0].field, "x");
        assert!(parse_matches("novalue").is_err());
        assert_eq!(
            parse_order_by("@timestamp:desc,rule.level:asc").unwrap()[1],
            OrderBy {
                field: "rule.level".into(),
                descending: false
            }
        );
        assert_eq!(
            parse_order_by(r#"[{"field":"timestamp","order":"desc"}]"#).unwrap(),
            vec![OrderBy {
                field: "timestamp".into(),
                descending: true
            }]
        );
        assert_eq!(
            redact_userinfo("https://u:pw@host:8080/x@y"),
            "https://***@host:8080/x@y"
        );
        assert_eq!(redact_userinfo("https://host/a@b"), "https://host/a@b");
        assert_eq!(
            parse_tlps("red, TLP:GREEN").unwrap(),
            vec![Tlp::Red.marking_id(), Tlp::Green.marking_id()]
        );
    }

    #[test]
    fn time_bounds_are_strict_and_utc() {
        assert_eq!(
            parse_time_bound("30d").unwrap(),
            TimeBound::Relative(Duration::from_secs(30 * 86400))
        );
        assert_eq!(
            parse_time_bound("7 days").unwrap(),
            TimeBound::Relative(Duration::from_secs(7 * 86400))
        );
        assert_eq!(
            parse_time_bound("7 days ago").unwrap(),
            TimeBound::Relative(Duration::from_secs(7 * 86400))
        );
        match parse_time_bound("2024-05-01T02:00:00+02:00").unwrap() {
            TimeBound::Absolute(d) => assert_eq!(d.to_rfc3339(), "2024-05-01T00:00:00+00:00"),
            other => panic!("{other:?}"),
        }
        match parse_time_bound("2024-05-01").unwrap() {
            TimeBound::Absolute(d) => assert_eq!(d.to_rfc3339(), "2024-05-01T00:00:00+00:00"),
            other => panic!("{other:?}"),
        }
        assert!(parse_time_bound("yesterday-ish").is_err());
        assert!(parse_time_bound("").is_err());
        assert_eq!(parse_duration("20").unwrap(), Duration::from_secs(20));
        assert_eq!(
            parse_duration("20 seconds").unwrap(),
            Duration::from_secs(20)
        );
    }

    #[test]
    fn custom_headers_as_pycti_reads_them() {
        assert_eq!(
            parse_custom_headers(" X-Gateway-Key: a:b ;;X-Tenant:blue; x-tenant:red;").unwrap(),
            vec![
                ("X-Gateway-Key".to_string(), "a:b".to_string()),
                ("x-tenant".to_string(), "red".to_string())
            ]
        );
        assert_eq!(parse_custom_headers("").unwrap(), vec![]);
        for bad in [
            "X-Key",
            "X Key:v",
            "Authorization:Basic eA==",
            "X-Key:v\u{7}",
        ] {
            let e = parse_custom_headers(bad).unwrap_err();
            assert!(!e.problem.contains("eA=="), "{e:?}");
        }
    }
}
