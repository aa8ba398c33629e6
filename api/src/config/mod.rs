//! Configuration, layered: built-in defaults → `trickle.toml` (or `--config PATH`) →
//! `TRICKLE_*` environment variables (nested keys with `__`) → command-line flags.
//! The edge's settings (rate limits, `/metrics`, proxies, the console) are in `edge.rs`,
//! the background work's (jobs, webhooks, retention) in `background.rs`.

use figment::Figment;

pub use crate::outbound::OutboundSettings;
use crate::providers::EnrichmentConfig;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

pub use background::{JobSettings, RetentionSettings, WebhookSettings};
pub use edge::{ConsoleSettings, MetricsSettings, RateLimit, TrustedProxies};

mod background;
mod edge;
#[cfg(test)]
mod tests;

/// Everything a `trickle` process can be told.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://trickle.db` (default) or `postgres://user@host/db`.
    pub database_url: String,
    /// PostgreSQL only, where `database_url` goes through a transaction-pooling proxy
    /// (pgbouncer ≥ 1.21 with `max_prepared_statements`): the same database reached
    /// directly, for migrations and for `LISTEN` (cache invalidations from other
    /// replicas), which need a session of their own. Unset: `database_url` is direct.
    pub database_direct_url: Option<String>,
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

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://trickle.db".into(),
            database_direct_url: None,
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

/// The database URLs may hold a password: never print it.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &without_password(&self.database_url))
            .field(
                "database_direct_url",
                &self.database_direct_url.as_deref().map(without_password),
            )
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

/// A URL with its password, if any, replaced by `***`.
pub(crate) fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
