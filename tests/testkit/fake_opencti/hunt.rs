//! The test OpenCTI's side of continuous hunting:
//!
//! * `indicators(first, after, orderBy: updated_at, orderMode, filters)`: the indicators the test
//!   added (not deleted), ordered by `updated_at` then id, paged with an opaque cursor (base64 of
//!   the last edge's sort values, like the platform's `search_after`), filtered by an OpenCTI
//!   `FilterGroup` on the keys the connector uses; any other key, operator or argument is an
//!   error (so a connector bug is visible, not silently answered).
//! * `workAdd(connectorId, friendlyName)`: a work like [`FakeOpenCti::new_work`]'s, named.
//! * The connector's state: stored by `pingConnector(state:)`, returned by `registerConnector`,
//!   `pingConnector` and `connector(id)`, reset like the platform's `resetStateConnector`.
//!
//! Every indicator carries an `updated_at` stamped when added and bumped on every change; stamps
//! are strictly increasing (1 ms apart at least) so an `updated_at gt <last seen>` filter is
//! deterministic in tests.

use chrono::{DateTime, SecondsFormat, Utc};

use super::*;

/// Reading the connector's state (not sent by the connector; the tests read what pings stored).
pub const READ_CONNECTOR_STATE: &str =
    "query ReadConnectorState($id: String!) { connector(id: $id) { id connector_state } }";

/// `first` when the call gives none (the platform's `ES_DEFAULT_PAGINATION`).
const DEFAULT_FIRST: i64 = 500;
/// The largest page the platform serves (`ES_MAX_PAGINATION`).
pub const MAX_FIRST: i64 = 5000;
/// `valid_until` of an indicator whose STIX has none (OpenCTI's `UNTIL_END`).
pub const FAR_FUTURE: &str = "5138-11-16T09:46:40.000Z";

#[derive(Default)]
pub(super) struct HuntState {
    /// `updated_at` (ms since the epoch) of every indicator added.
    updated: HashMap<String, i64>,
    last_stamp: i64,
    /// Works created by `workAdd`, in order: (id, friendly name).
    works_named: Vec<(String, String)>,
    connector_state: Option<String>,
    /// Set by [`FakeOpenCti::reset_connector_state`], consumed by the next ping.
    state_reset: bool,
}

impl HuntState {
    /// Bumps `updated_at` of an indicator to now (strictly after every earlier stamp).
    pub(super) fn touch(&mut self, id: &str) {
        self.last_stamp = Utc::now().timestamp_millis().max(self.last_stamp + 1);
        self.updated.insert(id.to_string(), self.last_stamp);
    }

    /// `registerConnector`'s `connector_state`.
    pub(super) fn state(&self) -> Value {
        json!(self.connector_state)
    }

    /// A ping carrying `state` (absent = null): stored, unless a reset is pending (then the
    /// reset is consumed and the state left as the reset made it). Returns `connector_state`.
    pub(super) fn ping(&mut self, state: Option<&Value>) -> Value {
        if self.state_reset {
            self.state_reset = false;
        } else {
            self.connector_state = state.and_then(Value::as_str).map(str::to_string);
        }
        self.state()
    }
}

fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(v: &Value) -> Result<DateTime<Utc>, String> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("not a date: {v}"))
}

fn parse_bool(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        _ => Err(format!("not a boolean: {v}")),
    }
}

fn parse_number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| format!("not a number: {v}"))
}

/// One indicator as the listing sees it.
struct Ind<'a> {
    id: &'a str,
    updated: i64,
    stix: &'a Value,
}

