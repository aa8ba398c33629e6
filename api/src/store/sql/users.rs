//! User profiles: read, page, edit under a lock, erase.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::condition::{Arg, Predicate, compile};
use super::jobs::insert_jobs;
use super::rows::{AnswerRow, UserRow, UserWithHistoryRow, user_columns};
use super::{Connection, Db, Row, SqlStore, check_limits};
use crate::model::{AnswerRecord, MetadataLimits, NewJob, User};
use crate::questions::Condition;
use crate::questions::PromptRecord;
use crate::store::dialect::Flavour;
use crate::store::{Dialect, MetadataEdit, StoreError, UserStore};

/// Binds a compiled predicate's values, in order, to a query of any kind.
macro_rules! bind_args {
    ($dialect:ty, $query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(text) => query.bind(text),
                Arg::Real(real) => query.bind(real),
                Arg::Time(at) => query.bind(<$dialect>::timestamp(at)),
            };
        }
        query
    }};
}

impl<D> SqlStore<D>
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
    /// Reads the user's row and locks it ([`Dialect::ROW_LOCK`] on PostgreSQL; a write
    /// transaction on SQLite holds the one write lock already), applies the edit and,
    /// within the limits, stores the result and returns the user as stored. An edit
    /// over a limit is refused before anything is written ([`StoreError::TooLarge`]),
    /// so a batch needs no savepoint for it. `None` if no such user.
    pub(super) async fn edit_in(
        conn: &mut Connection<D>,
        site_id: &str,
        user_id: &str,
        edit: MetadataEdit<'_>,
        limits: MetadataLimits,
    ) -> Result<Option<User>, StoreError> {
        let sql = user_to_edit_sql::<D>();
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut user = User::from(row);
        edit(&mut user.user_metadata, &mut user.app_metadata);
        check_limits(&user.user_metadata, &user.app_metadata, limits)?;
        let sql = store_metadata_sql::<D>();
        let row: UserRow = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(Json(&user.user_metadata))
            .bind(Json(&user.app_metadata))
            .bind(Self::now())
            .bind(site_id)
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?;
        Ok(Some(User::from(row)))
    }
}

