//! The Grafana dashboard (`docker/grafana/connector-wazuh.json`) queries only series that the
//! connector's `/metrics` really exposes — without a prefix and with pycti's
//! namespace/subsystem prefix, which the dashboard's `prefix` variable stands for — and every
//! metric family exposed is documented in docs/metrics.md.

use std::collections::BTreeSet;

use connector_wazuh::ops::{Health, Metrics};
use regex::Regex;
use serde_json::Value;

use crate::testkit::ops::{scrape, start};

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Every PromQL query of the dashboard: panel targets (rows' nested panels included) and the
/// template variables' queries.
fn queries(dashboard: &Value) -> Vec<String> {
    fn panels(list: &Value, out: &mut Vec<String>) {
        for p in list.as_array().into_iter().flatten() {
            for t in p["targets"].as_array().into_iter().flatten() {
                out.push(t["expr"].as_str().unwrap().to_string());
            }
            panels(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    panels(&dashboard["panels"], &mut out);
    for v in dashboard["templating"]["list"].as_array().unwrap() {
        if let Some(q) = v["query"]["query"].as_str() {
            out.push(q.to_string());
        }
    }
    out
}

/// The metric names a query selects. The dashboard writes every selector as `name{…}`, and
/// template queries as `label_values(name, label)`; quoted strings are ignored.
fn selected_names(query: &str) -> Vec<String> {
    let strings = Regex::new(r#""[^"]*""#).unwrap();
    let selector = Regex::new(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{").unwrap();
    let label_values = Regex::new(r"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,").unwrap();
    let bare = strings.replace_all(query, "\"\"");
    selector
        .captures_iter(&bare)
        .chain(label_values.captures_iter(&bare))
        .map(|c| c[1].to_string())
        .collect()
}

/// The series names of one scrape: those with a value (`name{…} value` / `name value` lines), and
/// those of families declared by `# TYPE` whose labelled series appear with their first event
/// (`opencti_api_errors_total{operation=…}`), named as OpenMetrics names a family's series.
fn exposed_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(declared) = line.strip_prefix("# TYPE ") {
            let mut parts = declared.split(' ');
            let (Some(family), Some(kind)) = (parts.next(), parts.next()) else {
                continue;
            };
            let suffixes: &[&str] = match kind {
                "counter" => &["_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                "info" => &["_info"],
                _ => &[""],
            };
            names.extend(suffixes.iter().map(|s| format!("{family}{s}")));
        } else if !line.starts_with('#') {
            names.insert(line.split(['{', ' ']).next().unwrap_or("").to_string());
        }
    }
    names
}

#[tokio::test]
async fn every_metric_the_dashboard_queries_is_exposed() {
    let dashboard: Value =
        serde_json::from_str(&read("docker/grafana/connector-wazuh.json")).unwrap();
    let queries = queries(&dashboard);
    assert!(queries.len() >= 20, "{} queries", queries.len());
    for (namespace, subsystem, prefix) in [("", "", ""), ("opencti", "wazuh", "opencti_wazuh_")] {
        let metrics = Metrics::with_prefix(namespace, subsystem).unwrap();
        let (addr, token, _srv) = start(metrics, Health::new()).await;
        let exposed = exposed_names(&scrape(addr).await);
        token.cancel();
        let mut used = BTreeSet::new();
        for q in &queries {
            let names = selected_names(&q.replace("${prefix}", prefix));
            assert!(!names.is_empty(), "no metric selector in {q}");
            for n in names {
                assert!(
                    exposed.contains(&n),
                    "the dashboard queries {n} (in {q}), which /metrics does not expose; exposed: {exposed:?}"
                );
                used.insert(n);
            }
        }
        // The readiness, breaker, outcome and latency series the dashboard exists for.
        for wanted in [
            "ready",
            "dependency_up",
            "enrichment_requests_total",
            "enrichment_request_duration_seconds_bucket",
            "indexer_search_duration_seconds_bucket",
            "enrichment_requests_in_flight",
        ] {
            assert!(
                used.contains(&format!("{prefix}{wanted}")),
                "{wanted} unused"
            );
        }
    }
}

#[tokio::test]
async fn every_exposed_metric_family_is_documented() {
    let (addr, token, _srv) = start(Metrics::new(), Health::new()).await;
    let text = scrape(addr).await;
    token.cancel();
    let doc = read("docs/metrics.md");
    let families: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(families.len() > 15, "{families:?}");
    let missing: Vec<&&str> = families
        .iter()
        .filter(|f| !doc.contains(&format!("| `{f}")))
        .collect();
    assert!(missing.is_empty(), "docs/metrics.md lacks {missing:?}");
}
