//! The JSON Schema of every environment variable, as OpenCTI's connector catalogue ships it in
//! `__metadata__/connector_config_schema.json`: the managed-connector composer builds its form
//! from it and checks the values it starts the container with. Generated from the option table
//! (`connector-wazuh config --schema`), never written by hand, so it cannot drift from what the
//! loader reads.
//!
//! Values are typed the way the catalogue types them (booleans, integers, arrays); the
//! environment carries them as text, and [`instance`] is the translation back: what a
//! deployment's environment means, as a JSON object the schema can judge.

use serde_json::{json, Map, Value};

use super::parse::{parse_bool, parse_list};
use super::table::{Kind, OptionSpec, ENV_ALIASES, OPTIONS};

/// The schema dialect of the catalogue's files.
const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";
/// Where the committed schema lives in the repository.
const ID: &str =
    "https://github.com/connector-wazuh/connector-wazuh/__metadata__/connector_config_schema.json";
/// Appended to the description of duration options, whose syntax no JSON Schema format names.
const DURATION_HINT: &str = "Duration such as 30s, 5m, 1h 30m (a bare number means seconds).";

/// The value `text` stands for under `kind`, typed as the schema types it. Text that does not
/// parse stays text, so that the schema (not this function) reports it.
pub fn typed(kind: Kind, text: &str) -> Value {
    let t = text.trim();
    match kind {
        Kind::Bool => parse_bool(t).map(Value::Bool).unwrap_or_else(|_| json!(t)),
        Kind::Int { .. } => t
            .parse::<i64>()
            .map(|n| json!(n))
            .unwrap_or_else(|_| json!(t)),
        Kind::Number { .. } => t
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| json!(t)),
        Kind::List(_) => parse_list(t).map(|l| json!(l)).unwrap_or_else(|_| json!(t)),
        Kind::Text | Kind::Url | Kind::Uuid | Kind::Duration | Kind::Choice(_) => json!(t),
    }
}

/// The schema of one variable.
pub fn property(o: &OptionSpec) -> Value {
    let mut p = Map::new();
    let mut description = o.doc.to_string();
    match o.kind {
        Kind::Text => {
            p.insert("type".into(), json!("string"));
        }
        Kind::Url => {
            p.insert("type".into(), json!("string"));
            p.insert("format".into(), json!("uri"));
        }
        Kind::Uuid => {
            p.insert("type".into(), json!("string"));
            p.insert("format".into(), json!("uuid"));
        }
        Kind::Duration => {
            p.insert("type".into(), json!("string"));
            description = format!("{description} {DURATION_HINT}");
        }
        Kind::Bool => {
            p.insert("type".into(), json!("boolean"));
        }
        Kind::Int { min, max } => {
            p.insert("type".into(), json!("integer"));
            p.insert("minimum".into(), json!(min));
            if max != i64::MAX {
                p.insert("maximum".into(), json!(max));
            }
        }
        Kind::Number { min, max } => {
            p.insert("type".into(), json!("number"));
            p.insert("minimum".into(), json!(min));
            p.insert("maximum".into(), json!(max));
        }
        Kind::Choice([only]) => {
            p.insert("type".into(), json!("string"));
            p.insert("const".into(), json!(only));
        }
        Kind::Choice(words) => {
            p.insert("type".into(), json!("string"));
            p.insert("enum".into(), json!(words));
        }
        Kind::List(words) => {
            p.insert("type".into(), json!("array"));
            let mut items = json!({"type": "string"});
            if let Some(words) = words {
                // `all` alone selects every word, as the loader reads it.
                let mut with_all = words.to_vec();
                with_all.push("all");
                items["enum"] = json!(with_all);
            }
            p.insert("items".into(), items);
        }
    }
    if o.secret {
        p.insert("format".into(), json!("password"));
        p.insert("writeOnly".into(), json!(true));
    }
    if let Some(d) = o.default {
        p.insert("default".into(), typed(o.kind, d));
    }
    p.insert("description".into(), json!(description));
    Value::Object(p)
}

/// `value` pretty-printed and indented by `indent` spaces after its first line.
fn pretty(value: &Value, indent: usize) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.replace('\n', &format!("\n{}", " ".repeat(indent)))
}

