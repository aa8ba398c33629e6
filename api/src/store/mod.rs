//! Storage: one interface, the SQL written once, two databases.
//!
//! [`Store`] is split by concept ([`SiteStore`], [`LoginStore`], [`UserStore`],
//! [`PromptStore`], [`QuestionSetStore`], [`StatsStore`], [`JobQueue`],
//! [`WebhookStore`], [`RetentionStore`], the console's [`AdminStore`], [`AuditStore`]
//! and [`SegmentStore`], and the insights' [`ResultsStore`], [`InsightsStore`] and
//! [`HistoryStore`]); the larger groups have a file each (`queue.rs`, `admin.rs`,
//! `segments.rs`, `results.rs`, …). [`SqlStore`] implements all of them once, generic over a
//! [`Dialect`]; `sqlite.rs` and `postgres.rs` keep only what is truly their own:
//! connecting, pragmas, migrations and the few SQL fragments that differ. The
//! backend is picked from the URL scheme. Every query filters by `site_id`; a
//! method returning `Ok` means committed.
//!
//! Imports only the model and the engine's records.

mod admin;
mod connect;
mod dialect;
mod history;
mod insights;
mod postgres;
mod queue;
mod results;
mod secrets;
mod segments;
mod sql;
mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;

use crate::model::site::KeyRotation;
use crate::model::{
    AnswerCount, AnswerProbe, AnswerRecord, BackfillState, CachedResult, LoginReceipt,
    MetadataLimits, NewAnswer, NewJob, NewLogin, PromptEventCount, PromptEventKind, ProviderUsage,
    PublishOutcome, QuestionSetSummary, QuestionSetVersion, Site, UsageEvent, User, WidgetSettings,
};
use crate::questions::{Condition, PromptRecord};

pub use admin::{AdminStore, AuditStore};
pub use connect::{ConnectOptions, connect, connect_with, connect_with_secrets};
pub use dialect::Dialect;
pub use history::HistoryStore;
pub use insights::{HistoryImport, InsightsStore};
pub use postgres::{Postgres, PostgresStore, STATEMENT_TIMEOUT};
pub use queue::{ClaimLimits, JobQueue, WebhookStore};
pub use results::ResultsStore;
pub use secrets::{SEALED_PREFIX, SecretsKey};
pub use segments::{SegmentStore, SegmentWrite};
pub use sql::SqlStore;
pub use sqlite::{Sqlite, SqliteStore};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite:… or postgres://…")]
    UnsupportedUrl(String),
    /// A direct URL beside an SQLite one: only PostgreSQL is reached through a pooler.
    #[error("database_direct_url is for PostgreSQL behind a connection pooler, not for {0:?}")]
    DirectUrlWithoutPostgres(String),
    /// A metadata write would exceed its size limit; nothing was written.
    #[error("{field} would be {size} bytes, over the limit of {limit}")]
    TooLarge {
        field: &'static str,
        size: usize,
        limit: usize,
    },
    /// A failure reported to several waiters of one cache load.
    #[error("{0}")]
    Shared(String),
    /// An error of SQLite's writer or reader (their own connections, through `rusqlite`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Stored data that no longer reads back (a bug or a manual edit).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A bad `secrets_key`, or stored secrets it cannot decrypt.
    #[error("{0}")]
    Secrets(String),
}

impl StoreError {
    /// Whether the database refused a write because another transaction had written the
    /// same login event (`login_events`' key on PostgreSQL, where several writers run
    /// batches side by side; nothing of the refused transaction was written).
    pub fn is_login_event_taken(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e))
            if e.is_unique_violation() && e.constraint() == Some("login_events_pkey"))
    }
}

/// An edit of a user's `(user_metadata, app_metadata)`, applied inside the write
/// transaction so concurrent edits never lose each other's changes.
pub type MetadataEdit<'a> = &'a (dyn Fn(&mut Value, &mut Value) + Sync);

/// The jobs a login causes, decided inside its transaction from the receipt and the
/// user as the login left them (to see which enrichment results are stale or newly fed).
/// Owned, because the login writer task that runs it outlives the request's borrows.
pub type LoginFollowUps = Arc<dyn Fn(&LoginReceipt, &User) -> Vec<NewJob> + Send + Sync>;

/// One login to write in a batch ([`LoginStore::record_login_batch`]).
#[derive(Clone)]
pub struct LoginWrite {
    pub site_id: String,
    pub login: NewLogin,
    /// Refuses the login's claims beyond these ([`StoreError::TooLarge`]).
    pub limits: MetadataLimits,
    pub follow_ups: LoginFollowUps,
}

