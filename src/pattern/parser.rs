//! STIX 2.1 pattern text → [`ast::Pattern`](super::ast::Pattern), with pest (`stix.pest`).
//!
//! Input is bounded (length and nesting depth) before pest sees it, so that a hostile pattern
//! cannot exhaust the stack of the recursive-descent parser.

use pest::iterators::Pair;
use pest::Parser;

use super::ast::*;
use super::PatternError;

#[derive(pest_derive::Parser)]
#[grammar = "pattern/stix.pest"]
struct StixParser;

/// Longest pattern accepted (bytes). Real feed patterns are well under 10 KiB.
pub const MAX_PATTERN_LEN: usize = 64 * 1024;
/// Deepest nesting of brackets/parentheses accepted.
pub const MAX_DEPTH: usize = 64;
/// Most operands in one pattern (comparisons + set members), to bound the query size.
pub const MAX_TERMS: usize = 2048;

/// Parses a STIX 2.1 pattern.
///
/// ```
/// use connector_wazuh::pattern::parse;
/// let p = parse("[ipv4-addr:value = '198.51.100.1']").unwrap();
/// assert!(matches!(p.expr, connector_wazuh::pattern::ast::ObservationExpr::Observation(_)));
/// ```
pub fn parse(text: &str) -> Result<Pattern, PatternError> {
    if text.len() > MAX_PATTERN_LEN {
        return Err(PatternError::TooLarge(format!(
            "the pattern is {} bytes long, at most {MAX_PATTERN_LEN} are accepted",
            text.len()
        )));
    }
    check_depth(text)?;
    let mut pairs = StixParser::parse(Rule::pattern, text).map_err(|e| syntax_error(text, e))?;
    let top = pairs
        .next()
        .ok_or_else(|| PatternError::invalid("empty pattern"))?;
    let mut inner = top.into_inner();
    let expr_pair = inner
        .next()
        .ok_or_else(|| PatternError::invalid("empty pattern"))?;
    let mut terms = 0usize;
    let expr = build_obs(expr_pair, &mut terms, 0)?;
    Ok(Pattern { expr })
}

/// Rejects nesting deeper than [`MAX_DEPTH`] (brackets and parentheses outside string constants).
fn check_depth(text: &str) -> Result<(), PatternError> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '\'') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' => in_str = true,
            '(' | '[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    let (line, column, excerpt) = locate(text, i);
                    return Err(PatternError::Syntax {
                        line,
                        column,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                        excerpt,
                    });
                }
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Line, column (1-based, in characters) and a two-line excerpt with a caret under `offset`.
pub(crate) fn locate(text: &str, offset: usize) -> (usize, usize, String) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |p| offset + p);
    let column = text[line_start..offset].chars().count() + 1;
    // Keep the excerpt bounded: at most 60 characters each side of the caret.
    let line_text: Vec<char> = text[line_start..line_end].chars().collect();
    let from = (column - 1).saturating_sub(60);
    let to = (column - 1 + 60).min(line_text.len());
    let shown: String = line_text[from..to].iter().collect();
    let prefix = if from > 0 { "…" } else { "" };
    let caret_pad = " ".repeat(column - 1 - from + prefix.chars().count());
    (line, column, format!("{prefix}{shown}\n{caret_pad}^"))
}

