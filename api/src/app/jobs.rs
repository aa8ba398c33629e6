//! The worker: claims due jobs as its slots free up (fairly between sites, see
//! [`crate::store::JobQueue::claim_jobs`]), runs each on its own, and records the outcome. One runs
//! in every `trickle serve`; on PostgreSQL several replicas share the queue
//! (`FOR UPDATE SKIP LOCKED`), on SQLite the single writer serialises claims.

use futures::future::join_all;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use super::App;
use crate::error::Result;
use crate::model::job::{ENRICH, WEBHOOK_DELIVERY, WEBHOOK_EVENT};
use crate::model::{Job, now};
use crate::store::StoreError;

/// How a job went.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Try again later (network error, 5xx, timeout).
    #[error("{0}")]
    Retryable(String),
    /// Trying again cannot help; the job is dead at once.
    #[error("{0}")]
    Permanent(String),
    /// Not now: a quota (rate, daily budget) says wait until `until`. Not a failure:
    /// the attempt is not counted.
    #[error("{reason}")]
    Deferred {
        /// When to run it again.
        until: chrono::DateTime<chrono::Utc>,
        /// Why, kept as the job's last error.
        reason: String,
    },
}

impl From<crate::error::Error> for JobError {
    fn from(error: crate::error::Error) -> Self {
        JobError::Retryable(error.to_string())
    }
}

impl From<StoreError> for JobError {
    fn from(error: StoreError) -> Self {
        JobError::Retryable(error.to_string())
    }
}

/// How often queue metrics are refreshed.
const METRICS_EVERY: Duration = Duration::from_secs(5);

/// The job queue's worker.
pub struct Jobs<'a> {
    pub(crate) app: &'a App,
}

impl Jobs<'_> {
    /// Runs the worker until the process ends.
    pub fn spawn_worker(&self) -> JoinHandle<()> {
        let app = self.app.clone();
        tokio::spawn(async move { app.jobs().work_forever().await })
    }

    /// Claims jobs as slots free up and runs each in a task of its own, so a slow job
    /// holds one slot, never the others.
    async fn work_forever(&self) {
        let idle = Duration::from_millis(self.app.job_settings.poll_interval_ms.max(10));
        let slots = Arc::new(Semaphore::new(
            self.app.job_settings.concurrency.max(1) as usize
        ));
        let mut housekeeping = Instant::now() - METRICS_EVERY;
        loop {
            if housekeeping.elapsed() >= METRICS_EVERY {
                housekeeping = Instant::now();
                self.housekeeping().await;
            }
            // Housekeeping goes on while every slot is busy.
            let permits = tokio::select! {
                permits = free_slots(&slots) => permits,
                () = tokio::time::sleep(METRICS_EVERY.saturating_sub(housekeeping.elapsed())) => continue,
            };
            let jobs = self.claim(permits.len()).await.unwrap_or_else(|error| {
                tracing::warn!(%error, "claiming jobs failed");
                Vec::new()
            });
            let ran = jobs.len();
            for (job, permit) in jobs.into_iter().zip(permits) {
                self.spawn_job(job, permit);
            }
            if ran == 0 {
                // Woken early when this process enqueues work or a job ends.
                let _ = tokio::time::timeout(idle, self.app.jobs_enqueued.notified()).await;
            }
        }
    }

    /// Runs one claimed job in its own task; its slot frees when it ends.
    fn spawn_job(&self, job: Job, slot: OwnedSemaphorePermit) {
        let app = self.app.clone();
        tokio::spawn(async move {
            app.jobs().run_job(&job, app.job_settings.lease()).await;
            drop(slot);
            // The site may have more jobs that waited for this one (`per_site_concurrency`).
            app.jobs_enqueued.notify_one();
        });
    }

    /// Claims up to `free` due jobs, fairly between sites.
    async fn claim(&self, free: usize) -> Result<Vec<Job>> {
        let at = now();
        let lease = self.app.job_settings.lease();
        let lease_until = at + chrono::Duration::from_std(lease).expect("lease fits");
        let limits = self
            .app
            .job_settings
            .claim_limits(u32::try_from(free).unwrap_or(u32::MAX));
        Ok(self.app.store.claim_jobs(at, limits, lease_until).await?)
    }

    /// Claims one round of due jobs (as many as `concurrency`) and runs them to the end;
    /// returns how many ran. For tests and one-off runs; the worker does not wait like this.
    pub async fn work_once(&self) -> Result<usize> {
        let lease = self.app.job_settings.lease();
        let jobs = self
            .claim(self.app.job_settings.concurrency.max(1) as usize)
            .await?;
        join_all(jobs.iter().map(|job| self.run_job(job, lease))).await;
        Ok(jobs.len())
    }

    async fn run_job(&self, job: &Job, lease: Duration) {
        let result = if job.attempts > job.max_attempts {
            Err(JobError::Permanent("no attempts left".into()))
        } else {
            // Finish well inside the lease, so no second worker picks the job up meanwhile.
            let budget = lease.mul_f64(0.8);
            tokio::time::timeout(budget, self.dispatch(job))
                .await
                .unwrap_or_else(|_| Err(JobError::Retryable(format!("timed out after {budget:?}"))))
        };
        let recorded = match result {
            Ok(()) => self.app.store.complete_job(job).await,
            Err(JobError::Deferred { until, reason }) => {
                tracing::debug!(job = %job.id, kind = %job.kind, %until, %reason, "job put off");
                self.app.store.defer_job(job, &reason, until).await
            }
            Err(JobError::Retryable(error)) if job.attempts < job.max_attempts => {
                let delay = self.app.job_settings.backoff(job.attempts);
                let run_at = now() + chrono::Duration::from_std(delay).expect("delay fits");
                tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, %error, ?delay, "job failed; will retry");
                metrics::counter!("trickle_job_failures_total", "kind" => job.kind.clone())
                    .increment(1);
                self.app.store.retry_job(job, &error, run_at).await
            }
            Err(error) => {
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, %error, "job is dead");
                metrics::counter!("trickle_jobs_dead_total", "kind" => job.kind.clone())
                    .increment(1);
                self.app.store.bury_job(job, &error.to_string()).await
            }
        };
        if let Err(error) = recorded {
            // The lease expires and the job is claimed again.
            tracing::warn!(job = %job.id, %error, "recording a job's outcome failed");
        }
    }

    async fn dispatch(&self, job: &Job) -> Result<(), JobError> {
        match job.kind.as_str() {
            ENRICH => self.app.enrichment().enrich(job).await,
            WEBHOOK_EVENT => self.app.webhooks().fan_out(job).await,
            WEBHOOK_DELIVERY => self.app.webhooks().deliver(job).await,
            other => Err(JobError::Permanent(format!("unknown job kind {other:?}"))),
        }
    }

    /// Queue metrics and purges, every few seconds.
    async fn housekeeping(&self) {
        match self.app.store.job_counts().await {
            Ok(counts) => {
                for (kind, status, count) in counts {
                    metrics::gauge!("trickle_jobs", "kind" => kind, "status" => status)
                        .set(count as f64);
                }
            }
            Err(error) => tracing::warn!(%error, "counting jobs failed"),
        }
        self.app.retention().purge_if_due().await;
    }
}

/// Waits for one free slot, then takes every other free one.
async fn free_slots(slots: &Arc<Semaphore>) -> Vec<OwnedSemaphorePermit> {
    let first = slots
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    let mut permits = vec![first];
    while let Ok(permit) = slots.clone().try_acquire_owned() {
        permits.push(permit);
    }
    permits
}
