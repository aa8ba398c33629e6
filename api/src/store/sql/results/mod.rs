//! A question set's results, aggregated in the database: every query is a `GROUP BY`
//! over `answers` (alias `a`) or `prompt_events` (alias `e`) restricted by one
//! [`ResultsScope`] — site, set, version, time range, and the users filter (`scope.rs`):
//! a semi-join on the site's users matching the profile condition (compiled by
//! `condition/`) and holding the answer the `answer` filter names, or those users listed
//! once found.

mod per_user;
mod scope;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::{Connection, Db, Row, SqlStore, utc_day};
use crate::model::results::{
    AnswerCounts, EventGroup, GroupedOutcomes, GroupedUsers, ListedUsers, NumberSummary,
    OutcomeGroups, ResultAnswer, ResultsScope, UsersCondition, UsersFilter,
};
use crate::store::dialect::Flavour;
use crate::store::{Dialect, ResultsStore, StoreError};
use scope::{Bind, Binds, bind_all, scope_sql, users_condition_sql, users_predicate};

/// An answer's value as a number (`NULL` when it is not one).
fn number_of<D: Dialect>() -> &'static str {
    match D::FLAVOUR {
        Flavour::Sqlite => {
            "CASE WHEN json_type(a.value) IN ('integer', 'real') \
             THEN CAST(json_extract(a.value, '$') AS REAL) END"
        }
        Flavour::Postgres => {
            "CASE WHEN jsonb_typeof(a.value) = 'number' THEN (a.value #>> '{}')::float8 END"
        }
    }
}

