//! HTTP to addresses an integrator names (webhook endpoints): the guard
//! against server-side request forgery.
//!
//! One rule says where the service may connect on an integrator's behalf:
//! never to a special-use address (the IANA IPv4 and IPv6 special-purpose
//! registries, multicast, and the IPv6 forms that embed an IPv4 address),
//! unless loopback is allowed, which only tests do. The HTTP client resolves
//! names through [`PinnedResolver`], which checks every address it finds and
//! hands the connection only those, so the address checked is the address
//! connected to: there is no second lookup for a rebinding DNS server to
//! answer differently. An IP literal in a URL never reaches a resolver, so
//! callers check it with [`PinnedResolver::check_host`] before sending.

use std::{
    future::Future,
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The IANA IPv4 Special-Purpose Address Registry, with multicast.
const SPECIAL_V4: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "this network"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private-use"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "shared address space"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private-use"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "IETF protocol assignments"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "documentation"),
    (Ipv4Addr::new(192, 31, 196, 0), 24, "AS112"),
    (Ipv4Addr::new(192, 52, 193, 0), 24, "AMT"),
    (Ipv4Addr::new(192, 88, 99, 0), 24, "6to4 relay anycast"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private-use"),
    (Ipv4Addr::new(192, 175, 48, 0), 24, "AS112"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "documentation"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "documentation"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (Ipv4Addr::new(255, 255, 255, 255), 32, "limited broadcast"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved"),
];

const fn v6(a: u16, b: u16, c: u16) -> Ipv6Addr {
    Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0)
}

/// The IANA IPv6 Special-Purpose Address Registry, with the deprecated
/// IPv4-compatible and site-local forms and multicast.
const SPECIAL_V6: &[(Ipv6Addr, u8, &str)] = &[
    (Ipv6Addr::UNSPECIFIED, 128, "unspecified"),
    (Ipv6Addr::LOCALHOST, 128, "loopback"),
    (v6(0, 0, 0), 96, "IPv4-compatible"),
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96, "IPv4-mapped"),
    (v6(0x64, 0xff9b, 0), 96, "NAT64"),
    (v6(0x64, 0xff9b, 1), 48, "local-use NAT64"),
    (v6(0x100, 0, 0), 64, "discard-only"),
    (Ipv6Addr::new(0x100, 0, 0, 1, 0, 0, 0, 0), 64, "dummy prefix"),
    (v6(0x2001, 0, 0), 32, "Teredo"),
    (v6(0x2001, 0, 0), 23, "IETF protocol assignments"),
    (v6(0x2001, 0xdb8, 0), 32, "documentation"),
    (v6(0x2002, 0, 0), 16, "6to4"),
    (v6(0x2620, 0x4f, 0x8000), 48, "AS112"),
    (v6(0x3fff, 0, 0), 20, "documentation"),
    (v6(0x5f00, 0, 0), 16, "segment routing"),
    (v6(0xfc00, 0, 0), 7, "unique-local"),
    (v6(0xfe80, 0, 0), 10, "link-local"),
    (v6(0xfec0, 0, 0), 10, "site-local"),
    (v6(0xff00, 0, 0), 8, "multicast"),
];

fn in_prefix(bits: u128, network: u128, length: u8, width: u32) -> bool {
    let shift = width - u32::from(length);
    bits.checked_shr(shift) == network.checked_shr(shift)
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    SPECIAL_V4
        .iter()
        .find(|(network, length, _)| in_prefix(ip.to_bits().into(), network.to_bits().into(), *length, 32))
        .map(|(_, _, range)| *range)
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4
/// (`2002:aabb:ccdd::/48`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = ip.to_bits();
    let last_32 = Ipv4Addr::from_bits(bits as u32);
    match bits >> 32 {
        // `::` and `::1` are not IPv4-compatible addresses.
        0 if bits > 1 => Some(last_32),
        0xffff | 0x0064_ff9b_0000_0000_0000_0000 => Some(last_32),
        _ if bits >> 112 == 0x2002 => Some(Ipv4Addr::from_bits((bits >> 80) as u32)),
        _ => None,
    }
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    // The IPv4 address an embedding form reaches is checked on its own, so the
    // verdict does not rest on the embedding range being listed.
    embedded_v4(ip).and_then(special_v4).or_else(|| {
        SPECIAL_V6
            .iter()
            .find(|(network, length, _)| in_prefix(ip.to_bits(), network.to_bits(), *length, 128))
            .map(|(_, _, range)| *range)
    })
}

