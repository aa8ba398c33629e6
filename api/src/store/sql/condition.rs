//! A condition of the `when` language compiled to a SQL predicate over a `users` row,
//! with the evaluator's semantics exactly (`questions::condition`), on both databases.
//!
//! - A metadata value is read by its JSON type: `json_type`/`json_extract`/`json_each`
//!   on SQLite, `jsonb_typeof`/`->`/`jsonb_array_elements` on PostgreSQL (walked key by
//!   key with `->`, so a segment such as `0` never indexes an array, as in Rust).
//! - Numbers compare as 64-bit floats, strings in byte order (`COLLATE "C"`), booleans
//!   by JSON type, never across types. Missing, `null` and `""` are "no value".
//! - `days_since_first_login` / `days_since_last_login` become ranges of the stored
//!   timestamps around bound cut-offs (`now` minus whole days), so an index can serve
//!   them; `login_count` is compared as a number.
//! - `since` reads a `YYYY-MM-DD…` text with integer arithmetic only (a day number by
//!   the civil-calendar formula), so an invalid date has no value and nothing can
//!   raise a SQL error whatever the data.
//!
//! Every predicate is true or false, never NULL, so `NOT` is exact. Paths are
//! validated profile paths (`[A-Za-z0-9_-]` segments) and are written into the SQL;
//! every operand is bound.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::Value;

use crate::questions::condition::{Condition, Operator};
use crate::questions::dates::Since;
use crate::questions::paths::{ProfilePath, is_key_path};
use crate::store::dialect::Flavour;

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
    let mut compiler = Compiler {
        flavour,
        now,
        next: first_placeholder,
        args: Vec::new(),
    };
    let sql = compiler.condition(condition);
    Predicate {
        sql,
        args: compiler.args,
    }
}

const FALSE: &str = "(1=0)";
const TRUE: &str = "(1=1)";

struct Compiler {
    flavour: Flavour,
    now: DateTime<Utc>,
    next: usize,
    args: Vec<Arg>,
}

