//! What the background work is told: the job queue, webhook deliveries, and how long
//! history is kept.

use serde::{Deserialize, Serialize};
use std::time::Duration;

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
    /// Jobs run at once by one process; each finishes on its own.
    pub concurrency: u32,
    /// Jobs of one site running at once (over all processes), so one site's slow
    /// receivers cannot hold every slot.
    pub per_site_concurrency: u32,
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
            concurrency: 8,
            per_site_concurrency: 4,
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

    /// What one claim may take with `free` slots.
    pub fn claim_limits(&self, free: u32) -> crate::store::ClaimLimits {
        crate::store::ClaimLimits {
            total: free,
            per_site: self.per_site_concurrency.max(1),
        }
    }

    /// The claim lease.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_seconds.max(1))
    }
}

/// Webhook tuning (`[webhooks]` in trickle.toml).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Failed attempts in a row after which a subscription is disabled.
    pub disable_after_failures: i64,
    /// How long a receiver may take to answer.
    pub timeout_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            disable_after_failures: 50,
            timeout_ms: 10_000,
        }
    }
}

/// How long history is kept, in days (`[retention]` in trickle.toml); 0 keeps it forever.
/// The worker purges older rows every `RetentionSettings::PURGE_EVERY`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// Login events (IP, user agent, time) by when they occurred. A retried event older
    /// than this counts again.
    pub login_events_days: u32,
    /// Done and dead jobs, by when they finished.
    pub jobs_days: u32,
    /// Delivered, dead and cancelled webhook deliveries (the delivery log and its
    /// payloads), by when they finished.
    pub deliveries_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            login_events_days: 90,
            jobs_days: 7,
            deliveries_days: 30,
        }
    }
}

impl RetentionSettings {
    /// How often the worker purges.
    pub const PURGE_EVERY: Duration = Duration::from_secs(3600);
}
