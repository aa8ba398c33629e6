//! Webhook subscriptions and their delivery log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use utoipa::ToSchema;

use super::site::REDACTED;

/// Event types a subscription can ask for.
pub const EVENT_TYPES: [&str; 5] = [
    "user.signed_up",
    "user.logged_in",
    "profile.answered",
    "profile.enriched",
    "user.deleted",
];

/// A subscription of a URL to event types. `Debug` leaves the secret out.
#[derive(Clone, PartialEq, Serialize, ToSchema)]
pub struct Subscription {
    pub id: String,
    pub url: String,
    /// `whsec_…`: shown when the subscription is created, never listed.
    #[serde(skip)]
    pub secret: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Failed delivery attempts in a row.
    pub failure_streak: i64,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &REDACTED)
            .field("events", &self.events)
            .field("description", &self.description)
            .field("enabled", &self.enabled)
            .field("failure_streak", &self.failure_streak)
            .field("disabled_reason", &self.disabled_reason)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// `POST /v1/webhooks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.com/trickle", "events": ["profile.answered", "user.deleted"],
    "description": "CRM sync"}))]
pub struct NewSubscription {
    /// An http(s) URL that receives POSTed events (at most 2048 bytes; any URL that
    /// parses with an http or https scheme is taken, the pattern shows the common form).
    /// Internal addresses are refused when delivering, not here.
    #[schema(
        pattern = "^[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9]+(-[A-Za-z0-9]+)*\\.){0,4}[A-Za-z][A-Za-z0-9]{0,20}(-[A-Za-z0-9]+){0,3}(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~-]{0,64}){0,16}$"
    )]
    pub url: String,
    /// Event types (at least one).
    #[schema(min_items = 1, inline, value_type = Vec<EventType>)]
    pub events: Vec<String>,
    /// At most 500 bytes.
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// The event types a subscription can ask for (documentation of [`EVENT_TYPES`]).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub enum EventType {
    #[serde(rename = "user.signed_up")]
    UserSignedUp,
    #[serde(rename = "user.logged_in")]
    UserLoggedIn,
    #[serde(rename = "profile.answered")]
    ProfileAnswered,
    #[serde(rename = "profile.enriched")]
    ProfileEnriched,
    #[serde(rename = "user.deleted")]
    UserDeleted,
}

/// The created subscription with its secret (the only time it is shown). `Debug`
/// leaves the secret out.
#[derive(Clone, Serialize, ToSchema)]
pub struct CreatedSubscription {
    #[serde(flatten)]
    pub subscription: Subscription,
    pub secret: String,
}

impl fmt::Debug for CreatedSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedSubscription")
            .field("subscription", &self.subscription)
            .field("secret", &REDACTED)
            .finish()
    }
}

/// One event for one subscription: the delivery log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Delivery {
    /// `msg_…`, sent as `webhook-id`; the same on every retry.
    pub id: String,
    pub subscription_id: String,
    pub event_type: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    /// `pending`, `delivered`, `dead` or `cancelled`.
    pub status: String,
    pub attempts: i64,
    /// HTTP status of the last attempt, if the receiver answered.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// No 2xx; `final_attempt` makes the delivery dead.
    Failed {
        status: Option<u16>,
        error: String,
        final_attempt: bool,
    },
    /// The subscription is gone or disabled.
    Cancelled(String),
}

/// What an attempt writes to its delivery row.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryColumns<'a> {
    /// `delivered`, `pending` (to be retried), `dead` or `cancelled`.
    pub status: &'static str,
    pub http_status: Option<i64>,
    pub error: Option<&'a str>,
    pub delivered: bool,
}

impl AttemptOutcome {
    /// The delivery row's new state after this attempt (the same on every backend).
    pub fn columns(&self) -> DeliveryColumns<'_> {
        let (status, http_status, error, delivered) = match self {
            AttemptOutcome::Delivered { status } => {
                ("delivered", Some(i64::from(*status)), None, true)
            }
            AttemptOutcome::Failed {
                status,
                error,
                final_attempt,
            } => {
                let state = if *final_attempt { "dead" } else { "pending" };
                (state, status.map(i64::from), Some(error.as_str()), false)
            }
            AttemptOutcome::Cancelled(reason) => ("cancelled", None, Some(reason.as_str()), false),
        };
        DeliveryColumns {
            status,
            http_status,
            error,
            delivered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_leaves_the_secret_out() {
        let at = Utc::now();
        let subscription = Subscription {
            id: "wh_1".into(),
            url: "https://hooks.example/x".into(),
            secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=".into(),
            events: vec!["user.deleted".into()],
            description: None,
            enabled: true,
            failure_streak: 0,
            disabled_reason: None,
            created_at: at,
            updated_at: at,
        };
        let created = CreatedSubscription {
            secret: subscription.secret.clone(),
            subscription: subscription.clone(),
        };
        for printed in [format!("{subscription:?}"), format!("{created:#?}")] {
            assert!(
                printed.contains("wh_1") && printed.contains("***"),
                "{printed}"
            );
            assert!(!printed.contains("c2VjcmV0"), "{printed}");
        }
    }
}
