//! SQLite's login writer: the group commit's batches of logins without claims, written by
//! a thread of its own on a connection of its own, one hand-off per batch
//! ([decision 0012](../../../../docs/decisions/0012-sqlite-login-writer.md)).
//!
//! sqlx runs each SQLite statement on its connection's worker thread and hands the
//! statement and its rows across threads: a batch of 32 logins was about 70 hand-offs,
//! and the one writer spent 107 µs per login, most of it waiting for threads to wake.
//! Here the thread receives the whole batch, writes it in one transaction with the
//! statements the shared path uses (`store/sql/logins.rs`, `jobs.rs`), commits once, and
//! sends back the receipts. Logins with claims, answers and prompt events keep the
//! shared path; the group commit never writes both at once (`group_commit.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, named_params};
use serde_json::Value;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

use super::Sqlite;
use crate::model::{LoginReceipt, User};
use crate::store::sql::{
    INSERT_JOB, INSERT_LOGIN_EVENT, LoginBatchWriter, RECEIPT_OF_EVENT, count_user_sql, receipt_of,
};
use crate::store::{Dialect, LoginWrite, StoreError};

/// How long a batch waits for another connection's write lock (as the pool's busy timeout).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A batch for the thread, and where its receipts go.
struct Batch {
    logins: Vec<LoginWrite>,
    reply: oneshot::Sender<Result<Vec<LoginReceipt>, StoreError>>,
}

/// The handle on the writer thread; the thread stops once the last handle is dropped.
pub(super) struct SqliteLoginWriter {
    sender: mpsc::Sender<Batch>,
}

impl SqliteLoginWriter {
    /// Opens a connection of its own to the database file at `path` (already created and
    /// in WAL mode by the pool) and starts the writer thread on it.
    pub(super) fn start(path: &Path) -> Result<Self, StoreError> {
        let connection = open(path)?;
        let (sender, batches) = mpsc::channel::<Batch>();
        std::thread::Builder::new()
            .name("sqlite-logins".into())
            .spawn(move || write_batches(connection, batches))
            .map_err(|e| StoreError::Shared(format!("starting the login writer: {e}")))?;
        Ok(SqliteLoginWriter { sender })
    }
}

#[async_trait]
impl LoginBatchWriter for SqliteLoginWriter {
    async fn write_logins(&self, logins: Vec<LoginWrite>) -> Result<Vec<LoginReceipt>, StoreError> {
        let (reply, receipts) = oneshot::channel();
        self.sender
            .send(Batch { logins, reply })
            .map_err(|_| stopped())?;
        receipts.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Shared("the SQLite login writer has stopped".into())
}

/// The connection, set as the pool's are: `synchronous = FULL` (a receipt means the
/// login survives a power loss), foreign keys on, the same busy timeout.
fn open(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )?;
    Ok(connection)
}

/// The thread: each batch in one transaction, until the handle is dropped. A panic fails
/// its batch, not the thread.
fn write_batches(mut connection: Connection, batches: mpsc::Receiver<Batch>) {
    let count_user = count_user_sql::<Sqlite>();
    while let Ok(Batch { logins, reply }) = batches.recv() {
        let written = catch_unwind(AssertUnwindSafe(|| {
            write_batch(&mut connection, &count_user, &logins)
        }))
        .unwrap_or_else(|_| Err(StoreError::Shared("the login writer panicked".into())));
        if !connection.is_autocommit() {
            // A panic inside the transaction left it open.
            let _ = connection.execute_batch("ROLLBACK");
        }
        // The caller may have gone; the logins are written either way (a retry with the
        // same event id gets the same receipt).
        let _ = reply.send(written);
    }
}

/// One transaction for the batch; nothing of it is written if any login fails.
fn write_batch(
    connection: &mut Connection,
    count_user: &str,
    logins: &[LoginWrite],
) -> Result<Vec<LoginReceipt>, StoreError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let receipts = logins
        .iter()
        .map(|login| count_login(&transaction, count_user, login))
        .collect::<Result<Vec<_>, _>>()?;
    transaction.commit()?;
    Ok(receipts)
}

/// The statements of one login without claims, as `store/sql/logins.rs` writes them:
/// the user counted if the event id is new, then the event with its counts and the
/// follow-up jobs; a retried event id returns the stored receipt.
fn count_login(
    connection: &Connection,
    count_user: &str,
    write: &LoginWrite,
) -> Result<LoginReceipt, StoreError> {
    let LoginWrite {
        site_id,
        login,
        follow_ups,
        ..
    } = write;
    if login.profile.is_some() {
        return Err(StoreError::Shared(
            "a login with claims reached the SQLite login writer".into(),
        ));
    }
    let at = Sqlite::timestamp(login.occurred_at);
    let now = Sqlite::timestamp(Utc::now());
    let counted = connection
        .prepare_cached(count_user)?
        .query_row(
            named_params! {
                "$1": site_id,
                "$2": login.user_id,
                "$3": at,
                "$4": login.ip,
                "$5": login.user_agent,
                "$6": login.email,
                "$7": login.name,
                "$8": now,
                "$9": login.event_id,
            },
            counted_user,
        )
        .optional()?;
    let Some((user, previous_login_at)) = counted else {
        let receipt = connection.prepare_cached(RECEIPT_OF_EVENT)?.query_row(
            named_params! { "$1": site_id, "$2": login.event_id },
            |row| {
                Ok(LoginReceipt {
                    user_id: row.get("user_id")?,
                    login_count: row.get("login_count")?,
                    first_login_at: row.get("first_login_at")?,
                    last_login_at: row.get("last_login_at")?,
                    signed_up: row.get("signed_up")?,
                })
            },
        )?;
        return Ok(receipt);
    };
    let receipt = receipt_of(&user);
    connection
        .prepare_cached(INSERT_LOGIN_EVENT)?
        .execute(named_params! {
            "$1": site_id,
            "$2": login.event_id,
            "$3": login.user_id,
            "$4": at,
            "$5": login.ip,
            "$6": login.user_agent,
            "$7": receipt.login_count,
            "$8": Sqlite::timestamp(receipt.first_login_at),
            "$9": Sqlite::timestamp(receipt.last_login_at),
            "$10": receipt.signed_up,
            "$11": previous_login_at.map(Sqlite::timestamp),
            "$12": previous_login_at.is_some(),
        })?;
    for job in follow_ups(&receipt, &user) {
        connection
            .prepare_cached(INSERT_JOB)?
            .execute(named_params! {
                "$1": site_id,
                "$2": job.id,
                "$3": job.kind,
                "$4": job.payload.to_string(),
                "$5": job.max_attempts,
                "$6": Sqlite::timestamp(job.run_at),
                "$7": job.dedupe_key,
                "$8": now,
                "$9": now,
                "$10": job.user_id,
            })?;
    }
    Ok(receipt)
}

/// The user as the count left them (`user_columns`), with their previous login.
fn counted_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<(User, Option<DateTime<Utc>>)> {
    let user = User {
        user_id: row.get("user_id")?,
        login_count: row.get("login_count")?,
        first_login_at: row.get("first_login_at")?,
        last_login_at: row.get("last_login_at")?,
        last_ip: row.get("last_ip")?,
        last_user_agent: row.get("last_user_agent")?,
        email: row.get("email")?,
        name: row.get("name")?,
        user_metadata: row.get::<_, Value>("user_metadata")?,
        app_metadata: row.get::<_, Value>("app_metadata")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        last_prompted_at: row.get("last_prompted_at")?,
    };
    Ok((user, row.get("previous_login_at")?))
}
