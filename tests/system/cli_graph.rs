//! `connector-wazuh enrich --graph FILE` run as a user runs it (the real binary, osmem with the
//! sample alerts): the Mermaid file shows the observable sighted by each agent's system, with the
//! same knowledge as the bundle on stdout, and two runs give the same file.

use super::cli_enrich::env;
use crate::testkit::osmem::Osmem;
use serde_json::Value;

/// In four real alerts, one on each of four agents (as in `cli_enrich`).
const IP: &str = "218.92.0.222";

#[tokio::test]
async fn graph_file_draws_the_sightings_of_the_sample_alerts() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let dir = std::env::temp_dir().join(format!("cw-graph-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let md = dir.join("graph.md");
    let mmd = dir.join("graph.mmd");
    let observable = format!("ipv4-addr:{IP}");
    let md_arg = md.display().to_string();
    let out =
        crate::testkit::cli::run(&["enrich", &observable, "--graph", &md_arg], &env(&os.url)).await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("graph written to"), "{}", out.stderr);
    let bundle: Value = serde_json::from_str(&out.stdout).expect("the bundle on stdout");
    let objects = bundle["objects"].as_array().cloned().unwrap_or_default();

    let page = std::fs::read_to_string(&md).expect("the graph file");
    assert!(
        page.starts_with(&format!("# connector-wazuh enrich {observable}\n")),
        "{page}"
    );
    assert!(page.contains("```mermaid\nflowchart LR\n"), "{page}");
    let sighted: Vec<&str> = page
        .lines()
        .filter(|l| l.contains("-->|\"sighted ×1\"|"))
        .collect();
    assert_eq!(sighted.len(), 4, "one sighting edge per agent:\n{page}");
    assert!(page.contains(&format!("ipv4-addr: {IP}")), "{page}");
    for system in objects.iter().filter(|o| o["identity_class"] == "system") {
        let name = system["name"].as_str().unwrap_or_default();
        assert!(
            page.contains(&format!("identity: {name}")),
            "{name} missing:\n{page}"
        );
    }
    // The same graph as the library draws for the bundle on stdout.
    assert!(page.contains(&connector_wazuh::stix::mermaid::render(&objects)));

    // Plain Mermaid for any other extension; the same knowledge gives the same file.
    let mmd_arg = mmd.display().to_string();
    let again = crate::testkit::cli::run(
        &["enrich", &observable, "--summary", "--graph", &mmd_arg],
        &env(&os.url),
    )
    .await;
    assert_eq!(again.code, Some(0), "{}{}", again.stdout, again.stderr);
    let plain = std::fs::read_to_string(&mmd).expect("the second graph file");
    assert!(plain.starts_with("flowchart LR\n"), "{plain}");
    assert!(
        page.contains(&plain),
        "two runs, two graphs:\n{page}\n---\n{plain}"
    );

    // A file that cannot be written is an error, not a silent success.
    let bad = dir.join("missing").join("g.mmd").display().to_string();
    let failed =
        crate::testkit::cli::run(&["enrich", &observable, "--graph", &bad], &env(&os.url)).await;
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(failed.stderr.contains("cannot write"), "{}", failed.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}
