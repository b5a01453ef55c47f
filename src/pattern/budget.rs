//! Size limits on what a pattern may cost the connector and the indexer.
//!
//! Indicators reach the connector from feeds and are enriched automatically, so their patterns
//! are untrusted. A pattern is cheap to write and can be expensive to search: one `ISSUBSET`
//! over an IPv6 block becomes one clause per address and field, a `MATCHES` with nested counted
//! repetitions becomes a huge automaton on every shard. So, before any query JSON is built,
//! [`check_pattern`] estimates the clauses the pattern expands to and refuses it past
//! [`MAX_CLAUSES`]; after building, [`check_query`] counts the clauses of the actual query, its
//! serialized size and the length of every regexp in it. Each refusal is a
//! [`PatternError::TooLarge`] whose message names the limit, and ends the request with it.

use serde_json::Value;

use super::ast::{ComparisonExpr, ObservationExpr, Operator};
use super::cidr;
use super::target::{target, Target, IP_TYPED_FIELDS};
use super::PatternError;
use crate::config::options::SearchOptions;

/// Most query clauses one pattern may expand to (every field a value is searched in counts).
/// OpenSearch refuses a query with more than `indices.query.bool.max_clause_count` (1024)
/// clauses in total, and field patterns (`*.srcip`) expand further on the indexer: half of it
/// leaves room for that and for the observable queries ORed with the pattern's.
pub const MAX_CLAUSES: usize = 512;
/// Longest regular expression sent: the indexer's `index.max_regex_length` default. A longer
/// one is refused by the indexer anyway, after the connector has paid for building it.
pub const MAX_REGEX_LEN: usize = 1000;
/// Largest serialized query one pattern may produce (bytes). The whole search body is capped
/// at [`MAX_SEARCH_BODY_BYTES`]; this leaves the rest for the request's other parts.
pub const MAX_QUERY_BYTES: usize = 512 * 1024;
/// Largest search body sent to the indexer (bytes).
pub const MAX_SEARCH_BODY_BYTES: usize = 1024 * 1024;

fn too_large(what: String) -> PatternError {
    PatternError::TooLarge(what)
}

/// Refuses a pattern whose query would exceed [`MAX_CLAUSES`], from the parsed pattern alone.
pub fn check_pattern(expr: &ObservationExpr, opts: &SearchOptions) -> Result<(), PatternError> {
    let mut used = 0usize;
    observation_cost(expr, opts, &mut used)?;
    Ok(())
}

fn charge(used: &mut usize, n: usize) -> Result<(), PatternError> {
    *used = used.saturating_add(n);
    if *used > MAX_CLAUSES {
        return Err(too_large(format!(
            "the query would have more than {MAX_CLAUSES} clauses (values × searched fields; \
             the connector's clause budget, below the indexer's max_clause_count of 1024): \
             split the pattern or use narrower blocks"
        )));
    }
    Ok(())
}

fn observation_cost(
    e: &ObservationExpr,
    opts: &SearchOptions,
    used: &mut usize,
) -> Result<(), PatternError> {
    match e {
        ObservationExpr::Observation(c) => comparison_cost(c, opts, used),
        ObservationExpr::And(v) | ObservationExpr::Or(v) | ObservationExpr::FollowedBy(v) => {
            v.iter().try_for_each(|x| observation_cost(x, opts, used))
        }
        // START … STOP adds two range clauses.
        ObservationExpr::Qualified { expr, .. } => {
            charge(used, 2)?;
            observation_cost(expr, opts, used)
        }
    }
}

