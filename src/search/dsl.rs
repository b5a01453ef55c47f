//! The OpenSearch query-DSL building blocks shared by the observable queries ([`super::query`])
//! and the STIX pattern translation ([`crate::pattern`]): one spelling of each clause, so both
//! produce the same JSON for the same intent.
//!
//! Values are put in as given: callers escape them for the syntax first
//! ([`super::escape`]); `term`, `match` and `multi_match` take values literally.

use serde_json::{json, Map, Value};

/// A `multi_match` of `query` over field names or `*` patterns.
pub fn multi_match(query: &str, fields: &[&str]) -> Value {
    json!({"multi_match": {"query": query, "fields": fields}})
}

/// A `multi_match` that skips fields whose type cannot hold the value (a word on an `ip` or
/// `long` field) instead of failing the whole query.
pub fn multi_match_lenient(query: &str, fields: &[&str]) -> Value {
    json!({"multi_match": {"query": query, "fields": fields, "lenient": true}})
}

/// An exact `term` on one field.
pub fn term(field: &str, value: &str) -> Value {
    json!({"term": {field: {"value": value}}})
}

/// An exact `term`, ASCII case-insensitive.
pub fn term_ci(field: &str, value: &str) -> Value {
    json!({"term": {field: {"value": value, "case_insensitive": true}}})
}

/// A Lucene `regexp` on one field (the whole value must match).
pub fn regexp(field: &str, value: &str, ci: bool) -> Value {
    json!({"regexp": {field: {"value": value, "case_insensitive": ci}}})
}

/// A `wildcard` pattern on one field.
pub fn wildcard(field: &str, value: &str, ci: bool) -> Value {
    json!({"wildcard": {field: {"value": value, "case_insensitive": ci}}})
}

/// An `exists` test on one field (or field pattern).
pub fn exists(field: &str) -> Value {
    json!({"exists": {"field": field}})
}

/// A query that matches nothing (a comparison that cannot hold).
pub fn match_none() -> Value {
    json!({"match_none": {}})
}

/// A `bool` query; empty clause lists are left out and `minimum_should_match: 1` is set
/// whenever there is a `should`, so a `should` next to a `must` still has to match.
pub fn bool_q(must: Vec<Value>, should: Vec<Value>, must_not: Vec<Value>) -> Value {
    let mut b = Map::new();
    if !must.is_empty() {
        b.insert("must".into(), Value::Array(must));
    }
    if !should.is_empty() {
        b.insert("should".into(), Value::Array(should));
        b.insert("minimum_should_match".into(), json!(1));
    }
    if !must_not.is_empty() {
        b.insert("must_not".into(), Value::Array(must_not));
    }
    json!({ "bool": b })
}

/// ORs several queries into one `bool.should` (an Indicator with several based-on observables).
pub fn any_of(queries: Vec<Value>) -> Value {
    bool_q(Vec::new(), queries, Vec::new())
}

/// ORs several queries; a single query is returned as it is, none matches nothing.
pub fn one_of(mut v: Vec<Value>) -> Value {
    match v.len() {
        0 => match_none(),
        1 => v.pop().unwrap_or_else(match_none),
        _ => any_of(v),
    }
}

/// ANDs several queries; a single query is returned as it is.
pub fn all_of(mut v: Vec<Value>) -> Value {
    if v.len() == 1 {
        v.pop().unwrap_or_else(match_none)
    } else {
        json!({"bool": {"must": v}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bool_q_leaves_out_empty_lists_and_requires_one_should() {
        assert_eq!(bool_q(vec![], vec![], vec![]), json!({"bool": {}}));
        assert_eq!(
            any_of(vec![json!({"a": 1}), json!({"b": 2})]),
            json!({"bool": {"should": [{"a": 1}, {"b": 2}], "minimum_should_match": 1}})
        );
        assert_eq!(
            bool_q(vec![json!(1)], vec![], vec![json!(2)]),
            json!({"bool": {"must": [1], "must_not": [2]}})
        );
    }

    #[test]
    fn single_queries_pass_through_one_of_and_all_of() {
        assert_eq!(one_of(vec![json!(1)]), json!(1));
        assert_eq!(one_of(vec![]), match_none());
        assert_eq!(all_of(vec![json!(1)]), json!(1));
        assert_eq!(
            all_of(vec![json!(1), json!(2)]),
            json!({"bool": {"must": [1, 2]}})
        );
    }
}
