//! Answers and prompt events (impressions, skips, dismissals).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::group_commit::{PromptEventWrite, Write, write_in_runs};
use super::jobs::insert_jobs;
use super::rows::AskedUserRow;
use super::users::user_with_history_sql;
use super::{Connection, Db, Row, SqlStore};
use crate::model::{NewAnswer, PromptEventKind, User};
use crate::questions::set_path;
use crate::store::dialect::Flavour;
use crate::store::{AnswerWrite, AskedUser, Dialect, PromptStore, RecordedEvent, StoreError};

#[async_trait]
impl<D> PromptStore for SqlStore<D>
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
    async fn record_answer(&self, write: AnswerWrite) -> Result<Option<User>, StoreError> {
        self.write(Write::Answer(write)).await?.into_answer()
    }

    async fn record_answer_batch(
        &self,
        batch: &[AnswerWrite],
    ) -> Vec<Result<Option<User>, StoreError>> {
        let writes: Vec<Write> = batch.iter().cloned().map(Write::Answer).collect();
        write_in_runs(self, &writes)
            .await
            .into_iter()
            .map(|outcome| outcome.and_then(|w| w.into_answer()))
            .collect()
    }

    async fn record_prompt_event(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
        kind: PromptEventKind,
    ) -> Result<Option<RecordedEvent>, StoreError> {
        let write = Write::PromptEvent(PromptEventWrite {
            site_id: site_id.to_owned(),
            user_id: user_id.to_owned(),
            question_set: question_set.to_owned(),
            version,
            key: key.to_owned(),
            kind,
        });
        self.write(write).await?.into_prompt_event()
    }

    async fn user_being_asked(
        &self,
        site_id: &str,
        user_id: &str,
        question_set: &str,
        version: i64,
        key: &str,
    ) -> Result<Option<AskedUser>, StoreError> {
        if let Some(reader) = &self.reader_apart
            && let Some(read) = reader
                .user_being_asked(site_id, user_id, question_set, version, key)
                .await
        {
            return read;
        }
        let sql = user_being_asked_sql(D::FLAVOUR);
        let row: Option<AskedUserRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .bind(user_id)
            .bind(question_set)
            .bind(version)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(AskedUserRow::into_asked).transpose()
    }
}

/// The user about to answer a question (site `$1`, user `$2`, set `$3`, version `$4`,
/// key `$5`): `user_with_history_sql` and the column `shown_unanswered`, whether the
/// question was shown to them and not answered since.
pub(in crate::store) fn user_being_asked_sql(flavour: Flavour) -> String {
    user_with_history_sql(flavour, &shown_unanswered_column("$3", "$4", "$5"))
}

/// The column `shown_unanswered` of [`user_being_asked_sql`] (", … AS shown_unanswered"),
/// for the question at the SQL expressions `set`, `version` and `key`.
pub(in crate::store) fn shown_unanswered_column(set: &str, version: &str, key: &str) -> String {
    format!(
        ", EXISTS (SELECT 1 FROM prompt_events shown \
         WHERE shown.site_id = users.site_id AND shown.user_id = users.user_id \
         AND shown.question_set = {set} AND shown.version = {version} AND shown.key = {key} \
         AND shown.kind = 'impression' \
         AND NOT EXISTS (SELECT 1 FROM prompt_events answered \
           WHERE answered.site_id = shown.site_id AND answered.user_id = shown.user_id \
           AND answered.question_set = shown.question_set AND answered.key = shown.key \
           AND answered.kind = 'answered' AND answered.id > shown.id)) \
         AS shown_unanswered"
    )
}

/// The statements of one answer, on a connection inside a transaction (or a savepoint of
/// one): the value into `user_metadata`, the answer with its source, the `answered`
/// event at the user's login count, the follow-up jobs. `None` if no such user.
pub(super) async fn write_answer<D>(
    conn: &mut Connection<D>,
    write: &AnswerWrite,
) -> Result<Option<User>, StoreError>
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
    let AnswerWrite {
        site_id,
        user_id,
        answer,
        limits,
        follow_ups,
    } = write;
    let edit = |user_metadata: &mut Value, _: &mut Value| answer_into(user_metadata, answer);
    let Some(user) = SqlStore::<D>::edit_in(conn, site_id, user_id, &edit, *limits).await? else {
        return Ok(None);
    };
    let at = Utc::now();
    sqlx::query(KEEP_ANSWER)
        .bind(site_id.as_str())
        .bind(user_id.as_str())
        .bind(answer.key.as_str())
        .bind(answer.question_set.as_str())
        .bind(answer.version)
        .bind(Json(&answer.value))
        .bind(user.login_count)
        .bind(D::timestamp(at))
        .execute(&mut *conn)
        .await?;
    sqlx::query(INSERT_ANSWERED_EVENT)
        .bind(site_id.as_str())
        .bind(user_id.as_str())
        .bind(answer.question_set.as_str())
        .bind(answer.version)
        .bind(answer.key.as_str())
        .bind(user.login_count)
        .bind(D::timestamp(at))
        .bind(D::timestamp(user.last_login_at))
        .execute(&mut *conn)
        .await?;
    insert_jobs::<D>(conn, site_id, follow_ups).await?;
    Ok(Some(user))
}

