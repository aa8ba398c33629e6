//! The retention purge: old login events, finished jobs and finished deliveries, deleted
//! in bounded batches (`(site_id, key) IN (SELECT … LIMIT n)` works on both databases).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::{Connection, Db, Row, SqlStore};
use crate::store::{Dialect, RetentionStore, StoreError};

impl<D> SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    <Db<D> as Database>::Arguments: IntoArguments<Db<D>>,
    for<'q> i64: Encode<'q, Db<D>> + Type<Db<D>>,
{
    /// Deletes up to `limit` rows of `table` (keyed by `(site_id, key)`) matching `old`,
    /// whose `$1` is the cut-off, the first in `order` (an `ORDER BY` clause, or empty for
    /// any order).
    async fn purge_batch(
        &self,
        table: &str,
        key: &str,
        old: &str,
        order: &str,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "DELETE FROM {table} WHERE (site_id, {key}) IN \
             (SELECT site_id, {key} FROM {table} WHERE {old} {order} LIMIT $2)"
        );
        let deleted = sqlx::query(sqlx::AssertSqlSafe(&*sql))
            .bind(D::timestamp(before))
            .bind(i64::from(limit))
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&deleted))
    }
}

#[async_trait]
impl<D> RetentionStore for SqlStore<D>
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
    async fn purge_login_events(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        // Oldest first (along `login_events_by_time`), so that while a purge is under way
        // every login it deleted is older than every login kept: a dated results page
        // treats events whose login is older than the site's oldest kept as purged
        // (`results/reach.rs`).
        self.purge_batch(
            "login_events",
            "event_id",
            "occurred_at < $1",
            "ORDER BY occurred_at",
            before,
            limit,
        )
        .await
    }

    async fn purge_finished_jobs(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let old = "status IN ('done', 'dead') AND updated_at < $1";
        self.purge_batch("jobs", "id", old, "", before, limit).await
    }

    async fn purge_finished_deliveries(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let old = "status <> 'pending' AND updated_at < $1";
        self.purge_batch("webhook_deliveries", "id", old, "", before, limit)
            .await
    }
}
