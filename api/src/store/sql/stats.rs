//! Aggregates for answer statistics.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::rows::{AnswerCountRow, EventCountRow};
use super::{Connection, Db, Row, SqlStore};
use crate::model::{AnswerCount, PromptEventCount};
use crate::store::{Dialect, StatsStore, StoreError};

#[async_trait]
impl<D> StatsStore for SqlStore<D>
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
    async fn prompt_event_counts(
        &self,
        site_id: &str,
    ) -> Result<Vec<PromptEventCount>, StoreError> {
        let rows: Vec<EventCountRow> = sqlx::query_as(
            "SELECT question_set, key, kind, COUNT(*) AS count FROM prompt_events \
             WHERE site_id = $1 GROUP BY question_set, key, kind",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn answer_counts(&self, site_id: &str) -> Result<Vec<AnswerCount>, StoreError> {
        let rows: Vec<AnswerCountRow> = sqlx::query_as(
            "SELECT question_set, key, value, COUNT(*) AS count FROM answers \
             WHERE site_id = $1 GROUP BY question_set, key, value",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn login_count_histogram(&self, site_id: &str) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT login_count, COUNT(*) FROM users WHERE site_id = $1 \
             GROUP BY login_count ORDER BY login_count",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?)
    }
}
