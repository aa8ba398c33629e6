//! PostgreSQL's widget writes (answers, impressions, skips, dismissals), a batch at a
//! time and set-based
//! ([decision 0014](../../../../docs/decisions/0014-postgres-answer-batches.md)).
//!
//! An answer alone is a transaction of six round trips or more (begin; the user, locked;
//! their metadata; the answer; its `answered` event; each job; commit), and on two cores PostgreSQL
//! spent most of its time on statements, not rows: 2,000 answers a second. Here the
//! group commit hands over every answer waiting at that moment, and the batch is four
//! round trips, however many answers it holds: begin; every user of the batch, locked,
//! in one statement; their metadata, the answers, the events and the follow-up jobs in
//! one statement of data-modifying `WITH` clauses over arrays; commit. Each answer is
//! edited into its user's metadata here, in order, with the limits checked as the shared
//! path checks them (`edit_in`): an answer over a limit is refused alone and writes
//! nothing. The batch's prompt events are one more statement, before the answers'
//! ([`super::prompt_events`]).

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use std::collections::{HashMap, HashSet};

use super::prompt_events::{UserKey, write_events};
use crate::model::{PromptEventKind, User};
use crate::store::dialect::Flavour;
use crate::store::sql::{
    BatchOutcome, PromptEventWrite, UserRow, Write, WriterApart, Written, answer_into,
    check_limits, user_columns,
};
use crate::store::{AnswerWrite, StoreError};

/// Writes the group commit's answers and prompt events; the store's own transaction
/// writes its logins.
pub(super) struct WidgetWriter {
    pool: PgPool,
}

impl WidgetWriter {
    pub(super) fn new(pool: PgPool) -> Self {
        WidgetWriter { pool }
    }
}

#[async_trait]
impl WriterApart for WidgetWriter {
    fn takes(&self, write: &Write) -> bool {
        matches!(write, Write::Answer(_) | Write::PromptEvent(_))
    }

    async fn write_apart(&self, writes: Vec<Write>) -> Result<BatchOutcome, StoreError> {
        let (mut answers, mut events) = (Vec::new(), Vec::new());
        for (at, write) in writes.iter().enumerate() {
            match write {
                Write::Answer(answer) => answers.push((at, answer)),
                Write::PromptEvent(event) => events.push((at, event)),
                Write::Login(_) => {
                    return Err(StoreError::Shared(
                        "PostgreSQL's widget writer was handed a login".into(),
                    ));
                }
            }
        }
        let mut tx = self.pool.begin().await?;
        let keys = answers
            .iter()
            .map(|(_, a)| (a.site_id.as_str(), a.user_id.as_str()))
            .chain(
                events
                    .iter()
                    .map(|(_, e)| (e.site_id.as_str(), e.user_id.as_str())),
            );
        let mut users = locked_users(&mut tx, keys).await?;
        // Once the users are locked (as the one-answer path takes the time after its
        // lock), so that nothing written to them before has a later time; in
        // microseconds, as PostgreSQL keeps them, so the users returned are as stored.
        let now = Utc::now().trunc_subsecs(6);
        let mut outcomes: Vec<Option<Result<Written, StoreError>>> =
            writes.iter().map(|_| None).collect();
        // The prompt events before the answers, so that an impression and the answer to
        // it in one batch keep that order of ids (`user_being_asked_sql` compares them),
        // and a user's new impression is in the user an answer returns.
        let event_writes: Vec<&PromptEventWrite> = events.iter().map(|(_, e)| *e).collect();
        let recorded = write_events(&mut tx, &users, &event_writes, now).await?;
        for ((at, event), recorded) in events.iter().zip(recorded) {
            let new_impression = event.kind == PromptEventKind::Impression
                && recorded.as_ref().is_some_and(|r| r.new);
            if new_impression
                && let Some(user) = users.get_mut(&(event.site_id.clone(), event.user_id.clone()))
            {
                user.last_prompted_at = Some(now);
            }
            outcomes[*at] = Some(Ok(Written::PromptEvent(recorded)));
        }
        let mut rows = BatchRows::default();
        for (at, answer) in &answers {
            outcomes[*at] = Some(rows.edit(&mut users, answer, now));
        }
        if !rows.answers.is_empty() {
            rows.write(&mut tx, &users, now).await?;
        }
        tx.commit().await?;
        Ok(outcomes
            .into_iter()
            .map(|outcome| outcome.expect("every write has its outcome"))
            .collect())
    }
}