/// The special-use range `ip` lies in, or `None` for a public unicast address.
pub fn special_use(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

/// Which addresses an integrator's URL may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressPolicy {
    /// Loopback (127.0.0.0/8 and `::1`, written as such) is allowed: for
    /// tests, whose receivers listen there. Production refuses to start with it.
    pub allow_loopback: bool,
}

impl AddressPolicy {
    /// Why `ip` may not be reached, or `None` when it may.
    pub fn refusal(self, ip: IpAddr) -> Option<&'static str> {
        if self.allow_loopback && ip.is_loopback() {
            return None;
        }
        special_use(ip)
    }

    /// Refuses a URL host written as an IP address (brackets around IPv6
    /// allowed) that may not be reached: such a host never reaches a
    /// resolver. The address when the host is one, `None` for a name.
    pub fn check_literal(self, host: &str) -> Result<Option<IpAddr>, GuardError> {
        let Ok(address) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else {
            return Ok(None);
        };
        match self.refusal(address) {
            Some(range) => Err(GuardError::Refused { address, range }),
            None => Ok(Some(address)),
        }
    }
}

/// Why a host may not be connected to.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("{address} is a special-use address ({range})")]
    Refused { address: IpAddr, range: &'static str },
    #[error("the host does not resolve")]
    NoAddress(#[source] io::Error),
}

impl GuardError {
    /// The guard's verdict anywhere in an error's chain of causes, as when a
    /// refused name surfaces as an HTTP client's connection error.
    pub fn in_chain<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a GuardError> {
        std::iter::successors(Some(error), |e| e.source()).find_map(|e| e.downcast_ref())
    }
}

type LookupFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// A name service: the system's in the service, a scripted one in tests.
pub type Lookup = Arc<dyn Fn(String) -> LookupFuture + Send + Sync>;

fn system_lookup(host: String) -> LookupFuture {
    Box::pin(async move {
        let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
        Ok(found.map(|address| address.ip()).collect())
    })
}

/// Resolves a name once and keeps only the addresses the policy allows; the
/// HTTP client connects to exactly those.
#[derive(Clone)]
pub struct PinnedResolver {
    policy: AddressPolicy,
    lookup: Lookup,
}

impl PinnedResolver {
    pub fn new(policy: AddressPolicy) -> Self {
        Self::with_lookup(policy, Arc::new(system_lookup))
    }

    pub fn with_lookup(policy: AddressPolicy, lookup: Lookup) -> Self {
        Self { policy, lookup }
    }

    /// The allowed addresses of the name `host`; refused when there is none.
    pub async fn resolve_name(&self, host: &str) -> Result<Vec<IpAddr>, GuardError> {
        let found = (self.lookup)(host.to_owned()).await.map_err(GuardError::NoAddress)?;
        let mut refused = None;
        let allowed: Vec<IpAddr> = found
            .into_iter()
            .filter(|&address| match self.policy.refusal(address) {
                Some(range) => {
                    refused.get_or_insert(GuardError::Refused { address, range });
                    false
                }
                None => true,
            })
            .collect();
        match (allowed.is_empty(), refused) {
            (false, _) => Ok(allowed),
            (true, Some(refused)) => Err(refused),
            (true, None) => Err(GuardError::NoAddress(io::ErrorKind::NotFound.into())),
        }
    }

    /// The allowed addresses of a URL's host: an IP literal is checked as
    /// written, a name is resolved.
    pub async fn check_host(&self, host: &str) -> Result<Vec<IpAddr>, GuardError> {
        match self.policy.check_literal(host)? {
            Some(address) => Ok(vec![address]),
            None => self.resolve_name(host).await,
        }
    }
}

impl Resolve for PinnedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let allowed = resolver.resolve_name(name.as_str()).await?;
            // Port 0: the client puts in the URL's port.
            let addresses: Addrs = Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addresses)
        })
    }
}

/// Makes TLS available to HTTP clients; call before building one. reqwest is
/// built without a default TLS provider; ring is the one already in the build
/// for sqlx. A second install is refused harmlessly.
pub fn install_tls_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

