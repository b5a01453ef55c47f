//! Stage "inspect": decide whether a request may be looked up at all, and resolve what to look up.
//!
//! Order: resolve the entity (an Indicator is resolved to
//! **all** the observables it is based on), refuse markings above `WAZUH_MAX_TLP` (pycti's
//! `check_max_tlp` semantics; for an Indicator both its own and its observables' markings count),
//! skip our own entities when asked to, skip entities carrying an ignored label. Indicator
//! validity filters belong to the knowledge stage.

use serde_json::Value;

use super::{Context, EnrichError, Mode, Request};
use crate::config::{KnowledgeOptions, Tlp};
use crate::entity::IndicatorInfo;
pub use crate::stix::{labels, markings, type_of_id as stix_type};

/// What the later stages work on.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    pub entity_id: String,
    /// STIX type of the requested entity (`ipv4-addr`, `indicator`, …).
    pub entity_type: String,
    /// The requested entity's STIX export.
    pub entity: Value,
    /// What to search: the entity itself, or an indicator's based-on observables.
    pub observables: Vec<Value>,
    /// Indicators of the observable (or the requested indicator itself).
    pub indicators: Vec<IndicatorInfo>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Proceed(Inspected),
    /// Nothing to do; the message is the work's completion message.
    Skip(String),
}

fn not_found(id: &str) -> EnrichError {
    EnrichError::permanent(format!(
        "Unable to read the entity {id}: it was deleted or is not visible to the connector's OpenCTI user (check the user's permissions)"
    ))
}

/// The TLPs among `markings` that exceed `max` (pycti: a TLP is allowed when it is at or below
/// the maximum; unknown/non-TLP markings are ignored).
pub fn tlps_above(markings: &[String], max: Tlp) -> Vec<Tlp> {
    markings
        .iter()
        .filter_map(|m| Tlp::from_marking_id(m))
        .filter(|t| *t > max)
        .collect()
}

/// Pure policy checks on a resolved entity. `Err` = refused, `Ok(Some)` = skip with message.
pub fn policy(
    k: &KnowledgeOptions,
    mode: Mode,
    objects: &[&Value],
) -> Result<Option<String>, EnrichError> {
    for obj in objects {
        let marks = markings(obj);
        // A marking that is not a TLP cannot be ranked against the maximum: refuse it unless the
        // user listed it, so that a policy never fails open.
        if let Some(m) = marks
            .iter()
            .find(|m| Tlp::from_marking_id(m).is_none() && !k.allowed_markings.contains(*m))
        {
            return Err(EnrichError::refused(format!(
                "Entity ignored because its marking {m} is not a TLP the connector can compare with WAZUH_MAX_TLP={}: no data was sent to Wazuh (list the marking in WAZUH_ALLOWED_MARKINGS to allow it)",
                k.max_tlp.as_str()
            )));
        }
        let above = tlps_above(&marks, k.max_tlp);
        if let Some(t) = above.first() {
            return Err(EnrichError::refused(format!(
                "Entity ignored because its marking {} is above the maximum TLP allowed (WAZUH_MAX_TLP={}): no data was sent to Wazuh",
                t.as_str(),
                k.max_tlp.as_str()
            )));
        }
    }
    let Some(main) = objects.first() else {
        return Ok(None);
    };
    let by_author = crate::stix::id::is_author(crate::stix::created_by(main), &k.author_name);
    if by_author && k.ignore_own_entities {
        return Ok(Some(format!(
            "Ignoring entity because it was created by {}",
            k.author_name
        )));
    }
    // Ownership also from the labels this connector puts on what it enriches: a platform that
    // drops the author still keeps the labels. A request not known to be a user's (no `mode`)
    // is guarded like an automatic one, so that the connector never enriches its own output.
    let own = by_author || labels(main).iter().any(|l| k.enrich_labels.contains(l));
    if own && k.skip_auto_own_objects && mode != Mode::Manual {
        return Ok(Some(format!("Automatic enrichment skipped: the entity was created by {} (enrich it manually to search anyway)", k.author_name)));
    }
    let mut hit: Vec<String> = labels(main)
        .into_iter()
        .filter(|l| k.label_ignore_list.contains(l))
        .collect();
    hit.sort();
    hit.dedup();
    if !hit.is_empty() {
        return Ok(Some(format!(
            "Ignoring entity because it has the following label(s): {}",
            hit.join(", ")
        )));
    }
    Ok(None)
}

