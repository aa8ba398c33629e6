//! Group commit for the writes every request path makes: logins, answers and prompt
//! events (impressions, skips, dismissals). Every login of a site passes through here,
//! so its latency is the site's login latency; every answer and every prompt shown too.
//! Instead of one transaction (and, on SQLite, one fsync and one turn at the write lock)
//! per write, a writer task takes every write waiting at that moment, writes them in one
//! transaction (two where some are written apart, below), commits, and only then answers
//! each. A write refused on its own
//! (over a metadata limit) fails alone: it is refused before it writes anything (an
//! answer), or it has a savepoint to roll back to (a login with claims; see
//! [`Write::needs_savepoint`]). If the transaction as a whole fails, the batch is written
//! again one write per transaction, so only a write at fault fails.
//!
//! Request tasks never wait on the database's lock: they wait on their answer. On
//! SQLite one writer keeps writes from queueing on the lock against each other; on
//! PostgreSQL a few writers run batches side by side ([`Dialect::WRITERS`]).
//!
//! A store may write some writes apart ([`WriterApart`]): on SQLite, every write but a
//! login with claims, on a connection and thread of their own, a batch in one hand-off;
//! on PostgreSQL, answers and prompt events, set-based (a batch of them is a few round
//! trips). On SQLite they share the one writer's queue, and a batch is written as two
//! runs, the store's own writes and those apart, one after another. On PostgreSQL they
//! have a queue and one writer of their own ([`Dialect::APART_WRITERS`]), so that
//! answers go in the fewest, largest batches while logins keep writers of their own
//! ([`Dialect::WRITERS`]).
//!
//! [`Dialect::WRITERS`]: crate::store::Dialect::WRITERS
//! [`Dialect::APART_WRITERS`]: crate::store::Dialect::APART_WRITERS

use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::model::{LoginReceipt, PromptEventKind, User};
use crate::store::{AnswerWrite, LoginWrite, RecordedEvent, StoreError};

/// The most writes one transaction takes; more waiting go into the next batch.
const MAX_BATCH: usize = 256;
/// Writes queued for the writers at most; a request beyond waits to queue.
const QUEUE: usize = 4096;

/// One write of a batch.
#[derive(Clone)]
pub(in crate::store) enum Write {
    Login(LoginWrite),
    Answer(AnswerWrite),
    PromptEvent(PromptEventWrite),
}

/// An impression, skip or dismissal of one question.
#[derive(Clone)]
pub(in crate::store) struct PromptEventWrite {
    pub site_id: String,
    pub user_id: String,
    pub question_set: String,
    pub version: i64,
    pub key: String,
    pub kind: PromptEventKind,
}

impl Write {
    /// Whether the write needs a savepoint to fail alone: it can be refused on its own
    /// ([`StoreError::TooLarge`]) after it has written something. Only a login with
    /// identity-provider claims (merged into `app_metadata` once the login is counted).
    /// An answer is refused before it writes anything; a login without claims and a
    /// prompt event are never refused alone (they fail with their batch).
    pub(in crate::store) fn needs_savepoint(&self) -> bool {
        match self {
            Write::Login(w) => w.login.profile.is_some(),
            Write::Answer(_) | Write::PromptEvent(_) => false,
        }
    }

    /// Whether a refusal of the write ([`StoreError::TooLarge`]) comes before it has
    /// written anything, so that the batch goes on without a savepoint: an answer, whose
    /// metadata edit checks the limits before it writes (`edit_in`). A refusal of any
    /// other write without a savepoint fails the batch.
    pub(in crate::store) fn refused_before_writing(&self) -> bool {
        matches!(self, Write::Answer(_))
    }

    /// The site and user the write is about: a batch is sorted by them.
    fn user(&self) -> (&str, &str) {
        match self {
            Write::Login(w) => (&w.site_id, &w.login.user_id),
            Write::Answer(w) => (&w.site_id, &w.user_id),
            Write::PromptEvent(w) => (&w.site_id, &w.user_id),
        }
    }
}

/// What one write of a batch left: a login's receipt, the user an answer was written
/// into (`None`: no such user), what a prompt event's write did (`None`: no such user).
#[derive(Debug)]
pub(in crate::store) enum Written {
    Login(LoginReceipt),
    Answer(Option<User>),
    PromptEvent(Option<RecordedEvent>),
}

impl Written {
    /// The receipt of a login's write.
    pub(super) fn into_login(self) -> Result<LoginReceipt, StoreError> {
        match self {
            Written::Login(receipt) => Ok(receipt),
            _ => Err(mismatch()),
        }
    }

    /// The user of an answer's write.
    pub(super) fn into_answer(self) -> Result<Option<User>, StoreError> {
        match self {
            Written::Answer(user) => Ok(user),
            _ => Err(mismatch()),
        }
    }

