//! The one-minute local demo — run it with `scripts/demo`, which installs what it needs and
//! builds the daemon first.
//!
//! Starts osmem-server with the sample alerts, the test OpenCTI (GraphQL checked against the real
//! schema, a worker importing the push queue) and the real `connector-wazuh` daemon, sends three
//! enrichment requests as the platform does (an IPv4 address with its indicator, a file hash, an
//! indicator with only a pattern), then prints what OpenCTI received and writes its Mermaid graph.
//!
//! Options: `--graph FILE` (default `target/demo/knowledge.md`), `--ci` (no progress lines; exit
//! 1 when the demo does not show systems, sightings, incidents and a case).

#[path = "../tests/testkit/mod.rs"]
mod testkit;

use std::path::PathBuf;
use std::process::ExitCode;

struct Opts {
    graph: PathBuf,
    ci: bool,
}

fn opts() -> Result<Opts, String> {
    let mut o = Opts {
        graph: PathBuf::from("target/demo/knowledge.md"),
        ci: std::env::var("DEMO_SHORT").is_ok_and(|v| v == "1"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--ci" => o.ci = true,
            "--graph" => o.graph = args.next().ok_or("--graph needs a FILE")?.into(),
            other => {
                return Err(format!(
                    "unknown argument {other} (accepted: --graph FILE, --ci)"
                ))
            }
        }
    }
    Ok(o)
}

/// The daemon next to this example (`target/<profile>/examples/demo` → `target/<profile>/
/// connector-wazuh`) unless `CONNECTOR_WAZUH_TEST_BIN` names one.
fn point_at_daemon() -> Result<(), String> {
    if std::env::var("CONNECTOR_WAZUH_TEST_BIN").is_ok_and(|v| !v.is_empty()) {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate the demo: {e}"))?;
    let daemon = exe
        .parent()
        .and_then(|examples| examples.parent())
        .map(|profile| profile.join("connector-wazuh"))
        .filter(|p| p.is_file())
        .ok_or("connector-wazuh is not built next to the demo: run scripts/demo")?;
    // Read by the test kit when it starts the daemon; set before any thread exists.
    std::env::set_var("CONNECTOR_WAZUH_TEST_BIN", daemon);
    Ok(())
}

fn main() -> ExitCode {
    let o = match opts().and_then(|o| point_at_daemon().map(|()| o)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("demo: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let ci = o.ci;
    let demo = rt.block_on(testkit::demo::run(move |m| {
        if !ci {
            eprintln!("demo: {m}");
        }
    }));
    if !o.ci {
        println!("What OpenCTI received:{}", demo.summary());
    }
    if let Some(dir) = o.graph.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(&o.graph, demo.graph()) {
        eprintln!("demo: cannot write {}: {e}", o.graph.display());
        return ExitCode::from(1);
    }
    let problems = demo.problems();
    if !problems.is_empty() {
        let log: Vec<&str> = demo.daemon_log.lines().collect();
        eprintln!("demo: the daemon's last log lines:");
        for l in &log[log.len().saturating_sub(30)..] {
            eprintln!("  {l}");
        }
    }
    for p in &problems {
        eprintln!("demo: PROBLEM: {p}");
    }
    let objects = demo.all_objects().len();
    eprintln!(
        "demo: {} request(s), {objects} object(s) received by OpenCTI; graph in {}",
        demo.asked.len(),
        o.graph.display()
    );
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
