//! Configuration, layered: built-in defaults → `trickle.toml` (or `--config PATH`) →
//! `TRICKLE_*` environment variables (nested keys with `__`) → command-line flags.

use figment::Figment;

pub use crate::outbound::OutboundSettings;
use crate::providers::EnrichmentConfig;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

/// Everything a `trickle` process can be told.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://trickle.db` (default) or `postgres://user@host/db`.
    pub database_url: String,
    /// Address `serve` listens on.
    pub listen: SocketAddr,
    /// `text` for people, `json` for log shippers.
    pub log_format: LogFormat,
    /// How long cached sites and question sets live at most, in seconds. Publishing
    /// invalidates at once (on PostgreSQL, on every replica via LISTEN/NOTIFY).
    pub cache_ttl_seconds: u64,
    /// Proxies (CIDR blocks or single addresses) whose `X-Forwarded-For` is believed:
    /// the client is the right-most hop that is not one of them. Empty (the default):
    /// the socket peer is the client.
    pub trusted_proxies: TrustedProxies,
    /// Replaced by `trusted_proxies`. `false` (the old default) is accepted and means
    /// nothing; `true` is refused at load, since it trusted anyone's first hop.
    #[serde(skip_serializing)]
    pub trust_forwarded_for: Option<bool>,
    /// Limits on the widget endpoints, per client IP and per site and client IP.
    pub rate_limit: RateLimit,
    /// Who may read `/metrics`, and where.
    pub metrics: MetricsSettings,
    /// The job queue (enrichment and webhooks).
    pub jobs: JobSettings,
    /// Webhook deliveries.
    pub webhooks: WebhookSettings,
    /// Enrichment providers (none by default).
    pub enrichment: EnrichmentConfig,
    /// How long history is kept (`[retention]`).
    pub retention: RetentionSettings,
    /// Outbound HTTP (webhooks, `http` providers): which addresses may be called.
    pub outbound: OutboundSettings,
    /// Key that encrypts identity and webhook secrets at rest: 32 bytes as 64 hex digits
    /// or base64 (`openssl rand -base64 32`). Unset: they are stored as plaintext.
    /// Setting it encrypts existing ones at the next start; it cannot be unset after.
    pub secrets_key: Option<String>,
    /// How long keys replaced by a rotation stay valid unless the rotation says
    /// otherwise, in seconds (default 24 h).
    pub key_grace_seconds: u64,
    /// The console at `/console` (`[console]`): sessions and sign-in limits.
    pub console: ConsoleSettings,
}

/// Log output format.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

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

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://trickle.db".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Text,
            cache_ttl_seconds: 30,
            trusted_proxies: TrustedProxies::default(),
            trust_forwarded_for: None,
            rate_limit: RateLimit::default(),
            metrics: MetricsSettings::default(),
            jobs: JobSettings::default(),
            webhooks: WebhookSettings::default(),
            enrichment: EnrichmentConfig::default(),
            retention: RetentionSettings::default(),
            outbound: OutboundSettings::default(),
            secrets_key: None,
            key_grace_seconds: 24 * 60 * 60,
            console: ConsoleSettings::default(),
        }
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

/// The database URL may hold a password: never print it.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = match url::Url::parse(&self.database_url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.database_url.clone(),
        };
        f.debug_struct("Settings")
            .field("database_url", &url)
            .field("listen", &self.listen)
            .field("log_format", &self.log_format)
            .field("cache_ttl_seconds", &self.cache_ttl_seconds)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("rate_limit", &self.rate_limit)
            .field("metrics", &self.metrics)
            .field("jobs", &self.jobs)
            .field("webhooks", &self.webhooks)
            .field("enrichment", &self.enrichment)
            .field("retention", &self.retention)
            .field("outbound", &self.outbound)
            .field("secrets_key", &self.secrets_key.as_ref().map(|_| "***"))
            .field("key_grace_seconds", &self.key_grace_seconds)
            .finish()
    }
}