fn comparison_cost(
    e: &ComparisonExpr,
    opts: &SearchOptions,
    used: &mut usize,
) -> Result<(), PatternError> {
    let c = match e {
        ComparisonExpr::And(v) | ComparisonExpr::Or(v) => {
            return v.iter().try_for_each(|x| comparison_cost(x, opts, used))
        }
        ComparisonExpr::Test(c) => c,
    };
    // A path the translation cannot search is refused there; one value, one clause here.
    let Ok(t) = target(&c.path, opts) else {
        let values = match &c.op {
            Operator::In(list) => list.len(),
            _ => 1,
        };
        return charge(used, values);
    };
    let fields = t.fields.len();
    let ip_typed = IP_TYPED_FIELDS
        .iter()
        .filter(|x| t.fields.iter().any(|p| super::target::glob_match(p, x)))
        .count();
    let per_field_values = match &c.op {
        Operator::In(list) => list.len(),
        Operator::IsSubset(block) | Operator::IsSuperset(block) => cidr::expansion(block)?,
        _ => 1,
    };
    // `=` and short `IN` lists on a main value put in the observable search's clauses for
    // each value.
    let per_value = match t.main {
        Some(kind) if searches_as_observable(&t, &c.op, opts) => {
            crate::search::lookup::clause_bound(opts, kind)
        }
        _ => fields,
    };
    let mut cost = per_field_values.saturating_mul(per_value);
    match &c.op {
        // Keyword fields and numeric fields each get their own range clause.
        Operator::Lt(_) | Operator::Le(_) | Operator::Gt(_) | Operator::Ge(_) => {
            cost = cost.saturating_mul(2)
        }
        // An IPv4 block also gets a native CIDR term on the `ip`-typed fields.
        Operator::IsSubset(_) => cost = cost.saturating_add(ip_typed),
        _ => {}
    }
    // The excluded field (the agent's own address) is tested with the same values, and a
    // negation also requires that one of the fields is present.
    if t.exclude.is_some() {
        cost = cost.saturating_add(per_field_values);
    }
    if c.negated || matches!(c.op, Operator::Ne(_)) {
        cost = cost.saturating_add(fields);
    }
    if cost > MAX_CLAUSES {
        // One comparison alone is over the budget: say which and why.
        return Err(too_large(format!(
            "{} {} expands to {per_field_values} value(s) searched in {fields} field(s), about \
             {cost} query clauses; the connector's clause budget is {MAX_CLAUSES} (below the \
             indexer's max_clause_count of 1024): use a narrower block or fewer values",
            c.path,
            c.op.keyword()
        )));
    }
    charge(used, cost)
}

/// Whether a comparison on a main value searches each value as the observable does: `=` and
/// a single-address block (`ISSUBSET`/`ISSUPERSET` a /32 or /128, which are `=`) always, `IN`
/// while its values' clauses fit half the budget (a long list of addresses would leave no room
/// for the rest of the pattern; it keeps the whole-value comparison instead).
pub(super) fn searches_as_observable(t: &Target, op: &Operator, opts: &SearchOptions) -> bool {
    let Some(kind) = t.main else { return false };
    match op {
        Operator::Eq(_) => true,
        Operator::IsSubset(b) | Operator::IsSuperset(b) => {
            cidr::parse(b).is_ok_and(|c| matches!(c.matcher, cidr::CidrMatch::Exact(_)))
        }
        Operator::In(list) => {
            list.len()
                .saturating_mul(crate::search::lookup::clause_bound(opts, kind))
                <= MAX_CLAUSES / 2
        }
        _ => false,
    }
}

/// Checks a built query: at most [`MAX_CLAUSES`] clauses, no regexp longer than
/// [`MAX_REGEX_LEN`], at most [`MAX_QUERY_BYTES`] serialized.
pub fn check_query(q: &Value) -> Result<(), PatternError> {
    let n = clause_count(q);
    if n > MAX_CLAUSES {
        return Err(too_large(format!(
            "the query has {n} clauses, more than the connector's clause budget of \
             {MAX_CLAUSES} (below the indexer's max_clause_count of 1024)"
        )));
    }
    if let Some(len) = longest_regexp(q).filter(|&l| l > MAX_REGEX_LEN) {
        return Err(too_large(format!(
            "a regular expression of {len} characters would be sent, longer than the \
             indexer's index.max_regex_length of {MAX_REGEX_LEN}: shorten the LIKE or MATCHES \
             value"
        )));
    }
    if let Err(size) = serialized_len_within(q, MAX_QUERY_BYTES) {
        return Err(too_large(format!(
            "the query is more than {size} bytes of JSON, the limit for one pattern is \
             {MAX_QUERY_BYTES} bytes"
        )));
    }
    Ok(())
}

