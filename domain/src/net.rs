//! Network addresses as sign-in throttling and the proxy settings see them: address ranges
//! (`10.0.0.0/8`, `fd00::/8`), lists of them, and the part of an address that names one client.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

/// A range of addresses: `10.0.0.0/8`, `2001:db8::/32`, or one address (`192.0.2.1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The first address of the range (host bits cleared).
    network: IpAddr,
    prefix: u8,
}

/// A range that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an address range (like 10.0.0.0/8, fd00::/8 or 192.0.2.1)")]
pub struct BadRange(pub String);

impl FromStr for Cidr {
    type Err = BadRange;

    fn from_str(text: &str) -> Result<Self, BadRange> {
        let text = text.trim();
        let bad = || BadRange(text.to_owned());
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let longest = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().map_err(|_| bad())?,
            None => longest,
        };
        if prefix > longest {
            return Err(bad());
        }
        Ok(Cidr {
            network: mask(addr, prefix),
            prefix,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Cidr {
    /// Whether `addr` lies in this range (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        addr.is_ipv4() == self.network.is_ipv4() && mask(addr, self.prefix) == self.network
    }
}

/// A list of address ranges, such as the proxies whose `X-Forwarded-For` is believed. Read from
/// a comma-separated list; an empty list holds nothing. Cheap to clone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ranges(Arc<[Cidr]>);

impl FromStr for Ranges {
    type Err = BadRange;

    fn from_str(list: &str) -> Result<Self, BadRange> {
        list.split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Cidr>, _>>()
            .map(|ranges| Ranges(ranges.into()))
    }
}

impl Ranges {
    /// Whether any range holds `addr`.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|r| r.contains(addr))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `addr` with its host bits past `prefix` cleared.
fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let keep = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(a) & keep).into())
        }
        IpAddr::V6(a) => {
            let keep = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(a) & keep).into())
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an
/// IPv4 client) as the IPv4 address it is; any other address as it is.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// What the sign-in throttle counts a client address as: an IPv4 address whole, an IPv6
/// address by its /64 — one subscriber is usually handed a whole /64 and may use any address
/// in it, so counting single IPv6 addresses would let one client spread its guesses over 2^64
/// of them. Text that is not an address is counted as given.
pub fn throttle_key(addr: &str) -> String {
    match addr.trim().parse::<IpAddr>().map(canonical) {
        Ok(v6 @ IpAddr::V6(_)) => format!("{}/64", mask(v6, 64)),
        Ok(v4) => v4.to_string(),
        Err(_) => addr.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_hold_their_addresses_and_no_others() {
        let ranges: Ranges = "10.0.0.0/8, 192.168.1.7, fd00::/8,172.16.5.9/12"
            .parse()
            .unwrap();
        for inside in [
            "10.1.2.3",
            "192.168.1.7",
            "fd12::1",
            "172.31.255.255",
            "::ffff:10.9.9.9",
        ] {
            assert!(ranges.contains(ip(inside)), "{inside}");
        }
        for outside in ["11.0.0.1", "192.168.1.8", "fe80::1", "172.32.0.1", "::1"] {
            assert!(!ranges.contains(ip(outside)), "{outside}");
        }
        assert_eq!(
            "172.16.5.9/12".parse::<Cidr>().unwrap().to_string(),
            "172.16.0.0/12"
        );
        let everything: Ranges = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains(ip("8.8.8.8")) && !everything.contains(ip("2001:db8::1")));
    }

    #[test]
    fn empty_lists_hold_nothing_and_bad_ranges_are_refused() {
        let none: Ranges = "".parse().unwrap();
        assert!(none.is_empty() && !none.contains(ip("127.0.0.1")));
        assert!(" , ".parse::<Ranges>().unwrap().is_empty());
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0/8",
            "proxy.local",
            "10.0.0.0/x",
        ] {
            assert_eq!(bad.parse::<Cidr>(), Err(BadRange(bad.to_owned())), "{bad}");
        }
        assert!("10.0.0.0/8,nope".parse::<Ranges>().is_err());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_ipv4_ones_whole() {
        assert_eq!(throttle_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            throttle_key("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(throttle_key("2001:db8:1:3::1"), "2001:db8:1:3::/64");
        assert_eq!(throttle_key("203.0.113.9"), "203.0.113.9");
        assert_eq!(throttle_key("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(throttle_key("unknown"), "unknown");
    }
}