fn rule_name(r: &Rule) -> String {
    match r {
        Rule::EOI => "end of pattern",
        Rule::rbracket => "']'",
        Rule::rparen => "')'",
        Rule::comma => "','",
        Rule::obs_followedby | Rule::obs_or | Rule::obs_and | Rule::obs_qualified => {
            "an observation expression"
        }
        Rule::obs_primary => "'[' or '('",
        Rule::qualifier => "a qualifier (WITHIN, START, REPEATS)",
        Rule::cmp_or | Rule::cmp_and | Rule::cmp_primary => "a comparison expression",
        Rule::prop_test | Rule::exists_test | Rule::object_path => "an object path",
        Rule::object_type => "an object type",
        Rule::first_step | Rule::ident => "a property name",
        Rule::step => "'.' or '['",
        Rule::not => "NOT",
        Rule::eq_op | Rule::order_op | Rule::str_op => "a comparison operator",
        Rule::eq_test | Rule::order_test | Rule::set_test | Rule::str_test => {
            "a comparison operator"
        }
        Rule::literal => "a constant",
        Rule::set_literal => "a parenthesised list of constants",
        Rule::string | Rule::string_inner => "a quoted string",
        Rule::timestamp | Rule::ts_inner => "a timestamp t'YYYY-MM-DDTHH:MM:SS[.s]Z'",
        Rule::hex | Rule::hex_inner => "hex digits in pairs",
        Rule::binary | Rule::binary_inner => "base64 text",
        Rule::int | Rule::int_pos => "an integer",
        Rule::float | Rule::float_pos => "a number",
        Rule::boolean => "true or false",
        Rule::kw_and => "AND",
        Rule::kw_or => "OR",
        Rule::kw_not => "NOT",
        Rule::kw_followedby => "FOLLOWEDBY",
        Rule::kw_like => "LIKE",
        Rule::kw_matches => "MATCHES",
        Rule::kw_issubset => "ISSUBSET",
        Rule::kw_issuperset => "ISSUPERSET",
        Rule::kw_exists => "EXISTS",
        Rule::kw_in => "IN",
        Rule::kw_within => "WITHIN",
        Rule::kw_seconds => "SECONDS",
        Rule::kw_start => "START",
        Rule::kw_stop => "STOP",
        Rule::kw_repeats => "REPEATS",
        Rule::kw_times => "TIMES",
        other => return format!("{other:?}"),
    }
    .to_string()
}

fn syntax_error(text: &str, e: pest::error::Error<Rule>) -> PatternError {
    let offset = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let message = match &e.variant {
        pest::error::ErrorVariant::ParsingError {
            positives,
            negatives,
        } => {
            let mut names: Vec<String> = positives.iter().map(rule_name).collect();
            names.sort();
            names.dedup();
            let mut m = if names.is_empty() {
                String::from("unexpected input")
            } else {
                format!("expected {}", names.join(" or "))
            };
            if !negatives.is_empty() {
                let mut neg: Vec<String> = negatives.iter().map(rule_name).collect();
                neg.sort();
                neg.dedup();
                m.push_str(&format!(" (unexpected {})", neg.join(", ")));
            }
            m
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let (line, column, excerpt) = locate(text, offset);
    PatternError::Syntax {
        line,
        column,
        message,
        excerpt,
    }
}

fn count(terms: &mut usize, n: usize) -> Result<(), PatternError> {
    *terms += n;
    if *terms > MAX_TERMS {
        return Err(PatternError::TooLarge(format!(
            "more than {MAX_TERMS} comparisons and constants in one pattern"
        )));
    }
    Ok(())
}

fn next<'a>(it: &mut pest::iterators::Pairs<'a, Rule>) -> Result<Pair<'a, Rule>, PatternError> {
    it.next()
        .ok_or_else(|| PatternError::invalid("internal parser error: incomplete parse tree"))
}

