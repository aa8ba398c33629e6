//! The `[enrichment]` configuration section.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Default time to live of the built-in providers' results: 30 days.
const DEFAULT_BUILT_IN_TTL_HOURS: u64 = 720;
/// Default time to live of an http provider's results: 7 days.
const DEFAULT_HTTP_TTL_HOURS: u64 = 168;
/// Default time limit of one http provider request.
const DEFAULT_HTTP_TIMEOUT_MS: u64 = 3000;

fn default_built_in_ttl_hours() -> u64 {
    DEFAULT_BUILT_IN_TTL_HOURS
}

fn default_http_ttl_hours() -> u64 {
    DEFAULT_HTTP_TTL_HOURS
}

fn default_http_timeout_ms() -> u64 {
    DEFAULT_HTTP_TIMEOUT_MS
}

/// `[enrichment]`: which providers run. A provider runs when its table is present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichmentConfig {
    /// `[enrichment.geoip]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geoip: Option<GeoipConfig>,
    /// `[enrichment.user_agent]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<UserAgentConfig>,
    /// `[enrichment.email]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailConfig>,
    /// `[enrichment.http.NAME]`, keyed by NAME.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub http: BTreeMap<String, HttpProviderConfig>,
}

/// `[enrichment.geoip]`: a MaxMind-format `.mmdb` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoipConfig {
    /// Path of a GeoIP2/GeoLite2 City or Country database, or an
    /// ip-location-db (flattened) `.mmdb` file.
    pub database: PathBuf,
    /// How long a result stays fresh, in hours (default 720).
    #[serde(default = "default_built_in_ttl_hours")]
    pub ttl_hours: u64,
}

impl Default for GeoipConfig {
    fn default() -> Self {
        GeoipConfig {
            database: PathBuf::new(),
            ttl_hours: DEFAULT_BUILT_IN_TTL_HOURS,
        }
    }
}

/// `[enrichment.user_agent]`: browser, OS and device class from the `User-Agent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserAgentConfig {
    /// How long a result stays fresh, in hours (default 720).
    #[serde(default = "default_built_in_ttl_hours")]
    pub ttl_hours: u64,
}

impl Default for UserAgentConfig {
    fn default() -> Self {
        UserAgentConfig {
            ttl_hours: DEFAULT_BUILT_IN_TTL_HOURS,
        }
    }
}

/// `[enrichment.email]`: the e-mail domain and whether it is free, disposable or corporate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// How long a result stays fresh, in hours (default 720).
    #[serde(default = "default_built_in_ttl_hours")]
    pub ttl_hours: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            ttl_hours: DEFAULT_BUILT_IN_TTL_HOURS,
        }
    }
}

/// `[enrichment.http.NAME]`: any JSON API, queried with a GET.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpProviderConfig {
    /// URL template. Placeholders `{email}`, `{domain}`, `{ip}`, `{user_id}` are
    /// replaced by percent-encoded values; `${VAR}` by the environment variable
    /// VAR (verbatim) when the providers are built.
    pub url: String,
    /// Request headers; `${VAR}` in a value is taken from the environment when
    /// the providers are built.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Time limit of one request, in milliseconds (default 3000).
    #[serde(default = "default_http_timeout_ms")]
    pub timeout_ms: u64,
    /// How long a result stays fresh, in hours (default 168).
    #[serde(default = "default_http_ttl_hours")]
    pub ttl_hours: u64,
    /// Output field → JSON pointer (RFC 6901) into the response body.
    pub map: BTreeMap<String, String>,
}

impl Default for HttpProviderConfig {
    fn default() -> Self {
        HttpProviderConfig {
            url: String::new(),
            headers: BTreeMap::new(),
            timeout_ms: DEFAULT_HTTP_TIMEOUT_MS,
            ttl_hours: DEFAULT_HTTP_TTL_HOURS,
            map: BTreeMap::new(),
        }
    }
}
