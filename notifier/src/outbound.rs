//! Requests to URLs that people give us (webhooks): to the public internet
//! only, unless the operator allows an internal receiver.
//!
//! Why: whoever registers a webhook chooses its URL. Without these checks a
//! resident could make the service POST to its own admin ports, the cloud
//! metadata endpoint (169.254.169.254) or anything else on the internal
//! network, and read the answer's status back from the delivery counts.
//!
//! Three checks, each needed:
//! - [`OutboundPolicy::check_url`], when a URL is registered and again
//!   before every request: `http`/`https` only, no user name or password,
//!   and a host given as an IP address must be public or allowed. The `url`
//!   crate has already normalised decimal, hex and octal IPv4 forms
//!   (`http://2130706433/` is `127.0.0.1`), and reqwest does not ask the
//!   resolver about IP hosts, so they are checked here.
//! - [`GuardedResolver`], when connecting: names are resolved here and only
//!   public (or allowed) addresses reach the connector, so a name that
//!   resolves to an internal address, or starts to after registration (DNS
//!   rebinding), is never connected to.
//! - The client ([`OutboundPolicy::client`]) follows no redirect (a `3xx`
//!   is a failed delivery) and uses no proxy from the environment (a proxy
//!   would resolve the destination itself, past the resolver).
//!
//! The operator's allow-list (`[channels.webhook] allow`) takes addresses
//! (`10.1.2.3`), networks (`10.0.0.0/8`, `fd00::/8`) and host names with or
//! without a port (`hooks.internal`, `hooks.internal:8443`). An allowed name
//! may resolve to any address; an address or network allows any port.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use url::{Host, Url};

/// Why a URL or an allow-list entry was refused. Never carries the URL: it
/// is personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("not an absolute URL")]
    NotAUrl,
    #[error("only http and https URLs are allowed")]
    Scheme,
    #[error("the URL must not carry a user name or password")]
    Credentials,
    #[error("the URL has no host")]
    NoHost,
    #[error(
        "the host is an internal address (loopback, private, link-local, shared, multicast, reserved or documentation range)"
    )]
    Internal,
    #[error("the host resolves only to internal addresses")]
    ResolvesInternal,
    #[error("allow-list entry {entry:?}: {reason}")]
    AllowEntry { entry: String, reason: String },
}

/// One entry of the operator's allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    /// An address or a network, any port.
    Network(IpNet),
    /// A host name (lower case), on any port or on one.
    Host { name: String, port: Option<u16> },
}

impl Allowed {
    fn parse(entry: &str) -> Result<Allowed, OutboundError> {
        let refuse = |reason: &str| OutboundError::AllowEntry {
            entry: entry.to_string(),
            reason: reason.to_string(),
        };
        let text = entry.trim();
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(Allowed::Network(net.trunc()));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Allowed::Network(IpNet::from(ip)));
        }
        let (name, port) = match text.rsplit_once(':') {
            Some((name, port)) => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| refuse("the port is not a number from 0 to 65535"))?;
                (name, Some(port))
            }
            None => (text, None),
        };
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !valid {
            return Err(refuse(
                "expected an IP address, a network (10.0.0.0/8) or a host name with an optional :port",
            ));
        }
        Ok(Allowed::Host {
            name: name.to_ascii_lowercase(),
            port,
        })
    }
}

/// Where outbound requests may go: the public internet, plus what the
/// operator allows. The default allows nothing internal.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    allowed: Vec<Allowed>,
}

impl fmt::Debug for OutboundPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OutboundPolicy({} allowed)", self.allowed.len())
    }
}

impl<'de> Deserialize<'de> for OutboundPolicy {
    /// A list of entries, as in [`OutboundPolicy::allowing`].
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = Vec::<String>::deserialize(deserializer)?;
        OutboundPolicy::allowing(&entries).map_err(serde::de::Error::custom)
    }
}

impl OutboundPolicy {
    /// The public internet plus `entries`: addresses (`10.1.2.3`),
    /// networks (`10.0.0.0/8`) and host names (`hooks.internal`,
    /// `hooks.internal:8443`).
    pub fn allowing<S: AsRef<str>>(entries: &[S]) -> Result<OutboundPolicy, OutboundError> {
        Ok(OutboundPolicy {
            allowed: entries
                .iter()
                .map(|e| Allowed::parse(e.as_ref()))
                .collect::<Result<_, _>>()?,
        })
    }