    /// What a prompt event's write did (`None`: no such user).
    pub(super) fn into_prompt_event(self) -> Result<Option<RecordedEvent>, StoreError> {
        match self {
            Written::PromptEvent(recorded) => Ok(recorded),
            _ => Err(mismatch()),
        }
    }
}

fn mismatch() -> StoreError {
    StoreError::Shared("a write was answered with another kind's outcome".into())
}

/// A write's outcome in a batch where it has no savepoint: a refusal that came before it
/// wrote anything ([`Write::refused_before_writing`]) is the write's own outcome and the
/// batch goes on; any other error fails the batch (the outer `Err`), which is then split.
pub(in crate::store) fn outcome_without_savepoint(
    write: &Write,
    written: Result<Written, StoreError>,
) -> Result<Result<Written, StoreError>, StoreError> {
    match written {
        Ok(written) => Ok(Ok(written)),
        Err(refused @ StoreError::TooLarge { .. }) if write.refused_before_writing() => {
            Ok(Err(refused))
        }
        Err(error) => Err(error),
    }
}

/// The outcome of each write of a batch, in order, once the batch committed.
pub(in crate::store) type BatchOutcome = Vec<Result<Written, StoreError>>;

/// Writes batches (the store, behind a trait object so the writer tasks are not generic
/// over the database).
#[async_trait]
pub(super) trait WriteBatches: Send + Sync + 'static {
    /// Writes the batch in one transaction (a savepoint for each write that needs one)
    /// and commits. `Ok` holds each write's outcome (a write refused alone is an `Err` in
    /// it); `Err` means the transaction failed and nothing of the batch was written.
    async fn write_batch(&self, batch: &[Write]) -> Result<BatchOutcome, StoreError>;

    /// Whether the write goes to a [`WriterApart`] rather than the store's own
    /// transaction: a batch is then written as runs of one kind or the other, in order.
    fn writes_apart(&self, write: &Write) -> bool;
}

/// Writes some of a batch's writes apart from the store's own transaction, those it
/// [`takes`](WriterApart::takes): SQLite's writer (`store/sqlite/writer.rs`, a connection
/// and thread of its own) every write but those that need a savepoint; PostgreSQL's
/// widget writer (`store/postgres/widget_writes.rs`, on the pool) answers and prompt
/// events.
#[async_trait]
pub(in crate::store) trait WriterApart: Send + Sync + 'static {
    /// Whether the write is one this writer writes (the store's own transaction writes
    /// the others).
    fn takes(&self, write: &Write) -> bool;

    /// Writes the batch in one transaction and commits, as
    /// [`WriteBatches::write_batch`] does.
    async fn write_apart(&self, batch: Vec<Write>) -> Result<BatchOutcome, StoreError>;
}

/// A write waiting for a writer, and where its outcome goes.
struct Pending {
    write: Write,
    reply: oneshot::Sender<Result<Written, StoreError>>,
}

/// The queue to a store's writers: one lane for every write, or two where the writes a
/// [`WriterApart`] takes have writers of their own ([`Writers::apart`]).
pub(super) struct WriteQueue {
    store: Arc<dyn WriteBatches>,
    own: mpsc::Sender<Pending>,
    apart: Option<mpsc::Sender<Pending>>,
}

/// How many writer tasks a store's queue starts.
#[derive(Clone, Copy, Debug)]
pub(in crate::store) struct Writers {
    /// Tasks taking every write, or, with [`Writers::apart`], those the store writes
    /// itself (at least one).
    pub own: usize,
    /// Tasks of their own (at least one), on a queue of their own, for the writes written
    /// apart; `None`: they share the store's writers, and one batch may hold both kinds.
    pub apart: Option<usize>,
}

impl WriteQueue {
    /// Starts the writer tasks on `store` and returns their queue. The tasks stop when
    /// the queue is dropped.
    pub(super) fn start(store: Arc<dyn WriteBatches>, writers: Writers) -> Self {
        let own = start_lane(&store, writers.own);
        let apart = writers.apart.map(|apart| start_lane(&store, apart));
        WriteQueue { store, own, apart }
    }

    /// Queues a write and waits until its batch is committed (or it failed).
    pub(super) async fn write(&self, write: Write) -> Result<Written, StoreError> {
        let lane = match &self.apart {
            Some(apart) if self.store.writes_apart(&write) => apart,
            _ => &self.own,
        };
        let (reply, outcome) = oneshot::channel();
        lane.send(Pending { write, reply })
            .await
            .map_err(|_| StoreError::Shared("the writer has stopped".into()))?;
        outcome.await.map_err(|_| {
            StoreError::Shared("the writer stopped before the write was done".into())
        })?
    }
}