impl Ind<'_> {
    /// A top-level STIX property, or OpenCTI's extension's (`score`, `detection`).
    fn prop(&self, key: &str, ext_key: &str) -> Option<&Value> {
        self.stix.get(key).filter(|v| !v.is_null()).or_else(|| {
            self.stix["extensions"]
                .as_object()?
                .values()
                .find_map(|e| e.get(ext_key))
        })
    }
    fn revoked(&self) -> bool {
        self.stix["revoked"].as_bool().unwrap_or(false)
    }
    fn valid_until(&self) -> DateTime<Utc> {
        parse_time(&self.stix["valid_until"])
            .unwrap_or_else(|_| parse_time(&json!(FAR_FUTURE)).unwrap())
    }
    fn score(&self) -> Value {
        self.prop("x_opencti_score", "score")
            .cloned()
            .unwrap_or(json!(50))
    }
    fn detection(&self) -> bool {
        self.prop("x_opencti_detection", "detection")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
    fn node(&self) -> Value {
        let valid_until = match self.stix["valid_until"].as_str() {
            Some(_) => rfc3339(self.valid_until().timestamp_millis()),
            None => FAR_FUTURE.to_string(),
        };
        json!({
            "id": self.id, "standard_id": self.id, "entity_type": "Indicator",
            "name": self.stix["name"], "pattern": self.stix["pattern"],
            "pattern_type": self.stix.get("pattern_type").cloned().unwrap_or(json!("stix")),
            "revoked": self.revoked(), "valid_from": self.stix["valid_from"],
            "valid_until": valid_until, "x_opencti_score": self.score(),
            "x_opencti_detection": self.detection(), "updated_at": rfc3339(self.updated),
            "objectMarking": object_marking(self.stix),
        })
    }
}

/// One condition of a filter (a key, an operator, one value).
enum Cond {
    Revoked(bool),
    ValidUntilGt(DateTime<Utc>),
    UpdatedAt { gte: bool, t: DateTime<Utc> },
    ScoreGte(f64),
    Detection(bool),
}

impl Cond {
    fn parse(key: &str, op: &str, v: &Value) -> Result<Cond, String> {
        Ok(match (key, op) {
            ("revoked", "eq") => Cond::Revoked(parse_bool(v)?),
            ("valid_until", "gt") => Cond::ValidUntilGt(parse_time(v)?),
            ("updated_at", "gt" | "gte") => Cond::UpdatedAt {
                gte: op == "gte",
                t: parse_time(v)?,
            },
            ("x_opencti_score", "gte") => Cond::ScoreGte(parse_number(v)?),
            ("x_opencti_detection", "eq") => Cond::Detection(parse_bool(v)?),
            _ => {
                return Err(format!(
                    "the test OpenCTI does not implement the indicator filter `{key}` `{op}` \
                     (it implements revoked eq, valid_until gt, updated_at gt/gte, \
                     x_opencti_score gte, x_opencti_detection eq)"
                ))
            }
        })
    }
    fn holds(&self, i: &Ind) -> bool {
        match self {
            Cond::Revoked(b) => i.revoked() == *b,
            Cond::ValidUntilGt(t) => i.valid_until() > *t,
            Cond::UpdatedAt { gte, t } => {
                let u = DateTime::from_timestamp_millis(i.updated).unwrap();
                if *gte {
                    u >= *t
                } else {
                    u > *t
                }
            }
            Cond::ScoreGte(s) => i.score().as_f64().unwrap_or(0.0) >= *s,
            Cond::Detection(b) => i.detection() == *b,
        }
    }
}

/// A parsed `FilterGroup`: `all` = mode `and`.
struct Group {
    all: bool,
    /// Each filter: its conditions (one per value) and whether all must hold.
    filters: Vec<(Vec<Cond>, bool)>,
    groups: Vec<Group>,
}

fn mode_is_and(v: &Value, default_and: bool) -> Result<bool, String> {
    match v.as_str() {
        None if v.is_null() => Ok(default_and),
        Some("and") => Ok(true),
        Some("or") => Ok(false),
        _ => Err(format!("invalid filter mode {v}")),
    }
}

