//! Aggregates for the site overview and profile completeness, and the demo's import of
//! a made-up past (declared here, beside [`super::StatsStore`], to keep the traits of
//! one concept together; implemented once in `sql/insights.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::model::insights::{DailyLogins, DailyPromptEvents, HeldCount, PastPrompts};

/// Aggregates per UTC day and per login number.
#[async_trait]
pub trait InsightsStore: Send + Sync {
    /// Login events that occurred at or after `since`, counted per UTC day, with how
    /// many of them created their user. Days without logins are absent.
    async fn daily_logins(
        &self,
        site_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<DailyLogins>, StoreError>;
    /// Prompt events recorded at or after `since`, counted per UTC day and kind.
    async fn daily_prompt_events(
        &self,
        site_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<DailyPromptEvents>, StoreError>;
    /// Current answers per key, grouped by the login count at which they were given
    /// (`held_from`) and the user's login count capped at `up_to_login` (`reached`);
    /// answers given after login `up_to_login` are left out.
    async fn answers_held(
        &self,
        site_id: &str,
        up_to_login: i64,
    ) -> Result<Vec<HeldCount>, StoreError>;
    /// Users with a result that found something from `provider`
    /// (`app_metadata.enrichment.<provider>`, `found` not false), as [`HeldCount`]s with
    /// `key` = `enrichment.<provider>`. `held_from` is the user's login count less the
    /// logins that occurred after the result's `fetched_at` (at least 1): the login
    /// during or after which it was fetched.
    async fn enrichment_held(
        &self,
        site_id: &str,
        provider: &str,
        up_to_login: i64,
    ) -> Result<Vec<HeldCount>, StoreError>;
}

/// Writing a made-up past (`trickle demo`).
#[async_trait]
pub trait HistoryImport: Send + Sync {
    /// For existing users, in one transaction: inserts their past prompt events (kept
    /// once per user, question, login and kind as the widget's are), upserts their
    /// current answers, and replaces their `user_metadata`. Users that do not exist
    /// are passed over. The site's live versions, which that past asks, are made live
    /// since the site's first login.
    async fn import_prompt_history(
        &self,
        site_id: &str,
        users: &[PastPrompts],
    ) -> Result<(), StoreError>;
}
