//! AST → OpenSearch query DSL over Wazuh alert fields.
//!
//! Each object path is resolved to a [`Target`]: the alert fields that hold that kind of value
//! (from [`crate::search::fields`], the one source of truth) and how values are compared there.
//! Field lists mix concrete names and `*` patterns; term-level queries (`regexp`, `wildcard`)
//! take one concrete field, so patterns are searched with a `query_string` regexp over the
//! pattern list (`lenient`, so non-keyword fields that a pattern happens to cover are skipped).
//!
//! Semantics: `AND`/`OR` inside brackets are evaluated on one alert. Between observations the
//! alerts of either side are returned; what that cannot check (that all observations occurred,
//! their order, `WITHIN`, `REPEATS`) is written to [`Translation::notes`].

use serde_json::{json, Value};

use super::ast::*;
use super::budget;
use super::cidr::{self, CidrMatch};
use super::matcher::{
    exists_any, like_forms, literal_text, over, regkey_regexp, split_hive, Matcher,
};
use super::pcre;
use super::target::{glob_match, target, Kind, Target, IP_TYPED_FIELDS};
use super::PatternError;
use crate::config::options::SearchOptions;
use crate::search::dsl::{all_of, match_none, one_of};
use crate::search::escape::{path_regexp, regexp_literal};
use crate::search::fields as f;
use crate::search::ip::is_private;
use crate::search::lookup::inner_clauses;
use crate::search::query::mac_variants;

/// A pattern translated into a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// The `query` part of a search request.
    pub query: Value,
    /// Approximations the query makes (to show on the work), in pattern order, de-duplicated.
    pub notes: Vec<String>,
    /// `(start, stop)` of a `START … STOP` qualifying the whole pattern (`@timestamp` ≥ start,
    /// < stop; the query already contains this filter).
    pub time_range: Option<(String, String)>,
}

struct Ctx<'a> {
    opts: &'a SearchOptions,
    notes: Vec<String>,
}

impl Ctx<'_> {
    fn note(&mut self, n: String) {
        if !self.notes.contains(&n) {
            self.notes.push(n);
        }
    }
}

