//! The demo's short mode in CI: `scripts/demo` runs exactly this code path
//! (`testkit::demo`: osmem-server with the sample alerts, the test OpenCTI, the real daemon, three
//! requests as the platform sends them); here its summary and graph are checked.

use crate::testkit::demo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_shows_systems_sightings_incidents_and_a_case() {
    let d = demo::run(|_| {}).await;
    assert!(
        d.problems().is_empty(),
        "{:?}\n{}",
        d.problems(),
        d.summary()
    );

    let summary = d.summary();
    for title in [
        "IPv4 address 218.92.0.222",
        "file SHA-256 275a021bbfb6489e",
        "indicator with only a pattern",
    ] {
        assert!(summary.contains(title), "{title} missing:\n{summary}");
    }
    assert_eq!(summary.matches("work completed").count(), 3, "{summary}");
    // The address is in four alerts on four agents; the file in one, on srv.
    assert!(summary.contains("4 alert(s) in 4 system(s)"), "{summary}");
    assert!(summary.contains("srv (agent"), "{summary}");

    let graph = d.graph();
    assert!(graph.contains("```mermaid\nflowchart LR\n"), "{graph}");
    assert!(graph.contains("\"sighted ×1\""), "{graph}");
    assert!(graph.contains("case-incident: "), "{graph}");
    assert!(
        graph.contains(&format!("ipv4-addr: {}", demo::IP)),
        "{graph}"
    );
    assert!(graph.contains("indicator: SSH scanners"), "{graph}");
}
