//! SQLite's reader: the widget's one user (`user_with_history`, `user_being_asked`),
//! read on the calling thread from a connection of its own, without the pool's hand-off
//! to sqlx's worker thread ([decision 0013](../../../../docs/decisions/0013-sqlite-reader.md)).
//!
//! Every `GET /v1/widget/next` and every answer reads one user by primary key, with the
//! user's prompt outcomes: tens of microseconds in SQLite. Through the pool, the query and
//! its row crossed to the connection's worker thread and back, and the woken threads
//! queued for the two cores with the server's and the load's. Here the read runs where
//! the request runs. In WAL mode a reader never waits for the writer: it reads the last
//! commit it sees. Only another process can make it wait (a connection in exclusive
//! locking mode, the last connection closing, recovery after a crash): then it waits
//! [`BUSY_TIMEOUT`] at most and leaves the read to the pool, whose threads may wait.

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, named_params};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::Sqlite;
use super::rows::user_of;
use crate::store::sql::{
    ReaderApart, UserWithHistory, history_of, user_being_asked_sql, user_with_history_sql,
};
use crate::store::{AskedUser, Dialect, StoreError};

/// How long a read waits on a lock before it leaves the read to the pool: it waits on a
/// runtime worker, which serves other requests meanwhile.
const BUSY_TIMEOUT: Duration = Duration::from_millis(100);

/// Read-only connections to one database file, and the two queries.
pub(super) struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Connections kept between reads: one per thread that reads at once (the runtime's
    /// workers, one per core), with room to spare; more are opened when needed and
    /// closed after.
    keep: usize,
    user_with_history: String,
    user_being_asked: String,
}

impl SqliteReader {
    /// A reader of the database file at `path` (already created and in WAL mode by the
    /// pool). Its first connection is opened now, so a file it cannot read fails here.
    pub(super) fn new(path: &Path) -> Result<Self, StoreError> {
        let first = open(path)?;
        Ok(SqliteReader {
            path: path.to_owned(),
            idle: Mutex::new(vec![first]),
            keep: std::thread::available_parallelism().map_or(4, |cores| cores.get()) + 4,
            user_with_history: user_with_history_sql(<Sqlite as Dialect>::FLAVOUR, ""),
            user_being_asked: user_being_asked_sql(<Sqlite as Dialect>::FLAVOUR),
        })
    }

    /// Runs `read` on an idle connection (or a new one), then keeps the connection.
    /// `None` if the database stayed locked for [`BUSY_TIMEOUT`].
    fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Option<Result<T, StoreError>> {
        let idle = self.idle().pop();
        let connection = match idle.map_or_else(|| open(&self.path), Ok) {
            Ok(connection) => connection,
            Err(error) => return apart_unless_busy(error),
        };
        let result = read(&connection);
        let mut idle = self.idle();
        if idle.len() < self.keep {
            idle.push(connection);
        }
        drop(idle);
        match result {
            Ok(read) => Some(Ok(read)),
            Err(error) => apart_unless_busy(error),
        }
    }

    /// The idle connections. A panic while the lock was held left only a list behind.
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl ReaderApart for SqliteReader {
    async fn user_with_history(
        &self,
        site_id: &str,
        user_id: &str,
    ) -> Option<Result<Option<UserWithHistory>, StoreError>> {
        let row = self.read(|connection| {
            connection
                .prepare_cached(&self.user_with_history)?
                .query_row(named_params! { "$1": site_id, "$2": user_id }, |row| {
                    Ok((user_of(row)?, row.get::<_, Value>("history")?))
                })
                .optional()
        })?;
        Some(row.and_then(|row| {
            row.map(|(user, history)| Ok((user, history_of(history)?)))
                .transpose()
        }))
    }

    async fn user_being_asked(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
    ) -> Option<Result<Option<AskedUser>, StoreError>> {
        let row = self.read(|connection| {
            let parameters = named_params! {
                "$1": site_id, "$2": user_id, "$3": question_set, "$4": version, "$5": key,
            };
            connection
                .prepare_cached(&self.user_being_asked)?
                .query_row(parameters, |row| {
                    let user = user_of(row)?;
                    let history = row.get::<_, Value>("history")?;
                    Ok((user, history, row.get::<_, bool>("shown_unanswered")?))
                })
                .optional()
        })?;
        Some(row.and_then(|row| {
            row.map(|(user, history, shown_unanswered)| {
                Ok(AskedUser {
                    user,
                    history: history_of(history)?,
                    shown_unanswered,
                })
            })
            .transpose()
        }))
    }
}

/// The error of a read, or `None` (read on the pool) if the database was locked.
fn apart_unless_busy<T>(error: rusqlite::Error) -> Option<Result<T, StoreError>> {
    let busy = matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    (!busy).then(|| Err(error.into()))
}

/// A read-only connection with a short busy timeout (foreign keys do not matter to
/// reads; `synchronous` is a writer's).
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    /// A database another connection holds locked: the reader waits [`BUSY_TIMEOUT`] on
    /// the calling thread, then leaves the read to the pool (`None`); once the lock is
    /// gone it reads again. The file is in rollback-journal mode here, where a writer's
    /// exclusive lock keeps readers out (in WAL mode only another process's exclusive
    /// locking mode or a recovery does).
    #[tokio::test]
    async fn a_locked_database_is_left_to_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locked.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = SqlitePoolOptions::new().connect(&url).await.unwrap();
        Sqlite::migrate(&pool).await.unwrap();
        pool.close().await;

        let reader = SqliteReader::new(&path).unwrap();
        let unlocked = reader.user_with_history("site", "ada").await;
        assert!(
            matches!(unlocked, Some(Ok(None))),
            "no such user: read apart"
        );

        let locker = Connection::open(&path).unwrap();
        locker
            .execute_batch("PRAGMA journal_mode = DELETE; BEGIN EXCLUSIVE;")
            .unwrap();
        let started = std::time::Instant::now();
        assert!(reader.user_with_history("site", "ada").await.is_none());
        assert!(
            reader
                .user_being_asked("site", "ada", "onboarding", 1, "role")
                .await
                .is_none()
        );
        assert!(started.elapsed() >= BUSY_TIMEOUT);

        locker.execute_batch("COMMIT").unwrap();
        assert!(matches!(
            reader.user_with_history("site", "ada").await,
            Some(Ok(None))
        ));
    }
}
