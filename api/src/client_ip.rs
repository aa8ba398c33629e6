//! Who the client is: the socket peer, or — when the peer is a trusted proxy — the
//! right-most `X-Forwarded-For` hop that is not a trusted proxy. Hops to the left of
//! that one were written by the client itself and prove nothing, so a forged first hop
//! can neither dodge nor aim a rate limit.

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::config::TrustedProxies;

/// The client's address, worked out once per request and kept in its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The client of a request (see the module documentation).
    pub fn of(headers: &HeaderMap, extensions: &Extensions, trusted: &TrustedProxies) -> Self {
        if let Some(known) = extensions.get::<ClientIp>() {
            return *known;
        }
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|value| value.to_str().unwrap_or("?").split(','));
        ClientIp(select_client(peer, hops, trusted))
    }
}

/// The hop selection: `peer` unless it is trusted; then, walking the hops from the right,
/// the first one that is not trusted. Should the chain run out, or hold something that is
/// not an address before an untrusted hop is found, the left-most trusted address seen
/// stands in (a proxy wrote that part of the chain, not the client).
pub fn select_client<'a>(
    peer: IpAddr,
    hops: impl Iterator<Item = &'a str>,
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let hops: Vec<&str> = hops.collect();
    let mut nearest_trusted = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if trusted.contains(ip) => nearest_trusted = ip,
            Some(ip) => return ip,
            None => break,
        }
    }
    nearest_trusted
}

/// One hop: an address, optionally with a port (`192.0.2.1:4711`, `[2001:db8::1]:443`)
/// or in brackets (`[2001:db8::1]`), as proxies write them.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|addr| addr.ip()))
        .or_else(|_| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or("")
                .parse::<IpAddr>()
        })
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(nets: &[&str]) -> TrustedProxies {
        TrustedProxies(nets.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn client(peer: &str, forwarded_for: &str, trusted: &[&str]) -> String {
        select_client(
            peer.parse().unwrap(),
            forwarded_for.split(','),
            &proxies(trusted),
        )
        .to_string()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        assert_eq!(client("203.0.113.9", "198.51.100.1", &[]), "203.0.113.9");
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_client() {
        assert_eq!(
            client("203.0.113.9", "198.51.100.1", &["10.0.0.0/8"]),
            "203.0.113.9"
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        // The client forged "1.1.1.1"; the proxy appended the address it saw.
        assert_eq!(
            client("10.0.0.2", "1.1.1.1, 203.0.113.9", &["10.0.0.0/8"]),
            "203.0.113.9"
        );
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked_from_the_right() {
        assert_eq!(
            client(
                "10.0.0.2",
                "1.1.1.1, 203.0.113.9, 10.1.0.1, 192.168.0.5",
                &["10.0.0.0/8", "192.168.0.0/16"]
            ),
            "203.0.113.9"
        );
    }

    #[test]
    fn when_every_hop_is_trusted_the_farthest_one_is_the_client() {
        assert_eq!(
            client("10.0.0.2", "10.9.9.9, 10.1.1.1", &["10.0.0.0/8"]),
            "10.9.9.9"
        );
        assert_eq!(client("10.0.0.2", "", &["10.0.0.0/8"]), "10.0.0.2");
    }

    #[test]
    fn garbage_in_the_chain_stops_the_walk_at_the_last_trusted_hop() {
        assert_eq!(
            client("10.0.0.2", "unknown, 10.1.1.1", &["10.0.0.0/8"]),
            "10.1.1.1"
        );
        // Garbage left of the client's hop is never reached.
        assert_eq!(
            client("10.0.0.2", "evil, 203.0.113.9", &["10.0.0.0/8"]),
            "203.0.113.9"
        );
    }

    #[test]
    fn hops_with_ports_brackets_and_mapped_addresses_are_read() {
        let trusted = &["10.0.0.0/8", "2001:db8::/32"];
        assert_eq!(
            client("10.0.0.2", "203.0.113.9:4711", trusted),
            "203.0.113.9"
        );
        assert_eq!(
            client("10.0.0.2", "[2001:db9::1]:443", trusted),
            "2001:db9::1"
        );
        assert_eq!(client("10.0.0.2", "[2001:db9::1]", trusted), "2001:db9::1");
        assert_eq!(
            client("::ffff:10.0.0.2", " 203.0.113.9 ", trusted),
            "203.0.113.9"
        );
        assert_eq!(
            client("2001:db8::7", "::ffff:203.0.113.9", trusted),
            "203.0.113.9"
        );
    }

    #[test]
    fn every_forwarded_for_header_counts_in_order() {
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", "1.1.1.1".parse().unwrap());
        headers.append("x-forwarded-for", "203.0.113.9, 10.0.0.3".parse().unwrap());
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 2], 5000))));
        let ip = ClientIp::of(&headers, &extensions, &proxies(&["10.0.0.0/8"]));
        assert_eq!(ip, ClientIp("203.0.113.9".parse().unwrap()));
    }
}