/// Run the stage.
pub async fn inspect(ctx: &Context, req: &Request) -> Result<Outcome, EnrichError> {
    let applicant = req.applicant_id.as_deref();
    let entity = match req.stix_entity.clone() {
        Some(e) => e,
        None => ctx
            .source
            .read_stix(&req.entity_id, applicant)
            .await?
            .ok_or_else(|| not_found(&req.entity_id))?,
    };
    let ty = entity
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_else(|| stix_type(&req.entity_id))
        .to_string();
    let k = &ctx.settings.knowledge;
    let (observables, indicators) = if ty == "indicator" {
        let ind = ctx
            .source
            .indicator(&req.entity_id, applicant)
            .await?
            .ok_or_else(|| not_found(&req.entity_id))?;
        let mut obs = Vec::with_capacity(ind.observables.len());
        for o in &ind.observables {
            // An observable deleted since is skipped; the others are still searched.
            if let Some(stix) = ctx.source.read_stix(&o.standard_id, applicant).await? {
                obs.push(stix);
            }
        }
        (obs, vec![ind.indicator])
    } else if ty == "vulnerability" {
        (vec![entity.clone()], Vec::new())
    } else {
        let inds = ctx.source.indicators_of(&req.entity_id, applicant).await?;
        (vec![entity.clone()], inds)
    };
    let mut checked: Vec<&Value> = vec![&entity];
    if ty == "indicator" {
        checked.extend(observables.iter());
    }
    if let Some(msg) = policy(k, req.mode, &checked)? {
        return Ok(Outcome::Skip(msg));
    }
    Ok(Outcome::Proceed(Inspected {
        entity_id: req.entity_id.clone(),
        entity_type: ty,
        entity,
        observables,
        indicators,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pipeline::{BoxFut, EntitySource, IndicatorWithObservables, ObservableRef};
    use serde_json::json;
    use std::collections::HashMap;
    use std::sync::Arc;

    #[derive(Default)]
    pub(crate) struct MemSource {
        pub stix: HashMap<String, Value>,
        pub indicators: HashMap<String, IndicatorWithObservables>,
        pub obs_indicators: HashMap<String, Vec<IndicatorInfo>>,
    }

    impl EntitySource for MemSource {
        fn read_stix<'a>(
            &'a self,
            id: &'a str,
            _: Option<&'a str>,
        ) -> BoxFut<'a, Result<Option<Value>, EnrichError>> {
            Box::pin(async move { Ok(self.stix.get(id).cloned()) })
        }
        fn indicators_of<'a>(
            &'a self,
            id: &'a str,
            _: Option<&'a str>,
        ) -> BoxFut<'a, Result<Vec<IndicatorInfo>, EnrichError>> {
            Box::pin(async move { Ok(self.obs_indicators.get(id).cloned().unwrap_or_default()) })
        }
        fn indicator<'a>(
            &'a self,
            id: &'a str,
            _: Option<&'a str>,
        ) -> BoxFut<'a, Result<Option<IndicatorWithObservables>, EnrichError>> {
            Box::pin(async move { Ok(self.indicators.get(id).cloned()) })
        }
    }

    pub(crate) fn settings() -> crate::config::Settings {
        let env = crate::config::load::tests_support::minimal_env();
        crate::config::load::load(&crate::config::load::LoadInput { file: None, env }).unwrap()
    }

    fn ctx(src: MemSource, tweak: impl FnOnce(&mut crate::config::Settings)) -> Context {
        let mut s = settings();
        tweak(&mut s);
        Context::new(Arc::new(s), Arc::new(src), None)
    }

    fn req(id: &str, stix: Option<Value>, mode: Mode) -> Request {
        Request {
            work_id: Some("w".into()),
            entity_id: id.into(),
            entity_type: None,
            mode,
            trigger: None,
            applicant_id: None,
            draft_id: None,
            stix_entity: stix,
            stix_objects: vec![],
            playbook: None,
        }
    }

    const IP: &str = "ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7";

    fn ip(marking: Tlp) -> Value {
        json!({"type":"ipv4-addr","id":IP,"value":"8.8.8.8","object_marking_refs":[marking.marking_id()]})
    }

    #[tokio::test]
    async fn tlp_above_max_is_refused() {
        let c = ctx(MemSource::default(), |s| s.knowledge.max_tlp = Tlp::Amber);
        let e = inspect(&c, &req(IP, Some(ip(Tlp::Red)), Mode::Manual))
            .await
            .unwrap_err();
        assert_eq!(e.kind, crate::pipeline::ErrorKind::Refused);
        assert!(
            e.message.contains("TLP:RED") && e.message.contains("TLP:AMBER"),
            "{}",
            e.message
        );
        assert!(matches!(
            inspect(&c, &req(IP, Some(ip(Tlp::Amber)), Mode::Manual))
                .await
                .unwrap(),
            Outcome::Proceed(_)
        ));
    }

    // Failed before: a marking that is not a TLP was ignored by the max-TLP check (fail open).
    #[tokio::test]
    async fn unrankable_marking_is_refused_unless_allowed() {
        const PAP: &str = "marking-definition--c7c9d3cd-8c2f-4b6c-9a8e-4e8d4f9a6b11";
        let mut pap = ip(Tlp::Clear);
        pap["object_marking_refs"] = json!([PAP]);
        let c = ctx(MemSource::default(), |_| {});
        let e = inspect(&c, &req(IP, Some(pap.clone()), Mode::Manual))
            .await
            .unwrap_err();
        assert_eq!(e.kind, crate::pipeline::ErrorKind::Refused);
        assert!(
            e.message.contains(PAP) && e.message.contains("WAZUH_ALLOWED_MARKINGS"),
            "{}",
            e.message
        );
        let c = ctx(MemSource::default(), |s| {
            s.knowledge.allowed_markings.insert(PAP.into());
        });
        assert!(matches!(
            inspect(&c, &req(IP, Some(pap), Mode::Manual))
                .await
                .unwrap(),
            Outcome::Proceed(_)
        ));
    }

    #[test]
    fn pycti_tlp_semantics() {
        let m = |t: Tlp| vec![t.marking_id().to_string()];
        assert!(tlps_above(&m(Tlp::Clear), Tlp::Clear).is_empty());
        assert_eq!(tlps_above(&m(Tlp::Green), Tlp::Clear), vec![Tlp::Green]);
        assert!(tlps_above(&m(Tlp::AmberStrict), Tlp::AmberStrict).is_empty());
        assert_eq!(
            tlps_above(&m(Tlp::AmberStrict), Tlp::Amber),
            vec![Tlp::AmberStrict]
        );
        assert!(tlps_above(&m(Tlp::Red), Tlp::Red).is_empty());
        assert!(tlps_above(&["marking-definition--pap".into()], Tlp::Clear).is_empty());
    }

    #[tokio::test]
    async fn missing_entity_is_a_clear_error() {
        let c = ctx(MemSource::default(), |_| {});
        let e = inspect(&c, &req(IP, None, Mode::Manual)).await.unwrap_err();
        assert!(
            e.message.contains("deleted or is not visible"),
            "{}",
            e.message
        );
    }

    #[tokio::test]
    async fn labels_and_own_entities() {
        let mut e = ip(Tlp::Clear);
        e["labels"] = json!(["hygiene", "x"]);
        let c = ctx(MemSource::default(), |_| {});
        match inspect(&c, &req(IP, Some(e), Mode::Manual)).await.unwrap() {
            Outcome::Skip(m) => assert_eq!(
                m,
                "Ignoring entity because it has the following label(s): hygiene"
            ),
            o => panic!("{o:?}"),
        }
        let mut own = ip(Tlp::Clear);
        own["created_by_ref"] = json!(crate::stix::id::LEGACY_AUTHOR_ID);
        assert!(matches!(
            inspect(&c, &req(IP, Some(own.clone()), Mode::Auto))
                .await
                .unwrap(),
            Outcome::Skip(_)
        ));
        assert!(matches!(
            inspect(&c, &req(IP, Some(own), Mode::Manual))
                .await
                .unwrap(),
            Outcome::Proceed(_)
        ));
    }

    // Failed before: a message without `mode` was taken as manual, and an exported observable's
    // author and labels (in OpenCTI's observable extension) were not seen, so the guard never fired.
    #[tokio::test]
    async fn own_observables_are_guarded_without_mode() {
        let c = ctx(MemSource::default(), |s| {
            s.knowledge.label_ignore_list.clear();
        });
        let ext = crate::stix::OPENCTI_SCO_EXTENSION;
        let mut by_author = ip(Tlp::Clear);
        by_author["extensions"] =
            json!({ext: {"created_by_ref": crate::stix::id::LEGACY_AUTHOR_ID}});
        let mut labelled = ip(Tlp::Clear);
        labelled["extensions"] = json!({ext: {"labels": ["wazuh_ignore"]}});
        for own in [by_author, labelled] {
            match inspect(&c, &req(IP, Some(own.clone()), Mode::Unstated))
                .await
                .unwrap()
            {
                Outcome::Skip(m) => assert!(m.starts_with("Automatic enrichment skipped"), "{m}"),
                o => panic!("{o:?}"),
            }
            assert!(matches!(
                inspect(&c, &req(IP, Some(own), Mode::Manual))
                    .await
                    .unwrap(),
                Outcome::Proceed(_)
            ));
        }
        // Someone else's observable without mode is searched.
        assert!(matches!(
            inspect(&c, &req(IP, Some(ip(Tlp::Clear)), Mode::Unstated))
                .await
                .unwrap(),
            Outcome::Proceed(_)
        ));
    }

    #[tokio::test]
    async fn indicator_resolves_all_based_on_observables() {
        let ind_id = "indicator--a1b2c3d4-0000-4000-8000-000000000001";
        let dom = "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7";
        let mut src = MemSource::default();
        src.stix.insert(
            ind_id.into(),
            json!({"type":"indicator","id":ind_id,"pattern":"[ipv4-addr:value = '8.8.8.8']"}),
        );
        src.stix.insert(IP.into(), ip(Tlp::Clear));
        src.stix.insert(
            dom.into(),
            json!({"type":"domain-name","id":dom,"value":"example.com"}),
        );
        src.indicators.insert(
            ind_id.into(),
            IndicatorWithObservables {
                indicator: IndicatorInfo {
                    standard_id: ind_id.into(),
                    name: "i".into(),
                    ..Default::default()
                },
                observables: [IP, dom]
                    .iter()
                    .map(|s| ObservableRef {
                        id: s.to_string(),
                        standard_id: s.to_string(),
                        entity_type: "x".into(),
                    })
                    .collect(),
            },
        );
        let c = ctx(src, |_| {});
        match inspect(&c, &req(ind_id, None, Mode::Manual)).await.unwrap() {
            Outcome::Proceed(i) => {
                assert_eq!(i.observables.len(), 2);
                assert_eq!(i.indicators.len(), 1);
            }
            o => panic!("{o:?}"),
        }
        // An observable above the maximum TLP refuses the indicator too.
        let c2 = {
            let mut src = MemSource::default();
            src.stix
                .insert(ind_id.into(), json!({"type":"indicator","id":ind_id}));
            src.stix.insert(IP.into(), ip(Tlp::Red));
            src.indicators.insert(
                ind_id.into(),
                IndicatorWithObservables {
                    indicator: IndicatorInfo::default(),
                    observables: vec![ObservableRef {
                        id: IP.into(),
                        standard_id: IP.into(),
                        entity_type: "IPv4-Addr".into(),
                    }],
                },
            );
            ctx(src, |_| {})
        };
        assert!(inspect(&c2, &req(ind_id, None, Mode::Manual))
            .await
            .is_err());
    }
}
