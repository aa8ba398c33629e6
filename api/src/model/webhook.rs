//! Webhook subscriptions and their delivery log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Event types a subscription can ask for.
pub const EVENT_TYPES: [&str; 5] = [
    "user.signed_up",
    "user.logged_in",
    "profile.answered",
    "profile.enriched",
    "user.deleted",
];

/// A subscription of a URL to event types.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
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

/// `POST /v1/webhooks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// An http(s) URL that receives POSTed events.
    pub url: String,
    /// Event types, e.g. `["profile.answered", "user.deleted"]`.
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// The created subscription with its secret (the only time it is shown).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedSubscription {
    #[serde(flatten)]
    pub subscription: Subscription,
    pub secret: String,
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
