//! SQLite's reader: the widget's one user (`user_with_history`, `user_being_asked`),
//! read on the calling thread from a connection of its own, without the pool's hand-off
//! to sqlx's worker thread ([decision 0013](../../../../docs/decisions/0013-sqlite-reader.md)).
//!
//! Every `GET /v1/widget/next` and every answer reads one user by primary key, with the
//! user's prompt outcomes: tens of microseconds in SQLite. Through the pool, the query and
//! its row crossed to the connection's worker thread and back, and the woken threads
//! queued for the two cores with the server's and the load's. Here the read runs where
//! the request runs. In WAL mode a reader never waits for the writer: it reads the last
//! commit it sees.

use rusqlite::{Connection, OpenFlags, OptionalExtension, named_params};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::Sqlite;
use super::rows::user_of;
use crate::model::User;
use crate::questions::PromptRecord;
use crate::store::sql::{ReaderApart, history_of, user_being_asked_sql, user_with_history_sql};
use crate::store::{AskedUser, Dialect, StoreError};

/// How long a read waits on a lock. In WAL mode only a checkpoint that resets the log or
/// a recovery after a crash holds readers back, briefly.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections kept between reads: one per thread that reads at once (the runtime's
/// workers), with room to spare; more are opened when needed and closed after.
const IDLE_CONNECTIONS: usize = 16;

/// Read-only connections to one database file, and the two queries.
pub(super) struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
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
            user_with_history: user_with_history_sql(<Sqlite as Dialect>::FLAVOUR, ""),
            user_being_asked: user_being_asked_sql(<Sqlite as Dialect>::FLAVOUR),
        })
    }

    /// Runs `read` on an idle connection (or a new one), then keeps the connection.
    fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self.idle().pop();
        let connection = match idle {
            Some(connection) => connection,
            None => open(&self.path)?,
        };
        let result = read(&connection);
        let mut idle = self.idle();
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(connection);
        }
        result
    }

    /// The idle connections. A panic while the lock was held left only a list behind.
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ReaderApart for SqliteReader {
    fn user_with_history(
        &self,
        site_id: &str,
        user_id: &str,
    ) -> Result<Option<(User, Vec<PromptRecord>)>, StoreError> {
        let row = self.read(|connection| {
            Ok(connection
                .prepare_cached(&self.user_with_history)?
                .query_row(named_params! { "$1": site_id, "$2": user_id }, |row| {
                    Ok((user_of(row)?, row.get::<_, Value>("history")?))
                })
                .optional()?)
        })?;
        row.map(|(user, history)| Ok((user, history_of(history)?)))
            .transpose()
    }

    fn user_being_asked(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
    ) -> Result<Option<AskedUser>, StoreError> {
        let row = self.read(|connection| {
            let parameters = named_params! {
                "$1": site_id, "$2": user_id, "$3": question_set, "$4": version, "$5": key,
            };
            Ok(connection
                .prepare_cached(&self.user_being_asked)?
                .query_row(parameters, |row| {
                    let user = user_of(row)?;
                    let history = row.get::<_, Value>("history")?;
                    Ok((user, history, row.get::<_, bool>("shown_unanswered")?))
                })
                .optional()?)
        })?;
        row.map(|(user, history, shown_unanswered)| {
            Ok(AskedUser {
                user,
                history: history_of(history)?,
                shown_unanswered,
            })
        })
        .transpose()
    }
}

/// A read-only connection, set as the pool's are for reading (foreign keys do not
/// matter to reads; `synchronous` is a writer's).
fn open(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    Ok(connection)
}
