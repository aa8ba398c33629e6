//! The one HTTP client that calls addresses tenants and operators name (webhook receivers,
//! `http` enrichment providers), guarded against server-side request forgery.
//!
//! Every address is checked **when the connection is made**: host names go through a
//! resolver that drops refused addresses (so a name that resolves to a public address once
//! and to 127.0.0.1 later gains nothing), and URLs with a literal IP are checked before the
//! request is sent. Refused: loopback, private (RFC 1918), link-local (with the
//! 169.254.169.254 metadata service), unique-local, CGNAT, unspecified, multicast,
//! broadcast and reserved ranges, also in their IPv4-mapped, IPv4-compatible, NAT64 and
//! 6to4 IPv6 forms. Operators allow ranges with `[outbound] allow_cidrs`. Redirects are
//! never followed and system proxies are not used (a proxy would resolve names itself).

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// Outbound HTTP (`[outbound]` in trickle.toml): webhook receivers and `http` enrichment
/// providers. Internal addresses (loopback, private, link-local, …) are refused unless listed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundSettings {
    /// Ranges that may be called although internal, e.g. `["127.0.0.0/8", "10.1.0.0/16"]`
    /// (env: `TRICKLE_OUTBOUND__ALLOW_CIDRS='["127.0.0.0/8"]'`). Empty by default.
    pub allow_cidrs: Vec<IpNet>,
    /// How long establishing a connection may take.
    pub connect_timeout_ms: u64,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        OutboundSettings {
            allow_cidrs: Vec::new(),
            connect_timeout_ms: 3000,
        }
    }
}

impl OutboundSettings {
    /// Settings that also allow the given ranges (tests, the demo).
    pub fn allowing(cidrs: &[&str]) -> Self {
        OutboundSettings {
            allow_cidrs: cidrs
                .iter()
                .map(|c| c.parse().expect("a valid CIDR"))
                .collect(),
            ..Default::default()
        }
    }

    /// The connect timeout (at least 1 ms).
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms.max(1))
    }
}

/// What a refused request reports: no address, port or connection detail.
pub const NOT_ALLOWED: &str = "address not allowed";

/// Why an outbound request failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The target's address is refused by the policy.
    #[error("address not allowed")]
    NotAllowed,
    /// The request could not be built or sent.
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// The marker the resolver returns; found again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("address not allowed")]
struct AddressNotAllowed;

/// Which addresses may be called: public ones, and those in the operator's allow-list.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow: Vec<IpNet>,
}

impl AddressPolicy {
    /// A policy that also permits the given ranges.
    pub fn allowing(allow: &[IpNet]) -> Self {
        AddressPolicy {
            allow: allow.to_vec(),
        }
    }

    /// Whether a connection to `ip` is allowed.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let embedded = embedded_ipv4(ip).map(IpAddr::V4);
        let listed = |ip: IpAddr| self.allow.iter().any(|net| net.contains(&ip));
        if listed(ip) || embedded.is_some_and(listed) {
            return true;
        }
        !is_internal(ip) && !embedded.is_some_and(is_internal)
    }
}

/// Ranges no tenant may reach unless allowed (see the module docs).
static INTERNAL: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    [
        "0.0.0.0/8",      // "this network", unspecified
        "10.0.0.0/8",     // private
        "100.64.0.0/10",  // carrier-grade NAT
        "127.0.0.0/8",    // loopback
        "169.254.0.0/16", // link-local, cloud metadata
        "172.16.0.0/12",  // private
        "192.0.0.0/24",   // IETF protocol assignments
        "192.168.0.0/16", // private
        "198.18.0.0/15",  // benchmarking
        "224.0.0.0/4",    // multicast
        "240.0.0.0/4",    // reserved, broadcast
        "::/128",         // unspecified
        "::1/128",        // loopback
        "100::/64",       // discard-only
        "fc00::/7",       // unique-local
        "fe80::/10",      // link-local
        "fec0::/10",      // site-local (deprecated)
        "ff00::/8",       // multicast
    ]
    .iter()
    .map(|net| net.parse().expect("a valid range"))
    .collect()
});

