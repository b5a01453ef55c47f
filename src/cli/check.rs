//! `connector-wazuh check`: one line per check, each `ok`, `warn` or `FAIL` with a fix hint.
//!
//! The classification of errors into lines is pure ([`opencti_error`], [`indexer_error`],
//! [`alert_age`], [`version_line`]) so that every failure line is unit-tested; [`run`] only makes
//! the requests. Checks that depend on a failed one are left out rather than reported as a
//! second, misleading failure (no token check when the platform is unreachable).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::alert::SearchResult;
use crate::config::{IndexerSettings, Settings, TimeBound};
use crate::indexer::{IndexerClient, IndexerError};
use crate::opencti::client::{ApiError, OpenCtiClient};
use crate::opencti::register::register_input;
use crate::opencti::version::concern;
use crate::search::envelope::{window_start, SearchRequest};

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

/// One printed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub status: Status,
    /// What was checked (`OpenCTI token`, `indexer TLS`, …).
    pub name: &'static str,
    pub detail: String,
    /// How to fix it (only for `warn` and `FAIL`).
    pub hint: Option<String>,
}

impl Line {
    pub fn ok(name: &'static str, detail: impl Into<String>) -> Line {
        Line {
            status: Status::Ok,
            name,
            detail: detail.into(),
            hint: None,
        }
    }
    pub fn warn(name: &'static str, detail: impl Into<String>, hint: impl Into<String>) -> Line {
        Line {
            status: Status::Warn,
            name,
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }
    pub fn fail(name: &'static str, detail: impl Into<String>, hint: impl Into<String>) -> Line {
        Line {
            status: Status::Fail,
            name,
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }
}

/// Longest detail printed (errors from TLS stacks can be long).
const MAX_DETAIL_CHARS: usize = 400;

/// `ok    OpenCTI reachable      detail → fix: hint`, one line per check.
pub fn render(lines: &[Line]) -> String {
    let w = lines.iter().map(|l| l.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for l in lines {
        let mut detail: String = l.detail.chars().take(MAX_DETAIL_CHARS).collect();
        if l.detail.chars().count() > MAX_DETAIL_CHARS {
            detail.push('…');
        }
        // One line per check, whatever the libraries put in their messages.
        let detail = detail.replace(['\n', '\r'], " ");
        out.push_str(&format!(
            "{:<4}  {:<w$}  {}",
            l.status.as_str(),
            l.name,
            detail
        ));
        if let Some(h) = &l.hint {
            out.push_str(" → fix: ");
            out.push_str(h);
        }
        out.push('\n');
    }
    out
}

/// True when any check failed (the exit code is then non-zero; warnings do not fail).
pub fn failed(lines: &[Line]) -> bool {
    lines.iter().any(|l| l.status == Status::Fail)
}

/// The line for a configuration that could not be loaded.
pub fn config_error(message: &str) -> Line {
    Line::fail(
        "configuration",
        message,
        "set the variable (or config.yml key) named in the message; `connector-wazuh config` shows every value and its source",
    )
}

/// The line for a failed `about { version }`: unreachable, or reachable with a refused token.
pub fn opencti_error(e: &ApiError, url: &str) -> Line {
    match e {
        ApiError::Transport(m) => {
            let lower = m.to_ascii_lowercase();
            if lower.contains("certificate") || lower.contains("tls") {
                Line::fail(
                    "OpenCTI reachable",
                    format!("TLS failure talking to {url}: {m}"),
                    "set OPENCTI_CA_BUNDLE to the CA that signed the platform's certificate",
                )
            } else {
                Line::fail(
                    "OpenCTI reachable",
                    format!("no answer from {url}: {m}"),
                    "check OPENCTI_URL and that the platform is running and reachable from here",
                )
            }
        }
        ApiError::Http { status, .. } if *status == 401 || *status == 403 => Line::fail(
            "OpenCTI token",
            format!("the platform refused the token (HTTP {status})"),
            "set OPENCTI_TOKEN to the API token of the connector's OpenCTI user (Profile → API access)",
        ),
        ApiError::GraphQl { code, message, .. }
            if matches!(code.as_deref(), Some("AUTH_REQUIRED" | "FORBIDDEN_ACCESS" | "UNAUTHENTICATED"))
                || message.to_ascii_lowercase().contains("logged in") =>
        {
            Line::fail(
                "OpenCTI token",
                format!("the platform refused the token: {message}"),
                "set OPENCTI_TOKEN to the API token of the connector's OpenCTI user (Profile → API access)",
            )
        }
        ApiError::Http { status, body } => Line::fail(
            "OpenCTI reachable",
            format!("{url} answered HTTP {status}: {body}"),
            "check that OPENCTI_URL is the platform's base URL (without /graphql) and the platform is healthy",
        ),
        ApiError::GraphQl { message, .. } | ApiError::Decode(message) => Line::fail(
            "OpenCTI reachable",
            format!("unexpected answer from {url}: {message}"),
            "check that OPENCTI_URL points to an OpenCTI platform",
        ),
    }
}

/// The platform version line: a warning for a version older than the oldest tested one, a
/// pre-release, or one that cannot be read.
pub fn version_line(version: &str) -> Line {
    match concern(version) {
        None => Line::ok("OpenCTI version", format!("OpenCTI {version}")),
        Some((problem, hint)) => Line::warn("OpenCTI version", problem, hint),
    }
}

/// The registration input line: which fields would be sent, and which the platform lacks.
pub fn registration_line(settings: &Settings, accepted: &[String]) -> Line {
    let input = register_input(settings, accepted);
    // In a fixed order, lists as their size: the line stays short and readable.
    let sent: Vec<String> = ALL_INPUT_FIELDS
        .iter()
        .filter_map(|k| input.get(*k).map(|v| format!("{k}={}", compact(v))))
        .collect();
    let all = register_input(settings, &ALL_INPUT_FIELDS.map(String::from));
    let dropped: Vec<&str> = all
        .as_object()
        .map(|m| {
            m.keys()
                .filter(|k| input.get(k.as_str()).is_none())
                .map(String::as_str)
                .collect()
        })
        .unwrap_or_default();
    let mut detail = format!("would send {}", sent.join(", "));
    if !dropped.is_empty() {
        detail.push_str(&format!(
            " (this platform has no {}, not sent)",
            dropped.join(", ")
        ));
    }
    if input.get("id").is_none() || input.get("type").is_none() {
        return Line::fail(
            "registration input",
            detail,
            "the platform's RegisterConnectorInput lacks id/type: is this OpenCTI?",
        );
    }
    Line::ok("registration input", detail)
}

/// Every field [`register_input`] can send.
const ALL_INPUT_FIELDS: [&str; 10] = [
    "type",
    "id",
    "name",
    "scope",
    "auto",
    "auto_update",
    "only_contextual",
    "playbook_compatible",
    "version",
    "slug",
];

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{} entries]", a.len()),
        other => other.to_string(),
    }
}

