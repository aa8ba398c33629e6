//! Enrichment quotas and bookkeeping: the deployment's daily budget per provider (one
//! conditional upsert, atomic on both databases), each site's daily usage, the result
//! cache, and backfill cursors written with the jobs they queued.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::jobs::insert_jobs;
use super::{Connection, Db, Row, SqlStore};
use crate::model::{BackfillState, CachedResult, NewJob, ProviderUsage, UsageEvent};
use crate::store::{Dialect, EnrichmentStore, StoreError};

#[derive(sqlx::FromRow)]
struct UsageRow {
    provider: String,
    day: String,
    calls: i64,
    cache_hits: i64,
    failures: i64,
    deferrals: i64,
    last_success_at: Option<DateTime<Utc>>,
    last_error_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct BackfillRow {
    resume_after: Option<String>,
    scanned: i64,
    queued: i64,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

#[async_trait]
impl<D> EnrichmentStore for SqlStore<D>
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
    async fn take_budget(
        &self,
        provider: &str,
        day: &str,
        budget: i64,
    ) -> Result<bool, StoreError> {
        if budget < 1 {
            return Ok(false);
        }
        // The row is locked by the upsert, so concurrent takers queue on it and each
        // sees the others' calls: never more than `budget`.
        let taken = sqlx::query(
            "INSERT INTO enrichment_budget (provider, day, calls) VALUES ($1, $2, 1) \
             ON CONFLICT (provider, day) DO UPDATE SET calls = enrichment_budget.calls + 1 \
             WHERE enrichment_budget.calls < $3",
        )
        .bind(provider)
        .bind(day)
        .bind(budget)
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&taken) == 1)
    }

    async fn budget_used(&self, provider: &str, day: &str) -> Result<i64, StoreError> {
        let used: Option<(i64,)> =
            sqlx::query_as("SELECT calls FROM enrichment_budget WHERE provider = $1 AND day = $2")
                .bind(provider)
                .bind(day)
                .fetch_optional(&self.pool)
                .await?;
        Ok(used.map_or(0, |(calls,)| calls))
    }

    async fn record_usage(
        &self,
        site_id: &str,
        provider: &str,
        day: &str,
        event: &UsageEvent,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (calls, hits, failures, deferrals, error): (i64, i64, i64, i64, Option<&str>) =
            match event {
                UsageEvent::Success => (1, 0, 0, 0, None),
                UsageEvent::Failure(message) => (1, 0, 1, 0, Some(message.as_str())),
                UsageEvent::CacheHit => (0, 1, 0, 0, None),
                UsageEvent::Deferred => (0, 0, 0, 1, None),
            };
        let success = matches!(event, UsageEvent::Success);
        let failed = error.is_some();
        sqlx::query(
            "INSERT INTO enrichment_usage (site_id, provider, day, calls, cache_hits, failures, \
               deferrals, last_success_at, last_error_at, last_error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN $9 END, CASE WHEN $10 THEN $9 END, $11) \
             ON CONFLICT (site_id, provider, day) DO UPDATE SET \
               calls = enrichment_usage.calls + excluded.calls, \
               cache_hits = enrichment_usage.cache_hits + excluded.cache_hits, \
               failures = enrichment_usage.failures + excluded.failures, \
               deferrals = enrichment_usage.deferrals + excluded.deferrals, \
               last_success_at = CASE WHEN $8 THEN $9 ELSE enrichment_usage.last_success_at END, \
               last_error_at = CASE WHEN $10 THEN $9 ELSE enrichment_usage.last_error_at END, \
               last_error = CASE WHEN $10 THEN $11 ELSE enrichment_usage.last_error END",
        )
        .bind(site_id)
        .bind(provider)
        .bind(day)
        .bind(calls)
        .bind(hits)
        .bind(failures)
        .bind(deferrals)
        .bind(success)
        .bind(D::timestamp(at))
        .bind(failed)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn usage(
        &self,
        site_id: &str,
        day: &str,
    ) -> Result<Vec<(String, ProviderUsage)>, StoreError> {
        let rows: Vec<UsageRow> = sqlx::query_as(
            "SELECT provider, day, calls, cache_hits, failures, deferrals, last_success_at, \
             last_error_at, last_error FROM enrichment_usage WHERE site_id = $1 \
             ORDER BY provider, day",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(String, ProviderUsage)> = Vec::new();
        for row in rows {
            if out.last().is_none_or(|(name, _)| *name != row.provider) {
                out.push((row.provider.clone(), ProviderUsage::default()));
            }
            let usage = &mut out.last_mut().expect("just pushed").1;
            if row.day == day {
                usage.calls_today = row.calls;
                usage.cache_hits_today = row.cache_hits;
                usage.failures_today = row.failures;
                usage.deferrals_today = row.deferrals;
            }
            // Days in order: a later day's last success or error wins.
            if row.last_success_at.is_some() {
                usage.last_success_at = row.last_success_at;
            }
            if row.last_error_at.is_some() {
                usage.last_error_at = row.last_error_at;
                usage.last_error = row.last_error;
            }
        }
        Ok(out)
    }

    async fn cached_result(
        &self,
        site_id: &str,
        provider: &str,
        cache_key: &str,
        fresh_after: DateTime<Utc>,
    ) -> Result<Option<CachedResult>, StoreError> {
        let row: Option<(Json<Value>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT result, fetched_at FROM enrichment_cache WHERE site_id = $1 AND provider = $2 \
             AND cache_key = $3 AND fetched_at > $4",
        )
        .bind(site_id)
        .bind(provider)
        .bind(cache_key)
        .bind(D::timestamp(fresh_after))
        .fetch_optional(&self.pool)
        .await?;
        let Some((Json(result), fetched_at)) = row else {
            return Ok(None);
        };
        let Value::Object(fields) = result else {
            return Err(StoreError::Corrupt(
                "enrichment_cache.result is not an object".into(),
            ));
        };
        Ok(Some(CachedResult { fields, fetched_at }))
    }

    async fn cache_result(
        &self,
        site_id: &str,
        provider: &str,
        cache_key: &str,
        user_id: &str,
        result: &CachedResult,
    ) -> Result<(), StoreError> {
        let fields = Value::Object(result.fields.clone());
        sqlx::query(
            "INSERT INTO enrichment_cache (site_id, provider, cache_key, user_id, result, fetched_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (site_id, provider, cache_key) DO UPDATE \
             SET user_id = excluded.user_id, result = excluded.result, fetched_at = excluded.fetched_at",
        )
        .bind(site_id)
        .bind(provider)
        .bind(cache_key)
        .bind(user_id)
        .bind(Json(&fields))
        .bind(D::timestamp(result.fetched_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn backfill(
        &self,
        site_id: &str,
        provider: &str,
        filter_hash: &str,
    ) -> Result<Option<BackfillState>, StoreError> {
        let row: Option<BackfillRow> = sqlx::query_as(
            "SELECT resume_after, scanned, queued, started_at, finished_at FROM enrichment_backfills \
             WHERE site_id = $1 AND provider = $2 AND filter_hash = $3",
        )
        .bind(site_id)
        .bind(provider)
        .bind(filter_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| BackfillState {
            cursor: r.resume_after,
            scanned: r.scanned,
            queued: r.queued,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }))
    }

    async fn save_backfill(
        &self,
        site_id: &str,
        provider: &str,
        filter_hash: &str,
        state: &BackfillState,
        jobs: &[NewJob],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO enrichment_backfills (site_id, provider, filter_hash, resume_after, scanned, \
               queued, started_at, updated_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9 THEN $8 END) \
             ON CONFLICT (site_id, provider, filter_hash) DO UPDATE SET resume_after = excluded.resume_after, \
               scanned = excluded.scanned, queued = excluded.queued, \
               started_at = excluded.started_at, updated_at = excluded.updated_at, \
               finished_at = excluded.finished_at",
        )
        .bind(site_id)
        .bind(provider)
        .bind(filter_hash)
        .bind(state.cursor.as_deref())
        .bind(state.scanned)
        .bind(state.queued)
        .bind(D::timestamp(state.started_at))
        .bind(SqlStore::<D>::now())
        .bind(state.finished_at.is_some())
        .execute(&mut *tx)
        .await?;
        insert_jobs::<D>(&mut tx, site_id, jobs).await?;
        tx.commit().await?;
        Ok(())
    }
}
