//! The `http` provider: any JSON API behind a templated GET or POST.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::outbound::OutboundSettings;
use crate::outbound::{NOT_ALLOWED, OutboundClient, OutboundError};

use super::template::{BodyTemplate, UrlTemplate, check_json_pointer, substitute_env};
use super::{
    ConfigError, HttpMethod, HttpProviderConfig, Lookup, MapEntry, Provider, ProviderError, Quotas,
    Subject, Transform, transform, ttl_from_hours,
};
use crate::questions::{Condition, ProfilePath, parse_condition_json};

/// The largest response body read; larger answers are refused.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Queries a JSON API and maps response fields by JSON pointer.
pub(crate) struct HttpProvider {
    name: String,
    ttl: Duration,
    timeout: Duration,
    url: UrlTemplate,
    body: Option<BodyTemplate>,
    headers: HeaderMap,
    map: Vec<(String, String, Option<Transform>)>,
    when: Option<Condition>,
    quotas: Quotas,
    client: OutboundClient,
}

impl HttpProvider {
    /// Builds the provider `name` from its configuration, taking `${VAR}`
    /// values from `env`.
    pub(crate) fn new(
        name: &str,
        config: &HttpProviderConfig,
        outbound: &OutboundSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let label = format!("http.{name}");
        let err = |message: String| ConfigError::new(&label, message);
        if config.timeout_ms == 0 {
            return Err(err("timeout_ms must be at least 1".to_owned()));
        }
        let timeout = Duration::from_millis(config.timeout_ms);
        let url = UrlTemplate::parse(&config.url, env).map_err(err)?;
        let body = match (config.method, &config.body) {
            (HttpMethod::Post, Some(body)) => Some(BodyTemplate::parse(body, env).map_err(err)?),
            (HttpMethod::Post, None) => return Err(err("method POST needs a body".to_owned())),
            (HttpMethod::Get, Some(_)) => {
                return Err(err("body is only sent with method = \"POST\"".to_owned()));
            }
            (HttpMethod::Get, None) => None,
        };
        let when = match &config.when {
            Some(when) => Some(parse_condition_json(when).map_err(|e| err(format!("when: {e}")))?),
            None => None,
        };
        let headers = build_headers(&config.headers, env).map_err(err)?;
        let map = build_map(&config.map).map_err(err)?;
        let quotas = Quotas::from_config(&label, config)?;
        // Never follows redirects: reqwest would forward the secret headers to the target.
        let user_agent = concat!("Trickle-Enrichment/", env!("CARGO_PKG_VERSION"));
        let client = OutboundClient::new(outbound, user_agent, Some(timeout))
            .map_err(|e| err(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpProvider {
            name: name.to_owned(),
            ttl: ttl_from_hours(&label, config.ttl_hours)?,
            timeout,
            url,
            body,
            headers,
            map,
            when,
            quotas,
            client,
        })
    }

    /// Sends the request and turns the response into a lookup.
    async fn fetch(&self, url: &str, body: Option<Value>) -> Result<Lookup, ProviderError> {
        let request = match body {
            Some(body) => self.client.post(url).json(&body),
            None => self.client.get(url),
        }
        .headers(self.headers.clone());
        let response = match self.client.send(request).await {
            Ok(response) => response,
            Err(OutboundError::NotAllowed) => {
                // Only a configuration change helps: no retries.
                return Err(ProviderError::Permanent(NOT_ALLOWED.to_owned()));
            }
            Err(OutboundError::Http(error)) => return Err(self.transport_error(error)),
        };
        let status = response.status();
        check_status(status, &response)?;
        if status == StatusCode::NOT_FOUND || status == StatusCode::NO_CONTENT {
            return Ok(Lookup::NothingKnown);
        }
        let body = self.read_body(response).await?;
        let json: Value = serde_json::from_slice(&body)
            .map_err(|e| ProviderError::Retryable(format!("response is not valid JSON: {e}")))?;
        Ok(self.extract(&json, chrono::Utc::now().date_naive()))
    }

    /// Reads the body, refusing more than [`MAX_BODY_BYTES`].
    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(e))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                let message = format!("response body is larger than {MAX_BODY_BYTES} bytes");
                return Err(ProviderError::Permanent(message));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Picks the mapped fields out of the response and transforms them; absent or null
    /// values (and values a transform does not suit) are left out.
    fn extract(&self, json: &Value, today: chrono::NaiveDate) -> Lookup {
        let fields: Map<String, Value> = self
            .map
            .iter()
            .filter_map(|(field, pointer, transform)| {
                let value = json.pointer(pointer).filter(|v| !v.is_null())?;
                let value = match transform {
                    Some(t) => transform::apply(*t, value, today)?,
                    None => value.clone(),
                };
                Some((field.clone(), value))
            })
            .collect();
        Lookup::from_fields(fields)
    }

