//! The one pattern shape OpenCTI writes for almost every indicator it makes from an observable,
//! `[type:path = 'value']`, read without the grammar: continuous hunting reads up to hundreds of
//! thousands of patterns per plan, and the full parser spends most of that time on this shape.
//! Anything else (other spacing, escapes, operators, several comparisons) is left to
//! [`super::parse`]; where this reads a pattern, it gives exactly the tree `parse` gives (tested
//! against it).

use super::ast::{
    Comparison, ComparisonExpr, Literal, ObjectPath, ObservationExpr, Operator, PathStep, Pattern,
};

/// `[type:path = 'value']` in its canonical spelling, as [`super::parse`] reads it; `None` for
/// any other text.
pub fn parse_simple(text: &str) -> Option<Pattern> {
    if text.len() > super::MAX_PATTERN_LEN {
        return None;
    }
    let inner = text.strip_prefix('[')?.strip_suffix("']")?;
    let (path, value) = inner.split_once(" = '")?;
    if value.contains(['\'', '\\']) {
        return None;
    }
    let (object_type, props) = path.split_once(':')?;
    let type_ok = !object_type.is_empty()
        && object_type
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && object_type.as_bytes()[0].is_ascii_lowercase();
    if !type_ok {
        return None;
    }
    let mut steps = Vec::new();
    let mut rest = props;
    loop {
        let (step, after) = if let Some(q) = rest.strip_prefix('\'') {
            // A quoted property (`'SHA-256'`): plain characters only.
            let end = q.find('\'')?;
            let name = &q[..end];
            let plain = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !plain || steps.is_empty() {
                return None;
            }
            (name, &q[end + 1..])
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            let name = &rest[..end];
            let plain = !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit();
            if !plain {
                return None;
            }
            (name, &rest[end..])
        };
        steps.push(PathStep::Property(step.to_string()));
        if after.is_empty() {
            break;
        }
        rest = after.strip_prefix('.')?;
    }
    Some(Pattern {
        expr: ObservationExpr::Observation(ComparisonExpr::Test(Comparison {
            path: ObjectPath {
                object_type: object_type.to_string(),
                steps,
            },
            negated: false,
            op: Operator::Eq(Literal::Str(value.to_string())),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same_as_parser(text: &str) {
        if let Some(p) = parse_simple(text) {
            assert_eq!(Some(p), super::super::parse(text).ok(), "{text}");
        }
    }

    #[test]
    fn the_canonical_shapes_read_as_the_parser_reads_them() {
        for t in [
            "[ipv4-addr:value = '45.83.64.77']",
            "[domain-name:value = 'Evil.Example.COM']",
            "[file:hashes.'SHA-256' = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08']",
            "[file:hashes.MD5 = '098f6bcd4621d373cade4e832627b4f6']",
            "[url:value = 'https://x.example/a?b=c d']",
            "[network-traffic:src_ref.value = '1.2.3.4']",
            "[email-addr:value = 'a@b.c']",
            "[windows-registry-key:key = 'HKLM/x']",
        ] {
            assert!(parse_simple(t).is_some(), "{t}");
            same_as_parser(t);
        }
    }

    #[test]
    fn anything_else_is_left_to_the_parser() {
        for t in [
            "[ipv4-addr:value = '1.2.3.4'] AND [ipv4-addr:value = '1.2.3.5']",
            "[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '1.2.3.5']",
            "[ipv4-addr:value='1.2.3.4']",
            "[ipv4-addr:value = 'a\\'b']",
            "[ipv4-addr:value != '1.2.3.4']",
            "[file:hashes.'SHA 256' = 'x']",
            "[File:name = 'x']",
            "[file:name = 'x'] WITHIN 5 SECONDS",
            "[x:'q' = 'v']",
            "",
        ] {
            assert!(parse_simple(t).is_none(), "{t}");
        }
    }

    proptest! {
        #[test]
        fn never_differs_from_the_parser(
            ty in "[a-z][a-z0-9-]{0,12}",
            props in proptest::collection::vec("[a-zA-Z_][a-zA-Z0-9_]{0,8}|'[A-Za-z0-9_-]{1,8}'", 1..4),
            value in "[^'\\\\]{0,40}",
        ) {
            let text = format!("[{ty}:{} = '{value}']", props.join("."));
            same_as_parser(&text);
        }
    }
}