/// Every user the writes are about, locked until the batch commits, in byte order of
/// site and user (the order in which the group commit's logins lock them, so that
/// batches wait for each other rather than deadlock).
async fn locked_users<'k>(
    tx: &mut PgConnection,
    keys: impl Iterator<Item = (&'k str, &'k str)>,
) -> Result<HashMap<UserKey, User>, StoreError> {
    let (sites, user_ids): (Vec<&str>, Vec<&str>) =
        keys.collect::<HashSet<_>>().into_iter().unzip();
    let columns = user_columns(Flavour::Postgres);
    let sql = format!(
        "SELECT users.site_id, {columns} FROM unnest($1::text[], $2::text[]) \
         AS wanted(site_id, user_id) JOIN users USING (site_id, user_id) \
         ORDER BY users.site_id COLLATE \"C\", users.user_id COLLATE \"C\" FOR UPDATE OF users"
    );
    let rows: Vec<SiteUserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(sites)
        .bind(user_ids)
        .fetch_all(&mut *tx)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let user = User::from(row.user);
            ((row.site_id, user.user_id.clone()), user)
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct SiteUserRow {
    site_id: String,
    #[sqlx(flatten)]
    user: UserRow,
}

/// What a batch writes: the users edited and the answers accepted.
#[derive(Default)]
struct BatchRows<'a> {
    /// Users whose metadata an answer changed, each once, in the order first changed.
    edited: Vec<UserKey>,
    /// The accepted answers in order, each with its user's login count and last login
    /// (the login the answer belongs to).
    answers: Vec<(&'a AnswerWrite, i64, DateTime<Utc>)>,
}

impl<'a> BatchRows<'a> {
    /// Edits the answer into its user's metadata, unless that leaves the metadata over a
    /// limit (refused alone: the error) or there is no such user (`None`).
    fn edit(
        &mut self,
        users: &mut HashMap<UserKey, User>,
        answer: &'a AnswerWrite,
        now: DateTime<Utc>,
    ) -> Result<Written, StoreError> {
        let key = (answer.site_id.clone(), answer.user_id.clone());
        let Some(user) = users.get_mut(&key) else {
            return Ok(Written::Answer(None));
        };
        let mut user_metadata = user.user_metadata.clone();
        answer_into(&mut user_metadata, &answer.answer);
        check_limits(&user_metadata, &user.app_metadata, answer.limits)?;
        user.user_metadata = user_metadata;
        user.updated_at = now;
        if !self.edited.contains(&key) {
            self.edited.push(key);
        }
        self.answers
            .push((answer, user.login_count, user.last_login_at));
        Ok(Written::Answer(Some(user.clone())))
    }

    /// Writes the batch in one statement: the users' metadata, the answers (the last of
    /// each user and key, over an earlier one), an `answered` event for each answer in
    /// order, and the jobs the answers cause.
    async fn write(
        &self,
        tx: &mut PgConnection,
        users: &HashMap<UserKey, User>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut edited = UserColumns::default();
        for key in &self.edited {
            let user = &users[key];
            edited.site_ids.push(&key.0);
            edited.user_ids.push(&key.1);
            edited.user_metadata.push(Json(&user.user_metadata));
            edited.app_metadata.push(Json(&user.app_metadata));
        }
        let mut kept = AnswerColumns::default();
        let mut last_of_key = HashSet::new();
        for (write, login_count, _) in self.answers.iter().rev() {
            if last_of_key.insert((&write.site_id, &write.user_id, &write.answer.key)) {
                kept.push(write, *login_count, None);
            }
        }
        let mut events = AnswerColumns::default();
        let mut jobs = JobColumns::default();
        for (write, login_count, login_at) in &self.answers {
            events.push(write, *login_count, Some(*login_at));
            for job in &write.follow_ups {
                jobs.site_ids.push(&write.site_id);
                jobs.ids.push(&job.id);
                jobs.kinds.push(job.kind);
                jobs.payloads.push(Json(&job.payload));
                jobs.max_attempts.push(job.max_attempts);
                jobs.run_at.push(job.run_at);
                jobs.dedupe_keys.push(job.dedupe_key.as_deref());
                jobs.user_ids.push(job.user_id.as_deref());
            }
        }
        sqlx::query(WRITE_ANSWERS)
            .bind(now)
            .bind(edited.site_ids)
            .bind(edited.user_ids)
            .bind(edited.user_metadata)
            .bind(edited.app_metadata)
            .bind(kept.site_ids)
            .bind(kept.user_ids)
            .bind(kept.keys)
            .bind(kept.question_sets)
            .bind(kept.versions)
            .bind(kept.values)
            .bind(kept.login_counts)
            .bind(events.site_ids)
            .bind(events.user_ids)
            .bind(events.question_sets)
            .bind(events.versions)
            .bind(events.keys)
            .bind(events.login_counts)
            .bind(events.login_at)
            .bind(jobs.site_ids)
            .bind(jobs.ids)
            .bind(jobs.kinds)
            .bind(jobs.payloads)
            .bind(jobs.max_attempts)
            .bind(jobs.run_at)
            .bind(jobs.dedupe_keys)
            .bind(jobs.user_ids)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

/// Edited users, a column each.
#[derive(Default)]
struct UserColumns<'a> {
    site_ids: Vec<&'a str>,
    user_ids: Vec<&'a str>,
    user_metadata: Vec<Json<&'a Value>>,
    app_metadata: Vec<Json<&'a Value>>,
}

/// Answers (for the answers table) or their events, a column each.
#[derive(Default)]
struct AnswerColumns<'a> {
    site_ids: Vec<&'a str>,
    user_ids: Vec<&'a str>,
    keys: Vec<&'a str>,
    question_sets: Vec<&'a str>,
    versions: Vec<i64>,
    values: Vec<Json<&'a Value>>,
    login_counts: Vec<i64>,
    login_at: Vec<DateTime<Utc>>,
}

impl<'a> AnswerColumns<'a> {
    fn push(&mut self, write: &'a AnswerWrite, login_count: i64, login_at: Option<DateTime<Utc>>) {
        self.site_ids.push(&write.site_id);
        self.user_ids.push(&write.user_id);
        self.keys.push(&write.answer.key);
        self.question_sets.push(&write.answer.question_set);
        self.versions.push(write.answer.version);
        self.values.push(Json(&write.answer.value));
        self.login_counts.push(login_count);
        self.login_at.extend(login_at);
    }
}

/// Follow-up jobs, a column each.
#[derive(Default)]
struct JobColumns<'a> {
    site_ids: Vec<&'a str>,
    ids: Vec<&'a str>,
    kinds: Vec<&'static str>,
    payloads: Vec<Json<&'a Value>>,
    max_attempts: Vec<i64>,
    run_at: Vec<DateTime<Utc>>,
    dedupe_keys: Vec<Option<&'a str>>,
    user_ids: Vec<Option<&'a str>>,
}

