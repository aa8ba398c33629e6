//! Storage: one trait, one implementation per database.
//!
//! The backend is picked from the URL scheme (`sqlite:` or `postgres:`). Every query
//! filters by `site_id`. Writes that must be exact (login counting, answers, merge
//! patches) are single transactions; a method returning `Ok` means committed.

mod postgres;
pub(crate) mod rows;
mod sqlite;
mod traits;

use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;

use crate::jobs::NewJob;
use crate::logins::{LoginReceipt, NewLogin};
use crate::profiles::{AnswerRecord, User};
use crate::question_sets::{QuestionSetSummary, QuestionSetVersion};
use crate::questions::PromptRecord;
use crate::sites::{Site, WidgetSettings};
use crate::stats::{AnswerCount, PromptEventCount};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use traits::{JobQueue, WebhookStore};

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
}

/// Size limits the store enforces inside its write transactions.
#[derive(Debug, Clone, Copy)]
pub struct MetadataLimits {
    pub user_metadata_bytes: usize,
    pub app_metadata_bytes: usize,
}

/// An edit of a user's `(user_metadata, app_metadata)`, applied inside the write
/// transaction so concurrent edits never lose each other's changes.
pub type MetadataEdit<'a> = &'a (dyn Fn(&mut Value, &mut Value) + Sync);

/// The jobs a login causes, decided inside its transaction from the receipt and the
/// user's stored `app_metadata.enrichment` (to see which results are stale).
pub type LoginFollowUps<'a> = &'a (dyn Fn(&LoginReceipt, Option<&Value>) -> Vec<NewJob> + Sync);

/// An answer to store: the value is already validated and normalised.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    pub question_set: String,
    pub version: i64,
    pub key: String,
    pub value: Value,
}

/// What happened to a prompt, besides an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptEventKind {
    Impression,
    Skipped,
    Dismissed,
}

impl PromptEventKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PromptEventKind::Impression => "impression",
            PromptEventKind::Skipped => "skipped",
            PromptEventKind::Dismissed => "dismissed",
        }
    }
}

/// The result of publishing a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    Published,
    AlreadyPublished,
    NotFound,
}

/// Everything Trickle keeps, behind one interface. Methods that change a profile take the
/// jobs the change causes (enrichment, webhook events) and write them in the same
/// transaction: the outbox.
#[async_trait]
pub trait Store: JobQueue + WebhookStore + Send + Sync + 'static {
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a new site with the hash of its secret key.
    async fn insert_site(&self, site: &Site, secret_key_hash: &str) -> Result<(), StoreError>;
    async fn site(&self, site_id: &str) -> Result<Option<Site>, StoreError>;
    async fn site_by_publishable_key(&self, key: &str) -> Result<Option<Site>, StoreError>;
    async fn site_by_secret_key_hash(&self, hash: &str) -> Result<Option<Site>, StoreError>;
    /// Replaces a site's allowed origins and widget settings.
    async fn update_site(
        &self,
        site_id: &str,
        allowed_origins: &[String],
        widget_settings: &WidgetSettings,
    ) -> Result<Option<Site>, StoreError>;
    /// Whether any site lists this origin (answers CORS preflights, which carry no key).
    async fn origin_allowed_by_any_site(&self, origin: &str) -> Result<bool, StoreError>;

    /// Counts a login exactly once per `event_id`, atomically.
    async fn record_login(
        &self,
        site_id: &str,
        login: &NewLogin,
        follow_ups: LoginFollowUps<'_>,
    ) -> Result<LoginReceipt, StoreError>;

    async fn user(&self, site_id: &str, user_id: &str) -> Result<Option<User>, StoreError>;
    /// The user and their prompt outcomes (answered, skipped, dismissed), oldest first.
    async fn user_with_history(
        &self,
        site_id: &str,
        user_id: &str,
    ) -> Result<Option<(User, Vec<PromptRecord>)>, StoreError>;
    async fn answers(&self, site_id: &str, user_id: &str) -> Result<Vec<AnswerRecord>, StoreError>;
    /// Users ordered by id, after the cursor.
    async fn list_users(
        &self,
        site_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError>;
    /// Applies an edit to the user's metadata in one transaction; `None` if no such user.
    async fn edit_user(
        &self,
        site_id: &str,
        user_id: &str,
        edit: MetadataEdit<'_>,
        limits: MetadataLimits,
        follow_ups: &[NewJob],
    ) -> Result<Option<User>, StoreError>;
    /// Erases the user: profile, answers, prompt and login events. False if unknown (and
    /// then no jobs are written).
    async fn delete_user(
        &self,
        site_id: &str,
        user_id: &str,
        follow_ups: &[NewJob],
    ) -> Result<bool, StoreError>;

    /// Writes the answer into user_metadata (via `edit`), keeps it with its source, and
    /// records the prompt outcome, in one transaction. `None` if no such user.
    async fn record_answer(
        &self,
        site_id: &str,
        user_id: &str,
        answer: &NewAnswer,
        edit: MetadataEdit<'_>,
        limits: MetadataLimits,
        follow_ups: &[NewJob],
    ) -> Result<Option<User>, StoreError>;
    /// Records an impression, skip or dismissal at the user's current login count; an
    /// impression also sets the user's `last_prompted_at`. False if no such user.
    async fn record_prompt_event(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
        kind: PromptEventKind,
    ) -> Result<bool, StoreError>;

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

    /// Prompt events counted per question set, key and kind.
    async fn prompt_event_counts(&self, site_id: &str)
    -> Result<Vec<PromptEventCount>, StoreError>;
    /// Stored answers counted per question set, key and value.
    async fn answer_counts(&self, site_id: &str) -> Result<Vec<AnswerCount>, StoreError>;
    /// How many users have each login count: `(login_count, users)`.
    async fn login_count_histogram(&self, site_id: &str) -> Result<Vec<(i64, i64)>, StoreError>;

    /// Cross-replica cache invalidation: yields site ids whose question sets or settings
    /// changed on another process. `None` when the backend has a single process (SQLite).
    async fn subscribe_invalidations(
        &self,
    ) -> Result<Option<tokio::sync::mpsc::UnboundedReceiver<String>>, StoreError>;
    /// Tells other replicas a site's cached data changed.
    async fn notify_invalidation(&self, site_id: &str) -> Result<(), StoreError>;
}

/// Opens the database named by the URL, creating an SQLite file when missing.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// Serialised size of a JSON value, for the metadata limits.
pub(crate) fn json_size(value: &Value) -> usize {
    serde_json::to_vec(value)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
}

/// Checks both metadata limits; used by both backends inside their transactions.
pub(crate) fn check_limits(
    user_metadata: &Value,
    app_metadata: &Value,
    limits: MetadataLimits,
) -> Result<(), StoreError> {
    for (field, value, limit) in [
        ("user_metadata", user_metadata, limits.user_metadata_bytes),
        ("app_metadata", app_metadata, limits.app_metadata_bytes),
    ] {
        let size = json_size(value);
        if size > limit {
            return Err(StoreError::TooLarge { field, size, limit });
        }
    }
    Ok(())
}
