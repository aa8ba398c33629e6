//! The console's audit log: appended to, listed newest first.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::{Connection, Db, Row, SqlStore};
use crate::model::{AuditEntry, NewAuditEntry};
use crate::store::{AuditStore, Dialect, StoreError};

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: DateTime<Utc>,
    admin_id: Option<String>,
    actor: String,
    action: String,
    site_id: Option<String>,
    subject: String,
    detail: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> AuditEntry {
        AuditEntry {
            id: row.id,
            at: row.at,
            admin_id: row.admin_id,
            actor: row.actor,
            action: row.action,
            site_id: row.site_id,
            subject: row.subject,
            detail: row.detail,
        }
    }
}

#[async_trait]
impl<D> AuditStore for SqlStore<D>
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
    async fn record_audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, admin_id, actor, action, site_id, subject, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Self::now())
        .bind(entry.admin_id.as_deref())
        .bind(entry.actor.as_str())
        .bind(entry.action.as_str())
        .bind(entry.site_id.as_deref())
        .bind(entry.subject.as_str())
        .bind(entry.detail.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit_entries(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, admin_id, actor, action, site_id, subject, detail FROM audit_log \
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    async fn last_audit_by_admin(
        &self,
        action: &str,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let rows: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT admin_id, at FROM audit_log WHERE id IN (SELECT MAX(id) FROM audit_log \
             WHERE action = $1 AND admin_id IS NOT NULL GROUP BY admin_id) ORDER BY admin_id",
        )
        .bind(action)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    async fn latest_audit_by_subject(
        &self,
        site_id: &str,
        action_prefix: &str,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let escaped = action_prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("{escaped}%");
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, admin_id, actor, action, site_id, subject, detail FROM audit_log a \
             WHERE site_id = $1 AND action LIKE $2 ESCAPE '\\' AND id = (SELECT MAX(id) FROM audit_log b \
               WHERE b.site_id = a.site_id AND b.subject = a.subject AND b.action LIKE $2 ESCAPE '\\') \
             ORDER BY subject",
        )
        .bind(site_id)
        .bind(pattern.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }
}
