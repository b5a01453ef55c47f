//! Every GraphQL operation the connector sends, in one place.
//!
//! Keeping them here lets `tests/offline/graphql_operations.rs` validate each one against every OpenCTI
//! schema the connector supports (6.4 … 7.x) with apollo-compiler, so a field or argument that a
//! platform version lacks is caught by the tests, not by a user.

/// Health check: needs a valid token (`AppInfo.version` is `@auth`).
pub const ABOUT: &str = "query ConnectorHealthCheck { about { version } }";

/// Which input fields the running platform's `RegisterConnectorInput` has (they differ by version).
pub const REGISTER_INPUT_FIELDS: &str =
    "query RegisterConnectorInputFields { __type(name: \"RegisterConnectorInput\") { inputFields { name } } }";

/// Registration (pycti's document without `jwks`, which older platforms lack, and without `s3`).
pub const REGISTER_CONNECTOR: &str = "mutation RegisterConnector($input: RegisterConnectorInput) {
  registerConnector(input: $input) {
    id
    connector_state
    config {
      connection { host vhost use_ssl port user pass }
      listen
      listen_routing
      listen_exchange
      push
      push_routing
      push_exchange
    }
    connector_user_id
  }
}";

/// Which fields the running platform's `Connector` has: `jwks` (the keys that sign HTTP
/// callbacks) exists only on OpenCTI 7, and asking for it elsewhere fails validation.
pub const CONNECTOR_FIELDS: &str =
    "query ConnectorFields { __type(name: \"Connector\") { fields { name } } }";

/// [`REGISTER_CONNECTOR`], also asking for `jwks` (API listen protocol on a platform that has it).
pub fn register_connector(with_jwks: bool) -> std::borrow::Cow<'static, str> {
    if with_jwks {
        REGISTER_CONNECTOR
            .replacen(
                "    connector_state\n",
                "    connector_state\n    jwks\n",
                1,
            )
            .into()
    } else {
        REGISTER_CONNECTOR.into()
    }
}

/// Heartbeat, every 40 s.
pub const PING_CONNECTOR: &str =
    "mutation PingConnector($id: ID!, $state: String, $connectorInfo: ConnectorInfoInput) {
  pingConnector(id: $id, state: $state, connectorInfo: $connectorInfo) {
    id
    connector_state
  }
}";

pub const WORK_TO_RECEIVED: &str = "mutation WorkToReceived($id: ID!, $message: String) {
  workEdit(id: $id) { toReceived(message: $message) }
}";

pub const WORK_TO_PROCESSED: &str =
    "mutation WorkToProcessed($id: ID!, $message: String, $inError: Boolean) {
  workEdit(id: $id) { toProcessed(message: $message, inError: $inError) }
}";

pub const WORK_PING: &str = "mutation WorkPing($id: ID!) {
  workEdit(id: $id) { ping }
}";

pub const WORK_ADD_EXPECTATIONS: &str =
    "mutation WorkAddExpectations($id: ID!, $expectations: Int) {
  workEdit(id: $id) { addExpectations(expectations: $expectations) }
}";

/// Whether a work was already ended (`toProcessed` sets `processed_time`), and how many imports
/// it already expects (from an earlier delivery of the same request).
pub const READ_WORK: &str = "query ReadWork($id: ID!) {
  work(id: $id) { id processed_time tracking { import_expected_number } }
}";

/// Result delivery through the API (`CONNECTOR_QUEUE_PROTOCOL=api`), OpenCTI ≥ 6.5 (has `work_id`).
pub const STIX_BUNDLE_PUSH: &str =
    "mutation StixBundlePush($connectorId: String!, $bundle: String!, $work_id: String) {
  stixBundlePush(connectorId: $connectorId, bundle: $bundle, work_id: $work_id)
}";

/// Same for platforms whose `stixBundlePush` has no `work_id` argument (6.4): the platform then
/// creates its own work for the import.
pub const STIX_BUNDLE_PUSH_LEGACY: &str =
    "mutation StixBundlePushLegacy($connectorId: String!, $bundle: String!) {
  stixBundlePush(connectorId: $connectorId, bundle: $bundle)
}";

