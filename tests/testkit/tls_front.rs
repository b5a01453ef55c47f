//! A small TLS + HTTP basic-auth reverse proxy in front of a plain-HTTP server (osmem), like a
//! real Wazuh indexer with its own CA: proves the CA-bundle, wrong-password, untrusted-cert
//! and insecure paths of the indexer client. Without basic auth ([`TlsFront::passthrough`]) it
//! puts the test OpenCTI behind TLS, forwarding the `Authorization` header.
//!
//! The CA and the server certificate (for `localhost` and `127.0.0.1`) are made with rcgen at
//! start; the CA is written to a PEM file for `WAZUH_OPENSEARCH_CA_BUNDLE`.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use base64::Engine;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A running TLS front; stops when dropped.
pub struct TlsFront {
    /// `https://localhost:<port>`
    pub url: String,
    /// PEM file holding the CA that signed the server certificate.
    pub ca_pem: PathBuf,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    upstream: Arc<String>,
    expected_auth: Arc<Option<String>>,
    http: reqwest::Client,
) -> Result<Response<Body>, Infallible> {
    let auth = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if expected_auth.as_ref().as_ref().is_some_and(|e| auth != *e) {
        return Ok(Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("content-type", "application/json")
            .header("www-authenticate", "Basic realm=\"OpenSearch Security\"")
            .body(Body::from("Unauthorized"))
            .unwrap());
    }
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let content_type = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = axum::body::to_bytes(Body::new(req.into_body()), 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let mut up = http.request(method, format!("{upstream}{path}")).body(body);
    if let Some(ct) = content_type {
        up = up.header("content-type", ct);
    }
    if expected_auth.is_none() && !auth.is_empty() {
        up = up.header("authorization", auth);
    }
    let resp = match up.send().await {
        Ok(r) => r,
        Err(e) => {
            return Ok(Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::from(e.to_string()))
                .unwrap())
        }
    };
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap_or_default();
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(bytes))
        .unwrap())
}

impl TlsFront {
    /// Starts a front on 127.0.0.1 forwarding to `upstream` (e.g. osmem's URL) for requests
    /// authenticated as `user`/`password`.
    pub async fn start(upstream: &str, user: &str, password: &str) -> TlsFront {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Self::start_with(upstream, Some(format!("Basic {basic}"))).await
    }

    /// Starts a front on 127.0.0.1 forwarding every request to `upstream`, its `Authorization`
    /// header included (the upstream authenticates).
    pub async fn passthrough(upstream: &str) -> TlsFront {
        Self::start_with(upstream, None).await
    }

    async fn start_with(upstream: &str, expected_auth: Option<String>) -> TlsFront {
        let (dir, ca_pem, acceptor) = test_ca_acceptor();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let upstream = Arc::new(upstream.trim_end_matches('/').to_string());
        let expected_auth = Arc::new(expected_auth);
        let http = reqwest::Client::new();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let (upstream, expected_auth, http) =
                    (upstream.clone(), expected_auth.clone(), http.clone());
                tokio::spawn(async move {
                    // Handshake failures (untrusted clients) just end the connection.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let svc = hyper::service::service_fn(move |req| {
                        handle(req, upstream.clone(), expected_auth.clone(), http.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), svc)
                        .await;
                });
            }
        });
        TlsFront {
            url: format!("https://localhost:{port}"),
            ca_pem,
            _dir: dir,
            task,
        }
    }
}

/// A fresh test CA and a server certificate it signed (for `localhost` and `127.0.0.1`): the CA
/// PEM file (in the returned directory) and an acceptor serving the certificate.
fn test_ca_acceptor() -> (tempfile::TempDir, PathBuf, TlsAcceptor) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "connector-wazuh test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let ca_pem = dir.path().join("ca.pem");
    std::fs::write(&ca_pem, ca_cert.pem()).unwrap();

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![server_cert.der().clone()], key)
        .unwrap();
    (dir, ca_pem, TlsAcceptor::from(Arc::new(config)))
}

/// TLS terminated in front of a plain TCP service (RabbitMQ's AMQP port): an `amqps` broker with
/// its own CA. Counts the TLS sessions that completed a handshake, so a test can tell traffic
/// really went through TLS.
pub struct TlsTcpFront {
    /// The port on 127.0.0.1 (certificate names `localhost` and `127.0.0.1`).
    pub port: u16,
    /// PEM file holding the CA that signed the server certificate.
    pub ca_pem: PathBuf,
    handshakes: Arc<std::sync::atomic::AtomicU32>,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsTcpFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsTcpFront {
    /// Starts a front forwarding each TLS session's bytes to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> TlsTcpFront {
        let (dir, ca_pem, acceptor) = test_ca_acceptor();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let upstream = upstream.to_string();
        let handshakes = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = handshakes.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, upstream, counted) =
                    (acceptor.clone(), upstream.clone(), counted.clone());
                tokio::spawn(async move {
                    // Untrusting clients fail the handshake and just lose the connection.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Ok(mut up) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                });
            }
        });
        TlsTcpFront {
            port,
            ca_pem,
            handshakes,
            _dir: dir,
            task,
        }
    }

    /// TLS sessions that completed a handshake so far.
    pub fn handshakes(&self) -> u32 {
        self.handshakes.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// osmem with the sample alerts behind a TLS + basic-auth front (its own CA): a Wazuh indexer as
/// deployed. [`TlsIndexer::env`] gives the connector variables that search it.
pub struct TlsIndexer {
    pub osmem: super::osmem::Osmem,
    pub front: TlsFront,
    pub user: &'static str,
    pub password: &'static str,
}

impl TlsIndexer {
    pub async fn start(user: &'static str, password: &'static str) -> TlsIndexer {
        let osmem = super::osmem::Osmem::start().await;
        osmem.load_sample_alerts().await;
        let front = TlsFront::start(&osmem.url, user, password).await;
        TlsIndexer {
            osmem,
            front,
            user,
            password,
        }
    }

    /// URL, credentials and CA bundle; every observable searched, the samples' dashboard
    /// sample-data marker ignored.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("WAZUH_OPENSEARCH_URL", self.front.url.clone()),
            ("WAZUH_OPENSEARCH_USERNAME", self.user.to_string()),
            ("WAZUH_OPENSEARCH_PASSWORD", self.password.to_string()),
            (
                "WAZUH_OPENSEARCH_CA_BUNDLE",
                self.front.ca_pem.display().to_string(),
            ),
            ("WAZUH_CREATE_OBS_SIGHTINGS", "true".into()),
            ("WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA", "false".into()),
        ]
    }
}
