//! A condition of the `when` language compiled to a SQL predicate over a `users` row,
//! with the evaluator's semantics exactly (`questions::condition`), on both databases.
//!
//! - A metadata value is read by its JSON type: `json_type`/`json_extract`/`json_each`
//!   on SQLite, `jsonb_typeof`/`->`/`jsonb_array_elements` on PostgreSQL (walked key by
//!   key with `->`, so a segment such as `0` never indexes an array, as in Rust).
//!   On PostgreSQL, `equals`/`in`/`contains` on strings and booleans are containment of
//!   the whole column instead (`user_metadata @> '{"a":{"b":"x"}}'`), a tenth of the
//!   cost at a million users (`docs/performance.md`). On SQLite, `exists` and
//!   `equals`/`in`/`contains` on strings compare one `json_extract` with the operand and
//!   read the type only where that leaves it open (`sqlite_short.rs`).
//! - Numbers compare as 64-bit floats, strings in byte order (`COLLATE "C"`), booleans
//!   by JSON type, never across types. Missing, `null` and `""` are "no value".
//! - Whole numbers of days or years become ranges of what they count from
//!   (`whole_numbers.rs`): `days_since_first_login` / `days_since_last_login` ranges of
//!   the stored timestamps around bound cut-offs (`now` minus whole days), so an index
//!   can serve them; `since` ranges of the value's leading `YYYY-MM-DD`, compared as
//!   text with cut-off dates worked out in Rust, after a validity test on text alone (no
//!   date arithmetic per row; an invalid or future date has no value, and nothing can
//!   raise a SQL error whatever the data). `login_count` is compared as a number.
//!
//! Every predicate is true or false, never NULL, so `NOT` is exact. Paths are
//! validated profile paths (`[A-Za-z0-9_-]` segments) and are written into the SQL;
//! every operand is bound.

use chrono::{DateTime, Utc};
use serde_json::Value;
use std::cell::Cell;

use crate::questions::condition::{Condition, Operator};
use crate::questions::dates::Since;
use crate::questions::paths::{ProfilePath, is_key_path};
use crate::store::dialect::Flavour;

mod answers;
mod containment;
mod json_reads;
mod sqlite_short;
mod whole_numbers;

/// A value bound to a placeholder of a compiled predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Real(f64),
    Time(DateTime<Utc>),
}

/// A SQL boolean expression with the values of its placeholders, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    pub sql: String,
    pub args: Vec<Arg>,
}

/// Compiles `condition` as evaluated at `now`; its placeholders are numbered from
/// `first_placeholder` (`$N`).
pub fn compile(
    condition: &Condition,
    flavour: Flavour,
    now: DateTime<Utc>,
    first_placeholder: usize,
) -> Predicate {
    compile_reading(condition, flavour, now, first_placeholder, Values::Profile)
}

/// Compiles a condition on an answer's value (every key stands for it, as
/// [`crate::model::results::AnswerCondition`] writes it) to a predicate over the
/// `answers` row aliased `a`, with the same meaning as on a profile value.
pub fn compile_answer(
    condition: &Condition,
    flavour: Flavour,
    now: DateTime<Utc>,
    first_placeholder: usize,
) -> Predicate {
    compile_reading(condition, flavour, now, first_placeholder, Values::Answer)
}

fn compile_reading(
    condition: &Condition,
    flavour: Flavour,
    now: DateTime<Utc>,
    first_placeholder: usize,
    values: Values,
) -> Predicate {
    let mut compiler = Compiler {
        flavour,
        now,
        next: first_placeholder,
        args: Vec::new(),
        reads_type: Cell::new(false),
        values,
    };
    let sql = compiler.condition(condition);
    Predicate {
        sql,
        args: compiler.args,
    }
}

/// What a condition's keys read.
#[derive(Clone, Copy)]
enum Values {
    /// The `users` row: its metadata and login columns.
    Profile,
    /// The value of the `answers` row aliased `a`, whatever the key.
    Answer,
}

const FALSE: &str = "(1=0)";
const TRUE: &str = "(1=1)";

struct Compiler {
    flavour: Flavour,
    now: DateTime<Utc>,
    next: usize,
    args: Vec<Arg>,
    /// Whether the leaf being compiled read `j.t` (SQLite), so [`read_once`] reads it.
    reads_type: Cell<bool>,
    values: Values,
}

