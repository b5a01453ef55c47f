//! The alert envelope fields every query and aggregation uses (time, agent, rule). Where each
//! kind of observable value is stored is the vocabulary's ([`crate::vocabulary`]).

/// The syslog host header: a domain equal to it is the event's own host, not a sighting.
pub const DOMAIN_EXCLUDE_FIELD: &str = "predecoder.hostname";

/// Fields that carry the alert's time, agent and rule (used by aggregations and sorting).
pub const TIMESTAMP_FIELD: &str = "@timestamp";
pub const AGENT_ID_FIELD: &str = "agent.id";
pub const RULE_ID_FIELD: &str = "rule.id";
pub const RULE_LEVEL_FIELD: &str = "rule.level";
pub const AGENT_NAME_FIELD: &str = "agent.name";
pub const AGENT_IP_FIELD: &str = "agent.ip";
/// Dashboard sample alerts carry this field; they are excluded by default.
pub const SAMPLE_DATA_FIELD: &str = "@sampledata";
/// The manager's time of the alert (Filebeat copies it into `@timestamp`; documents loaded by
/// other means may only have this one).
pub const ALERT_TIME_FIELD: &str = "timestamp";
