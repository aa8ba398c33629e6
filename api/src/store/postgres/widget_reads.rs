//! PostgreSQL's reads of the widget's one user (`next`'s user with their prompt history,
//! an answer's user being asked), a batch of users per statement.
//!
//! Every `GET /v1/widget/next` and every answer reads one user by primary key: for
//! PostgreSQL a statement of microseconds inside a round trip, a parse and a bind of
//! tens. On 2 cores, pgbench read 9,300–10,000 users/s one per statement and
//! 40,000–44,000/s sixteen per statement over `unnest` (64 clients, and 8). So the reads
//! waiting at one moment go out together, as the group commit does for writes: a
//! dispatcher takes every read queued when one of [`BATCHES_AT_ONCE`] batches may start,
//! and that batch answers each read from its row (by ordinal) as soon as it returns. A
//! read that arrives alone goes out alone, at once.
//!
//! A batch that fails (its connection broke, say) answers `None` to each of its reads,
//! which then read on the pool one by one, so a fault is reported to the request it
//! belongs to. So does a read that finds [`MOST_QUEUED`] reads queued before it (the
//! pool then bounds the wait, as it did before), or the dispatcher gone; a batch that
//! waited the pool's whole time for a connection fails its reads with that error. A read whose
//! request went away (a timeout, a closed connection) is dropped from its batch unread.

use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgPool, Row as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::Postgres;
use crate::store::sql::{
    AskedUserRow, ReaderApart, UserWithHistory, UserWithHistoryRow, shown_unanswered_column,
    user_with_history_columns,
};
use crate::store::{AskedUser, Dialect, StoreError};

/// Batches read at once, each on one connection of the pool (its two kinds of read one
/// after the other). Fewer batches are larger ones: at 1,000,000 users, 8 s per run, `next` served 23,600/s with one at a time,
/// 24,500/s with two and 18,400/s with four, and answers 6,230/s, 5,480–6,170/s,
/// 4,540–4,680/s, 3,860/s with eight (the pool's own reads: 5,560–6,070/s). PostgreSQL,
/// the server and the load share 2 cores.
const BATCHES_AT_ONCE: usize = 2;

/// The most reads in one batch.
const MOST_PER_BATCH: usize = 128;

/// The most reads waiting for a batch; a read that finds this many reads on the pool.
const MOST_QUEUED: usize = 1024;

/// A statement's rows, each with the index of the read it answers.
type Answered<T> = Vec<(usize, Result<T, StoreError>)>;

/// What a read answers: `None` leaves the read to the pool.
type Reply<T> = oneshot::Sender<Option<Result<Option<T>, StoreError>>>;

/// One read waiting for its batch.
enum Read {
    WithHistory {
        site_id: String,
        user_id: String,
        reply: Reply<UserWithHistory>,
    },
    BeingAsked {
        site_id: String,
        user_id: String,
        question_set: String,
        version: i64,
        key: String,
        reply: Reply<AskedUser>,
    },
}

impl Read {
    /// Whether the request that asked went away, so that nobody waits for the answer.
    fn abandoned(&self) -> bool {
        match self {
            Read::WithHistory { reply, .. } => reply.is_closed(),
            Read::BeingAsked { reply, .. } => reply.is_closed(),
        }
    }
}

/// Hands reads to the dispatcher; dropping the last store ends it.
pub(super) struct WidgetReader {
    reads: mpsc::Sender<Read>,
    /// Whether the dispatcher was found gone (said once in the log).
    gone: AtomicBool,
}

impl WidgetReader {
    /// A reader on `pool`, with its dispatcher running on the current runtime.
    pub(super) fn new(pool: PgPool) -> Self {
        let (reads, queued) = mpsc::channel(MOST_QUEUED);
        tokio::spawn(dispatch(pool, queued));
        WidgetReader {
            reads,
            gone: AtomicBool::new(false),
        }
    }