impl Settings {
    /// Loads defaults, then the TOML file (`path`, or `trickle.toml` if it exists), then
    /// `TRICKLE_*` variables. An explicitly named file must exist.
    pub fn load(path: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match path {
            Some(path) if !path.exists() => {
                let message = format!("config file {} not found", path.display());
                return Err(Box::new(figment::Error::from(message)));
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file("trickle.toml")),
        }
        // The environment is shared with other tools (the test suite's TRICKLE_TEST_*, a
        // deploy tool's variables): read only variables that name a setting. Files stay strict.
        let known = Settings::top_level_keys();
        let env = Env::prefixed("TRICKLE_").split("__").filter(move |key| {
            // Keys arrive before lower-casing, with `__` already turned into `.`.
            let first = key.as_str().split('.').next().unwrap_or_default();
            known.iter().any(|k| k.eq_ignore_ascii_case(first))
        });
        let settings: Settings = figment.merge(env).extract()?;
        settings
            .check()
            .map_err(|m| Box::new(figment::Error::from(m)))?;
        Ok(settings)
    }

    /// What the types alone cannot refuse.
    fn check(&self) -> Result<(), String> {
        if self.trust_forwarded_for == Some(true) {
            return Err(
                "trust_forwarded_for was replaced by trusted_proxies: list the \
                addresses of your proxies, e.g. trusted_proxies = [\"10.0.0.0/8\"], and \
                remove trust_forwarded_for (it believed any client's X-Forwarded-For)"
                    .into(),
            );
        }
        if self
            .metrics
            .bearer_token
            .as_ref()
            .is_some_and(|t| t.trim().len() < 16)
        {
            return Err("metrics.bearer_token must be at least 16 bytes".into());
        }
        Ok(())
    }

    fn top_level_keys() -> Vec<String> {
        let mut keys = match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        // Not serialised, still read: so that the old variable is refused, not ignored.
        keys.push("trust_forwarded_for".into());
        keys
    }
}

/// Queue tuning (`[jobs]` in trickle.toml).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Attempts before a job is dead.
    pub max_attempts: i64,
    /// First retry delay; doubles on each attempt.
    pub backoff_base_ms: u64,
    /// Longest retry delay.
    pub backoff_cap_seconds: u64,
    /// Jobs run at once by one process; each finishes on its own.
    pub concurrency: u32,
    /// Jobs of one site running at once (over all processes), so one site's slow
    /// receivers cannot hold every slot.
    pub per_site_concurrency: u32,
    /// How often an idle worker looks for due jobs.
    pub poll_interval_ms: u64,
    /// How long a claim lasts; a job running longer (or whose worker died) is claimed again.
    pub lease_seconds: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            max_attempts: 10,
            backoff_base_ms: 2000,
            backoff_cap_seconds: 3600,
            concurrency: 8,
            per_site_concurrency: 4,
            poll_interval_ms: 500,
            lease_seconds: 60,
        }
    }
}

impl JobSettings {
    /// Delay before the retry that follows `attempts` failed attempts:
    /// base × 2^(attempts − 1), capped.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let exponent = attempts.clamp(1, 32) as u32 - 1;
        let delay = self
            .backoff_base_ms
            .saturating_mul(2u64.saturating_pow(exponent));
        Duration::from_millis(delay).min(Duration::from_secs(self.backoff_cap_seconds))
    }

    /// What one claim may take with `free` slots.
    pub fn claim_limits(&self, free: u32) -> crate::store::ClaimLimits {
        crate::store::ClaimLimits {
            total: free,
            per_site: self.per_site_concurrency.max(1),
        }
    }

    /// The claim lease.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_seconds.max(1))
    }
}

/// Webhook tuning (`[webhooks]` in trickle.toml).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Failed attempts in a row after which a subscription is disabled.
    pub disable_after_failures: i64,
    /// How long a receiver may take to answer.
    pub timeout_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            disable_after_failures: 50,
            timeout_ms: 10_000,
        }
    }
}

/// How long history is kept, in days (`[retention]` in trickle.toml); 0 keeps it forever.
/// The worker purges older rows every `RetentionSettings::PURGE_EVERY`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// Login events (IP, user agent, time) by when they occurred. A retried event older
    /// than this counts again.
    pub login_events_days: u32,
    /// Done and dead jobs, by when they finished.
    pub jobs_days: u32,
    /// Delivered, dead and cancelled webhook deliveries (the delivery log and its
    /// payloads), by when they finished.
    pub deliveries_days: u32,
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

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            login_events_days: 90,
            jobs_days: 7,
            deliveries_days: 30,
        }
    }
}

