//! SQLite, the embedded default: what is its own. WAL mode, `synchronous = FULL`, a
//! limit on the log file's size after a checkpoint, foreign keys on, a busy timeout so
//! concurrent writers queue instead of failing.
//! One writer at a time serialises job claims; there is one process, so nothing to
//! notify.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite as SqliteDb};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

use super::dialect::Flavour;
use super::{Dialect, SqlStore, StoreError};
use reader::SqliteReader;
use writer::SqliteWriter;

mod reader;
mod rows;
mod writer;

/// The bytes a write-ahead log file keeps after a checkpoint empties it. SQLite otherwise
/// keeps the file at its largest size: one large import (a 1 M-user population grew it to
/// 2.3 GB) would hold that disk for good, where day-to-day writes stay under 5 MB.
const JOURNAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// The SQLite dialect.
#[derive(Debug, Clone, Copy)]
pub struct Sqlite;

/// The store on SQLite.
pub type SqliteStore = SqlStore<Sqlite>;

impl SqliteStore {
    /// The settings every pool connection opens the file named by a `sqlite:` URL with
    /// (creating it if missing); `trickle-bench-db` opens its own with them too.
    pub fn connect_options(url: &str) -> Result<SqliteConnectOptions, StoreError> {
        Ok(SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL is durable against process crashes; FULL also survives power loss.
            .synchronous(SqliteSynchronous::Full)
            .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT.to_string())
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30)))
    }

    /// Opens (and creates) the database file named by a `sqlite:` URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = Self::connect_options(url)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        if shared_page_cache(&pool).await? {
            tracing::warn!(
                "this SQLite is built with SQLITE_ENABLE_MEMORY_MANAGEMENT: every connection's \
                 pages share one cache behind one lock, so concurrent reads queue on it \
                 (a filtered results page takes about twice as long); build Trickle from its \
                 workspace, whose .cargo/config.toml sets LIBSQLITE3_FLAGS \
                 (docs/decisions/0010-sqlite-page-cache-per-connection.md)"
            );
        }
        let store = SqlStore::new(pool);
        // A database in memory lives in the pool's connections only, and a read-only,
        // immutable or other-VFS one is opened as the URL says only by the pool: their
        // reads and writes stay on the pool.
        let pool_only = [":memory:", "mode=memory", "mode=ro", "immutable=", "vfs="];
        if pool_only.iter().any(|option| url.contains(option)) {
            return Ok(store);
        }
        let path = options.get_filename();
        let writer = SqliteWriter::start(path)?;
        let reader = SqliteReader::new(path)?;
        Ok(store
            .writing_apart(Arc::new(writer))
            .reading_apart(Arc::new(reader)))
    }
}

/// Whether the linked SQLite keeps every connection's pages in one shared cache behind
/// one lock (`SQLITE_ENABLE_MEMORY_MANAGEMENT`, on in `libsqlite3-sys`'s bundled build
/// unless `LIBSQLITE3_FLAGS` turns it off).
async fn shared_page_cache(pool: &Pool<SqliteDb>) -> Result<bool, StoreError> {
    let options = compile_options(pool).await?;
    Ok(options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"))
}

/// The linked SQLite's compile-time options, as `PRAGMA compile_options` lists them.
async fn compile_options(pool: &Pool<SqliteDb>) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("PRAGMA compile_options")
        .fetch_all(pool)
        .await?)
}

#[async_trait]
impl Dialect for Sqlite {
    type Db = SqliteDb;
    type Timestamp = String;

    fn timestamp(at: DateTime<Utc>) -> String {
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    const LEAST: &'static str = "min";
    const GREATEST: &'static str = "max";
    // SQLite compares text with memcmp (BINARY) unless told otherwise.
    const USER_ID_IN_BYTE_ORDER: &'static str = "user_id";
    const FLAVOUR: Flavour = Flavour::Sqlite;
    const CLAIM_LOCK: &'static str = "";
    const ROW_LOCK: &'static str = "";
    const WRITERS: usize = 1;
    const APART_WRITERS: Option<usize> = None;
    const NOTIFY_INVALIDATION: Option<&'static str> = None;

    async fn migrate(pool: &Pool<SqliteDb>) -> Result<(), StoreError> {
        sqlx::migrate!("../migrations/sqlite").run(pool).await?;
        Ok(())
    }

    async fn subscribe_invalidations(
        _pool: &Pool<SqliteDb>,
    ) -> Result<Option<UnboundedReceiver<String>>, StoreError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workspace builds SQLite with a page cache per connection and without memory
    /// statistics (`.cargo/config.toml`); a build that lost the flags reads twice as
    /// slowly under concurrent reads, so it fails here.
    #[tokio::test]
    async fn sqlite_is_built_with_a_page_cache_per_connection() {
        let pool = SqlitePoolOptions::new()
            .connect("sqlite::memory:")
            .await
            .unwrap();
        assert!(!shared_page_cache(&pool).await.unwrap());
        let options = compile_options(&pool).await.unwrap();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }

    /// After one large transaction (an import) the log file is cut back to
    /// [`JOURNAL_SIZE_LIMIT`] once a checkpoint has emptied it and the next write starts it
    /// over; without the limit it keeps the import's size.
    #[tokio::test]
    async fn the_write_ahead_log_gives_back_its_disk_after_an_import() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("import.db");
        let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let pool = store.pool();
        let log = || {
            std::fs::metadata(dir.path().join("import.db-wal"))
                .unwrap()
                .len()
        };
        let megabytes = JOURNAL_SIZE_LIMIT / (1024 * 1024) + 16;
        sqlx::query("CREATE TABLE import (blob BLOB)")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO import WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
             WHERE i < ?) SELECT randomblob(1048576) FROM n",
        )
        .bind(megabytes as i64)
        .execute(pool)
        .await
        .unwrap();
        assert!(log() > JOURNAL_SIZE_LIMIT, "the import grew the log");

        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO import VALUES (x'00')")
            .execute(pool)
            .await
            .unwrap();
        assert!(log() <= JOURNAL_SIZE_LIMIT, "{} bytes", log());
    }
}
