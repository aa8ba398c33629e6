//! The SQL, written once: [`SqlStore`] implements every store trait for any
//! [`Dialect`]. One file per concept; each `impl` carries the same `where` clause,
//! which names what sqlx needs to bind and decode the shared queries' types on the
//! dialect's database (Rust does not carry such bounds over from a trait).

mod admins;
mod audit;
pub(crate) mod condition;
mod enrichment;
mod group_commit;
mod insights;
mod jobs;
mod logins;
mod prompts;
mod question_sets;
mod results;
mod retention;
mod rows;
mod secrets;
mod segments;
mod sites;
mod stats;
mod user_history;
mod users;
mod webhooks;
mod write_batch;

// What the writers apart (`store/sqlite/writer.rs`, `store/postgres/widget_writes.rs`) share
// with the pool's path.
pub(in crate::store) use group_commit::{
    BatchOutcome, PromptEventWrite, Write, WriterApart, Written, outcome_without_savepoint,
};
pub(in crate::store) use jobs::INSERT_JOB;
pub(in crate::store) use logins::{
    INSERT_LOGIN_EVENT, RECEIPT_OF_EVENT, count_user_sql, receipt_of,
};
pub(in crate::store) use prompts::{
    INSERT_ANSWERED_EVENT, INSERT_PROMPT_EVENT, KEEP_ANSWER, LOGIN_OF_USER, SET_LAST_PROMPTED,
    answer_into,
};
pub(in crate::store) use prompts::{shown_unanswered_column, user_being_asked_sql};
pub(in crate::store) use rows::{
    AskedUserRow, UserRow, UserWithHistoryRow, history_of, user_columns,
};
pub(in crate::store) use users::{
    store_metadata_sql, user_to_edit_sql, user_with_history_columns, user_with_history_sql,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

use std::sync::{Arc, OnceLock};
use tokio::sync::mpsc::UnboundedReceiver;

use super::AskedUser;
use super::dialect::{Flavour, INVALIDATION_CHANNEL};
use super::secrets::Sealer;
use super::{Dialect, Store, StoreError};
use crate::model::{MetadataLimits, User, json_size};
use crate::questions::PromptRecord;

/// The UTC day of a timestamp column: `.group` to `GROUP BY`, `.text` (a function of
/// it) to select as `YYYY-MM-DD`. SQLite keeps timestamps as fixed-width RFC 3339 text in
/// UTC, so the day is its first ten characters; PostgreSQL groups by the cheap `date`
/// and formats only each group (formatting every row cost 40 % of a daily count).
pub(super) struct UtcDay {
    pub group: String,
    pub text: String,
}

/// The UTC day of `column` (see [`UtcDay`]).
pub(super) fn utc_day(flavour: Flavour, column: &str) -> UtcDay {
    match flavour {
        Flavour::Sqlite => {
            let day = format!("substr({column}, 1, 10)");
            UtcDay {
                group: day.clone(),
                text: day,
            }
        }
        Flavour::Postgres => {
            let group = format!("(({column}) AT TIME ZONE 'UTC')::date");
            UtcDay {
                text: format!("to_char({group}, 'YYYY-MM-DD')"),
                group,
            }
        }
    }
}

/// The store on one database: a connection pool, the dialect's fragments, and what
/// seals secrets at rest.
pub struct SqlStore<D: Dialect> {
    pool: Pool<D::Db>,
    sealer: Sealer,
    /// The queue to the writers of logins and answers (group commit), shared by clones.
    writes: Arc<OnceLock<group_commit::WriteQueue>>,
    /// Where some of the group commit's writes go instead of the store's own
    /// transaction, if anywhere (SQLite's writer: every write but a login with claims;
    /// PostgreSQL's widget writer: answers and prompt events).
    writer_apart: Option<Arc<dyn WriterApart>>,
    /// What reads the widget's user apart from the pool, if anything (SQLite's reader on
    /// the request's thread; PostgreSQL's a batch at a time).
    reader_apart: Option<Arc<dyn ReaderApart>>,
    /// Connections to the database itself where `pool` goes through a transaction
    /// pooler, for what needs a session of its own: migrations (a session lock) and
    /// `LISTEN`. `None`: `pool`'s connections are sessions.
    sessions: Option<Pool<D::Db>>,
}

/// A user and their prompt outcomes, oldest first.
pub(in crate::store) type UserWithHistory = (User, Vec<PromptRecord>);

/// Reads the widget's one user apart from the store's pool: SQLite's reader on the
/// calling thread (`store/sqlite/reader.rs`), PostgreSQL's a batch of users at a time
/// (`store/postgres/widget_reads.rs`); the same queries. Each returns `None` when it
/// could not read (SQLite's file stayed locked by another process for longer than the
/// reader waits; PostgreSQL's batch failed): the caller then reads on the pool.
#[async_trait]
pub(in crate::store) trait ReaderApart: Send + Sync + 'static {
    /// As [`UserStore::user_with_history`](super::UserStore::user_with_history).
    async fn user_with_history(
        &self,
        site_id: &str,
        user_id: &str,
    ) -> Option<Result<Option<UserWithHistory>, StoreError>>;

    /// As [`PromptStore::user_being_asked`](super::PromptStore::user_being_asked).
    async fn user_being_asked(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
    ) -> Option<Result<Option<AskedUser>, StoreError>>;
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
            sealer: self.sealer.clone(),
            writes: self.writes.clone(),
            writer_apart: self.writer_apart.clone(),
            reader_apart: self.reader_apart.clone(),
            sessions: self.sessions.clone(),
        }
    }
}

