//! Golden comparisons with the reference connector's outputs on the same fixtures.

mod knowledge_support;
use knowledge_support::*;

#[test]
fn dump_differences() {
    for name in [
        "ipv4_with_indicator_per_sighting_default",
        "ipv4_with_indicator_per_query",
        "ipv4_with_indicator_per_alert_rule",
        "ipv4_with_indicator_per_alert_threshold_5",
        "ipv4_via_indicator_entity_id",
        "ipv4_without_indicator_sightings_only",
        "ipv4_rule_exclude_list",
        "vulnerability_threshold_unset_no_incident",
        "vulnerability_threshold_7_resolved_no_incident",
        "vulnerability_threshold_7_active_incident",
    ] {
        let case = scenario_case(name);
        let k = case.build().unwrap();
        let reference = scenario(name)["objects"].as_array().unwrap();
        let mut types: Vec<&str> = reference
            .iter()
            .chain(k.objects.iter())
            .map(|o| o["type"].as_str().unwrap())
            .collect();
        types.sort();
        types.dedup();
        println!("== {name}");
        for t in types {
            let r = ids_of_type(reference, t);
            let o = ids_of_type(&k.objects, t);
            let only_r: Vec<_> = r.difference(&o).collect();
            let only_o: Vec<_> = o.difference(&r).collect();
            println!(
                "  {t}: ref {} ours {} same {} only_ref {:?} only_ours {:?}",
                r.len(),
                o.len(),
                r.intersection(&o).count(),
                only_r,
                only_o
            );
        }
    }
}