impl Group {
    fn parse(v: &Value) -> Result<Group, String> {
        let mut filters = Vec::new();
        for f in v["filters"].as_array().into_iter().flatten() {
            let keys: Vec<&str> = f["key"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let [key] = keys[..] else {
                return Err(format!(
                    "the test OpenCTI implements filters on exactly one key, got {}",
                    f["key"]
                ));
            };
            let op = f["operator"].as_str().unwrap_or("eq");
            let values = f["values"].as_array().cloned().unwrap_or_default();
            if values.is_empty() {
                return Err(format!("filter `{key}` `{op}` without values"));
            }
            let conds = values
                .iter()
                .map(|x| Cond::parse(key, op, x))
                .collect::<Result<Vec<_>, _>>()?;
            filters.push((conds, mode_is_and(&f["mode"], false)?));
        }
        let groups = v["filterGroups"]
            .as_array()
            .into_iter()
            .flatten()
            .map(Group::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Group {
            all: mode_is_and(&v["mode"], true)?,
            filters,
            groups,
        })
    }
    fn holds(&self, i: &Ind) -> bool {
        let mut results = self
            .filters
            .iter()
            .map(|(conds, all)| {
                if *all {
                    conds.iter().all(|c| c.holds(i))
                } else {
                    conds.iter().any(|c| c.holds(i))
                }
            })
            .chain(self.groups.iter().map(|g| g.holds(i)));
        if self.all {
            results.all(|r| r)
        } else {
            // An empty `or` group filters nothing out.
            let mut results = results.peekable();
            results.peek().is_none() || results.any(|r| r)
        }
    }
}

fn cursor(i: &Ind) -> String {
    base64::engine::general_purpose::STANDARD.encode(json!([i.updated, i.id]).to_string())
}

fn decode_cursor(c: &str) -> Result<(i64, String), String> {
    let bad = || format!("invalid cursor {c:?}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(c)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    match (v[0].as_i64(), v[1].as_str()) {
        (Some(u), Some(id)) => Ok((u, id.to_string())),
        _ => Err(bad()),
    }
}

/// An argument's value: the variable it names, or the literal (GraphQL syntax, as JSON when it
/// parses, else the bare enum name).
fn arg(args: &[(String, String)], vars: &Value, name: &str) -> Value {
    match args.iter().find(|(k, _)| k == name) {
        None => Value::Null,
        Some((_, v)) => match v.strip_prefix('$') {
            Some(var_name) => var(vars, var_name).clone(),
            None => serde_json::from_str(v).unwrap_or_else(|_| json!(v)),
        },
    }
}

fn list_indicators(g: &Inner, args: &[(String, String)], vars: &Value) -> Result<Value, String> {
    for (name, _) in args {
        if !["first", "after", "orderBy", "orderMode", "filters"].contains(&name.as_str()) {
            return Err(format!(
                "the test OpenCTI does not implement `indicators({name}:)`"
            ));
        }
    }
    match arg(args, vars, "orderBy") {
        Value::Null => {}
        v if v == "updated_at" => {}
        v => {
            return Err(format!(
                "the test OpenCTI orders indicators by updated_at only, not {v}"
            ))
        }
    }
    let desc = match arg(args, vars, "orderMode") {
        Value::Null => false,
        v if v == "asc" => false,
        v if v == "desc" => true,
        v => return Err(format!("invalid orderMode {v}")),
    };
    let first = match arg(args, vars, "first") {
        Value::Null => DEFAULT_FIRST,
        v => v.as_i64().ok_or_else(|| format!("invalid first {v}"))?,
    };
    if !(0..=MAX_FIRST).contains(&first) {
        return Err(format!(
            "first = {first}: the platform pages at most {MAX_FIRST} elements"
        ));
    }
    let after = match arg(args, vars, "after") {
        Value::Null => None,
        Value::String(c) if c.is_empty() => None,
        Value::String(c) => Some(decode_cursor(&c)?),
        v => return Err(format!("invalid after {v}")),
    };
    let filters = match arg(args, vars, "filters") {
        Value::Null => None,
        v => Some(Group::parse(&v)?),
    };
    let mut all: Vec<Ind> = g
        .entities
        .iter()
        .filter(|(id, e)| e["type"] == "indicator" && !g.deleted.contains(*id))
        .map(|(id, stix)| Ind {
            id,
            updated: g.hunt.updated.get(id).copied().unwrap_or(0),
            stix,
        })
        .filter(|i| filters.as_ref().is_none_or(|f| f.holds(i)))
        .collect();
    all.sort_by(|a, b| (a.updated, a.id).cmp(&(b.updated, b.id)));
    if desc {
        all.reverse();
    }
    if let Some((u, id)) = &after {
        let key = (*u, id.as_str());
        all.retain(|i| {
            let k = (i.updated, i.id);
            if desc {
                k < key
            } else {
                k > key
            }
        });
    }
    let has_next = all.len() as i64 > first;
    all.truncate(first as usize);
    let edges: Vec<Value> = all
        .iter()
        .map(|i| json!({"cursor": cursor(i), "node": i.node()}))
        .collect();
    Ok(json!({
        "edges": edges,
        "pageInfo": {
            "startCursor": all.first().map(cursor).unwrap_or_default(),
            "endCursor": all.last().map(cursor).unwrap_or_default(),
            "hasNextPage": has_next,
            "hasPreviousPage": after.is_some(),
            "globalCount": edges.len(),
        }
    }))
}

/// Answers the root fields this module implements; `None` for the others.
pub(super) fn answer(
    app: &App,
    field: &str,
    args: &[(String, String)],
    vars: &Value,
) -> Option<Result<Value, String>> {
    let mut g = app.inner.lock().unwrap();
    Some(match field {
        "indicators" => list_indicators(&g, args, vars),
        "workAdd" => {
            let connector = arg(args, vars, "connectorId");
            if connector != app.connector_id.as_str() {
                return Some(Err(format!("No connector found with the id {connector}")));
            }
            let name = arg(args, vars, "friendlyName")
                .as_str()
                .unwrap_or_default()
                .to_string();
            let id = format!(
                "work_{}_{}",
                app.connector_id,
                uuid::Uuid::new_v4().simple()
            );
            let mut rec = WorkRecord::default();
            rec.update_status();
            g.works.insert(id.clone(), rec);
            g.hunt.works_named.push((id.clone(), name.clone()));
            Ok(json!({"id": id, "name": name, "status": "wait",
                "timestamp": rfc3339(Utc::now().timestamp_millis())}))
        }
        "connector" => {
            let id = arg(args, vars, "id");
            Ok(if id == app.connector_id.as_str() {
                json!({"id": id, "name": "Wazuh test", "connector_state": g.hunt.state(),
                    "connector_state_reset": g.hunt.state_reset})
            } else {
                Value::Null
            })
        }
        _ => return None,
    })
}

impl FakeOpenCti {
    /// Serves a fresh STIX indicator with `pattern` (pattern_type stix, valid_from now, no
    /// valid_until, score 50, detection false); returns its id.
    pub fn add_hunt_indicator(&self, pattern: &str, marking: Option<&str>) -> String {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut stix = json!({
            "type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--{}", uuid::Uuid::new_v4()),
            "created": now, "modified": now, "name": pattern, "pattern": pattern,
            "pattern_type": "stix", "valid_from": now,
            "x_opencti_score": 50, "x_opencti_detection": false,
        });
        if let Some(m) = marking {
            stix["object_marking_refs"] = json!([m]);
        }
        self.add_entity(stix)
    }

