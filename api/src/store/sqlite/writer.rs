//! SQLite's writer: the group commit's batches (logins without claims, answers, prompt
//! events), written by a thread of its own on a connection of its own, one hand-off per
//! batch ([decision 0012](../../../../docs/decisions/0012-sqlite-writer.md)).
//!
//! sqlx runs each SQLite statement on its connection's worker thread and hands the
//! statement and its rows across threads: a batch of 32 logins was about 70 statements,
//! so about 140 thread wake-ups, and the one writer spent 107 µs per login, most of it
//! waiting for threads to wake.
//! Here the thread receives the whole batch, writes it in one transaction with the
//! statements the shared path uses (`store/sql/`: logins, prompts, users, jobs), commits
//! once, and sends back each write's outcome. Logins with claims keep the shared path
//! (they need a savepoint); the group commit never writes both at once
//! (`group_commit.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, named_params};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

use super::rows::user_of;
use super::{JOURNAL_SIZE_LIMIT, Sqlite};
use crate::model::{LoginReceipt, NewJob, PromptEventKind, User};
use crate::store::sql::{
    BatchOutcome, INSERT_ANSWERED_EVENT, INSERT_JOB, INSERT_LOGIN_EVENT, INSERT_PROMPT_EVENT,
    KEEP_ANSWER, LOGIN_OF_USER, PromptEventWrite, RECEIPT_OF_EVENT, SET_LAST_PROMPTED, Write,
    WriterApart, Written, answer_into, check_limits, count_user_sql, outcome_without_savepoint,
    receipt_of, store_metadata_sql, user_to_edit_sql,
};
use crate::store::{AnswerWrite, Dialect, LoginWrite, RecordedEvent, StoreError};

/// How long a batch waits for another connection's write lock (as the pool's busy timeout).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A batch for the thread, and where its outcome goes.
struct Batch {
    writes: Vec<Write>,
    reply: oneshot::Sender<Result<BatchOutcome, StoreError>>,
}

/// The handle on the writer thread; the thread stops once the last handle is dropped.
pub(super) struct SqliteWriter {
    sender: mpsc::Sender<Batch>,
}

impl SqliteWriter {
    /// Opens a connection of its own to the database file at `path` (already created and
    /// in WAL mode by the pool) and starts the writer thread on it.
    pub(super) fn start(path: &Path) -> Result<Self, StoreError> {
        let connection = open(path)?;
        let (sender, batches) = mpsc::channel::<Batch>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_batches(connection, batches))
            .map_err(|e| StoreError::Shared(format!("starting the SQLite writer: {e}")))?;
        Ok(SqliteWriter { sender })
    }
}

#[async_trait]
impl WriterApart for SqliteWriter {
    fn takes(&self, write: &Write) -> bool {
        !write.needs_savepoint()
    }

    async fn write_apart(&self, writes: Vec<Write>) -> Result<BatchOutcome, StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.sender
            .send(Batch { writes, reply })
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Shared("the SQLite writer has stopped".into())
}

/// The connection, set as the pool's are: `synchronous = FULL` (a receipt means the
/// login survives a power loss), the same limit on the log's size after a checkpoint
/// (applied by the connection that starts the log over, most often this one), foreign
/// keys on, the same busy timeout.
fn open(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT};"
    ))?;
    Ok(connection)
}

/// The thread: each batch in one transaction, until the handle is dropped. A panic fails
/// its batch, not the thread.
fn write_batches(mut connection: Connection, batches: mpsc::Receiver<Batch>) {
    let sql = Statements::new();
    while let Ok(Batch { writes, reply }) = batches.recv() {
        let written = catch_unwind(AssertUnwindSafe(|| {
            write_batch(&mut connection, &sql, &writes)
        }))
        .unwrap_or_else(|_| Err(StoreError::Shared("the SQLite writer panicked".into())));
        if !connection.is_autocommit() {
            // A panic inside the transaction left it open.
            let _ = connection.execute_batch("ROLLBACK");
        }
        // The caller may have gone; the writes are done either way (a login's retry with
        // the same event id gets the same receipt).
        let _ = reply.send(written);
    }
}

/// The shared path's statements that are made for a dialect, made once.
struct Statements {
    count_user: String,
    user_to_edit: String,
    store_metadata: String,
}

impl Statements {
    fn new() -> Self {
        Statements {
            count_user: count_user_sql::<Sqlite>(),
            user_to_edit: user_to_edit_sql::<Sqlite>(),
            store_metadata: store_metadata_sql::<Sqlite>(),
        }
    }
}

/// One transaction for the batch, as `write_batch.rs` writes one without savepoints: an
/// answer over a metadata limit is refused alone (before it writes anything), any other
/// error fails the batch and nothing of it is written.
fn write_batch(
    connection: &mut Connection,
    sql: &Statements,
    writes: &[Write],
) -> Result<BatchOutcome, StoreError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut outcomes = Vec::with_capacity(writes.len());
    for write in writes {
        let written = match write {
            Write::Login(login) => count_login(&transaction, sql, login).map(Written::Login),
            Write::Answer(answer) => write_answer(&transaction, sql, answer).map(Written::Answer),
            Write::PromptEvent(event) => {
                write_prompt_event(&transaction, event).map(Written::PromptEvent)
            }
        };
        outcomes.push(outcome_without_savepoint(write, written)?);
    }
    transaction.commit()?;
    Ok(outcomes)
}