/// The whole schema as committed in `__metadata__/connector_config_schema.json`: variables in
/// the option table's order (so the composer's form reads like docs/configuration.md), the keys
/// of each in alphabetical order, a final newline.
pub fn render() -> String {
    let properties: Vec<String> = OPTIONS
        .iter()
        .map(|o| format!("    {}: {}", json!(o.env), pretty(&property(o), 4)))
        .collect();
    let required: Vec<&str> = OPTIONS
        .iter()
        .filter(|o| o.required)
        .map(|o| o.env)
        .collect();
    format!(
        "{{\n  \"$schema\": {},\n  \"$id\": {},\n  \"type\": \"object\",\n  \"properties\": {{\n{}\n  }},\n  \"required\": {},\n  \"additionalProperties\": true\n}}\n",
        json!(DIALECT),
        json!(ID),
        properties.join(",\n"),
        pretty(&json!(required), 2),
    )
}

/// Where the catalogue's configuration pages link a string format.
const FORMATS_LINK: &str =
    "https://json-schema.org/understanding-json-schema/reference/string#built-in-formats";

/// The "possible values" cell of one variable's row.
fn possible_values(p: &Value) -> String {
    let words = |v: &Value| -> Option<String> {
        let list: Vec<String> = v
            .as_array()?
            .iter()
            .map(|w| format!("`{}`", w.as_str().unwrap_or_default()))
            .collect();
        Some(list.join(" "))
    };
    if let Some(c) = p.get("const").and_then(Value::as_str) {
        return format!("`{c}`");
    }
    if let Some(list) = p.get("enum").and_then(words) {
        return list;
    }
    if let Some(list) = p.pointer("/items/enum").and_then(words) {
        return format!("list of {list}");
    }
    if let Some(f) = p.get("format").and_then(Value::as_str) {
        return format!("Format: [`{f}`]({FORMATS_LINK})");
    }
    match (p.get("minimum"), p.get("maximum")) {
        (Some(min), Some(max)) => format!("`{min}` to `{max}`"),
        (Some(min), None) => format!("`{min}` or more"),
        _ => match p.pointer("/items/type") {
            Some(t) => format!("list of {}", t.as_str().unwrap_or("string")),
            None => p["type"].as_str().unwrap_or("string").to_string(),
        },
    }
}

/// The configuration page the catalogue ships next to the schema
/// (`__metadata__/CONNECTOR_CONFIG_DOC.md`): one row per variable, required ones first, each
/// cell derived from the variable's schema so the page cannot say something the schema does not.
pub fn render_doc() -> String {
    let mut rows: Vec<&OptionSpec> = OPTIONS.iter().collect();
    rows.sort_by_key(|o| !o.required);
    let mut out = String::from(
        "# Connector Configurations\n\n\
         Every environment variable of connector-wazuh, generated from its option table by \
         `connector-wazuh config --schema-doc` (the JSON Schema is `connector_config_schema.json`; \
         the value syntax, layouts and examples are in the repository's `docs/configuration.md`).\n\n\
         ### Type: `object`\n\n\
         | Property | Type | Required | Possible values | Default | Description |\n\
         | -------- | ---- | -------- | --------------- | ------- | ----------- |\n",
    );
    for o in rows {
        let p = property(o);
        let ty = if p.get("const").is_some() {
            "const"
        } else {
            p["type"].as_str().unwrap_or("string")
        };
        let default = p
            .get("default")
            .map(|d| format!("`{d}`"))
            .unwrap_or_default();
        let description = p["description"].as_str().unwrap_or_default();
        out.push_str(&format!(
            "| {} | `{ty}` | {} | {} | {default} | {} |\n",
            o.env,
            if o.required { "✅" } else { "" },
            possible_values(&p).replace('|', "\\|"),
            description.replace('|', "\\|"),
        ));
    }
    out
}

