//! What the HTTP edge is told: the widget's rate limits, `/metrics`, the proxies whose
//! forwarded addresses are believed, and the console's sessions.

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Token buckets for the widget endpoints: one per client IP, checked before any other
/// work (CORS preflights included), then one per (site, client IP).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained requests per minute, per site and client IP.
    pub widget_per_minute: u32,
    /// Requests allowed in a burst, per site and client IP.
    pub widget_burst: u32,
    /// Sustained requests per minute from one client IP, all sites together.
    pub ip_per_minute: u32,
    /// Requests allowed in a burst from one client IP.
    pub ip_burst: u32,
}

/// `/metrics` (`[metrics]` in trickle.toml). With neither field set it is served, open,
/// on the main address: it holds only request counts and latencies per route template,
/// method and status (no tenant, user, key or address), and an open scrape endpoint is
/// Prometheus' convention. Set one or both when the main address is reachable by others.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Serve `/metrics` on this address only (and not on `listen`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// Require `Authorization: Bearer <token>` (at least 16 bytes) to read `/metrics`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<String>,
}

impl fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("listen", &self.listen)
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The proxies whose `X-Forwarded-For` hops are believed, written as strings:
/// `"10.0.0.0/8"`, `"2001:db8::/32"` or a single address such as `"192.0.2.7"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    /// Whether `ip` (an IPv4-mapped IPv6 address counts as its IPv4 one) is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

impl Serialize for TrustedProxies {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let parse = |text: &str| {
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "{text:?} is not a CIDR block (10.0.0.0/8) or an IP address"
                    ))
                })
        };
        Vec::<String>::deserialize(deserializer)?
            .iter()
            .map(|text| parse(text.trim()))
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            widget_per_minute: 600,
            widget_burst: 60,
            ip_per_minute: 1800,
            ip_burst: 180,
        }
    }
}

/// The console's sessions and sign-in limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSettings {
    /// How long a sign-in lasts, in hours (then the admin signs in again).
    pub session_hours: u32,
    /// Sign-in attempts per minute from one client IP (also the burst).
    pub sign_in_ip_per_minute: u32,
    /// Sign-in attempts per minute for one e-mail, from anywhere (also the burst).
    pub sign_in_email_per_minute: u32,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            session_hours: 12,
            sign_in_ip_per_minute: 20,
            sign_in_email_per_minute: 5,
        }
    }
}
