//! Extractors: request bodies and queries with our error shape, and the two kinds of
//! caller (a site's backend with its secret key; a widget with a publishable key and a
//! user hash).

use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use percent_encoding::percent_decode;
use serde::de::DeserializeOwned;
use std::sync::Arc;

use super::AppState;
use super::error::ApiError;
use crate::app::logins::check_user_id;
use crate::app::sites::verify_user_hash;
use crate::client_ip::ClientIp;
use crate::error::Error;
use crate::model::Site;

/// A JSON object body; malformed JSON, or JSON that is not an object, is a 400, an
/// oversized body a 413. (serde would read a struct from an array too: `[null, null]`
/// is not a patch.)
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(JsonRejection::BytesRejection(rejection)) => return Err(body_rejection(rejection)),
            Err(rejection) => {
                return Err(ApiError::malformed("malformed_json", rejection.body_text()));
            }
        };
        if !value.is_object() {
            return Err(ApiError::malformed(
                "malformed_json",
                "the body must be a JSON object",
            ));
        }
        integral_numbers_as_integers(&mut value);
        serde_json::from_value(value).map(JsonBody).map_err(|e| {
            ApiError::malformed("malformed_json", format!("the body does not fit: {e}"))
        })
    }
}

/// JSON has one number type, and JSON Schema counts `73.0` and `1e3` as integers; serde
/// would refuse them where an integer is wanted. So a number with no fractional part
/// that fits in 64 bits is read as the integer it is, everywhere in a body.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().expect("an f64");
            // `as` saturates; the range checks keep only exact conversions.
            let integer = if f.fract() != 0.0 {
                None
            } else if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
                Some(serde_json::Number::from(f as u64))
            } else if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
                Some(serde_json::Number::from(f as i64))
            } else {
                None
            };
            if let Some(integer) = integer {
                *n = integer;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

/// Maps a body that could not be read (usually: over the 256 KiB limit).
pub fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError(Error::TooLarge {
            code: "body_too_large",
            message: "the request body is over the limit of 256 KiB".into(),
            field: None,
        })
    } else {
        ApiError::malformed("malformed_body", rejection.body_text())
    }
}

/// Query parameters; a bad one is a 400.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| QueryParams(q))
            .map_err(|e: QueryRejection| ApiError::malformed("malformed_query", e.body_text()))
    }
}

/// The `{id}` of a `/v1/users/{id}` route: a user id by the rule of every path
/// ([`check_user_id`]); a bad one is a 400 naming the field `id`.
pub struct UserIdPath(pub String);

impl FromRequestParts<AppState> for UserIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                Error::invalid(
                    "invalid_user_id",
                    "id",
                    "the user id in the path is not percent-encoded UTF-8",
                )
            })?;
        check_user_id(&id, state.app.limits.user_id_bytes)
            .map_err(|error| renamed_field(error, "id"))?;
        Ok(UserIdPath(id))
    }
}

/// The user-id rule's error, naming where the id came from.
fn renamed_field(error: Error, field: &str) -> Error {
    match error {
        Error::Invalid { code, message, .. } => Error::Invalid {
            code,
            message: format!("{field}: {message}"),
            field: Some(field.to_owned()),
        },
        other => other,
    }
}

/// A site's backend, authenticated by `Authorization: Bearer sk_…`.
pub struct ServerSite(pub Arc<Site>);

impl FromRequestParts<AppState> for ServerSite {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Err(unauthorized(
                "missing_secret_key",
                "send Authorization: Bearer sk_…",
            ));
        };
        let key = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| k.starts_with("sk_") && k.len() <= 128)
            .ok_or_else(|| unauthorized("invalid_secret_key", "the secret key is not valid"))?;
        Ok(ServerSite(state.app.sites().by_secret_key(key).await?))
    }
}

/// A widget call for one user: publishable key, rate limit, origin and user hash checked.
pub struct WidgetUser {
    pub site: Arc<Site>,
    pub user_id: String,
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError(Error::Unauthorized {
        code,
        message: message.into(),
    })
}

fn forbidden(code: &'static str, message: &str) -> ApiError {
    ApiError(Error::Forbidden {
        code,
        message: message.into(),
    })
}

