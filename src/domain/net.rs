//! Network addresses: CIDR blocks of trusted proxies, and which address a request really comes
//! from when it passes through them.
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IPv4 or IPv6 block such as `10.0.0.0/8` or `fd00::/8`; a bare address is a block of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies in the block. An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) counts as
    /// its IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = mask32(self.prefix);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = mask128(self.prefix);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

fn mask128(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a CIDR block (e.g. 10.0.0.0/8, 192.168.1.7 or fd00::/8): {reason}")]
pub struct InvalidCidr {
    pub input: String,
    pub reason: &'static str,
}

impl FromStr for Cidr {
    type Err = InvalidCidr;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let input = s.trim();
        let bad = |reason| InvalidCidr {
            input: input.to_owned(),
            reason,
        };
        let (addr, prefix) = match input.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (input, None),
        };
        let network = canonical(
            addr.parse::<IpAddr>()
                .map_err(|_| bad("not an IPv4 or IPv6 address"))?,
        );
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| bad("the prefix length is too long for the address"))?,
            Some(_) => return Err(bad("the prefix length must be a number")),
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Parses a comma-separated list of blocks (blank entries are skipped).
pub fn parse_cidrs(list: &str) -> Result<Vec<Cidr>, InvalidCidr> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// The address a request comes from: the peer, unless the peer is a trusted proxy; then the
/// right-most `X-Forwarded-For` entry that is not a trusted proxy (each proxy appends the address
/// it saw, so entries left of the first untrusted one could have been written by the client).
/// When every entry is trusted, the left-most one; an unreadable entry ends the walk, and the
/// last trusted address is the answer.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: &[&str],
    trusted: &[Cidr],
) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let mut current = peer.map(canonical)?;
    if !is_trusted(current) {
        return Some(current);
    }
    for entry in forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .rev()
        .map(str::trim)
    {
        let Some(ip) = parse_forwarded(entry) else {
            break;
        };
        current = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(current)
}

/// One `X-Forwarded-For` entry: an address, maybe with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = entry.parse::<std::net::SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_of_both_families_are_parsed_and_matched() {
        let lan: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(lan.contains(ip("10.200.3.4")));
        assert!(!lan.contains(ip("11.0.0.1")));
        assert!(lan.contains(ip("::ffff:10.1.2.3")));
        let one: Cidr = "192.168.1.7".parse().unwrap();
        assert!(one.contains(ip("192.168.1.7")) && !one.contains(ip("192.168.1.8")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12:3456::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        let loop6: Cidr = "::1/128".parse().unwrap();
        assert!(loop6.contains(ip("::1")));
        assert_eq!(lan.to_string(), "10.0.0.0/8");
    }

    #[test]
    fn a_bad_block_says_what_is_wrong() {
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0/8",
            "proxy",
            "10.0.0.0/x",
            "10.0.0.0/",
        ] {
            let e = bad.parse::<Cidr>().unwrap_err();
            assert!(e.to_string().contains(bad), "{bad}: {e}");
        }
        assert_eq!(parse_cidrs("").unwrap(), vec![]);
        assert_eq!(parse_cidrs(" 10.0.0.0/8, ::1 ").unwrap().len(), 2);
        assert!(parse_cidrs("10.0.0.0/8,nonsense").is_err());
    }

    #[test]
    fn the_peer_is_the_client_unless_it_is_a_trusted_proxy() {
        let trusted = parse_cidrs("10.0.0.0/8").unwrap();
        // Not trusted: whatever the header says is ignored.
        assert_eq!(
            client_address(Some(ip("203.0.113.9")), &["1.1.1.1"], &trusted),
            Some(ip("203.0.113.9"))
        );
        // Nothing trusted at all: the peer.
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &["1.1.1.1"], &[]),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(client_address(None, &["1.1.1.1"], &trusted), None);
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_entry_is_the_client() {
        let trusted = parse_cidrs("10.0.0.0/8, fd00::/8").unwrap();
        let peer = Some(ip("10.0.0.2"));
        // The client forged the first entry; the proxy appended what it saw.
        assert_eq!(
            client_address(peer, &["6.6.6.6, 198.51.100.4, 10.1.1.1"], &trusted),
            Some(ip("198.51.100.4"))
        );
        // Several headers are one list, in order.
        assert_eq!(
            client_address(peer, &["6.6.6.6", "198.51.100.4"], &trusted),
            Some(ip("198.51.100.4"))
        );
        // Ports and IPv6.
        assert_eq!(
            client_address(peer, &["[2001:db8::5]:4431, fd00::1"], &trusted),
            Some(ip("2001:db8::5"))
        );
        assert_eq!(
            client_address(peer, &["198.51.100.4:5555"], &trusted),
            Some(ip("198.51.100.4"))
        );
        // No header: the proxy itself.
        assert_eq!(client_address(peer, &[], &trusted), peer);
        // Only proxies: the left-most of them.
        assert_eq!(
            client_address(peer, &["10.9.9.9, 10.8.8.8"], &trusted),
            Some(ip("10.9.9.9"))
        );
        // Garbage stops the walk at the last address known good.
        assert_eq!(
            client_address(peer, &["1.2.3.4, garbage, 10.8.8.8"], &trusted),
            Some(ip("10.8.8.8"))
        );
    }
}
