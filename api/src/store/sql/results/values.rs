//! The SQL of a results page's answer cards: counts per value, a number question's
//! summary and histogram, a date question's years and the page of answers, each over
//! `answers a` restricted by the page's [`ResultsScope`].

use super::scope::{Bind, Binds, scope_sql};
use crate::model::results::ResultsScope;
use crate::store::Dialect;
use crate::store::dialect::Flavour;

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

/// Answers per key and value, for `keys`.
pub(super) fn value_counts_sql<D: Dialect>(
    scope: &ResultsScope,
    keys: &[String],
    binds: &mut Binds,
) -> String {
    let filter = scope_sql::<D>(scope, "a", "answered_at", binds);
    let keys: Vec<String> = keys.iter().map(|k| binds.text(k)).collect();
    format!(
        "SELECT a.key, a.value, COUNT(*) FROM answers a WHERE {filter} \
         AND a.key IN ({}) GROUP BY a.key, a.value",
        keys.join(", ")
    )
}

/// The count, minimum, maximum and sum of a key's numeric answers.
pub(super) fn number_summary_sql<D: Dialect>(
    scope: &ResultsScope,
    key: &str,
    binds: &mut Binds,
) -> String {
    let filter = scope_sql::<D>(scope, "a", "answered_at", binds);
    let key = binds.text(key);
    let number = number_of::<D>();
    format!(
        "SELECT COUNT({number}), MIN({number}), MAX({number}), SUM({number}) \
         FROM answers a WHERE {filter} AND a.key = {key}"
    )
}

/// A key's numeric answers per bucket of `width` from `start` (bucket 0 holds `start`).
pub(super) fn number_buckets_sql<D: Dialect>(
    scope: &ResultsScope,
    key: &str,
    (start, width): (f64, f64),
    binds: &mut Binds,
) -> String {
    let filter = scope_sql::<D>(scope, "a", "answered_at", binds);
    let key = binds.text(key);
    let start = binds.push(Bind::Real(start));
    let width = binds.push(Bind::Real(width));
    let number = number_of::<D>();
    let bucket = match D::FLAVOUR {
        Flavour::Sqlite => format!("CAST(({number} - {start}) / {width} AS INTEGER)"),
        Flavour::Postgres => format!("CAST(FLOOR(({number} - {start}) / {width}) AS BIGINT)"),
    };
    format!(
        "SELECT {bucket} AS bucket, COUNT(*) FROM answers a WHERE {filter} AND a.key = {key} \
         AND {number} IS NOT NULL GROUP BY 1 ORDER BY 1"
    )
}

/// A key's text answers per first four characters (a date's year).
pub(super) fn years_sql<D: Dialect>(scope: &ResultsScope, key: &str, binds: &mut Binds) -> String {
    let filter = scope_sql::<D>(scope, "a", "answered_at", binds);
    let key = binds.text(key);
    let text = text_of::<D>();
    format!(
        "SELECT substr({text}, 1, 4) AS year, COUNT(*) FROM answers a WHERE {filter} \
         AND a.key = {key} AND {text} IS NOT NULL GROUP BY 1 ORDER BY 1"
    )
}

/// A page of answers in (key, user) byte order, after the cursor, of `key` or all keys.
pub(super) fn answers_page_sql<D: Dialect>(
    scope: &ResultsScope,
    key: Option<&str>,
    after: Option<(&str, &str)>,
    limit: u32,
    binds: &mut Binds,
) -> String {
    let mut filter = scope_sql::<D>(scope, "a", "answered_at", binds);
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
    format!(
        "SELECT a.user_id, a.key, a.value, a.version, a.answered_at FROM answers a \
         WHERE {filter} ORDER BY {key_order}, {user_order} LIMIT {limit}"
    )
}
