//! The 5.x table against the Wazuh 5 findings template it was generated from.

use super::*;
use std::collections::HashMap;

/// `field → type` of every field of the findings template.
fn template_fields() -> HashMap<String, String> {
    let csv = include_str!("../../tests/fixtures/wazuh/v5/findings-fields.csv");
    csv.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.splitn(6, ',').collect();
            Some((cols.get(3)?.to_string(), cols.get(4)?.to_string()))
        })
        .collect()
}

#[test]
fn every_5x_field_is_in_the_findings_template_with_a_matching_type() {
    let t = template_fields();
    assert!(t.len() > 2000, "{} fields read", t.len());
    for s in WAZUH_5X.fields {
        let ty = t
            .get(s.field)
            .unwrap_or_else(|| panic!("{} is not a field of the findings template", s.field));
        assert!(valid_field(s.field, s.how), "{}", s.field);
        assert!(!s.field.contains('*'), "{}: concrete fields only", s.field);
        match s.how {
            // Letter case and the root dot are handled with keyword-level queries.
            Match::CaseInsensitive | Match::TrailingDot => {
                assert_eq!(ty, "keyword", "{}", s.field)
            }
            Match::Exact => assert!(
                matches!(ty.as_str(), "keyword" | "ip" | "long"),
                "{}: {ty}",
                s.field
            ),
            other => panic!("{}: {other:?} has no use on WCS keywords", s.field),
        }
    }
}

#[test]
fn every_ip_and_hash_field_of_an_event_is_searched() {
    // The systematic part of the derivation: no observable place of these kinds is missed.
    let monitoring = [
        "agent.",
        "wazuh.agent.",
        "host.",
        "observer.",
        "orchestrator.",
        "network.broadcast",
        "network.gateway",
        "network.netmask",
    ];
    let kinds: [(&str, ValueKind); 3] = [
        ("hash.md5", ValueKind::Md5),
        ("hash.sha1", ValueKind::Sha1),
        ("hash.sha256", ValueKind::Sha256),
    ];
    let nested = ["email.attachments."];
    let has = |k: ValueKind, f: &str| WAZUH_5X.fields.iter().any(|s| s.kind == k && s.field == f);
    for (field, ty) in template_fields() {
        if monitoring.iter().any(|m| field.starts_with(m))
            || nested.iter().any(|n| field.starts_with(n))
        {
            continue;
        }
        if ty == "ip" {
            assert!(has(ValueKind::Ip, &field), "{field} (ip) is not searched");
        }
        for (suffix, kind) in kinds {
            if field.ends_with(suffix) {
                assert!(has(kind, &field), "{field} is not a {kind} field");
            }
        }
    }
}

#[test]
fn the_5x_table_covers_the_ecs_places_of_observables() {
    use ValueKind::*;
    let v = Vocabulary::new(&WAZUH_5X, &FieldChanges::default());
    let expect: &[(ValueKind, &str)] = &[
        (SrcIp, "source.ip"),
        (DstIp, "destination.ip"),
        (Ip, "source.ip"),
        (Domain, "dns.question.name"),
        (Domain, "url.domain"),
        (Url, "url.full"),
        (Md5, "file.hash.md5"),
        (Sha1, "file.hash.sha1"),
        (Sha256, "file.hash.sha256"),
        (File, "file.path"),
        (File, "file.name"),
        (RegistryKey, "registry.key"),
        (RegistryKey, "registry.path"),
        (RegistryValueName, "registry.value"),
        (RegistryValueData, "registry.data.strings"),
        (CommandLine, "process.command_line"),
        (ProcessImage, "process.executable"),
        (Account, "user.name"),
        (Email, "user.email"),
        (UserAgent, "user_agent.original"),
        (Cve, "vulnerability.id"),
        (PackageName, "package.name"),
        (PackageVersion, "package.version"),
    ];
    for (k, f) in expect {
        assert!(v.of(*k).any(|(x, _)| x == *f), "{k} lacks {f}");
    }
    let mut seen = std::collections::HashSet::new();
    for s in WAZUH_5X.fields {
        assert!(seen.insert((s.kind, s.field, s.how)), "{s:?} twice");
    }
}

#[test]
fn no_5x_field_is_a_4x_envelope_name() {
    // The 5.x request translation renames the 4.x envelope names; an observable field of the
    // same name would be renamed too.
    for s in WAZUH_5X.fields {
        assert!(
            !s.field.starts_with("agent.") && !s.field.starts_with("rule."),
            "{}",
            s.field
        );
    }
}