    /// Queues `read` and waits for its answer; `None` (read on the pool) if the queue is
    /// full or the dispatcher gone.
    async fn ask<T>(&self, read: Read, answer: oneshot::Receiver<Option<T>>) -> Option<T> {
        match self.reads.try_send(read) {
            Ok(()) => answer.await.ok().flatten(),
            Err(TrySendError::Full(_)) => None,
            Err(TrySendError::Closed(_)) => {
                if !self.gone.swap(true, Ordering::Relaxed) {
                    tracing::warn!("the widget's batched reader stopped; reads go to the pool");
                }
                None
            }
        }
    }
}

#[async_trait::async_trait]
impl ReaderApart for WidgetReader {
    async fn user_with_history(
        &self,
        site_id: &str,
        user_id: &str,
    ) -> Option<Result<Option<UserWithHistory>, StoreError>> {
        let (reply, answer) = oneshot::channel();
        let read = Read::WithHistory {
            site_id: site_id.to_owned(),
            user_id: user_id.to_owned(),
            reply,
        };
        self.ask(read, answer).await
    }

    async fn user_being_asked(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
    ) -> Option<Result<Option<AskedUser>, StoreError>> {
        let (reply, answer) = oneshot::channel();
        let read = Read::BeingAsked {
            site_id: site_id.to_owned(),
            user_id: user_id.to_owned(),
            question_set: question_set.to_owned(),
            version,
            key: key.to_owned(),
            reply,
        };
        self.ask(read, answer).await
    }
}

/// Takes the reads queued whenever a batch may start, and starts it.
async fn dispatch(pool: PgPool, mut queued: mpsc::Receiver<Read>) {
    let running = Arc::new(Semaphore::new(BATCHES_AT_ONCE));
    loop {
        let Ok(turn) = running.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = queued.recv().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MOST_PER_BATCH {
            match queued.try_recv() {
                Ok(read) => batch.push(read),
                Err(_) => break,
            }
        }
        batch.retain(|read| !read.abandoned());
        if batch.is_empty() {
            continue;
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            read_batch(&pool, batch).await;
            drop(turn);
        });
    }
}

/// The reads of one batch on one connection, each kind in one statement.
async fn read_batch(pool: &PgPool, batch: Vec<Read>) {
    let mut with_history = Vec::new();
    let mut being_asked = Vec::new();
    for read in batch {
        match read {
            Read::WithHistory {
                site_id,
                user_id,
                reply,
            } => with_history.push(((site_id, user_id), reply)),
            Read::BeingAsked {
                site_id,
                user_id,
                question_set,
                version,
                key,
                reply,
            } => being_asked.push(((site_id, user_id, question_set, version, key), reply)),
        }
    }
    let mut connection = match pool.acquire().await {
        Ok(connection) => connection,
        // The pool's wait for a connection is over: each read fails with it, as on the
        // pool, rather than wait as long again there.
        Err(sqlx::Error::PoolTimedOut) => {
            for (_, reply) in with_history {
                let _ = reply.send(Some(Err(sqlx::Error::PoolTimedOut.into())));
            }
            for (_, reply) in being_asked {
                let _ = reply.send(Some(Err(sqlx::Error::PoolTimedOut.into())));
            }
            return;
        }
        Err(error) => {
            // The replies are dropped unanswered: each read goes to the pool.
            tracing::warn!(%error, "no connection for a batch of widget reads; each reads on its own");
            return;
        }
    };
    answer(&mut connection, with_history, users_with_history).await;
    answer(&mut connection, being_asked, users_being_asked).await;
}

/// Reads `reads` with `statement` and sends each its row, `Ok(None)` where no user
/// matched, or `None` to all if the statement failed.
async fn answer<K, T, F>(connection: &mut PgConnection, reads: Vec<(K, Reply<T>)>, statement: F)
where
    F: AsyncFnOnce(&mut PgConnection, &[K]) -> Result<Answered<T>, StoreError>,
{
    if reads.is_empty() {
        return;
    }
    let (keys, replies): (Vec<K>, Vec<Reply<T>>) = reads.into_iter().unzip();
    let mut rows: Vec<Option<Result<Option<T>, StoreError>>> =
        (0..replies.len()).map(|_| Some(Ok(None))).collect();
    match statement(connection, &keys).await {
        Ok(found) => {
            for (index, row) in found {
                if let Some(slot) = rows.get_mut(index) {
                    *slot = Some(row.map(Some));
                }
            }
        }
        Err(error) => {
            tracing::warn!(%error, reads = replies.len(), "a batch of widget reads failed; each reads on its own");
            rows.iter_mut().for_each(|row| *row = None);
        }
    }
    for (reply, row) in replies.into_iter().zip(rows) {
        // A request that went away no longer waits for its answer.
        let _ = reply.send(row);
    }
}

