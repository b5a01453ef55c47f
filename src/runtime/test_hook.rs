//! A test hook, compiled into debug builds only (`cfg(debug_assertions)`; release builds have no
//! trace of it): the fault suite needs a request whose handler panics, to prove that a panic is
//! caught, counted and settled. Nothing in a message can turn it on — only the environment of
//! the process, set by the test that starts it.

/// The variable naming the entity (OpenCTI id) whose requests panic. Outside the `CONNECTOR_`
/// and `WAZUH_` prefixes on purpose: it is not an option, and the option checks ignore it.
pub const PANIC_ON_ENTITY: &str = "TEST_HOOK_PANIC_ON_ENTITY";

/// Panics when the environment names `entity_id` in [`PANIC_ON_ENTITY`].
pub fn panic_if_asked(entity_id: &str) {
    if std::env::var(PANIC_ON_ENTITY).is_ok_and(|v| !v.is_empty() && v == entity_id) {
        panic!("{PANIC_ON_ENTITY}: panicking on request for {entity_id} as the test asked");
    }
}
