//! Enrichment providers: facts about a user looked up after a login, off the
//! request path (see SPEC.md, "Enrichment").
//!
//! Each provider answers for one [`Subject`] and its result lands at
//! `app_metadata.enrichment.<name>`. Results never carry `fetched_at`; the
//! caller stamps it.

mod config;
mod email;
mod geoip;
mod graph;
mod http;
mod quota;
mod template;
mod transform;
mod user_agent;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use crate::outbound::OutboundSettings;
use crate::questions::Condition;

pub use config::{
    EmailConfig, EnrichmentConfig, GeoipConfig, HttpMethod, HttpProviderConfig, MapEntry,
    Transform, UserAgentConfig,
};
pub use graph::dependencies;
pub use quota::Quotas;

/// Expands to the contents of a file in the crate's `data/` directory.
///
/// The one place that knows where the shipped data files live.
macro_rules! data_file {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/", $name))
    };
}
pub(crate) use data_file;

/// What a provider may look at: the user's last login facts and profile.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// The site's id for the user.
    pub user_id: String,
    /// The e-mail address given at the last login, if any.
    pub email: Option<String>,
    /// The client IP address of the last login, if any.
    pub ip: Option<std::net::IpAddr>,
    /// The `User-Agent` of the last login, if any.
    pub user_agent: Option<String>,
    /// Answers (read by `{user_metadata.…}` placeholders).
    pub user_metadata: serde_json::Value,
    /// Identity-provider claims, enrichment and the rest (read by `{app_metadata.…}`).
    pub app_metadata: serde_json::Value,
}

/// A provider's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Facts found, keyed by field name.
    Found(serde_json::Map<String, serde_json::Value>),
    /// The provider knows nothing about this subject (or lacks its input).
    NothingKnown,
}

impl Lookup {
    /// `Found(fields)` unless `fields` is empty, then `NothingKnown`.
    pub(crate) fn from_fields(fields: serde_json::Map<String, serde_json::Value>) -> Self {
        if fields.is_empty() {
            Lookup::NothingKnown
        } else {
            Lookup::Found(fields)
        }
    }
}

/// Why a lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Worth trying again later (timeouts, 429, 5xx, connection errors, …).
    #[error("{0}")]
    Retryable(String),
    /// Trying again will not help (bad credentials, unexpected response, …).
    #[error("{0}")]
    Permanent(String),
}

/// One source of enrichment facts.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Where results land: app_metadata.enrichment.<name>.
    fn name(&self) -> &str;
    /// How long a result stays fresh.
    fn ttl(&self) -> Duration;
    /// Looks the subject up. Never panics; a provider that lacks its input (no IP, no e-mail) returns Ok(NothingKnown).
    async fn lookup(&self, subject: &Subject) -> Result<Lookup, ProviderError>;
    /// The values the lookup reads, in a stable order (their hash decides whether a
    /// stored result is still current); `None` while one is unknown: it cannot run yet.
    /// By default the last login's e-mail, IP and user agent, always known.
    fn inputs(&self, subject: &Subject) -> Option<Vec<String>> {
        Some(vec![
            subject.email.clone().unwrap_or_default(),
            subject.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            subject.user_agent.clone().unwrap_or_default(),
        ])
    }
    /// The profile paths it reads (`user_metadata.…`, `app_metadata.…`): a path under
    /// `app_metadata.enrichment.<other>` makes it depend on that provider.
    fn reads(&self) -> Vec<String> {
        Vec::new()
    }
    /// The condition a user must meet for it to run (`when`), if any.
    fn when(&self) -> Option<&Condition> {
        None
    }
    /// What sort of provider it is (`geoip`, `user_agent`, `email`, `http`), for status pages.
    fn kind(&self) -> &str {
        "custom"
    }
    /// The inputs it is configured to read, as written (`ip`, `{domain}`,
    /// `{app_metadata.enrichment.person.twitter}`), for status pages.
    fn input_names(&self) -> Vec<String> {
        vec!["email".into(), "ip".into(), "user_agent".into()]
    }
    /// Its rate limit, daily budget, cache and cost, if it has any (http providers).
    fn quotas(&self) -> Option<&Quotas> {
        None
    }
}

/// A configuration problem found while building a provider.
///
/// Messages never contain secret values (header values, environment values).
#[derive(Debug, thiserror::Error)]
#[error("enrichment.{provider}: {message}")]
pub struct ConfigError {
    /// The provider's name (`geoip`, `user_agent`, `email` or the http NAME).
    pub provider: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(provider: &str, message: impl Into<String>) -> Self {
        ConfigError {
            provider: provider.to_owned(),
            message: message.into(),
        }
    }
}

/// Built-in provider names; an http provider may not use them.
const BUILT_IN_NAMES: [&str; 3] = ["geoip", "user_agent", "email"];

/// Builds every configured provider, ordered so that each comes after the providers
/// whose results it reads; fails on a missing .mmdb file, a bad URL or body template, an
/// unknown ${ENV} variable, a bad JSON pointer or `when`, a cycle, ….
/// `http` providers call out through the guarded client configured by `outbound`.
pub fn build_providers(
    config: &EnrichmentConfig,
    outbound: &OutboundSettings,
) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    build_providers_with_env(config, outbound, &|name| std::env::var(name).ok())
}

/// [`build_providers`] with an explicit environment lookup (for `${VAR}`).
pub(crate) fn build_providers_with_env(
    config: &EnrichmentConfig,
    outbound: &OutboundSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    let mut providers: Vec<Arc<dyn Provider>> = Vec::new();
    if let Some(geoip) = &config.geoip {
        providers.push(Arc::new(geoip::GeoipProvider::new(geoip)?));
    }
    if let Some(user_agent) = &config.user_agent {
        providers.push(Arc::new(user_agent::UserAgentProvider::new(user_agent)?));
    }
    if let Some(email) = &config.email {
        providers.push(Arc::new(email::EmailProvider::new(email)?));
    }
    for (name, http) in &config.http {
        check_http_name(name)?;
        providers.push(Arc::new(http::HttpProvider::new(
            name, http, outbound, env,
        )?));
    }
    graph::in_dependency_order(providers)
}

/// An http provider's NAME must match `[a-z0-9_-]{1,64}` and not be built in.
fn check_http_name(name: &str) -> Result<(), ConfigError> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if name.is_empty() || name.len() > 64 || !valid_chars {
        return Err(ConfigError::new(
            &format!("http.{name}"),
            "provider name must match [a-z0-9_-]{1,64}",
        ));
    }
    if BUILT_IN_NAMES.contains(&name) {
        return Err(ConfigError::new(
            &format!("http.{name}"),
            format!("provider name `{name}` collides with the built-in provider of that name"),
        ));
    }
    Ok(())
}

/// Converts a configured `ttl_hours` into a [`Duration`]; zero is refused.
pub(crate) fn ttl_from_hours(provider: &str, hours: u64) -> Result<Duration, ConfigError> {
    if hours == 0 {
        return Err(ConfigError::new(provider, "ttl_hours must be at least 1"));
    }
    Ok(Duration::from_secs(hours.saturating_mul(3600)))
}
