//! How requests reach the connector: what the platform puts in each request
//! (`CONNECTOR_ENRICHMENT_RESOLUTION`) and how it delivers them (`CONNECTOR_LISTEN_PROTOCOL`:
//! the RabbitMQ listen queue, or HTTP callbacks to a server the connector runs).

use std::path::PathBuf;

use super::parse::{parse_bool, parse_file_path, parse_http_url, parse_int, Bad};
use super::resolve::{ConfigError, Resolver};

/// What the platform sends with each enrichment request (`CONNECTOR_ENRICHMENT_RESOLUTION`,
/// registered as `enrichment_resolution` where the platform knows the field, 6.8 and later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrichmentResolution {
    /// The entity's STIX export (`stix_entity`) only — pycti's default.
    None,
    /// The entity and the platform's bundle of it (`stix_objects`: markings, author, …).
    StixBundle,
    /// Neither: the connector reads the entity over GraphQL. Lightest on the platform.
    Deferred,
}

impl EnrichmentResolution {
    pub const NAMES: &'static [&'static str] = &["none", "stix_bundle", "deferred"];

    /// The word registered with the platform.
    pub fn as_str(self) -> &'static str {
        match self {
            EnrichmentResolution::None => "none",
            EnrichmentResolution::StixBundle => "stix_bundle",
            EnrichmentResolution::Deferred => "deferred",
        }
    }
}

pub(crate) fn parse_enrichment_resolution(s: &str) -> Result<EnrichmentResolution, Bad> {
    match s.trim().to_ascii_lowercase().as_str() {
        "none" => Ok(EnrichmentResolution::None),
        "stix_bundle" => Ok(EnrichmentResolution::StixBundle),
        "deferred" => Ok(EnrichmentResolution::Deferred),
        _ => Err(Bad::new(
            "is not an enrichment resolution",
            "none, stix_bundle or deferred",
        )),
    }
}

/// How requests are delivered (`CONNECTOR_LISTEN_PROTOCOL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenProtocol {
    /// Consume the listen queue on RabbitMQ.
    Amqp,
    /// Run an HTTP server; OpenCTI's worker POSTs each request to it.
    Api,
}

pub(crate) fn parse_listen_protocol(s: &str) -> Result<ListenProtocol, Bad> {
    match s.trim().to_ascii_uppercase().as_str() {
        "AMQP" => Ok(ListenProtocol::Amqp),
        "API" => Ok(ListenProtocol::Api),
        _ => Err(Bad::new("is not a listen protocol", "AMQP or API")),
    }
}

/// The HTTP callback server of `CONNECTOR_LISTEN_PROTOCOL=API`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenApi {
    /// `CONNECTOR_LISTEN_PROTOCOL_API_HOST` (default 0.0.0.0, as pycti binds).
    pub host: String,
    /// `CONNECTOR_LISTEN_PROTOCOL_API_PORT` (default 7070).
    pub port: u16,
    /// `CONNECTOR_LISTEN_PROTOCOL_API_PATH` (default `/api/callback`).
    pub path: String,
    /// `CONNECTOR_LISTEN_PROTOCOL_API_URI`: where OpenCTI reaches the server, without the path.
    pub uri: String,
    /// `CONNECTOR_LISTEN_PROTOCOL_API_SSL` with its certificate and key (PEM files).
    pub tls: Option<ListenTls>,
}

impl ListenApi {
    /// What is registered as `listen_callback_uri` (pycti: URI + path).
    pub fn callback_uri(&self) -> String {
        format!("{}{}", self.uri.trim_end_matches('/'), self.path)
    }
}

/// Certificate chain and private key of the HTTPS callback server.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenTls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Everything about request delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenSettings {
    pub enrichment_resolution: EnrichmentResolution,
    pub protocol: ListenProtocol,
    pub api: ListenApi,
}

pub(crate) fn parse_callback_path(s: &str) -> Result<String, Bad> {
    let s = s.trim();
    if s.starts_with('/') && !s.contains(char::is_whitespace) && !s.contains(['?', '#']) {
        Ok(s.to_string())
    } else {
        Err(Bad::new(
            "is not a URL path",
            "a path starting with / such as /api/callback",
        ))
    }
}

