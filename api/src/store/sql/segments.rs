//! Saved segments: stored, listed, replaced and deleted by name within a site.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::{Connection, Db, Row, SqlStore};
use crate::model::segment::{MAX_SEGMENTS_PER_SITE, Segment};
use crate::store::{Dialect, SegmentStore, SegmentWrite, StoreError};

const SEGMENT_COLUMNS: &str = "name, description, condition, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct SegmentRow {
    name: String,
    description: String,
    condition: Json<Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<SegmentRow> for Segment {
    fn from(row: SegmentRow) -> Segment {
        Segment {
            name: row.name,
            description: row.description,
            r#where: row.condition.0,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[async_trait]
impl<D> SegmentStore for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    <Db<D> as Database>::Arguments: IntoArguments<Db<D>>,
    for<'q> &'q str: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'q> i64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> String: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> Json<&'q Value>: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'r> Json<Value>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> DateTime<Utc>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> &'r str: ColumnIndex<Row<D>>,
    usize: ColumnIndex<Row<D>>,
{
    async fn put_segment(
        &self,
        site_id: &str,
        name: &str,
        description: &str,
        condition: &Value,
    ) -> Result<SegmentWrite, StoreError> {
        let mut tx = self.begin_write().await?;
        let existing: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT created_at FROM segments WHERE site_id = $1 AND name = $2")
                .bind(site_id)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        if existing.is_none() {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM segments WHERE site_id = $1")
                .bind(site_id)
                .fetch_one(&mut *tx)
                .await?;
            if count >= MAX_SEGMENTS_PER_SITE {
                return Ok(SegmentWrite::TooMany);
            }
        }
        let sql = format!(
            "INSERT INTO segments (site_id, name, description, condition, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (site_id, name) DO UPDATE SET \
             description = excluded.description, condition = excluded.condition, \
             updated_at = excluded.updated_at RETURNING {SEGMENT_COLUMNS}"
        );
        let row: SegmentRow = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .bind(name)
            .bind(description)
            .bind(Json(condition))
            .bind(Self::now())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        let segment = Segment::from(row);
        Ok(match existing {
            None => SegmentWrite::Created(segment),
            Some(_) => SegmentWrite::Replaced(segment),
        })
    }

    async fn segments(&self, site_id: &str) -> Result<Vec<Segment>, StoreError> {
        let sql =
            format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE site_id = $1 ORDER BY name");
        let rows: Vec<SegmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Segment::from).collect())
    }

    async fn segment(&self, site_id: &str, name: &str) -> Result<Option<Segment>, StoreError> {
        let sql =
            format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE site_id = $1 AND name = $2");
        let row: Option<SegmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Segment::from))
    }

    async fn delete_segment(&self, site_id: &str, name: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM segments WHERE site_id = $1 AND name = $2")
            .bind(site_id)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&deleted) > 0)
    }
}
