//! Enrichment bookkeeping: what a provider did for a site per UTC day (calls, cache hits,
//! failures, budget deferrals, last success and error), cached results, and where a
//! backfill (`trickle enrich`) has got to.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

/// One thing that happened to a provider's job, counted in its site's daily usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageEvent {
    /// The provider was called and answered (found something or nothing).
    Success,
    /// The provider was called and failed; the message (no personal data).
    Failure(String),
    /// A cached result was used instead of a call.
    CacheHit,
    /// The daily budget was spent: the job waits for the next UTC day.
    Deferred,
}

/// A provider's usage for one site and UTC day, with its last success and error (over
/// every day).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProviderUsage {
    /// Calls made today (UTC) for this site.
    pub calls_today: i64,
    /// Results taken from the cache today for this site, with no call.
    pub cache_hits_today: i64,
    /// Calls that failed today for this site.
    pub failures_today: i64,
    /// Jobs moved to the next UTC day today because the daily budget was spent.
    pub deferrals_today: i64,
    /// When a call last succeeded for this site.
    pub last_success_at: Option<DateTime<Utc>>,
    /// When a call last failed for this site.
    pub last_error_at: Option<DateTime<Utc>>,
    /// What the last failure said.
    pub last_error: Option<String>,
}

/// A cached provider result: its fields (empty when the provider knew nothing) and
/// when it was fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedResult {
    /// The mapped fields; empty: nothing known.
    pub fields: Map<String, Value>,
    /// When the provider was called for it.
    pub fetched_at: DateTime<Utc>,
}

/// Where a backfill of one provider (and one `where` filter) has got to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillState {
    /// The last user id examined (byte order); `None`: from the start.
    pub cursor: Option<String>,
    /// Users examined so far.
    pub scanned: i64,
    /// Jobs queued so far.
    pub queued: i64,
    /// When this run started.
    pub started_at: DateTime<Utc>,
    /// When it examined the last user; `None` while it has not.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A UTC day as stored (`YYYY-MM-DD`).
pub fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}