fn positive(ctx: &mut Ctx, c: &Comparison, t: &Target) -> Result<Value, PatternError> {
    let path = &c.path;
    let as_observable = budget::searches_as_observable(t, &c.op, ctx.opts);
    if t.main.is_some() && !as_observable && matches!(c.op, Operator::In(_)) {
        ctx.note(format!(
            "{path} IN (…): too many values to search each as the observable is searched; \
             only the fields that hold the whole value are compared"
        ));
    }
    let eq = |ctx: &mut Ctx, l: &Literal| -> Result<Value, PatternError> {
        let v = literal_text(path, l)?;
        eq_value(ctx, path, t, &v, as_observable)
    };
    Ok(match &c.op {
        Operator::Eq(l) => eq(ctx, l)?,
        Operator::Ne(_) => {
            // `comparison` rewrites `!=` to NOT `=` before calling this.
            return Err(PatternError::invalid(format!(
                "{path} !=: internal error, negation not rewritten"
            )));
        }
        Operator::In(list) => {
            if list.is_empty() {
                return Err(PatternError::invalid(format!("{path} IN (): empty list")));
            }
            let mut v = Vec::with_capacity(list.len());
            for l in list {
                v.push(eq(ctx, l)?);
            }
            one_of(v)
        }
        Operator::Lt(l) | Operator::Le(l) | Operator::Gt(l) | Operator::Ge(l) => {
            if t.kind != Kind::Number {
                return Err(PatternError::unsupported(format!(
                    "{path} {} …: ordering comparisons are only supported on ports and sizes",
                    c.op.keyword()
                )));
            }
            let n = match l {
                Literal::Int(n) => *n,
                other => {
                    return Err(PatternError::invalid(format!(
                        "{path} {} {other}: an integer is needed",
                        c.op.keyword()
                    )))
                }
            };
            let k = match c.op {
                Operator::Lt(_) => "lt",
                Operator::Le(_) => "lte",
                Operator::Gt(_) => "gt",
                _ => "gte",
            };
            over(&t.fields, &Matcher::Range(vec![(k, n)]))
        }
        Operator::Like(s) => {
            let (glob, mut re) = like_forms(s, t.kind);
            if let Kind::RegKey { aliases: true } = t.kind {
                if let Some((hive, rest)) = split_hive(s) {
                    re = format!("{hive}{}", like_forms(rest, t.kind).1);
                }
            }
            let ci = matches!(
                t.kind,
                Kind::TextCi | Kind::Mac | Kind::RegKey { .. } | Kind::Path { ci: true, .. }
            );
            if matches!(t.kind, Kind::Path { .. } | Kind::RegKey { .. }) {
                if let Kind::Path { basename: true, .. } = t.kind {
                    if !s.contains(['/', '\\']) {
                        re = format!("(.*[/\\\\]+)?{re}");
                    }
                }
                over(&t.fields, &Matcher::Regexp { re, ci })
            } else {
                over(&t.fields, &Matcher::Like { glob, re, ci })
            }
        }
        Operator::Matches(s) => {
            let r = pcre::translate(s)?;
            if r.uses_dot {
                ctx.note(format!(
                    "{path} MATCHES: '.' also matches line breaks in OpenSearch regexps"
                ));
            }
            over(
                &t.fields,
                &Matcher::Regexp {
                    re: r.regex,
                    ci: r.case_insensitive,
                },
            )
        }
        Operator::IsSubset(block) => {
            if t.kind != Kind::Ip {
                return Err(PatternError::unsupported(format!(
                    "{path} ISSUBSET: only IP address paths take a CIDR block"
                )));
            }
            let c = cidr::parse(block)?;
            match c.matcher {
                CidrMatch::Exact(a) => eq_value(ctx, path, t, &a, as_observable)?,
                CidrMatch::Terms(list) => one_of(
                    list.iter()
                        .map(|a| eq_value(ctx, path, t, a, false))
                        .collect::<Result<_, _>>()?,
                ),
                CidrMatch::Regexp(re) => {
                    // A regexp on an `ip`-typed field is a 400 from the indexer: those fields
                    // get the native CIDR term below instead.
                    let text_fields: Vec<&str> = t
                        .fields
                        .iter()
                        .copied()
                        .filter(|f| !IP_TYPED_FIELDS.contains(f))
                        .collect();
                    let mut v = vec![over(
                        &text_fields,
                        &Matcher::Regexp {
                            re: re.clone(),
                            ci: false,
                        },
                    )];
                    for ipf in IP_TYPED_FIELDS {
                        if t.fields.iter().any(|p| glob_match(p, ipf)) {
                            v.push(json!({"term": {*ipf: format!("{}/{}", c.network, c.prefix)}}));
                        }
                    }
                    one_of(v)
                }
            }
        }
        Operator::IsSuperset(block) => {
            if t.kind != Kind::Ip {
                return Err(PatternError::unsupported(format!(
                    "{path} ISSUPERSET: only IP address paths take a CIDR block"
                )));
            }
            let c = cidr::parse(block)?;
            match c.matcher {
                CidrMatch::Exact(a) => eq_value(ctx, path, t, &a, as_observable)?,
                _ => {
                    return Err(PatternError::unsupported(format!(
                        "{path} ISSUPERSET '{block}': alerts hold single addresses, which are \
                         never a superset of a larger block"
                    )))
                }
            }
        }
        Operator::Exists => exists_any(&t.fields),
    })
}

/// `path = v`; `main`: see [`budget::searches_as_observable`] (the addresses of a larger
/// block keep the whole-value comparison: one clause per field each).
fn eq_value(
    ctx: &mut Ctx,
    path: &ObjectPath,
    t: &Target,
    v: &str,
    main: bool,
) -> Result<Value, PatternError> {
    let q = match (t.kind, t.main.filter(|_| main)) {
        (Kind::Ip, _)
            if ctx.opts.ignore_private_addrs
                && matches!(path.object_type.as_str(), "ipv4-addr" | "ipv6-addr")
                && v.parse::<std::net::IpAddr>().is_ok_and(is_private) =>
        {
            // As in the observable search: private addresses are not looked up. The rest of
            // the pattern still is; this comparison matches nothing.
            ctx.note(format!(
                "{path} = '{v}': private address not searched (WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS)"
            ));
            match_none()
        }
        (_, Some(kind)) => one_of(inner_clauses(ctx.opts, kind, v)),
        (Kind::Text | Kind::Ip, None) => over(&t.fields, &Matcher::Term(v.to_string())),
        (Kind::Number, None) => {
            let n: i64 = v.trim().parse().map_err(|_| {
                PatternError::invalid(format!("{path} = '{v}': an integer is needed"))
            })?;
            over(&t.fields, &Matcher::Term(n.to_string()))
        }
        (Kind::TextCi, None) => over(
            &t.fields,
            &Matcher::Regexp {
                re: regexp_literal(v),
                ci: true,
            },
        ),
        (Kind::Mac, None) => {
            // Case is folded by the regexp, so only the lower-case spellings are needed.
            let mut spellings: Vec<String> = mac_variants(v, ctx.opts.lookup_mac_variants)
                .into_iter()
                .map(|m| m.to_ascii_lowercase())
                .collect();
            spellings.dedup();
            let re = spellings
                .iter()
                .map(|m| regexp_literal(m))
                .collect::<Vec<_>>()
                .join("|");
            over(&t.fields, &Matcher::Regexp { re, ci: true })
        }
        (Kind::Path { ci, basename }, None) => {
            let mut re = path_regexp(v);
            if basename && !v.contains(['/', '\\']) {
                re = format!("(.*[/\\\\]+)?{re}");
            }
            over(&t.fields, &Matcher::Regexp { re, ci })
        }
        (Kind::RegKey { aliases }, None) => over(
            &t.fields,
            &Matcher::Regexp {
                re: regkey_regexp(v, aliases),
                ci: true,
            },
        ),
    };
    Ok(q)
}