    /// Revokes an indicator (`revoked` true, `updated_at` now).
    pub fn revoke_indicator(&self, id: &str) {
        self.update_indicator(id, json!({"revoked": true}));
    }

    /// Merges `patch` into an indicator's STIX (a key set to null is removed) and bumps its
    /// `updated_at`.
    pub fn update_indicator(&self, id: &str, patch: Value) {
        let mut g = self.app.inner.lock().unwrap();
        let e = g
            .entities
            .get_mut(id)
            .unwrap_or_else(|| panic!("no entity {id}"));
        for (k, v) in patch.as_object().expect("patch is an object") {
            if v.is_null() {
                e.as_object_mut().unwrap().remove(k);
            } else {
                e[k] = v.clone();
            }
        }
        g.hunt.touch(id);
    }

    /// `updated_at` of an indicator as the listing shows it.
    pub fn indicator_updated_at(&self, id: &str) -> Option<String> {
        self.app
            .inner
            .lock()
            .unwrap()
            .hunt
            .updated
            .get(id)
            .map(|ms| rfc3339(*ms))
    }

    /// Works created by `workAdd` whose friendly name starts with `prefix`, in creation order:
    /// (work id, name).
    pub fn works_named(&self, prefix: &str) -> Vec<(String, String)> {
        let g = self.app.inner.lock().unwrap();
        g.hunt
            .works_named
            .iter()
            .filter(|(_, n)| n.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// The connector's stored state (`None` = null).
    pub fn connector_state(&self) -> Option<String> {
        self.app.inner.lock().unwrap().hunt.connector_state.clone()
    }

    /// Sets the stored state, as if a previous run had pinged it.
    pub fn set_connector_state(&self, s: Option<&str>) {
        self.app.inner.lock().unwrap().hunt.connector_state = s.map(str::to_string);
    }

    /// Resets the state like the platform's `resetStateConnector`: the state becomes `""` at
    /// once, and the next ping does not store the state it carries (it gets `""` back).
    pub fn reset_connector_state(&self) {
        let mut g = self.app.inner.lock().unwrap();
        g.hunt.connector_state = Some(String::new());
        g.hunt.state_reset = true;
    }
}