/// The line for an indexer error; `stage` is what was being checked when it happened.
pub fn indexer_error(e: &IndexerError, s: &IndexerSettings) -> Line {
    let url = &s.url;
    match e {
        IndexerError::Config(m) => Line::fail(
            "indexer configuration",
            m.clone(),
            "fix WAZUH_OPENSEARCH_URL / WAZUH_OPENSEARCH_CA_BUNDLE",
        ),
        IndexerError::Connection(m) => Line::fail(
            "indexer reachable",
            format!("cannot connect to {url}: {m}"),
            "check WAZUH_OPENSEARCH_URL (the indexer, usually port 9200) and that it is running",
        ),
        IndexerError::Timeout(d) => Line::fail(
            "indexer reachable",
            format!("{url} did not answer within {d:?}"),
            "check WAZUH_OPENSEARCH_URL and the network path, or raise WAZUH_OPENSEARCH_TIMEOUT",
        ),
        IndexerError::Tls(m) => Line::fail(
            "indexer TLS",
            format!("the certificate of {url} is not trusted: {m}"),
            "set WAZUH_OPENSEARCH_CA_BUNDLE to the indexer's root CA (e.g. root-ca.pem from the Wazuh certificates)",
        ),
        IndexerError::Credentials => Line::fail(
            "indexer credentials",
            format!("{url} rejected the user {:?} (HTTP 401)", s.username),
            "check WAZUH_OPENSEARCH_USERNAME and WAZUH_OPENSEARCH_PASSWORD",
        ),
        IndexerError::Permissions(m) => Line::fail(
            "indexer permissions",
            format!("the user {:?} may not search {:?}: {m}", s.username, s.index),
            "grant the user read access to the alert indices (e.g. a role with indices:data/read/search on wazuh-alerts-*)",
        ),
        IndexerError::NoIndex(p) => Line::fail(
            "index pattern",
            format!("no index matches {p:?}"),
            "check WAZUH_OPENSEARCH_INDEX (default wazuh-alerts-*) and that Wazuh ships alerts to this indexer",
        ),
        IndexerError::NotFound(m) => Line::fail(
            "index pattern",
            format!("not found: {m}"),
            "check WAZUH_OPENSEARCH_URL (no path) and WAZUH_OPENSEARCH_INDEX",
        ),
        IndexerError::InvalidResponse(m) => Line::fail(
            "indexer reachable",
            format!("{url} is not an OpenSearch search API: {m}"),
            "WAZUH_OPENSEARCH_URL must be the indexer (port 9200), not the dashboard",
        ),
        other => Line::fail(
            "indexer reachable",
            other.to_string(),
            "check the indexer's health and logs",
        ),
    }
}

