//! The knowledge of a bundle as a Mermaid flowchart (`enrich --graph`, the demo): one node per
//! object (its type and a short name or value), an edge per relationship and per sighting
//! (observable or indicator → the system that saw it, with the count), and dotted edges from a
//! case or note to the objects it refers to. Marking definitions and authorship are left out:
//! they are on every object and would hide the picture.
//!
//! The output depends only on the set of objects, not their order, so a graph can be committed
//! and compared.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{id_of, type_of, type_of_id};

/// Longest label text, in characters: longer names and values lose their middle (`…`), because
/// names such as an incident's differ at the end (the system) more than at the start.
const LABEL_CHARS: usize = 64;

/// Object types that are not drawn as nodes.
const HIDDEN: &[&str] = &[
    "marking-definition",
    "extension-definition",
    "language-content",
];

/// The flowchart of `objects` (a bundle's `objects`).
pub fn render(objects: &[Value]) -> String {
    let mut sorted: Vec<&Value> = objects
        .iter()
        .filter(|o| !HIDDEN.contains(&type_of(o)) && !id_of(o).is_empty())
        .collect();
    sorted.sort_by_key(|o| (type_of(o), label(o), id_of(o)));
    sorted.dedup_by_key(|o| id_of(o));

    let mut nodes: BTreeMap<String, usize> = BTreeMap::new();
    let mut node_lines = Vec::new();
    for o in sorted.iter().filter(|o| !is_edge(type_of(o))) {
        let n = nodes.len();
        nodes.insert(id_of(o).to_string(), n);
        node_lines.push(node_line(n, type_of(o), &label(o)));
    }
    // References to objects the bundle does not carry get a plain node of their own.
    let mut edges = BTreeSet::new();
    let mut node = |id: &str, lines: &mut Vec<String>| -> usize {
        if let Some(n) = nodes.get(id) {
            return *n;
        }
        let n = nodes.len();
        nodes.insert(id.to_string(), n);
        lines.push(node_line(
            n,
            "",
            &format!("{} (not in the bundle)", type_of_id(id)),
        ));
        n
    };
    for o in &sorted {
        match type_of(o) {
            "relationship" => {
                let (Some(s), Some(t)) = (text(o, "source_ref"), text(o, "target_ref")) else {
                    continue;
                };
                let kind = text(o, "relationship_type").unwrap_or("related-to");
                let (s, t) = (node(s, &mut node_lines), node(t, &mut node_lines));
                edges.insert(format!("  n{s} -->|\"{}\"| n{t}", escape(kind)));
            }
            "sighting" => {
                // OpenCTI records an observable's sighting on a stand-in indicator id and names
                // the observable in `x_opencti_sighting_of_ref`: draw what was really seen.
                let of =
                    text(o, "x_opencti_sighting_of_ref").or_else(|| text(o, "sighting_of_ref"));
                let Some(of) = of else {
                    continue;
                };
                let of = node(of, &mut node_lines);
                let what = match o.get("count").and_then(Value::as_u64) {
                    Some(c) => format!("sighted ×{c}"),
                    None => "sighted".to_string(),
                };
                for w in refs(o, "where_sighted_refs") {
                    let w = node(w, &mut node_lines);
                    edges.insert(format!("  n{of} -->|\"{what}\"| n{w}"));
                }
            }
            _ => {
                let from = node(id_of(o), &mut node_lines);
                for r in refs(o, "object_refs") {
                    // A note about a sighting or relationship points at an edge: not drawable.
                    if is_edge(type_of_id(r)) || HIDDEN.contains(&type_of_id(r)) {
                        continue;
                    }
                    let to = node(r, &mut node_lines);
                    edges.insert(format!("  n{from} -.-> n{to}"));
                }
            }
        }
    }
    let mut out = String::from("flowchart LR\n");
    for l in node_lines.iter().chain(edges.iter()) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// [`render`] as a Markdown document (a fenced `mermaid` block), which code hosts draw.
pub fn markdown(objects: &[Value], title: &str) -> String {
    format!("# {title}\n\n```mermaid\n{}```\n", render(objects))
}

fn is_edge(t: &str) -> bool {
    t == "relationship" || t == "sighting"
}

fn text<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn refs<'a>(o: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    o.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// A node, shaped by kind: observables rounded, systems and other identities boxed twice,
/// incidents as hexagons, indicators as rhombi, notes as flags, the rest as boxes.
fn node_line(n: usize, stix_type: &str, label: &str) -> String {
    let shown = if stix_type.is_empty() {
        escape(label)
    } else {
        escape(&format!("{stix_type}: {label}"))
    };
    let (open, close) = match stix_type {
        "identity" => ("[[", "]]"),
        "incident" => ("{{", "}}"),
        "indicator" => ("{", "}"),
        "note" => (">", "]"),
        "case-incident" | "report" | "grouping" => ("[(", ")]"),
        t if super::is_sco(t) => ("([", "])"),
        _ => ("[", "]"),
    };
    format!("  n{n}{open}\"{shown}\"{close}")
}

/// The short text that names an object: its name, value, first hash, pattern, key, or the start
/// of its content.
fn label(o: &Value) -> String {
    let first_hash = o
        .get("hashes")
        .and_then(Value::as_object)
        .and_then(|h| {
            ["SHA-256", "SHA-1", "MD5"]
                .iter()
                .find_map(|k| h.get(*k))
                .or_else(|| h.values().next())
        })
        .and_then(Value::as_str);
    // The connector describes its connections (`ipv4:ssh 1.2.3.4:1066 → 10.0.1.31:?`); user
    // accounts are named by their login.
    let keys: &[&str] = match type_of(o) {
        "network-traffic" => &["description"],
        _ => &[
            "name",
            "value",
            "key",
            "pattern",
            "command_line",
            "account_login",
            "user_id",
        ],
    };
    let raw = keys
        .iter()
        .find_map(|k| text(o, k))
        .or(first_hash)
        .or_else(|| text(o, "content"))
        .unwrap_or_else(|| id_of(o));
    shorten(raw)
}

fn shorten(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    let chars: Vec<char> = flat.chars().collect();
    if chars.len() <= LABEL_CHARS {
        return flat.to_string();
    }
    let head: String = chars[..LABEL_CHARS / 2 - 1].iter().collect();
    let tail: String = chars[chars.len() - LABEL_CHARS / 2..].iter().collect();
    format!("{}…{}", head.trim_end(), tail.trim_start())
}

/// Mermaid's entity codes for the characters that end or change a quoted label (`"`), start an
/// entity (`#`), or would be read as HTML or Markdown (`<`, `>`, `` ` ``).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Vec<Value> {
        vec![
            json!({"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "1.2.3.4"}),
            json!({"type": "identity", "id": "identity--s", "name": "srv (agent 001)", "identity_class": "system"}),
            json!({"type": "sighting", "id": "sighting--1", "sighting_of_ref": "indicator--stand-in", "x_opencti_sighting_of_ref": "ipv4-addr--1", "where_sighted_refs": ["identity--s"], "count": 3}),
            json!({"type": "incident", "id": "incident--1", "name": "SSH brute force"}),
            json!({"type": "relationship", "id": "relationship--1", "relationship_type": "related-to", "source_ref": "incident--1", "target_ref": "ipv4-addr--1"}),
            json!({"type": "case-incident", "id": "case-incident--1", "name": "Wazuh case", "object_refs": ["incident--1", "ipv4-addr--1", "sighting--1"]}),
            json!({"type": "note", "id": "note--1", "content": "Summary", "object_refs": ["sighting--1", "ipv4-addr--1"]}),
            json!({"type": "marking-definition", "id": "marking-definition--t", "name": "TLP:GREEN"}),
        ]
    }

    #[test]
    fn nodes_edges_and_dotted_references() {
        let g = render(&sample());
        assert!(g.starts_with("flowchart LR\n"), "{g}");
        let n = |needle: &str| -> String {
            let line = g
                .lines()
                .find(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("no node {needle} in\n{g}"));
            line.trim()
                .split(['(', '[', '{', '>'])
                .next()
                .unwrap_or("")
                .to_string()
        };
        let (ip, sys, inc, case, note) = (
            n("ipv4-addr: 1.2.3.4"),
            n("identity: srv (agent 001)"),
            n("incident: SSH brute force"),
            n("case-incident: Wazuh case"),
            n("note: Summary"),
        );
        for edge in [
            format!("{ip} -->|\"sighted ×3\"| {sys}"),
            format!("{inc} -->|\"related-to\"| {ip}"),
            format!("{case} -.-> {inc}"),
            format!("{case} -.-> {ip}"),
            format!("{note} -.-> {ip}"),
        ] {
            assert!(g.contains(&edge), "{edge} missing in\n{g}");
        }
        assert!(!g.contains("TLP:GREEN"), "markings are not drawn");
        assert!(!g.contains("sighting:"), "sightings are edges, not nodes");
        assert!(
            !g.contains("indicator"),
            "the stand-in indicator is not drawn: {g}"
        );
        // 5 nodes, 5 edges.
        assert_eq!(g.lines().count(), 1 + 5 + 5, "{g}");
    }

    #[test]
    fn the_same_objects_in_any_order_give_the_same_graph() {
        let mut objects = sample();
        let g = render(&objects);
        objects.reverse();
        assert_eq!(render(&objects), g);
        objects.swap(0, 3);
        assert_eq!(render(&objects), g);
    }

    #[test]
    fn labels_cannot_break_out_of_their_quotes() {
        assert_eq!(
            escape(r#"a "b" [c] <d> #e `f`"#),
            "a #quot;b#quot; [c] #lt;d#gt; #35;e #96;f#96;"
        );
        let g = render(&[
            json!({"type": "file", "id": "file--1", "name": "x\"]\n--> evil"}),
            json!({"type": "indicator", "id": "indicator--1", "pattern": "[file:name = 'a\"b']"}),
        ]);
        for l in g.lines().skip(1) {
            // Exactly the two quotes that delimit the label.
            assert_eq!(l.matches('"').count(), 2, "{l}");
        }
        assert!(g.contains("file: x#quot;] --#gt; evil"), "{g}");
    }

    #[test]
    fn long_labels_are_cut_and_unknown_references_get_a_node() {
        let long = format!("{}{}", "a".repeat(100), "b".repeat(100));
        let g = render(&[
            json!({"type": "note", "id": "note--1", "content": long, "object_refs": ["url--9"]}),
            json!({"type": "user-account", "id": "user-account--1", "account_login": "root"}),
        ]);
        let half = LABEL_CHARS / 2;
        let cut = format!("{}…{}", "a".repeat(half - 1), "b".repeat(half));
        assert!(g.contains(&format!("note: {cut}\"")), "{g}");
        assert!(g.contains("user-account: root"), "{g}");
        assert!(g.contains("url (not in the bundle)"), "{g}");
        assert!(g.contains("-.->"), "{g}");
        let md = markdown(&[], "T");
        assert!(md.contains("```mermaid\nflowchart LR\n```"), "{md}");
    }
}