/// `depth`: the observation expressions around this one (parentheses and qualifiers). Each
/// qualifier nests the expression it qualifies one level deeper, so a chain of qualifiers
/// counts toward [`MAX_DEPTH`] like parentheses do: every later stage recurses over it.
fn build_obs(
    pair: Pair<Rule>,
    terms: &mut usize,
    depth: usize,
) -> Result<ObservationExpr, PatternError> {
    match pair.as_rule() {
        Rule::obs_followedby | Rule::obs_or | Rule::obs_and => {
            let rule = pair.as_rule();
            let mut items = Vec::new();
            for p in pair.into_inner() {
                if matches!(
                    p.as_rule(),
                    Rule::kw_followedby | Rule::kw_or | Rule::kw_and
                ) {
                    continue;
                }
                items.push(build_obs(p, terms, depth)?);
            }
            if items.len() == 1 {
                return next_only(items);
            }
            Ok(match rule {
                Rule::obs_followedby => ObservationExpr::FollowedBy(items),
                Rule::obs_or => ObservationExpr::Or(items),
                _ => ObservationExpr::And(items),
            })
        }
        Rule::obs_qualified => {
            let mut it = pair.into_inner();
            let inner = next(&mut it)?;
            let quals: Vec<Pair<Rule>> = it.collect();
            let depth = depth + quals.len();
            if depth > MAX_DEPTH {
                return Err(PatternError::TooLarge(format!(
                    "qualifiers (WITHIN, START … STOP, REPEATS) and parentheses nested \
                     deeper than {MAX_DEPTH} levels"
                )));
            }
            let mut expr = build_obs(inner, terms, depth)?;
            for q in quals {
                let qualifier = build_qualifier(q)?;
                expr = ObservationExpr::Qualified {
                    expr: Box::new(expr),
                    qualifier,
                };
            }
            Ok(expr)
        }
        Rule::obs_primary => {
            let inner = next(&mut pair.into_inner())?;
            match inner.as_rule() {
                Rule::cmp_or => Ok(ObservationExpr::Observation(build_cmp(inner, terms)?)),
                _ => build_obs(inner, terms, depth + 1),
            }
        }
        other => Err(PatternError::invalid(format!(
            "internal parser error: unexpected {other:?}"
        ))),
    }
}

fn next_only<T>(mut items: Vec<T>) -> Result<T, PatternError> {
    items
        .pop()
        .ok_or_else(|| PatternError::invalid("internal parser error: empty expression"))
}

fn build_qualifier(pair: Pair<Rule>) -> Result<Qualifier, PatternError> {
    let q = next(&mut pair.into_inner())?;
    let rule = q.as_rule();
    let mut it = q.into_inner().filter(|p| {
        !matches!(
            p.as_rule(),
            Rule::kw_within
                | Rule::kw_seconds
                | Rule::kw_start
                | Rule::kw_stop
                | Rule::kw_repeats
                | Rule::kw_times
        )
    });
    match rule {
        Rule::within => {
            let n = it
                .next()
                .ok_or_else(|| PatternError::invalid("WITHIN without a number"))?;
            let seconds: f64 = n
                .as_str()
                .parse()
                .map_err(|_| PatternError::invalid(format!("bad WITHIN value {}", n.as_str())))?;
            if !(seconds > 0.0 && seconds.is_finite()) {
                return Err(PatternError::invalid(
                    "WITHIN needs a positive number of seconds",
                ));
            }
            Ok(Qualifier::Within { seconds })
        }
        Rule::start_stop => {
            let a = it
                .next()
                .ok_or_else(|| PatternError::invalid("START without a timestamp"))?;
            let b = it
                .next()
                .ok_or_else(|| PatternError::invalid("STOP without a timestamp"))?;
            let start = timestamp_text(a)?;
            let stop = timestamp_text(b)?;
            let (s, e) = (check_timestamp(&start)?, check_timestamp(&stop)?);
            if e <= s {
                return Err(PatternError::invalid(format!(
                    "STOP {stop} is not after START {start}"
                )));
            }
            Ok(Qualifier::StartStop { start, stop })
        }
        Rule::repeats => {
            let n = it
                .next()
                .ok_or_else(|| PatternError::invalid("REPEATS without a number"))?;
            let times: u64 = n
                .as_str()
                .parse()
                .map_err(|_| PatternError::invalid(format!("bad REPEATS count {}", n.as_str())))?;
            if times == 0 {
                return Err(PatternError::invalid("REPEATS needs a positive count"));
            }
            Ok(Qualifier::Repeats { times })
        }
        other => Err(PatternError::invalid(format!(
            "internal parser error: unexpected qualifier {other:?}"
        ))),
    }
}