/// The statements of one prompt event, on a connection inside a transaction (or a
/// savepoint of one): the event at the user's login count, once per user, question,
/// login and kind (`prompt_events_once_per_login`: a repeat changes nothing), and for a
/// new impression the user's `last_prompted_at`. `None` if no such user.
pub(super) async fn write_prompt_event<D>(
    conn: &mut Connection<D>,
    event: &PromptEventWrite,
) -> Result<Option<RecordedEvent>, StoreError>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    <Db<D> as Database>::Arguments: IntoArguments<Db<D>>,
    for<'q> &'q str: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'q> i64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'r> DateTime<Utc>: Decode<'r, Db<D>> + Type<Db<D>>,
    usize: ColumnIndex<Row<D>>,
{
    let at = Utc::now();
    // The user's login count and last login, which the event belongs to.
    let login: Option<(i64, DateTime<Utc>)> = sqlx::query_as(LOGIN_OF_USER)
        .bind(event.site_id.as_str())
        .bind(event.user_id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let Some((login_count, login_at)) = login else {
        return Ok(None);
    };
    let inserted = sqlx::query(INSERT_PROMPT_EVENT)
        .bind(event.site_id.as_str())
        .bind(event.user_id.as_str())
        .bind(event.question_set.as_str())
        .bind(event.version)
        .bind(event.key.as_str())
        .bind(event.kind.as_str())
        .bind(login_count)
        .bind(D::timestamp(at))
        .bind(D::timestamp(login_at))
        .execute(&mut *conn)
        .await?;
    let new = D::rows_affected(&inserted) > 0;
    if event.kind == PromptEventKind::Impression && new {
        sqlx::query(SET_LAST_PROMPTED)
            .bind(D::timestamp(at))
            .bind(event.site_id.as_str())
            .bind(event.user_id.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(Some(RecordedEvent { login_count, new }))
}

/// An answer's value, written into the user's metadata at its key.
pub(in crate::store) fn answer_into(user_metadata: &mut Value, answer: &NewAnswer) {
    if let Value::Object(map) = user_metadata {
        set_path(map, &answer.key, answer.value.clone());
    }
}

/// Keeps an answer with its source (`$1` site, `$2` user, `$3` key, `$4` question set,
/// `$5` version, `$6` value, `$7` login count, `$8` now), over an earlier one of its key.
pub(in crate::store) const KEEP_ANSWER: &str = "INSERT INTO answers (site_id, user_id, key, question_set, version, value, \
     login_count, answered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (site_id, user_id, key) DO UPDATE SET \
     question_set = excluded.question_set, version = excluded.version, \
     value = excluded.value, login_count = excluded.login_count, \
     answered_at = excluded.answered_at";

/// An answer's `answered` event (`$1` site, `$2` user, `$3` question set, `$4` version,
/// `$5` key, `$6` login count, `$7` now, `$8` the login's time).
pub(in crate::store) const INSERT_ANSWERED_EVENT: &str = "INSERT INTO prompt_events (site_id, user_id, question_set, version, key, kind, \
     login_count, created_at, login_at) VALUES ($1, $2, $3, $4, $5, 'answered', $6, $7, $8)";

/// The user's login count and last login, which a prompt event belongs to (`$1` site,
/// `$2` user).
pub(in crate::store) const LOGIN_OF_USER: &str =
    "SELECT login_count, last_login_at FROM users WHERE site_id = $1 AND user_id = $2";

/// A prompt event (`$1` site, `$2` user, `$3` question set, `$4` version, `$5` key, `$6`
/// kind, `$7` login count, `$8` now, `$9` the login's time), once per user, question,
/// login and kind (`prompt_events_once_per_login`: a repeat changes nothing).
pub(in crate::store) const INSERT_PROMPT_EVENT: &str = "INSERT INTO prompt_events (site_id, user_id, question_set, version, key, kind, \
     login_count, created_at, login_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT DO NOTHING";

/// A new impression's time on its user (`$1` now, `$2` site, `$3` user).
pub(in crate::store) const SET_LAST_PROMPTED: &str =
    "UPDATE users SET last_prompted_at = $1 WHERE site_id = $2 AND user_id = $3";