/// Where a JSON value is read from.
enum Json {
    /// A metadata column and a key path (SQLite: `json_type(col, '$."a"."b"')`).
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
        match since {
            None => self.json_operator(&json, op),
            Some(unit) => {
                let measured = self.measured(&json, unit);
                self.integer_operator(&measured, op)
            }
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
                let text = self.text(json);
                let collate = match self.flavour {
                    Flavour::Sqlite => "",
                    Flavour::Postgres => " COLLATE \"C\"",
                };
                format!(
                    "({} AND {text}{collate} {cmp} {arg})",
                    self.is_type(json, "string")
                )
            }
            _ => FALSE.to_owned(),
        }
    }

    fn has_value(&mut self, json: &Json) -> String {
        let kind = self.type_of(json);
        let text = self.text(json);
        format!(
            "({kind} IS NOT NULL AND {kind} <> 'null' AND NOT ({} AND {text} = ''))",
            self.is_type(json, "string")
        )
    }

    /// The JSON type name as the database writes it (`NULL` when missing).
    fn type_of(&self, json: &Json) -> String {
        match json {
            Json::At { column, path } => format!("json_type({column}, '{path}')"),
            Json::SqliteElement => "e.type".into(),
            Json::Jsonb(expr) => format!("jsonb_typeof({expr})"),
        }
    }

    /// Whether the value is of a type: `string`, `number`, `true`, `false`, `array`.
    fn is_type(&self, json: &Json, kind: &str) -> String {
        let of = self.type_of(json);
        match (self.flavour, kind) {
            (Flavour::Sqlite, "string") => format!("({of} = 'text')"),
            (Flavour::Sqlite, "number") => format!("({of} IN ('integer', 'real'))"),
            (Flavour::Sqlite, other) => format!("({of} = '{other}')"),
            (Flavour::Postgres, "true" | "false") => {
                format!(
                    "({of} = 'boolean' AND {} = '{kind}'::jsonb)",
                    self.jsonb(json)
                )
            }
            (Flavour::Postgres, other) => format!("({of} = '{other}')"),
        }
    }

    fn jsonb(&self, json: &Json) -> String {
        match json {
            Json::Jsonb(expr) => expr.clone(),
            _ => "NULL".into(),
        }
    }

    /// The value as SQL text (meaningful for JSON strings).
    fn text(&self, json: &Json) -> String {
        match json {
            Json::At { column, path } => format!("json_extract({column}, '{path}')"),
            Json::SqliteElement => "e.value".into(),
            Json::Jsonb(expr) => format!("({expr} #>> '{{}}')"),
        }
    }

    /// Compares the value as a double with a bound double; PostgreSQL casts inside a
    /// `CASE`, so a value of another type is never cast.
    fn real_cmp(&self, json: &Json, cmp: &str, arg: &str) -> String {
        match json {
            Json::Jsonb(expr) => format!(
                "(CASE WHEN jsonb_typeof({expr}) = 'number' THEN ({expr})::float8 {cmp} {arg} \
                 ELSE 1=0 END)"
            ),
            other => format!("(CAST({} AS REAL) {cmp} {arg})", self.text(other)),
        }
    }

    // ---- whole years or days since a date value ----------------------------------------

    /// An integer expression: whole units from the value's leading `YYYY-MM-DD` until
    /// today, or NULL (no string, no valid date, a date after today).
    fn measured(&mut self, json: &Json, unit: Since) -> String {
        let text = self.text(json);
        let pattern = match self.flavour {
            Flavour::Sqlite => {
                format!("{text} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'")
            }
            Flavour::Postgres => format!("{text} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}'"),
        };
        let part =
            |from: usize, len: usize| format!("CAST(substr({text}, {from}, {len}) AS INTEGER)");
        let (y, m, d) = (part(1, 4), part(6, 2), part(9, 2));
        let leap = format!("(({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0)");
        let days_in_month = format!(
            "(CASE WHEN {m} = 2 THEN (CASE WHEN {leap} THEN 29 ELSE 28 END) \
             WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END)"
        );
        let today = self.now.date_naive();
        let today_number = today.year() * 10_000 + today.month() as i32 * 100 + today.day() as i32;
        let value = match unit {
            Since::Years => {
                let anniversary = today.month() as i32 * 100 + today.day() as i32;
                format!(
                    "({} - {y} - (CASE WHEN {anniversary} < {m} * 100 + {d} THEN 1 ELSE 0 END))",
                    today.year()
                )
            }
            Since::Days => format!("({} - {})", day_number(today), day_number_sql(&y, &m, &d)),
        };
        format!(
            "(CASE WHEN {} AND {pattern} THEN (CASE WHEN {m} BETWEEN 1 AND 12 AND {d} >= 1 \
             AND {d} <= {days_in_month} AND {y} * 10000 + {m} * 100 + {d} <= {today_number} \
             THEN {value} END) END)",
            self.is_type(json, "string")
        )
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
            Operator::Contains(_) => FALSE.to_owned(),
        }
    }

    // ---- built-in numbers ---------------------------------------------------------------

    fn number_column(&mut self, column: &str, op: &Operator) -> String {
        self.integer_operator(&format!("CAST({column} AS REAL)"), op)
    }

    /// Whole days since a stored timestamp, never negative: each comparison becomes a
    /// range of the timestamp around bound cut-offs, so the column is never computed on.
    fn days_since(&mut self, column: &str, op: &Operator) -> String {
        let ranges = |x: &Value| -> Option<DayRange> {
            x.as_f64().filter(|_| x.is_number()).map(DayRange::from)
        };
        match op {
            Operator::Exists(b) => (if *b { TRUE } else { FALSE }).to_owned(),
            Operator::Equals(x) => self.in_days(column, ranges(x).map(|r| r.equal)),
            Operator::NotEquals(x) => {
                format!("(NOT {})", self.in_days(column, ranges(x).map(|r| r.equal)))
            }
            Operator::In(xs) | Operator::NotIn(xs) => {
                let parts = xs
                    .iter()
                    .map(|x| self.in_days(column, ranges(x).map(|r| r.equal)))
                    .collect();
                let any = joined(parts, " OR ", FALSE);
                match op {
                    Operator::In(_) => any,
                    _ => format!("(NOT {any})"),
                }
            }
            Operator::Gte(x) => self.in_days(column, ranges(x).map(|r| r.at_least)),
            Operator::Lte(x) => self.in_days(column, ranges(x).map(|r| r.at_most)),
            Operator::Contains(_) => FALSE.to_owned(),
        }
    }

    /// The stored time lies where the whole days since it are within `days`
    /// (inclusive bounds; `None` bounds are open; `None` range: nothing).
    fn in_days(&mut self, column: &str, days: Option<(Option<i64>, Option<i64>)>) -> String {
        let Some((low, high)) = days else {
            return FALSE.to_owned();
        };
        // days >= low  <=>  column <= now - low days   (low >= 1; below that always true)
        // days <= high <=>  column >  now - (high + 1) days  (high >= 0; else never)
        let mut parts = Vec::new();
        if let Some(low) = low.filter(|l| *l >= 1) {
            match self.cut_off(low) {
                Some(at) => parts.push(format!("{column} <= {}", self.bind(Arg::Time(at)))),
                None => return FALSE.to_owned(),
            }
        }
        if let Some(high) = high {
            if high < 0 {
                return FALSE.to_owned();
            }
            if let Some(at) = self.cut_off(high.saturating_add(1)) {
                parts.push(format!("{column} > {}", self.bind(Arg::Time(at))));
            }
        }
        if parts.is_empty() {
            TRUE.to_owned()
        } else {
            format!("({})", parts.join(" AND "))
        }
    }

    /// `now` minus whole days, if representable.
    fn cut_off(&self, days: i64) -> Option<DateTime<Utc>> {
        self.now.checked_sub_signed(Duration::try_days(days)?)
    }
}

