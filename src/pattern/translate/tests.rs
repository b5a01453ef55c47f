//! Unit tests of the pattern translation: the query each construct becomes.

use super::*;
use crate::pattern::{parse, query_for_pattern, unsupported_type_message};

fn q(p: &str) -> Translation {
    query_for_pattern(p, &SearchOptions::default()).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn err(p: &str) -> PatternError {
    query_for_pattern(p, &SearchOptions::default()).unwrap_err()
}

#[test]
fn ip_equality_is_the_observable_search_and_excludes_the_agent_address() {
    let t = q("[ipv4-addr:value = '93.184.216.34']");
    let opts = SearchOptions::default();
    let ip = "93.184.216.34".parse().unwrap();
    let same = one_of(crate::search::lookup::ip_clauses(
        &opts.vocabulary,
        crate::vocabulary::ValueKind::Ip,
        ip,
        "93.184.216.34",
    ));
    assert_eq!(
        t.query,
        json!({"bool": {"must": [same.clone()], "must_not": [
            {"multi_match": {"query": "93.184.216.34", "fields": ["agent.ip"], "lenient": true}}
        ]}})
    );
    assert!(t.notes.is_empty() && t.time_range.is_none());
    let opts = SearchOptions {
        lookup_agent_ip: true,
        ..SearchOptions::default()
    };
    let t = query_for_pattern("[ipv4-addr:value = '93.184.216.34']", &opts).unwrap();
    assert_eq!(t.query, same);
    // Not an address: the whole-value fields, skipping those typed `ip`.
    let t = query_for_pattern("[ipv4-addr:value = 'x']", &opts).unwrap();
    assert_eq!(t.query["multi_match"]["lenient"], true);
}

#[test]
fn and_or_inside_an_observation() {
    let t = q(
        "[email-addr:value = 'a@x' AND (user-account:user_id = '0' OR user-account:user_id = '1')]",
    );
    let must = &t.query["bool"]["must"];
    assert_eq!(must.as_array().unwrap().len(), 2);
    assert_eq!(must[1]["bool"]["minimum_should_match"], 1);
    assert_eq!(must[1]["bool"]["should"].as_array().unwrap().len(), 2);
}

#[test]
fn like_is_escaped_for_wildcard_and_regexp() {
    let t = q(r"[email-addr:value LIKE 'a*b?c\\d%e_']");
    let should = t.query["bool"]["should"].as_array().unwrap();
    // Concrete field: wildcard with * ? \ escaped, % → *, _ → ?.
    assert_eq!(
        should[0],
        json!({"wildcard": {"data.office365.UserId": {"value": r"a\*b\?c\\d*e?", "case_insensitive": false}}})
    );
    // Field patterns: a query_string regexp with Lucene operators escaped.
    assert_eq!(
        should.last().unwrap(),
        &json!({"query_string": {"query": r"/a\*b\?c\\d.*e./", "fields": ["*Email", "*email"], "lenient": true}})
    );
}

#[test]
fn slashes_are_escaped_in_query_string_regexps() {
    let t = q("[url:value LIKE 'http://%/x.php']");
    let text = t.query.to_string();
    assert!(text.contains(r#"/http:\\/\\/.*\\/x\\.php/"#), "{text}");
}

#[test]
fn matches_translates_pcre_and_folds_case_on_field_patterns() {
    let t = q("[domain-name:value MATCHES '(?i)^evil\\\\.com$']");
    let text = t.query.to_string();
    assert!(text.contains(r"[eE][vV][iI][lL]\\.[cC][oO][mM]"), "{text}");
    // Concrete fields use the native flag instead.
    assert!(
        text.contains(r#""case_insensitive":true,"value":"evil\\.com""#),
        "{text}"
    );
    assert!(
        !t.notes.iter().any(|n| n.contains("line breaks")),
        "{:?}",
        t.notes
    );
    let t = q("[process:command_line MATCHES 'a.b']");
    assert!(t.notes[0].contains("line breaks"));
    assert!(matches!(
        err("[process:command_line MATCHES '(?=x)']"),
        PatternError::Unsupported(m) if m.contains("lookahead")
    ));
}

#[test]
fn paths_tolerate_doubled_backslashes_and_hive_aliases() {
    assert_eq!(path_regexp(r"C:\Temp\\x.exe"), r"C:\\+Temp\\+x\.exe");
    assert_eq!(
        regkey_regexp(r"hklm\Software\Run", true),
        r"(HKEY_LOCAL_MACHINE|HKLM)\\+Software\\+Run"
    );
    assert_eq!(regkey_regexp(r"HKLMX\Software", true), r"HKLMX\\+Software");
    assert_eq!(regkey_regexp(r"HKLM\Software", false), r"HKLM\\+Software");
    let t = q(r"[windows-registry-key:key LIKE 'hkcu\\Software\\%']");
    assert!(
        t.query
            .to_string()
            .contains(r#""(HKEY_CURRENT_USER|HKCU)\\\\+Software\\\\+.*""#),
        "{}",
        t.query
    );
    let t = q(r"[file:name = 'evil.exe']");
    assert!(
        t.query.to_string().contains(r#""(.*[/\\\\]+)?evil\\.exe""#),
        "{}",
        t.query
    );
}

#[test]
fn cidr_blocks() {
    let t = q("[ipv4-addr:value ISSUBSET '10.1.0.0/16']");
    let text = t.query.to_string();
    assert!(text.contains(r"10\\.1\\.(25[0-5]"), "{text}");
    // ip-typed template fields get a native CIDR term.
    assert!(
        text.contains(r#"{"term":{"data.port.remote_ip":"10.1.0.0/16"}}"#),
        "{text}"
    );
    // Excluding the agent's own address narrows: noted.
    assert!(t.notes[0].contains("agent.ip"), "{:?}", t.notes);
    assert_eq!(
        q("[ipv4-addr:value ISSUBSET '10.1.2.3/32']").query,
        q("[ipv4-addr:value = '10.1.2.3']").query
    );
    assert_eq!(
        q("[ipv4-addr:value ISSUPERSET '10.1.2.3/32']").query,
        q("[ipv4-addr:value = '10.1.2.3']").query
    );
    assert!(matches!(
        err("[ipv4-addr:value ISSUPERSET '10.0.0.0/8']"),
        PatternError::Unsupported(_)
    ));
    assert!(matches!(
        err("[domain-name:value ISSUBSET '10.0.0.0/8']"),
        PatternError::Unsupported(_)
    ));
    assert!(matches!(
        err("[ipv4-addr:value ISSUBSET '10.0.0.1/8']"),
        PatternError::Invalid(_)
    ));
}

#[test]
fn port_ranges() {
    let t = q("[network-traffic:dst_port > 1023]");
    let text = t.query.to_string();
    assert!(
        text.contains(r#"{"range":{"data.dest_port":{"gt":1023}}}"#),
        "{text}"
    );
    assert!(text.contains("/<1024-2147483647>/"), "{text}");
    assert!(matches!(
        err("[network-traffic:dst_port > 'a']"),
        PatternError::Invalid(_)
    ));
    assert!(matches!(
        err("[url:value > 'a']"),
        PatternError::Unsupported(_)
    ));
    assert!(matches!(
        err("[network-traffic:dst_port = 'http']"),
        PatternError::Invalid(_)
    ));
}

#[test]
fn negation_requires_presence() {
    let t = q("[user-account:account_login != 'root']");
    assert_eq!(
        t.query["bool"]["filter"][0]["bool"]["should"][0],
        json!({"exists": {"field": "*.LoggedUser"}})
    );
    assert_eq!(
        t.query["bool"]["must_not"][0]["multi_match"]["query"],
        "root"
    );
    assert_eq!(
        t.query,
        q("[user-account:account_login NOT = 'root']").query
    );
    // NOT != is =.
    assert_eq!(
        q("[user-account:account_login NOT != 'root']").query,
        q("[user-account:account_login = 'root']").query
    );
}

#[test]
fn unsupported_paths_are_named() {
    for (p, needle) in [
        ("[process:pid = 4]", "process:pid"),
        ("[file:hashes.'SHA-512' = 'ab']", "SHA-512"),
        ("[x-custom:value = 'a']", "x-custom:value"),
        (
            "[network-traffic:dst_ref.type = 'domain-name']",
            "dst_ref.type",
        ),
    ] {
        match err(p) {
            PatternError::Unsupported(m) => assert!(m.contains(needle), "{p}: {m}"),
            other => panic!("{p}: {other:?}"),
        }
    }
    assert!(matches!(
        err("[ipv4-addr:value IN ()]"),
        PatternError::Invalid(_)
    ));
}

#[test]
fn time_range_only_for_the_whole_pattern() {
    let t = q(
        "[ipv4-addr:value = '1.2.3.4'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
    );
    assert_eq!(
        t.time_range,
        Some(("2024-01-01T00:00:00Z".into(), "2024-02-01T00:00:00Z".into()))
    );
    assert!(t.query.to_string().contains(
        r#"{"range":{"@timestamp":{"gte":"2024-01-01T00:00:00Z","lt":"2024-02-01T00:00:00Z"}}}"#
    ));
    let t = q("([ipv4-addr:value = '1.2.3.4'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z') OR [ipv4-addr:value = '5.6.7.8']");
    assert_eq!(t.time_range, None);
}

#[test]
fn notes_are_deduplicated_and_single_observations_need_none() {
    let t = q("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.6']");
    assert_eq!(t.notes.len(), 1);
    assert!(t.notes[0].contains("FOLLOWEDBY"));
    assert!(q("[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS")
        .notes
        .is_empty());
    assert!(q("[ipv4-addr:value = '1.2.3.4'] REPEATS 1 TIMES")
        .notes
        .is_empty());
    assert_eq!(
        q("[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES")
            .notes
            .len(),
        1
    );
}

#[test]
fn mac_addresses_match_every_spelling() {
    let t = q("[mac-addr:value = '00:0C:29:AB:CD:EF']");
    let text = t.query.to_string();
    for spelling in [
        "00:0c:29:ab:cd:ef",
        "000C29ABCDEF",
        "000c.29ab.cdef",
        "00-0c-29-ab-cd-ef",
    ] {
        assert!(text.contains(spelling), "{spelling}: {text}");
    }
    let opts = SearchOptions {
        lookup_mac_variants: false,
        ..SearchOptions::default()
    };
    let t = query_for_pattern("[mac-addr:value = '00:0C:29:AB:CD:EF']", &opts).unwrap();
    let text = t.query.to_string();
    assert!(text.contains("00:0c:29:ab:cd:ef") && !text.contains("000c29abcdef"));
}

#[test]
fn private_addresses_follow_the_search_option() {
    let t = q("[ipv4-addr:value = '10.1.2.3' OR ipv4-addr:value = '93.184.216.34']");
    assert_eq!(t.query["bool"]["should"][0], match_none());
    assert!(t.notes[0].contains("WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS"));
    // Endpoints of network traffic are usually private: always searched.
    assert!(q("[network-traffic:src_ref.value = '10.1.2.3']")
        .notes
        .is_empty());
    let opts = SearchOptions {
        ignore_private_addrs: false,
        ..SearchOptions::default()
    };
    let t = query_for_pattern("[ipv4-addr:value = '10.1.2.3']", &opts).unwrap();
    assert!(t.notes.is_empty());
    assert!(t.query.to_string().contains("10.1.2.3"));
}

#[test]
fn other_pattern_types_get_a_clear_message() {
    let m = unsupported_type_message("sigma");
    assert!(m.contains("'sigma'") && m.contains("not supported"));
    assert!(unsupported_type_message(&"y".repeat(1000)).len() < 400);
    // parse + translate is what query_for_pattern does.
    let p = parse("[mac-addr:value = '00:0C:29:AB:CD:EF']").unwrap();
    assert_eq!(
        translate(&p, &SearchOptions::default()).unwrap(),
        q("[mac-addr:value = '00:0C:29:AB:CD:EF']")
    );
}

#[test]
fn short_in_lists_search_as_the_observable_and_long_ones_by_whole_value() {
    let t = q("[ipv4-addr:value IN ('93.184.216.34', '93.184.216.35')]");
    assert!(t.query.to_string().contains("34.216.184.93.in-addr.arpa"));
    assert!(t.notes.is_empty());
    let many: Vec<String> = (1..=6).map(|i| format!("'93.184.216.{i}'")).collect();
    let t = q(&format!("[ipv4-addr:value IN ({})]", many.join(", ")));
    assert!(!t.query.to_string().contains("in-addr.arpa"));
    assert!(t.notes[0].contains("too many values"), "{:?}", t.notes);
}

#[test]
fn a_single_address_block_is_equality() {
    let eq = q("[ipv4-addr:value = '93.184.216.34']").query;
    assert_eq!(q("[ipv4-addr:value ISSUBSET '93.184.216.34/32']").query, eq);
    assert_eq!(
        q("[ipv4-addr:value ISSUPERSET '93.184.216.34/32']").query,
        eq
    );
    let v6 = q("[ipv6-addr:value ISSUBSET '2606:4700:4700::1111/128']").query;
    assert!(v6
        .to_string()
        .contains("2606:4700:4700:0000:0000:0000:0000:1111"));
}
