//! A question set's results, aggregated in the database: every query is a `GROUP BY`
//! over `answers` (alias `a`) or `prompt_events` (alias `e`) restricted by one
//! [`ResultsScope`] — site, set, version, time range, and the users filter (`scope.rs`):
//! a semi-join on the site's users matching the profile condition (compiled by
//! `condition/`) and holding the answer the `answer` filter names, or those users listed
//! once found.

mod per_user;
mod reach;
mod scope;
mod values;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};

use super::{Connection, Db, Row, SqlStore, utc_day};
use crate::model::results::{
    AnswerCounts, EventGroup, GroupedOutcomes, GroupedUsers, ListedUsers, LivePeriod,
    NumberSummary, OutcomeGroups, ResultAnswer, ResultsScope, UsersCondition, UsersFilter,
};
use crate::store::dialect::Flavour;
use crate::store::{Dialect, ResultsStore, StoreError};
use reach::{
    NO_FILTER, add_reached, closed_reach_sql, first_logins_sql, histogram, open_reach_sql,
    prompted_only_sql, single_closed_window,
};
use scope::{Bind, Binds, bind_all, scope_sql, users_condition_sql, users_predicate};

#[async_trait]
impl<D> ResultsStore for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    <Db<D> as Database>::Arguments: IntoArguments<Db<D>>,
    for<'q> &'q str: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'q> f64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> i64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> String: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'r> Json<Value>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> DateTime<Utc>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> &'r str: ColumnIndex<Row<D>>,
    usize: ColumnIndex<Row<D>>,
{
    async fn results_login_histogram(
        &self,
        scope: &ResultsScope,
        stages: &[u32],
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        if !scope.dated() && scope.version.is_none() {
            let mut binds = Binds::default();
            let site = binds.text(&scope.site_id);
            let filter = users_filter::<D>(scope, &mut binds);
            let sql = format!(
                "SELECT u.login_count, COUNT(*) FROM users u \
                 WHERE u.site_id = {site} AND {filter} GROUP BY 1 ORDER BY 1"
            );
            let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
            return Ok(bind_all!(D, query, binds).fetch_all(&self.pool).await?);
        }
        // Within dates or a version, a user counts at the highest login number they were
        // seen at in them (0 if never seen there): see `reach.rs`.
        let mut binds = Binds::default();
        let site = binds.text(&scope.site_id);
        let filter = users_filter::<D>(scope, &mut binds);
        let sql = open_reach_sql::<D>(scope, scope.version, stages, (&site, &filter), &mut binds);
        let row = bind_all!(D, sqlx::query(sqlx::AssertSqlSafe(&*sql)), binds)
            .fetch_one(&self.pool)
            .await?;
        let users: i64 = row.try_get(0)?;
        // Users at or past each stage, the open window's, then the closed windows' added.
        let mut at_least: Vec<(i64, i64)> = Vec::new();
        for (i, stage) in stages.iter().enumerate() {
            at_least.push((i64::from(*stage), row.try_get(i + 1)?));
        }

        let mut binds = Binds::default();
        let site = binds.text(&scope.site_id);
        let closed = match single_closed_window(scope, scope.version) {
            Some(window) if !stages.is_empty() => {
                // Its logins in one scan (no open window, so these are all the logins).
                let mut login_binds = Binds::default();
                let login_site = login_binds.text(&scope.site_id);
                let filter = users_filter::<D>(scope, &mut login_binds);
                let sql =
                    first_logins_sql(&window, stages, (&login_site, &filter), &mut login_binds);
                let row = bind_all!(D, sqlx::query(sqlx::AssertSqlSafe(&*sql)), login_binds)
                    .fetch_one(&self.pool)
                    .await?;
                for (i, (_, count)) in at_least.iter_mut().enumerate() {
                    *count += row.try_get::<i64, _>(i)?;
                }
                Some(prompted_only_sql(
                    scope,
                    scope.version,
                    &window,
                    &site,
                    &mut binds,
                ))
            }
            _ => closed_reach_sql::<D>(scope, scope.version, &site, &mut binds),
        };
        if let Some(closed) = closed {
            let filter = users_filter::<D>(scope, &mut binds);
            let sql = format!("{closed} AND {filter} GROUP BY 1");
            let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
            let closed: Vec<(i64, i64)> = bind_all!(D, query, binds).fetch_all(&self.pool).await?;
            add_reached(&mut at_least, &closed);
        }
        Ok(histogram(users, &at_least))
    }

    async fn results_eligible_by_version(
        &self,
        scope: &ResultsScope,
        first_stages: &[(i64, u32)],
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut eligible = Vec::new();
        for (version, at_login) in first_stages {
            let live = scope.periods.iter().any(|p| p.version == *version);
            if !live || scope.version.is_some_and(|v| v != *version) {
                continue;
            }
            let of_version = ResultsScope {
                version: Some(*version),
                ..scope.clone()
            };
            let users: i64 = self
                .results_login_histogram(&of_version, &[*at_login])
                .await?
                .into_iter()
                .filter(|(reached, _)| *reached >= i64::from(*at_login))
                .map(|(_, users)| users)
                .sum();
            if users > 0 {
                eligible.push((*version, users));
            }
        }
        Ok(eligible)
    }

    async fn results_live_periods(
        &self,
        site_id: &str,
        slug: &str,
    ) -> Result<Vec<LivePeriod>, StoreError> {
        let rows: Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT version, live_from, live_until FROM question_set_live_periods \
             WHERE site_id = $1 AND slug = $2 ORDER BY live_from, version",
        )
        .bind(site_id)
        .bind(slug)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version, from, until)| LivePeriod {
                version,
                from,
                until,
            })
            .collect())
    }

    async fn results_matching_users(
        &self,
        scope: &ResultsScope,
        condition: &UsersCondition,
        limit: u32,
    ) -> Result<ListedUsers, StoreError> {
        let mut binds = Binds::default();
        let site = binds.text(&scope.site_id);
        let predicate = users_condition_sql::<D>(scope, condition, "users.user_id", &mut binds);
        let limit = binds.push(Bind::Int(i64::from(limit)));
        // One row: the ids as the JSON array each query binds (read as rows, 50,000 ids
        // took 0.2 s more than the scan on SQLite), and the users per login count, which
        // a page without dates would otherwise probe the users again for (0.17 s on
        // SQLite, 0.4 s on PostgreSQL for 83,334 users; 0.03 s here).
        let (ids, counts) = match D::FLAVOUR {
            Flavour::Sqlite => (
                "json_group_array(user_id)",
                "json_group_array(json_array(login_count, users))",
            ),
            Flavour::Postgres => (
                "COALESCE(json_agg(user_id), '[]'::json)::text",
                "COALESCE(json_agg(json_build_array(login_count, users)), '[]'::json)::text",
            ),
        };
        let sql = format!(
            "WITH m AS MATERIALIZED (SELECT user_id, login_count FROM users \
             WHERE site_id = {site} AND {predicate} LIMIT {limit}) \
             SELECT (SELECT COUNT(*) FROM m), (SELECT {ids} FROM m), \
             (SELECT {counts} FROM (SELECT login_count, COUNT(*) AS users FROM m \
             GROUP BY login_count) AS h)"
        );
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        let (count, ids_json, counts_json): (i64, String, String) =
            bind_all!(D, query, binds).fetch_one(&self.pool).await?;
        let mut login_counts: Vec<(i64, i64)> = serde_json::from_str(&counts_json)
            .map_err(|e| StoreError::Corrupt(format!("users per login count: {e}")))?;
        login_counts.sort_unstable();
        Ok(ListedUsers {
            count: usize::try_from(count).unwrap_or(0),
            ids_json: ids_json.into(),
            login_counts: Some(login_counts),
        })
    }

    async fn results_outcomes_per_user(
        &self,
        scope: &ResultsScope,
        groups: &OutcomeGroups,
    ) -> Result<GroupedOutcomes, StoreError> {
        let mut binds = Binds::default();
        let sql = per_user::signatures_sql::<D>(scope, groups, &mut binds);
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        let signatures: Vec<(String, i64)> =
            bind_all!(D, query, binds).fetch_all(&self.pool).await?;
        Ok(per_user::grouped(groups, &signatures))
    }

    /// Listed users; on PostgreSQL a dated scope too, where one pass took the month's
    /// groupings at 1,000,000 users in 275–367 ms against 229–240 + 265 ms for the
    /// distinct users per kind and per key (PostgreSQL 15 sorts inside each distinct
    /// count). Undated scopes read SQLite's and PostgreSQL's indexes in order per
    /// grouping, and one pass over every event was no faster there.
    fn results_in_one_pass(&self, scope: &ResultsScope) -> bool {
        matches!(scope.users, Some(UsersFilter::Listed(_)))
            || (scope.dated() && D::FLAVOUR == Flavour::Postgres)
    }

    async fn results_answer_counts(
        &self,
        scope: &ResultsScope,
        keys: &[String],
    ) -> Result<AnswerCounts, StoreError> {
        let mut binds = Binds::default();
        let sql = per_user::answer_counts_sql::<D>(scope, keys, &mut binds);
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        let rows: Vec<(String, Option<Json<Value>>, i64)> =
            bind_all!(D, query, binds).fetch_all(&self.pool).await?;
        Ok(per_user::answer_counts(
            rows.into_iter()
                .map(|(k, v, n)| (k, v.map(|v| v.0), n))
                .collect(),
        ))
    }

    async fn results_event_users(
        &self,
        scope: &ResultsScope,
        group: &EventGroup,
    ) -> Result<Vec<GroupedUsers>, StoreError> {
        let mut binds = Binds::default();
        let mut filter = scope_sql::<D>(scope, "e", "created_at", &mut binds);
        let (expression, grouped) = match group {
            EventGroup::Total => ("''".to_owned(), "e.kind".to_owned()),
            // Grouped by the columns themselves, which the indexes on (set, key, kind,
            // user) and, on SQLite, (set, version, kind, user) then deliver in order.
            EventGroup::Version => (
                "CAST(e.version AS TEXT)".to_owned(),
                "e.version, e.kind".to_owned(),
            ),
            EventGroup::Key => ("e.key".to_owned(), "e.key, e.kind".to_owned()),
            EventGroup::Stage(stages) => {
                let mut cases = String::from("CASE");
                for (at_login, keys) in stages {
                    if keys.is_empty() {
                        continue;
                    }
                    let keys: Vec<String> = keys.iter().map(|k| binds.text(k)).collect();
                    cases.push_str(&format!(
                        " WHEN e.key IN ({}) THEN '{at_login}'",
                        keys.join(", ")
                    ));
                }
                cases.push_str(" END");
                // Only the stages' own events are read (a range of the key index each).
                let keys: Vec<String> = stages
                    .iter()
                    .flat_map(|(_, keys)| keys)
                    .map(|k| binds.text(k))
                    .collect();
                if !keys.is_empty() {
                    filter.push_str(&format!(" AND e.key IN ({})", keys.join(", ")));
                }
                (cases, "1, 2".to_owned())
            }
        };
        // Byte order, as the indexes keep user ids (and a byte comparison is 2.4 times as
        // fast as the database's collation on a million user ids).
        let user = D::FLAVOUR.in_byte_order("e.user_id");
        // PostgreSQL's `COUNT(DISTINCT …)` sorts its input again whatever the index
        // (version 15; at 1,000,000 events the sort spilled to disk), and any index in
        // kind order will do for it (one read with the heap took 2 s). Per kind and per
        // key, groups of (group, kind, user) stream over the index on (set, kind, user)
        // or (set, key, kind, user) alone and skip repeats in order: 0.57–0.60 s ->
        // 0.35–0.41 s per kind, 0.66–0.69 s -> 0.52–0.54 s per key. PostgreSQL has no
        // index in the order of the versions' or the stages' groups, so those keep the
        // distinct count; so does SQLite, which counts distinct values in index order
        // as they stream by (the grouped form took its unfiltered page from 0.86 s to
        // 1.37 s).
        let streamed =
            D::FLAVOUR == Flavour::Postgres && matches!(group, EventGroup::Total | EventGroup::Key);
        let sql = if streamed {
            format!(
                "SELECT grp, kind, COUNT(*) FROM (SELECT {expression} AS grp, e.kind AS kind, \
                 {user} AS u FROM prompt_events e WHERE {filter} GROUP BY {grouped}, 3) d \
                 GROUP BY grp, kind"
            )
        } else {
            format!(
                "SELECT {expression} AS grp, e.kind, COUNT(DISTINCT {user}) \
                 FROM prompt_events e WHERE {filter} GROUP BY {grouped}"
            )
        };
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        let rows: Vec<(Option<String>, String, i64)> =
            bind_all!(D, query, binds).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(group, kind, users)| Some(GroupedUsers::new(group?, kind, users)))
            .collect())
    }

    async fn results_answer_totals(
        &self,
        scope: &ResultsScope,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut binds = Binds::default();
        let filter = scope_sql::<D>(scope, "a", "answered_at", &mut binds);
        let sql = format!("SELECT a.key, COUNT(*) FROM answers a WHERE {filter} GROUP BY a.key");
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        Ok(bind_all!(D, query, binds).fetch_all(&self.pool).await?)
    }

    async fn results_value_counts(
        &self,
        scope: &ResultsScope,
        keys: &[String],
    ) -> Result<Vec<(String, Value, i64)>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut binds = Binds::default();
        let sql = values::value_counts_sql::<D>(scope, keys, &mut binds);
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        let rows: Vec<(String, Json<Value>, i64)> =
            bind_all!(D, query, binds).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(k, v, n)| (k, v.0, n)).collect())
    }

    async fn results_number_summary(
        &self,
        scope: &ResultsScope,
        key: &str,
    ) -> Result<Option<NumberSummary>, StoreError> {
        let mut binds = Binds::default();
        let sql = values::number_summary_sql::<D>(scope, key, &mut binds);
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        let (count, min, max, sum): (i64, Option<f64>, Option<f64>, Option<f64>) =
            bind_all!(D, query, binds).fetch_one(&self.pool).await?;
        Ok(match (min, max, sum) {
            (Some(min), Some(max), Some(sum)) if count > 0 => Some(NumberSummary {
                count,
                min,
                max,
                sum,
            }),
            _ => None,
        })
    }

    async fn results_number_buckets(
        &self,
        scope: &ResultsScope,
        key: &str,
        start: f64,
        width: f64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut binds = Binds::default();
        let sql = values::number_buckets_sql::<D>(scope, key, (start, width), &mut binds);
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        Ok(bind_all!(D, query, binds).fetch_all(&self.pool).await?)
    }

    async fn results_years(
        &self,
        scope: &ResultsScope,
        key: &str,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut binds = Binds::default();
        let sql = values::years_sql::<D>(scope, key, &mut binds);
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        Ok(bind_all!(D, query, binds).fetch_all(&self.pool).await?)
    }

    async fn results_answers(
        &self,
        scope: &ResultsScope,
        key: Option<&str>,
        after: Option<(&str, &str)>,
        limit: u32,
    ) -> Result<Vec<ResultAnswer>, StoreError> {
        let mut binds = Binds::default();
        let sql = values::answers_page_sql::<D>(scope, key, after, limit, &mut binds);
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        let rows: Vec<(String, String, Json<Value>, i64, DateTime<Utc>)> =
            bind_all!(D, query, binds).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(user_id, key, value, version, answered_at)| ResultAnswer {
                user_id,
                key,
                value: value.0,
                version,
                answered_at,
            })
            .collect())
    }

    async fn results_answers_per_day(
        &self,
        scope: &ResultsScope,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut binds = Binds::default();
        let filter = scope_sql::<D>(scope, "e", "created_at", &mut binds);
        let day = utc_day(D::FLAVOUR, "e.created_at");
        let sql = format!(
            "SELECT {} AS day, COUNT(*) FROM prompt_events e WHERE {filter} \
             AND e.kind = 'answered' GROUP BY {} ORDER BY 1",
            day.text, day.group
        );
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        Ok(bind_all!(D, query, binds).fetch_all(&self.pool).await?)
    }
}

/// The scope's users filter as a predicate over `users u` (`(1=1)` without one).
fn users_filter<D: Dialect>(scope: &ResultsScope, binds: &mut Binds) -> String {
    match &scope.users {
        Some(UsersFilter::Matching(condition)) => {
            users_condition_sql::<D>(scope, condition, "u.user_id", binds)
        }
        Some(listed) => users_predicate::<D>(scope, "u.user_id", listed, binds),
        None => NO_FILTER.to_owned(),
    }
}