    fn allows_ip(&self, ip: IpAddr) -> bool {
        is_public(ip)
            || self
                .allowed
                .iter()
                .any(|a| matches!(a, Allowed::Network(net) if net.contains(&ip)))
    }

    fn allows_host(&self, name: &str, port: Option<u16>) -> bool {
        self.allowed.iter().any(|a| match a {
            Allowed::Host {
                name: allowed,
                port: allowed_port,
            } => allowed == name && allowed_port.is_none_or(|p| Some(p) == port),
            Allowed::Network(_) => false,
        })
    }

    /// Checks a URL before it is stored or requested; returns it parsed.
    pub fn check_url(&self, text: &str) -> Result<Url, OutboundError> {
        let url = Url::parse(text).map_err(|_| OutboundError::NotAUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundError::Scheme);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(OutboundError::Credentials);
        }
        let port = url.port_or_known_default();
        match url.host() {
            None => return Err(OutboundError::NoHost),
            Some(Host::Ipv4(ip)) if !self.allows_ip(IpAddr::V4(ip)) => {
                return Err(OutboundError::Internal);
            }
            Some(Host::Ipv6(ip)) if !self.allows_ip(IpAddr::V6(ip)) => {
                return Err(OutboundError::Internal);
            }
            Some(Host::Domain(name)) => {
                // RFC 6761: `localhost` names are loopback without asking DNS.
                let name = name.trim_end_matches('.');
                let local = name == "localhost" || name.ends_with(".localhost");
                if local && !self.allows_host(name, port) {
                    return Err(OutboundError::Internal);
                }
            }
            Some(_) => {}
        }
        Ok(url)
    }

    /// An HTTP client that connects only where this policy allows: names
    /// through [`GuardedResolver`], no redirects, no proxy.
    pub fn client(&self, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: self.clone(),
            }))
            .build()
    }
}