/// What an environment means, as the object the schema judges: a variable read under another
/// name takes its option's name; an empty value is unset (the default applies), except for lists,
/// where it is the empty list; variables the connector does not read stay text (the schema allows
/// other properties, as the catalogue's do).
pub fn instance<'a>(env: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    let mut out = Map::new();
    for (name, value) in env {
        let canonical = ENV_ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, c)| *c);
        match OPTIONS.iter().find(|o| o.env == canonical) {
            Some(o) if value.trim().is_empty() && !matches!(o.kind, Kind::List(_)) => {
                out.remove(canonical);
            }
            Some(o) => {
                out.insert(canonical.to_string(), typed(o.kind, value));
            }
            None => {
                out.insert(name.to_string(), json!(value));
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse::{parse_duration, parse_http_url};

    #[test]
    fn every_default_has_its_declared_type() {
        for o in OPTIONS {
            let Some(d) = o.default else { continue };
            let v = typed(o.kind, d);
            let ok = match o.kind {
                Kind::Bool => v.is_boolean(),
                Kind::Int { min, max } => v.as_i64().is_some_and(|n| (min..=max).contains(&n)),
                Kind::Number { min, max } => v.as_f64().is_some_and(|n| (min..=max).contains(&n)),
                Kind::Choice(words) => words.contains(&d),
                Kind::List(words) => v.as_array().is_some_and(|items| {
                    items.iter().all(|i| {
                        words.is_none_or(|w| {
                            i.as_str().is_some_and(|s| s == "all" || w.contains(&s))
                        })
                    })
                }),
                Kind::Duration => parse_duration(d).is_ok(),
                Kind::Url => parse_http_url(d).is_ok(),
                Kind::Text | Kind::Uuid => v.is_string(),
            };
            assert!(ok, "{}: default {d:?} is not a {:?}", o.env, o.kind);
        }
    }

    #[test]
    fn variables_are_typed_as_the_catalogue_types_them() {
        let by_name = |n: &str| property(OPTIONS.iter().find(|o| o.env == n).unwrap());
        let auto = by_name("CONNECTOR_AUTO");
        assert_eq!(
            (auto["type"].as_str(), &auto["default"]),
            (Some("boolean"), &json!(true))
        );
        let c = by_name("CONNECTOR_CONCURRENCY");
        assert_eq!(
            (&c["minimum"], &c["maximum"], &c["default"]),
            (&json!(1), &json!(256), &json!(4))
        );
        assert_eq!(by_name("CONNECTOR_TYPE")["const"], "INTERNAL_ENRICHMENT");
        let token = by_name("OPENCTI_TOKEN");
        assert_eq!(
            (&token["writeOnly"], token.get("default")),
            (&json!(true), None)
        );
        let files = by_name("WAZUH_SEARCH_FILESEARCH_OPTIONS");
        assert!(files["items"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("all")));
        assert!(by_name("WAZUH_HITS_ABORT_LIMIT").get("maximum").is_none());
        assert!(by_name("OPENCTI_TIMEOUT")["description"]
            .as_str()
            .unwrap()
            .ends_with(DURATION_HINT));
    }

    #[test]
    fn rendered_schema_is_json_in_table_order_with_the_required_variables() {
        let text = render();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["properties"].as_object().unwrap().len(), OPTIONS.len());
        assert_eq!(
            v["required"],
            json!([
                "OPENCTI_URL",
                "OPENCTI_TOKEN",
                "CONNECTOR_ID",
                "WAZUH_OPENSEARCH_URL"
            ])
        );
        let url = text.find("\"OPENCTI_URL\"").unwrap();
        assert!(url < text.find("\"CONNECTOR_ID\"").unwrap());
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn configuration_page_has_one_row_per_variable_required_first() {
        let page = render_doc();
        let rows: Vec<&str> = page
            .lines()
            .filter(|l| {
                l.starts_with("| ") && !l.starts_with("| Property") && !l.starts_with("| ---")
            })
            .collect();
        assert_eq!(rows.len(), OPTIONS.len());
        assert!(rows[..4].iter().all(|r| r.contains(" | ✅ | ")), "{rows:?}");
        let row = |name: &str| {
            *rows
                .iter()
                .find(|r| r.starts_with(&format!("| {name} |")))
                .unwrap()
        };
        assert!(row("CONNECTOR_CONCURRENCY").contains("| `integer` |  | `1` to `256` | `4` |"));
        assert!(row("CONNECTOR_TYPE").contains("| `const` |  | `INTERNAL_ENRICHMENT` |"));
        assert!(row("WAZUH_CREATE_INCIDENT").contains("`per-sighting`"));
        assert!(row("OPENCTI_TOKEN").contains("Format: [`password`]"));
        assert!(row("WAZUH_SEARCH_PROCSEARCH_OPTIONS").contains("list of `case-insensitive`"));
        assert!(row("WAZUH_SEARCH_FIELDS_ADD").contains("| `string` |  | string | `\"\"` |"));
    }

    #[test]
    fn environment_instance_reads_aliases_and_empty_values_as_the_loader_does() {
        let v = instance([
            ("AGENTS_AS_SYSTEMS", "yes"),
            ("WAZUH_MAX_NOTES", " 7 "),
            ("WAZUH_INDICATOR_SCORE_THRESHOLD", ""),
            ("WAZUH_RULE_EXCLUDE_LIST", ""),
            ("WAZUH_OPENSEARCH_LIMIT", "many"),
            ("TZ", "UTC"),
        ]);
        assert_eq!(
            v,
            json!({
                "WAZUH_AGENTS_AS_SYSTEMS": true,
                "WAZUH_MAX_NOTES": 7,
                "WAZUH_RULE_EXCLUDE_LIST": [],
                "WAZUH_OPENSEARCH_LIMIT": "many",
                "TZ": "UTC",
            })
        );
    }
}