/// `network-traffic:src_ref.type` / `dst_ref.type`: which kind of address the endpoint is.
/// Answered from the shape of the endpoint fields' values (dotted quad, colon, MAC).
fn ref_type(c: &Comparison, opts: &SearchOptions) -> Option<Result<Value, PatternError>> {
    use crate::vocabulary::{Match, ValueKind as V};
    let exact = |k: V| opts.vocabulary.fields(k, Match::Exact);
    let (ip_kind, mac_kind) = if matches!(c.path.steps.first(), Some(PathStep::Property(p)) if p == "src_ref")
    {
        (V::SrcIp, V::SrcMac)
    } else {
        (V::DstIp, V::DstMac)
    };
    let (ip_fields, mac_fields) = (exact(ip_kind), exact(mac_kind));
    let PathStep::Property(end) = c.path.steps.first()? else {
        return None;
    };
    if c.path.object_type != "network-traffic"
        || c.path.steps.len() != 2
        || c.path.steps[1] != PathStep::Property("type".into())
        || !matches!(end.as_str(), "src_ref" | "dst_ref")
    {
        return None;
    }
    let unsupported = || {
        Some(Err(PatternError::unsupported(format!(
            "{}: only = / != / IN with 'ipv4-addr', 'ipv6-addr' or 'mac-addr' can be checked",
            c.path
        ))))
    };
    let one = |ty: &Literal| -> Option<Value> {
        let Literal::Str(ty) = ty else { return None };
        Some(match ty.as_str() {
            "ipv4-addr" => over(
                &ip_fields,
                &Matcher::Regexp {
                    re: "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}".into(),
                    ci: false,
                },
            ),
            "ipv6-addr" => over(
                &ip_fields,
                &Matcher::Regexp {
                    re: ".*:.*".into(),
                    ci: false,
                },
            ),
            "mac-addr" => exists_any(&mac_fields),
            _ => return None,
        })
    };
    let (list, negate): (Vec<&Literal>, bool) = match &c.op {
        Operator::Eq(l) => (vec![l], c.negated),
        Operator::Ne(l) => (vec![l], !c.negated),
        Operator::In(v) => (v.iter().collect(), c.negated),
        _ => return unsupported(),
    };
    let mut qs = Vec::new();
    for l in list {
        match one(l) {
            Some(q) => qs.push(q),
            None => return unsupported(),
        }
    }
    let q = one_of(qs);
    Some(Ok(if negate {
        // The endpoint must be present and of another kind.
        let present = one_of(vec![exists_any(&ip_fields), exists_any(&mac_fields)]);
        json!({"bool": {"filter": [present], "must_not": [q]}})
    } else {
        q
    }))
}

fn comparison(ctx: &mut Ctx, c: &Comparison) -> Result<Value, PatternError> {
    if let Some(r) = ref_type(c, ctx.opts) {
        return r;
    }
    let t = target(&c.path, ctx.opts)?;
    // `a != v` and `a NOT op v`: the property is present and the test fails. Across several
    // fields this is "no field passes the test", which can only be narrower than STIX's
    // "some value fails the test".
    let (negate, c2) = match &c.op {
        Operator::Ne(l) => (
            !c.negated,
            Comparison {
                path: c.path.clone(),
                negated: false,
                op: Operator::Eq(l.clone()),
            },
        ),
        _ => (c.negated, c.clone()),
    };
    let pos = positive(ctx, &c2, &t)?;
    if !negate {
        // A value found only in the excluded field (the syslog host header, the agent's own
        // address) is not a sighting: the same test on that field must fail (as in the
        // observable search).
        return Ok(match t.exclude {
            Some(ex) if !matches!(c2.op, Operator::Exists) && pos != match_none() => {
                let only = Target {
                    fields: vec![ex],
                    kind: t.kind,
                    exclude: None,
                    main: None,
                };
                let excluded = positive(ctx, &c2, &only)?;
                if !matches!(c2.op, Operator::Eq(_) | Operator::In(_)) {
                    ctx.note(format!(
                        "{}: alerts whose {ex} also matches are left out ({ex} is the \
                         event's own host, not a sighting), even when another field matches",
                        c.path
                    ));
                }
                json!({"bool": {"must": [pos], "must_not": [excluded]}})
            }
            _ => pos,
        });
    }
    if matches!(c2.op, Operator::Exists) {
        return Ok(json!({"bool": {"must_not": [pos]}}));
    }
    if t.fields.len() > 1 {
        ctx.note(format!(
            "{}: a negated comparison requires that no searched field of the alert matches",
            c.path
        ));
    }
    Ok(json!({"bool": {"filter": [exists_any(&t.fields)], "must_not": [pos]}}))
}