/// Alerts older than this make the newest-alert check a warning.
const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The newest-alert line: none, stale (older than a day), or outside the search window.
pub fn alert_age(
    newest: Option<&str>,
    now: DateTime<Utc>,
    search_after: Option<&TimeBound>,
) -> Line {
    let Some(ts) = newest else {
        return Line::warn(
            "newest alert",
            "the index pattern matches no alert",
            "check that the Wazuh manager ships alerts (filebeat) to this indexer and WAZUH_OPENSEARCH_INDEX",
        );
    };
    let Some(t) = crate::stix::parse_time(ts) else {
        return Line::warn(
            "newest alert",
            format!("unreadable @timestamp {ts:?}"),
            "check the Wazuh index template (@timestamp must be a date)",
        );
    };
    let age = now.signed_duration_since(t);
    let age_text = humanise(age);
    if let Some(start) = window_start(search_after, now) {
        if crate::stix::parse_time(&start).is_some_and(|s| t < s) {
            return Line::warn(
                "newest alert",
                format!("{ts} ({age_text} ago) is before the search window (after {start})"),
                "no enrichment will find anything: widen WAZUH_OPENSEARCH_SEARCH_AFTER or check that alerts still arrive",
            );
        }
    }
    if age.to_std().is_ok_and(|a| a > STALE_AFTER) {
        return Line::warn(
            "newest alert",
            format!("{ts} ({age_text} ago)"),
            "no alert for more than a day: check that the Wazuh manager still ships alerts",
        );
    }
    Line::ok("newest alert", format!("{ts} ({age_text} ago)"))
}

/// `3 d 4 h`, `12 min`, `0 s`: precise enough for an operator.
pub fn humanise(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    let (days, hours, mins) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins} min")
    } else if mins > 0 {
        format!("{mins} min")
    } else {
        format!("{s} s")
    }
}

