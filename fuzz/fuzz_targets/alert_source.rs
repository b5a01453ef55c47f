//! The alert parser (`Alert::from_source`) on arbitrary JSON `_source` documents.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let _ = connector_wazuh::alert::Alert::from_source("doc-id", "wazuh-alerts-4.x-2026.11.27", source);
});