/// [`users_with_history`]'s statement: the one-user query's columns over `unnest` of
/// the reads' sites and users, each row with its read's ordinal.
static WITH_HISTORY: LazyLock<String> = LazyLock::new(|| {
    let columns = user_with_history_columns(<Postgres as Dialect>::FLAVOUR, "");
    format!(
        "SELECT q.ord, {columns} FROM unnest($1::text[], $2::text[]) WITH ORDINALITY \
         AS q(wanted_site, wanted_user, ord) \
         JOIN users ON users.site_id = q.wanted_site AND users.user_id = q.wanted_user"
    )
});

/// [`users_being_asked`]'s statement, as [`WITH_HISTORY`] with each read's question.
static BEING_ASKED: LazyLock<String> = LazyLock::new(|| {
    let shown = shown_unanswered_column("q.wanted_set", "q.wanted_version", "q.wanted_key");
    let columns = user_with_history_columns(<Postgres as Dialect>::FLAVOUR, &shown);
    format!(
        "SELECT q.ord, {columns} FROM unnest($1::text[], $2::text[], $3::text[], \
         $4::int8[], $5::text[]) WITH ORDINALITY \
         AS q(wanted_site, wanted_user, wanted_set, wanted_version, wanted_key, ord) \
         JOIN users ON users.site_id = q.wanted_site AND users.user_id = q.wanted_user"
    )
});

/// Users with their histories, by (site, user); each row with its read's index.
async fn users_with_history(
    connection: &mut PgConnection,
    keys: &[(String, String)],
) -> Result<Answered<UserWithHistory>, StoreError> {
    let (sites, users): (Vec<&str>, Vec<&str>) =
        keys.iter().map(|(s, u)| (s.as_str(), u.as_str())).unzip();
    let rows = sqlx::query(sqlx::AssertSqlSafe(WITH_HISTORY.as_str()))
        .bind(sites)
        .bind(users)
        .fetch_all(&mut *connection)
        .await?;
    by_ordinal(&rows, UserWithHistoryRow::into_parts)
}

/// A question's (site, user, set, version, key) to answer.
type AskedKey = (String, String, String, i64, String);

/// Users being asked a question, by [`AskedKey`]; each row with its read's index.
async fn users_being_asked(
    connection: &mut PgConnection,
    keys: &[AskedKey],
) -> Result<Answered<AskedUser>, StoreError> {
    let mut sites = Vec::with_capacity(keys.len());
    let mut users = Vec::with_capacity(keys.len());
    let mut sets = Vec::with_capacity(keys.len());
    let mut versions = Vec::with_capacity(keys.len());
    let mut questions = Vec::with_capacity(keys.len());
    for (site, user, set, version, key) in keys {
        sites.push(site.as_str());
        users.push(user.as_str());
        sets.push(set.as_str());
        versions.push(*version);
        questions.push(key.as_str());
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(BEING_ASKED.as_str()))
        .bind(sites)
        .bind(users)
        .bind(sets)
        .bind(versions)
        .bind(questions)
        .fetch_all(&mut *connection)
        .await?;
    by_ordinal(&rows, AskedUserRow::into_asked)
}

/// Each row decoded as `R`, then into what its read answers, with the 0-based index of
/// that read (`WITH ORDINALITY` counts from 1).
fn by_ordinal<R, T>(
    rows: &[PgRow],
    into: fn(R) -> Result<T, StoreError>,
) -> Result<Answered<T>, StoreError>
where
    R: for<'r> FromRow<'r, PgRow>,
{
    rows.iter()
        .map(|row| {
            let ordinal: i64 = row.try_get("ord")?;
            let index = usize::try_from(ordinal - 1).unwrap_or(usize::MAX);
            Ok((index, into(R::from_row(row)?)))
        })
        .collect()
}

#[cfg(test)]
mod tests;