/// Whether `ip` is in a range refused by default.
fn is_internal(ip: IpAddr) -> bool {
    INTERNAL.iter().any(|net| net.contains(&ip))
}

/// The IPv4 address an IPv6 address carries: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) or 6to4 (`2002::/16`).
fn embedded_ipv4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    if let Some(v4) = v6.to_ipv4() {
        // `to_ipv4` covers mapped and compatible forms (and `::`, `::1`, judged as IPv6).
        return (!matches!(v6, Ipv6Addr::UNSPECIFIED | Ipv6Addr::LOCALHOST)).then_some(v4);
    }
    let [a, b, c, d, e, f, g, h] = v6.segments();
    let from = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if [a, b, c, d, e, f] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(from(g, h));
    }
    (a == 0x2002).then(|| from(b, c))
}

/// Resolves host names with the system resolver, keeping only permitted addresses.
struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(resolve_permitted(self.policy.clone(), name))
    }
}

/// The permitted addresses of `name`; an error when none is.
async fn resolve_permitted(
    policy: Arc<AddressPolicy>,
    name: Name,
) -> Result<Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
    let permitted: Vec<SocketAddr> = found.filter(|a| policy.permits(a.ip())).collect();
    if permitted.is_empty() {
        return Err(Box::new(AddressNotAllowed));
    }
    Ok(Box::new(permitted.into_iter()))
}

/// A guarded HTTP client (cheap to clone).
#[derive(Clone)]
pub struct OutboundClient {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

impl OutboundClient {
    /// A client following `settings`, sending `user_agent`; `timeout` bounds a whole request.
    pub fn new(
        settings: &OutboundSettings,
        user_agent: &str,
        timeout: Option<Duration>,
    ) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(AddressPolicy::allowing(&settings.allow_cidrs));
        let connect_timeout = settings.connect_timeout();
        let mut builder = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(user_agent)
            .connect_timeout(timeout.map_or(connect_timeout, |t| t.min(connect_timeout)));
        if let Some(timeout) = timeout {
            builder = builder.timeout(timeout);
        }
        Ok(OutboundClient {
            client: builder.build()?,
            policy,
        })
    }

    /// Starts a GET request (send it with [`OutboundClient::send`]).
    pub fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.get(url)
    }

    /// Starts a POST request (send it with [`OutboundClient::send`]).
    pub fn post(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.post(url)
    }

    /// Sends a request if its target is allowed; redirects come back as responses.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, OutboundError> {
        let request = request.build()?;
        if let Some(ip) = literal_ip(request.url())
            && !self.policy.permits(ip)
        {
            return Err(OutboundError::NotAllowed);
        }
        self.client.execute(request).await.map_err(|error| {
            if refused_by_resolver(&error) {
                OutboundError::NotAllowed
            } else {
                OutboundError::Http(error)
            }
        })
    }
}

/// The URL's host when it is an IP address (the resolver never sees those).
fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// Whether the resolver refused every address of the host.
fn refused_by_resolver(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.is::<AddressNotAllowed>() {
            return true;
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_refused_in_every_form() {
        let policy = AddressPolicy::default();
        for refused in [
            "127.0.0.1",
            "127.1.2.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(!policy.permits(ip(refused)), "{refused} must be refused");
        }
        for allowed in [
            "93.184.216.34",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
        ] {
            assert!(policy.permits(ip(allowed)), "{allowed} must be allowed");
        }
    }

    #[test]
    fn listed_ranges_are_allowed_also_in_mapped_form() {
        let allow = [
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.0/16".parse().unwrap(),
        ];
        let policy = AddressPolicy::allowing(&allow);
        assert!(policy.permits(ip("127.0.0.1")));
        assert!(policy.permits(ip("::ffff:127.0.0.1")));
        assert!(policy.permits(ip("10.0.5.5")));
        assert!(!policy.permits(ip("10.1.0.1")));
        assert!(!policy.permits(ip("::1")));
        assert!(!policy.permits(ip("169.254.169.254")));
    }
}
