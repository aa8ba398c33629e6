//! Login counting: one event, counted once, in one transaction with its jobs and the
//! identity provider's claims.
//!
//! Logins are group-committed: `record_login` hands the login to a writer task
//! ([`super::group_commit`]), which takes every write waiting at that moment, writes them
//! in one transaction (a login with claims under a savepoint), commits once and then
//! answers each. The statements of one login are [`count_login`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::group_commit::{Write, write_in_runs};
use super::jobs::insert_jobs;
use super::rows::{ReceiptRow, UserRow, user_columns};
use super::{Connection, Db, Row, SqlStore, check_limits};
use crate::model::idp::merge_claims;
use crate::model::{LoginReceipt, MetadataLimits, NewLogin, User};
use crate::store::dialect::Flavour;
use crate::store::{Dialect, LoginFollowUps, LoginStore, LoginWrite, StoreError};

#[async_trait]
impl<D> LoginStore for SqlStore<D>
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
    async fn record_login(
        &self,
        site_id: &str,
        login: &NewLogin,
        limits: MetadataLimits,
        follow_ups: LoginFollowUps,
    ) -> Result<LoginReceipt, StoreError> {
        let write = Write::Login(LoginWrite {
            site_id: site_id.to_owned(),
            login: login.clone(),
            limits,
            follow_ups,
        });
        self.write(write).await?.into_login()
    }

    async fn record_login_batch(
        &self,
        batch: &[LoginWrite],
    ) -> Vec<Result<LoginReceipt, StoreError>> {
        let writes: Vec<Write> = batch.iter().cloned().map(Write::Login).collect();
        write_in_runs(self, &writes)
            .await
            .into_iter()
            .map(|outcome| outcome.and_then(|w| w.into_login()))
            .collect()
    }
}

/// A user as counting a login left them, with their last login before it.
#[derive(sqlx::FromRow)]
struct CountedRow {
    #[sqlx(flatten)]
    user: UserRow,
    previous_login_at: Option<DateTime<Utc>>,
}

/// The statements of one login, on a connection inside a transaction (or a savepoint of
/// one): counts the login if its event id is new, merges the claims, writes the event
/// with its counts and the jobs (on PostgreSQL the event is written with the count, in
/// one statement, before the claims). A retried event id returns the stored receipt and
/// changes nothing.
pub(super) async fn count_login<D>(
    conn: &mut Connection<D>,
    site_id: &str,
    login: &NewLogin,
    limits: MetadataLimits,
    follow_ups: &LoginFollowUps,
) -> Result<LoginReceipt, StoreError>
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
    let at = login.occurred_at;
    // PostgreSQL writes the event in the same statement (a data-modifying `WITH`), one
    // round trip per login instead of two; SQLite has no such clause.
    let event_in_statement = D::FLAVOUR == Flavour::Postgres;
    let sql = if event_in_statement {
        count_user_and_event_sql::<D>()
    } else {
        count_user_sql::<D>()
    };
    let counted: Option<CountedRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
        .bind(site_id)
        .bind(login.user_id.as_str())
        .bind(D::timestamp(at))
        .bind(login.ip.as_deref())
        .bind(login.user_agent.as_deref())
        .bind(login.email.as_deref())
        .bind(login.name.as_deref())
        .bind(D::timestamp(chrono::Utc::now()))
        .bind(login.event_id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = counted else {
        let row: ReceiptRow = sqlx::query_as(RECEIPT_OF_EVENT)
            .bind(site_id)
            .bind(login.event_id.as_str())
            .fetch_one(&mut *conn)
            .await?;
        return Ok(row.into());
    };
    let CountedRow {
        user: row,
        previous_login_at,
    } = row;
    let mut user = User::from(row);
    let receipt = receipt_of(&user);
    // Claims of a late event (older than the latest login) would overwrite newer ones.
    if let Some(claims) = &login.profile
        && at >= user.last_login_at
    {
        merge_claims(&mut user.app_metadata, claims, crate::model::now());
        check_limits(&user.user_metadata, &user.app_metadata, limits)?;
        let stored = D::FLAVOUR.stored_metadata("$1");
        let sql =
            format!("UPDATE users SET app_metadata = {stored} WHERE site_id = $2 AND user_id = $3");
        sqlx::query(sqlx::AssertSqlSafe(&*sql))
            .bind(Json(&user.app_metadata))
            .bind(site_id)
            .bind(login.user_id.as_str())
            .execute(&mut *conn)
            .await?;
    }
    if !event_in_statement {
        sqlx::query(INSERT_LOGIN_EVENT)
            .bind(site_id)
            .bind(login.event_id.as_str())
            .bind(login.user_id.as_str())
            .bind(D::timestamp(at))
            .bind(login.ip.as_deref())
            .bind(login.user_agent.as_deref())
            .bind(receipt.login_count)
            .bind(D::timestamp(receipt.first_login_at))
            .bind(D::timestamp(receipt.last_login_at))
            .bind(receipt.signed_up)
            // (A timestamp and whether there is one: the dialects bind timestamps, not options.)
            .bind(D::timestamp(previous_login_at.unwrap_or(at)))
            .bind(previous_login_at.is_some())
            .execute(&mut *conn)
            .await?;
    }
    let jobs = follow_ups(&receipt, &user);
    insert_jobs::<D>(conn, site_id, &jobs).await?;
    Ok(receipt)
}

