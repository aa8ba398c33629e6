//! What differs between the databases, and nothing else: how timestamps are bound,
//! a few SQL fragments, migrations, and cross-replica notifications.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, Pool, Type};
use tokio::sync::mpsc::UnboundedReceiver;

use super::StoreError;

/// Which database's JSON functions and syntax a condition is compiled to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Sqlite,
    Postgres,
}

impl Flavour {
    /// A text expression compared byte by byte (SQLite's default; PostgreSQL's
    /// `COLLATE "C"`, whatever the database's collation).
    pub fn in_byte_order(self, text: &str) -> String {
        match self {
            Flavour::Sqlite => text.to_owned(),
            Flavour::Postgres => format!("{text} COLLATE \"C\""),
        }
    }

    /// How a metadata column (`user_metadata`, `app_metadata`) is written from a
    /// parameter bound as JSON text: SQLite stores its binary JSONB form (decision 0008:
    /// conditions then read a key without parsing the whole document), PostgreSQL binds
    /// `jsonb` as it is.
    pub fn stored_metadata(self, parameter: &str) -> String {
        match self {
            Flavour::Sqlite => format!("jsonb({parameter})"),
            Flavour::Postgres => parameter.to_owned(),
        }
    }

    /// An empty metadata document in its stored form.
    pub fn empty_metadata(self) -> &'static str {
        match self {
            Flavour::Sqlite => "jsonb('{}')",
            Flavour::Postgres => "'{}'::jsonb",
        }
    }
}

/// One database's own part of the shared SQL. Every query of [`super::SqlStore`] is
/// written once with `$N` placeholders (sqlx binds them on SQLite too) and splices in
/// these fragments where the databases disagree.
#[async_trait]
pub trait Dialect: Send + Sync + 'static {
    /// The sqlx driver.
    type Db: Database;
    /// How a timestamp is bound: fixed-width RFC 3339 text on SQLite (so that text order
    /// is time order), `timestamptz` on PostgreSQL.
    type Timestamp: for<'q> Encode<'q, Self::Db> + Type<Self::Db> + Send + Sync;

    /// Converts a timestamp for binding.
    fn timestamp(at: DateTime<Utc>) -> Self::Timestamp;

    /// Rows a statement changed (each driver has its own result type).
    fn rows_affected(result: &<Self::Db as Database>::QueryResult) -> u64;

    /// The smaller of two values (`min(a, b)` / `LEAST(a, b)`).
    const LEAST: &'static str;
    /// The larger of two values (`max(a, b)` / `GREATEST(a, b)`).
    const GREATEST: &'static str;
    /// `user_id` in byte order, for paging.
    const USER_ID_IN_BYTE_ORDER: &'static str;
    /// Whose JSON functions conditions are compiled to.
    const FLAVOUR: Flavour;
    /// Appended to the claim's inner `SELECT` so concurrent claimers skip each other's
    /// rows of `jobs` (PostgreSQL); empty where one writer at a time already serialises claims.
    const CLAIM_LOCK: &'static str;
    /// Appended to the read of a row the transaction then writes, so that concurrent
    /// writers of it wait (PostgreSQL: `FOR UPDATE`); empty where a write transaction
    /// already holds the one write lock (SQLite's `BEGIN IMMEDIATE`).
    const ROW_LOCK: &'static str;

    /// How many tasks write batches side by side (group commit): of every write where
    /// [`APART_WRITERS`](Dialect::APART_WRITERS) is `None`, else of the store's own
    /// writes (on PostgreSQL, logins). One on SQLite, where writers take turns at one
    /// lock anyway; a few on PostgreSQL, where batches of different users run in
    /// parallel.
    const WRITERS: usize;

    /// Tasks of their own, on a queue of their own, for the writes the store's writer
    /// apart takes; `None`: they share the [`WRITERS`](Dialect::WRITERS). SQLite: `None`
    /// (a batch of logins and answers goes to its writer thread in one hand-off);
    /// PostgreSQL: one, so that answers and prompt events go in the fewest, largest
    /// batches while logins keep theirs side by side.
    const APART_WRITERS: Option<usize>;

    /// Applies this database's migrations (`migrations/<database>/`).
    async fn migrate(pool: &Pool<Self::Db>) -> Result<(), StoreError>;

    /// A statement (`$1` = channel, `$2` = site id) run inside a transaction that
    /// changed a site's cached data, telling other replicas on commit. `None` where
    /// there is only one process.
    const NOTIFY_INVALIDATION: Option<&'static str>;

    /// Follows other replicas' invalidations; `None` where there is only one process.
    async fn subscribe_invalidations(
        pool: &Pool<Self::Db>,
    ) -> Result<Option<UnboundedReceiver<String>>, StoreError>;
}

/// The channel on which replicas announce changed sites.
pub const INVALIDATION_CHANNEL: &str = "trickle_invalidate";
