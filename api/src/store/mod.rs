//! Storage: one interface, the SQL written once, two databases.
//!
//! [`Store`] is split by concept ([`SiteStore`], [`LoginStore`], [`UserStore`],
//! [`PromptStore`], [`QuestionSetStore`], [`StatsStore`], [`JobQueue`],
//! [`WebhookStore`], [`RetentionStore`], and the console's [`AdminStore`] and
//! [`AuditStore`]). [`SqlStore`] implements all of them once, generic over a
//! [`Dialect`]; `sqlite.rs` and `postgres.rs` keep only what is truly their own:
//! connecting, pragmas, migrations and the few SQL fragments that differ. The
//! backend is picked from the URL scheme. Every query filters by `site_id`; a
//! method returning `Ok` means committed.
//!
//! Imports only the model and the engine's records.

mod dialect;
mod history;
mod insights;
mod postgres;
mod results;
mod secrets;
mod sql;
mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;

use crate::model::segment::Segment;
use crate::model::site::KeyRotation;
use crate::model::{
    Admin, AdminChange, AdminSession, AnswerCount, AnswerProbe, AnswerRecord, AttemptOutcome,
    AuditEntry, BackfillState, CachedResult, Delivery, Job, JobState, LoginReceipt, MetadataLimits,
    NewAnswer, NewAuditEntry, NewJob, NewLogin, PromptEventCount, PromptEventKind, ProviderUsage,
    PublishOutcome, QuestionSetSummary, QuestionSetVersion, Role, Site, Subscription, UsageEvent,
    User, WidgetSettings,
};
use crate::questions::{Condition, PromptRecord};

pub use dialect::Dialect;
pub use history::HistoryStore;
pub use insights::{HistoryImport, InsightsStore};
pub use postgres::{Postgres, PostgresStore};
pub use results::ResultsStore;
pub use secrets::{SEALED_PREFIX, SecretsKey};
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
    /// Stored data that no longer reads back (a bug or a manual edit).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A bad `secrets_key`, or stored secrets it cannot decrypt.
    #[error("{0}")]
    Secrets(String),
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

    /// Writes the logins as one group commit, in the order given: one transaction, each
    /// login under its own savepoint, so that a login refused on its own (over a limit)
    /// fails alone; if the transaction fails as a whole, each login is written in a
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
    /// The user's prompt outcomes (answered, skipped, dismissed), oldest first.
    async fn prompt_history(
        &self,
        site_id: &str,
        user_id: &str,
    ) -> Result<Vec<PromptRecord>, StoreError>;
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
    /// Records an impression, skip or dismissal at the user's current login count, once
    /// per user, question, login and kind (a repeat changes nothing); a new impression
    /// also sets the user's `last_prompted_at`. False if no such user.
    async fn record_prompt_event(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
        kind: PromptEventKind,
    ) -> Result<bool, StoreError>;
    /// Whether the user was shown this question of this version (an impression) and
    /// has not answered it since.
    async fn shown_unanswered(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
    ) -> Result<bool, StoreError>;
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

/// How many jobs one claim may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLimits {
    /// Jobs claimed at most (the claimer's free slots).
    pub total: u32,
    /// Jobs of one site running at most, counting those already running.
    pub per_site: u32,
}

impl ClaimLimits {
    /// Up to `total` jobs, as many of one site as fit.
    pub fn total(total: u32) -> Self {
        ClaimLimits {
            total,
            per_site: u32::MAX,
        }
    }
}