/// Runs every check in order; secrets are redacted from all details.
pub async fn run(settings: &Settings) -> Vec<Line> {
    let mut lines = vec![Line::ok(
        "configuration",
        format!(
            "valid (connector {} \"{}\")",
            settings.connector.id, settings.connector.name
        ),
    )];
    lines.extend(check_opencti(settings).await);
    lines.extend(check_indexer(settings).await);
    lines.extend(super::check_hunt::lines(settings).await);
    if let Some(d) = &settings.connector.send_to_directory {
        let dir = crate::runtime::directory::BundleDirectory::open(d, &settings.connector);
        lines.push(match dir {
            Ok(dir) => Line::ok("bundle directory", dir.describe()),
            Err(e) => Line::fail("bundle directory", e.to_string(), "create it, make it writable for the connector's user, or fix CONNECTOR_SEND_TO_DIRECTORY_PATH: the connector does not start otherwise"),
        });
    }
    let secrets = [
        settings.opencti.token.expose(),
        settings.indexer.password.expose(),
    ];
    for l in &mut lines {
        l.detail = super::redact(&l.detail, &secrets);
    }
    lines
}

async fn check_opencti(settings: &Settings) -> Vec<Line> {
    let url = &settings.opencti.url;
    let client = match OpenCtiClient::new(&settings.opencti) {
        Ok(c) => c,
        Err(e) => {
            return vec![Line::fail(
                "OpenCTI reachable",
                e.to_string(),
                "fix OPENCTI_URL / OPENCTI_CA_BUNDLE",
            )]
        }
    };
    let version = match client.version().await {
        Ok(v) => v,
        Err(e) => {
            let line = opencti_error(&e, url);
            return if line.name == "OpenCTI token" {
                vec![Line::ok("OpenCTI reachable", url.clone()), line]
            } else {
                vec![line]
            };
        }
    };
    let mut out = vec![
        Line::ok("OpenCTI reachable", url.clone()),
        Line::ok("OpenCTI token", "accepted"),
        version_line(&version),
    ];
    out.push(match client.register_input_fields().await {
        Ok(fields) => registration_line(settings, &fields),
        Err(e) => Line::fail(
            "registration input",
            format!("cannot introspect RegisterConnectorInput: {e}"),
            "the connector's user needs the Connector role (bypass or KNOWLEDGE + CONNECTORAPI capabilities)",
        ),
    });
    out
}

async fn check_indexer(settings: &Settings) -> Vec<Line> {
    let mut s = settings.indexer.clone();
    // A check reports what it sees now: no retries with back-off.
    s.retries = 0;
    let client = match IndexerClient::new(&s) {
        Ok(c) => c,
        Err(e) => return vec![indexer_error(&e, &s)],
    };
    if let Err(e) = client.ping().await {
        let line = indexer_error(&e, &s);
        return match line.name {
            "indexer TLS" | "indexer reachable" | "indexer configuration" => vec![line],
            _ => vec![
                Line::ok("indexer reachable", s.url.clone()),
                tls_line(&s),
                line,
            ],
        };
    }
    let mut out = vec![
        Line::ok("indexer reachable", s.url.clone()),
        tls_line(&s),
        Line::ok(
            "indexer credentials",
            format!("user {:?} accepted", s.username),
        ),
    ];
    let resolved = crate::indexer::detect::resolve(&client, settings).await;
    out.push(super::check_schema::line(&resolved));
    let Some((schema, newest_index)) = resolved.ok().and_then(|r| {
        s.index = r
            .parts
            .iter()
            .map(|(_, p)| p.indexer.index.as_str())
            .collect::<Vec<_>>()
            .join(",");
        r.parts.last().map(|(k, p)| (*k, p.indexer.index.clone()))
    }) else {
        return out;
    };
    match client.check(&s.index).await {
        Ok(r) => out.push(Line::ok(
            "index pattern",
            format!(
                "{:?} matches {} shard(s), {} document(s)",
                s.index, r.shards, r.documents
            ),
        )),
        Err(e) => {
            out.push(indexer_error(&e, &s));
            return out;
        }
    }
    let now = Utc::now();
    // The newest alert of the newest schema searched (5.x in a mixed estate).
    let client = client.with_schema(schema);
    let mut newest = s.clone();
    newest.index = newest_index;
    newest.limit = 1;
    newest.search_after = None;
    let req = SearchRequest::new(json!({"match_all": {}}), &newest, &settings.knowledge, now);
    out.push(match client.search(&req).await {
        Ok(r) => alert_age(newest_time(&r).as_deref(), now, s.search_after.as_ref()),
        Err(e) => indexer_error(&e, &s),
    });
    out
}

