//! Start-up conversation with the platform: health check, registration (sending only the input
//! fields the running platform accepts), and the heartbeat call.

use std::time::Duration;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::client::{ApiError, OpenCtiClient};
use super::operations;
use crate::amqp::MqConnection;
use crate::config::{EnrichmentResolution, ListenProtocol, MqOverrides, Secret, Settings};

/// What registration returned.
#[derive(Debug, Clone)]
pub struct Registration {
    pub connector_id: String,
    /// Default impersonated user for pushed bundles.
    pub connector_user_id: Option<String>,
    pub connection: MqConnection,
    pub listen: String,
    pub push_exchange: String,
    pub push_routing: String,
    /// The keys that sign the platform's HTTP callbacks (OpenCTI 7, API listen protocol only).
    pub jwks: Option<String>,
    /// The connector state the platform keeps for this connector id (`None`: none, or reset).
    pub state: Option<String>,
}

/// The registration input, restricted to the fields the platform's `RegisterConnectorInput` has.
pub fn register_input(settings: &Settings, accepted: &[String]) -> Value {
    let c = &settings.connector;
    let all = json!({
        "id": c.id,
        "name": c.name,
        "type": "INTERNAL_ENRICHMENT",
        "scope": c.scope,
        "auto": c.auto,
        "auto_update": c.auto_update,
        "only_contextual": false,
        "playbook_compatible": true,
        "enrichment_resolution": c.listen.enrichment_resolution.as_str(),
        // Only a connector listening over HTTP has a callback: with this field set, OpenCTI's
        // worker stops leaving requests in the listen queue and POSTs them to the URI instead.
        "listen_callback_uri": match c.listen.protocol {
            ListenProtocol::Api => Value::String(c.listen.api.callback_uri()),
            ListenProtocol::Amqp => Value::Null,
        },
        "version": env!("CARGO_PKG_VERSION"),
        "slug": "connector-wazuh",
    });
    let mut out = serde_json::Map::new();
    if let Value::Object(m) = all {
        for (k, v) in m {
            if accepted.iter().any(|a| a == &k) {
                out.insert(k, v);
            }
        }
    }
    Value::Object(out)
}

/// What the running platform cannot be told (its `RegisterConnectorInput` lacks the field):
/// `Err` when the connector cannot work that way at all, else the warnings to log.
pub fn unsupported(settings: &Settings, accepted: &[String]) -> Result<Vec<String>, String> {
    let has = |f: &str| accepted.iter().any(|a| a == f);
    let l = &settings.connector.listen;
    if l.protocol == ListenProtocol::Api && !has("listen_callback_uri") {
        return Err("CONNECTOR_LISTEN_PROTOCOL=API needs OpenCTI 6.6 or later (this platform cannot register a listen_callback_uri, so it would never call the connector); use AMQP".into());
    }
    let mut warnings = Vec::new();
    if !has("enrichment_resolution") && l.enrichment_resolution != EnrichmentResolution::None {
        warnings.push(format!(
            "CONNECTOR_ENRICHMENT_RESOLUTION={} is ignored: this platform (before 6.8) has no such setting and sends what it always sends; whatever a request lacks is read over GraphQL",
            l.enrichment_resolution.as_str()
        ));
    }
    Ok(warnings)
}

fn apply_overrides(mut c: MqConnection, o: &MqOverrides) -> MqConnection {
    if let Some(h) = &o.host {
        c.host = h.clone();
    }
    if let Some(p) = o.port {
        c.port = p;
    }
    if let Some(v) = &o.vhost {
        c.vhost = v.clone();
    }
    if let Some(s) = o.use_ssl {
        c.use_ssl = s;
    }
    if let Some(u) = &o.user {
        c.user = u.clone();
    }
    if let Some(p) = &o.pass {
        c.pass = p.clone();
    }
    if o.ssl_ca.is_some() {
        c.ssl_ca = o.ssl_ca.clone();
    }
    c
}