/// An answer's value as text (`NULL` when it is not a string).
fn text_of<D: Dialect>() -> &'static str {
    match D::FLAVOUR {
        Flavour::Sqlite => {
            "CASE WHEN json_type(a.value) = 'text' THEN json_extract(a.value, '$') END"
        }
        Flavour::Postgres => "CASE WHEN jsonb_typeof(a.value) = 'string' THEN a.value #>> '{}' END",
    }
}

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
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut binds = Binds::default();
        let site = binds.text(&scope.site_id);
        // Within dates or a version, a user counts at the highest login number they were
        // seen at in them (0 if never seen there), read from their logins and the set's
        // prompt events.
        let (users, reached) =
            if scope.from.is_some() || scope.until.is_some() || scope.version.is_some() {
                let live = scope.version.is_some();
                let seen = seen_in_scope(scope, &site, live, &mut binds);
                let users = format!(
                    "users u LEFT JOIN (SELECT s.user_id, MAX(s.login_count) AS reached \
                 FROM {seen} GROUP BY s.user_id) r ON r.user_id = u.user_id"
                );
                (users, "COALESCE(r.reached, 0)")
            } else {
                ("users u".to_owned(), "u.login_count")
            };
        let filter = match &scope.users {
            Some(UsersFilter::Matching(condition)) => {
                users_condition_sql::<D>(scope, condition, "u.user_id", &mut binds)
            }
            Some(listed) => users_predicate::<D>(scope, "u.user_id", listed, &mut binds),
            None => "(1=1)".to_owned(),
        };
        let sql = format!(
            "SELECT {reached}, COUNT(*) FROM {users} WHERE u.site_id = {site} AND {filter} \
             GROUP BY {reached} ORDER BY {reached}"
        );
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        Ok(bind_all!(D, query, binds).fetch_all(&self.pool).await?)
    }

    async fn results_eligible_by_version(
        &self,
        scope: &ResultsScope,
        first_stages: &[(i64, u32)],
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        if first_stages.is_empty() {
            return Ok(Vec::new());
        }
        let mut binds = Binds::default();
        let site = binds.text(&scope.site_id);
        let seen = seen_in_scope(scope, &site, true, &mut binds);
        let mut stage = "CASE s.version".to_owned();
        for (version, at_login) in first_stages {
            let version = binds.push(Bind::Int(*version));
            let at_login = binds.push(Bind::Int(i64::from(*at_login)));
            stage.push_str(&format!(" WHEN {version} THEN {at_login}"));
        }
        stage.push_str(" END");
        let mut filter = format!("s.login_count >= {stage}");
        if let Some(users) = &scope.users {
            filter.push_str(" AND ");
            filter.push_str(&users_predicate::<D>(scope, "s.user_id", users, &mut binds));
        }
        let sql = format!(
            "SELECT s.version, COUNT(DISTINCT s.user_id) FROM {seen} WHERE {filter} \
             GROUP BY s.version ORDER BY s.version"
        );
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        Ok(bind_all!(D, query, binds).fetch_all(&self.pool).await?)
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
            // Grouped by the columns themselves, which SQLite's indexes on (set, version,
            // kind, user) and (set, key, kind, user) then deliver in order.
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
        // Byte order: PostgreSQL's distinct count sorts, and a byte sort is 2.4 times as
        // fast as the database's collation on a million user ids.
        let user = D::FLAVOUR.in_byte_order("e.user_id");
        let sql = format!(
            "SELECT {expression} AS grp, e.kind, COUNT(DISTINCT {user}) FROM prompt_events e \
             WHERE {filter} GROUP BY {grouped}"
        );
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
        let filter = scope_sql::<D>(scope, "a", "answered_at", &mut binds);
        let keys: Vec<String> = keys.iter().map(|k| binds.text(k)).collect();
        let sql = format!(
            "SELECT a.key, a.value, COUNT(*) FROM answers a WHERE {filter} \
             AND a.key IN ({}) GROUP BY a.key, a.value",
            keys.join(", ")
        );
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
        let filter = scope_sql::<D>(scope, "a", "answered_at", &mut binds);
        let key = binds.text(key);
        let number = number_of::<D>();
        let sql = format!(
            "SELECT COUNT({number}), MIN({number}), MAX({number}), SUM({number}) \
             FROM answers a WHERE {filter} AND a.key = {key}"
        );
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
        let filter = scope_sql::<D>(scope, "a", "answered_at", &mut binds);
        let key = binds.text(key);
        let start = binds.push(Bind::Real(start));
        let width = binds.push(Bind::Real(width));
        let number = number_of::<D>();
        let bucket = match D::FLAVOUR {
            Flavour::Sqlite => format!("CAST(({number} - {start}) / {width} AS INTEGER)"),
            Flavour::Postgres => format!("CAST(FLOOR(({number} - {start}) / {width}) AS BIGINT)"),
        };
        let sql = format!(
            "SELECT {bucket} AS bucket, COUNT(*) FROM answers a WHERE {filter} AND a.key = {key} \
             AND {number} IS NOT NULL GROUP BY 1 ORDER BY 1"
        );
        let query = sqlx::query_as(sqlx::AssertSqlSafe(&*sql));
        Ok(bind_all!(D, query, binds).fetch_all(&self.pool).await?)
    }

    async fn results_years(
        &self,
        scope: &ResultsScope,
        key: &str,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut binds = Binds::default();
        let filter = scope_sql::<D>(scope, "a", "answered_at", &mut binds);
        let key = binds.text(key);
        let text = text_of::<D>();
        let sql = format!(
            "SELECT substr({text}, 1, 4) AS year, COUNT(*) FROM answers a WHERE {filter} \
             AND a.key = {key} AND {text} IS NOT NULL GROUP BY 1 ORDER BY 1"
        );
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
        let mut filter = scope_sql::<D>(scope, "a", "answered_at", &mut binds);
        let key_order = D::FLAVOUR.in_byte_order("a.key");
        let user_order = D::FLAVOUR.in_byte_order("a.user_id");
        if let Some(key) = key {
            filter.push_str(&format!(" AND a.key = {}", binds.text(key)));
        }
        if let Some((after_key, after_user)) = after {
            let k1 = binds.text(after_key);
            let k2 = binds.text(after_key);
            let user = binds.text(after_user);
            filter.push_str(&format!(
                " AND ({key_order} > {k1} OR (a.key = {k2} AND {user_order} > {user}))"
            ));
        }
        let limit = binds.push(Bind::Int(i64::from(limit)));
        let sql = format!(
            "SELECT a.user_id, a.key, a.value, a.version, a.answered_at FROM answers a \
             WHERE {filter} ORDER BY {key_order}, {user_order} LIMIT {limit}"
        );
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

/// Where the scope's users were seen, with their login count then: the site's logins
/// within the scope's dates (with `live`, only those while a version of the set was
/// live, the scope's version else any, each joined to the live period it falls in;
/// periods never overlap), and the set's prompt events in the scope's dates and version
/// (a user shown a question was there, whether or not they logged in). A subquery
/// (alias `s`) of `user_id, login_count` and, with `live`, `version`.
fn seen_in_scope(scope: &ResultsScope, site: &str, live: bool, binds: &mut Binds) -> String {
    let set = binds.text(&scope.question_set);
    let mut logins = vec![format!("l.site_id = {site}")];
    let mut prompts = vec![
        format!("e.site_id = {site}"),
        format!("e.question_set = {set}"),
    ];
    if let Some(from) = scope.from {
        let from = binds.push(Bind::Time(from));
        logins.push(format!("l.occurred_at >= {from}"));
        prompts.push(format!("e.created_at >= {from}"));
    }
    if let Some(until) = scope.until {
        let until = binds.push(Bind::Time(until));
        logins.push(format!("l.occurred_at < {until}"));
        prompts.push(format!("e.created_at < {until}"));
    }
    let (logins, version) = if live {
        let mut periods = format!("p.site_id = {site} AND p.slug = {set}");
        if let Some(version) = scope.version {
            let version = binds.push(Bind::Int(version));
            periods.push_str(&format!(" AND p.version = {version}"));
            prompts.push(format!("e.version = {version}"));
        }
        let logins = format!(
            "SELECT l.user_id, l.login_count, p.version FROM question_set_live_periods p \
             JOIN login_events l ON l.site_id = p.site_id AND l.occurred_at >= p.live_from \
             AND (p.live_until IS NULL OR l.occurred_at < p.live_until) \
             WHERE {periods} AND {}",
            logins.join(" AND ")
        );
        (logins, ", e.version")
    } else {
        let logins = format!(
            "SELECT l.user_id, l.login_count FROM login_events l WHERE {}",
            logins.join(" AND ")
        );
        (logins, "")
    };
    format!(
        "({logins} UNION ALL SELECT e.user_id, e.login_count{version} FROM prompt_events e \
         WHERE {}) s",
        prompts.join(" AND ")
    )
}
