//! The query builder against the 64 exact requests of the reference connector
//! (`tests/fixtures/reference/queries.json`): where behaviour is kept, our query must be
//! semantically the reference's (same clauses and structure; `term` equals `match` on Wazuh's
//! keyword fields; a `multi_match` may search the reference's fields plus the documented
//! additions); where we fix a bug, the test names it and shows the fixed behaviour.

use std::collections::{BTreeSet, HashMap};

use connector_wazuh::config::options::*;
use connector_wazuh::search::{observable, query};
use serde_json::{json, Value};

const QUERIES: &str = include_str!("../fixtures/reference/queries.json");

/// Samples whose reference query has a bug we fix; checked by dedicated tests below.
const FIXED: &[(&str, &str)] = &[
    (
        "regkey_default_hkcu_alias_bug",
        "§9.3 #3 hive alias CU → HKCU",
    ),
    ("process_cmdline", "§9.3 #6 process word boundary"),
    (
        "process_cmdline_linux_case_sensitive",
        "§9.3 #6 process word boundary",
    ),
    (
        "url_ignore_trailing_slash_only",
        "§9.3 #7 unescaped URL regexp",
    ),
    (
        "directory_no_regexp_normalise_backslashes",
        "§9.3 #8 ANDed variants",
    ),
    (
        "software_unsupported_in_0_3_0",
        "Software supported (dev branch)",
    ),
    (
        "regvalue_reg_sz",
        "registry values: data as text, a named value must match its name",
    ),
    (
        "regvalue_reg_binary",
        "registry values: data as text, a named value must match its name",
    ),
    (
        "regvalue_reg_dword_unsupported",
        "registry values: data as text, a named value must match its name",
    ),
];

/// A regexp with our documented widenings taken out (on both sides, so the comparison is
/// the reference's):
/// a Windows path matches either separator (`[/\\]+` for the reference's `\\+`), and a
/// registry key may follow FIM's architecture tag (`[x32] `).
fn unwiden(re: &str) -> String {
    re.strip_prefix("(\\[x(32|64)\\] )?")
        .unwrap_or(re)
        .replace("[/\\\\]+", "\\\\+")
}

fn refs() -> HashMap<String, Value> {
    [
        (
            "ipv4-addr--src",
            json!({"type": "ipv4-addr", "value": "198.51.100.23"}),
        ),
        (
            "ipv4-addr--dst",
            json!({"type": "ipv4-addr", "value": "203.0.113.5"}),
        ),
        (
            "mac-addr--src",
            json!({"type": "mac-addr", "value": "00:1a:2b:3c:4d:5e"}),
        ),
        (
            "domain-name--dst",
            json!({"type": "domain-name", "value": "evil.example"}),
        ),
        (
            "directory--3c1e4dbb-7d4b-5e57-a4b3-7c2e0b6c3d10",
            json!({"type": "directory", "path": "C:\\Users\\Public\\Downloads"}),
        ),
        (
            "directory--linux-parent",
            json!({"type": "directory", "path": "/usr/bin"}),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn set<T: Ord>(v: &Value, parse: impl Fn(&str) -> Option<T>) -> BTreeSet<T> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| parse(s.as_str().unwrap()).unwrap_or_else(|| panic!("bad option {s}")))
        .collect()
}

fn options(overrides: &Value) -> SearchOptions {
    let mut o = SearchOptions::default();
    for (k, v) in overrides.as_object().unwrap() {
        match k.as_str() {
            "filesearch_options" => o.filesearch_options = set(v, FileSearchOption::parse),
            "dirsearch_options" => o.dirsearch_options = set(v, DirSearchOption::parse),
            "procsearch_options" => o.procsearch_options = set(v, ProcSearchOption::parse),
            "regkeysearch_options" => o.regkeysearch_options = set(v, RegKeySearchOption::parse),
            "lookup_agent_ip" => o.lookup_agent_ip = v.as_bool().unwrap(),
            "ignore_private_addrs" => o.ignore_private_addrs = v.as_bool().unwrap(),
            "lookup_mac_variants" => o.lookup_mac_variants = v.as_bool().unwrap(),
            "lookup_hostnames_in_cmd_line" => o.lookup_hostnames_in_cmd_line = v.as_bool().unwrap(),
            "lookup_url_without_host" => o.lookup_url_without_host = v.as_bool().unwrap(),
            "lookup_url_ignore_trailing_slash" => {
                o.lookup_url_ignore_trailing_slash = v.as_bool().unwrap()
            }
            other => panic!("unknown override {other}"),
        }
    }
    o
}

/// `term {f: {value: v}}` → `match {f: v}` (equivalent on keyword fields).
fn normalise(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(t)) = m.get("term") {
                if let Some((field, spec)) = t.iter().next() {
                    if let Some(val) = spec.get("value") {
                        return json!({"match": {field: val}});
                    }
                }
            }
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        other => other.clone(),
    }
}

