//! A user's history: login events and prompt events, merged newest first.
//!
//! Each table is read with its own keyset condition (the index `login_events_by_user`
//! serves the logins; a user's prompt events are few), at most `limit` rows each, and
//! the two lists are merged in [`HistoryPosition`] order.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::{Connection, Db, Row, SqlStore};
use crate::model::history::{HistoryEvent, HistoryKind, HistoryPosition, HistoryRow};
use crate::store::{Dialect, HistoryStore, StoreError};

#[derive(sqlx::FromRow)]
struct LoginRow {
    event_id: String,
    occurred_at: DateTime<Utc>,
    login_count: i64,
    ip: Option<String>,
    user_agent: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PromptRow {
    id: i64,
    question_set: String,
    version: i64,
    key: String,
    kind: String,
    login_count: i64,
    created_at: DateTime<Utc>,
}

impl From<LoginRow> for HistoryEvent {
    fn from(row: LoginRow) -> HistoryEvent {
        HistoryEvent {
            kind: HistoryKind::Login,
            at: row.occurred_at,
            login_count: row.login_count,
            ip: row.ip,
            user_agent: row.user_agent,
            question_set: None,
            version: None,
            key: None,
            position: HistoryPosition {
                at: row.occurred_at,
                row: HistoryRow::Login(row.event_id),
            },
        }
    }
}

impl TryFrom<PromptRow> for HistoryEvent {
    type Error = StoreError;

    fn try_from(row: PromptRow) -> Result<HistoryEvent, StoreError> {
        let kind = HistoryKind::of_prompt_event(&row.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("prompt_events.kind: {}", row.kind)))?;
        Ok(HistoryEvent {
            kind,
            at: row.created_at,
            login_count: row.login_count,
            ip: None,
            user_agent: None,
            question_set: Some(row.question_set),
            version: Some(row.version),
            key: Some(row.key),
            position: HistoryPosition {
                at: row.created_at,
                row: HistoryRow::Prompt(row.id),
            },
        })
    }
}

#[async_trait]
impl<D> HistoryStore for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    <Db<D> as Database>::Arguments: IntoArguments<Db<D>>,
    for<'q> &'q str: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'q> i64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> String: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'r> DateTime<Utc>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> &'r str: ColumnIndex<Row<D>>,
    usize: ColumnIndex<Row<D>>,
{
    async fn user_history(
        &self,
        site_id: &str,
        user_id: &str,
        before: Option<&HistoryPosition>,
        limit: u32,
    ) -> Result<Vec<HistoryEvent>, StoreError> {
        // Event ids compare in byte order on both databases, as `HistoryPosition` does.
        let event_id = D::USER_ID_IN_BYTE_ORDER.replacen("user_id", "event_id", 1);
        let logins_sql = |after: &str| {
            format!(
                "SELECT event_id, occurred_at, login_count, ip, user_agent FROM login_events \
                 WHERE site_id = $1 AND user_id = $2 AND {after} \
                 ORDER BY occurred_at DESC, {event_id} DESC LIMIT $3"
            )
        };
        let prompts_sql = |after: &str| {
            format!(
                "SELECT id, question_set, version, key, kind, login_count, created_at \
                 FROM prompt_events WHERE site_id = $1 AND user_id = $2 AND {after} \
                 ORDER BY created_at DESC, id DESC LIMIT $3"
            )
        };
        // The first page starts after a prompt event later than any event.
        let start = HistoryPosition {
            at: "9999-12-31T23:59:59.999999Z".parse().expect("a timestamp"),
            row: HistoryRow::Prompt(i64::MAX),
        };
        let before = before.unwrap_or(&start);
        macro_rules! fetch {
            ($row:ty, $sql:expr $(, $extra:expr)?) => {{
                let rows: Vec<$row> = sqlx::query_as(sqlx::AssertSqlSafe(&*$sql))
                    .bind(site_id)
                    .bind(user_id)
                    .bind(i64::from(limit))
                    .bind(D::timestamp(before.at))
                    $(.bind($extra))?
                    .fetch_all(&self.pool)
                    .await?;
                rows
            }};
        }
        // Prompt events rank above logins of the same instant (newer): after a prompt
        // event the logins of its instant are still to come, after a login no prompt
        // event of its instant is.
        let (logins, prompts) = match &before.row {
            HistoryRow::Login(after_event) => (
                fetch!(
                    LoginRow,
                    logins_sql(&format!(
                        "(occurred_at < $4 OR (occurred_at = $4 AND {event_id} < $5))"
                    )),
                    after_event.as_str()
                ),
                fetch!(PromptRow, prompts_sql("created_at < $4")),
            ),
            HistoryRow::Prompt(after_id) => (
                fetch!(LoginRow, logins_sql("occurred_at <= $4")),
                fetch!(
                    PromptRow,
                    prompts_sql("(created_at < $4 OR (created_at = $4 AND id < $5))"),
                    *after_id
                ),
            ),
        };
        let mut events: Vec<HistoryEvent> = logins.into_iter().map(HistoryEvent::from).collect();
        for row in prompts {
            events.push(row.try_into()?);
        }
        events.sort_by(|a, b| b.position.cmp(&a.position));
        events.truncate(limit as usize);
        Ok(events)
    }
}