impl<D: Dialect> SqlStore<D> {
    /// A store over an open pool, keeping secrets as plaintext.
    pub fn new(pool: Pool<D::Db>) -> Self {
        SqlStore {
            pool,
            sealer: Sealer::default(),
            writes: Arc::default(),
            writer_apart: None,
            reader_apart: None,
            sessions: None,
        }
    }

    /// This store, migrating and listening on `sessions` (connections to the database
    /// itself) while its pool goes through a transaction pooler.
    pub(in crate::store) fn with_sessions(mut self, sessions: Pool<D::Db>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Where work that needs a session of its own connects.
    fn session_pool(&self) -> &Pool<D::Db> {
        self.sessions.as_ref().unwrap_or(&self.pool)
    }

    /// This store, handing the group commit's writes that need no savepoint to `writer`.
    pub(in crate::store) fn writing_apart(mut self, writer: Arc<dyn WriterApart>) -> Self {
        self.writer_apart = Some(writer);
        self
    }

    /// This store, reading the widget's user with `reader` instead of the pool.
    pub(in crate::store) fn reading_apart(mut self, reader: Arc<dyn ReaderApart>) -> Self {
        self.reader_apart = Some(reader);
        self
    }

    /// The connection pool, for tools and tests that run their own SQL on the store's
    /// connections (around the sealing of secrets: not for the service's own code).
    #[doc(hidden)]
    pub fn pool(&self) -> &Pool<D::Db> {
        &self.pool
    }

    /// This store, sealing secrets with `sealer`.
    pub(crate) fn sealing(mut self, sealer: Sealer) -> Self {
        self.sealer = sealer;
        self
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so it waits its turn under the busy timeout; a deferred
    /// transaction that reads first fails with "database is locked", without waiting,
    /// when another connection commits between its read and its first write.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, D::Db>, sqlx::Error> {
        match D::FLAVOUR {
            Flavour::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Flavour::Postgres => self.pool.begin().await,
        }
    }

    /// Now, bound the dialect's way.
    fn now() -> D::Timestamp {
        D::timestamp(Utc::now())
    }
}

/// The database of a dialect.
type Db<D> = <D as Dialect>::Db;
/// A row of a dialect's database.
type Row<D> = <<D as Dialect>::Db as Database>::Row;
/// A connection of a dialect's database (what a transaction derefs to).
type Connection<D> = <<D as Dialect>::Db as Database>::Connection;

#[async_trait]
impl<D> Store for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    <Db<D> as Database>::Arguments: IntoArguments<Db<D>>,
    for<'q> &'q str: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'q> Option<&'q str>: Encode<'q, Db<D>>,
    for<'q> Option<i64>: Encode<'q, Db<D>>,
    for<'q> Option<&'q str>: Encode<'q, Db<D>>,
    for<'q> Option<i64>: Encode<'q, Db<D>>,
    for<'q> f64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> i64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> bool: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> String: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> Json<&'q Value>: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'r> Json<Value>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> DateTime<Utc>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> &'r str: ColumnIndex<Row<D>>,
    usize: ColumnIndex<Row<D>>,
{
    async fn migrate(&self) -> Result<(), StoreError> {
        D::migrate(self.session_pool()).await?;
        self.seal_stored_secrets().await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn subscribe_invalidations(
        &self,
    ) -> Result<Option<UnboundedReceiver<String>>, StoreError> {
        D::subscribe_invalidations(self.session_pool()).await
    }

    async fn notify_invalidation(&self, site_id: &str) -> Result<(), StoreError> {
        if let Some(notify) = D::NOTIFY_INVALIDATION {
            sqlx::query(notify)
                .bind(INVALIDATION_CHANNEL)
                .bind(site_id)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

/// Checks both metadata limits inside a write transaction.
pub(in crate::store) fn check_limits(
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