/// The clauses of a query as the indexer counts them against `max_clause_count`: each leaf
/// query once per field it names (`multi_match` and `query_string` list several).
pub fn clause_count(q: &Value) -> usize {
    let Some(obj) = q.as_object() else { return 0 };
    obj.iter()
        .map(|(kind, body)| match kind.as_str() {
            "bool" => ["must", "should", "must_not", "filter"]
                .iter()
                .filter_map(|k| body.get(k))
                .map(|clauses| match clauses {
                    Value::Array(a) => a.iter().map(clause_count).sum(),
                    one => clause_count(one),
                })
                .sum(),
            "multi_match" | "query_string" => body
                .get("fields")
                .and_then(Value::as_array)
                .map_or(1, |f| f.len().max(1)),
            "nested" | "constant_score" => ["query", "filter"]
                .iter()
                .filter_map(|k| body.get(k))
                .map(clause_count)
                .sum(),
            _ => 1,
        })
        .sum()
}

/// The length (in characters) of the longest regexp, wildcard or `query_string` text.
fn longest_regexp(q: &Value) -> Option<usize> {
    let Some(obj) = q.as_object() else {
        return q.as_array()?.iter().filter_map(longest_regexp).max();
    };
    obj.iter()
        .filter_map(|(kind, body)| match kind.as_str() {
            "regexp" | "wildcard" => body
                .as_object()?
                .values()
                .filter_map(|v| v.get("value").or(Some(v)).and_then(Value::as_str))
                .map(|s| s.chars().count())
                .max(),
            "query_string" => body
                .get("query")
                .and_then(Value::as_str)
                .map(|s| s.chars().count().saturating_sub(2)),
            _ => longest_regexp(body),
        })
        .max()
}

/// `Ok(len)` when `v` serializes to at most `max` bytes, else `Err(max)`; stops writing as soon
/// as the limit is passed, so an oversized value is never held as text.
pub fn serialized_len_within(v: &Value, max: usize) -> Result<usize, usize> {
    struct Counter {
        n: usize,
        max: usize,
    }
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.n += buf.len();
            if self.n > self.max {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Counter { n: 0, max };
    match serde_json::to_writer(&mut c, v) {
        Ok(()) => Ok(c.n),
        Err(_) => Err(max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clauses_are_counted_per_field() {
        let q = json!({"bool": {"should": [
            {"multi_match": {"query": "x", "fields": ["a", "b", "*.c"]}},
            {"query_string": {"query": "/x/", "fields": ["*.d", "*.e"]}},
            {"regexp": {"f": {"value": "x"}}},
        ], "must_not": [{"term": {"g": "x"}}], "filter": {"exists": {"field": "h"}}}});
        assert_eq!(clause_count(&q), 3 + 2 + 1 + 1 + 1);
    }

    #[test]
    fn regexps_longer_than_the_indexer_takes_are_refused() {
        let long = "a".repeat(MAX_REGEX_LEN + 1);
        for q in [
            json!({"regexp": {"f": {"value": long}}}),
            json!({"bool": {"should": [{"query_string": {"query": format!("/{long}/")}}]}}),
            json!({"wildcard": {"f": {"value": long}}}),
        ] {
            match check_query(&q) {
                Err(PatternError::TooLarge(m)) => assert!(m.contains("max_regex_length"), "{m}"),
                other => panic!("{other:?}"),
            }
        }
        let ok = "a".repeat(MAX_REGEX_LEN);
        assert!(check_query(&json!({"query_string": {"query": format!("/{ok}/")}})).is_ok());
    }

    #[test]
    fn serialized_size_stops_at_the_limit() {
        let v = json!({"a": "x".repeat(100)});
        assert_eq!(serialized_len_within(&v, 1000), Ok(108));
        assert_eq!(serialized_len_within(&v, 50), Err(50));
    }
}