/// The statements of one login without claims, as `store/sql/logins.rs` writes them:
/// the user counted if the event id is new, then the event with its counts and the
/// follow-up jobs; a retried event id returns the stored receipt.
fn count_login(
    connection: &Connection,
    sql: &Statements,
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
            "a login with claims reached the SQLite writer".into(),
        ));
    }
    let at = Sqlite::timestamp(login.occurred_at);
    let now = Sqlite::timestamp(Utc::now());
    let counted = connection
        .prepare_cached(&sql.count_user)?
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
    insert_jobs(connection, site_id, &follow_ups(&receipt, &user))?;
    Ok(receipt)
}

/// The statements of one answer, as `store/sql/prompts.rs` writes them: the value into
/// `user_metadata` (refused over the limits before anything is written), the answer
/// with its source, the `answered` event at the user's login count, the follow-up jobs.
/// `None` if no such user.
fn write_answer(
    connection: &Connection,
    sql: &Statements,
    write: &AnswerWrite,
) -> Result<Option<User>, StoreError> {
    let AnswerWrite {
        site_id,
        user_id,
        answer,
        limits,
        follow_ups,
    } = write;
    let Some(mut user) = connection
        .prepare_cached(&sql.user_to_edit)?
        .query_row(named_params! { "$1": site_id, "$2": user_id }, user_of)
        .optional()?
    else {
        return Ok(None);
    };
    answer_into(&mut user.user_metadata, answer);
    check_limits(&user.user_metadata, &user.app_metadata, *limits)?;
    let now = Sqlite::timestamp(Utc::now());
    let user = connection.prepare_cached(&sql.store_metadata)?.query_row(
        named_params! {
            "$1": user.user_metadata.to_string(),
            "$2": user.app_metadata.to_string(),
            "$3": now,
            "$4": site_id,
            "$5": user_id,
        },
        user_of,
    )?;
    connection
        .prepare_cached(KEEP_ANSWER)?
        .execute(named_params! {
            "$1": site_id,
            "$2": user_id,
            "$3": answer.key,
            "$4": answer.question_set,
            "$5": answer.version,
            "$6": answer.value.to_string(),
            "$7": user.login_count,
            "$8": now,
        })?;
    connection
        .prepare_cached(INSERT_ANSWERED_EVENT)?
        .execute(named_params! {
            "$1": site_id,
            "$2": user_id,
            "$3": answer.question_set,
            "$4": answer.version,
            "$5": answer.key,
            "$6": user.login_count,
            "$7": now,
            "$8": Sqlite::timestamp(user.last_login_at),
        })?;
    insert_jobs(connection, site_id, follow_ups)?;
    Ok(Some(user))
}

/// The statements of one prompt event, as `store/sql/prompts.rs` writes them: the event
/// at the user's login count, once per user, question, login and kind, and for a new
/// impression the user's `last_prompted_at`. `None` if no such user.
fn write_prompt_event(
    connection: &Connection,
    event: &PromptEventWrite,
) -> Result<Option<RecordedEvent>, StoreError> {
    let login: Option<(i64, DateTime<Utc>)> = connection
        .prepare_cached(LOGIN_OF_USER)?
        .query_row(
            named_params! { "$1": event.site_id, "$2": event.user_id },
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((login_count, login_at)) = login else {
        return Ok(None);
    };
    let now = Sqlite::timestamp(Utc::now());
    let inserted = connection
        .prepare_cached(INSERT_PROMPT_EVENT)?
        .execute(named_params! {
            "$1": event.site_id,
            "$2": event.user_id,
            "$3": event.question_set,
            "$4": event.version,
            "$5": event.key,
            "$6": event.kind.as_str(),
            "$7": login_count,
            "$8": now,
            "$9": Sqlite::timestamp(login_at),
        })?;
    let new = inserted > 0;
    if event.kind == PromptEventKind::Impression && new {
        connection
            .prepare_cached(SET_LAST_PROMPTED)?
            .execute(named_params! {
                "$1": now,
                "$2": event.site_id,
                "$3": event.user_id,
            })?;
    }
    Ok(Some(RecordedEvent { login_count, new }))
}

/// The follow-up jobs of a write, as `store/sql/jobs.rs` queues them.
fn insert_jobs(connection: &Connection, site_id: &str, jobs: &[NewJob]) -> Result<(), StoreError> {
    let now = Sqlite::timestamp(Utc::now());
    for job in jobs {
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
    Ok(())
}

/// The user as the count left them, with their previous login.
fn counted_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<(User, Option<DateTime<Utc>>)> {
    Ok((user_of(row)?, row.get("previous_login_at")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer starts the log over after most checkpoints, so its connection carries
    /// the limit on the log's size (the pool's is tested in `sqlite/mod.rs`).
    #[test]
    fn the_writer_limits_the_log_as_the_pool_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("writer.db");
        Connection::open(&path).unwrap(); // creates the file, as the pool does first
        let connection = open(&path).unwrap();
        let limit: i64 = connection
            .query_row("PRAGMA journal_size_limit", [], |row| row.get(0))
            .unwrap();
        assert_eq!(u64::try_from(limit), Ok(JOURNAL_SIZE_LIMIT));
    }
}