/// The user id of a widget call. `X-Trickle-User` carries it as is when it is visible
/// ASCII (what a header value holds portably); any other id — non-ASCII, or with spaces
/// at either end — comes percent-encoded as UTF-8 (`encodeURIComponent`), flagged by
/// `X-Trickle-User-Encoding: percent`. The id then passes the rule of every path
/// ([`check_user_id`]); errors name the header.
fn widget_user_id(parts: &Parts, max_bytes: usize) -> Result<String, ApiError> {
    const FIELD: &str = "X-Trickle-User";
    let invalid = |message: &str| Error::invalid("invalid_user_id", FIELD, message);
    let raw = parts
        .headers
        .get("x-trickle-user")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::malformed("missing_user", "send X-Trickle-User: <user id>"))?;
    let percent_encoded = match parts.headers.get("x-trickle-user-encoding") {
        None => false,
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"percent") => true,
        Some(_) => {
            return Err(Error::invalid(
                "invalid_user_encoding",
                "X-Trickle-User-Encoding",
                "X-Trickle-User-Encoding must be percent (or left out)",
            )
            .into());
        }
    };
    let user_id = if percent_encoded {
        percent_decode(raw.as_bytes())
            .decode_utf8()
            .map_err(|_| invalid("X-Trickle-User does not decode to UTF-8"))?
            .into_owned()
    } else {
        raw.to_str()
            .map_err(|_| {
                invalid(
                    "X-Trickle-User holds bytes other than visible ASCII: send the user id \
                     percent-encoded (UTF-8) with X-Trickle-User-Encoding: percent",
                )
            })?
            .to_owned()
    };
    check_user_id(&user_id, max_bytes).map_err(|error| renamed_field(error, FIELD))?;
    Ok(user_id)
}

impl FromRequestParts<AppState> for WidgetUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = header(parts, "x-trickle-key")
            .ok_or_else(|| unauthorized("missing_publishable_key", "send X-Trickle-Key: pk_…"))?;
        if !key.starts_with("pk_") || key.len() > 128 {
            return Err(unauthorized(
                "invalid_publishable_key",
                "the publishable key is not valid",
            ));
        }
        let site = state.app.sites().by_publishable_key(key).await?;
        let ClientIp(ip) = ClientIp::of(&parts.headers, &parts.extensions, &state.trusted_proxies);
        state.limiter.check(&site.site_id, ip)?;
        // No Origin header: a server-side (headless) caller. Every Origin sent must be allowed.
        let origin_allowed = |origin: &axum::http::HeaderValue| {
            origin
                .to_str()
                .is_ok_and(|o| site.allowed_origins.iter().any(|allowed| allowed == o))
        };
        if !parts.headers.get_all("origin").iter().all(origin_allowed) {
            return Err(forbidden(
                "origin_not_allowed",
                "this origin is not allowed for the site",
            ));
        }
        let user_id = widget_user_id(parts, state.app.limits.user_id_bytes)?;
        let hash = header(parts, "x-trickle-user-hash").unwrap_or_default();
        if !verify_user_hash(&site.identity_secret, &user_id, hash) {
            return Err(forbidden(
                "invalid_user_hash",
                "X-Trickle-User-Hash does not match the user",
            ));
        }
        Ok(WidgetUser { site, user_id })
    }
}

#[cfg(test)]
mod tests {
    use super::integral_numbers_as_integers;
    use serde_json::json;

    #[test]
    fn integral_numbers_become_integers_and_others_stay() {
        let mut body: serde_json::Value = serde_json::from_str(
            r#"{"a": 73.0, "b": [-2.0, 1e3, 0.5, -0.0], "c": {"d": 1.5e300, "e": 7, "f": "8.0"}}"#,
        )
        .unwrap();
        integral_numbers_as_integers(&mut body);
        assert_eq!(
            body,
            json!({"a": 73, "b": [-2, 1000, 0.5, 0], "c": {"d": 1.5e300, "e": 7, "f": "8.0"}})
        );
        assert!(body["a"].is_u64() && body["b"][0].is_i64() && body["c"]["d"].is_f64());
    }
}