/// Read the registration answer.
pub fn parse_registration(data: &Value, overrides: &MqOverrides) -> Result<Registration, ApiError> {
    let r = data
        .get("registerConnector")
        .filter(|v| v.is_object())
        .ok_or_else(|| ApiError::Decode("registerConnector returned null".into()))?;
    let s = |p: &str| r.pointer(p).and_then(Value::as_str).map(String::from);
    let need = |p: &str| {
        s(p).ok_or_else(|| ApiError::Decode(format!("registerConnector answer lacks {p}")))
    };
    let conn = MqConnection {
        host: need("/config/connection/host")?,
        port: r
            .pointer("/config/connection/port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(5672),
        vhost: s("/config/connection/vhost").unwrap_or_else(|| "/".into()),
        use_ssl: r
            .pointer("/config/connection/use_ssl")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        user: s("/config/connection/user").unwrap_or_default(),
        pass: Secret::new(s("/config/connection/pass").unwrap_or_default()),
        ssl_ca: None,
    };
    Ok(Registration {
        connector_id: need("/id")?,
        connector_user_id: s("/connector_user_id"),
        connection: apply_overrides(conn, overrides),
        listen: need("/config/listen")?,
        push_exchange: need("/config/push_exchange")?,
        push_routing: need("/config/push_routing")?,
        jwks: s("/jwks").filter(|j| !j.is_empty()),
        state: stored_state(r.get("connector_state")),
    })
}

/// Wait until `about { version }` answers, with capped exponential backoff. Returns the platform
/// version; gives up only on a refusal (e.g. a bad token) or cancellation.
pub async fn wait_until_reachable(
    client: &OpenCtiClient,
    max_delay: Duration,
    cancel: &CancellationToken,
) -> Result<String, ApiError> {
    let mut delay = Duration::from_millis(250);
    loop {
        match client.version().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "OpenCTI is not reachable yet");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = cancel.cancelled() => return Err(e),
                }
                delay = (delay * 2).min(max_delay);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Register the connector (idempotent on the platform side).
pub async fn register(
    client: &OpenCtiClient,
    settings: &Settings,
) -> Result<Registration, ApiError> {
    let fields = client.register_input_fields().await?;
    for w in unsupported(settings, &fields).map_err(ApiError::Decode)? {
        tracing::warn!("{w}");
    }
    let input = register_input(settings, &fields);
    // The callback keys are asked for only when they serve and the platform has them.
    let with_jwks = settings.connector.listen.protocol == ListenProtocol::Api
        && client.connector_fields().await?.iter().any(|f| f == "jwks");
    let data = client
        .query_retry(
            &operations::register_connector(with_jwks),
            json!({ "input": input }),
            None,
        )
        .await?;
    parse_registration(&data, &settings.connector.mq)
}

/// One heartbeat.
pub async fn ping(
    client: &OpenCtiClient,
    connector_id: &str,
    queue_messages: u32,
    state: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let vars = json!({
        "id": connector_id,
        // The platform stores whatever the ping carries (pycti sends `"null"` without a state).
        "state": state.unwrap_or("null"),
        "connectorInfo": {
            "run_and_terminate": false,
            "buffering": false,
            "queue_threshold": 500.0,
            "queue_messages_size": f64::from(queue_messages),
            "next_run_datetime": null,
            "last_run_datetime": null,
        }
    });
    let data = client.query(operations::PING_CONNECTOR, vars, None).await?;
    Ok(stored_state(data.pointer("/pingConnector/connector_state")))
}

/// A `connector_state` as the platform returns it: a string holding JSON, where `"null"`, an
/// empty string or a JSON null mean no state.
pub fn stored_state(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "null")
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_only_has_accepted_fields() {
        let s = crate::pipeline::inspect::tests::settings();
        let old: Vec<String> = [
            "id",
            "name",
            "type",
            "scope",
            "auto",
            "only_contextual",
            "playbook_compatible",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let v = register_input(&s, &old);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7);
        assert!(v.get("auto_update").is_none());
        assert_eq!(v["type"], "INTERNAL_ENRICHMENT");
        assert_eq!(v["playbook_compatible"], true);
    }

    fn names(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn resolution_and_callback_are_registered_where_known() {
        let mut s = crate::pipeline::inspect::tests::settings();
        s.connector.listen.enrichment_resolution = EnrichmentResolution::Deferred;
        let all = names(&["id", "enrichment_resolution", "listen_callback_uri"]);
        let v = register_input(&s, &all);
        assert_eq!(v["enrichment_resolution"], "deferred");
        assert_eq!(
            v["listen_callback_uri"],
            Value::Null,
            "AMQP has no callback"
        );
        s.connector.listen.protocol = ListenProtocol::Api;
        s.connector.listen.api.uri = "http://connector:7070".into();
        let v = register_input(&s, &all);
        assert_eq!(
            v["listen_callback_uri"],
            "http://connector:7070/api/callback"
        );
        assert_eq!(unsupported(&s, &all), Ok(vec![]));
        // 6.6/6.7: a callback but no resolution setting.
        let w = unsupported(&s, &names(&["id", "listen_callback_uri"])).unwrap();
        assert!(
            w[0].contains("CONNECTOR_ENRICHMENT_RESOLUTION=deferred is ignored"),
            "{w:?}"
        );
        // 6.4: no callback: API listening cannot work.
        let e = unsupported(&s, &names(&["id"])).unwrap_err();
        assert!(e.contains("needs OpenCTI 6.6"), "{e}");
        let v = register_input(&s, &names(&["id"]));
        assert!(v.get("listen_callback_uri").is_none() && v.get("enrichment_resolution").is_none());
    }

    #[test]
    fn overrides_apply() {
        let data = json!({"registerConnector":{"id":"c","connector_user_id":"u","config":{"connection":{"host":"rabbitmq","port":5672,"vhost":"/","use_ssl":false,"user":"opencti","pass":"p"},"listen":"l","push_exchange":"e","push_routing":"r"}}});
        let o = MqOverrides {
            host: Some("127.0.0.1".into()),
            port: Some(5673),
            ..Default::default()
        };
        let r = parse_registration(&data, &o).unwrap();
        assert_eq!(r.connection.host, "127.0.0.1");
        assert_eq!(r.connection.port, 5673);
        assert_eq!(r.connection.pass.expose(), "p");
        assert_eq!(r.listen, "l");
    }
}