/// `parts` joined by `with` in parentheses, or `empty` when there are none.
fn joined(parts: Vec<String>, with: &str, empty: &str) -> String {
    if parts.is_empty() {
        empty.to_owned()
    } else {
        format!("({})", parts.join(with))
    }
}

/// Whole-day ranges (inclusive, open when `None`) for the comparisons of an integer
/// day count with a number `r`, as floats compare.
struct DayRange {
    equal: (Option<i64>, Option<i64>),
    at_least: (Option<i64>, Option<i64>),
    at_most: (Option<i64>, Option<i64>),
}

impl From<f64> for DayRange {
    fn from(r: f64) -> DayRange {
        // Beyond ±2^62 no whole day count can reach it; clamp to keep i64 arithmetic.
        let limit = 4.0e18;
        let clamp = |v: f64| v.clamp(-limit, limit) as i64;
        let equal = if r.fract() == 0.0 && r.abs() < limit {
            (Some(r as i64), Some(r as i64))
        } else {
            (Some(1), Some(0)) // empty
        };
        DayRange {
            equal,
            at_least: (Some(clamp(r.ceil())), None),
            at_most: (None, Some(clamp(r.floor()))),
        }
    }
}

/// The day number of a date by the civil-calendar formula below (only differences
/// matter).
fn day_number(date: NaiveDate) -> i64 {
    let (y, m, d) = (
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    let yy = y + 400 - i64::from(m <= 2);
    let era = yy / 400;
    let yoe = yy - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe
}

/// [`day_number`] in SQL over integer expressions (years 0 to 9999).
fn day_number_sql(y: &str, m: &str, d: &str) -> String {
    let yy = format!("({y} + 400 - (CASE WHEN {m} <= 2 THEN 1 ELSE 0 END))");
    let era = format!("({yy} / 400)");
    let yoe = format!("({yy} - {era} * 400)");
    let doy = format!("((153 * (({m} + 9) % 12) + 2) / 5 + {d} - 1)");
    format!("({era} * 146097 + {yoe} * 365 + {yoe} / 4 - {yoe} / 100 + {doy})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_count_days() {
        let day = |y, m, d| day_number(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        for (a, b) in [
            ((2024, 2, 28), (2024, 3, 1)),
            ((1999, 12, 31), (2000, 1, 1)),
            ((0, 1, 1), (9999, 12, 31)),
            ((1900, 2, 28), (1900, 3, 1)),
        ] {
            let (da, db) = (
                NaiveDate::from_ymd_opt(a.0, a.1, a.2).unwrap(),
                NaiveDate::from_ymd_opt(b.0, b.1, b.2).unwrap(),
            );
            assert_eq!(
                day(b.0, b.1, b.2) - day(a.0, a.1, a.2),
                (db - da).num_days()
            );
        }
    }

    #[test]
    fn day_ranges_follow_float_comparison() {
        let r = DayRange::from(2.5);
        assert_eq!(r.equal, (Some(1), Some(0)));
        assert_eq!(r.at_least, (Some(3), None));
        assert_eq!(r.at_most, (None, Some(2)));
        assert_eq!(DayRange::from(-1.0).equal, (Some(-1), Some(-1)));
    }

    #[test]
    fn operands_are_bound_and_placeholders_numbered() {
        let c = crate::questions::parse_condition_json(&serde_json::json!(
            {"all": [{"key": "role", "equals": "x'); DROP TABLE users; --"},
                     {"key": "age", "gte": 3}]}
        ))
        .unwrap();
        let p = compile(&c, Flavour::Postgres, Utc::now(), 4);
        assert!(!p.sql.contains("DROP"));
        assert!(p.sql.contains("$4") && p.sql.contains("$5") && p.sql.contains("$6"));
        assert_eq!(p.args.len(), p.sql.matches('$').count());
    }
}