fn comparison_expr(ctx: &mut Ctx, e: &ComparisonExpr) -> Result<Value, PatternError> {
    Ok(match e {
        ComparisonExpr::Test(c) => comparison(ctx, c)?,
        ComparisonExpr::And(v) => all_of(
            v.iter()
                .map(|x| comparison_expr(ctx, x))
                .collect::<Result<_, _>>()?,
        ),
        ComparisonExpr::Or(v) => one_of(
            v.iter()
                .map(|x| comparison_expr(ctx, x))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn observation(ctx: &mut Ctx, e: &ObservationExpr) -> Result<Value, PatternError> {
    Ok(match e {
        ObservationExpr::Observation(c) => comparison_expr(ctx, c)?,
        ObservationExpr::Or(v) => one_of(
            v.iter()
                .map(|x| observation(ctx, x))
                .collect::<Result<_, _>>()?,
        ),
        ObservationExpr::And(v) => {
            ctx.note(
                "observations joined by AND: the alerts matching any of them are returned; \
                 that every observation was seen is not checked"
                    .to_string(),
            );
            one_of(
                v.iter()
                    .map(|x| observation(ctx, x))
                    .collect::<Result<_, _>>()?,
            )
        }
        ObservationExpr::FollowedBy(v) => {
            ctx.note(
                "FOLLOWEDBY: the alerts matching any of the observations are returned; \
                 that all were seen, and in that order, is not checked"
                    .to_string(),
            );
            one_of(
                v.iter()
                    .map(|x| observation(ctx, x))
                    .collect::<Result<_, _>>()?,
            )
        }
        ObservationExpr::Qualified { expr, qualifier } => {
            let inner = observation(ctx, expr)?;
            match qualifier {
                Qualifier::StartStop { start, stop } => {
                    // STOP is exclusive. `@timestamp` is set from the alert's own `timestamp`
                    // by the Filebeat pipeline; alerts indexed another way may carry only
                    // `timestamp`, and both hold the same instant, so either may match.
                    let window = json!({"gte": start, "lt": stop});
                    json!({"bool": {
                        "must": [inner],
                        "filter": [one_of(vec![
                            json!({"range": {f::TIMESTAMP_FIELD: window.clone()}}),
                            json!({"range": {f::ALERT_TIME_FIELD: window}}),
                        ])]
                    }})
                }
                Qualifier::Within { seconds } => {
                    if !matches!(**expr, ObservationExpr::Observation(_)) {
                        ctx.note(format!(
                            "WITHIN {seconds} SECONDS: the time between the observations is not checked"
                        ));
                    }
                    inner
                }
                Qualifier::Repeats { times } => {
                    if *times > 1 {
                        ctx.note(format!(
                            "REPEATS {times} TIMES: matching alerts are returned even if fewer \
                             than {times} occurred"
                        ));
                    }
                    inner
                }
            }
        }
    })
}

/// Translates a parsed pattern into an OpenSearch query over Wazuh alert fields.
pub fn translate(ast: &Pattern, opts: &SearchOptions) -> Result<Translation, PatternError> {
    budget::check_pattern(&ast.expr, opts)?;
    let mut ctx = Ctx {
        opts,
        notes: Vec::new(),
    };
    let query = observation(&mut ctx, &ast.expr)?;
    budget::check_query(&query)?;
    let time_range = match &ast.expr {
        ObservationExpr::Qualified {
            qualifier: Qualifier::StartStop { start, stop },
            ..
        } => Some((start.clone(), stop.clone())),
        _ => None,
    };
    Ok(Translation {
        query,
        notes: ctx.notes,
        time_range,
    })
}

#[cfg(test)]
mod tests;
