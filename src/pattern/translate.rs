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
    let eq = |ctx: &mut Ctx, l: &Literal| -> Result<Value, PatternError> {
        let v = literal_text(path, l)?;
        eq_value(ctx, path, t, &v, true)
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
                CidrMatch::Exact(a) => eq_value(ctx, path, t, &a, false)?,
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
                CidrMatch::Exact(a) => eq_value(ctx, path, t, &a, false)?,
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

/// `path = v`; `main`: an `=` or `IN`, where a main value gets the observable search's clauses
/// (a CIDR block's addresses keep the whole-value comparison: one clause per field each).
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
mod tests {
    use super::*;
    use crate::pattern::{parse, query_for_pattern, unsupported_type_message};

    fn q(p: &str) -> Translation {
        query_for_pattern(p, &SearchOptions::default()).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    fn err(p: &str) -> PatternError {
        query_for_pattern(p, &SearchOptions::default()).unwrap_err()
    }

    #[test]
    fn ip_equality_is_the_observable_search_and_excludes_the_agent_address() {
        let t = q("[ipv4-addr:value = '93.184.216.34']");
        let opts = SearchOptions::default();
        let ip = "93.184.216.34".parse().unwrap();
        let same = one_of(crate::search::lookup::ip_clauses(
            &opts.vocabulary,
            crate::vocabulary::ValueKind::Ip,
            ip,
            "93.184.216.34",
        ));
        assert_eq!(
            t.query,
            json!({"bool": {"must": [same.clone()], "must_not": [
                {"multi_match": {"query": "93.184.216.34", "fields": ["agent.ip"], "lenient": true}}
            ]}})
        );
        assert!(t.notes.is_empty() && t.time_range.is_none());
        let opts = SearchOptions {
            lookup_agent_ip: true,
            ..SearchOptions::default()
        };
        let t = query_for_pattern("[ipv4-addr:value = '93.184.216.34']", &opts).unwrap();
        assert_eq!(t.query, same);
        // Not an address: the whole-value fields, skipping those typed `ip`.
        let t = query_for_pattern("[ipv4-addr:value = 'x']", &opts).unwrap();
        assert_eq!(t.query["multi_match"]["lenient"], true);
    }

    #[test]
    fn and_or_inside_an_observation() {
        let t = q("[email-addr:value = 'a@x' AND (user-account:user_id = '0' OR user-account:user_id = '1')]");
        let must = &t.query["bool"]["must"];
        assert_eq!(must.as_array().unwrap().len(), 2);
        assert_eq!(must[1]["bool"]["minimum_should_match"], 1);
        assert_eq!(must[1]["bool"]["should"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn like_is_escaped_for_wildcard_and_regexp() {
        let t = q(r"[email-addr:value LIKE 'a*b?c\\d%e_']");
        let should = t.query["bool"]["should"].as_array().unwrap();
        // Concrete field: wildcard with * ? \ escaped, % → *, _ → ?.
        assert_eq!(
            should[0],
            json!({"wildcard": {"data.office365.UserId": {"value": r"a\*b\?c\\d*e?", "case_insensitive": false}}})
        );
        // Field patterns: a query_string regexp with Lucene operators escaped.
        assert_eq!(
            should.last().unwrap(),
            &json!({"query_string": {"query": r"/a\*b\?c\\d.*e./", "fields": ["*Email", "*email"], "lenient": true}})
        );
    }

    #[test]
    fn slashes_are_escaped_in_query_string_regexps() {
        let t = q("[url:value LIKE 'http://%/x.php']");
        let text = t.query.to_string();
        assert!(text.contains(r#"/http:\\/\\/.*\\/x\\.php/"#), "{text}");
    }

    #[test]
    fn matches_translates_pcre_and_folds_case_on_field_patterns() {
        let t = q("[domain-name:value MATCHES '(?i)^evil\\\\.com$']");
        let text = t.query.to_string();
        assert!(text.contains(r"[eE][vV][iI][lL]\\.[cC][oO][mM]"), "{text}");
        // Concrete fields use the native flag instead.
        assert!(
            text.contains(r#""case_insensitive":true,"value":"evil\\.com""#),
            "{text}"
        );
        assert!(
            !t.notes.iter().any(|n| n.contains("line breaks")),
            "{:?}",
            t.notes
        );
        let t = q("[process:command_line MATCHES 'a.b']");
        assert!(t.notes[0].contains("line breaks"));
        assert!(matches!(
            err("[process:command_line MATCHES '(?=x)']"),
            PatternError::Unsupported(m) if m.contains("lookahead")
        ));
    }

    #[test]
    fn paths_tolerate_doubled_backslashes_and_hive_aliases() {
        assert_eq!(path_regexp(r"C:\Temp\\x.exe"), r"C:\\+Temp\\+x\.exe");
        assert_eq!(
            regkey_regexp(r"hklm\Software\Run", true),
            r"(HKEY_LOCAL_MACHINE|HKLM)\\+Software\\+Run"
        );
        assert_eq!(regkey_regexp(r"HKLMX\Software", true), r"HKLMX\\+Software");
        assert_eq!(regkey_regexp(r"HKLM\Software", false), r"HKLM\\+Software");
        let t = q(r"[windows-registry-key:key LIKE 'hkcu\\Software\\%']");
        assert!(
            t.query
                .to_string()
                .contains(r#""(HKEY_CURRENT_USER|HKCU)\\\\+Software\\\\+.*""#),
            "{}",
            t.query
        );
        let t = q(r"[file:name = 'evil.exe']");
        assert!(
            t.query.to_string().contains(r#""(.*[/\\\\]+)?evil\\.exe""#),
            "{}",
            t.query
        );
    }

    #[test]
    fn cidr_blocks() {
        let t = q("[ipv4-addr:value ISSUBSET '10.1.0.0/16']");
        let text = t.query.to_string();
        assert!(text.contains(r"10\\.1\\.(25[0-5]"), "{text}");
        // ip-typed template fields get a native CIDR term.
        assert!(
            text.contains(r#"{"term":{"data.port.remote_ip":"10.1.0.0/16"}}"#),
            "{text}"
        );
        // Excluding the agent's own address narrows: noted.
        assert!(t.notes[0].contains("agent.ip"), "{:?}", t.notes);
        assert_eq!(
            q("[ipv4-addr:value ISSUBSET '10.1.2.3/32']").query,
            q("[ipv4-addr:value = '10.1.2.3']").query
        );
        assert_eq!(
            q("[ipv4-addr:value ISSUPERSET '10.1.2.3/32']").query,
            q("[ipv4-addr:value = '10.1.2.3']").query
        );
        assert!(matches!(
            err("[ipv4-addr:value ISSUPERSET '10.0.0.0/8']"),
            PatternError::Unsupported(_)
        ));
        assert!(matches!(
            err("[domain-name:value ISSUBSET '10.0.0.0/8']"),
            PatternError::Unsupported(_)
        ));
        assert!(matches!(
            err("[ipv4-addr:value ISSUBSET '10.0.0.1/8']"),
            PatternError::Invalid(_)
        ));
    }

    #[test]
    fn port_ranges() {
        let t = q("[network-traffic:dst_port > 1023]");
        let text = t.query.to_string();
        assert!(
            text.contains(r#"{"range":{"data.dest_port":{"gt":1023}}}"#),
            "{text}"
        );
        assert!(text.contains("/<1024-2147483647>/"), "{text}");
        assert!(matches!(
            err("[network-traffic:dst_port > 'a']"),
            PatternError::Invalid(_)
        ));
        assert!(matches!(
            err("[url:value > 'a']"),
            PatternError::Unsupported(_)
        ));
        assert!(matches!(
            err("[network-traffic:dst_port = 'http']"),
            PatternError::Invalid(_)
        ));
    }

    #[test]
    fn negation_requires_presence() {
        let t = q("[user-account:account_login != 'root']");
        assert_eq!(
            t.query["bool"]["filter"][0]["bool"]["should"][0],
            json!({"exists": {"field": "*.LoggedUser"}})
        );
        assert_eq!(
            t.query["bool"]["must_not"][0]["multi_match"]["query"],
            "root"
        );
        assert_eq!(
            t.query,
            q("[user-account:account_login NOT = 'root']").query
        );
        // NOT != is =.
        assert_eq!(
            q("[user-account:account_login NOT != 'root']").query,
            q("[user-account:account_login = 'root']").query
        );
    }

    #[test]
    fn unsupported_paths_are_named() {
        for (p, needle) in [
            ("[process:pid = 4]", "process:pid"),
            ("[file:hashes.'SHA-512' = 'ab']", "SHA-512"),
            ("[x-custom:value = 'a']", "x-custom:value"),
            (
                "[network-traffic:dst_ref.type = 'domain-name']",
                "dst_ref.type",
            ),
        ] {
            match err(p) {
                PatternError::Unsupported(m) => assert!(m.contains(needle), "{p}: {m}"),
                other => panic!("{p}: {other:?}"),
            }
        }
        assert!(matches!(
            err("[ipv4-addr:value IN ()]"),
            PatternError::Invalid(_)
        ));
    }

    #[test]
    fn time_range_only_for_the_whole_pattern() {
        let t = q("[ipv4-addr:value = '1.2.3.4'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'");
        assert_eq!(
            t.time_range,
            Some(("2024-01-01T00:00:00Z".into(), "2024-02-01T00:00:00Z".into()))
        );
        assert!(t.query.to_string().contains(
            r#"{"range":{"@timestamp":{"gte":"2024-01-01T00:00:00Z","lt":"2024-02-01T00:00:00Z"}}}"#
        ));
        let t = q("([ipv4-addr:value = '1.2.3.4'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z') OR [ipv4-addr:value = '5.6.7.8']");
        assert_eq!(t.time_range, None);
    }

    #[test]
    fn notes_are_deduplicated_and_single_observations_need_none() {
        let t = q("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.6']");
        assert_eq!(t.notes.len(), 1);
        assert!(t.notes[0].contains("FOLLOWEDBY"));
        assert!(q("[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS")
            .notes
            .is_empty());
        assert!(q("[ipv4-addr:value = '1.2.3.4'] REPEATS 1 TIMES")
            .notes
            .is_empty());
        assert_eq!(
            q("[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES")
                .notes
                .len(),
            1
        );
    }

    #[test]
    fn mac_addresses_match_every_spelling() {
        let t = q("[mac-addr:value = '00:0C:29:AB:CD:EF']");
        let text = t.query.to_string();
        for spelling in [
            "00:0c:29:ab:cd:ef",
            "000C29ABCDEF",
            "000c.29ab.cdef",
            "00-0c-29-ab-cd-ef",
        ] {
            assert!(text.contains(spelling), "{spelling}: {text}");
        }
        let opts = SearchOptions {
            lookup_mac_variants: false,
            ..SearchOptions::default()
        };
        let t = query_for_pattern("[mac-addr:value = '00:0C:29:AB:CD:EF']", &opts).unwrap();
        let text = t.query.to_string();
        assert!(text.contains("00:0c:29:ab:cd:ef") && !text.contains("000c29abcdef"));
    }

    #[test]
    fn private_addresses_follow_the_search_option() {
        let t = q("[ipv4-addr:value = '10.1.2.3' OR ipv4-addr:value = '93.184.216.34']");
        assert_eq!(t.query["bool"]["should"][0], match_none());
        assert!(t.notes[0].contains("WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS"));
        // Endpoints of network traffic are usually private: always searched.
        assert!(q("[network-traffic:src_ref.value = '10.1.2.3']")
            .notes
            .is_empty());
        let opts = SearchOptions {
            ignore_private_addrs: false,
            ..SearchOptions::default()
        };
        let t = query_for_pattern("[ipv4-addr:value = '10.1.2.3']", &opts).unwrap();
        assert!(t.notes.is_empty());
        assert!(t.query.to_string().contains("10.1.2.3"));
    }

    #[test]
    fn other_pattern_types_get_a_clear_message() {
        let m = unsupported_type_message("sigma");
        assert!(m.contains("'sigma'") && m.contains("not supported"));
        assert!(unsupported_type_message(&"y".repeat(1000)).len() < 400);
        // parse + translate is what query_for_pattern does.
        let p = parse("[mac-addr:value = '00:0C:29:AB:CD:EF']").unwrap();
        assert_eq!(
            translate(&p, &SearchOptions::default()).unwrap(),
            q("[mac-addr:value = '00:0C:29:AB:CD:EF']")
        );
    }
}
