//! The durable job queue and the webhooks it delivers (implemented once in
//! `sql/jobs.rs` and `sql/webhooks.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::model::{AttemptOutcome, Delivery, Job, JobState, NewJob, Subscription};

/// How many jobs one claim may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLimits {
    /// Jobs claimed at most (the claimer's free slots).
    pub total: u32,
    /// Jobs of one site running at most, counting those already running.
    pub per_site: u32,
}

impl ClaimLimits {
    /// Up to `total` jobs, as many of one site as fit.
    pub fn total(total: u32) -> Self {
        ClaimLimits {
            total,
            per_site: u32::MAX,
        }
    }
}

/// A durable queue: claims are leases, so a job whose worker died is claimed again.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Enqueues jobs outside any other change.
    async fn enqueue(&self, site_id: &str, jobs: &[NewJob]) -> Result<(), StoreError>;
    /// Claims up to `limits.total` due jobs (queued and due, or running with an expired
    /// lease), counting an attempt each. Concurrent claimers never get the same job.
    /// Fair between sites: each site's oldest due job comes before any site's second,
    /// counting jobs a site already has running, and no site gets more than
    /// `limits.per_site` jobs running at once (over all workers).
    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        limits: ClaimLimits,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError>;
    async fn complete_job(&self, job: &Job) -> Result<(), StoreError>;
    /// Queues the job again at `run_at`, keeping the error.
    async fn retry_job(
        &self,
        job: &Job,
        error: &str,
        run_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Queues the job again at `run_at` without counting the attempt its claim took
    /// (a quota made it wait: it did not fail), keeping `note` as its last error.
    async fn defer_job(
        &self,
        job: &Job,
        note: &str,
        run_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Marks the job dead, keeping the error.
    async fn bury_job(&self, job: &Job, error: &str) -> Result<(), StoreError>;
    /// `(kind, status, count)` over all sites, for metrics.
    async fn job_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError>;
    /// Every job of a site, oldest first (operators and tests).
    async fn jobs(&self, site_id: &str) -> Result<Vec<JobState>, StoreError>;
}

/// Subscriptions and the delivery log.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn insert_subscription(
        &self,
        site_id: &str,
        subscription: &Subscription,
    ) -> Result<(), StoreError>;
    async fn subscriptions(&self, site_id: &str) -> Result<Vec<Subscription>, StoreError>;
    /// False if there was no such subscription.
    async fn delete_subscription(&self, site_id: &str, id: &str) -> Result<bool, StoreError>;
    /// Completes a fan-out job, writing its deliveries and their jobs in one transaction.
    async fn complete_with_deliveries(
        &self,
        job: &Job,
        deliveries: &[Delivery],
        jobs: &[NewJob],
    ) -> Result<(), StoreError>;
    async fn delivery(&self, site_id: &str, id: &str) -> Result<Option<Delivery>, StoreError>;
    /// Records an attempt on the delivery and the subscription's failure streak; disables
    /// the subscription at `disable_after` failures in a row. True if it was disabled now.
    async fn record_delivery_attempt(
        &self,
        site_id: &str,
        delivery: &Delivery,
        outcome: &AttemptOutcome,
        disable_after: i64,
    ) -> Result<bool, StoreError>;
    /// The latest deliveries of a subscription, newest first.
    async fn deliveries(
        &self,
        site_id: &str,
        subscription_id: &str,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Sends a finished delivery (delivered, dead or cancelled) again: puts it back to
    /// `pending` (its attempts keep counting) and enqueues `job` to deliver it, in one
    /// transaction. False, and nothing written, when it is unknown or still pending.
    async fn requeue_delivery(
        &self,
        site_id: &str,
        delivery_id: &str,
        job: &NewJob,
    ) -> Result<bool, StoreError>;
}
