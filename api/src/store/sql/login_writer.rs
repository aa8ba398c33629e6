//! Group commit for logins. Every login of a site passes through here, so its latency is
//! the site's login latency: instead of one transaction (and, on SQLite, one fsync and
//! one turn at the write lock) per login, a writer task takes every login waiting at
//! that moment, writes each under its own savepoint in one transaction, commits once,
//! and only then answers each. A login refused on its own (over a metadata limit) rolls
//! back to its savepoint and fails alone; if the transaction as a whole fails, the
//! batch is written again one login per transaction, so only a login at fault fails.
//!
//! Request tasks never wait on the database's lock: they wait on their answer. On
//! SQLite one writer keeps logins from queueing on the lock against each other; on
//! PostgreSQL a few writers run batches side by side ([`Dialect::LOGIN_WRITERS`]).

use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::model::{LoginReceipt, MetadataLimits, NewLogin};
use crate::store::{LoginFollowUps, LoginWrite, StoreError};

/// The most logins one transaction writes; more waiting go into the next batch.
const MAX_BATCH: usize = 256;
/// Logins queued for the writers at most; a request beyond waits to queue.
const QUEUE: usize = 4096;

/// A login waiting for a writer, and where its answer goes.
struct PendingLogin {
    write: LoginWrite,
    reply: oneshot::Sender<Result<LoginReceipt, StoreError>>,
}

/// The outcome of each login of a batch, in order, once the batch committed.
pub(super) type BatchOutcome = Vec<Result<LoginReceipt, StoreError>>;

/// Writes batches of logins (the store, behind a trait object so the writer tasks are not
/// generic over the database).
#[async_trait]
pub(super) trait LoginBatches: Send + Sync + 'static {
    /// Writes the logins in one transaction, each under its own savepoint, and commits.
    /// `Ok` holds each login's outcome (a login refused alone is an `Err` in it); `Err`
    /// means the transaction failed and nothing of the batch was written.
    async fn write_batch(&self, batch: &[LoginWrite]) -> Result<BatchOutcome, StoreError>;
}

/// The queue to a store's login writers.
pub(super) struct LoginQueue {
    sender: mpsc::Sender<PendingLogin>,
}

impl LoginQueue {
    /// Starts `writers` writer tasks on `store` (at least one) and returns their queue.
    /// The tasks stop when the queue is dropped.
    pub(super) fn start(store: Arc<dyn LoginBatches>, writers: usize) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..writers.max(1) {
            tokio::spawn(write_batches(store.clone(), receiver.clone()));
        }
        LoginQueue { sender }
    }

    /// Queues a login and waits until its batch is committed (or it failed).
    pub(super) async fn record(
        &self,
        site_id: &str,
        login: &NewLogin,
        limits: MetadataLimits,
        follow_ups: LoginFollowUps,
    ) -> Result<LoginReceipt, StoreError> {
        let (reply, answer) = oneshot::channel();
        let pending = PendingLogin {
            write: LoginWrite {
                site_id: site_id.to_owned(),
                login: login.clone(),
                limits,
                follow_ups,
            },
            reply,
        };
        self.sender
            .send(pending)
            .await
            .map_err(|_| StoreError::Shared("the login writer has stopped".into()))?;
        answer.await.map_err(|_| {
            StoreError::Shared("the login writer stopped before the login was written".into())
        })?
    }
}

/// One writer: takes what is waiting, writes it, answers, and again. Writers share the
/// receiver; one waits for work while the others write.
async fn write_batches(
    store: Arc<dyn LoginBatches>,
    receiver: Arc<Mutex<mpsc::Receiver<PendingLogin>>>,
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
        // A stable sort: one user's logins keep their order, and concurrent batches take
        // users' row locks in the same order (no deadlock between writers on PostgreSQL).
        batch.sort_by(|a, b| {
            (a.write.site_id.cmp(&b.write.site_id))
                .then_with(|| a.write.login.user_id.cmp(&b.write.login.user_id))
        });
        let (writes, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|p| (p.write, p.reply)).unzip();
        // In a task of its own, so that a panic fails this batch's requests, not the writer.
        let store = store.clone();
        let written = tokio::spawn(async move {
            let outcomes = write_or_split(store.as_ref(), &writes).await;
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // The caller may have gone; the login is written either way (its retry
                // with the same event id gets the same receipt).
                let _ = reply.send(outcome);
            }
        });
        if let Err(error) = written.await {
            tracing::error!(%error, "a batch of logins failed");
        }
    }
}

/// The batch in one transaction; if that fails as a whole, each login in its own, so
/// that a failure belongs to the login that caused it.
pub(super) async fn write_or_split(store: &dyn LoginBatches, batch: &[LoginWrite]) -> BatchOutcome {
    match store.write_batch(batch).await {
        Ok(outcomes) => outcomes,
        Err(error) if batch.len() == 1 => vec![Err(error)],
        Err(error) => {
            tracing::warn!(%error, logins = batch.len(), "a batch of logins failed; writing them one by one");
            let mut outcomes = Vec::with_capacity(batch.len());
            for pending in batch {
                let outcome = match store.write_batch(std::slice::from_ref(pending)).await {
                    Ok(mut one) => one.pop().expect("one outcome per login"),
                    Err(error) => Err(error),
                };
                outcomes.push(outcome);
            }
            outcomes
        }
    }
}
