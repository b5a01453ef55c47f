//! The STIX pattern parser and translator (`pattern::query_for_pattern`) on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = connector_wazuh::pattern::query_for_pattern(text, &Default::default());
});