/// Where a JSON value is read from.
pub(super) enum Json {
    /// A metadata column and a key path (SQLite: `'$."a"."b"'`), read once by
    /// [`read_once`] as `j.v` (its SQL value) and, where a leaf tests it, `j.t` (its
    /// JSON type).
    At { column: &'static str, path: String },
    /// The current element of `json_each` (SQLite) aliased `e`.
    SqliteElement,
    /// A `jsonb` expression (PostgreSQL).
    Jsonb(String),
}

impl Compiler {
    fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        let placeholder = format!("${}", self.next);
        self.next += 1;
        placeholder
    }

    fn condition(&mut self, condition: &Condition) -> String {
        match condition {
            Condition::All { all } => self.join(all, " AND ", TRUE),
            Condition::Any { any } => self.join(any, " OR ", FALSE),
            Condition::Not { not } => format!("(NOT {})", self.condition(not)),
            Condition::Compare { key, since, op } => {
                let leaf = self.compare(key, *since, op);
                format!("COALESCE({leaf}, {FALSE})")
            }
        }
    }

    fn join(&mut self, list: &[Condition], with: &str, empty: &str) -> String {
        let parts = list.iter().map(|c| self.condition(c)).collect();
        joined(parts, with, empty)
    }

    fn compare(&mut self, key: &str, since: Option<Since>, op: &Operator) -> String {
        if let Values::Answer = self.values {
            return self.answer_value(since, op);
        }
        let Some(path) = ProfilePath::parse(key) else {
            return FALSE.to_owned();
        };
        match (path, since) {
            (ProfilePath::LoginCount, _) => self.number_column("login_count", op),
            (ProfilePath::DaysSinceFirstLogin, _) => self.days_since("first_login_at", op),
            (ProfilePath::DaysSinceLastLogin, _) => self.days_since("last_login_at", op),
            (ProfilePath::User(k), since) => self.metadata("user_metadata", k, since, op),
            (ProfilePath::App(k), since) => self.metadata("app_metadata", k, since, op),
        }
    }

    // ---- metadata values -------------------------------------------------------------

    fn metadata(
        &mut self,
        column: &'static str,
        key: &str,
        since: Option<Since>,
        op: &Operator,
    ) -> String {
        debug_assert!(is_key_path(key), "profile paths are validated");
        let json = match self.flavour {
            Flavour::Sqlite => {
                let quoted: Vec<String> = key.split('.').map(|s| format!("\"{s}\"")).collect();
                Json::At {
                    column,
                    path: format!("$.{}", quoted.join(".")),
                }
            }
            Flavour::Postgres => {
                let steps: String = key.split('.').map(|s| format!(" -> '{s}'")).collect();
                Json::Jsonb(format!("{column}{steps}"))
            }
        };
        if let (None, Flavour::Postgres) = (since, self.flavour)
            && let Some(containment) = self.contained(column, key, op)
        {
            return containment;
        }
        self.value_leaf(json, since, op)
    }

    /// `op` (with `since`, on a date's age) on one JSON value, by the general form or,
    /// where one applies, SQLite's short form.
    pub(super) fn value_leaf(&mut self, json: Json, since: Option<Since>, op: &Operator) -> String {
        if let (None, Json::At { column, path }) = (since, &json)
            && let Some(short) = self.sqlite_short(column, path, op)
        {
            return short;
        }
        self.reads_type.set(false);
        let leaf = match since {
            None => self.json_operator(&json, op),
            Some(unit) => self.since_date(&json, unit, op),
        };
        match json {
            Json::At { column, path } => read_once(column, &path, &leaf, self.reads_type.get()),
            _ => leaf,
        }
    }

    fn json_operator(&mut self, json: &Json, op: &Operator) -> String {
        let has = self.has_value(json);
        match op {
            Operator::Exists(true) => has,
            Operator::Exists(false) => format!("(NOT {has})"),
            Operator::Equals(x) => format!("({has} AND {})", self.matches(json, x)),
            Operator::NotEquals(x) => format!("(NOT ({has} AND {}))", self.matches(json, x)),
            Operator::In(xs) => format!("({has} AND {})", self.matches_any(json, xs)),
            Operator::NotIn(xs) => format!("(NOT ({has} AND {}))", self.matches_any(json, xs)),
            Operator::Gte(x) => format!("({has} AND {})", self.ordered(json, x, ">=")),
            Operator::Lte(x) => format!("({has} AND {})", self.ordered(json, x, "<=")),
            Operator::Contains(x) => {
                let element = self.any_element(json, x);
                format!("({has} AND {} AND {element})", self.is_type(json, "array"))
            }
            Operator::HasOther(true) => self.has_other(json),
            Operator::HasOther(false) => format!("(NOT {})", self.has_other(json)),
        }
    }

