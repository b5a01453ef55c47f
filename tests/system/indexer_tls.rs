//! The indexer client through a TLS + basic-auth front (own CA) in front of osmem-server.

use std::time::Duration;

use crate::testkit::osmem::Osmem;
use crate::testkit::tls_front::TlsFront;
use connector_wazuh::config::{IndexerSettings, Secret};
use connector_wazuh::indexer::{IndexerClient, IndexerError};

fn settings(url: &str) -> IndexerSettings {
    IndexerSettings {
        username: "wazuh-reader".into(),
        password: Secret::new("s3cret!"),
        timeout: Duration::from_secs(10),
        retries: 0,
        exclude_match: vec![],
        ..crate::testkit::settings::indexer(url)
    }
}

#[tokio::test]
async fn tls_ca_bundle_credentials_and_insecure_switch() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let front = TlsFront::start(&os.url, "wazuh-reader", "s3cret!").await;

    // Trusted through the CA bundle: works.
    let trusted = IndexerSettings {
        ca_bundle: Some(front.ca_pem.clone()),
        ..settings(&front.url)
    };
    let report = IndexerClient::new(&trusted)
        .unwrap()
        .check("wazuh-alerts-*")
        .await
        .unwrap();
    assert_eq!(report.documents, 53);

    // Wrong password: a credentials error, permanent.
    let wrong = IndexerSettings {
        password: Secret::new("nope"),
        ..trusted.clone()
    };
    let e = IndexerClient::new(&wrong)
        .unwrap()
        .check("wazuh-alerts-*")
        .await
        .unwrap_err();
    assert_eq!(e, IndexerError::Credentials);
    assert!(
        e.to_string().contains("credentials") && !e.is_transient(),
        "{e}"
    );

    // Default verification without the CA: the self-made CA is not trusted.
    let e = IndexerClient::new(&settings(&front.url))
        .unwrap()
        .check("wazuh-alerts-*")
        .await
        .unwrap_err();
    assert!(matches!(e, IndexerError::Tls(_)), "{e:?}");
    assert!(e.to_string().contains("WAZUH_OPENSEARCH_CA_BUNDLE"), "{e}");

    // Explicit insecure switch: works without the CA.
    let insecure = IndexerSettings {
        verify_tls: false,
        ..settings(&front.url)
    };
    let report = IndexerClient::new(&insecure)
        .unwrap()
        .check("wazuh-alerts-*")
        .await
        .unwrap();
    assert_eq!(report.documents, 53);
}

#[tokio::test]
async fn unreadable_ca_bundle_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    for path in [not_pem, dir.path().join("missing.pem")] {
        let s = IndexerSettings {
            ca_bundle: Some(path),
            ..settings("https://localhost:9200")
        };
        let e = IndexerClient::new(&s).unwrap_err();
        assert!(matches!(e, IndexerError::Config(_)), "{e}");
        assert!(e.to_string().contains("WAZUH_OPENSEARCH_CA_BUNDLE"), "{e}");
    }
}
