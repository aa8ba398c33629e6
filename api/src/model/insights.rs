//! Counts the store aggregates for the site overview and profile completeness, and
//! the past profiles the demo imports.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

/// Logins reported for one UTC day.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyLogins {
    pub day: NaiveDate,
    /// Login events that occurred that day.
    pub logins: i64,
    /// Of them, the ones that created their user.
    pub new_users: i64,
}

/// Prompt events of one kind recorded on one UTC day.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyPromptEvents {
    pub day: NaiveDate,
    /// `impression`, `answered`, `skipped` or `dismissed`.
    pub kind: String,
    pub count: i64,
}

/// Users who hold a value of `key`, grouped by the login from which they hold it and
/// the login count they have reached (capped by the caller's limit).
#[derive(Debug, Clone, PartialEq)]
pub struct HeldCount {
    pub key: String,
    /// The login number from which the user holds the value (at least 1).
    pub held_from: i64,
    /// The user's login count, at most the limit asked for.
    pub reached: i64,
    pub users: i64,
}

/// A prompt outcome that happened in the past, for importing a made-up history.
#[derive(Debug, Clone, PartialEq)]
pub struct PastPromptEvent {
    pub question_set: String,
    pub version: i64,
    pub key: String,
    /// `impression`, `answered`, `skipped` or `dismissed`.
    pub kind: &'static str,
    pub login_count: i64,
    pub at: DateTime<Utc>,
}

/// A current answer given in the past, for importing a made-up history.
#[derive(Debug, Clone, PartialEq)]
pub struct PastAnswer {
    pub question_set: String,
    pub version: i64,
    pub key: String,
    pub value: Value,
    pub login_count: i64,
    pub at: DateTime<Utc>,
}

/// One existing user's made-up prompt history: events, current answers, and the
/// `user_metadata` those answers make.
#[derive(Debug, Clone, PartialEq)]
pub struct PastPrompts {
    pub user_id: String,
    pub events: Vec<PastPromptEvent>,
    pub answers: Vec<PastAnswer>,
    pub user_metadata: Value,
}
