//! Console admins, the sites granted to members, and sessions (found by token hash).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::{Connection, Db, Row, SqlStore};
use crate::model::{Admin, AdminChange, AdminSession, Role};
use crate::store::{AdminStore, Dialect, StoreError};

/// Columns selected for an admin everywhere (prefixed `a.` where joined).
const ADMIN_COLUMNS: &str = "a.admin_id, a.email, a.role, a.created_at";

#[derive(sqlx::FromRow)]
struct AdminRow {
    admin_id: String,
    email: String,
    role: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<AdminRow> for Admin {
    type Error = StoreError;

    fn try_from(row: AdminRow) -> Result<Admin, StoreError> {
        let role = Role::parse(&row.role)
            .ok_or_else(|| StoreError::Corrupt(format!("admins.role: {:?}", row.role)))?;
        Ok(Admin {
            admin_id: row.admin_id,
            email: row.email,
            role,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AdminWithHashRow {
    #[sqlx(flatten)]
    admin: AdminRow,
    password_hash: String,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    admin: AdminRow,
    session_created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

#[async_trait]
impl<D> AdminStore for SqlStore<D>
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
    async fn insert_admin(&self, admin: &Admin, password_hash: &str) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO admins (admin_id, email, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING",
        )
        .bind(admin.admin_id.as_str())
        .bind(admin.email.as_str())
        .bind(password_hash)
        .bind(admin.role.as_str())
        .bind(D::timestamp(admin.created_at))
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&inserted) == 1)
    }

    async fn admin(&self, admin_id: &str) -> Result<Option<Admin>, StoreError> {
        let sql = format!("SELECT {ADMIN_COLUMNS} FROM admins a WHERE a.admin_id = $1");
        let row: Option<AdminRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(admin_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(Admin::try_from).transpose()
    }

    async fn admin_by_email(&self, email: &str) -> Result<Option<(Admin, String)>, StoreError> {
        let sql =
            format!("SELECT {ADMIN_COLUMNS}, a.password_hash FROM admins a WHERE a.email = $1");
        let row: Option<AdminWithHashRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((Admin::try_from(r.admin)?, r.password_hash)))
            .transpose()
    }

    async fn admins(&self) -> Result<Vec<Admin>, StoreError> {
        let sql = format!("SELECT {ADMIN_COLUMNS} FROM admins a ORDER BY a.email");
        let rows: Vec<AdminRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(Admin::try_from).collect()
    }

    async fn grant_site(&self, admin_id: &str, site_id: &str) -> Result<bool, StoreError> {
        let granted = sqlx::query(
            "INSERT INTO admin_site_grants (admin_id, site_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (admin_id, site_id) DO NOTHING",
        )
        .bind(admin_id)
        .bind(site_id)
        .bind(Self::now())
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&granted) == 1)
    }

    async fn granted_sites(&self, admin_id: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT site_id FROM admin_site_grants WHERE admin_id = $1 ORDER BY site_id",
        )
        .bind(admin_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(site_id,)| site_id).collect())
    }

    async fn all_grants(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT admin_id, site_id FROM admin_site_grants ORDER BY admin_id, site_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    async fn revoke_site(&self, admin_id: &str, site_id: &str) -> Result<bool, StoreError> {
        let revoked =
            sqlx::query("DELETE FROM admin_site_grants WHERE admin_id = $1 AND site_id = $2")
                .bind(admin_id)
                .bind(site_id)
                .execute(&self.pool)
                .await?;
        Ok(D::rows_affected(&revoked) == 1)
    }

    async fn set_admin_role(&self, admin_id: &str, role: Role) -> Result<AdminChange, StoreError> {
        let mut tx = self.begin_write().await?;
        let change = owners_kept::<D>(&mut tx, admin_id, role == Role::Owner).await?;
        if change == AdminChange::Done {
            sqlx::query("UPDATE admins SET role = $1 WHERE admin_id = $2")
                .bind(role.as_str())
                .bind(admin_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(change)
    }

    async fn delete_admin(&self, admin_id: &str) -> Result<AdminChange, StoreError> {
        let mut tx = self.begin_write().await?;
        let change = owners_kept::<D>(&mut tx, admin_id, false).await?;
        if change == AdminChange::Done {
            for table in ["admin_sessions", "admin_site_grants", "admins"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE admin_id = $1"
                )))
                .bind(admin_id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        Ok(change)
    }

    async fn insert_session(
        &self,
        token_hash: &str,
        session: &AdminSession,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_sessions (token_hash, admin_id, created_at, last_seen_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(session.admin_id.as_str())
        .bind(D::timestamp(session.created_at))
        .bind(D::timestamp(session.last_seen_at))
        .bind(D::timestamp(session.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(AdminSession, Admin)>, StoreError> {
        let sql = format!(
            "SELECT {ADMIN_COLUMNS}, s.created_at AS session_created_at, s.last_seen_at, \
             s.expires_at FROM admin_sessions s JOIN admins a ON a.admin_id = s.admin_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        );
        let row: Option<SessionRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(token_hash)
            .bind(D::timestamp(now))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let session = AdminSession {
            admin_id: row.admin.admin_id.clone(),
            created_at: row.session_created_at,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
        };
        Ok(Some((session, Admin::try_from(row.admin)?)))
    }

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE admin_sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(D::timestamp(at))
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM admin_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&deleted) == 1)
    }

    async fn delete_sessions_of(&self, admin_id: &str) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM admin_sessions WHERE admin_id = $1")
            .bind(admin_id)
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&deleted))
    }

    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1")
            .bind(D::timestamp(now))
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&deleted))
    }
}

/// Inside a transaction: whether the admin exists and, if they are an owner who would
/// stop being one (`stays_owner` false), whether another owner remains. The owners'
/// rows are locked first (an update that changes nothing), so concurrent checks queue.
async fn owners_kept<D>(
    conn: &mut Connection<D>,
    admin_id: &str,
    stays_owner: bool,
) -> Result<AdminChange, StoreError>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    <Db<D> as Database>::Arguments: IntoArguments<Db<D>>,
    for<'q> &'q str: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'q> i64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> String: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    usize: ColumnIndex<Row<D>>,
{
    sqlx::query("UPDATE admins SET role = role WHERE role = 'owner'")
        .execute(&mut *conn)
        .await?;
    let role: Option<(String,)> = sqlx::query_as("SELECT role FROM admins WHERE admin_id = $1")
        .bind(admin_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((role,)) = role else {
        return Ok(AdminChange::NotFound);
    };
    if role != Role::Owner.as_str() || stays_owner {
        return Ok(AdminChange::Done);
    }
    let (owners,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM admins WHERE role = 'owner'")
        .fetch_one(&mut *conn)
        .await?;
    Ok(if owners > 1 {
        AdminChange::Done
    } else {
        AdminChange::LastOwner
    })
}