impl RetentionSettings {
    /// How often the worker purges.
    pub const PURGE_EVERY: Duration = Duration::from_secs(3600);
}

#[cfg(test)]
// `figment::Jail::expect_with` fixes the closure's error type; we cannot box it.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn file_then_env_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "listen = \"127.0.0.1:9999\"\n[rate_limit]\nwidget_burst = 5\n",
            )?;
            jail.set_env("TRICKLE_DATABASE_URL", "postgres://u:pw@db/x");
            jail.set_env("TRICKLE_RATE_LIMIT__WIDGET_PER_MINUTE", "7");
            jail.set_env("TRICKLE_TEST_POSTGRES_URL", "postgres://elsewhere/test");
            jail.set_env("TRICKLE_RETENTION__JOBS_DAYS", "0");
            let s = Settings::load(Some(Path::new("custom.toml"))).unwrap();
            assert_eq!(s.listen.port(), 9999);
            assert_eq!(s.database_url, "postgres://u:pw@db/x");
            assert_eq!(
                (s.rate_limit.widget_per_minute, s.rate_limit.widget_burst),
                (7, 5)
            );
            assert!(!format!("{s:?}").contains("pw"));
            assert_eq!(
                (s.retention.jobs_days, s.retention.deliveries_days),
                (0, 30),
                "0 keeps jobs forever; the rest keep their defaults"
            );
            Ok(())
        });
    }

    #[test]
    fn the_secrets_key_comes_from_the_environment_and_never_prints() {
        figment::Jail::expect_with(|jail| {
            let key = "q4Vx3kqZ7m1Yb0f2c8LrT5nW9sH6dJ1eA3uG7pK2oZc=";
            jail.set_env("TRICKLE_SECRETS_KEY", key);
            jail.set_env("TRICKLE_KEY_GRACE_SECONDS", "60");
            let s = Settings::load(None).unwrap();
            assert_eq!(s.secrets_key.as_deref(), Some(key));
            assert_eq!(s.key_grace_seconds, 60);
            let printed = format!("{s:?}");
            assert!(!printed.contains(key) && printed.contains("secrets_key: Some(\"***\")"));
            assert_eq!(Settings::default().key_grace_seconds, 86_400);
            Ok(())
        });
    }

    #[test]
    fn the_shipped_example_configurations_parse() {
        // Inside a Jail: other tests' jails set TRICKLE_* variables process-wide, and
        // jails run one at a time.
        figment::Jail::expect_with(|_| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let example = Settings::load(Some(&root.join("trickle.example.toml"))).unwrap();
            assert_eq!(example.rate_limit.widget_per_minute, 600);
            assert_eq!(example.retention, RetentionSettings::default());
            let enrichment = Settings::load(Some(&root.join("examples/enrichment.toml"))).unwrap();
            assert!(enrichment.enrichment.geoip.is_some() && enrichment.enrichment.email.is_some());
            assert!(enrichment.enrichment.http.contains_key("company"));
            assert_eq!(enrichment.webhooks.disable_after_failures, 50);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "lissen = \"x\"\n")?;
            assert!(Settings::load(Some(Path::new("bad.toml"))).is_err());
            assert!(Settings::load(Some(Path::new("nope.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    fn trusted_proxies_are_cidr_blocks_or_addresses() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "proxies.toml",
                "trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\", \"2001:db8::/32\"]\n",
            )?;
            let s = Settings::load(Some(Path::new("proxies.toml"))).unwrap();
            let trusted = |ip: &str| s.trusted_proxies.contains(ip.parse().unwrap());
            assert!(trusted("10.200.0.1") && trusted("192.0.2.7") && trusted("2001:db8::5"));
            assert!(
                trusted("::ffff:10.0.0.1"),
                "IPv4-mapped peers count as IPv4"
            );
            assert!(!trusted("192.0.2.8") && !trusted("11.0.0.1"));
            jail.create_file("bad.toml", "trusted_proxies = [\"10.0.0.0/33\"]\n")?;
            let error = Settings::load(Some(Path::new("bad.toml"))).unwrap_err();
            assert!(error.to_string().contains("10.0.0.0/33"), "{error}");
            jail.set_env("TRICKLE_TRUSTED_PROXIES", "[\"172.16.0.0/12\"]");
            let s = Settings::load(Some(Path::new("proxies.toml"))).unwrap();
            assert!(s.trusted_proxies.contains("172.16.1.1".parse().unwrap()));
            Ok(())
        });
    }

    #[test]
    fn the_old_trust_forwarded_for_is_refused_when_true() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("old.toml", "trust_forwarded_for = false\n")?;
            let s = Settings::load(Some(Path::new("old.toml"))).unwrap();
            assert!(
                s.trusted_proxies.0.is_empty(),
                "false was the default: nothing trusted"
            );
            jail.create_file("old_true.toml", "trust_forwarded_for = true\n")?;
            let error = Settings::load(Some(Path::new("old_true.toml"))).unwrap_err();
            assert!(error.to_string().contains("trusted_proxies"), "{error}");
            jail.set_env("TRICKLE_TRUST_FORWARDED_FOR", "true");
            let error = Settings::load(Some(Path::new("old.toml"))).unwrap_err();
            assert!(error.to_string().contains("trusted_proxies"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn the_metrics_token_is_long_enough_and_never_printed() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("m.toml", "[metrics]\nlisten = \"127.0.0.1:9100\"\n")?;
            jail.set_env("TRICKLE_METRICS__BEARER_TOKEN", "scrape-me-0123456789");
            let s = Settings::load(Some(Path::new("m.toml"))).unwrap();
            assert_eq!(
                s.metrics.bearer_token.as_deref(),
                Some("scrape-me-0123456789")
            );
            assert_eq!(s.metrics.listen, Some("127.0.0.1:9100".parse().unwrap()));
            assert!(!format!("{s:?}").contains("scrape-me"));
            jail.set_env("TRICKLE_METRICS__BEARER_TOKEN", "short");
            assert!(Settings::load(Some(Path::new("m.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    fn outbound_allow_list_comes_from_the_file_or_the_environment() {
        figment::Jail::expect_with(|jail| {
            assert!(
                Settings::load(None)
                    .unwrap()
                    .outbound
                    .allow_cidrs
                    .is_empty()
            );
            jail.create_file(
                "trickle.toml",
                "[outbound]\nallow_cidrs = [\"127.0.0.0/8\", \"::1/128\"]\n",
            )?;
            let from_file = Settings::load(None).unwrap().outbound.allow_cidrs;
            assert_eq!(
                from_file,
                OutboundSettings::allowing(&["127.0.0.0/8", "::1/128"]).allow_cidrs
            );
            jail.set_env(
                "TRICKLE_OUTBOUND__ALLOW_CIDRS",
                "[10.0.0.0/8, \"fd00::/8\"]",
            );
            jail.set_env("TRICKLE_OUTBOUND__CONNECT_TIMEOUT_MS", "1500");
            let from_env = Settings::load(None).unwrap().outbound;
            assert_eq!(
                from_env.allow_cidrs,
                OutboundSettings::allowing(&["10.0.0.0/8", "fd00::/8"]).allow_cidrs
            );
            assert_eq!(from_env.connect_timeout(), Duration::from_millis(1500));
            jail.set_env("TRICKLE_OUTBOUND__ALLOW_CIDRS", "[not-a-cidr]");
            assert!(
                Settings::load(None).is_err(),
                "a bad range is an error, not ignored"
            );
            Ok(())
        });
    }

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let settings = JobSettings {
            backoff_base_ms: 2000,
            backoff_cap_seconds: 30,
            ..Default::default()
        };
        let delays: Vec<u64> = (1..=6).map(|a| settings.backoff(a).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 30, 30]);
        assert!(
            settings.backoff(1) <= Duration::from_secs(5),
            "the first retry comes within 5 s"
        );
        assert_eq!(settings.backoff(1_000_000), Duration::from_secs(30));
    }
}
