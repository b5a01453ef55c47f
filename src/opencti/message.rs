//! Parsing enrichment request messages (as OpenCTI sends them to the listen queue): manual, automatic, playbook and the
//! minimal older shape. Pure: bytes in, a typed request or a readable refusal out.

use serde_json::Value;

use crate::pipeline::{Mode, PlaybookInfo, Request, Trigger};

/// Why a message cannot be processed; `work_id` is set when it could still be read, so the
/// failure can be reported on the work.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub reason: String,
    pub work_id: Option<String>,
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// A JSON value given either as an object or as a JSON string holding one.
fn json_or_string(v: Option<&Value>) -> Result<Option<Value>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| format!("is a string that is not JSON ({e})")),
        Some(other) => Ok(Some(other.clone())),
    }
}

/// Parse a request body. `now` is the receive time (for playbook `execution_start`).
pub fn parse(
    body: &[u8],
    max_bytes: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Request, Rejected> {
    if body.len() > max_bytes {
        return Err(Rejected { reason: format!("message of {} bytes exceeds the limit of {max_bytes} bytes (CONNECTOR_MAX_MESSAGE_BYTES)", body.len()), work_id: None });
    }
    let root: Value = serde_json::from_slice(body).map_err(|e| Rejected {
        reason: format!("message body is not JSON ({e})"),
        work_id: None,
    })?;
    let internal = root.get("internal");
    let event = root.get("event");
    let work_id = text(internal.and_then(|i| i.get("work_id")));
    let reject = |reason: String| Rejected {
        reason,
        work_id: work_id.clone(),
    };
    let Some(event) = event.filter(|e| e.is_object()) else {
        return Err(reject("message has no `event` object".into()));
    };
    let entity_id = text(event.get("entity_id")).ok_or_else(|| {
        reject("message has no `event.entity_id`: cannot tell which entity to enrich".into())
    })?;
    let playbook = internal
        .and_then(|i| i.get("playbook"))
        .filter(|p| p.is_object());
    let mode = if playbook.is_some() {
        Mode::Playbook
    } else {
        match text(internal.and_then(|i| i.get("mode"))).as_deref() {
            Some("auto") => Mode::Auto,
            Some("manual") => Mode::Manual,
            // The minimal older shape has no mode: a user or the platform may have asked.
            _ => Mode::Unstated,
        }
    };
    let trigger = match text(internal.and_then(|i| i.get("trigger"))).as_deref() {
        Some("create") => Some(Trigger::Create),
        Some("update") => Some(Trigger::Update),
        _ => None,
    };
    let mut stix_entity = json_or_string(event.get("stix_entity"))
        .map_err(|e| reject(format!("`event.stix_entity` {e}")))?;
    let mut stix_objects: Vec<Value> = match json_or_string(event.get("stix_objects"))
        .map_err(|e| reject(format!("`event.stix_objects` {e}")))?
    {
        None => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(Value::Object(o)) => match o.get("objects") {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        },
        Some(_) => {
            return Err(reject(
                "`event.stix_objects` is neither a list nor a bundle".into(),
            ))
        }
    };
    let playbook = match playbook {
        None => None,
        Some(p) => {
            let bundle = json_or_string(event.get("bundle"))
                .map_err(|e| reject(format!("`event.bundle` {e}")))?
                .unwrap_or(Value::Null);
            let objects = bundle
                .get("objects")
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| reject("playbook message has no `event.bundle.objects`".into()))?;
            if stix_entity.is_none() {
                stix_entity = objects
                    .iter()
                    .find(|o| o.get("id").and_then(Value::as_str) == Some(entity_id.as_str()))
                    .cloned();
            }
            stix_objects = objects;
            let field = |k: &str| text(p.get(k)).unwrap_or_default();
            Some(PlaybookInfo {
                event_id: field("event_id"),
                execution_id: field("execution_id"),
                playbook_id: field("playbook_id"),
                data_instance_id: text(p.get("data_instance_id"))
                    .unwrap_or_else(|| entity_id.clone()),
                step_id: field("step_id"),
                previous_step_id: field("previous_step_id"),
                execution_start: now.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
                bundle,
            })
        }
    };
    if let Some(e) = &stix_entity {
        if !e.is_object() {
            return Err(reject("`event.stix_entity` is not a JSON object".into()));
        }
    }
    Ok(Request {
        work_id: if mode == Mode::Playbook {
            None
        } else {
            work_id.clone()
        },
        entity_id,
        entity_type: text(event.get("entity_type")),
        mode,
        trigger,
        applicant_id: text(internal.and_then(|i| i.get("applicant_id"))),
        draft_id: text(internal.and_then(|i| i.get("draft_id"))),
        stix_entity,
        stix_objects,
        playbook,
    })
}

