//! `enrich --summary`: what a bundle holds, as an operator reads it — objects by type, sightings
//! per system with counts and first/last seen, incidents, and the work message.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::stix::{id_of, type_of};

fn text<'a>(o: &'a Value, key: &str) -> &'a str {
    o.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Renders the summary of `objects` (the bundle's objects) and the work message.
pub fn render(objects: &[Value], message: &str) -> String {
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for o in objects {
        *by_type.entry(type_of(o)).or_default() += 1;
    }
    let names: HashMap<&str, &str> = objects
        .iter()
        .filter(|o| type_of(o) == "identity")
        .map(|o| (id_of(o), text(o, "name")))
        .collect();
    let mut out = String::new();
    out.push_str(&format!("Objects: {}\n", objects.len()));
    let w = by_type.keys().map(|k| k.len()).max().unwrap_or(0);
    for (t, n) in &by_type {
        out.push_str(&format!("  {t:<w$}  {n}\n"));
    }
    let sightings: Vec<&Value> = objects
        .iter()
        .filter(|o| type_of(o) == "sighting")
        .collect();
    out.push_str(&format!("Sightings: {}\n", sightings.len()));
    if !sightings.is_empty() {
        let mut rows: Vec<[String; 4]> = sightings
            .iter()
            .map(|s| {
                let system = s
                    .get("where_sighted_refs")
                    .and_then(Value::as_array)
                    .map(|refs| {
                        refs.iter()
                            .filter_map(Value::as_str)
                            .map(|r| names.get(r).copied().unwrap_or(r).to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                let count = s
                    .get("count")
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into());
                [
                    system,
                    count,
                    text(s, "first_seen").to_string(),
                    text(s, "last_seen").to_string(),
                ]
            })
            .collect();
        rows.sort();
        out.push_str(&table(
            ["SYSTEM", "COUNT", "FIRST SEEN", "LAST SEEN"],
            &rows,
        ));
    }
    let incidents: Vec<&Value> = objects
        .iter()
        .filter(|o| matches!(type_of(o), "incident" | "case-incident"))
        .collect();
    out.push_str(&format!("Incidents: {}\n", incidents.len()));
    for i in incidents {
        let severity = text(i, "severity");
        out.push_str(&format!("  {}: {}", type_of(i), text(i, "name")));
        if !severity.is_empty() {
            out.push_str(&format!(" (severity {severity})"));
        }
        out.push('\n');
    }
    out.push_str(&format!("Message: {message}\n"));
    out
}

/// A left-aligned table with a header, two spaces between columns, indented by two.
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::from(" ");
        for (c, w) in cells.iter().zip(widths) {
            s.push(' ');
            s.push_str(c);
            s.push_str(&" ".repeat(w - c.chars().count() + 1));
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = line(header.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_lists_types_sightings_incidents_message() {
        let objects = vec![
            json!({"type":"identity","id":"identity--a","name":"web-01"}),
            json!({"type":"identity","id":"identity--b","name":"db-02"}),
            json!({"type":"sighting","id":"sighting--1","where_sighted_refs":["identity--a"],"count":12,"first_seen":"2024-01-01T00:00:00Z","last_seen":"2024-01-02T00:00:00Z"}),
            json!({"type":"sighting","id":"sighting--2","where_sighted_refs":["identity--b"],"count":3,"first_seen":"2024-01-03T00:00:00Z","last_seen":"2024-01-03T00:00:00Z"}),
            json!({"type":"incident","id":"incident--1","name":"Wazuh alert: sshd","severity":"high"}),
        ];
        let s = render(&objects, "Found 15 hits");
        assert!(
            s.contains("Objects: 5\n  identity  2\n  incident  1\n  sighting  2\n"),
            "{s}"
        );
        assert!(
            s.contains("Sightings: 2\n  SYSTEM  COUNT  FIRST SEEN"),
            "{s}"
        );
        assert!(
            s.contains("  web-01  12     2024-01-01T00:00:00Z  2024-01-02T00:00:00Z\n"),
            "{s}"
        );
        assert!(
            s.contains("  incident: Wazuh alert: sshd (severity high)\n"),
            "{s}"
        );
        assert!(s.ends_with("Message: Found 15 hits\n"));
    }

    #[test]
    fn empty_bundle() {
        let s = render(&[], "No hits found");
        assert_eq!(
            s,
            "Objects: 0\nSightings: 0\nIncidents: 0\nMessage: No hits found\n"
        );
    }
}
