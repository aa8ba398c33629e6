//! The job queue on PostgreSQL: claims are one `UPDATE … RETURNING` under SQLite's single
//! writer lock, so two claimers can never take the same job.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;

use super::{PostgresStore, now, ts};
use crate::jobs::{Job, JobState, NewJob};
use crate::store::rows::{JOB_COLUMNS, JobRow, JobStateRow};
use crate::store::{JobQueue, StoreError};

/// Inserts jobs inside the caller's transaction; a dedupe key already queued is skipped.
pub(crate) async fn insert_jobs(
    conn: &mut PgConnection,
    site_id: &str,
    jobs: &[NewJob],
) -> Result<(), StoreError> {
    for job in jobs {
        sqlx::query(
            "INSERT INTO jobs (site_id, id, kind, payload, status, attempts, max_attempts, run_at, \
             dedupe_key, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $8, $9) \
             ON CONFLICT (site_id, dedupe_key) WHERE status = 'queued' DO NOTHING",
        )
        .bind(site_id)
        .bind(&job.id)
        .bind(job.kind)
        .bind(Json(&job.payload))
        .bind(job.max_attempts)
        .bind(ts(job.run_at))
        .bind(&job.dedupe_key)
        .bind(now())
        .bind(now())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl JobQueue for PostgresStore {
    async fn enqueue(&self, site_id: &str, jobs: &[NewJob]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_jobs(&mut tx, site_id, jobs).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $1, updated_at = $2 \
             WHERE (site_id, id) IN (SELECT site_id, id FROM jobs \
               WHERE (status = 'queued' AND run_at <= $3) OR (status = 'running' AND locked_until < $4) \
               ORDER BY run_at LIMIT $5 FOR UPDATE SKIP LOCKED) \
             RETURNING {JOB_COLUMNS}"
        );
        let rows: Vec<JobRow> = sqlx::query_as(&sql)
            .bind(ts(lease_until))
            .bind(ts(now))
            .bind(ts(now))
            .bind(ts(now))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn complete_job(&self, job: &Job) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET status = 'done', locked_until = NULL, updated_at = $1 WHERE site_id = $2 AND id = $3",
        )
        .bind(now())
        .bind(&job.site_id)
        .bind(&job.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn retry_job(
        &self,
        job: &Job,
        error: &str,
        run_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // If a newer job with the same dedupe key is already queued, it does the work.
        sqlx::query(
            "UPDATE jobs SET status = CASE WHEN dedupe_key IS NOT NULL AND EXISTS (SELECT 1 FROM jobs AS other \
               WHERE other.site_id = jobs.site_id AND other.dedupe_key = jobs.dedupe_key \
               AND other.status = 'queued') THEN 'done' ELSE 'queued' END, \
             run_at = $1, last_error = $2, locked_until = NULL, updated_at = $3 WHERE site_id = $4 AND id = $5",
        )
        .bind(ts(run_at))
        .bind(error)
        .bind(now())
        .bind(&job.site_id)
        .bind(&job.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn bury_job(&self, job: &Job, error: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET status = 'dead', last_error = $1, locked_until = NULL, updated_at = $2 \
             WHERE site_id = $3 AND id = $4",
        )
        .bind(error)
        .bind(now())
        .bind(&job.site_id)
        .bind(&job.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn job_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT kind, status, COUNT(*) FROM jobs GROUP BY kind, status")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn jobs(&self, site_id: &str) -> Result<Vec<JobState>, StoreError> {
        let rows: Vec<JobStateRow> = sqlx::query_as(
            "SELECT id, kind, status, attempts, last_error, run_at FROM jobs WHERE site_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn purge_done_jobs(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM jobs WHERE status = 'done' AND updated_at < $1")
            .bind(ts(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