pub(crate) fn build(r: &mut Resolver<'_>) -> Result<ListenSettings, ConfigError> {
    let enrichment_resolution = r.with(
        "CONNECTOR_ENRICHMENT_RESOLUTION",
        parse_enrichment_resolution,
    )?;
    let protocol = r.with("CONNECTOR_LISTEN_PROTOCOL", parse_listen_protocol)?;
    let host = r.with("CONNECTOR_LISTEN_PROTOCOL_API_HOST", |s| {
        s.parse::<std::net::IpAddr>()
            .map(|_| s.to_string())
            .map_err(|_| Bad::new("is not an IP address", "an IPv4 or IPv6 address"))
    })?;
    let port = r.with("CONNECTOR_LISTEN_PROTOCOL_API_PORT", |s| {
        parse_int(s, 1u16, u16::MAX)
    })?;
    let path = r.with("CONNECTOR_LISTEN_PROTOCOL_API_PATH", parse_callback_path)?;
    let ssl = r.with("CONNECTOR_LISTEN_PROTOCOL_API_SSL", parse_bool)?;
    let cert = r.with_opt("CONNECTOR_LISTEN_PROTOCOL_API_SSL_CERT", parse_file_path)?;
    let key = r.with_opt("CONNECTOR_LISTEN_PROTOCOL_API_SSL_KEY", parse_file_path)?;
    let uri = r
        .with_opt("CONNECTOR_LISTEN_PROTOCOL_API_URI", parse_http_url)?
        // pycti's default: this host, on the callback port, https when the server is.
        .unwrap_or_else(|| {
            let scheme = if ssl { "https" } else { "http" };
            format!("{scheme}://127.0.0.1:{port}")
        });
    let tls = match (ssl, cert, key) {
        (false, _, _) => None,
        (true, Some(cert), Some(key)) => Some(ListenTls { cert, key }),
        (true, _, _) => {
            return Err(Bad::new(
                "needs a certificate and a key",
                "CONNECTOR_LISTEN_PROTOCOL_API_SSL_CERT and CONNECTOR_LISTEN_PROTOCOL_API_SSL_KEY (PEM files) set too",
            )
            .named("CONNECTOR_LISTEN_PROTOCOL_API_SSL", "true"))
        }
    };
    Ok(ListenSettings {
        enrichment_resolution,
        protocol,
        api: ListenApi {
            host,
            port,
            path,
            uri,
            tls,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_as_pycti_spells_them() {
        for (w, m) in [
            ("none", EnrichmentResolution::None),
            ("STIX_BUNDLE", EnrichmentResolution::StixBundle),
            (" deferred ", EnrichmentResolution::Deferred),
        ] {
            assert_eq!(parse_enrichment_resolution(w).unwrap(), m);
        }
        assert!(parse_enrichment_resolution("bundle").is_err());
        assert_eq!(parse_listen_protocol("api").unwrap(), ListenProtocol::Api);
        assert_eq!(parse_listen_protocol("AMQP").unwrap(), ListenProtocol::Amqp);
        assert!(parse_listen_protocol("http").is_err());
        for n in EnrichmentResolution::NAMES {
            assert_eq!(parse_enrichment_resolution(n).unwrap().as_str(), *n);
        }
    }

    #[test]
    fn callback_path_and_uri() {
        assert_eq!(
            parse_callback_path("/api/callback").unwrap(),
            "/api/callback"
        );
        assert!(parse_callback_path("api/callback").is_err());
        assert!(parse_callback_path("/a?b").is_err());
        let api = ListenApi {
            host: "0.0.0.0".into(),
            port: 7070,
            path: "/api/callback".into(),
            uri: "http://connector-wazuh:7070/".into(),
            tls: None,
        };
        assert_eq!(
            api.callback_uri(),
            "http://connector-wazuh:7070/api/callback"
        );
    }
}
