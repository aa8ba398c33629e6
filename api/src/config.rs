//! Configuration, layered: built-in defaults → `trickle.toml` (or `--config PATH`) →
//! `TRICKLE_*` environment variables (nested keys with `__`) → command-line flags.

use figment::Figment;

use crate::providers::EnrichmentConfig;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
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
    /// Take the client IP from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Limits on the widget endpoints, per site and client IP.
    pub rate_limit: RateLimit,
    /// The job queue (enrichment and webhooks).
    pub jobs: JobSettings,
    /// Webhook deliveries.
    pub webhooks: WebhookSettings,
    /// Enrichment providers (none by default).
    pub enrichment: EnrichmentConfig,
    /// Key that encrypts identity and webhook secrets at rest: 32 bytes as 64 hex digits
    /// or base64 (`openssl rand -base64 32`). Unset: they are stored as plaintext.
    /// Setting it encrypts existing ones at the next start; it cannot be unset after.
    pub secrets_key: Option<String>,
    /// How long keys replaced by a rotation stay valid unless the rotation says
    /// otherwise, in seconds (default 24 h).
    pub key_grace_seconds: u64,
}

/// Log output format.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// A token bucket per (site, IP) for the widget endpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained requests per minute.
    pub widget_per_minute: u32,
    /// Requests allowed in a burst.
    pub widget_burst: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://trickle.db".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Text,
            cache_ttl_seconds: 30,
            trust_forwarded_for: false,
            rate_limit: RateLimit::default(),
            jobs: JobSettings::default(),
            webhooks: WebhookSettings::default(),
            enrichment: EnrichmentConfig::default(),
            secrets_key: None,
            key_grace_seconds: 24 * 60 * 60,
        }
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            widget_per_minute: 600,
            widget_burst: 60,
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
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("rate_limit", &self.rate_limit)
            .field("jobs", &self.jobs)
            .field("webhooks", &self.webhooks)
            .field("enrichment", &self.enrichment)
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
        Ok(figment.merge(env).extract()?)
    }

    fn top_level_keys() -> Vec<String> {
        match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
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
    /// Jobs run at once by one process.
    pub concurrency: u32,
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
            concurrency: 4,
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
            let s = Settings::load(Some(Path::new("custom.toml"))).unwrap();
            assert_eq!(s.listen.port(), 9999);
            assert_eq!(s.database_url, "postgres://u:pw@db/x");
            assert_eq!(
                (s.rate_limit.widget_per_minute, s.rate_limit.widget_burst),
                (7, 5)
            );
            assert!(!format!("{s:?}").contains("pw"));
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