/// Counts a login into its user (`$1` site, `$2` user, `$3` time, `$4` IP, `$5` user
/// agent, `$6` e-mail, `$7` name, `$8` now, `$9` event id) if its event id is new, and
/// returns the user as the login left them with their previous login; no row if the event
/// was counted before. The user is written first and the event after it, with the
/// counts: on SQLite a second statement ([`INSERT_LOGIN_EVENT`]), on PostgreSQL in the
/// same one ([`count_user_and_event_sql`]). (Two writers counting one event id at once
/// on PostgreSQL: the second's event insert fails on the key, its batch is rolled back
/// and written again (`write_once_more_if_raced`), and then it finds the event.)
pub(in crate::store) fn count_user_sql<D: Dialect>() -> String {
    let (least, greatest) = (D::LEAST, D::GREATEST);
    let (empty, columns) = (D::FLAVOUR.empty_metadata(), user_columns(D::FLAVOUR));
    format!(
        "INSERT INTO users (site_id, user_id, login_count, first_login_at, last_login_at, \
             last_ip, last_user_agent, email, name, user_metadata, app_metadata, created_at, \
             updated_at) \
             SELECT $1, $2, 1, $3, $3, $4, $5, $6, $7, {empty}, {empty}, $8, $8 \
             WHERE NOT EXISTS (SELECT 1 FROM login_events WHERE site_id = $1 AND event_id = $9) \
             ON CONFLICT (site_id, user_id) DO UPDATE SET \
               login_count = users.login_count + 1, \
               first_login_at = {least}(users.first_login_at, excluded.first_login_at), \
               last_login_at = {greatest}(users.last_login_at, excluded.last_login_at), \
               last_ip = CASE WHEN excluded.last_login_at >= users.last_login_at \
                 THEN coalesce(excluded.last_ip, users.last_ip) ELSE users.last_ip END, \
               last_user_agent = CASE WHEN excluded.last_login_at >= users.last_login_at \
                 THEN coalesce(excluded.last_user_agent, users.last_user_agent) \
                 ELSE users.last_user_agent END, \
               email = coalesce(excluded.email, users.email), \
               name = coalesce(excluded.name, users.name), \
               updated_at = excluded.updated_at, \
               previous_login_at = users.last_login_at \
             RETURNING {columns}, previous_login_at"
    )
}

/// [`count_user_sql`] and, in the same statement, the counted login's event with the
/// counts it left, as [`INSERT_LOGIN_EVENT`] writes it (PostgreSQL's data-modifying
/// `WITH`; the same parameters). Returns what `count_user_sql` returns.
fn count_user_and_event_sql<D: Dialect>() -> String {
    format!(
        "WITH counted AS ({}), \
         recorded AS (INSERT INTO login_events ({}) \
           SELECT $1, $9, user_id, $3, $4, $5, login_count, first_login_at, last_login_at, \
           login_count = 1, previous_login_at FROM counted) \
         SELECT * FROM counted",
        count_user_sql::<D>(),
        login_event_columns!()
    )
}

/// The columns a login event is written with, in the order both writes give them.
macro_rules! login_event_columns {
    () => {
        "site_id, event_id, user_id, occurred_at, ip, user_agent, login_count, \
         first_login_at, last_login_at, signed_up, previous_login_at"
    };
}
use login_event_columns;

/// The stored receipt of a login event counted before (`$1` site, `$2` event id).
pub(in crate::store) const RECEIPT_OF_EVENT: &str = "SELECT user_id, login_count, first_login_at, last_login_at, signed_up \
     FROM login_events WHERE site_id = $1 AND event_id = $2";

/// A counted login's event with the counts it left (`$1` site, `$2` event id, `$3` user,
/// `$4` time, `$5` IP, `$6` user agent, `$7` login count, `$8` first and `$9` last login,
/// `$10` signed up, `$11` the previous login if `$12`). With the user's previous login
/// (their last before this one, as the count found it), results count each user once per
/// window, at their first login in it (`results/`). A subquery on `login_events` here
/// halved the login rate on SQLite. SQLite's; PostgreSQL writes the event in the count's
/// statement ([`count_user_and_event_sql`]).
pub(in crate::store) const INSERT_LOGIN_EVENT: &str = concat!(
    "INSERT INTO login_events (",
    login_event_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $12 THEN $11 END)"
);

/// The receipt of a login just counted, from the user as it left them.
pub(in crate::store) fn receipt_of(user: &User) -> LoginReceipt {
    LoginReceipt {
        user_id: user.user_id.clone(),
        login_count: user.login_count,
        first_login_at: user.first_login_at,
        last_login_at: user.last_login_at,
        signed_up: user.login_count == 1,
    }
}
