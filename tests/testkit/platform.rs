//! What the platform sends, shaped by how the connector registered: the request body for the
//! registered `enrichment_resolution` (OpenCTI's `buildPreparedEnrichmentItem`), and the HTTP
//! callback of the API listen protocol as OpenCTI's worker makes it (`ListenHandler`: a POST of
//! the queue message with the connector user's token as bearer, success only on 202).

use serde_json::{json, Value};

use super::fake_opencti::{FakeOpenCti, CALLBACK_KID};

/// The resolution the platform applies to this connector: the registered one, else the
/// platform's own default (`connector.enrichment_resolution ?? 'stix_bundle'`).
pub fn registered_resolution(octi: &FakeOpenCti) -> String {
    octi.registrations()
        .last()
        .and_then(|r| r.get("enrichment_resolution").and_then(Value::as_str))
        .unwrap_or("stix_bundle")
        .to_string()
}

/// The automatic-enrichment request for `entity_id` as the platform builds it for this
/// connector: `stix_entity` unless `deferred`, `stix_objects` (the entity's bundle: the entity
/// and `related`, as a JSON string) only for `stix_bundle`.
pub fn resolved_request(
    octi: &FakeOpenCti,
    work_id: &str,
    entity_id: &str,
    related: &[Value],
) -> Value {
    let resolution = registered_resolution(octi);
    let e = octi.entity(entity_id);
    let stix_entity = match resolution.as_str() {
        "deferred" => Value::Null,
        _ => Value::String(e.to_string()),
    };
    let stix_objects = match resolution.as_str() {
        "stix_bundle" => {
            let mut objects = vec![e.clone()];
            objects.extend(related.iter().cloned());
            let bundle = json!({"type": "bundle", "id": format!("bundle--{}", uuid::Uuid::new_v4()), "spec_version": "2.1", "objects": objects});
            Value::String(bundle.to_string())
        }
        _ => Value::Null,
    };
    json!({
        "internal": {"work_id": work_id, "applicant_id": null, "draft_id": null, "trigger": "create", "mode": "auto"},
        "event": {
            "event_type": "INTERNAL_ENRICHMENT",
            "entity_id": entity_id,
            "entity_type": e.get("type").cloned().unwrap_or(Value::Null),
            "stix_entity": stix_entity,
            "stix_objects": stix_objects,
        }
    })
}

/// One callback as OpenCTI's worker makes it; `bearer` `None` sends no `Authorization`.
/// Returns the status and the body.
pub async fn post_callback(url: &str, bearer: Option<&str>, body: Vec<u8>) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut req = client
        .post(url)
        .header("User-Agent", "pycti/6.8.10")
        .body(body);
    if let Some(b) = bearer {
        req = req.header("Authorization", format!("Bearer {b}"));
    }
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}

/// A callback bearer as OpenCTI 7 signs it (EdDSA JWT, `iss: opencti`, `sub: connector`) with
/// the fake platform's key, valid `valid_s` seconds from now (negative: already expired).
pub fn platform_jwt(octi: &FakeOpenCti, valid_s: i64) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use rcgen::SigningKey as _;
    let now = chrono::Utc::now().timestamp();
    let h = URL_SAFE_NO_PAD
        .encode(json!({"alg": "EdDSA", "typ": "JWT", "kid": CALLBACK_KID}).to_string());
    let p = URL_SAFE_NO_PAD.encode(
        json!({"iss": "opencti", "sub": "connector", "iat": now, "exp": now + valid_s}).to_string(),
    );
    let sig = octi
        .callback_key
        .sign(format!("{h}.{p}").as_bytes())
        .unwrap();
    format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig))
}