/// The reference's uid field list with its merged entry split again and duplicates removed
/// (§9.3 #5).
fn fix_fields(fields: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in fields.as_array().unwrap() {
        match f.as_str().unwrap() {
            "data.Authorization.siddata.userID" => {
                out.insert("data.Authorization.sid".to_string());
                out.insert("data.userID".to_string());
            }
            other => {
                out.insert(other.to_string());
            }
        }
    }
    out
}

/// Semantic comparison; returns the path of the first difference.
fn same(expected: &Value, ours: &Value, path: &str) -> Result<(), String> {
    match (expected, ours) {
        (Value::Object(e), Value::Object(o)) => {
            // Widened by the field vocabulary: the reference's clause among alternatives that
            // search the fields it never searched (other match modes).
            if e.contains_key("multi_match") || e.contains_key("match") {
                if let Some(Value::Array(alts)) = o.get("bool").and_then(|b| b.get("should")) {
                    if o["bool"]["minimum_should_match"] == json!(1)
                        && alts.iter().any(|a| same(expected, a, path).is_ok())
                    {
                        return Ok(());
                    }
                }
            }
            // A `match` on one field is a `multi_match` over fields that include it.
            if let (Some(Value::Object(m)), Some(om)) = (e.get("match"), o.get("multi_match")) {
                if let Some((field, val)) = m.iter().next() {
                    let fields = fix_fields(&om["fields"]);
                    if om["query"] == *val && fields.contains(field) {
                        return Ok(());
                    }
                }
            }
            if let (Some(em), Some(om)) = (e.get("multi_match"), o.get("multi_match")) {
                if em["query"] != om["query"] {
                    return Err(format!("{path}: query {} vs {}", em["query"], om["query"]));
                }
                let ef = fix_fields(&em["fields"]);
                let of = fix_fields(&om["fields"]);
                if !ef.is_subset(&of) {
                    return Err(format!("{path}: fields missing {:?}", ef.difference(&of)));
                }
                return Ok(());
            }
            let ek: BTreeSet<_> = e.keys().collect();
            let ok: BTreeSet<_> = o.keys().collect();
            if ek != ok {
                return Err(format!("{path}: keys {ek:?} vs {ok:?}"));
            }
            for k in e.keys() {
                if k == "value" && path.contains("regexp") {
                    let split = |v: &Value| -> BTreeSet<String> {
                        v.as_str().unwrap().split('|').map(str::to_string).collect()
                    };
                    let unwidened = |v: &Value| json!(unwiden(v.as_str().unwrap_or_default()));
                    if split(&unwidened(&e[k])) != split(&unwidened(&o[k])) {
                        return Err(format!("{path}.value: {} vs {}", e[k], o[k]));
                    }
                    continue;
                }
                same(&e[k], &o[k], &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(o)) if path.ends_with(".should") => {
            // Alternatives may be widened: each of the reference's must be among ours.
            for (i, a) in e.iter().enumerate() {
                if !o.iter().any(|b| same(a, b, path).is_ok()) {
                    return Err(format!("{path}[{i}]: no alternative matches {a}"));
                }
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(o)) => {
            if e.len() != o.len() {
                return Err(format!("{path}: {} vs {} items", e.len(), o.len()));
            }
            for (i, (a, b)) in e.iter().zip(o).enumerate() {
                same(a, b, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ if expected == ours => Ok(()),
        _ => Err(format!("{path}: {expected} vs {ours}")),
    }
}

fn samples() -> Vec<Value> {
    let d: Value = serde_json::from_str(QUERIES).unwrap();
    d["samples"].as_array().unwrap().clone()
}

fn ours(sample: &Value) -> Result<Option<Value>, String> {
    let obs = observable::from_stix(
        sample["entity_type"].as_str().unwrap(),
        &sample["stix_entity"],
        &refs(),
    )
    .map_err(|e| e.to_string())?;
    query::build(&obs, &options(&sample["search_config_overrides"])).map_err(|e| e.to_string())
}

fn sample(name: &str) -> Value {
    samples()
        .into_iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no sample {name}"))
}

fn query_of(name: &str) -> Value {
    ours(&sample(name)).unwrap().unwrap()
}

#[test]
fn kept_behaviour_matches_the_reference() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for s in samples() {
        let name = s["name"].as_str().unwrap();
        if FIXED.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let got = ours(&s);
        if s.get("exception").is_some() {
            if got.is_ok() {
                failures.push(format!("{name}: expected an error"));
            }
        } else if s["returned_none"] == json!(true) {
            if got != Ok(None) {
                failures.push(format!("{name}: expected no queryable data, got {got:?}"));
            }
        } else {
            // Envelope variants (opensearch_config_overrides) differ only in the filter part,
            // checked in the envelope tests; the query part must agree everywhere.
            let mut expected = s["requests"][0]["body"]["query"].clone();
            expected["bool"].as_object_mut().unwrap().remove("filter");
            match got {
                Ok(Some(q)) => {
                    if let Err(e) = same(&normalise(&expected), &normalise(&q), name) {
                        failures.push(e);
                    }
                }
                other => failures.push(format!("{name}: {other:?}")),
            }
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(checked + FIXED.len(), samples().len());
    assert!(checked >= 54, "only {checked} samples checked");
}

#[test]
fn fix_hive_aliases_are_hkcu_hkcr_and_case_insensitive() {
    let q = query_of("regkey_default_hkcu_alias_bug");
    let re = q["bool"]["should"][0]["regexp"]["data.win.eventdata.targetObject"]["value"]
        .as_str()
        .unwrap();
    assert!(
        unwiden(re).starts_with("(HKEY_CURRENT_USER|HKCU)\\\\+Software"),
        "{re}"
    );
    let obs = connector_wazuh::entity::Observable::WindowsRegistryKey {
        key: "hkcr\\.exe\\shell".into(),
    };
    let q = query::build(&obs, &SearchOptions::default())
        .unwrap()
        .unwrap();
    let re = q["bool"]["should"][1]["regexp"]["syscheck.path"]["value"]
        .as_str()
        .unwrap();
    assert!(
        unwiden(re).starts_with("(HKEY_CLASSES_ROOT|HKCR)\\\\+\\.exe"),
        "{re}"
    );
}

#[test]
fn fix_process_arguments_are_delimited_by_real_whitespace() {
    let q = query_of("process_cmdline");
    let text = q.to_string();
    assert!(
        !text.contains("[ \\\\\\\\t"),
        "literal \\t class is gone: {text}"
    );
    let cl = &q["bool"]["should"][0]["bool"]["must"];
    assert_eq!(
        cl[2]["regexp"]["data.win.eventdata.commandLine"]["value"],
        "(.*[ \t\n\r\"'])?whoami /all((\\\\?[\"']|[ \t\n\r]).*)?"
    );
    // Image fields hold only the executable: with arguments, they count only next to
    // arguments stored one a field (auditd `execve`).
    let last = q["bool"]["should"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(last["bool"]["must"][0]["multi_match"]["fields"]
        .to_string()
        .contains("data.audit.execve.a*"));
    let before_last = text.replace(&last.to_string(), "");
    assert!(!before_last.contains("data.win.eventdata.image"), "{text}");
}

#[test]
fn fix_url_regexp_is_escaped() {
    let q = query_of("url_ignore_trailing_slash_only");
    let should = q["bool"]["should"].as_array().unwrap();
    assert!(should.contains(
        &json!({"regexp": {"data.URL": {"value": "https://evil\\.example/path/?", "case_insensitive": false}}})
    ));
}

#[test]
fn fix_directory_variants_are_alternatives() {
    let q = query_of("directory_no_regexp_normalise_backslashes");
    assert!(q["bool"].get("must").is_none());
    let should = q["bool"]["should"].as_array().unwrap();
    assert_eq!(should.len(), 2);
    assert_eq!(should[0]["multi_match"]["query"], "C:\\Users\\Public");
    assert_eq!(should[1]["multi_match"]["query"], "C:\\\\Users\\\\Public");
    assert_eq!(q["bool"]["minimum_should_match"], 1);
}

#[test]
fn software_is_supported_like_the_dev_branch() {
    let q = query_of("software_unsupported_in_0_3_0");
    // Name and version must both match, each in one of the package fields (or as a word of
    // the rule description).
    let must = q["bool"]["must"].as_array().unwrap();
    assert_eq!(must.len(), 2);
    for (m, value, field) in [
        (&must[0], "xz-utils", "data.vulnerability.package.name"),
        (&must[1], "5.6.0", "data.vulnerability.package.version"),
    ] {
        let exact = &m["bool"]["should"][0]["multi_match"];
        assert_eq!(exact["query"], value);
        assert!(exact["fields"].to_string().contains(field));
        assert!(m.to_string().contains("rule.description"));
    }
}

#[test]
fn registry_values_are_searched_by_data_and_name() {
    // Deliberate difference: the reference searches only the SHA-256 FIM records for REG_SZ,
    // REG_EXPAND_SZ and REG_BINARY data; we also search the data as text (Sysmon `details`),
    // whatever the type, and a named value must match its name too.
    for name in ["regvalue_reg_sz", "regvalue_reg_binary"] {
        let q = query_of(name);
        let text = q.to_string();
        let reference = sample(name)["requests"][0]["body"]["query"]["bool"]["must"][0]
            ["multi_match"]["query"]
            .clone();
        assert!(text.contains(reference.as_str().unwrap()), "{name}: {text}");
        assert!(text.contains("data.win.eventdata.details"), "{text}");
        let must = q["bool"]["must"].as_array().unwrap();
        assert_eq!(
            must.len(),
            1 + usize::from(text.contains("syscheck.value_name"))
        );
    }
    let q = query_of("regvalue_reg_dword_unsupported");
    assert!(q.to_string().contains("data.win.eventdata.details"));
}

#[test]
fn uid_fields_are_split_and_deduplicated() {
    let q = query_of("user_account_uid_only");
    let fields: Vec<&str> = q["bool"]["must"][0]["multi_match"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(fields.contains(&"data.Authorization.sid") && fields.contains(&"data.userID"));
    assert!(!fields.contains(&"data.Authorization.siddata.userID"));
    let unique: BTreeSet<_> = fields.iter().collect();
    assert_eq!(unique.len(), fields.len(), "no duplicates");
}

#[test]
fn ip_fields_include_remip() {
    let q = query_of("ipv4_public");
    assert!(q.to_string().contains("\"data.remip\""));
}
