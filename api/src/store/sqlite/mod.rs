//! SQLite backend: the embedded default. WAL mode, foreign keys on, a busy timeout so
//! concurrent writers queue instead of failing. Timestamps are bound as fixed-width
//! RFC 3339 text (microseconds, `Z`) so that text order is time order.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::types::Json;
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

mod jobs;
mod webhooks;

use super::rows::*;
use super::{
    LoginFollowUps, MetadataEdit, MetadataLimits, NewAnswer, PromptEventKind, PublishOutcome,
    Store, StoreError, check_limits,
};
use crate::jobs::NewJob;
use crate::logins::{LoginReceipt, NewLogin};
use crate::profiles::{AnswerRecord, User};
use crate::question_sets::{QuestionSetSummary, QuestionSetVersion};
use crate::questions::PromptRecord;
use crate::sites::{Site, WidgetSettings};
use crate::stats::{AnswerCount, PromptEventCount};
use jobs::insert_jobs;

/// The SQLite implementation of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn now() -> String {
    ts(Utc::now())
}

impl SqliteStore {
    /// Opens (and creates) the database file named by a `sqlite:` URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL is durable against process crashes; FULL also survives power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }

    async fn fetch_user(
        tx: &mut Transaction<'_, Sqlite>,
        site_id: &str,
        user_id: &str,
    ) -> Result<User, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE site_id = ? AND user_id = ?");
        let row: UserRow = sqlx::query_as(&sql)
            .bind(site_id)
            .bind(user_id)
            .fetch_one(&mut **tx)
            .await?;
        Ok(row.into())
    }

    /// Locks the user row for writing (the first write of a transaction takes SQLite's
    /// write lock), then applies the edit and stores the result. `None` if no such user.
    async fn edit_in(
        tx: &mut Transaction<'_, Sqlite>,
        site_id: &str,
        user_id: &str,
        edit: MetadataEdit<'_>,
        limits: MetadataLimits,
    ) -> Result<Option<User>, StoreError> {
        let touched =
            sqlx::query("UPDATE users SET updated_at = ? WHERE site_id = ? AND user_id = ?")
                .bind(now())
                .bind(site_id)
                .bind(user_id)
                .execute(&mut **tx)
                .await?;
        if touched.rows_affected() == 0 {
            return Ok(None);
        }
        let mut user = Self::fetch_user(tx, site_id, user_id).await?;
        edit(&mut user.user_metadata, &mut user.app_metadata);
        check_limits(&user.user_metadata, &user.app_metadata, limits)?;
        sqlx::query("UPDATE users SET user_metadata = ?, app_metadata = ? WHERE site_id = ? AND user_id = ?")
            .bind(Json(&user.user_metadata))
            .bind(Json(&user.app_metadata))
            .bind(site_id)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
        Ok(Some(user))
    }

    async fn site_where(&self, column: &str, value: &str) -> Result<Option<Site>, StoreError> {
        let sql = format!("SELECT {SITE_COLUMNS} FROM sites WHERE {column} = ?");
        let row: Option<SiteRow> = sqlx::query_as(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Into::into))
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("../migrations/sqlite")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_site(&self, site: &Site, secret_key_hash: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sites (site_id, name, publishable_key, secret_key_hash, identity_secret, \
             allowed_origins, widget_settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&site.site_id)
        .bind(&site.name)
        .bind(&site.publishable_key)
        .bind(secret_key_hash)
        .bind(&site.identity_secret)
        .bind(Json(&site.allowed_origins))
        .bind(Json(&site.widget_settings))
        .bind(ts(site.created_at))
        .bind(ts(site.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn site(&self, site_id: &str) -> Result<Option<Site>, StoreError> {
        self.site_where("site_id", site_id).await
    }

    async fn site_by_publishable_key(&self, key: &str) -> Result<Option<Site>, StoreError> {
        self.site_where("publishable_key", key).await
    }

    async fn site_by_secret_key_hash(&self, hash: &str) -> Result<Option<Site>, StoreError> {
        self.site_where("secret_key_hash", hash).await
    }

    async fn update_site(
        &self,
        site_id: &str,
        allowed_origins: &[String],
        widget_settings: &WidgetSettings,
    ) -> Result<Option<Site>, StoreError> {
        sqlx::query("UPDATE sites SET allowed_origins = ?, widget_settings = ?, updated_at = ? WHERE site_id = ?")
            .bind(Json(allowed_origins))
            .bind(Json(widget_settings))
            .bind(now())
            .bind(site_id)
            .execute(&self.pool)
            .await?;
        self.site(site_id).await
    }

    async fn origin_allowed_by_any_site(&self, origin: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM sites, json_each(sites.allowed_origins) AS o WHERE o.value = ? LIMIT 1",
        )
        .bind(origin)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    async fn record_login(
        &self,
        site_id: &str,
        login: &NewLogin,
        follow_ups: LoginFollowUps<'_>,
    ) -> Result<LoginReceipt, StoreError> {
        let mut tx = self.pool.begin().await?;
        let at = ts(login.occurred_at);
        // Claiming the event id first makes retries idempotent and takes the write lock.
        let claimed = sqlx::query(
            "INSERT INTO login_events (site_id, event_id, user_id, occurred_at, ip, user_agent, \
             login_count, first_login_at, last_login_at, signed_up) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, FALSE) \
             ON CONFLICT (site_id, event_id) DO NOTHING",
        )
        .bind(site_id)
        .bind(&login.event_id)
        .bind(&login.user_id)
        .bind(&at)
        .bind(&login.ip)
        .bind(&login.user_agent)
        .bind(&at)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            let row: ReceiptRow = sqlx::query_as(
                "SELECT user_id, login_count, first_login_at, last_login_at, signed_up \
                 FROM login_events WHERE site_id = ? AND event_id = ?",
            )
            .bind(site_id)
            .bind(&login.event_id)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(row.into());
        }
        #[allow(clippy::type_complexity)]
        let (login_count, first, last, enrichment): (i64, DateTime<Utc>, DateTime<Utc>, Option<Json<Value>>) =
            sqlx::query_as(
            "INSERT INTO users (site_id, user_id, login_count, first_login_at, last_login_at, last_ip, \
             last_user_agent, email, name, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (site_id, user_id) DO UPDATE SET \
               login_count = users.login_count + 1, \
               first_login_at = min(users.first_login_at, excluded.first_login_at), \
               last_login_at = max(users.last_login_at, excluded.last_login_at), \
               last_ip = CASE WHEN excluded.last_login_at >= users.last_login_at \
                 THEN coalesce(excluded.last_ip, users.last_ip) ELSE users.last_ip END, \
               last_user_agent = CASE WHEN excluded.last_login_at >= users.last_login_at \
                 THEN coalesce(excluded.last_user_agent, users.last_user_agent) ELSE users.last_user_agent END, \
               email = coalesce(excluded.email, users.email), \
               name = coalesce(excluded.name, users.name), \
               updated_at = excluded.updated_at \
             RETURNING login_count, first_login_at, last_login_at, json_extract(app_metadata, '$.enrichment') AS enrichment",
        )
        .bind(site_id)
        .bind(&login.user_id)
        .bind(&at)
        .bind(&at)
        .bind(&login.ip)
        .bind(&login.user_agent)
        .bind(&login.email)
        .bind(&login.name)
        .bind(now())
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        let receipt = LoginReceipt {
            user_id: login.user_id.clone(),
            login_count,
            first_login_at: first,
            last_login_at: last,
            signed_up: login_count == 1,
        };
        sqlx::query(
            "UPDATE login_events SET login_count = ?, first_login_at = ?, last_login_at = ?, signed_up = ? \
             WHERE site_id = ? AND event_id = ?",
        )
        .bind(receipt.login_count)
        .bind(ts(receipt.first_login_at))
        .bind(ts(receipt.last_login_at))
        .bind(receipt.signed_up)
        .bind(site_id)
        .bind(&login.event_id)
        .execute(&mut *tx)
        .await?;
        let jobs = follow_ups(&receipt, enrichment.as_ref().map(|e| &e.0));
        insert_jobs(&mut tx, site_id, &jobs).await?;
        tx.commit().await?;
        Ok(receipt)
    }

    async fn user(&self, site_id: &str, user_id: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE site_id = ? AND user_id = ?");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(site_id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Into::into))
    }

    async fn user_with_history(
        &self,
        site_id: &str,
        user_id: &str,
    ) -> Result<Option<(User, Vec<PromptRecord>)>, StoreError> {
        let Some(user) = self.user(site_id, user_id).await? else {
            return Ok(None);
        };
        let rows: Vec<HistoryRow> = sqlx::query_as(
            "SELECT question_set, key, kind, login_count FROM prompt_events \
             WHERE site_id = ? AND user_id = ? AND kind <> 'impression' ORDER BY id",
        )
        .bind(site_id)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some((
            user,
            rows.into_iter()
                .filter_map(HistoryRow::into_record)
                .collect(),
        )))
    }

    async fn answers(&self, site_id: &str, user_id: &str) -> Result<Vec<AnswerRecord>, StoreError> {
        let rows: Vec<AnswerRow> = sqlx::query_as(
            "SELECT key, question_set, version, value, login_count, answered_at FROM answers \
             WHERE site_id = ? AND user_id = ? ORDER BY key",
        )
        .bind(site_id)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn list_users(
        &self,
        site_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE site_id = ? AND user_id > ? ORDER BY user_id LIMIT ?"
        );
        let rows: Vec<UserRow> = sqlx::query_as(&sql)
            .bind(site_id)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn edit_user(
        &self,
        site_id: &str,
        user_id: &str,
        edit: MetadataEdit<'_>,
        limits: MetadataLimits,
        follow_ups: &[NewJob],
    ) -> Result<Option<User>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(user) = Self::edit_in(&mut tx, site_id, user_id, edit, limits).await? else {
            return Ok(None);
        };
        insert_jobs(&mut tx, site_id, follow_ups).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    async fn delete_user(
        &self,
        site_id: &str,
        user_id: &str,
        follow_ups: &[NewJob],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in ["answers", "prompt_events", "login_events"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE site_id = ? AND user_id = ?"
            ))
            .bind(site_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        }
        let deleted = sqlx::query("DELETE FROM users WHERE site_id = ? AND user_id = ?")
            .bind(site_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Ok(false);
        }
        insert_jobs(&mut tx, site_id, follow_ups).await?;
        tx.commit().await?;
        Ok(deleted.rows_affected() > 0)
    }

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
        let at = now();
        sqlx::query(
            "INSERT INTO answers (site_id, user_id, key, question_set, version, value, login_count, answered_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_id, user_id, key) DO UPDATE SET \
             question_set = excluded.question_set, version = excluded.version, value = excluded.value, \
             login_count = excluded.login_count, answered_at = excluded.answered_at",
        )
        .bind(site_id)
        .bind(user_id)
        .bind(&answer.key)
        .bind(&answer.question_set)
        .bind(answer.version)
        .bind(Json(&answer.value))
        .bind(user.login_count)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO prompt_events (site_id, user_id, question_set, version, key, kind, login_count, created_at) \
             VALUES (?, ?, ?, ?, ?, 'answered', ?, ?)",
        )
        .bind(site_id)
        .bind(user_id)
        .bind(&answer.question_set)
        .bind(answer.version)
        .bind(&answer.key)
        .bind(user.login_count)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        insert_jobs(&mut tx, site_id, follow_ups).await?;
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
        let at = now();
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO prompt_events (site_id, user_id, question_set, version, key, kind, login_count, created_at) \
             SELECT site_id, user_id, ?, ?, ?, ?, login_count, ? FROM users WHERE site_id = ? AND user_id = ?",
        )
        .bind(question_set)
        .bind(version)
        .bind(key)
        .bind(kind.as_str())
        .bind(&at)
        .bind(site_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        if kind == PromptEventKind::Impression {
            sqlx::query("UPDATE users SET last_prompted_at = ? WHERE site_id = ? AND user_id = ?")
                .bind(&at)
                .bind(site_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn insert_draft(
        &self,
        site_id: &str,
        slug: &str,
        definition: &Value,
        source: &str,
    ) -> Result<QuestionSetVersion, StoreError> {
        let mut tx = self.pool.begin().await?;
        let at = now();
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO question_sets (site_id, slug, latest_version, live_version, created_at, updated_at) \
             VALUES (?, ?, 1, NULL, ?, ?) ON CONFLICT (site_id, slug) DO UPDATE SET \
             latest_version = question_sets.latest_version + 1, updated_at = excluded.updated_at \
             RETURNING latest_version",
        )
        .bind(site_id)
        .bind(slug)
        .bind(&at)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO question_set_versions (site_id, slug, version, status, definition, source, created_at) \
             VALUES (?, ?, ?, 'draft', ?, ?, ?)",
        )
        .bind(site_id)
        .bind(slug)
        .bind(version)
        .bind(Json(definition))
        .bind(source)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM question_set_versions WHERE site_id = ? AND slug = ? AND version = ?"
        );
        let row: VersionRow = sqlx::query_as(&sql)
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
        let mut tx = self.pool.begin().await?;
        let published = sqlx::query(
            "UPDATE question_set_versions SET status = 'published', published_at = ? \
             WHERE site_id = ? AND slug = ? AND version = ? AND status = 'draft'",
        )
        .bind(now())
        .bind(site_id)
        .bind(slug)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        let outcome = if published.rows_affected() == 1 {
            PublishOutcome::Published
        } else {
            let exists: Option<String> = sqlx::query_scalar(
                "SELECT status FROM question_set_versions WHERE site_id = ? AND slug = ? AND version = ?",
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
        sqlx::query("UPDATE question_sets SET live_version = ?, updated_at = ? WHERE site_id = ? AND slug = ?")
            .bind(version)
            .bind(now())
            .bind(site_id)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn question_sets(&self, site_id: &str) -> Result<Vec<QuestionSetSummary>, StoreError> {
        let rows: Vec<SummaryRow> = sqlx::query_as(
            "SELECT s.slug, s.latest_version, s.live_version, s.updated_at, v.definition \
             FROM question_sets s JOIN question_set_versions v \
               ON v.site_id = s.site_id AND v.slug = s.slug AND v.version = s.latest_version \
             WHERE s.site_id = ? ORDER BY s.slug",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(QuestionSetSummary::from_row).collect())
    }

    async fn question_set_versions(
        &self,
        site_id: &str,
        slug: &str,
    ) -> Result<Vec<QuestionSetVersion>, StoreError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM question_set_versions WHERE site_id = ? AND slug = ? ORDER BY version"
        );
        let rows: Vec<VersionRow> = sqlx::query_as(&sql)
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
            "SELECT {VERSION_COLUMNS} FROM question_set_versions WHERE site_id = ? AND slug = ? AND version = ?"
        );
        let row: Option<VersionRow> = sqlx::query_as(&sql)
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
            "SELECT v.slug, v.version, v.status, v.definition, v.source, v.created_at, v.published_at \
             FROM question_sets s JOIN question_set_versions v \
               ON v.site_id = s.site_id AND v.slug = s.slug AND v.version = s.live_version \
             WHERE s.site_id = ? ORDER BY s.slug",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn prompt_event_counts(
        &self,
        site_id: &str,
    ) -> Result<Vec<PromptEventCount>, StoreError> {
        let rows: Vec<EventCountRow> = sqlx::query_as(
            "SELECT question_set, key, kind, COUNT(*) AS count FROM prompt_events \
             WHERE site_id = ? GROUP BY question_set, key, kind",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn answer_counts(&self, site_id: &str) -> Result<Vec<AnswerCount>, StoreError> {
        let rows: Vec<AnswerCountRow> = sqlx::query_as(
            "SELECT question_set, key, value, COUNT(*) AS count FROM answers \
             WHERE site_id = ? GROUP BY question_set, key, value",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn login_count_histogram(&self, site_id: &str) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT login_count, COUNT(*) FROM users WHERE site_id = ? GROUP BY login_count ORDER BY login_count",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn subscribe_invalidations(
        &self,
    ) -> Result<Option<tokio::sync::mpsc::UnboundedReceiver<String>>, StoreError> {
        Ok(None)
    }

    async fn notify_invalidation(&self, _site_id: &str) -> Result<(), StoreError> {
        Ok(())
    }
}
