use super::*;

#[test]
fn keyword_levels_fall_in_the_4x_band_of_the_same_severity() {
    use crate::knowledge::severity::Severity;
    let sev = |k: &str| keyword_level(k).map(Severity::from_rule_level);
    assert_eq!(sev("informational"), Some(Severity::Low));
    assert_eq!(sev("low"), Some(Severity::Low));
    assert_eq!(sev("Medium"), Some(Severity::Medium));
    assert_eq!(sev(" HIGH "), Some(Severity::High));
    assert_eq!(sev("critical"), Some(Severity::Critical));
    assert_eq!(keyword_level("7"), Some(7));
    assert_eq!(keyword_level("severe"), None);
    // Ordered as the keywords are, so thresholds keep their sense.
    let levels: Vec<u8> = KEYWORD_LEVELS.iter().map(|(_, n)| *n).collect();
    assert!(levels.windows(2).all(|w| w[0] < w[1]), "{levels:?}");
}

#[test]
fn detection_follows_the_indices_found() {
    use Presence::*;
    let d = |a, b| decide("wazuh-alerts-*", a, b).map(|d| (d.estate, d.doubtful));
    assert_eq!(d(Found(3), Absent), Some((Estate::One(Schema::V4), false)));
    assert_eq!(d(Absent, Found(8)), Some((Estate::One(Schema::V5), false)));
    assert_eq!(d(Found(3), Found(8)), Some((Estate::Mixed, false)));
    assert_eq!(d(Absent, Absent), Some((Estate::One(Schema::V4), true)));
    assert_eq!(d(Unknown, Found(1)), None);
    assert_eq!(d(Found(1), Unknown), None);
    let r = decide("wazuh-alerts-*", Absent, Found(2)).unwrap().reason;
    assert!(
        r.contains("wazuh-findings-v5*") && r.contains("2 shard"),
        "{r}"
    );
}

#[test]
fn applying_5x_takes_its_pattern_and_vocabulary_unless_the_index_was_chosen() {
    use crate::vocabulary::{Match, ValueKind};
    let env = crate::config::load::tests_support::minimal_env();
    let mut s =
        crate::config::load::load(&crate::config::load::LoadInput { file: None, env }).unwrap();
    s.indexer.index = "wazuh-alerts-*".into();
    let five = apply(&s, Schema::V5).unwrap();
    assert_eq!(five.indexer.index, "wazuh-findings-v5*");
    assert!(five
        .search
        .vocabulary
        .fields(ValueKind::SrcIp, Match::Exact)
        .contains(&"source.ip"));
    let four = apply(&s, Schema::V4).unwrap();
    assert_eq!(four.indexer.index, "wazuh-alerts-*");
    // Under 4.x+5.x a broad configured pattern leaves the findings to the 5.x part.
    s.indexer.index = "wazuh-*".into();
    let four = apply_in(&s, Schema::V4, Estate::Mixed).unwrap();
    assert_eq!(four.indexer.index, "wazuh-*,-wazuh-findings-v5*");
    assert_eq!(
        apply_in(&s, Schema::V5, Estate::Mixed)
            .unwrap()
            .indexer
            .index,
        "wazuh-*"
    );
    s.indexer.index = "wazuh-alerts-*".into();
    let four = apply_in(&s, Schema::V4, Estate::Mixed).unwrap();
    assert_eq!(four.indexer.index, "wazuh-alerts-*");
    s.indexer.index = "my-findings-*".into();
    assert_eq!(
        apply(&s, Schema::V5).unwrap().indexer.index,
        "my-findings-*"
    );
    // A removal of the other profile's field is for that profile; one of neither is an error.
    s.search.fields_remove = "ip:data.remip, ip:source.nat.ip".into();
    let five = apply(&s, Schema::V5).unwrap();
    assert!(!five
        .search
        .vocabulary
        .fields(ValueKind::Ip, Match::Exact)
        .contains(&"source.nat.ip"));
    let four = apply(&s, Schema::V4).unwrap();
    assert!(!four
        .search
        .vocabulary
        .fields(ValueKind::Ip, Match::Exact)
        .contains(&"data.remip"));
    s.search.fields_remove = "ip:data.nope".into();
    let e = apply(&s, Schema::V5).unwrap_err().to_string();
    assert!(e.contains("5.x") && e.contains("data.nope"), "{e}");
}