/// One batch's writes (`$1` now): users' metadata (`$2`–`$5`: site, user, user's, app's),
/// answers over earlier ones of their key (`$6`–`$12`: site, user, key, set, version,
/// value, login count; as `KEEP_ANSWER`), `answered` events in order (`$13`–`$19`: site,
/// user, set, version, key, login count, login time; as `INSERT_ANSWERED_EVENT`), jobs
/// unless their dedupe key is queued (`$20`–`$27`; as `INSERT_JOB`). PostgreSQL runs
/// every data-modifying `WITH` clause whether or not the statement reads it.
const WRITE_ANSWERS: &str = "WITH edited AS (\
       UPDATE users SET user_metadata = e.user_metadata, app_metadata = e.app_metadata, \
       updated_at = $1 \
       FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::jsonb[]) \
         AS e(site_id, user_id, user_metadata, app_metadata) \
       WHERE users.site_id = e.site_id AND users.user_id = e.user_id), \
     kept AS (\
       INSERT INTO answers (site_id, user_id, key, question_set, version, value, \
         login_count, answered_at) \
       SELECT a.*, $1 FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], \
         $10::int8[], $11::jsonb[], $12::int8[]) AS a \
       ON CONFLICT (site_id, user_id, key) DO UPDATE SET \
       question_set = excluded.question_set, version = excluded.version, \
       value = excluded.value, login_count = excluded.login_count, \
       answered_at = excluded.answered_at), \
     answered AS (\
       INSERT INTO prompt_events (site_id, user_id, question_set, version, key, kind, \
         login_count, created_at, login_at) \
       SELECT site_id, user_id, question_set, version, key, 'answered', login_count, $1, \
         login_at \
       FROM unnest($13::text[], $14::text[], $15::text[], $16::int8[], $17::text[], \
         $18::int8[], $19::timestamptz[]) WITH ORDINALITY \
         AS e(site_id, user_id, question_set, version, key, login_count, login_at, n) \
       ORDER BY n) \
     INSERT INTO jobs (site_id, id, kind, payload, status, attempts, max_attempts, run_at, \
       dedupe_key, created_at, updated_at, user_id) \
     SELECT site_id, id, kind, payload, 'queued', 0, max_attempts, run_at, dedupe_key, \
       $1, $1, user_id \
     FROM unnest($20::text[], $21::text[], $22::text[], $23::jsonb[], $24::int8[], \
       $25::timestamptz[], $26::text[], $27::text[]) \
       AS j(site_id, id, kind, payload, max_attempts, run_at, dedupe_key, user_id) \
     ON CONFLICT (site_id, dedupe_key) WHERE status = 'queued' DO NOTHING";

#[cfg(test)]
mod tests;
