//! `connector-wazuh check` with a migrating user's files: the reference connector's documented
//! compose environment and `config.yml` pass every check against the test OpenCTI and a real
//! indexer. Only what a live connection needs is replaced: the two URLs and the token (and the
//! documented `id: foo`, which is no UUID).

use std::collections::HashMap;

use crate::testkit::cli;
use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::osmem::Osmem;
use crate::testkit::reference_files::{compose_env_map, config_yml_copy, CONNECTOR_ID};

fn assert_passes(out: &cli::Out) {
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    for name in [
        "configuration",
        "OpenCTI token",
        "registration input",
        "index pattern",
    ] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(name)))
            .unwrap_or_else(|| panic!("no `{name}` line in:\n{}", out.stdout));
        assert!(line.starts_with("ok  "), "{line}");
    }
}

#[tokio::test]
async fn documented_files_pass_check() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let octi = FakeOpenCti::start("6.9.17").await;

    let mut env = compose_env_map();
    env.insert("OPENCTI_URL".into(), octi.url.clone());
    env.insert("OPENCTI_TOKEN".into(), octi.token.clone());
    env.insert("WAZUH_OPENSEARCH_URL".into(), os.url.clone());
    let out = cli::run(&["check"], &env).await;
    assert_passes(&out);

    let dir = tempfile::tempdir().unwrap();
    let path = config_yml_copy(
        dir.path(),
        &[
            ("id: foo", &format!("id: {CONNECTOR_ID}")),
            ("token: token", &format!("token: {}", octi.token)),
            (
                "url: https://openti.example.org/",
                &format!("url: {}", octi.url),
            ),
            (
                "url: https://wazuh.example.org:9200/",
                &format!("url: {}", os.url),
            ),
        ],
    );
    let out = cli::run(
        &["--config", &path.display().to_string(), "check"],
        &HashMap::new(),
    )
    .await;
    assert_passes(&out);
    octi.cleanup().await;
}
