//! Jobs of the durable queue: enrichment runs, webhook fan-out and delivery.
//!
//! Jobs are written in the same transaction as the change that causes them (an outbox),
//! claimed with a lease, retried with exponential back-off, and end `dead` with their
//! last error after `max_attempts`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// Looks up one provider for one user.
pub const ENRICH: &str = "enrich";
/// Fans one event out to the site's webhook subscriptions.
pub const WEBHOOK_EVENT: &str = "webhook_event";
/// Delivers one event to one subscription.
pub const WEBHOOK_DELIVERY: &str = "webhook_delivery";

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub id: String,
    pub kind: &'static str,
    pub payload: Value,
    /// At most one queued job per key and site.
    pub dedupe_key: Option<String>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i64,
    /// The user the job is about, if any: erasing the user deletes the job.
    pub user_id: Option<String>,
}

impl NewJob {
    /// A job due now.
    pub fn now(kind: &'static str, payload: Value, max_attempts: i64) -> Self {
        NewJob {
            id: format!("job_{}", uuid::Uuid::new_v4().simple()),
            kind,
            payload,
            dedupe_key: None,
            run_at: super::now(),
            max_attempts,
            user_id: None,
        }
    }

    /// The same job, about `user_id` (erased with the user).
    pub fn about_user(mut self, user_id: Option<String>) -> Self {
        self.user_id = user_id;
        self
    }

    /// The same job, deduplicated by `key`.
    pub fn deduplicated(mut self, key: String) -> Self {
        self.dedupe_key = Some(key);
        self
    }
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub site_id: String,
    pub id: String,
    pub kind: String,
    pub payload: Value,
    /// Claims so far, this one included.
    pub attempts: i64,
    pub max_attempts: i64,
}

/// A job's state, for operators and tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobState {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub run_at: DateTime<Utc>,
}
