//! Where a request comes from: the client's address, believed from
//! `X-Forwarded-For` only when the socket peer is a proxy the operator
//! trusts, and the key an anonymous quota is counted under.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use poem::http::{HeaderMap, HeaderName};

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's address. From a trusted peer, `X-Forwarded-For` is read from
/// right to left, each hop appended by the proxy before it, skipping trusted
/// proxies: the first untrusted hop is the client. Anything left of it was
/// written by the client and proves nothing. An entry that is not an address
/// ends the walk at the last hop known.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|network| network.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            break;
        };
        client = ip;
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

/// A hop as proxies write it: an address, or an address and port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use poem::http::HeaderValue;

    use super::*;

    fn networks(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_FORWARDED_FOR, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let headers = forwarded(&["198.51.100.7"]);
        assert_eq!(client_ip(ip("203.0.113.9"), &headers, &[]), ip("203.0.113.9"));
        let trusted = networks(&["10.0.0.0/8"]);
        assert_eq!(client_ip(ip("203.0.113.9"), &headers, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = networks(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        // The client forged the leftmost entry; the load balancer appended the real one.
        let headers = forwarded(&["1.2.3.4, 198.51.100.7", "10.0.0.5"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &headers, &trusted), ip("198.51.100.7"));
        let v6 = forwarded(&["2001:db8:1:2::99, 2001:db8:ffff::1"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &v6, &trusted), ip("2001:db8:1:2::99"));
        let with_port = forwarded(&["198.51.100.7:51234"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &with_port, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn a_trusted_peer_without_a_usable_header_is_the_client() {
        let trusted = networks(&["10.0.0.0/8"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
        let garbage = forwarded(&["198.51.100.7, unknown"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &garbage, &trusted), ip("10.0.0.1"));
        let all_internal = forwarded(&["10.9.9.9"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &all_internal, &trusted), ip("10.9.9.9"));
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_networks() {
        let trusted = networks(&["127.0.0.0/8"]);
        let headers = forwarded(&["198.51.100.7"]);
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &headers, &trusted),
            ip("198.51.100.7")
        );
    }
}