    /// Describes a transport failure without the URL (it holds personal data and maybe secrets).
    fn transport_error(&self, error: reqwest::Error) -> ProviderError {
        if error.is_timeout() {
            return ProviderError::Retryable(format!(
                "request timed out after {} ms",
                self.timeout.as_millis()
            ));
        }
        let kind = if error.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        ProviderError::Retryable(format!("{kind}: {}", error_chain(&error.without_url())))
    }
}

#[async_trait::async_trait]
impl Provider for HttpProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn ttl(&self) -> Duration {
        self.ttl
    }

    async fn lookup(&self, subject: &Subject) -> Result<Lookup, ProviderError> {
        let Some(url) = self.url.render(subject) else {
            return Ok(Lookup::NothingKnown);
        };
        let body = match self.body.as_ref().map(|b| b.render(subject)) {
            None => None,
            Some(None) => return Ok(Lookup::NothingKnown),
            Some(Some(body)) => Some(body.map_err(ProviderError::Permanent)?),
        };
        // Belt and braces: the client's own timeout covers the body as well.
        let limit = self.timeout + Duration::from_millis(250);
        match tokio::time::timeout(limit, self.fetch(&url, body)).await {
            Ok(result) => result,
            Err(_) => Err(ProviderError::Retryable(format!(
                "request timed out after {} ms",
                self.timeout.as_millis()
            ))),
        }
    }

    fn inputs(&self, subject: &Subject) -> Option<Vec<String>> {
        let mut values = self.url.template().values(subject)?;
        if let Some(body) = &self.body {
            values.extend(body.template().values(subject)?);
        }
        Some(values)
    }

    fn reads(&self) -> Vec<String> {
        let body = self.body.iter().flat_map(|b| b.template().placeholders());
        self.url
            .template()
            .placeholders()
            .chain(body)
            .filter_map(|p| p.path().map(str::to_owned))
            .chain(self.when.iter().flat_map(condition_paths))
            .collect()
    }

    fn when(&self) -> Option<&Condition> {
        self.when.as_ref()
    }

    fn kind(&self) -> &str {
        "http"
    }

    fn input_names(&self) -> Vec<String> {
        let body = self.body.iter().flat_map(|b| b.template().placeholders());
        let mut names: Vec<String> = Vec::new();
        for placeholder in self.url.template().placeholders().chain(body) {
            let name = format!("{{{}}}", placeholder.name());
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    fn quotas(&self) -> Option<&Quotas> {
        Some(&self.quotas)
    }
}

/// The profile paths a condition reads, with the optional `user_metadata.` prefix added.
fn condition_paths(condition: &Condition) -> Vec<String> {
    let mut paths = Vec::new();
    condition.for_each_key(&mut |key| match ProfilePath::parse(key) {
        Some(path) if !path.is_built_in() => paths.push(path.full()),
        _ => {}
    });
    paths
}

/// Maps an error status to a [`ProviderError`]: 408, 429 and 5xx are worth a
/// retry; other statuses outside 2xx (except 404) are permanent, redirects included
/// (they are never followed).
fn check_status(status: StatusCode, response: &reqwest::Response) -> Result<(), ProviderError> {
    if status.is_success() || status == StatusCode::NOT_FOUND {
        return Ok(());
    }
    let host = response.url().host_str().unwrap_or("?");
    let mut message = format!("HTTP {status} from {host}");
    let retry_after = response.headers().get(reqwest::header::RETRY_AFTER);
    if let Some(after) = retry_after.and_then(|v| v.to_str().ok()) {
        message.push_str(&format!(" (retry-after: {after})"));
    }
    let retryable = status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT;
    Err(if retryable {
        ProviderError::Retryable(message)
    } else {
        ProviderError::Permanent(message)
    })
}

/// An error and its sources, joined by `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Builds the request headers, substituting `${VAR}`; values are marked
/// sensitive and never appear in messages.
fn build_headers(
    headers: &std::collections::BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid HTTP header name"))?;
        let value = substitute_env(value, env).map_err(|e| format!("header {name}: {e}"))?;
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| format!("header {name}: the value is not a valid HTTP header value"))?;
        value.set_sensitive(true);
        map.insert(header, value);
    }
    Ok(map)
}

/// Checks the field → pointer (and transform) map.
#[allow(clippy::type_complexity)]
fn build_map(
    map: &std::collections::BTreeMap<String, MapEntry>,
) -> Result<Vec<(String, String, Option<Transform>)>, String> {
    if map.is_empty() {
        return Err("map must name at least one field".to_owned());
    }
    map.iter()
        .map(|(field, entry)| {
            if field.trim().is_empty() {
                return Err("map has an empty field name".to_owned());
            }
            if field == "fetched_at" || field == "inputs_hash" || field == "found" {
                return Err(format!(
                    "map.{field}: the name is kept for Trickle's own stamp"
                ));
            }
            let pointer = entry.pointer();
            check_json_pointer(pointer).map_err(|e| format!("map.{field}: {e}"))?;
            let transform = match entry {
                MapEntry::Pointer(_) => None,
                MapEntry::Transformed { transform, .. } => Some(*transform),
            };
            Ok((field.clone(), pointer.to_owned(), transform))
        })
        .collect()
}
