//! The values an indicator is made of, when its pattern says nothing more than "one of these
//! values was seen": the continuous hunt ([`crate::hunt`]) looks such values up in batches
//! instead of translating each pattern into its own query.

use std::collections::HashMap;
use std::net::IpAddr;

use super::ast::{ComparisonExpr, Literal, ObjectPath, ObservationExpr, Operator, Pattern};
use super::target::target;
use crate::config::options::SearchOptions;
use crate::vocabulary::ValueKind;

/// The `(kind, value)` pairs of an atomic pattern, in pattern order, or `None` when the pattern
/// is not atomic.
///
/// Atomic: one observation, or an `OR` of observations, whose comparison is an `OR` of
/// `path = 'text'` or `path IN ('text', …)` on a path holding an observable's main value (an
/// address, a domain, a hash…). No `AND`, negation, qualifier or other operator: those need
/// the pattern's own query. Registry keys are never atomic (they match by regexp, under hive
/// aliases and below the key), nor are address paths whose value is no single address (a CIDR
/// block is compared as a range).
pub fn atoms(p: &Pattern, opts: &SearchOptions) -> Option<Vec<(ValueKind, String)>> {
    atoms_with(p, opts, &mut HashMap::new())
}

/// The main value kind of each object path met, remembered across calls: working it out reads
/// the vocabulary, and a plan over 100,000 indicators meets a handful of paths.
pub type KindCache = HashMap<ObjectPath, Option<ValueKind>>;

/// [`atoms`] with a cache of the paths' kinds shared across patterns.
pub fn atoms_with(
    p: &Pattern,
    opts: &SearchOptions,
    cache: &mut KindCache,
) -> Option<Vec<(ValueKind, String)>> {
    let mut out = Vec::new();
    observation(&p.expr, opts, cache, &mut out)?;
    (!out.is_empty()).then_some(out)
}

fn observation(
    e: &ObservationExpr,
    opts: &SearchOptions,
    cache: &mut KindCache,
    out: &mut Vec<(ValueKind, String)>,
) -> Option<()> {
    match e {
        ObservationExpr::Observation(c) => comparison(c, opts, cache, out),
        ObservationExpr::Or(v) => v.iter().try_for_each(|x| observation(x, opts, cache, out)),
        _ => None,
    }
}

fn comparison(
    c: &ComparisonExpr,
    opts: &SearchOptions,
    cache: &mut KindCache,
    out: &mut Vec<(ValueKind, String)>,
) -> Option<()> {
    match c {
        ComparisonExpr::Or(v) => v.iter().try_for_each(|x| comparison(x, opts, cache, out)),
        ComparisonExpr::And(_) => None,
        ComparisonExpr::Test(t) => {
            if t.negated {
                return None;
            }
            let kind = (*cache
                .entry(t.path.clone())
                .or_insert_with(|| target(&t.path, opts).ok().and_then(|t| t.main)))?;
            if kind == ValueKind::RegistryKey {
                return None;
            }
            let literals: Vec<&Literal> = match &t.op {
                Operator::Eq(l) => vec![l],
                Operator::In(list) if !list.is_empty() => list.iter().collect(),
                _ => return None,
            };
            for l in literals {
                let Literal::Str(s) = l else { return None };
                let ip_kind = matches!(kind, ValueKind::Ip | ValueKind::SrcIp | ValueKind::DstIp);
                if s.trim().is_empty() || (ip_kind && s.trim().parse::<IpAddr>().is_err()) {
                    return None;
                }
                out.push((kind, s.clone()));
            }
            Some(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::parse;

    fn atoms_of(p: &str) -> Option<Vec<(ValueKind, String)>> {
        atoms(&parse(p).unwrap(), &SearchOptions::default())
    }

    #[test]
    fn equalities_and_in_lists_over_main_values_are_atomic() {
        assert_eq!(
            atoms_of("[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value IN ('a.org', 'b.org')]"),
            Some(vec![
                (ValueKind::Ip, "1.2.3.4".into()),
                (ValueKind::Domain, "a.org".into()),
                (ValueKind::Domain, "b.org".into()),
            ])
        );
        assert_eq!(
            atoms_of("[file:hashes.'SHA-256' = 'AB' OR network-traffic:dst_ref.value = '::1']"),
            Some(vec![
                (ValueKind::Sha256, "AB".into()),
                (ValueKind::DstIp, "::1".into()),
            ])
        );
    }

    #[test]
    fn anything_more_is_not() {
        for p in [
            "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.org']",
            "[ipv4-addr:value = '1.2.3.4'] WITHIN 10 SECONDS",
            "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.org']",
            "[ipv4-addr:value != '1.2.3.4']",
            "[ipv4-addr:value = '10.0.0.0/8']",
            "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
            "[domain-name:value LIKE '%.x.org']",
            "[file:name = 'a.exe']",
            "[windows-registry-key:key = 'HKLM\\\\Software\\\\Run']",
        ] {
            assert_eq!(atoms_of(p), None, "{p}");
        }
    }
}