fn timestamp_text(pair: Pair<Rule>) -> Result<String, PatternError> {
    Ok(next(&mut pair.into_inner())?.as_str().to_string())
}

/// Validates a STIX timestamp (calendar-valid, UTC).
fn check_timestamp(t: &str) -> Result<chrono::DateTime<chrono::Utc>, PatternError> {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&chrono::Utc))
        .map_err(|e| PatternError::invalid(format!("bad timestamp t'{t}': {e}")))
}

fn build_cmp(pair: Pair<Rule>, terms: &mut usize) -> Result<ComparisonExpr, PatternError> {
    match pair.as_rule() {
        Rule::cmp_or | Rule::cmp_and => {
            let rule = pair.as_rule();
            let mut items = Vec::new();
            for p in pair.into_inner() {
                if matches!(p.as_rule(), Rule::kw_or | Rule::kw_and) {
                    continue;
                }
                items.push(build_cmp(p, terms)?);
            }
            if items.len() == 1 {
                return next_only(items);
            }
            Ok(if rule == Rule::cmp_or {
                ComparisonExpr::Or(items)
            } else {
                ComparisonExpr::And(items)
            })
        }
        Rule::cmp_primary => build_cmp(next(&mut pair.into_inner())?, terms),
        Rule::exists_test => {
            count(terms, 1)?;
            let mut it = pair.into_inner().filter(|p| p.as_rule() != Rule::kw_exists);
            let path = it
                .next()
                .ok_or_else(|| PatternError::invalid("EXISTS without an object path"))?;
            Ok(ComparisonExpr::Test(Comparison {
                path: build_path(path)?,
                negated: false,
                op: Operator::Exists,
            }))
        }
        Rule::prop_test => {
            count(terms, 1)?;
            let mut it = pair.into_inner();
            let path = build_path(next(&mut it)?)?;
            let mut test = next(&mut it)?;
            let mut negated = false;
            if test.as_rule() == Rule::not {
                negated = true;
                test = next(&mut it)?;
            }
            let op = build_op(test, terms)?;
            Ok(ComparisonExpr::Test(Comparison { path, negated, op }))
        }
        other => Err(PatternError::invalid(format!(
            "internal parser error: unexpected {other:?}"
        ))),
    }
}

fn build_op(pair: Pair<Rule>, terms: &mut usize) -> Result<Operator, PatternError> {
    let rule = pair.as_rule();
    let mut it = pair.into_inner();
    match rule {
        Rule::eq_test | Rule::order_test => {
            let op = next(&mut it)?.as_str().to_string();
            let lit = build_literal(next(&mut it)?)?;
            if rule == Rule::order_test && matches!(lit, Literal::Bool(_)) {
                return Err(PatternError::invalid(format!(
                    "operator {op} cannot compare a boolean"
                )));
            }
            Ok(match op.as_str() {
                "=" => Operator::Eq(lit),
                "!=" => Operator::Ne(lit),
                "<" => Operator::Lt(lit),
                "<=" => Operator::Le(lit),
                ">" => Operator::Gt(lit),
                _ => Operator::Ge(lit),
            })
        }
        Rule::set_test => {
            let set = it
                .find(|p| p.as_rule() == Rule::set_literal)
                .ok_or_else(|| PatternError::invalid("IN without a list"))?;
            let mut values = Vec::new();
            for l in set.into_inner().filter(|p| p.as_rule() == Rule::literal) {
                count(terms, 1)?;
                values.push(build_literal(l)?);
            }
            Ok(Operator::In(values))
        }
        Rule::str_test => {
            let op = next(&mut next(&mut it)?.into_inner())?.as_rule();
            let s = unescape(next(&mut next(&mut it)?.into_inner())?.as_str());
            Ok(match op {
                Rule::kw_like => Operator::Like(s),
                Rule::kw_matches => Operator::Matches(s),
                Rule::kw_issubset => Operator::IsSubset(s),
                _ => Operator::IsSuperset(s),
            })
        }
        other => Err(PatternError::invalid(format!(
            "internal parser error: unexpected operator {other:?}"
        ))),
    }
}

