//! A durable job queue in the database: enrichment runs, webhook fan-out and delivery.
//!
//! Jobs are written in the same transaction as the change that causes them (an outbox),
//! claimed with a lease by [`worker`], retried with exponential back-off, and end `dead`
//! with their last error after `max_attempts`. A worker killed mid-job loses nothing:
//! once the lease expires another claim picks the job up again (at-least-once).

pub mod worker;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

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
}

impl NewJob {
    /// A job due now.
    pub fn now(kind: &'static str, payload: Value, max_attempts: i64) -> Self {
        NewJob {
            id: format!("job_{}", uuid::Uuid::new_v4().simple()),
            kind,
            payload,
            dedupe_key: None,
            run_at: crate::service::now(),
            max_attempts,
        }
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

/// How a job went.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Try again later (network error, 5xx, timeout).
    #[error("{0}")]
    Retryable(String),
    /// Trying again cannot help; the job is dead at once.
    #[error("{0}")]
    Permanent(String),
}

impl From<crate::Error> for JobError {
    fn from(error: crate::Error) -> Self {
        JobError::Retryable(error.to_string())
    }
}

impl From<crate::store::StoreError> for JobError {
    fn from(error: crate::store::StoreError) -> Self {
        JobError::Retryable(error.to_string())
    }
}

/// Queue tuning (`[jobs]` in trickle.toml).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Attempts before a job is dead.
    pub max_attempts: i64,
    /// First retry delay; doubles on each attempt.
    pub backoff_base_ms: u64,
    /// Longest retry delay.
    pub backoff_cap_seconds: u64,
    /// Jobs run at once by one process.
    pub concurrency: u32,
    /// How often an idle worker looks for due jobs.
    pub poll_interval_ms: u64,
    /// How long a claim lasts; a job running longer (or whose worker died) is claimed again.
    pub lease_seconds: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            max_attempts: 10,
            backoff_base_ms: 2000,
            backoff_cap_seconds: 3600,
            concurrency: 4,
            poll_interval_ms: 500,
            lease_seconds: 60,
        }
    }
}

impl JobSettings {
    /// Delay before the retry that follows `attempts` failed attempts:
    /// base × 2^(attempts − 1), capped.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let exponent = attempts.clamp(1, 32) as u32 - 1;
        let delay = self
            .backoff_base_ms
            .saturating_mul(2u64.saturating_pow(exponent));
        Duration::from_millis(delay).min(Duration::from_secs(self.backoff_cap_seconds))
    }

    /// The claim lease.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_seconds.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let settings = JobSettings {
            backoff_base_ms: 2000,
            backoff_cap_seconds: 30,
            ..Default::default()
        };
        let delays: Vec<u64> = (1..=6).map(|a| settings.backoff(a).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 30, 30]);
        assert!(
            settings.backoff(1) <= Duration::from_secs(5),
            "the first retry comes within 5 s"
        );
        assert_eq!(settings.backoff(1_000_000), Duration::from_secs(30));
    }
}