/// Reply of a playbook step.
pub const PLAYBOOK_STEP_EXECUTION: &str = "mutation PlaybookStepExecution($execution_id: ID!, $event_id: ID!, $execution_start: DateTime!, $data_instance_id: ID!, $playbook_id: ID!, $previous_step_id: ID!, $step_id: ID!, $previous_bundle: String!, $bundle: String!) {
  playbookStepExecution(execution_id: $execution_id, event_id: $event_id, execution_start: $execution_start, data_instance_id: $data_instance_id, playbook_id: $playbook_id, previous_step_id: $previous_step_id, step_id: $step_id, previous_bundle: $previous_bundle, bundle: $bundle)
}";

/// An entity's STIX 2.1 export (a JSON string; empty or null when deleted/not visible).
pub const READ_STIX: &str = "query ReadStix($id: String!) { stix(id: $id) }";

/// An entity's type and markings (null when deleted/not visible).
pub const READ_CORE_OBJECT: &str = "query ReadStixCoreObject($id: String!) {
  stixCoreObject(id: $id) {
    id
    standard_id
    entity_type
    objectMarking { id standard_id definition_type definition }
  }
}";

/// The indicators of an observable.
pub const READ_OBSERVABLE_INDICATORS: &str = "query ReadObservableIndicators($id: String!) {
  stixCyberObservable(id: $id) {
    id
    standard_id
    entity_type
    indicators(first: 500) {
      edges { node { standard_id name pattern pattern_type x_opencti_detection revoked x_opencti_score } }
    }
  }
}";

/// An indicator with the observables it is based on.
pub const READ_INDICATOR: &str = "query ReadIndicator($id: String!) {
  indicator(id: $id) {
    standard_id
    name
    pattern
    pattern_type
    x_opencti_detection
    revoked
    x_opencti_score
    observables(first: 500) { edges { node { id standard_id entity_type } } }
  }
}";

/// Tool names (to link alerts to known tools).
pub const LIST_TOOLS: &str = "query ListTools { tools(first: 500) { edges { node { name } } } }";

/// Continuous hunting: one page of indicators, oldest change first, so that a listing resumed
/// from the last `updated_at` seen misses nothing (filters: see `hunt::indicator_filters`).
pub const HUNT_INDICATORS: &str = "query HuntIndicators($first: Int, $after: ID, $filters: FilterGroup) {
  indicators(first: $first, after: $after, orderBy: updated_at, orderMode: asc, filters: $filters) {
    edges { node { id standard_id pattern pattern_type revoked valid_until x_opencti_score x_opencti_detection updated_at objectMarking { standard_id definition_type definition } } }
    pageInfo { endCursor hasNextPage }
  }
}";

/// Continuous hunting: the work that shows an indicator's hunt result in the platform.
pub const HUNT_WORK_ADD: &str =
    "mutation HuntWorkAdd($connectorId: String!, $friendlyName: String) {
  workAdd(connectorId: $connectorId, friendlyName: $friendlyName) { id }
}";

/// Every operation, by name.
pub const ALL: &[(&str, &str)] = &[
    ("about", ABOUT),
    ("registerInputFields", REGISTER_INPUT_FIELDS),
    ("registerConnector", REGISTER_CONNECTOR),
    ("connectorFields", CONNECTOR_FIELDS),
    ("pingConnector", PING_CONNECTOR),
    ("workToReceived", WORK_TO_RECEIVED),
    ("workToProcessed", WORK_TO_PROCESSED),
    ("workPing", WORK_PING),
    ("workAddExpectations", WORK_ADD_EXPECTATIONS),
    ("readWork", READ_WORK),
    ("stixBundlePush", STIX_BUNDLE_PUSH),
    ("stixBundlePushLegacy", STIX_BUNDLE_PUSH_LEGACY),
    ("playbookStepExecution", PLAYBOOK_STEP_EXECUTION),
    ("readStix", READ_STIX),
    ("readCoreObject", READ_CORE_OBJECT),
    ("readObservableIndicators", READ_OBSERVABLE_INDICATORS),
    ("readIndicator", READ_INDICATOR),
    ("listTools", LIST_TOOLS),
    ("huntIndicators", HUNT_INDICATORS),
    ("huntWorkAdd", HUNT_WORK_ADD),
];

/// Operations a given schema generation does not support, with the fallback the client uses.
/// (`stixBundlePush(work_id:)` appeared after 6.4; the client falls back to the legacy form.)
pub const NOT_IN_6_4: &[&str] = &["stixBundlePush"];