/// Resolves `\'` and `\\` (the only escapes STIX strings have).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn build_literal(pair: Pair<Rule>) -> Result<Literal, PatternError> {
    let inner = if pair.as_rule() == Rule::literal {
        next(&mut pair.into_inner())?
    } else {
        pair
    };
    let text = inner.as_str();
    Ok(match inner.as_rule() {
        Rule::string => Literal::Str(unescape(next(&mut inner.into_inner())?.as_str())),
        Rule::boolean => Literal::Bool(text == "true"),
        Rule::int => Literal::Int(
            text.parse()
                .map_err(|_| PatternError::invalid(format!("integer out of range: {text}")))?,
        ),
        Rule::float => Literal::Float(
            text.parse()
                .map_err(|_| PatternError::invalid(format!("bad number: {text}")))?,
        ),
        Rule::timestamp => {
            let t = timestamp_text(inner)?;
            check_timestamp(&t)?;
            Literal::Timestamp(t)
        }
        Rule::hex => {
            let h = next(&mut inner.into_inner())?.as_str();
            Literal::Hex(
                hex::decode(h)
                    .map_err(|e| PatternError::invalid(format!("bad hex h'{h}': {e}")))?,
            )
        }
        Rule::binary => Literal::Binary(next(&mut inner.into_inner())?.as_str().to_string()),
        other => {
            return Err(PatternError::invalid(format!(
                "internal parser error: unexpected constant {other:?}"
            )))
        }
    })
}

fn build_path(pair: Pair<Rule>) -> Result<ObjectPath, PatternError> {
    let mut it = pair.into_inner();
    let object_type = next(&mut it)?.as_str().to_string();
    let mut steps = Vec::new();
    let first = next(&mut next(&mut it)?.into_inner())?;
    steps.push(PathStep::Property(prop_name(first)?));
    for step in it {
        let s = next(&mut step.into_inner())?;
        steps.push(match s.as_rule() {
            Rule::any_index => PathStep::AnyIndex,
            Rule::int => PathStep::Index(s.as_str().parse().map_err(|_| {
                PatternError::invalid(format!("list index out of range: {}", s.as_str()))
            })?),
            _ => PathStep::Property(prop_name(s)?),
        });
    }
    Ok(ObjectPath { object_type, steps })
}

