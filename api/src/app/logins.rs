//! Login events: counting each user's logins exactly once per event.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::Arc;
use utoipa::ToSchema;

use super::App;
use crate::error::{Error, Result};
use crate::model::idp::check_profile;
use crate::model::{LoginReceipt, NewLogin, Site, User, now};

/// A login as the site's backend reports it. Lengths are in UTF-8 bytes (the
/// OpenAPI document's `maxLength` counts characters, so it is exact for ASCII).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_id": "u_1", "event_id": "evt_7f3a", "occurred_at": "2026-12-01T09:30:00Z",
    "ip": "203.0.113.7", "user_agent": "Mozilla/5.0", "email": "ada@example.com", "name": "Ada",
    "profile": {"given_name": "Ada", "locale": "en-GB", "birthdate": "1990-12-10", "location": {"name": "London"}}}))]
pub struct LoginRequest {
    /// The site's own user id: 1–255 bytes, no control characters.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$"
    )]
    pub user_id: String,
    /// Makes retries idempotent (1–255 bytes); generated when absent.
    #[schema(min_length = 1, max_length = 255)]
    pub event_id: Option<String>,
    /// When the login happened (default: now). At most 5 minutes in the future.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The user's IP address, IPv4 or IPv6.
    #[schema(schema_with = ip_address_schema)]
    pub ip: Option<String>,
    /// The user's browser (at most 1024 bytes; blank: none).
    #[schema(max_length = 1024)]
    pub user_agent: Option<String>,
    /// The user's e-mail address (at most 320 bytes; blank: none).
    #[schema(schema_with = email_schema)]
    pub email: Option<String>,
    /// The user's name (at most 255 bytes; blank: none).
    #[schema(max_length = 255)]
    pub name: Option<String>,
    /// The identity provider's claims, merged into `app_metadata.idp` (see
    /// [`crate::model::idp`] for the limits).
    #[serde(default)]
    #[schema(schema_with = profile_schema)]
    pub profile: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `profile`: exactly the limits of [`crate::model::idp::check_profile`] that JSON Schema
/// can say (the 16 KiB size is in the description).
fn profile_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use crate::model::idp::{MAX_CLAIMS, MAX_PROFILE_BYTES, RECEIVED_AT};
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
    let key = |pattern: &str| -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .into()
    };
    const KEY: &str = "^[A-Za-z0-9_-]{1,64}$";
    let scalar = || -> Schema {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    };
    // A claim value one level below `inner`: a scalar, or an object / array of `inner`.
    let level = |inner: &dyn Fn() -> Schema| -> Schema {
        OneOfBuilder::new()
            .item(scalar())
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property_names(Some(key(KEY)))
                    .additional_properties(Some(inner())),
            )
            .item(ArrayBuilder::new().items(RefOr::T(inner())))
            .into()
    };
    let third = || level(&scalar);
    let second = level(&third);
    let claims = ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(MAX_CLAIMS))
        .property_names(Some(key(&format!(
            "^(?!{RECEIVED_AT}$)[A-Za-z0-9_-]{{1,64}}$"
        ))))
        .additional_properties(Some(second));
    OneOfBuilder::new()
        .item(claims)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(format!(
            "The identity provider's claims (names, locale, birthdate, location, handles, …), \
             stored under `app_metadata.idp` with `received_at` when the login is newly counted \
             and the user's latest; a null claim removes a stored one. At most {MAX_CLAIMS} \
             claims, keys of 1-64 `A-Za-z0-9_-` at every level, nesting at most 3 levels \
             (this object included), at most {MAX_PROFILE_BYTES} bytes serialised; no claim \
             named `{RECEIVED_AT}`."
        )))
        .into()
}

/// `email`: an address of at most 320 bytes, blank (none) or null.
fn email_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
                .max_length(Some(320)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^\\s{0,320}$")),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "The user's e-mail address (at most 320 bytes); blank or null: none.",
        ))
        .into()
}

/// `ip`: an IPv4 or IPv6 address, or null.
fn ip_address_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    let address = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    OneOfBuilder::new()
        .item(address(KnownFormat::Ipv4))
        .item(address(KnownFormat::Ipv6))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some("The user's IP address, IPv4 or IPv6."))
        .into()
}

