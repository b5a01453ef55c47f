//! CIDR blocks over Wazuh's keyword-mapped IP fields.
//!
//! Nearly every IP field of a Wazuh alert is a `keyword`, where a CIDR `term` does not work. An
//! IPv4 block is turned into an exact Lucene regexp over the dotted-decimal text: the octets the
//! prefix fixes are literal, a partly fixed octet is the alternation of its allowed values, free
//! octets match any value 0–255 without leading zeros. IPv6 text has many spellings (zero
//! compression), so only blocks of at most [`MAX_V6_EXPANSION`] addresses are expanded to their
//! canonical (RFC 5952) spellings; larger IPv6 blocks are refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::PatternError;

/// The largest IPv6 block expanded to single addresses (a /120).
pub const MAX_V6_EXPANSION: u32 = 256;

/// How to match the addresses of a block.
#[derive(Debug, Clone, PartialEq)]
pub enum CidrMatch {
    /// A single address (a /32 or /128).
    Exact(String),
    /// A list of addresses (small IPv6 blocks).
    Terms(Vec<String>),
    /// An exact Lucene regexp over dotted-decimal IPv4 text.
    Regexp(String),
}

/// A parsed block: the canonical network text and how to match it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cidr {
    pub network: IpAddr,
    pub prefix: u8,
    pub matcher: CidrMatch,
}

const ANY_OCTET: &str = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

/// A validated block: address, prefix length, address bits and count of host bits.
struct Block {
    ip: IpAddr,
    prefix: u8,
    bits: u128,
    host_bits: u32,
}

impl Block {
    fn show(&self, b: u128) -> String {
        match self.ip {
            // The value came from an IPv4 address, so it fits in 32 bits.
            IpAddr::V4(_) => Ipv4Addr::from(b as u32).to_string(),
            IpAddr::V6(_) => Ipv6Addr::from(b).to_string(),
        }
    }
}

/// Parses and checks a block: host bits zero, IPv6 blocks small enough to enumerate.
fn block(text: &str) -> Result<Block, PatternError> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let bad = || PatternError::invalid(format!("'{text}' is not an IP address or CIDR block"));
    let ip: IpAddr = addr.trim().parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix: u8 = match prefix {
        Some(p) => p.trim().parse().map_err(|_| bad())?,
        None => max,
    };
    if prefix > max {
        return Err(bad());
    }
    let (bits, width): (u128, u32) = match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    let host_bits = width - u32::from(prefix);
    let host_mask = if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    let b = Block {
        ip,
        prefix,
        bits,
        host_bits,
    };
    if bits & host_mask != 0 {
        return Err(PatternError::invalid(format!(
            "'{text}': host bits are set (the network is {}/{prefix})",
            b.show(bits & !host_mask)
        )));
    }
    if ip.is_ipv6() && host_bits > MAX_V6_EXPANSION.trailing_zeros() {
        return Err(PatternError::unsupported(format!(
            "IPv6 block '{text}' is larger than /{}: Wazuh stores IPv6 addresses as \
             text with many possible spellings, so only blocks of at most \
             {MAX_V6_EXPANSION} addresses can be matched exactly",
            128 - MAX_V6_EXPANSION.trailing_zeros()
        )));
    }
    Ok(b)
}

/// How many values a block is searched as (addresses of an enumerated IPv6 block, else 1),
/// without building them: what the clause budget counts before the query is built.
pub fn expansion(text: &str) -> Result<usize, PatternError> {
    let b = block(text)?;
    Ok(if b.ip.is_ipv6() {
        1usize << b.host_bits
    } else {
        1
    })
}

/// Parses `a.b.c.d/n`, `a.b.c.d` (a /32), IPv6 likewise. Host bits must be zero, as in STIX.
pub fn parse(text: &str) -> Result<Cidr, PatternError> {
    let b = block(text)?;
    let matcher = match b.ip {
        _ if b.host_bits == 0 => CidrMatch::Exact(b.show(b.bits)),
        IpAddr::V4(v4) => CidrMatch::Regexp(v4_regexp(v4.octets(), b.prefix)),
        IpAddr::V6(_) => CidrMatch::Terms(
            (0..(1u128 << b.host_bits))
                .map(|i| b.show(b.bits | i))
                .collect(),
        ),
    };
    Ok(Cidr {
        network: b.ip,
        prefix: b.prefix,
        matcher,
    })
}

fn v4_regexp(octets: [u8; 4], prefix: u8) -> String {
    let mut parts = Vec::with_capacity(4);
    for (i, o) in octets.iter().enumerate() {
        let fixed_bits = (i32::from(prefix) - 8 * i as i32).clamp(0, 8) as u32;
        let part = match fixed_bits {
            8 => o.to_string(),
            0 => ANY_OCTET.to_string(),
            n => {
                let lo = u32::from(*o);
                let hi = lo + (1u32 << (8 - n)) - 1;
                let alts: Vec<String> = (lo..=hi).map(|v| v.to_string()).collect();
                format!("({})", alts.join("|"))
            }
        };
        parts.push(part);
    }
    parts.join("\\.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(text: &str) -> regex::Regex {
        match parse(text).unwrap().matcher {
            CidrMatch::Regexp(r) => regex::Regex::new(&format!("^(?:{r})$")).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn v4_regexp_is_exact() {
        let r = re("10.0.0.0/8");
        assert!(r.is_match("10.0.0.0") && r.is_match("10.255.255.255"));
        assert!(!r.is_match("11.0.0.1") && !r.is_match("10.0.0.256") && !r.is_match("10.01.0.1"));
        let r = re("192.168.4.0/22");
        for (ip, ok) in [
            ("192.168.3.255", false),
            ("192.168.4.0", true),
            ("192.168.7.255", true),
            ("192.168.8.0", false),
        ] {
            assert_eq!(r.is_match(ip), ok, "{ip}");
        }
        // Every address of a /20 matches, and its neighbours do not.
        let r = re("172.16.16.0/20");
        for n in 0u32..(1 << 13) {
            let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(172, 16, 8, 0)) + n);
            let inside = (u32::from(ip) >> 12) == (u32::from(Ipv4Addr::new(172, 16, 16, 0)) >> 12);
            assert_eq!(r.is_match(&ip.to_string()), inside, "{ip}");
        }
        let r = re("0.0.0.0/0");
        assert!(r.is_match("8.8.8.8") && !r.is_match("8.8.8"));
    }

    #[test]
    fn single_addresses_and_v6() {
        assert_eq!(
            parse("1.2.3.4").unwrap().matcher,
            CidrMatch::Exact("1.2.3.4".into())
        );
        match parse("2001:db8::/126").unwrap().matcher {
            CidrMatch::Terms(t) => {
                assert_eq!(
                    t,
                    ["2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3"]
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse("2001:db8::/64"),
            Err(PatternError::Unsupported(_))
        ));
        assert_eq!(expansion("2001:db8::/120").unwrap(), 256);
        assert_eq!(expansion("10.0.0.0/8").unwrap(), 1);
        assert!(expansion("2001:db8::/64").is_err());
    }

    #[test]
    fn bad_blocks() {
        for t in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "nope",
            "10.0.0.0/x",
            "300.1.1.1/8",
        ] {
            assert!(matches!(parse(t), Err(PatternError::Invalid(_))), "{t}");
        }
    }
}