/// A user as read before they answer, skip or dismiss one question.
pub struct AskedUser {
    /// The user's row.
    pub user: User,
    /// Their prompt outcomes (answered, skipped, dismissed), oldest first.
    pub history: Vec<PromptRecord>,
    /// Whether the question was shown to them (an impression) and not answered since.
    pub shown_unanswered: bool,
}

/// What the write of an impression, skip or dismissal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedEvent {
    /// The user's login count it is recorded at.
    pub login_count: i64,
    /// False when the same kind was already recorded for the question at that login
    /// (nothing was written).
    pub new: bool,
}

/// One answer to write: its value goes into `user_metadata` at its key, and it is kept
/// with its source (set, version, time) beside an `answered` prompt event.
#[derive(Clone)]
pub struct AnswerWrite {
    pub site_id: String,
    pub user_id: String,
    pub answer: NewAnswer,
    /// Refuses the answer when the metadata it leaves is beyond these.
    pub limits: MetadataLimits,
    /// The jobs the answer causes (webhook events, enrichment).
    pub follow_ups: Vec<NewJob>,
}

/// Everything Trickle keeps, behind one interface. Methods that change a profile take the
/// jobs the change causes (enrichment, webhook events) and write them in the same
/// transaction: the outbox.
#[async_trait]
pub trait Store:
    SiteStore
    + LoginStore
    + UserStore
    + PromptStore
    + QuestionSetStore
    + StatsStore
    + JobQueue
    + WebhookStore
    + RetentionStore
    + AdminStore
    + AuditStore
    + SegmentStore
    + EnrichmentStore
    + HistoryStore
    + InsightsStore
    + HistoryImport
    + ResultsStore
    + Send
    + Sync
    + 'static
{
    /// Applies pending migrations, then brings stored secrets in line with the secrets
    /// key: with a key, plaintext identity and webhook secrets are encrypted in place and
    /// every encrypted one must decrypt; without one, none may be encrypted.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Cross-replica cache invalidation: yields site ids whose question sets or settings
    /// changed on another process. `None` when the backend has a single process (SQLite).
    async fn subscribe_invalidations(
        &self,
    ) -> Result<Option<tokio::sync::mpsc::UnboundedReceiver<String>>, StoreError>;
    /// Tells other replicas a site's cached data changed.
    async fn notify_invalidation(&self, site_id: &str) -> Result<(), StoreError>;
}

/// Sites (tenants), their keys and settings. Identity secrets are sealed at rest when
/// the store has a secrets key.
#[async_trait]
pub trait SiteStore: Send + Sync {
    /// Stores a new site with the hash of its secret key.
    async fn insert_site(&self, site: &Site, secret_key_hash: &str) -> Result<(), StoreError>;
    async fn site(&self, site_id: &str) -> Result<Option<Site>, StoreError>;
    /// The site whose current or previous publishable key this is (expired or not: the
    /// caller checks [`Site::previous_publishable_key`]'s expiry).
    async fn site_by_publishable_key(&self, key: &str) -> Result<Option<Site>, StoreError>;
    /// The site whose current or previous secret-key hash this is (expired or not).
    async fn site_by_secret_key_hash(&self, hash: &str) -> Result<Option<Site>, StoreError>;
    /// Replaces a site's allowed origins and widget settings.
    async fn update_site(
        &self,
        site_id: &str,
        allowed_origins: &[String],
        widget_settings: &WidgetSettings,
    ) -> Result<Option<Site>, StoreError>;
    /// Replaces the keys the rotation names, keeping each replaced one as the previous
    /// key until `previous_expire_at` (a previous key of the same kind is dropped).
    async fn rotate_site_keys(
        &self,
        site_id: &str,
        rotation: &KeyRotation,
    ) -> Result<Option<Site>, StoreError>;
    /// Every site, by name (the console's owners see them all).
    async fn all_sites(&self) -> Result<Vec<Site>, StoreError>;
    /// Every origin some site allows (answers CORS preflights, which carry no key).
    async fn allowed_origins_of_all_sites(&self) -> Result<Vec<String>, StoreError>;
}