fn prop_name(p: Pair<Rule>) -> Result<String, PatternError> {
    Ok(match p.as_rule() {
        Rule::string => unescape(next(&mut p.into_inner())?.as_str()),
        _ => p.as_str().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(p: &str) -> ObservationExpr {
        parse(p).unwrap_or_else(|e| panic!("{p}: {e}")).expr
    }

    fn test_of(e: &ObservationExpr) -> &Comparison {
        match e {
            ObservationExpr::Observation(ComparisonExpr::Test(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn observation_precedence_followedby_or_and() {
        let e = obs("[a:x = 1] FOLLOWEDBY [b:x = 2] OR [c:x = 3] AND [d:x = 4]");
        let ObservationExpr::FollowedBy(v) = e else {
            panic!()
        };
        assert_eq!(v.len(), 2);
        let ObservationExpr::Or(o) = &v[1] else {
            panic!("{:?}", v[1])
        };
        assert!(matches!(o[1], ObservationExpr::And(ref a) if a.len() == 2));
        // Parentheses override.
        let e = obs("([a:x = 1] OR [b:x = 2]) AND [c:x = 3]");
        assert!(matches!(e, ObservationExpr::And(ref a) if matches!(a[0], ObservationExpr::Or(_))));
    }

    #[test]
    fn comparison_precedence_and_chains_are_flat() {
        let e = obs("[a:x = 1 OR a:y = 2 AND a:z = 3 OR a:w = 4]");
        let ObservationExpr::Observation(ComparisonExpr::Or(v)) = e else {
            panic!()
        };
        assert_eq!(v.len(), 3);
        assert!(matches!(v[1], ComparisonExpr::And(ref a) if a.len() == 2));
        let e = obs("[(a:x = 1 OR a:y = 2) AND a:z = 3]");
        assert!(matches!(
            e,
            ObservationExpr::Observation(ComparisonExpr::And(ref a)) if matches!(a[0], ComparisonExpr::Or(_))
        ));
    }

    #[test]
    fn qualifiers_nest_innermost_first() {
        let e = obs("[a:x = 1] REPEATS 5 TIMES WITHIN 1.5 SECONDS");
        let ObservationExpr::Qualified { expr, qualifier } = e else {
            panic!()
        };
        assert_eq!(qualifier, Qualifier::Within { seconds: 1.5 });
        assert!(matches!(
            *expr,
            ObservationExpr::Qualified {
                qualifier: Qualifier::Repeats { times: 5 },
                ..
            }
        ));
        let e = obs("[a:x = 1] START t'2024-01-01T00:00:00Z' STOP t'2024-01-02T00:00:00.5Z'");
        assert!(matches!(
            e,
            ObservationExpr::Qualified { qualifier: Qualifier::StartStop { ref start, ref stop }, .. }
                if start == "2024-01-01T00:00:00Z" && stop == "2024-01-02T00:00:00.5Z"
        ));
    }

    #[test]
    fn object_paths() {
        let e = obs("[file:extensions.'windows-pebinary-ext'.sections[-1].entropy > 7.5]");
        let c = test_of(&e);
        assert_eq!(c.path.object_type, "file");
        assert_eq!(
            c.path.steps,
            vec![
                PathStep::Property("extensions".into()),
                PathStep::Property("windows-pebinary-ext".into()),
                PathStep::Property("sections".into()),
                PathStep::Index(-1),
                PathStep::Property("entropy".into()),
            ]
        );
        assert_eq!(c.op, Operator::Gt(Literal::Float(7.5)));
        let e = obs("[windows-registry-key:values[*].name = 'Run']");
        assert_eq!(
            test_of(&e).path.to_string(),
            "windows-registry-key:values[*].name"
        );
        let e = obs("[x-acme-thing:'first prop'.y = 1]");
        assert_eq!(
            test_of(&e).path.steps[0],
            PathStep::Property("first prop".into())
        );
    }

    #[test]
    fn literals_and_escapes() {
        let cases: &[(&str, Literal)] = &[
            (r"'it\'s a \\ path'", Literal::Str(r"it's a \ path".into())),
            ("''", Literal::Str(String::new())),
            ("-42", Literal::Int(-42)),
            ("+7", Literal::Int(7)),
            ("-0.25", Literal::Float(-0.25)),
            ("true", Literal::Bool(true)),
            ("false", Literal::Bool(false)),
            (
                "t'2024-02-29T23:59:59.123456Z'",
                Literal::Timestamp("2024-02-29T23:59:59.123456Z".into()),
            ),
            ("h'00ff10'", Literal::Hex(vec![0, 255, 16])),
            ("b'ZXZpbA=='", Literal::Binary("ZXZpbA==".into())),
        ];
        for (text, want) in cases {
            let e = obs(&format!("[a:b = {text}]"));
            assert_eq!(test_of(&e).op, Operator::Eq(want.clone()), "{text}");
        }
        let e = obs("[a:b IN ('x', 2, true)]");
        assert_eq!(
            test_of(&e).op,
            Operator::In(vec![
                Literal::Str("x".into()),
                Literal::Int(2),
                Literal::Bool(true)
            ])
        );
        let e = obs(r"[a:b NOT MATCHES '^\\d+$']");
        assert!(test_of(&e).negated);
        assert_eq!(test_of(&e).op, Operator::Matches(r"^\d+$".into()));
        for op in ["!=", "<", "<=", ">", ">="] {
            let e = obs(&format!("[a:b {op} 3]"));
            assert_eq!(test_of(&e).op.keyword(), op);
        }
        for op in ["LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"] {
            let e = obs(&format!("[a:b {op} 'v']"));
            assert_eq!(test_of(&e).op.keyword(), op);
        }
        assert_eq!(test_of(&obs("[EXISTS a:b]")).op, Operator::Exists);
    }

    #[test]
    fn keywords_are_case_sensitive_and_whole_words() {
        assert!(parse("[a:b = 1] or [a:b = 2]").is_err());
        assert!(parse("[a:b = 1 ANDa:c = 2]").is_err());
        // An identifier that starts with a keyword is still an identifier.
        assert!(parse("[ORACLE:x = 1 AND INDEX:y IN (1)]").is_ok());
    }

    #[test]
    fn semantic_errors() {
        for (p, needle) in [
            ("[a:b > true]", "boolean"),
            ("[a:b = h'abc']", "constant"),
            ("[a:b = t'2024-13-01T00:00:00Z']", "timestamp"),
            ("[a:b = 1] WITHIN 0 SECONDS", "positive"),
            ("[a:b[99999999999999999999] = 1]", "index"),
        ] {
            let e = parse(p).unwrap_err();
            assert!(e.to_string().contains(needle), "{p}: {e}");
        }
    }

    #[test]
    fn bounded_input() {
        let long = format!("[a:b = '{}']", "x".repeat(MAX_PATTERN_LEN));
        assert!(matches!(parse(&long), Err(PatternError::TooLarge(_))));
        let deep = format!("{}[a:b = 1]{}", "(".repeat(200), ")".repeat(200));
        match parse(&deep) {
            Err(PatternError::Syntax {
                column, message, ..
            }) => {
                assert_eq!(column, MAX_DEPTH + 1);
                assert!(message.contains("nesting"));
            }
            other => panic!("{other:?}"),
        }
        // Qualifiers nest like parentheses.
        let chain = format!("[a:b = 1]{}", " REPEATS 2 TIMES".repeat(MAX_DEPTH + 1));
        match parse(&chain) {
            Err(PatternError::TooLarge(m)) => assert!(m.contains("qualifiers"), "{m}"),
            other => panic!("{other:?}"),
        }
        let nested = format!(
            "{}[a:b = 1] WITHIN 1 SECONDS{}",
            "(".repeat(MAX_DEPTH - 1),
            ") WITHIN 1 SECONDS".repeat(MAX_DEPTH - 1)
        );
        assert!(matches!(parse(&nested), Err(PatternError::TooLarge(_))));
        assert!(parse(&format!(
            "[a:b = 1]{}",
            " REPEATS 2 TIMES".repeat(MAX_DEPTH)
        ))
        .is_ok());
        // Brackets inside strings do not count.
        assert!(parse(&format!("[a:b = '{}']", "(".repeat(200))).is_ok());
        let many = format!(
            "[a:b IN ({})]",
            (0..MAX_TERMS + 1)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(matches!(parse(&many), Err(PatternError::TooLarge(_))));
    }

    #[test]
    fn error_excerpt_is_bounded_and_points_at_the_column() {
        let p = format!("[a:b = '{}' ==]", "y".repeat(500));
        let Err(PatternError::Syntax {
            line,
            column,
            excerpt,
            ..
        }) = parse(&p)
        else {
            panic!()
        };
        assert_eq!((line, column), (1, 511));
        let mut lines = excerpt.lines();
        let text = lines.next().unwrap();
        let caret = lines.next().unwrap();
        assert!(text.chars().count() <= 121);
        let caret_col = caret.chars().count() - 1;
        assert_eq!(text.chars().nth(caret_col), Some('='));
    }
}
