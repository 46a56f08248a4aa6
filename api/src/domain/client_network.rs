//! The network a client is counted by, for quotas and sign-in budgets.

use std::net::{IpAddr, Ipv6Addr};

/// An IPv4 address, or an IPv6 /64: the smallest network a subscriber is
/// given, so counting each IPv6 address apart would give one client 2⁶⁴
/// quotas.
pub fn client_network(client: Option<IpAddr>) -> String {
    match client.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(ip)) => ip.to_string(),
        Some(IpAddr::V6(ip)) => {
            let network = Ipv6Addr::from_bits(ip.to_bits() & (u128::MAX << 64));
            format!("{network}/64")
        }
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_share_a_key_per_64_and_ipv4_clients_have_their_own() {
        let key = |text: &str| client_network(Some(ip(text)));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), key("2001:db8:1:2::1"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("198.51.100.7"), "198.51.100.7");
        assert_ne!(key("198.51.100.8"), key("198.51.100.7"));
        assert_eq!(key("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(client_network(None), "unknown");
    }
}
