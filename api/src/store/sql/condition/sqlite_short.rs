//! SQLite's short form for the commonest conditions: `exists`, and `equals`, `in`,
//! `contains` and their negations on strings. The value is read by one `json_extract`
//! compared with the operand, and its type (`json_type`) only where that comparison
//! leaves it open. At a million users every expression evaluated per row shows in the
//! count (`docs/performance.md`), so the test that settles most rows comes first.
//!
//! Why the type need not be read: `json_extract` gives a JSON string as SQL text, a
//! number or boolean as a number, `null` or a missing key as NULL, and a list or object
//! as its JSON text, which starts with `[` or `{`. So a value equal (`IS`, never NULL)
//! to a non-empty operand that starts with neither is that string, and a value other
//! than NULL and `''` has a value (the general form's `has_value`).

use serde_json::Value;

use super::{Arg, Compiler, FALSE, joined};
use crate::questions::condition::Operator;

impl Compiler {
    /// `op` on the value at `path` of `column` in the short form, with the general
    /// form's meaning; `None` for other operators and operands.
    pub(super) fn sqlite_short(
        &mut self,
        column: &'static str,
        path: &str,
        op: &Operator,
    ) -> Option<String> {
        let read = Read { column, path };
        match op {
            Operator::Exists(exists) => {
                let has = format!("COALESCE({} <> '', {FALSE})", read.value());
                Some(if *exists { has } else { format!("(NOT {has})") })
            }
            Operator::Equals(x) | Operator::NotEquals(x) => {
                let equal = self.equal_or_listed(&read, &[plain(x)?])?;
                Some(match op {
                    Operator::Equals(_) => equal,
                    _ => format!("(NOT {equal})"),
                })
            }
            Operator::In(xs) | Operator::NotIn(xs) => {
                let strings: Option<Vec<&str>> = xs.iter().map(plain).collect();
                let any = self.equal_or_listed(&read, &strings?)?;
                Some(match op {
                    Operator::In(_) => any,
                    _ => format!("(NOT {any})"),
                })
            }
            Operator::Contains(Value::String(s)) => Some(self.listed(&read, &[s])),
            _ => None,
        }
    }

    /// The value is one of `strings`, or a list holding one; `None` when there are none.
    fn equal_or_listed(&mut self, read: &Read, strings: &[&str]) -> Option<String> {
        if strings.is_empty() {
            return None;
        }
        let value = read.value();
        let equal: Vec<String> = strings
            .iter()
            .map(|s| format!("{value} IS {}", self.bind(Arg::Text((*s).to_owned()))))
            .collect();
        let listed = self.listed(read, strings);
        Some(format!("({} OR {listed})", joined(equal, " OR ", FALSE)))
    }

    /// The value is a list holding one of `strings` (never NULL).
    fn listed(&mut self, read: &Read, strings: &[&str]) -> String {
        let placeholders: Vec<String> = strings
            .iter()
            .map(|s| self.bind(Arg::Text((*s).to_owned())))
            .collect();
        format!(
            "(json_type({column}, '{path}') IS 'array' AND EXISTS (SELECT 1 FROM \
             json_each({column}, '{path}') AS e WHERE e.type = 'text' AND e.value IN ({})))",
            placeholders.join(", "),
            column = read.column,
            path = read.path,
        )
    }
}

/// The value at a path of a metadata column.
struct Read<'a> {
    column: &'a str,
    path: &'a str,
}

impl Read<'_> {
    fn value(&self) -> String {
        format!("json_extract({}, '{}')", self.column, self.path)
    }
}

/// A string operand the short form compares directly: not empty (`""` is no value, but
/// matches inside a list) and not starting like a list's or an object's JSON text.
fn plain(x: &Value) -> Option<&str> {
    x.as_str()
        .filter(|s| !s.is_empty() && !s.starts_with(['[', '{']))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::super::compile;
    use crate::questions::parse_condition_json;
    use crate::store::dialect::Flavour;

    fn sqlite(condition: serde_json::Value) -> String {
        let c = parse_condition_json(&condition).unwrap();
        compile(&c, Flavour::Sqlite, Utc::now(), 1).sql
    }

    #[test]
    fn a_plain_string_is_compared_before_the_type_is_read() {
        let sql = sqlite(json!({"key": "gender", "equals": "male"}));
        let compared = sql.find(r#"json_extract(user_metadata, '$."gender"') IS $1"#);
        let typed = sql.find("json_type(");
        assert!(compared.is_some() && compared < typed, "{sql}");
        assert!(!sql.contains("AS j"), "no subquery: {sql}");
    }

    #[test]
    fn operands_spelt_like_json_lists_or_objects_keep_the_general_form() {
        for operand in ["[\"dev\"]", "{\"x\":1}", ""] {
            let sql = sqlite(json!({"key": "gender", "equals": operand}));
            assert!(sql.contains("AS j"), "{operand}: {sql}");
        }
        let sql = sqlite(json!({"key": "gender", "in": ["male", "[1]"]}));
        assert!(sql.contains("AS j"), "{sql}");
    }
}