/// An HTTP client for integrators' URLs: names resolve through `resolver`,
/// redirects are not followed (a 3xx must not carry a signed event somewhere
/// unchecked), and no proxy is taken from the environment (a proxy would
/// resolve the name itself, past the check).
pub fn client(resolver: PinnedResolver, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    install_tls_provider();
    reqwest::Client::builder()
        .dns_resolver(resolver)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .build()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn special_use_addresses_are_classified() {
        for (address, expected) in [
            ("0.0.0.0", Some("this network")),
            ("0.255.255.255", Some("this network")),
            ("10.1.2.3", Some("private-use")),
            ("100.64.0.1", Some("shared address space")),
            ("100.127.255.255", Some("shared address space")),
            ("127.0.0.1", Some("loopback")),
            ("127.255.255.254", Some("loopback")),
            ("169.254.169.254", Some("link-local")),
            ("172.16.0.1", Some("private-use")),
            ("172.31.255.255", Some("private-use")),
            ("192.0.0.170", Some("IETF protocol assignments")),
            ("192.0.2.1", Some("documentation")),
            ("192.31.196.1", Some("AS112")),
            ("192.52.193.1", Some("AMT")),
            ("192.88.99.1", Some("6to4 relay anycast")),
            ("192.168.1.1", Some("private-use")),
            ("192.175.48.1", Some("AS112")),
            ("198.18.0.1", Some("benchmarking")),
            ("198.19.255.255", Some("benchmarking")),
            ("198.51.100.1", Some("documentation")),
            ("203.0.113.1", Some("documentation")),
            ("224.0.0.1", Some("multicast")),
            ("239.255.255.250", Some("multicast")),
            ("240.0.0.1", Some("reserved")),
            ("255.255.255.255", Some("limited broadcast")),
            ("::", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::127.0.0.1", Some("loopback")),
            ("::8.8.8.8", Some("IPv4-compatible")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.0.0.1", Some("private-use")),
            ("::ffff:8.8.8.8", Some("IPv4-mapped")),
            ("64:ff9b::7f00:1", Some("loopback")),
            ("64:ff9b::a9fe:a9fe", Some("link-local")),
            ("64:ff9b::808:808", Some("NAT64")),
            ("64:ff9b:1::808:808", Some("local-use NAT64")),
            ("100::1", Some("discard-only")),
            ("100:0:0:1::1", Some("dummy prefix")),
            ("2001::1", Some("Teredo")),
            ("2001:2::1", Some("IETF protocol assignments")),
            ("2001:1ff:ffff::1", Some("IETF protocol assignments")),
            ("2001:db8::1", Some("documentation")),
            ("2002:7f00:1::1", Some("loopback")),
            ("2002:c0a8:101::1", Some("private-use")),
            ("2002:808:808::1", Some("6to4")),
            ("2620:4f:8000::1", Some("AS112")),
            ("3fff::1", Some("documentation")),
            ("5f00::1", Some("segment routing")),
            ("fc00::1", Some("unique-local")),
            ("fd12:3456::1", Some("unique-local")),
            ("fe80::1", Some("link-local")),
            ("febf::1", Some("link-local")),
            ("fec0::1", Some("site-local")),
            ("ff02::1", Some("multicast")),
            // Public addresses, some just outside a special-use range.
            ("1.1.1.1", None),
            ("8.8.8.8", None),
            ("100.63.255.255", None),
            ("100.128.0.0", None),
            ("126.255.255.255", None),
            ("172.15.255.255", None),
            ("172.32.0.0", None),
            ("192.0.1.255", None),
            ("192.167.255.255", None),
            ("198.17.255.255", None),
            ("198.20.0.0", None),
            ("223.255.255.255", None),
            ("2001:200::1", None),
            ("2001:4860:4860::8888", None),
            ("2400:3200::1", None),
            ("240e::1", None),
            ("64:ff9a::1", None),
        ] {
            let ip: IpAddr = address.parse().unwrap();
            assert_eq!(special_use(ip), expected, "{address}");
        }
    }

    #[test]
    fn the_loopback_allowance_covers_loopback_as_written_and_nothing_else() {
        let tests = AddressPolicy { allow_loopback: true };
        for allowed in ["127.0.0.1", "127.1.2.3", "::1", "8.8.8.8"] {
            assert_eq!(tests.refusal(allowed.parse().unwrap()), None, "{allowed}");
        }
        for refused in [
            "::ffff:127.0.0.1",
            "64:ff9b::7f00:1",
            "::127.0.0.1",
            "10.0.0.1",
            "0.0.0.0",
            "::",
        ] {
            assert!(tests.refusal(refused.parse().unwrap()).is_some(), "{refused}");
        }
        let production = AddressPolicy::default();
        assert_eq!(production.refusal("127.0.0.1".parse().unwrap()), Some("loopback"));
        assert_eq!(production.refusal("::1".parse().unwrap()), Some("loopback"));
    }

    /// A name service that answers each lookup with the next of `answers`,
    /// as a rebinding DNS server does, and counts the lookups.
    fn scripted(answers: &[&[&str]]) -> (Lookup, Arc<AtomicUsize>) {
        let answers: Vec<Vec<IpAddr>> = answers
            .iter()
            .map(|answer| answer.iter().map(|a| a.parse().unwrap()).collect())
            .collect();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let lookup: Lookup = Arc::new(move |_host| {
            let call = counter.fetch_add(1, Ordering::SeqCst);
            let answer = answers[call.min(answers.len() - 1)].clone();
            Box::pin(async move { Ok(answer) })
        });
        (lookup, calls)
    }

    #[tokio::test]
    async fn names_keep_only_their_allowed_addresses() {
        let (lookup, _) = scripted(&[&["10.0.0.1", "8.8.8.8", "::1", "2400:3200::1"]]);
        let resolver = PinnedResolver::with_lookup(AddressPolicy::default(), lookup);
        let allowed = resolver.resolve_name("mixed.example").await.unwrap();
        assert_eq!(
            allowed,
            ["8.8.8.8".parse::<IpAddr>().unwrap(), "2400:3200::1".parse().unwrap()]
        );

        let (lookup, _) = scripted(&[&["127.0.0.1", "::ffff:169.254.169.254"]]);
        let resolver = PinnedResolver::with_lookup(AddressPolicy::default(), lookup);
        assert!(matches!(
            resolver.resolve_name("inside.example").await,
            Err(GuardError::Refused { range: "loopback", .. })
        ));

        let (lookup, _) = scripted(&[&[]]);
        let resolver = PinnedResolver::with_lookup(AddressPolicy::default(), lookup);
        assert!(matches!(
            resolver.resolve_name("nothing.example").await,
            Err(GuardError::NoAddress(_))
        ));
    }

    #[tokio::test]
    async fn literals_are_checked_as_written_and_never_looked_up() {
        let (lookup, calls) = scripted(&[&["8.8.8.8"]]);
        let resolver = PinnedResolver::with_lookup(AddressPolicy::default(), lookup);
        for refused in [
            "127.0.0.1",
            "[::1]",
            "[::ffff:7f00:1]",
            "[64:ff9b::7f00:1]",
            "[::7f00:1]",
        ] {
            assert!(resolver.check_host(refused).await.is_err(), "{refused}");
        }
        assert!(resolver.check_host("8.8.4.4").await.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert!(resolver.check_host("public.example").await.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    /// Reads a request (one read is enough for these) and answers 204.
    async fn answer(stream: tokio::net::TcpStream) -> io::Result<()> {
        let mut request = [0u8; 4096];
        loop {
            stream.readable().await?;
            match stream.try_read(&mut request) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        let mut answer: &[u8] = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        while !answer.is_empty() {
            stream.writable().await?;
            match stream.try_write(answer) {
                Ok(written) => answer = &answer[written..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A local HTTP listener that answers 204 and counts the connections it accepts.
    async fn listener() -> (u16, Arc<AtomicUsize>) {
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = socket.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = socket.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(answer(stream));
            }
        });
        (port, accepted)
    }

    /// DNS rebinding: the name answers a public address when checked and
    /// loopback afterwards. The client's only lookup is the checked one, so
    /// the second answer is refused, and nothing on loopback is reached.
    #[tokio::test]
    async fn a_rebinding_name_cannot_reach_loopback() {
        let (port, accepted) = listener().await;
        let (lookup, calls) = scripted(&[&["8.8.8.8"], &["127.0.0.1"]]);
        let resolver = PinnedResolver::with_lookup(AddressPolicy::default(), lookup);
        assert!(
            resolver.resolve_name("rebind.example").await.is_ok(),
            "the first answer is public"
        );

        let http = client(resolver, Duration::from_secs(5)).unwrap();
        let error = http
            .get(format!("http://rebind.example:{port}/hook"))
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(
                GuardError::in_chain(&error),
                Some(GuardError::Refused { range: "loopback", .. })
            ),
            "{error:?}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one lookup per connection, no other");
        assert_eq!(accepted.load(Ordering::SeqCst), 0);
    }

    /// With loopback allowed, the client connects to the address the resolver
    /// handed it (the name is not looked up anywhere else) at the URL's port.
    #[tokio::test]
    async fn the_client_connects_to_the_checked_address() {
        let (port, accepted) = listener().await;
        let (lookup, calls) = scripted(&[&["127.0.0.1"]]);
        let resolver = PinnedResolver::with_lookup(AddressPolicy { allow_loopback: true }, lookup);
        let http = client(resolver, Duration::from_secs(5)).unwrap();
        let answer = http
            .get(format!("http://pinned.example:{port}/hook"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), reqwest::StatusCode::NO_CONTENT);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }
}
