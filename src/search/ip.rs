//! "Is this address private?" exactly as Python's `ipaddress` answers it (`is_private`), which
//! is what the reference's `WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS` uses.
//!
//! Rust's `Ipv4Addr::is_private` covers RFC 1918 only; Python's table is larger (loopback,
//! link-local, documentation, benchmarking, reserved …). We follow the table of CPython
//! 3.12.4 and later (gh-113171), which the reference's Docker image (latest 3.12.x) uses:
//! `192.0.0.0/24` minus `192.0.0.9` and `192.0.0.10`; IPv6 adds `64:ff9b:1::/48` and
//! `2002::/16` and exempts the globally reachable `2001::/23` sub-ranges. Note that
//! `100.64.0.0/10` (CGNAT) is *not* private in Python either.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const V4_PRIVATE: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8
    (0x0A00_0000, 8),  // 10.0.0.0/8
    (0x7F00_0000, 8),  // 127.0.0.0/8
    (0xA9FE_0000, 16), // 169.254.0.0/16
    (0xAC10_0000, 12), // 172.16.0.0/12
    (0xC000_0000, 24), // 192.0.0.0/24
    (0xC000_0200, 24), // 192.0.2.0/24
    (0xC0A8_0000, 16), // 192.168.0.0/16
    (0xC612_0000, 15), // 198.18.0.0/15
    (0xC633_6400, 24), // 198.51.100.0/24
    (0xCB00_7100, 24), // 203.0.113.0/24
    (0xF000_0000, 4),  // 240.0.0.0/4
    (0xFFFF_FFFF, 32), // 255.255.255.255/32
];
const V4_EXCEPTIONS: &[(u32, u8)] = &[(0xC000_0009, 32), (0xC000_000A, 32)];

const V6_PRIVATE: &[(u128, u8)] = &[
    (1, 128),                          // ::1/128
    (0, 128),                          // ::/128
    (0xffff_0000_0000, 96),            // ::ffff:0:0/96
    (0x0064_ff9b_0001_u128 << 80, 48), // 64:ff9b:1::/48
    (0x0100_u128 << 112, 64),          // 100::/64
    (0x2001_u128 << 112, 23),          // 2001::/23
    (0x2001_0db8_u128 << 96, 32),      // 2001:db8::/32
    (0x2002_u128 << 112, 16),          // 2002::/16
    (0xfc00_u128 << 112, 7),           // fc00::/7
    (0xfe80_u128 << 112, 10),          // fe80::/10
];
const V6_EXCEPTIONS: &[(u128, u8)] = &[
    ((0x2001_0001_u128 << 96) | 1, 128), // 2001:1::1/128
    ((0x2001_0001_u128 << 96) | 2, 128), // 2001:1::2/128
    (0x2001_0003_u128 << 96, 32),        // 2001:3::/32
    (0x2001_0004_0112_u128 << 80, 48),   // 2001:4:112::/48
    (0x2001_0020_u128 << 96, 28),        // 2001:20::/28
    (0x2001_0030_u128 << 96, 28),        // 2001:30::/28
];

fn in_v4(a: u32, (net, len): (u32, u8)) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    a & mask == net & mask
}

fn in_v6(a: u128, (net, len): (u128, u8)) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    a & mask == net & mask
}

/// Python's `IPv4Address.is_private`.
pub fn ipv4_is_private(a: Ipv4Addr) -> bool {
    let n = u32::from(a);
    V4_PRIVATE.iter().any(|r| in_v4(n, *r)) && !V4_EXCEPTIONS.iter().any(|r| in_v4(n, *r))
}

/// Python's `IPv6Address.is_private` (IPv4-mapped addresses answer as their IPv4 address).
pub fn ipv6_is_private(a: Ipv6Addr) -> bool {
    if let Some(v4) = a.to_ipv4_mapped() {
        return ipv4_is_private(v4);
    }
    let n = u128::from(a);
    V6_PRIVATE.iter().any(|r| in_v6(n, *r)) && !V6_EXCEPTIONS.iter().any(|r| in_v6(n, *r))
}

/// Python's `ip_address(a).is_private`.
pub fn is_private(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => ipv4_is_private(v4),
        IpAddr::V6(v6) => ipv6_is_private(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> bool {
        is_private(s.parse().unwrap())
    }

    /// Expected values are Python 3.12.4+ `ipaddress.ip_address(s).is_private`.
    #[test]
    fn matches_pythons_table() {
        for s in [
            "10.20.30.40",
            "127.0.0.1",
            "0.1.2.3",
            "169.254.1.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.55",
            "192.168.1.1",
            "198.19.0.1",
            "198.51.100.23",
            "203.0.113.5",
            "240.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:10.0.0.1",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "2002::1",
            "64:ff9b:1::1",
            "100::1",
            "2001:2::1",
        ] {
            assert!(p(s), "{s} should be private");
        }
        for s in [
            "141.98.81.37",
            "8.8.8.8",
            "100.64.0.1",
            "172.32.0.1",
            "192.0.0.9",
            "192.0.0.10",
            "198.20.0.1",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "2001:1::1",
            "2001:3::1",
            "2001:20::1",
            "64:ff9b::1",
        ] {
            assert!(!p(s), "{s} should not be private");
        }
    }
}
