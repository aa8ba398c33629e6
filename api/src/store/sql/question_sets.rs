//! Question-set versions: drafts, publishing, the live versions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::rows::{SummaryRow, VERSION_COLUMNS, VersionRow};
use super::{Connection, Db, Row, SqlStore};
use crate::model::{AnswerProbe, PublishOutcome, QuestionSetSummary, QuestionSetVersion};
use crate::store::dialect::INVALIDATION_CHANNEL;
use crate::store::{Dialect, QuestionSetStore, StoreError};

#[async_trait]
impl<D> QuestionSetStore for SqlStore<D>
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
    async fn insert_draft(
        &self,
        site_id: &str,
        slug: &str,
        definition: &Value,
        source: &str,
    ) -> Result<QuestionSetVersion, StoreError> {
        let mut tx = self.begin_write().await?;
        let at = Utc::now();
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO question_sets (site_id, slug, latest_version, live_version, created_at, \
             updated_at) VALUES ($1, $2, 1, NULL, $3, $3) ON CONFLICT (site_id, slug) DO UPDATE SET \
             latest_version = question_sets.latest_version + 1, updated_at = excluded.updated_at \
             RETURNING latest_version",
        )
        .bind(site_id)
        .bind(slug)
        .bind(D::timestamp(at))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO question_set_versions (site_id, slug, version, status, definition, \
             source, created_at) VALUES ($1, $2, $3, 'draft', $4, $5, $6)",
        )
        .bind(site_id)
        .bind(slug)
        .bind(version)
        .bind(Json(definition))
        .bind(source)
        .bind(D::timestamp(at))
        .execute(&mut *tx)
        .await?;
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM question_set_versions \
             WHERE site_id = $1 AND slug = $2 AND version = $3"
        );
        let row: VersionRow = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .bind(slug)
            .bind(version)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row.into())
    }

    async fn publish(
        &self,
        site_id: &str,
        slug: &str,
        version: i64,
    ) -> Result<PublishOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let published = sqlx::query(
            "UPDATE question_set_versions SET status = 'published', published_at = $1 \
             WHERE site_id = $2 AND slug = $3 AND version = $4 AND status = 'draft'",
        )
        .bind(Self::now())
        .bind(site_id)
        .bind(slug)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        let outcome = if D::rows_affected(&published) == 1 {
            PublishOutcome::Published
        } else {
            let exists: Option<String> = sqlx::query_scalar(
                "SELECT status FROM question_set_versions \
                 WHERE site_id = $1 AND slug = $2 AND version = $3",
            )
            .bind(site_id)
            .bind(slug)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
            match exists {
                None => return Ok(PublishOutcome::NotFound),
                Some(_) => PublishOutcome::AlreadyPublished,
            }
        };
        let now = Utc::now();
        sqlx::query(
            "UPDATE question_sets SET live_version = $1, updated_at = $2 \
             WHERE site_id = $3 AND slug = $4",
        )
        .bind(version)
        .bind(D::timestamp(now))
        .bind(site_id)
        .bind(slug)
        .execute(&mut *tx)
        .await?;
        // The live period of the version live until now ends, and this version's begins
        // (publishing the live version again changes neither).
        sqlx::query(
            "UPDATE question_set_live_periods SET live_until = $1 \
             WHERE site_id = $2 AND slug = $3 AND live_until IS NULL AND version <> $4",
        )
        .bind(D::timestamp(now))
        .bind(site_id)
        .bind(slug)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO question_set_live_periods (site_id, slug, version, live_from) \
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM question_set_live_periods \
             WHERE site_id = $1 AND slug = $2 AND live_until IS NULL)",
        )
        .bind(site_id)
        .bind(slug)
        .bind(version)
        .bind(D::timestamp(now))
        .execute(&mut *tx)
        .await?;
        if let Some(notify) = D::NOTIFY_INVALIDATION {
            sqlx::query(notify)
                .bind(INVALIDATION_CHANNEL)
                .bind(site_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    async fn question_sets(&self, site_id: &str) -> Result<Vec<QuestionSetSummary>, StoreError> {
        let rows: Vec<SummaryRow> = sqlx::query_as(
            "SELECT s.slug, s.latest_version, s.live_version, s.updated_at, v.definition \
             FROM question_sets s JOIN question_set_versions v \
               ON v.site_id = s.site_id AND v.slug = s.slug AND v.version = s.latest_version \
             WHERE s.site_id = $1 ORDER BY s.slug",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn question_set_versions(
        &self,
        site_id: &str,
        slug: &str,
    ) -> Result<Vec<QuestionSetVersion>, StoreError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM question_set_versions \
             WHERE site_id = $1 AND slug = $2 ORDER BY version"
        );
        let rows: Vec<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .bind(slug)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn question_set_version(
        &self,
        site_id: &str,
        slug: &str,
        version: i64,
    ) -> Result<Option<QuestionSetVersion>, StoreError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM question_set_versions \
             WHERE site_id = $1 AND slug = $2 AND version = $3"
        );
        let row: Option<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .bind(slug)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Into::into))
    }

    async fn live_question_sets(
        &self,
        site_id: &str,
    ) -> Result<Vec<QuestionSetVersion>, StoreError> {
        let rows: Vec<VersionRow> = sqlx::query_as(
            "SELECT v.slug, v.version, v.status, v.definition, v.source, v.created_at, \
             v.published_at FROM question_sets s JOIN question_set_versions v \
               ON v.site_id = s.site_id AND v.slug = s.slug AND v.version = s.live_version \
             WHERE s.site_id = $1 ORDER BY s.slug",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn answering_users(
        &self,
        site_id: &str,
        slug: &str,
        probes: &[AnswerProbe],
    ) -> Result<Vec<i64>, StoreError> {
        if probes.is_empty() {
            return Ok(Vec::new());
        }
        // One row per user and key, so the users of a (key, value) group are distinct
        // and groups add up.
        let groups: Vec<(String, Json<Value>, i64)> = sqlx::query_as(
            "SELECT key, value, COUNT(DISTINCT user_id) FROM answers \
             WHERE site_id = $1 AND question_set = $2 GROUP BY key, value",
        )
        .bind(site_id)
        .bind(slug)
        .fetch_all(&self.pool)
        .await?;
        Ok(probes
            .iter()
            .map(|probe| {
                groups
                    .iter()
                    .filter(|(key, value, _)| probe.matches(key, &value.0))
                    .map(|(_, _, users)| users)
                    .sum::<i64>()
            })
            .collect())
    }
}