/// Resolves names and keeps only the addresses the policy allows (all of
/// them for an allowed host name), at connect time.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let name = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            // The port is checked by `check_url`; any entry for the name
            // vouches for its addresses.
            let named = policy
                .allowed
                .iter()
                .any(|a| matches!(a, Allowed::Host { name: allowed, .. } if *allowed == name));
            let kept: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| named || policy.allows_ip(a.ip()))
                .collect();
            if kept.is_empty() {
                return Err(Box::new(OutboundError::ResolvesInternal) as _);
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether an address is on the public internet: not loopback, private,
/// link-local, shared (CGNAT), multicast, broadcast, unspecified, reserved,
/// documentation or benchmarking, including such IPv4 addresses written in
/// IPv6 (mapped, compatible, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// IPv4 ranges that are not the public internet (RFC 6890 and friends).
const INTERNAL_V4: &[(u32, u32)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network", unspecified
    (0x0a00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 shared address space (CGNAT)
    (0x7f00_0000, 8),  // 127.0.0.0/8 loopback
    (0xa9fe_0000, 16), // 169.254.0.0/16 link-local (cloud metadata)
    (0xac10_0000, 12), // 172.16.0.0/12 private
    (0xc000_0000, 24), // 192.0.0.0/24 IETF protocol assignments
    (0xc000_0200, 24), // 192.0.2.0/24 documentation
    (0xc058_6300, 24), // 192.88.99.0/24 6to4 relay anycast
    (0xc0a8_0000, 16), // 192.168.0.0/16 private
    (0xc612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xc633_6400, 24), // 198.51.100.0/24 documentation
    (0xcb00_7100, 24), // 203.0.113.0/24 documentation
    (0xe000_0000, 4),  // 224.0.0.0/4 multicast
    (0xf000_0000, 4),  // 240.0.0.0/4 reserved, 255.255.255.255 broadcast
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    !INTERNAL_V4
        .iter()
        .any(|&(net, len)| bits >> (32 - len) == net >> (32 - len))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    let within = |net: u128, len: u32| bits >> (128 - len) == net >> (128 - len);
    let embedded_v4 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if within(0, 96) {
        // `::`, `::1` and IPv4-compatible `::a.b.c.d`.
        return bits > 1 && is_public_v4(embedded_v4);
    }
    if within(0xffff << 32, 96) {
        // IPv4-mapped `::ffff:a.b.c.d`.
        return is_public_v4(embedded_v4);
    }
    if within(0x0064_ff9b << 96, 96) {
        // NAT64 `64:ff9b::a.b.c.d`: reaches the IPv4 address inside.
        return is_public_v4(embedded_v4);
    }
    if within(0x2002 << 112, 16) {
        // 6to4 `2002:aabb:ccdd::`: the IPv4 address is in bits 16..48.
        return is_public_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    // Only global unicast (2000::/3) is public, less the special blocks in it.
    within(0x2000 << 112, 3)
        && !within(0x2001 << 112, 23) // IETF protocol assignments, Teredo, benchmarking
        && !within(0x2001_0db8 << 96, 32) // documentation
        && !within(0x3fff << 112, 20) // documentation (RFC 9637)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.10",
            "198.18.0.1",
            "203.0.113.5",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:7f00:0001::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
        ] {
            assert!(!public(internal), "{internal} counted as public");
        }
    }

    #[test]
    fn public_addresses_are_public() {
        for address in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:0808:0808::",
        ] {
            assert!(public(address), "{address} counted as internal");
        }
    }

    #[test]
    fn urls_are_checked_without_echoing_them() {
        let policy = OutboundPolicy::default();
        assert!(policy.check_url("https://hooks.example.org/x").is_ok());
        for (url, error) in [
            ("ftp://hooks.example.org/x", OutboundError::Scheme),
            ("file:///etc/passwd", OutboundError::Scheme),
            (
                "https://user:pw@hooks.example.org/",
                OutboundError::Credentials,
            ),
            ("http://2130706433/", OutboundError::Internal),
            ("http://0x7f.1/", OutboundError::Internal),
            ("http://0177.0.0.1/", OutboundError::Internal),
            ("http://[::ffff:7f00:1]/", OutboundError::Internal),
            ("http://localhost:8080/", OutboundError::Internal),
            ("not a url", OutboundError::NotAUrl),
        ] {
            assert_eq!(policy.check_url(url).unwrap_err(), error, "{url}");
            assert!(!error.to_string().contains("hooks.example"));
        }
    }

    #[test]
    fn the_allow_list_opens_addresses_networks_and_names() {
        let policy =
            OutboundPolicy::allowing(&["10.1.2.3", "192.168.0.0/16", "hooks.internal:8443"])
                .unwrap();
        assert!(policy.check_url("http://10.1.2.3/").is_ok());
        assert!(policy.check_url("http://10.1.2.4/").is_err());
        assert!(policy.check_url("http://192.168.7.7:81/").is_ok());
        assert!(policy.allows_host("hooks.internal", Some(8443)));
        assert!(!policy.allows_host("hooks.internal", Some(443)));
        let error = OutboundPolicy::allowing(&["10.0.0.0/33"]).unwrap_err();
        assert!(error.to_string().contains("10.0.0.0/33"), "{error}");
        assert!(OutboundPolicy::allowing(&["hooks.internal:http"]).is_err());
    }

    #[tokio::test]
    async fn the_resolver_drops_internal_addresses_at_connect_time() {
        use reqwest::dns::Resolve;
        use std::str::FromStr;
        // A name whose addresses are internal (as after a rebinding).
        let name = || reqwest::dns::Name::from_str("localhost").unwrap();
        let guarded = GuardedResolver {
            policy: OutboundPolicy::default(),
        };
        let error = guarded.resolve(name()).await.err().unwrap();
        assert_eq!(
            error.downcast_ref::<OutboundError>(),
            Some(&OutboundError::ResolvesInternal)
        );
        let allowed = GuardedResolver {
            policy: OutboundPolicy::allowing(&["127.0.0.0/8"]).unwrap(),
        };
        let addresses: Vec<SocketAddr> = allowed.resolve(name()).await.unwrap().collect();
        assert!(addresses.iter().all(|a| a.ip().is_loopback()));
        assert!(!addresses.is_empty());
    }
}