    /// A free "Other" answer (an object with an `other` key) or a list holding one;
    /// never NULL.
    fn has_other(&self, json: &Json) -> String {
        match json {
            Json::At { column, path } => format!(
                "(CASE {} WHEN 'object' THEN json_type(j.v, '$.other') IS NOT NULL \
                 WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each({column}, '{path}') AS e \
                 WHERE e.type = 'object' AND json_type(e.value, '$.other') IS NOT NULL) \
                 ELSE {FALSE} END)",
                self.type_of(json)
            ),
            Json::Jsonb(expr) => format!(
                "(CASE jsonb_typeof({expr}) WHEN 'object' THEN ({expr} -> 'other') IS NOT NULL \
                 WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements({expr}) AS e(v) \
                 WHERE jsonb_typeof(e.v) = 'object' AND (e.v -> 'other') IS NOT NULL) \
                 ELSE {FALSE} END)"
            ),
            Json::SqliteElement => FALSE.to_owned(),
        }
    }

    fn matches_any(&mut self, json: &Json, xs: &[Value]) -> String {
        let parts = xs.iter().map(|x| self.matches(json, x)).collect();
        joined(parts, " OR ", FALSE)
    }

    /// Equal to `x`, or a list with an element equal to it.
    fn matches(&mut self, json: &Json, x: &Value) -> String {
        let equal = self.scalar_equal(json, x);
        let element = self.any_element(json, x);
        format!(
            "({equal} OR ({} AND {element}))",
            self.is_type(json, "array")
        )
    }

    fn any_element(&mut self, json: &Json, x: &Value) -> String {
        match (self.flavour, json) {
            (Flavour::Sqlite, Json::At { column, path }) => {
                let equal = self.scalar_equal(&Json::SqliteElement, x);
                format!("EXISTS (SELECT 1 FROM json_each({column}, '{path}') AS e WHERE {equal})")
            }
            (Flavour::Postgres, Json::Jsonb(expr)) => {
                let equal = self.scalar_equal(&Json::Jsonb("e.v".into()), x);
                format!(
                    "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({expr}) = \
                     'array' THEN {expr} ELSE '[]'::jsonb END) AS e(v) WHERE {equal})"
                )
            }
            _ => FALSE.to_owned(),
        }
    }

    /// The value (not a list's element) equals the scalar `x`, types matching.
    fn scalar_equal(&mut self, json: &Json, x: &Value) -> String {
        match x {
            Value::String(s) => {
                let arg = self.bind(Arg::Text(s.clone()));
                let text = self.text(json);
                format!("({} AND {text} = {arg})", self.is_type(json, "string"))
            }
            Value::Number(n) => {
                let arg = self.bind(Arg::Real(n.as_f64().unwrap_or(f64::NAN)));
                format!(
                    "({} AND {})",
                    self.is_type(json, "number"),
                    self.real_cmp(json, "=", &arg)
                )
            }
            Value::Bool(b) => self.is_type(json, if *b { "true" } else { "false" }),
            _ => FALSE.to_owned(),
        }
    }

    /// `gte`/`lte`: numbers numerically, strings in byte order, other types never.
    fn ordered(&mut self, json: &Json, x: &Value, cmp: &str) -> String {
        match x {
            Value::Number(n) => {
                let arg = self.bind(Arg::Real(n.as_f64().unwrap_or(f64::NAN)));
                format!(
                    "({} AND {})",
                    self.is_type(json, "number"),
                    self.real_cmp(json, cmp, &arg)
                )
            }
            Value::String(s) => {
                let arg = self.bind(Arg::Text(s.clone()));
                let text = self.flavour.in_byte_order(&self.text(json));
                format!("({} AND {text} {cmp} {arg})", self.is_type(json, "string"))
            }
            _ => FALSE.to_owned(),
        }
    }

    // ---- built-in numbers ---------------------------------------------------------------

    fn number_column(&mut self, column: &str, op: &Operator) -> String {
        self.integer_operator(&format!("CAST({column} AS REAL)"), op)
    }