#[async_trait]
impl<D> UserStore for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    <Db<D> as Database>::Arguments: IntoArguments<Db<D>>,
    for<'q> &'q str: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'q> Option<&'q str>: Encode<'q, Db<D>>,
    for<'q> Option<i64>: Encode<'q, Db<D>>,
    for<'q> f64: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'q> i64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> bool: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> String: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> Json<&'q Value>: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'r> Json<Value>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> DateTime<Utc>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> &'r str: ColumnIndex<Row<D>>,
    usize: ColumnIndex<Row<D>>,
{
    async fn user(&self, site_id: &str, user_id: &str) -> Result<Option<User>, StoreError> {
        let columns = user_columns(D::FLAVOUR);
        let sql = format!("SELECT {columns} FROM users WHERE site_id = $1 AND user_id = $2");
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
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
        if let Some(reader) = &self.reader_apart
            && let Some(read) = reader.user_with_history(site_id, user_id).await
        {
            return read;
        }
        let sql = user_with_history_sql(D::FLAVOUR, "");
        let row: Option<UserWithHistoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(UserWithHistoryRow::into_parts).transpose()
    }

    async fn answers(&self, site_id: &str, user_id: &str) -> Result<Vec<AnswerRecord>, StoreError> {
        let rows: Vec<AnswerRow> = sqlx::query_as(
            "SELECT key, question_set, version, value, login_count, answered_at FROM answers \
             WHERE site_id = $1 AND user_id = $2 ORDER BY key",
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
        filter: Option<&Condition>,
        now: DateTime<Utc>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError> {
        let user_id = D::USER_ID_IN_BYTE_ORDER;
        let predicate = filter_predicate::<D>(filter, now, 4);
        let columns = user_columns(D::FLAVOUR);
        let sql = format!(
            "SELECT {columns} FROM users WHERE site_id = $1 AND {user_id} > $2 \
             AND {} ORDER BY {user_id} LIMIT $3",
            predicate.sql
        );
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit));
        let rows: Vec<UserRow> = bind_args!(D, query, predicate.args)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn count_users(
        &self,
        site_id: &str,
        filter: Option<&Condition>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let predicate = filter_predicate::<D>(filter, now, 2);
        let sql = format!(
            "SELECT COUNT(*) FROM users WHERE site_id = $1 AND {}",
            predicate.sql
        );
        let query = sqlx::query_scalar(sqlx::AssertSqlSafe(&*sql)).bind(site_id);
        Ok(bind_args!(D, query, predicate.args)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn edit_user(
        &self,
        site_id: &str,
        user_id: &str,
        edit: MetadataEdit<'_>,
        limits: MetadataLimits,
        follow_ups: &[NewJob],
    ) -> Result<Option<User>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(user) = Self::edit_in(&mut tx, site_id, user_id, edit, limits).await? else {
            return Ok(None);
        };
        insert_jobs::<D>(&mut tx, site_id, follow_ups).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    async fn delete_user(
        &self,
        site_id: &str,
        user_id: &str,
        follow_ups: &[NewJob],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        // The user's row first: every write about a user locks it, so on PostgreSQL this
        // waits for a concurrent login or answer to commit, and the statements below
        // (each with a fresh snapshot) see the jobs it wrote. Jobs before deliveries: a
        // fan-out completing now holds its job's row and writes deliveries with it.
        let deleted = sqlx::query("DELETE FROM users WHERE site_id = $1 AND user_id = $2")
            .bind(site_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if D::rows_affected(&deleted) == 0 {
            return Ok(false);
        }
        for table in [
            "jobs",
            "webhook_deliveries",
            "answers",
            "prompt_events",
            "login_events",
            "enrichment_cache",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE site_id = $1 AND user_id = $2"
            )))
            .bind(site_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        }
        // A backfill that stopped at this user resumes after the user before them, so
        // the cursor does not keep the erased id.
        let user_order = D::USER_ID_IN_BYTE_ORDER;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE enrichment_backfills SET resume_after = (SELECT MAX({user_order}) FROM users \
             WHERE site_id = $1 AND {user_order} < $2) WHERE site_id = $1 AND resume_after = $2"
        )))
        .bind(site_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        insert_jobs::<D>(&mut tx, site_id, follow_ups).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// The filter as a predicate with placeholders from `$first`; no filter: always true.
fn filter_predicate<D: Dialect>(
    filter: Option<&Condition>,
    now: DateTime<Utc>,
    first: usize,
) -> Predicate {
    match filter {
        Some(condition) => compile(condition, D::FLAVOUR, now, first),
        None => Predicate {
            sql: "(1=1)".into(),
            args: Vec::new(),
        },
    }
}

/// One user's row and prompt outcomes in one round trip (site `$1`, user `$2`): the
/// outcomes as a JSON array of `[question_set, key, kind, login_count]` in the order they
/// happened, in the column `history`; `extra` adds columns after it (", … AS name").
pub(in crate::store) fn user_with_history_sql(flavour: Flavour, extra: &str) -> String {
    let columns = user_with_history_columns(flavour, extra);
    format!("SELECT {columns} FROM users WHERE site_id = $1 AND user_id = $2")
}

/// The columns of [`user_with_history_sql`] over the table `users`, for a query that
/// finds its users otherwise (PostgreSQL's batched reads).
pub(in crate::store) fn user_with_history_columns(flavour: Flavour, extra: &str) -> String {
    let outcomes = match flavour {
        Flavour::Sqlite => {
            "json_group_array(json_array(question_set, key, kind, login_count) ORDER BY id)"
        }
        Flavour::Postgres => {
            "coalesce(json_agg(json_build_array(question_set, key, kind, login_count) \
             ORDER BY id), '[]'::json)"
        }
    };
    let columns = user_columns(flavour);
    format!(
        "{columns}, (SELECT {outcomes} FROM prompt_events \
         WHERE prompt_events.site_id = users.site_id \
         AND prompt_events.user_id = users.user_id AND kind <> 'impression') AS history{extra}"
    )
}

/// The user to edit (`$1` site, `$2` user), locked for the transaction on PostgreSQL
/// ([`Dialect::ROW_LOCK`]; a write transaction on SQLite holds the one write lock).
pub(in crate::store) fn user_to_edit_sql<D: Dialect>() -> String {
    let (columns, lock) = (user_columns(D::FLAVOUR), D::ROW_LOCK);
    format!("SELECT {columns} FROM users WHERE site_id = $1 AND user_id = $2 {lock}")
}

/// Stores an edited user's metadata (`$1` user's, `$2` app's, `$3` now, `$4` site, `$5`
/// user) and returns the user as stored.
pub(in crate::store) fn store_metadata_sql<D: Dialect>() -> String {
    let columns = user_columns(D::FLAVOUR);
    let (user_metadata, app_metadata) = (
        D::FLAVOUR.stored_metadata("$1"),
        D::FLAVOUR.stored_metadata("$2"),
    );
    format!(
        "UPDATE users SET user_metadata = {user_metadata}, app_metadata = {app_metadata}, \
         updated_at = $3 WHERE site_id = $4 AND user_id = $5 RETURNING {columns}"
    )
}