/// Organisation ids the entity is shared with (`x_opencti_granted_refs` or the OpenCTI extension's
/// `granted_refs`), to be propagated to every produced object.
pub fn granted_refs(entity: &Value) -> Vec<String> {
    use crate::stix::OPENCTI_EXTENSION as EXT;
    let from = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = from(entity.get("x_opencti_granted_refs"));
    for r in from(entity.pointer(&format!("/extensions/{EXT}/granted_refs"))) {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2026-05-04T09:12:31.417Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
    }
    fn p(v: Value) -> Result<Request, Rejected> {
        parse(v.to_string().as_bytes(), 1 << 20, now())
    }

    #[test]
    fn manual_with_stix_entity_string() {
        let stix = json!({"id":"ipv4-addr--x","type":"ipv4-addr","value":"8.8.8.8"});
        let r = p(json!({"internal":{"work_id":"w1","applicant_id":null,"draft_id":null,"mode":"manual","trigger":"update"},
            "event":{"event_type":"INTERNAL_ENRICHMENT","entity_id":"ipv4-addr--x","entity_type":"IPv4-Addr","stix_entity":stix.to_string(),"stix_objects":null}}))
        .unwrap();
        assert_eq!(r.mode, Mode::Manual);
        assert_eq!(r.trigger, Some(Trigger::Update));
        assert_eq!(r.work_id.as_deref(), Some("w1"));
        assert_eq!(r.stix_entity, Some(stix));
        assert!(r.stix_objects.is_empty());
    }

    #[test]
    fn automatic_and_minimal_shapes() {
        let r = p(json!({"internal":{"work_id":"w","mode":"auto","trigger":"create"},"event":{"entity_id":"x--1","stix_objects":"[{\"id\":\"a\"}]"}})).unwrap();
        assert_eq!(r.mode, Mode::Auto);
        assert_eq!(r.stix_objects.len(), 1);
        let r =
            p(json!({"internal":{"work_id":"w","applicant_id":"u"},"event":{"entity_id":"x--1"}}))
                .unwrap();
        // Not known to be a user's request (older platforms send no mode).
        assert_eq!(r.mode, Mode::Unstated);
        assert_eq!(r.applicant_id.as_deref(), Some("u"));
        assert!(r.stix_entity.is_none());
    }

    #[test]
    fn playbook_shape() {
        let obj = json!({"id":"ipv4-addr--x","type":"ipv4-addr","value":"8.8.8.8"});
        let r = p(json!({"internal":{"work_id":null,"playbook":{"event_id":"e","execution_id":"x","playbook_id":"p","data_instance_id":"ipv4-addr--x","step_id":"s","previous_step_id":"ps"},"applicant_id":"a","trigger":"create","mode":"auto"},
            "event":{"entity_id":"ipv4-addr--x","bundle":{"type":"bundle","id":"bundle--1","objects":[obj.clone()]}}}))
        .unwrap();
        assert_eq!(r.mode, Mode::Playbook);
        assert_eq!(r.work_id, None);
        assert_eq!(r.stix_entity, Some(obj));
        let pb = r.playbook.unwrap();
        assert_eq!(pb.execution_start, "2026-05-04T09:12:31+00:00");
        assert_eq!(pb.previous_step_id, "ps");
    }

    #[test]
    fn refusals_are_readable_and_keep_the_work_id() {
        let e = parse(b"not json", 100, now()).unwrap_err();
        assert!(
            e.reason.starts_with("message body is not JSON"),
            "{}",
            e.reason
        );
        let e = p(json!({"internal":{"work_id":"w9"},"event":{}})).unwrap_err();
        assert_eq!(e.work_id.as_deref(), Some("w9"));
        assert!(e.reason.contains("entity_id"));
        let e = parse(&[b' '; 200], 100, now()).unwrap_err();
        assert!(e.reason.contains("exceeds the limit"));
        let e = p(
            json!({"internal":{"work_id":"w"},"event":{"entity_id":"x","stix_entity":"{broken"}}),
        )
        .unwrap_err();
        assert!(e.reason.contains("stix_entity"));
    }

    #[test]
    fn granted_refs_from_both_places() {
        let e = json!({"x_opencti_granted_refs":["identity--a"],"extensions":{"extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba":{"granted_refs":["identity--a","identity--b"]}}});
        assert_eq!(granted_refs(&e), vec!["identity--a", "identity--b"]);
    }
}