    /// An operator on an integer expression that is NULL when there is no value.
    fn integer_operator(&mut self, value: &str, op: &Operator) -> String {
        let has = format!("({value} IS NOT NULL)");
        let equal = |this: &mut Self, x: &Value| match x.as_f64() {
            Some(r) if x.is_number() => {
                let arg = this.bind(Arg::Real(r));
                format!("({value} = {arg})")
            }
            _ => FALSE.to_owned(),
        };
        match op {
            Operator::Exists(true) => has,
            Operator::Exists(false) => format!("(NOT {has})"),
            Operator::Equals(x) => format!("({has} AND {})", equal(self, x)),
            Operator::NotEquals(x) => format!("(NOT ({has} AND {}))", equal(self, x)),
            Operator::In(xs) | Operator::NotIn(xs) => {
                let parts = xs.iter().map(|x| equal(self, x)).collect();
                let any = joined(parts, " OR ", FALSE);
                let inside = format!("({has} AND {any})");
                match op {
                    Operator::In(_) => inside,
                    _ => format!("(NOT {inside})"),
                }
            }
            Operator::Gte(x) | Operator::Lte(x) => match x.as_f64() {
                Some(r) if x.is_number() => {
                    let arg = self.bind(Arg::Real(r));
                    let cmp = if matches!(op, Operator::Gte(_)) {
                        ">="
                    } else {
                        "<="
                    };
                    format!("({has} AND {value} {cmp} {arg})")
                }
                _ => FALSE.to_owned(),
            },
            Operator::Contains(_) | Operator::HasOther(true) => FALSE.to_owned(),
            Operator::HasOther(false) => TRUE.to_owned(),
        }
    }
}

/// SQLite: `leaf`, which reads the value at `path` of `column` as `j.v` and, if
/// `with_type`, `j.t`, with each read once per row (a leaf tests its type and text up to
/// twenty times; each `json_type`/`json_extract` finds the path again).
fn read_once(column: &str, path: &str, leaf: &str, with_type: bool) -> String {
    let kind = if with_type {
        format!("json_type({column}, '{path}') AS t, ")
    } else {
        String::new()
    };
    format!("(SELECT {leaf} FROM (SELECT {kind}json_extract({column}, '{path}') AS v) AS j)")
}

/// `parts` joined by `with` in parentheses, or `empty` when there are none.
fn joined(parts: Vec<String>, with: &str, empty: &str) -> String {
    if parts.is_empty() {
        empty.to_owned()
    } else {
        format!("({})", parts.join(with))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_reads_strings_and_booleans_by_containment() {
        let c = crate::questions::parse_condition_json(&serde_json::json!(
            {"all": [{"key": "prefs.sport", "equals": "run"},
                     {"key": "interests", "contains": "fitness"},
                     {"key": "nick", "not_in": ["", true]},
                     {"key": "age", "equals": 3}]}
        ))
        .unwrap();
        let p = compile(&c, Flavour::Postgres, Utc::now(), 1);
        let documents: Vec<&Arg> = p.args.iter().take(5).collect();
        let text = |s: &str| Arg::Text(s.to_owned());
        assert_eq!(
            documents,
            [
                &text(r#"{"prefs":{"sport":"run"}}"#),
                &text(r#"{"prefs":{"sport":["run"]}}"#),
                &text(r#"{"interests":["fitness"]}"#),
                &text(r#"{"nick":[""]}"#),
                &text(r#"{"nick":true}"#),
            ]
        );
        assert_eq!(p.sql.matches("user_metadata @> ").count(), 6);
        // A number keeps the general form (floats, not jsonb's numeric equality).
        assert!(p.sql.contains("jsonb_typeof(user_metadata -> 'age')"));
    }

    #[test]
    fn operands_are_bound_and_placeholders_numbered() {
        let c = crate::questions::parse_condition_json(&serde_json::json!(
            {"all": [{"key": "role", "equals": "x'); DROP TABLE users; --"},
                     {"key": "age", "gte": 3},
                     {"key": "born", "since": "days", "equals": -1},
                     {"key": "born", "since": "years", "gte": 5000},
                     {"key": "born", "since": "years", "lte": 40}]}
        ))
        .unwrap();
        let p = compile(&c, Flavour::Postgres, Utc::now(), 4);
        assert!(!p.sql.contains("DROP"));
        assert!(p.sql.contains("$4") && p.sql.contains("$5") && p.sql.contains("$6"));
        assert_eq!(p.args.len(), p.sql.matches('$').count());
    }

    #[test]
    fn postgres_reads_a_keys_text_in_one_step_and_a_whole_document_as_before() {
        let c = crate::questions::parse_condition_json(&serde_json::json!(
            {"key": "prefs.born", "since": "years", "gte": 20}
        ))
        .unwrap();
        let profile = compile(&c, Flavour::Postgres, Utc::now(), 1).sql;
        assert!(profile.contains("(user_metadata -> 'prefs' ->> 'born')"));
        assert!(!profile.contains("#>>"), "{profile}");

        let answer = compile_answer(&c, Flavour::Postgres, Utc::now(), 1).sql;
        assert!(answer.contains("(a.value #>> '{}')"), "{answer}");
        assert!(!answer.contains("->>"), "{answer}");
    }
}
