//! A real OpenSearch-compatible server for tests: osmem-server (PyPI), started on a free port
//! on 127.0.0.1, with the Wazuh alerts template applied and alerts loaded through `_bulk`.
//!
//! The binary is found through `OSMEM_SERVER_BIN` (set by `scripts/test`) or, failing that, by
//! asking Python's `osmem_server` package.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The Wazuh 4.x alerts index template (fixture).
pub const WAZUH_TEMPLATE: &str = include_str!("../fixtures/wazuh/wazuh-template.json");
/// 53 realistic Wazuh alerts, one JSON document a line (fixture).
pub const SAMPLE_ALERTS: &str = include_str!("../fixtures/wazuh/alerts.ndjson");

/// A running osmem-server; killed on drop.
pub struct Osmem {
    pub url: String,
    child: Child,
    http: reqwest::Client,
}

fn binary() -> String {
    if let Ok(b) = std::env::var("OSMEM_SERVER_BIN") {
        if !b.is_empty() {
            return b;
        }
    }
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import osmem_server; print(osmem_server.resolve_binary())",
        ])
        .output()
        .expect("python3 with osmem_server installed (pip install osmem-server)");
    assert!(
        out.status.success(),
        "osmem_server not installed: pip install osmem-server"
    );
    String::from_utf8(out.stdout)
        .expect("utf-8 path")
        .trim()
        .to_string()
}

impl Osmem {
    /// Starts an empty server.
    pub async fn start() -> Osmem {
        Self::start_on("127.0.0.1:0").await
    }

    /// Starts a server on a given address (used to restart on the same port).
    pub async fn start_on(addr: &str) -> Osmem {
        let mut child = Command::new(binary())
            .args([
                "--addr",
                addr,
                "--no-stdin-watch",
                "--parent-pid",
                &std::process::id().to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start osmem-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("osmem-server announces itself")
            .expect("read stdout")
            .expect("a line");
        let info: Value = serde_json::from_str(&line).expect("json banner");
        let url = info["url"].as_str().expect("url in banner").to_string();
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Osmem {
            url,
            child,
            http: reqwest::Client::new(),
        }
    }

    /// The `host:port` the server listens on.
    pub fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    /// The server's process id (the benchmark harness reads its CPU time from `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the server (for fault tests).
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Applies the Wazuh alerts template (legacy `_template`, as `filebeat setup` installs it).
    pub async fn apply_wazuh_template(&self) {
        let r = self
            .http
            .put(format!("{}/_template/wazuh", self.url))
            .header("content-type", "application/json")
            .body(WAZUH_TEMPLATE)
            .send()
            .await
            .expect("PUT template");
        assert!(
            r.status().is_success(),
            "template: {}",
            r.text().await.unwrap_or_default()
        );
    }

    /// Bulk-indexes documents into `index` and refreshes.
    pub async fn bulk_index(&self, index: &str, docs: impl IntoIterator<Item = Value>) {
        let mut body = String::new();
        let mut n = 0usize;
        for d in docs {
            body.push_str(&serde_json::json!({"index": {"_index": index}}).to_string());
            body.push('\n');
            body.push_str(&d.to_string());
            body.push('\n');
            n += 1;
            if n.is_multiple_of(5000) {
                self.send_bulk(std::mem::take(&mut body)).await;
            }
        }
        if !body.is_empty() {
            self.send_bulk(body).await;
        }
    }

    async fn send_bulk(&self, body: String) {
        let r = self
            .http
            .post(format!("{}/_bulk?refresh=true", self.url))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .expect("POST _bulk");
        let status = r.status();
        let v: Value = r.json().await.expect("bulk json");
        assert!(
            status.is_success() && v["errors"] == Value::Bool(false),
            "bulk failed: {v}"
        );
    }

    /// Template + the 53 sample alerts in `wazuh-alerts-4.x-2026.11.27`.
    pub async fn load_sample_alerts(&self) -> Vec<Value> {
        self.apply_wazuh_template().await;
        let docs: Vec<Value> = sample_alerts();
        self.bulk_index("wazuh-alerts-4.x-2026.11.27", docs.clone())
            .await;
        docs
    }
}

/// The sample alerts as JSON values.
pub fn sample_alerts() -> Vec<Value> {
    SAMPLE_ALERTS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("fixture line is JSON"))
        .collect()
}
