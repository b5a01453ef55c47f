//! Serving the callback routes over plain HTTP, or over HTTPS when
//! `CONNECTOR_LISTEN_PROTOCOL_API_SSL` is set (certificate chain and key from PEM files, as
//! pycti's `LISTEN_PROTOCOL_API_SSL_CERT`/`_KEY`). TLS handshakes run in their own tasks, so a
//! slow or silent client cannot hold up the platform's callbacks.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::config::ListenTls;

/// Longest TLS handshake accepted from one client.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn invalid(what: &str, path: &Path, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{what} {}: {e}", path.display()),
    )
}

/// The server configuration from the PEM files; errors name the file and the variable.
pub fn server_config(tls: &ListenTls) -> std::io::Result<ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| invalid("CONNECTOR_LISTEN_PROTOCOL_API_SSL_CERT", &tls.cert, e))?;
    if certs.is_empty() {
        return Err(invalid(
            "CONNECTOR_LISTEN_PROTOCOL_API_SSL_CERT",
            &tls.cert,
            "no certificate in the file",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| invalid("CONNECTOR_LISTEN_PROTOCOL_API_SSL_KEY", &tls.key, e))?;
    ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid("CONNECTOR_LISTEN_PROTOCOL_API_SSL_CERT", &tls.cert, e))
}

/// Connections that completed their TLS handshake, for axum to serve.
struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, std::net::SocketAddr)>,
    local: std::net::SocketAddr,
    acceptor_task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor_task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accepting task ended (it only does when dropped): serve nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

fn tls_listener(listener: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<TlsListener> {
    let local = listener.local_addr()?;
    let (tx, ready) = mpsc::channel(64);
    let acceptor_task = tokio::spawn(async move {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accepting a callback connection failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send((tls, peer)).await;
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(peer = %peer, error = %e, "callback TLS handshake failed")
                    }
                    Err(_) => tracing::debug!(peer = %peer, "callback TLS handshake timed out"),
                }
            });
        }
    });
    Ok(TlsListener {
        ready,
        local,
        acceptor_task,
    })
}

/// Serves `app` on `listener` (over TLS when `tls` is set) until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<&ListenTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(t) => {
            let acceptor = TlsAcceptor::from(Arc::new(server_config(t)?));
            axum::serve(tls_listener(listener, acceptor)?, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}