/// Starts `writers` writer tasks (at least one) on one queue and returns it.
fn start_lane(store: &Arc<dyn WriteBatches>, writers: usize) -> mpsc::Sender<Pending> {
    let (sender, receiver) = mpsc::channel(QUEUE);
    let receiver = Arc::new(Mutex::new(receiver));
    for _ in 0..writers.max(1) {
        tokio::spawn(write_batches(store.clone(), receiver.clone()));
    }
    sender
}

/// One writer: takes what is waiting, writes it, answers, and again. Writers share the
/// receiver; one waits for work while the others write.
async fn write_batches(
    store: Arc<dyn WriteBatches>,
    receiver: Arc<Mutex<mpsc::Receiver<Pending>>>,
) {
    loop {
        let mut batch = Vec::new();
        {
            let mut receiver = receiver.lock().await;
            let Some(first) = receiver.recv().await else {
                return;
            };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(pending) => batch.push(pending),
                    Err(_) => break,
                }
            }
        }
        // The writes the store writes itself, then those it writes apart (two runs at
        // most, one transaction each: `runs`); each run by user. The writes of a batch
        // were all waiting at once, so any order among them is one they could have come
        // in. A stable sort: one user's writes of a kind keep their order, and concurrent
        // batches take users' row locks in the same order (no deadlock between writers on
        // PostgreSQL).
        batch.sort_by(|a, b| {
            let apart = |p: &Pending| store.writes_apart(&p.write);
            (apart(a), a.write.user()).cmp(&(apart(b), b.write.user()))
        });
        let (writes, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|p| (p.write, p.reply)).unzip();
        // In a task of its own, so that a panic fails this batch's requests, not the writer.
        let store = store.clone();
        let written = tokio::spawn(async move {
            let mut replies = replies.into_iter();
            // Each run's writes are answered once that run committed: a login does not
            // wait for the answers of its batch.
            for run in runs(store.as_ref(), &writes) {
                let outcomes = write_or_split(store.as_ref(), run).await;
                for (outcome, reply) in outcomes.into_iter().zip(replies.by_ref()) {
                    // The caller may have gone; the write is done either way (a login's
                    // retry with the same event id gets the same receipt).
                    let _ = reply.send(outcome);
                }
            }
        });
        if let Err(error) = written.await {
            tracing::error!(%error, "a batch of writes failed");
        }
    }
}

/// The batch as runs of consecutive writes that the store writes itself or apart
/// ([`WriteBatches::writes_apart`]).
fn runs<'b>(store: &dyn WriteBatches, batch: &'b [Write]) -> impl Iterator<Item = &'b [Write]> {
    batch.chunk_by(move |a, b| store.writes_apart(a) == store.writes_apart(b))
}

/// The batch in the order given, as [`runs`] one after another, each as
/// [`write_or_split`] writes it.
pub(super) async fn write_in_runs(store: &dyn WriteBatches, batch: &[Write]) -> BatchOutcome {
    let mut outcomes = Vec::with_capacity(batch.len());
    for run in runs(store, batch) {
        outcomes.extend(write_or_split(store, run).await);
    }
    outcomes
}

/// The batch in one transaction; if that fails as a whole, each write in its own, so
/// that a failure belongs to the write that caused it.
async fn write_or_split(store: &dyn WriteBatches, batch: &[Write]) -> BatchOutcome {
    match write_once_more_if_raced(store, batch).await {
        Ok(outcomes) => outcomes,
        Err(error) if batch.len() == 1 => vec![Err(error)],
        Err(error) => {
            tracing::warn!(%error, writes = batch.len(), "a batch of writes failed; writing them one by one");
            let mut outcomes = Vec::with_capacity(batch.len());
            for pending in batch {
                let outcome =
                    match write_once_more_if_raced(store, std::slice::from_ref(pending)).await {
                        Ok(mut one) => one.pop().expect("one outcome per write"),
                        Err(error) => Err(error),
                    };
                outcomes.push(outcome);
            }
            outcomes
        }
    }
}

/// Writes the batch, and once more if it failed on a login event id another writer's
/// transaction wrote at the same moment (two writers counting one event id on
/// PostgreSQL): that transaction has committed (a failed one leaves the key free), so
/// this time the batch finds the event.
async fn write_once_more_if_raced(
    store: &dyn WriteBatches,
    batch: &[Write],
) -> Result<BatchOutcome, StoreError> {
    match store.write_batch(batch).await {
        Err(error) if error.is_login_event_taken() => {
            tracing::debug!(%error, "a batch raced another writer's; writing it again");
            store.write_batch(batch).await
        }
        written => written,
    }
}

#[cfg(test)]
mod tests;
