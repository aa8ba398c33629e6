//! A login as stored, and the receipt the site's backend gets back.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A validated login, ready to store.
#[derive(Debug, Clone)]
pub struct NewLogin {
    pub user_id: String,
    pub event_id: String,
    pub occurred_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// The identity provider's claims, checked by [`super::idp::check_profile`]; merged
    /// into `app_metadata.idp` when the login is newly counted and the latest.
    pub profile: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The counted login. A retried `event_id` returns the first receipt unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LoginReceipt {
    pub user_id: String,
    pub login_count: i64,
    pub first_login_at: DateTime<Utc>,
    pub last_login_at: DateTime<Utc>,
    /// True when this login created the user.
    pub signed_up: bool,
}
