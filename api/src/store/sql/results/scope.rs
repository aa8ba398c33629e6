//! A [`ResultsScope`] as SQL: the placeholders' values of a statement being written,
//! the scope as a predicate over `answers` or `prompt_events`, and its users filter as a
//! semi-join on the site's matching users or on their ids listed once.

use chrono::{DateTime, Utc};

use crate::model::results::{AnswerCondition, ResultsScope, UsersCondition, UsersFilter};
use crate::store::Dialect;
use crate::store::dialect::Flavour;
use crate::store::sql::condition::{Arg, Predicate, compile, compile_answer};

/// A value bound to a placeholder.
pub(super) enum Bind {
    Text(String),
    Int(i64),
    Real(f64),
    Time(DateTime<Utc>),
}

/// The placeholders' values of a statement being written, in order.
#[derive(Default)]
pub(super) struct Binds(pub(super) Vec<Bind>);

impl Binds {
    pub(super) fn push(&mut self, bind: Bind) -> String {
        self.0.push(bind);
        format!("${}", self.0.len())
    }

    pub(super) fn text(&mut self, text: &str) -> String {
        self.push(Bind::Text(text.to_owned()))
    }
}

macro_rules! bind_all {
    ($dialect:ty, $query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds.0 {
            query = match bind {
                Bind::Text(text) => query.bind(text),
                Bind::Int(int) => query.bind(int),
                Bind::Real(real) => query.bind(real),
                Bind::Time(at) => query.bind(<$dialect>::timestamp(at)),
            };
        }
        query
    }};
}
pub(super) use bind_all;

/// The scope as a predicate over `alias` (`a` answers, `e` prompt events), whose time
/// column is `time`.
pub(super) fn scope_sql<D: Dialect>(
    scope: &ResultsScope,
    alias: &str,
    time: &str,
    binds: &mut Binds,
) -> String {
    let mut parts = vec![
        format!("{alias}.site_id = {}", binds.text(&scope.site_id)),
        format!("{alias}.question_set = {}", binds.text(&scope.question_set)),
    ];
    if let Some(version) = scope.version {
        parts.push(format!(
            "{alias}.version = {}",
            binds.push(Bind::Int(version))
        ));
    }
    if let Some(from) = scope.from {
        parts.push(format!(
            "{alias}.{time} >= {}",
            binds.push(Bind::Time(from))
        ));
    }
    if let Some(until) = scope.until {
        parts.push(format!(
            "{alias}.{time} < {}",
            binds.push(Bind::Time(until))
        ));
    }
    if let Some(users) = &scope.users {
        let column = format!("{alias}.user_id");
        parts.push(users_predicate::<D>(scope, &column, users, binds));
    }
    parts.join(" AND ")
}

/// `column` (a user id) restricted to the scope's users. A condition's users are found
/// once per query (a semi-join), not once per row: `EXISTS` per row cost 1.6–1.8 times
/// as much on both databases. A list is bound as one JSON array, so its length meets no
/// limit on placeholders.
pub(super) fn users_predicate<D: Dialect>(
    scope: &ResultsScope,
    column: &str,
    users: &UsersFilter,
    binds: &mut Binds,
) -> String {
    match users {
        UsersFilter::Matching(condition) => {
            let site = binds.text(&scope.site_id);
            let predicate = users_condition_sql::<D>(scope, condition, "u.user_id", binds);
            format!(
                "{column} IN (SELECT u.user_id FROM users u WHERE u.site_id = {site} \
                 AND {predicate})"
            )
        }
        UsersFilter::Listed(listed) => {
            let ids = binds.push(Bind::Text(listed.ids_json.to_string()));
            match D::FLAVOUR {
                Flavour::Sqlite => format!("{column} IN (SELECT value FROM json_each({ids}))"),
                // An array made once per query (an init plan) that an index scan takes
                // whole: 2.4 times as fast as `IN` over the set-returning function, which
                // PostgreSQL joins row by row (83,000 ids, `EXPLAIN ANALYZE`).
                Flavour::Postgres => format!(
                    "{column} = ANY(ARRAY(SELECT jsonb_array_elements_text(CAST({ids} AS jsonb))))"
                ),
            }
        }
    }
}

/// The users conditions as one predicate over a `users` row whose id is `user_id`: the
/// profile condition (its unqualified columns read `users`), and a semi-join on the
/// set's answers to the question the answer condition names, which an index of the
/// answers by set, key and value serves.
pub(super) fn users_condition_sql<D: Dialect>(
    scope: &ResultsScope,
    condition: &UsersCondition,
    user_id: &str,
    binds: &mut Binds,
) -> String {
    let mut parts = Vec::new();
    if let Some(profile) = &condition.profile {
        let predicate = compile(profile, D::FLAVOUR, scope.now, binds.0.len() + 1);
        parts.push(bound(predicate, binds));
    }
    if let Some(AnswerCondition { key, value }) = &condition.answer {
        let site = binds.text(&scope.site_id);
        let set = binds.text(&scope.question_set);
        let key = binds.text(key);
        let predicate = compile_answer(value, D::FLAVOUR, scope.now, binds.0.len() + 1);
        let value = bound(predicate, binds);
        parts.push(format!(
            "{user_id} IN (SELECT a.user_id FROM answers a WHERE a.site_id = {site} \
             AND a.question_set = {set} AND a.key = {key} AND {value})"
        ));
    }
    if parts.is_empty() {
        "(1=1)".to_owned()
    } else {
        parts.join(" AND ")
    }
}

/// A compiled predicate's SQL, its values pushed after those already bound.
fn bound(predicate: Predicate, binds: &mut Binds) -> String {
    for arg in predicate.args {
        binds.0.push(match arg {
            Arg::Text(text) => Bind::Text(text),
            Arg::Real(real) => Bind::Real(real),
            Arg::Time(at) => Bind::Time(at),
        });
    }
    predicate.sql
}
