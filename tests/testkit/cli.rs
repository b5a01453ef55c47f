//! Running the real binary as a user runs it.

use std::collections::HashMap;

/// The binary under test: cargo's build of this package, or `CONNECTOR_WAZUH_TEST_BIN` (to test
/// a copied or release build; also shields local runs from another checkout rebuilding the
/// shared target directory mid-test).
pub fn bin() -> String {
    std::env::var("CONNECTOR_WAZUH_TEST_BIN")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| option_env!("CARGO_BIN_EXE_connector-wazuh").map(str::to_string))
        .expect("the connector-wazuh binary (cargo sets CARGO_BIN_EXE_connector-wazuh for tests)")
}

/// What a run printed.
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `connector-wazuh <args>` with exactly `env` (plus no config file), in an empty directory.
pub async fn run(args: &[&str], env: &HashMap<String, String>) -> Out {
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(bin())
        .args(args)
        .env_clear()
        .envs(env)
        .env("CONNECTOR_CONFIG_FILE", "")
        .current_dir(dir.path())
        .output()
        .await
        .unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}
