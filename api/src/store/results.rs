//! Aggregates of a question set's results page, each computed in the database under a
//! [`ResultsScope`] (implemented once in `sql/results.rs`).

use async_trait::async_trait;
use serde_json::Value;

use super::StoreError;
use crate::model::results::{
    AnswerCounts, EventGroup, GroupedOutcomes, GroupedUsers, ListedUsers, LivePeriod,
    NumberSummary, OutcomeGroups, ResultAnswer, ResultsScope, UsersCondition,
};

/// Aggregates of a question set's results page, every one restricted by a
/// [`ResultsScope`] and computed in the database.
#[async_trait]
pub trait ResultsStore: Send + Sync {
    /// The scope's site's users matching `condition`, at most `limit`, with how many of
    /// them have each login count.
    async fn results_matching_users(
        &self,
        scope: &ResultsScope,
        condition: &UsersCondition,
        limit: u32,
    ) -> Result<ListedUsers, StoreError>;
    /// How many of the scope's users have each login count: `(login_count, users)`.
    /// Within the scope's dates or version, a user's count is the highest they were
    /// seen at in them (a login in the dates while the version was live, or a prompt
    /// event of the set in the scope; 0 for users never seen there), and the histogram
    /// has buckets only at `stages` (login numbers, ascending) and 0: enough to count
    /// the users at or past each stage.
    async fn results_login_histogram(
        &self,
        scope: &ResultsScope,
        stages: &[u32],
    ) -> Result<Vec<(i64, i64)>, StoreError>;
    /// Each version's eligible users among the scope's: `(version, users)` of those seen
    /// while it was live (a login in one of the scope's `periods`, or a prompt event of
    /// that version; within the scope's dates) with a login count at or past its first
    /// stage, `first_stages` as `(version, login number)`. With the scope's version, only
    /// that one; versions without such a user have no row.
    async fn results_eligible_by_version(
        &self,
        scope: &ResultsScope,
        first_stages: &[(i64, u32)],
    ) -> Result<Vec<(i64, i64)>, StoreError>;
    /// When each version of the set was live, in order (a rollback's version again).
    async fn results_live_periods(
        &self,
        site_id: &str,
        slug: &str,
    ) -> Result<Vec<LivePeriod>, StoreError>;
    /// Distinct users per group and kind of the set's prompt events.
    async fn results_event_users(
        &self,
        scope: &ResultsScope,
        group: &EventGroup,
    ) -> Result<Vec<GroupedUsers>, StoreError>;
    /// The distinct users per kind of every group at once, in one pass over each of the
    /// scope's users' events: for a scope whose users are listed, one probe of each
    /// listed user's events instead of one per grouping.
    async fn results_outcomes_per_user(
        &self,
        scope: &ResultsScope,
        groups: &OutcomeGroups,
    ) -> Result<GroupedOutcomes, StoreError>;
    /// Whether [`Self::results_outcomes_per_user`] costs this store less than one
    /// [`Self::results_event_users`] per grouping for `scope`: the same figures either
    /// way.
    fn results_in_one_pass(&self, scope: &ResultsScope) -> bool;
    /// Current answers per key and, for the keys given, per key and value, in one pass.
    async fn results_answer_counts(
        &self,
        scope: &ResultsScope,
        keys: &[String],
    ) -> Result<AnswerCounts, StoreError>;
    /// Current answers per key.
    async fn results_answer_totals(
        &self,
        scope: &ResultsScope,
    ) -> Result<Vec<(String, i64)>, StoreError>;
    /// Current answers of the given keys counted per key and value.
    async fn results_value_counts(
        &self,
        scope: &ResultsScope,
        keys: &[String],
    ) -> Result<Vec<(String, Value, i64)>, StoreError>;
    /// Count, min, max and sum of the numeric answers to `key`; `None` when none.
    async fn results_number_summary(
        &self,
        scope: &ResultsScope,
        key: &str,
    ) -> Result<Option<NumberSummary>, StoreError>;
    /// Numeric answers to `key` per bucket `floor((value - start) / width)`.
    async fn results_number_buckets(
        &self,
        scope: &ResultsScope,
        key: &str,
        start: f64,
        width: f64,
    ) -> Result<Vec<(i64, i64)>, StoreError>;
    /// Text answers to `key` per their first four characters (a date's year).
    async fn results_years(
        &self,
        scope: &ResultsScope,
        key: &str,
    ) -> Result<Vec<(String, i64)>, StoreError>;
    /// Current answers (of `key`, or every key) in (key, user id) byte order after
    /// `after` = (key, user id).
    async fn results_answers(
        &self,
        scope: &ResultsScope,
        key: Option<&str>,
        after: Option<(&str, &str)>,
        limit: u32,
    ) -> Result<Vec<ResultAnswer>, StoreError>;
    /// Answers given (answered events) per UTC day, `YYYY-MM-DD`, in day order.
    async fn results_answers_per_day(
        &self,
        scope: &ResultsScope,
    ) -> Result<Vec<(String, i64)>, StoreError>;
}