/// Login counting.
#[async_trait]
pub trait LoginStore: Send + Sync {
    /// Counts a login exactly once per `event_id`, atomically (group-committed with the
    /// logins waiting at the same moment; `Ok` means committed); a newly counted login
    /// that is the user's latest also merges its `profile` into `app_metadata.idp`
    /// (refused with [`StoreError::TooLarge`] beyond `limits`).
    async fn record_login(
        &self,
        site_id: &str,
        login: &NewLogin,
        limits: MetadataLimits,
        follow_ups: LoginFollowUps,
    ) -> Result<LoginReceipt, StoreError>;

    /// Writes the logins as one group commit, in the order given: one transaction, a login
    /// with claims under its own savepoint, so that a login refused on its own (over a
    /// limit) fails alone; if the transaction fails as a whole, each login is written in a
    /// transaction of its own. One outcome per login, in order. `record_login` hands
    /// each login to a writer task that calls this with the logins waiting together.
    async fn record_login_batch(
        &self,
        batch: &[LoginWrite],
    ) -> Vec<Result<LoginReceipt, StoreError>>;
}

/// User profiles.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn user(&self, site_id: &str, user_id: &str) -> Result<Option<User>, StoreError>;
    /// The user and their prompt outcomes (answered, skipped, dismissed), oldest first.
    async fn user_with_history(
        &self,
        site_id: &str,
        user_id: &str,
    ) -> Result<Option<(User, Vec<PromptRecord>)>, StoreError>;
    async fn answers(&self, site_id: &str, user_id: &str) -> Result<Vec<AnswerRecord>, StoreError>;
    /// Users ordered by id (byte order on both databases), after the cursor, that the
    /// condition (evaluated in the database as at `now`) holds for.
    async fn list_users(
        &self,
        site_id: &str,
        filter: Option<&Condition>,
        now: DateTime<Utc>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError>;
    /// How many users of the site the condition holds for (all without one).
    async fn count_users(
        &self,
        site_id: &str,
        filter: Option<&Condition>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// Applies an edit to the user's metadata in one transaction; `None` if no such user.
    async fn edit_user(
        &self,
        site_id: &str,
        user_id: &str,
        edit: MetadataEdit<'_>,
        limits: MetadataLimits,
        follow_ups: &[NewJob],
    ) -> Result<Option<User>, StoreError>;
    /// Erases the user in one transaction: profile, answers, prompt and login events, and
    /// every job and webhook delivery about them, whatever their state. False if unknown
    /// (and then nothing is written).
    async fn delete_user(
        &self,
        site_id: &str,
        user_id: &str,
        follow_ups: &[NewJob],
    ) -> Result<bool, StoreError>;
}

/// What happens to prompts: answers, impressions, skips, dismissals.
#[async_trait]
pub trait PromptStore: Send + Sync {
    /// Writes the answer's value into user_metadata at its key, keeps it with its source,
    /// and records the prompt outcome and the follow-up jobs, all or nothing; returns
    /// the user as written, `None` if no such user. Group-committed with other answers
    /// and logins, as [`LoginStore::record_login`] is.
    async fn record_answer(&self, write: AnswerWrite) -> Result<Option<User>, StoreError>;
    /// Writes the answers as one group commit, in the order given, as `record_answer`
    /// hands them to a writer task with the writes waiting together (see
    /// [`LoginStore::record_login_batch`]): one outcome per answer, in order.
    async fn record_answer_batch(
        &self,
        batch: &[AnswerWrite],
    ) -> Vec<Result<Option<User>, StoreError>>;
    /// Records an impression, skip or dismissal at the user's current login count, once
    /// per user, question, login and kind (a repeat changes nothing); a new impression
    /// also sets the user's `last_prompted_at`. `None` if no such user.
    async fn record_prompt_event(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
        kind: PromptEventKind,
    ) -> Result<Option<RecordedEvent>, StoreError>;
    /// The user about to answer, skip or dismiss a question of a set's version, with
    /// their prompt outcomes and whether it was shown to them (an impression) and not
    /// answered since, in one round trip. `None` if no such user.
    async fn user_being_asked(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
    ) -> Result<Option<AskedUser>, StoreError>;
}

/// Question-set versions: drafts and the live one.
#[async_trait]
pub trait QuestionSetStore: Send + Sync {
    /// Stores a new draft version (latest + 1) of a question set.
    async fn insert_draft(
        &self,
        site_id: &str,
        slug: &str,
        definition: &Value,
        source: &str,
    ) -> Result<QuestionSetVersion, StoreError>;
    /// Makes a version the live one; on PostgreSQL also notifies other replicas.
    async fn publish(
        &self,
        site_id: &str,
        slug: &str,
        version: i64,
    ) -> Result<PublishOutcome, StoreError>;
    async fn question_sets(&self, site_id: &str) -> Result<Vec<QuestionSetSummary>, StoreError>;
    async fn question_set_versions(
        &self,
        site_id: &str,
        slug: &str,
    ) -> Result<Vec<QuestionSetVersion>, StoreError>;
    async fn question_set_version(
        &self,
        site_id: &str,
        slug: &str,
        version: i64,
    ) -> Result<Option<QuestionSetVersion>, StoreError>;
    /// The live version of every published set of the site.
    async fn live_question_sets(
        &self,
        site_id: &str,
    ) -> Result<Vec<QuestionSetVersion>, StoreError>;
    /// For each probe, how many users hold such an answer given in the set `slug`
    /// (one number per probe, in order).
    async fn answering_users(
        &self,
        site_id: &str,
        slug: &str,
        probes: &[AnswerProbe],
    ) -> Result<Vec<i64>, StoreError>;
}

/// Aggregates for statistics.
#[async_trait]
pub trait StatsStore: Send + Sync {
    /// Prompt events counted per question set, key and kind.
    async fn prompt_event_counts(&self, site_id: &str)
    -> Result<Vec<PromptEventCount>, StoreError>;
    /// Stored answers counted per question set, key and value.
    async fn answer_counts(&self, site_id: &str) -> Result<Vec<AnswerCount>, StoreError>;
    /// How many users have each login count: `(login_count, users)`.
    async fn login_count_histogram(&self, site_id: &str) -> Result<Vec<(i64, i64)>, StoreError>;
}

/// Deleting old history (the worker's retention purge). Each call deletes at most
/// `limit` rows older than `before`, so one purge never holds the database for long;
/// callers repeat until fewer than `limit` come back.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Login events that occurred before `before`.
    async fn purge_login_events(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError>;
    /// Done and dead jobs last changed before `before`.
    async fn purge_finished_jobs(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError>;
    /// Delivered, dead and cancelled webhook deliveries last changed before `before`.
    async fn purge_finished_deliveries(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError>;
}

/// Enrichment quotas and bookkeeping: the deployment's daily call budget per provider,
/// each site's usage and cache, and backfill cursors.
#[async_trait]
pub trait EnrichmentStore: Send + Sync {
    /// Takes one call of `provider`'s budget for `day` (deployment-wide) unless `budget`
    /// calls were taken already; true if taken. Atomic across processes.
    async fn take_budget(&self, provider: &str, day: &str, budget: i64)
    -> Result<bool, StoreError>;
    /// Calls of `provider`'s budget taken on `day` (deployment-wide).
    async fn budget_used(&self, provider: &str, day: &str) -> Result<i64, StoreError>;
    /// Counts one event in the site's usage of `provider` on `day` (at `at`).
    async fn record_usage(
        &self,
        site_id: &str,
        provider: &str,
        day: &str,
        event: &UsageEvent,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The site's usage of each provider on `day`, with each one's last success and error
    /// (any day), by provider name.
    async fn usage(
        &self,
        site_id: &str,
        day: &str,
    ) -> Result<Vec<(String, ProviderUsage)>, StoreError>;
    /// The cached result of `provider` under `cache_key` fetched after `fresh_after`.
    async fn cached_result(
        &self,
        site_id: &str,
        provider: &str,
        cache_key: &str,
        fresh_after: DateTime<Utc>,
    ) -> Result<Option<CachedResult>, StoreError>;
    /// Stores (or replaces) a result under `cache_key`, made from `user_id`'s inputs.
    async fn cache_result(
        &self,
        site_id: &str,
        provider: &str,
        cache_key: &str,
        user_id: &str,
        result: &CachedResult,
    ) -> Result<(), StoreError>;
    /// Where the backfill of `provider` with this filter hash has got to, if it ran.
    async fn backfill(
        &self,
        site_id: &str,
        provider: &str,
        filter_hash: &str,
    ) -> Result<Option<BackfillState>, StoreError>;
    /// Saves the backfill's state and enqueues the jobs it queued up to its cursor, in
    /// one transaction (so a run interrupted at any point resumes without doubles).
    async fn save_backfill(
        &self,
        site_id: &str,
        provider: &str,
        filter_hash: &str,
        state: &BackfillState,
        jobs: &[NewJob],
    ) -> Result<(), StoreError>;
}