/// Checks a user id against the spec's limit (1–255 bytes, no control characters).
pub fn check_user_id(user_id: &str, max_bytes: usize) -> Result<()> {
    if user_id.is_empty() || user_id.len() > max_bytes || user_id.chars().any(char::is_control) {
        return Err(Error::invalid(
            "invalid_user_id",
            "user_id",
            format!("user_id must be 1 to {max_bytes} bytes without control characters"),
        ));
    }
    Ok(())
}

fn optional_text(value: Option<String>, field: &str, max: usize) -> Result<Option<String>> {
    match value {
        Some(v) if v.len() > max => Err(Error::invalid(
            "invalid_field",
            field,
            format!("{field} must be at most {max} bytes"),
        )),
        Some(v) if v.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

impl LoginRequest {
    /// Validates every field and fills in defaults.
    pub fn validate(self, max_user_id_bytes: usize) -> Result<NewLogin> {
        check_user_id(&self.user_id, max_user_id_bytes)?;
        let event_id = match self.event_id {
            Some(id) if id.is_empty() || id.len() > 255 => {
                return Err(Error::invalid(
                    "invalid_field",
                    "event_id",
                    "event_id must be 1 to 255 bytes",
                ));
            }
            Some(id) => id,
            None => uuid::Uuid::new_v4().to_string(),
        };
        let now = now();
        let occurred_at = self.occurred_at.map(|t| t.trunc_subsecs(6)).unwrap_or(now);
        if occurred_at > now + Duration::minutes(5) {
            return Err(Error::invalid(
                "invalid_field",
                "occurred_at",
                "occurred_at is in the future",
            ));
        }
        let ip = match self.ip {
            Some(ip) => Some(
                ip.parse::<IpAddr>()
                    .map_err(|_| {
                        Error::invalid(
                            "invalid_field",
                            "ip",
                            format!("{ip:?} is not an IP address"),
                        )
                    })?
                    .to_string(),
            ),
            None => None,
        };
        let email = optional_text(self.email, "email", 320)?;
        if let Some(email) = &email
            && !email_address::EmailAddress::is_valid(email)
        {
            return Err(Error::invalid(
                "invalid_field",
                "email",
                format!("{email:?} is not an e-mail address"),
            ));
        }
        if let Some(profile) = &self.profile {
            check_profile(profile).map_err(|problem| {
                Error::invalid("invalid_field", &problem.field, problem.message)
            })?;
        }
        Ok(NewLogin {
            user_id: self.user_id,
            event_id,
            occurred_at,
            ip,
            user_agent: optional_text(self.user_agent, "user_agent", 1024)?,
            email,
            name: optional_text(self.name, "name", 255)?,
            profile: self.profile,
        })
    }
}

/// Login counting.
pub struct Logins<'a> {
    pub(crate) app: &'a App,
}

impl Logins<'_> {
    /// Counts a login for a site's user.
    pub async fn record(&self, site: &Site, request: LoginRequest) -> Result<LoginReceipt> {
        let login = request.validate(self.app.limits.user_id_bytes)?;
        let wanted = self.app.webhooks().events_wanted(&site.site_id).await?;
        // Decided inside the login's transaction, so the jobs exist if and only if it commits.
        let app = self.app.clone();
        let wanted_there = wanted.clone();
        let follow_ups = move |receipt: &LoginReceipt, user: &User| {
            let mut jobs = app.enrichment().enrichment_jobs(user);
            let data = serde_json::to_value(receipt).expect("receipts serialise");
            if receipt.signed_up {
                jobs.extend(app.webhooks().event_job(
                    &wanted_there,
                    "user.signed_up",
                    data.clone(),
                ));
            }
            jobs.extend(
                app.webhooks()
                    .event_job(&wanted_there, "user.logged_in", data),
            );
            jobs
        };
        let receipt = self
            .app
            .store
            .record_login(
                &site.site_id,
                &login,
                self.app.limits.metadata,
                Arc::new(follow_ups),
            )
            .await
            .map_err(Error::metadata_too_large)?;
        if !self.app.providers.is_empty() || !wanted.is_empty() {
            self.app.jobs_enqueued.notify_one();
        }
        if receipt.user_id != login.user_id {
            return Err(Error::Conflict {
                code: "event_id_reused",
                message: format!(
                    "event_id {:?} was already used for another user",
                    login.event_id
                ),
            });
        }
        metrics::counter!("trickle_logins_total", "signed_up" => receipt.signed_up.to_string())
            .increment(1);
        Ok(receipt)
    }
}
