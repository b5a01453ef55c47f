use super::*;

#[test]
fn every_kind_has_fields_and_a_config_name() {
    let v = Vocabulary::default();
    for k in ValueKind::ALL {
        assert!(v.of(*k).next().is_some(), "{k} has no field");
        assert_eq!(ValueKind::from_name(k.name()), Some(*k));
    }
}

#[test]
fn only_exact_entries_use_field_patterns() {
    for s in WAZUH_4X.fields {
        if s.field.contains('*') {
            assert_eq!(s.how, Match::Exact, "{}", s.field);
        }
        assert!(valid_field(s.field, s.how), "{}", s.field);
    }
}

#[test]
fn no_entry_is_listed_twice() {
    let mut seen = std::collections::HashSet::new();
    for s in WAZUH_4X.fields {
        assert!(seen.insert((s.kind, s.field, s.how)), "{s:?}");
    }
}

#[test]
fn fields_are_added_and_removed_by_configuration() {
    let c = FieldChanges::parse(
        "ip:data.remote_host_ip, domain:data.fortigate.qname:trailing-dot",
        "ip:GeoLocation.ip",
        &WAZUH_4X,
    )
    .unwrap();
    let v = Vocabulary::new(&WAZUH_4X, &c);
    assert!(v
        .fields(ValueKind::Ip, Match::Exact)
        .contains(&"data.remote_host_ip"));
    assert!(!v
        .fields(ValueKind::Ip, Match::Exact)
        .contains(&"GeoLocation.ip"));
    assert_eq!(
        v.fields(ValueKind::Domain, Match::TrailingDot),
        vec!["data.gcp.jsonPayload.queryName", "data.fortigate.qname"]
    );
}

#[test]
fn bad_field_changes_are_named() {
    let p = &WAZUH_4X;
    let e = |add: &str, rm: &str| FieldChanges::parse(add, rm, p).unwrap_err().to_string();
    assert!(e("ipaddr:data.x", "").contains("\"ipaddr\" is not a value kind"));
    assert!(e("ip:data.x:fuzzy", "").contains("not a match mode"));
    assert!(e("ip:data x", "").contains("not a field name"));
    assert!(e("ip:data.*:phrase", "").contains("not a field name"));
    assert!(e("ip", "").contains("KIND:FIELD"));
    assert!(e("", "ip:data.nope").contains("not a field of the wazuh-4.x profile"));
    assert!(FieldChanges::parse("", "", p).unwrap() == FieldChanges::default());
}
