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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

/// `[enrichment.http.NAME]`: any JSON API, queried with a GET or a POST.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpProviderConfig {
    /// URL template. Placeholders `{email}`, `{domain}`, `{ip}`, `{user_id}` and any
    /// profile path (`{user_metadata.twitter}`, `{app_metadata.enrichment.person.handle}`,
    /// `{app_metadata.idp.location}`) are replaced by percent-encoded values; `${VAR}` by
    /// the environment variable VAR (verbatim) when the providers are built.
    pub url: String,
    /// `GET` (default) or `POST`.
    #[serde(default)]
    pub method: HttpMethod,
    /// JSON body template of a `POST`: placeholders as in `url`, filled JSON-escaped
    /// (inside a JSON string, or bare for numbers); the result must be valid JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
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
    /// A condition in the question sets' `when` language: the provider runs only for
    /// users it holds for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<serde_json::Value>,
    /// Output field → JSON pointer (RFC 6901) into the response body, or
    /// `{ pointer, transform }` with a named [`Transform`].
    pub map: BTreeMap<String, MapEntry>,
    /// Calls per second at most, from this process (each replica holds its own limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_second: Option<f64>,
    /// Calls per UTC day at most, over the whole deployment; when spent, jobs wait for
    /// the next day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_budget: Option<u64>,
    /// Keep results by the hash of their input values (per site, for `ttl_hours`), so
    /// users with the same inputs (one company domain) cost one call.
    #[serde(default)]
    pub cache: bool,
    /// What one call costs (any currency), for the spend metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_call: Option<f64>,
}

impl Default for HttpProviderConfig {
    fn default() -> Self {
        HttpProviderConfig {
            url: String::new(),
            method: HttpMethod::Get,
            body: None,
            headers: BTreeMap::new(),
            timeout_ms: DEFAULT_HTTP_TIMEOUT_MS,
            ttl_hours: DEFAULT_HTTP_TTL_HOURS,
            when: None,
            map: BTreeMap::new(),
            rate_per_second: None,
            daily_budget: None,
            cache: false,
            cost_per_call: None,
        }
    }
}

/// The request method of an http provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpMethod {
    /// `GET`: no body.
    #[default]
    #[serde(rename = "GET")]
    Get,
    /// `POST` with the `body` template.
    #[serde(rename = "POST")]
    Post,
}

/// One mapped output field: a JSON pointer, or a pointer and a transform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MapEntry {
    /// The value at this pointer, as is.
    Pointer(String),
    /// The value at `pointer`, transformed.
    Transformed {
        /// JSON pointer (RFC 6901) into the response body.
        pointer: String,
        /// What to do with the value.
        transform: Transform,
    },
}

impl MapEntry {
    /// The entry's JSON pointer.
    pub fn pointer(&self) -> &str {
        match self {
            MapEntry::Pointer(pointer) | MapEntry::Transformed { pointer, .. } => pointer,
        }
    }
}

impl From<&str> for MapEntry {
    fn from(pointer: &str) -> Self {
        MapEntry::Pointer(pointer.to_owned())
    }
}

impl From<String> for MapEntry {
    fn from(pointer: String) -> Self {
        MapEntry::Pointer(pointer)
    }
}

/// The named transforms of a mapped value (a closed set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// Whole years from a date (`YYYY-MM-DD…`, e.g. a birthdate) until today (UTC).
    YearsSince,
    /// A string in lower case.
    Lower,
    /// The first element of a list.
    First,
}
