//! The job queue: claims are one `UPDATE … RETURNING`, serialised by SQLite's single
//! writer or, on PostgreSQL, by `FOR UPDATE SKIP LOCKED` (the dialect's `CLAIM_LOCK`),
//! so two claimers never take the same job. Claims are fair between sites: sites take
//! turns, and one site never has more than `per_site` jobs running.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::rows::{JOB_COLUMNS, JobRow, JobStateRow};
use super::{Connection, Db, Row, SqlStore};
use crate::model::{Job, JobState, NewJob};
use crate::store::dialect::Flavour;
use crate::store::{ClaimLimits, Dialect, JobQueue, StoreError};

/// Inserts jobs inside the caller's transaction; a dedupe key already queued is skipped.
pub(super) async fn insert_jobs<D>(
    conn: &mut Connection<D>,
    site_id: &str,
    jobs: &[NewJob],
) -> Result<(), StoreError>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    <Db<D> as Database>::Arguments: IntoArguments<Db<D>>,
    for<'q> &'q str: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'q> Option<&'q str>: Encode<'q, Db<D>>,
    for<'q> Option<i64>: Encode<'q, Db<D>>,
    for<'q> i64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> bool: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> String: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> Json<&'q Value>: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'r> Json<Value>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> DateTime<Utc>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> &'r str: ColumnIndex<Row<D>>,
    usize: ColumnIndex<Row<D>>,
{
    for job in jobs {
        sqlx::query(INSERT_JOB)
            .bind(site_id)
            .bind(&job.id)
            .bind(job.kind)
            .bind(Json(&job.payload))
            .bind(job.max_attempts)
            .bind(D::timestamp(job.run_at))
            .bind(job.dedupe_key.as_deref())
            .bind(SqlStore::<D>::now())
            .bind(SqlStore::<D>::now())
            .bind(job.user_id.as_deref())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Queues a job (`$1` site, `$2` id, `$3` kind, `$4` payload, `$5` most attempts, `$6`
/// run at, `$7` dedupe key, `$8` and `$9` now, `$10` user), unless one with its dedupe key
/// is queued already.
pub(in crate::store) const INSERT_JOB: &str = "INSERT INTO jobs (site_id, id, kind, payload, status, attempts, max_attempts, run_at, \
     dedupe_key, created_at, updated_at, user_id) \
     VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (site_id, dedupe_key) WHERE status = 'queued' DO NOTHING";

/// A site's (`s`) queued jobs whose time has come at `$3`, oldest first, at most `$6`.
const QUEUED_AND_DUE: &str = "j.site_id = s.site_id AND j.status = 'queued' AND j.run_at <= $3 \
     ORDER BY j.run_at, j.id LIMIT $6";
/// A site's (`s`) running jobs whose lease expired at `$3`: their worker died.
const LEASE_EXPIRED: &str =
    "j.site_id = s.site_id AND j.status = 'running' AND j.locked_until < $3";
/// Due at `$3`, checked again on the locked row: either of the two above.
const DUE: &str = "((jobs.status = 'queued' AND jobs.run_at <= $3) \
     OR (jobs.status = 'running' AND jobs.locked_until < $3))";

/// Each site's first `$6` due jobs (oldest first), as `site_id, id, run_at`: the queued
/// jobs whose time has come, and the running jobs whose lease expired. Driven by the
/// sites, each reading a range of `jobs_due_by_site`, so a backlog is never scanned:
/// SQLite, without `LATERAL`, finds a site's rows through a correlated list of row ids.
/// (Sites are never deleted, so every job's site is in `sites`.)
fn first_due_of_each_site(flavour: Flavour) -> String {
    match flavour {
        Flavour::Sqlite => format!(
            "SELECT c.site_id, c.id, c.run_at FROM sites s JOIN jobs c ON c.rowid IN ( \
               SELECT rowid FROM (SELECT j.rowid FROM jobs j WHERE {QUEUED_AND_DUE}) \
               UNION ALL SELECT j.rowid FROM jobs j WHERE {LEASE_EXPIRED})"
        ),
        // Rows another claimer holds are skipped here already: read past, they would fill
        // a site's `$6` places and leave this claim empty while later jobs wait.
        Flavour::Postgres => format!(
            "SELECT c.site_id, c.id, c.run_at FROM sites s CROSS JOIN LATERAL ( \
               SELECT * FROM (SELECT j.site_id, j.id, j.run_at FROM jobs j \
                 WHERE {QUEUED_AND_DUE} FOR UPDATE SKIP LOCKED) AS queued \
               UNION ALL SELECT * FROM (SELECT j.site_id, j.id, j.run_at FROM jobs j \
                 WHERE {LEASE_EXPIRED} FOR UPDATE SKIP LOCKED) AS expired \
             ) AS c"
        ),
    }
}

#[async_trait]
impl<D> JobQueue for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    <Db<D> as Database>::Arguments: IntoArguments<Db<D>>,
    for<'q> &'q str: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'q> Option<&'q str>: Encode<'q, Db<D>>,
    for<'q> Option<i64>: Encode<'q, Db<D>>,
    for<'q> i64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> bool: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> String: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> Json<&'q Value>: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'r> Json<Value>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> DateTime<Utc>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> &'r str: ColumnIndex<Row<D>>,
    usize: ColumnIndex<Row<D>>,
{
    async fn enqueue(&self, site_id: &str, jobs: &[NewJob]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_jobs::<D>(&mut tx, site_id, jobs).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        limits: ClaimLimits,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        let claim_lock = D::CLAIM_LOCK;
        // A due job's turn: its place in its site's line (oldest first) plus the site's jobs
        // already running. The lowest turns are claimed, so sites take turns, and a site
        // whose line would pass `per_site` running jobs waits. Only each site's first
        // `$6` due jobs are ranked (no site can be given more), so a claim costs the same
        // with a backlog of a hundred jobs or a million. The due condition is checked
        // again on the locked row: PostgreSQL re-reads a row another claimer just changed.
        let sql = format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $1, \
             updated_at = $2 WHERE (site_id, id) IN (SELECT jobs.site_id, jobs.id \
               FROM (SELECT candidate.site_id, candidate.id, \
                   ROW_NUMBER() OVER (PARTITION BY candidate.site_id \
                     ORDER BY candidate.run_at, candidate.id) + COALESCE(busy.running, 0) AS turn \
                 FROM ({candidates}) AS candidate LEFT JOIN (SELECT site_id, COUNT(*) AS running \
                   FROM jobs WHERE status = 'running' AND locked_until >= $3 GROUP BY site_id) \
                   AS busy ON busy.site_id = candidate.site_id) AS ranked \
               CROSS JOIN jobs \
               WHERE jobs.site_id = ranked.site_id AND jobs.id = ranked.id \
               AND ranked.turn <= $4 AND {DUE} \
               ORDER BY ranked.turn, jobs.run_at, jobs.id LIMIT $5 {claim_lock}) \
             RETURNING {JOB_COLUMNS}",
            candidates = first_due_of_each_site(D::FLAVOUR),
        );
        let per_site = limits.per_site.max(1);
        let rows: Vec<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(D::timestamp(lease_until))
            .bind(D::timestamp(now))
            .bind(D::timestamp(now))
            .bind(i64::from(per_site))
            .bind(i64::from(limits.total))
            .bind(i64::from(per_site.min(limits.total)))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn complete_job(&self, job: &Job) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET status = 'done', locked_until = NULL, updated_at = $1 \
             WHERE site_id = $2 AND id = $3 AND status = 'running' AND attempts = $4",
        )
        .bind(SqlStore::<D>::now())
        .bind(&job.site_id)
        .bind(&job.id)
        .bind(job.attempts)
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
             run_at = $1, last_error = $2, locked_until = NULL, updated_at = $3 \
             WHERE site_id = $4 AND id = $5 AND status = 'running' AND attempts = $6",
        )
        .bind(D::timestamp(run_at))
        .bind(error)
        .bind(SqlStore::<D>::now())
        .bind(&job.site_id)
        .bind(&job.id)
        .bind(job.attempts)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn defer_job(
        &self,
        job: &Job,
        note: &str,
        run_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // As retry_job, but the claim's attempt is given back.
        sqlx::query(
            "UPDATE jobs SET status = CASE WHEN dedupe_key IS NOT NULL AND EXISTS (SELECT 1 FROM jobs AS other \
               WHERE other.site_id = jobs.site_id AND other.dedupe_key = jobs.dedupe_key \
               AND other.status = 'queued') THEN 'done' ELSE 'queued' END, \
             attempts = attempts - 1, run_at = $1, last_error = $2, locked_until = NULL, updated_at = $3 \
             WHERE site_id = $4 AND id = $5 AND status = 'running' AND attempts = $6",
        )
        .bind(D::timestamp(run_at))
        .bind(note)
        .bind(SqlStore::<D>::now())
        .bind(&job.site_id)
        .bind(&job.id)
        .bind(job.attempts)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn bury_job(&self, job: &Job, error: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET status = 'dead', last_error = $1, locked_until = NULL, updated_at = $2 \
             WHERE site_id = $3 AND id = $4 AND status = 'running' AND attempts = $5",
        )
        .bind(error)
        .bind(SqlStore::<D>::now())
        .bind(&job.site_id)
        .bind(&job.id)
        .bind(job.attempts)
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
}
