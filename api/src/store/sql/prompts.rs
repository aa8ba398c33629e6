//! Answers and prompt events (impressions, skips, dismissals).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::jobs::insert_jobs;
use super::{Connection, Db, Row, SqlStore};
use crate::model::{MetadataLimits, NewAnswer, NewJob, PromptEventKind, User};
use crate::store::{Dialect, MetadataEdit, PromptStore, StoreError};

#[async_trait]
impl<D> PromptStore for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    for<'q> <Db<D> as Database>::Arguments<'q>: IntoArguments<'q, Db<D>>,
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
    async fn record_answer(
        &self,
        site_id: &str,
        user_id: &str,
        answer: &NewAnswer,
        edit: MetadataEdit<'_>,
        limits: MetadataLimits,
        follow_ups: &[NewJob],
    ) -> Result<Option<User>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(user) = Self::edit_in(&mut tx, site_id, user_id, edit, limits).await? else {
            return Ok(None);
        };
        let at = Utc::now();
        sqlx::query(
            "INSERT INTO answers (site_id, user_id, key, question_set, version, value, \
             login_count, answered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (site_id, user_id, key) DO UPDATE SET \
             question_set = excluded.question_set, version = excluded.version, \
             value = excluded.value, login_count = excluded.login_count, \
             answered_at = excluded.answered_at",
        )
        .bind(site_id)
        .bind(user_id)
        .bind(answer.key.as_str())
        .bind(answer.question_set.as_str())
        .bind(answer.version)
        .bind(Json(&answer.value))
        .bind(user.login_count)
        .bind(D::timestamp(at))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO prompt_events (site_id, user_id, question_set, version, key, kind, \
             login_count, created_at) VALUES ($1, $2, $3, $4, $5, 'answered', $6, $7)",
        )
        .bind(site_id)
        .bind(user_id)
        .bind(answer.question_set.as_str())
        .bind(answer.version)
        .bind(answer.key.as_str())
        .bind(user.login_count)
        .bind(D::timestamp(at))
        .execute(&mut *tx)
        .await?;
        insert_jobs::<D>(&mut tx, site_id, follow_ups).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    async fn record_prompt_event(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
        kind: PromptEventKind,
    ) -> Result<bool, StoreError> {
        let at = Utc::now();
        let mut tx = self.pool.begin().await?;
        let login_count: Option<i64> =
            sqlx::query_scalar("SELECT login_count FROM users WHERE site_id = $1 AND user_id = $2")
                .bind(site_id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(login_count) = login_count else {
            return Ok(false);
        };
        // Once per user, question, login and kind (`prompt_events_once_per_login`): a
        // repeat is already recorded, and changes nothing.
        let inserted = sqlx::query(
            "INSERT INTO prompt_events (site_id, user_id, question_set, version, key, kind, \
             login_count, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT DO NOTHING",
        )
        .bind(site_id)
        .bind(user_id)
        .bind(question_set)
        .bind(version)
        .bind(key)
        .bind(kind.as_str())
        .bind(login_count)
        .bind(D::timestamp(at))
        .execute(&mut *tx)
        .await?;
        if kind == PromptEventKind::Impression && D::rows_affected(&inserted) > 0 {
            sqlx::query(
                "UPDATE users SET last_prompted_at = $1 WHERE site_id = $2 AND user_id = $3",
            )
            .bind(D::timestamp(at))
            .bind(site_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn shown_unanswered(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
    ) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT shown.id FROM prompt_events shown \
             WHERE shown.site_id = $1 AND shown.user_id = $2 AND shown.question_set = $3 \
             AND shown.version = $4 AND shown.key = $5 AND shown.kind = 'impression' \
             AND NOT EXISTS (SELECT 1 FROM prompt_events answered \
               WHERE answered.site_id = shown.site_id AND answered.user_id = shown.user_id \
               AND answered.question_set = shown.question_set AND answered.key = shown.key \
               AND answered.kind = 'answered' AND answered.id > shown.id) \
             LIMIT 1",
        )
        .bind(site_id)
        .bind(user_id)
        .bind(question_set)
        .bind(version)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }
}