/// A durable queue: claims are leases, so a job whose worker died is claimed again.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Enqueues jobs outside any other change.
    async fn enqueue(&self, site_id: &str, jobs: &[NewJob]) -> Result<(), StoreError>;
    /// Claims up to `limits.total` due jobs (queued and due, or running with an expired
    /// lease), counting an attempt each. Concurrent claimers never get the same job.
    /// Fair between sites: each site's oldest due job comes before any site's second,
    /// counting jobs a site already has running, and no site gets more than
    /// `limits.per_site` jobs running at once (over all workers).
    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        limits: ClaimLimits,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError>;
    async fn complete_job(&self, job: &Job) -> Result<(), StoreError>;
    /// Queues the job again at `run_at`, keeping the error.
    async fn retry_job(
        &self,
        job: &Job,
        error: &str,
        run_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Queues the job again at `run_at` without counting the attempt its claim took
    /// (a quota made it wait: it did not fail), keeping `note` as its last error.
    async fn defer_job(
        &self,
        job: &Job,
        note: &str,
        run_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Marks the job dead, keeping the error.
    async fn bury_job(&self, job: &Job, error: &str) -> Result<(), StoreError>;
    /// `(kind, status, count)` over all sites, for metrics.
    async fn job_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError>;
    /// Every job of a site, oldest first (operators and tests).
    async fn jobs(&self, site_id: &str) -> Result<Vec<JobState>, StoreError>;
}

/// Subscriptions and the delivery log.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn insert_subscription(
        &self,
        site_id: &str,
        subscription: &Subscription,
    ) -> Result<(), StoreError>;
    async fn subscriptions(&self, site_id: &str) -> Result<Vec<Subscription>, StoreError>;
    /// False if there was no such subscription.
    async fn delete_subscription(&self, site_id: &str, id: &str) -> Result<bool, StoreError>;
    /// Completes a fan-out job, writing its deliveries and their jobs in one transaction.
    async fn complete_with_deliveries(
        &self,
        job: &Job,
        deliveries: &[Delivery],
        jobs: &[NewJob],
    ) -> Result<(), StoreError>;
    async fn delivery(&self, site_id: &str, id: &str) -> Result<Option<Delivery>, StoreError>;
    /// Records an attempt on the delivery and the subscription's failure streak; disables
    /// the subscription at `disable_after` failures in a row. True if it was disabled now.
    async fn record_delivery_attempt(
        &self,
        site_id: &str,
        delivery: &Delivery,
        outcome: &AttemptOutcome,
        disable_after: i64,
    ) -> Result<bool, StoreError>;
    /// The latest deliveries of a subscription, newest first.
    async fn deliveries(
        &self,
        site_id: &str,
        subscription_id: &str,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Sends a finished delivery (delivered, dead or cancelled) again: puts it back to
    /// `pending` (its attempts keep counting) and enqueues `job` to deliver it, in one
    /// transaction. False, and nothing written, when it is unknown or still pending.
    async fn requeue_delivery(
        &self,
        site_id: &str,
        delivery_id: &str,
        job: &NewJob,
    ) -> Result<bool, StoreError>;
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

/// Console admins, the sites granted to members, and server-side sessions. These are
/// deployment-wide, not per site: the console checks each admin's role and grants.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Stores a new admin with their password hash; false (and nothing written) when
    /// the e-mail is taken.
    async fn insert_admin(&self, admin: &Admin, password_hash: &str) -> Result<bool, StoreError>;
    async fn admin(&self, admin_id: &str) -> Result<Option<Admin>, StoreError>;
    /// The admin with this (lower-cased) e-mail, with their password hash.
    async fn admin_by_email(&self, email: &str) -> Result<Option<(Admin, String)>, StoreError>;
    /// Every admin, by e-mail.
    async fn admins(&self) -> Result<Vec<Admin>, StoreError>;
    /// Lets an admin manage a site; false if it already could.
    async fn grant_site(&self, admin_id: &str, site_id: &str) -> Result<bool, StoreError>;
    /// The ids of the sites granted to an admin, in order.
    async fn granted_sites(&self, admin_id: &str) -> Result<Vec<String>, StoreError>;
    /// Every grant as `(admin_id, site_id)`, in order.
    async fn all_grants(&self) -> Result<Vec<(String, String)>, StoreError>;
    /// Takes a site away from an admin; false if it was not granted.
    async fn revoke_site(&self, admin_id: &str, site_id: &str) -> Result<bool, StoreError>;
    /// Changes an admin's role, unless that leaves no owner (checked with the owners'
    /// rows locked, so two demotions at once cannot both pass).
    async fn set_admin_role(&self, admin_id: &str, role: Role) -> Result<AdminChange, StoreError>;
    /// Deletes an admin with their sessions and grants, unless they are the last owner.
    async fn delete_admin(&self, admin_id: &str) -> Result<AdminChange, StoreError>;
    /// Stores a session under the SHA-256 of its token.
    async fn insert_session(
        &self,
        token_hash: &str,
        session: &AdminSession,
    ) -> Result<(), StoreError>;
    /// The session with this token hash if it has not expired at `now`, with its admin.
    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(AdminSession, Admin)>, StoreError>;
    /// Records that the session was used at `at`.
    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// Ends one session; false if there was none.
    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError>;
    /// Ends every session of an admin ("sign out everywhere"); how many there were.
    async fn delete_sessions_of(&self, admin_id: &str) -> Result<u64, StoreError>;
    /// Deletes sessions that expired at or before `now`; how many.
    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// The console's audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an entry, stamped now.
    async fn record_audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError>;
    /// Entries newest first, those with an id below `before` when given, at most `limit`.
    async fn audit_entries(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// When each admin last did `action` (e.g. `admin.sign_in`), as `(admin_id, at)`.
    async fn last_audit_by_admin(
        &self,
        action: &str,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError>;
    /// The newest entry of each subject of a site among the actions starting with
    /// `action_prefix` (e.g. `question_set.`), by subject.
    async fn latest_audit_by_subject(
        &self,
        site_id: &str,
        action_prefix: &str,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}

/// What storing a segment did.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentWrite {
    /// A new segment.
    Created(Segment),
    /// The segment of that name, replaced (its `created_at` kept).
    Replaced(Segment),
    /// Not stored: the site already keeps the most segments it may.
    TooMany,
}

/// Saved segments, by name within a site.
#[async_trait]
pub trait SegmentStore: Send + Sync {
    /// Creates or replaces a segment (the condition as validated JSON).
    async fn put_segment(
        &self,
        site_id: &str,
        name: &str,
        description: &str,
        condition: &Value,
    ) -> Result<SegmentWrite, StoreError>;
    /// The site's segments by name.
    async fn segments(&self, site_id: &str) -> Result<Vec<Segment>, StoreError>;
    /// One segment.
    async fn segment(&self, site_id: &str, name: &str) -> Result<Option<Segment>, StoreError>;
    /// Deletes a segment; whether there was one.
    async fn delete_segment(&self, site_id: &str, name: &str) -> Result<bool, StoreError>;
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

/// Opens the database named by the URL, creating an SQLite file when missing; secrets
/// are stored as plaintext.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    connect_with_secrets(url, None).await
}

/// Opens the database named by the URL; with `secrets_key` (64 hex digits or base64 of
/// 32 bytes) identity and webhook secrets are encrypted at rest.
pub async fn connect_with_secrets(
    url: &str,
    secrets_key: Option<&str>,
) -> Result<Arc<dyn Store>, StoreError> {
    let key = secrets_key.map(SecretsKey::parse).transpose()?;
    let sealer = secrets::Sealer::new(key.as_ref());
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?.sealing(sealer)))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?.sealing(sealer)))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