/// The newest alert time in a result: the latest of the exact per-rule and per-agent statistics
/// (which cover both `@timestamp` and the older `timestamp` field) and the first sampled alert.
pub fn newest_time(r: &SearchResult) -> Option<String> {
    r.rules
        .iter()
        .map(|x| x.last_seen.as_str())
        .chain(r.agents.iter().map(|a| a.last_seen.as_str()))
        .chain(r.alerts.iter().take(1).map(|a| a.timestamp.as_str()))
        .filter_map(|t| crate::stix::parse_time(t).map(|p| (p, t)))
        .max_by_key(|(p, _)| *p)
        .map(|(_, t)| t.to_string())
}

fn tls_line(s: &IndexerSettings) -> Line {
    if s.url.starts_with("http://") {
        Line::warn(
            "indexer TLS",
            "plain HTTP: the credentials and results cross the network unencrypted",
            "use https:// with WAZUH_OPENSEARCH_CA_BUNDLE unless the indexer is on the same host",
        )
    } else if !s.verify_tls {
        Line::warn(
            "indexer TLS",
            "certificate verification is disabled (WAZUH_OPENSEARCH_VERIFY_TLS=false)",
            "set WAZUH_OPENSEARCH_CA_BUNDLE to the indexer's root CA and remove WAZUH_OPENSEARCH_VERIFY_TLS",
        )
    } else {
        Line::ok(
            "indexer TLS",
            match &s.ca_bundle {
                Some(p) => format!("certificate verified with {}", p.display()),
                None => "certificate verified with the system roots".into(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indexer() -> IndexerSettings {
        crate::pipeline::inspect::tests::settings().indexer
    }

    #[test]
    fn render_one_line_per_check_with_hint() {
        let text = render(&[
            Line::ok("a", "fine"),
            Line::fail("longer name", "broken\nreally", "fix it"),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "ok    a            fine");
        assert_eq!(lines[1], "FAIL  longer name  broken really → fix: fix it");
    }

    #[test]
    fn failed_only_on_fail() {
        assert!(!failed(&[Line::ok("a", ""), Line::warn("b", "", "")]));
        assert!(failed(&[Line::ok("a", ""), Line::fail("b", "", "")]));
    }

    #[test]
    fn opencti_errors_classified() {
        let down = opencti_error(
            &ApiError::Transport("connection refused".into()),
            "http://x",
        );
        assert_eq!(
            (down.name, down.status),
            ("OpenCTI reachable", Status::Fail)
        );
        assert!(down.hint.unwrap().contains("OPENCTI_URL"));
        let tls = opencti_error(
            &ApiError::Transport("invalid peer certificate: UnknownIssuer".into()),
            "https://x",
        );
        assert!(tls.hint.unwrap().contains("OPENCTI_CA_BUNDLE"));
        let gql = opencti_error(
            &ApiError::GraphQl {
                operation: "ConnectorHealthCheck".into(),
                code: Some("AUTH_REQUIRED".into()),
                message: "You must be logged in to do this.".into(),
            },
            "http://x",
        );
        assert_eq!(gql.name, "OpenCTI token");
        assert!(gql.hint.unwrap().contains("OPENCTI_TOKEN"));
        for status in [401, 403] {
            let l = opencti_error(
                &ApiError::Http {
                    status,
                    body: String::new(),
                },
                "http://x",
            );
            assert_eq!(l.name, "OpenCTI token");
        }
        let e500 = opencti_error(
            &ApiError::Http {
                status: 502,
                body: "bad gateway".into(),
            },
            "http://x",
        );
        assert_eq!(e500.name, "OpenCTI reachable");
    }

    #[test]
    fn versions() {
        assert_eq!(version_line("6.9.17").status, Status::Ok);
        assert_eq!(version_line("7.260224.0").status, Status::Ok);
        assert_eq!(version_line("7.260224.0-lts.1").status, Status::Ok);
        assert_eq!(version_line("7.260224.0-rc.1").status, Status::Warn);
        assert_eq!(version_line("6.3.2").status, Status::Warn);
        assert_eq!(version_line("5.12.0").status, Status::Warn);
        assert_eq!(version_line("dev").status, Status::Warn);
    }

    #[test]
    fn registration_lists_sent_and_missing_fields() {
        let s = crate::pipeline::inspect::tests::settings();
        let old: Vec<String> = ["id", "name", "type", "scope", "auto"]
            .iter()
            .map(|x| x.to_string())
            .collect();
        let l = registration_line(&s, &old);
        assert_eq!(l.status, Status::Ok);
        assert!(
            l.detail.contains("type=INTERNAL_ENRICHMENT"),
            "{}",
            l.detail
        );
        assert!(l.detail.contains("no auto_update"), "{}", l.detail);
        let bad = registration_line(&s, &["name".to_string()]);
        assert_eq!(bad.status, Status::Fail);
    }

    #[test]
    fn indexer_errors_classified() {
        let s = indexer();
        let cases = [
            (
                IndexerError::Credentials,
                "indexer credentials",
                "WAZUH_OPENSEARCH_PASSWORD",
            ),
            (
                IndexerError::Tls("UnknownIssuer".into()),
                "indexer TLS",
                "WAZUH_OPENSEARCH_CA_BUNDLE",
            ),
            (
                IndexerError::Connection("refused".into()),
                "indexer reachable",
                "WAZUH_OPENSEARCH_URL",
            ),
            (
                IndexerError::NoIndex("nope-*".into()),
                "index pattern",
                "WAZUH_OPENSEARCH_INDEX",
            ),
            (
                IndexerError::Permissions("no".into()),
                "indexer permissions",
                "read access",
            ),
        ];
        for (e, name, hint) in cases {
            let l = indexer_error(&e, &s);
            assert_eq!(l.name, name);
            assert_eq!(l.status, Status::Fail);
            assert!(l.hint.as_deref().unwrap().contains(hint), "{l:?}");
        }
    }

    #[test]
    fn newest_of_stats_and_sample() {
        let mut r = SearchResult::default();
        assert_eq!(newest_time(&r), None);
        r.rules.push(crate::alert::RuleStats {
            last_seen: "2026-01-02T00:00:00.000Z".into(),
            ..Default::default()
        });
        r.agents.push(crate::alert::AgentStats {
            last_seen: "2026-01-03T00:00:00.000Z".into(),
            ..Default::default()
        });
        r.rules.push(crate::alert::RuleStats {
            last_seen: "not a date".into(),
            ..Default::default()
        });
        assert_eq!(newest_time(&r).as_deref(), Some("2026-01-03T00:00:00.000Z"));
    }

    #[test]
    fn alert_ages() {
        let now = crate::stix::parse_time("2026-01-10T12:00:00Z").unwrap();
        assert_eq!(alert_age(None, now, None).status, Status::Warn);
        let fresh = alert_age(Some("2026-01-10T11:50:00.000Z"), now, None);
        assert_eq!(fresh.status, Status::Ok);
        assert!(fresh.detail.contains("10 min ago"), "{}", fresh.detail);
        let stale = alert_age(Some("2026-01-07T11:00:00.000Z"), now, None);
        assert_eq!(stale.status, Status::Warn);
        assert!(stale.detail.contains("3 d 1 h"), "{}", stale.detail);
        let window = TimeBound::Relative(Duration::from_secs(3600));
        let outside = alert_age(Some("2026-01-10T10:00:00.000Z"), now, Some(&window));
        assert!(outside.detail.contains("before the search window"));
        assert_eq!(alert_age(Some("garbage"), now, None).status, Status::Warn);
    }
}
