//! Conditions (`when`, and the users-list `where=` filter) and their
//! evaluation against a profile.
//!
//! A key with no value makes `equals`, `in`, `gte`, `lte` and `exists: true`
//! false, and `not_equals`, `not_in` and `exists: false` true. When the
//! profile value is a list (a `multi_choice` answer), `equals` also holds when
//! the list contains the operand and `in` when any element is in the operand
//! list. Numbers compare numerically (`1` equals `1.0`); `gte`/`lte` compare
//! numbers numerically and strings lexicographically (so ISO dates work);
//! mismatched types are false.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::parse_condition::parse_condition_node;
use super::paths::Profile;
use super::reader::Ctx;
use super::yaml::{Mark, Node};

/// A condition on the user's profile.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Condition {
    /// Every condition holds (true when empty).
    All {
        /// The conditions.
        all: Vec<Condition>,
    },
    /// At least one condition holds (false when empty).
    Any {
        /// The conditions.
        any: Vec<Condition>,
    },
    /// The condition does not hold.
    Not {
        /// The negated condition.
        not: Box<Condition>,
    },
    /// A test of one profile path.
    Compare {
        /// A profile path.
        key: String,
        /// The test.
        #[serde(flatten)]
        op: Operator,
    },
}

/// The test applied to a key's value.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// Equal to the operand.
    Equals(Value),
    /// Not equal to the operand (true when there is no value).
    NotEquals(Value),
    /// Equal to one of the operands.
    In(Vec<Value>),
    /// Equal to none of the operands (true when there is no value).
    NotIn(Vec<Value>),
    /// Has a value (`true`) or has none (`false`).
    Exists(bool),
    /// Greater than or equal to the operand (number or string).
    Gte(Value),
    /// Less than or equal to the operand (number or string).
    Lte(Value),
}

/// Operator names, in the order they are documented.
pub const OPERATORS: [&str; 7] = [
    "equals",
    "not_equals",
    "in",
    "not_in",
    "exists",
    "gte",
    "lte",
];

impl Condition {
    /// Whether the condition holds for this profile at `now`.
    pub fn holds(&self, profile: &Profile<'_>, now: DateTime<Utc>) -> bool {
        evaluate(self, profile, now)
    }

    /// Calls `f` with every key named in the condition, for validation.
    pub fn for_each_key<'c>(&'c self, f: &mut impl FnMut(&'c str)) {
        match self {
            Condition::All { all: list } | Condition::Any { any: list } => {
                list.iter().for_each(|c| c.for_each_key(f));
            }
            Condition::Not { not } => not.for_each_key(f),
            Condition::Compare { key, .. } => f(key),
        }
    }
}

/// Evaluates a condition against a profile.
pub fn evaluate(condition: &Condition, profile: &Profile<'_>, now: DateTime<Utc>) -> bool {
    match condition {
        Condition::All { all } => all.iter().all(|c| evaluate(c, profile, now)),
        Condition::Any { any } => any.iter().any(|c| evaluate(c, profile, now)),
        Condition::Not { not } => !evaluate(not, profile, now),
        Condition::Compare { key, op } => {
            let value = profile.value(key, now);
            apply(op, value.as_deref())
        }
    }
}

fn apply(op: &Operator, value: Option<&Value>) -> bool {
    match (op, value) {
        (Operator::Exists(want), v) => v.is_some() == *want,
        (Operator::NotEquals(x), v) => !v.is_some_and(|v| matches_value(v, x)),
        (Operator::NotIn(xs), v) => !v.is_some_and(|v| xs.iter().any(|x| matches_value(v, x))),
        (_, None) => false,
        (Operator::Equals(x), Some(v)) => matches_value(v, x),
        (Operator::In(xs), Some(v)) => xs.iter().any(|x| matches_value(v, x)),
        (Operator::Gte(x), Some(v)) => compare(v, x).is_some_and(|o| o != Ordering::Less),
        (Operator::Lte(x), Some(v)) => compare(v, x).is_some_and(|o| o != Ordering::Greater),
    }
}

/// Equality, or membership when the profile value is a list.
fn matches_value(value: &Value, operand: &Value) -> bool {
    json_equal(value, operand)
        || matches!(value, Value::Array(items) if items.iter().any(|i| json_equal(i, operand)))
}

/// JSON equality with numbers compared numerically.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => Some(i.cmp(&j)),
            _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
        },
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Parses a condition from JSON with the same strict rules as a `when` in a
/// question set (any valid profile path is accepted as a key). Used for the
/// users-list `where=` filter. The error lists every problem, `; `-separated.
pub fn parse_condition_json(value: &Value) -> Result<Condition, String> {
    let node = Node::from_json(value, Mark { line: 1, column: 1 });
    let mut ctx = Ctx::new("where");
    let parsed = parse_condition_node(&mut ctx, &node);
    let problems = ctx.into_problems();
    match parsed {
        Some(c) if problems.is_empty() => Ok(c),
        _ if problems.is_empty() => Err("invalid condition".into()),
        _ => Err(problems
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(cond: Value, user: Value) -> bool {
        let c = parse_condition_json(&cond).unwrap();
        let app = json!({"enrichment": {"company": {"employees": 120}}});
        let p = Profile {
            user_metadata: &user,
            app_metadata: &app,
            login_count: 3,
            first_login_at: None,
        };
        c.holds(&p, Utc::now())
    }

    #[test]
    fn missing_value_semantics() {
        let none = json!({});
        assert!(!check(json!({"key": "role", "equals": "x"}), none.clone()));
        assert!(!check(json!({"key": "role", "in": ["x"]}), none.clone()));
        assert!(!check(json!({"key": "role", "gte": 1}), none.clone()));
        assert!(!check(json!({"key": "role", "lte": 1}), none.clone()));
        assert!(!check(json!({"key": "role", "exists": true}), none.clone()));
        assert!(check(
            json!({"key": "role", "not_equals": "x"}),
            none.clone()
        ));
        assert!(check(json!({"key": "role", "not_in": ["x"]}), none.clone()));
        assert!(check(json!({"key": "role", "exists": false}), none.clone()));
        assert!(check(
            json!({"key": "role", "exists": false}),
            json!({"role": ""})
        ));
        assert!(!check(
            json!({"key": "days_since_first_login", "gte": 0}),
            none
        ));
    }

    #[test]
    fn comparisons_and_combinators() {
        let u = json!({"age": 30, "born": "1994-05-01", "interests": ["fitness", "golf"]});
        assert!(check(json!({"key": "age", "gte": 20}), u.clone()));
        assert!(check(json!({"key": "age", "lte": 30.0}), u.clone()));
        assert!(check(json!({"key": "age", "equals": 30.0}), u.clone()));
        assert!(!check(json!({"key": "age", "gte": "20"}), u.clone()));
        assert!(check(
            json!({"key": "born", "lte": "2000-01-01"}),
            u.clone()
        ));
        assert!(check(
            json!({"key": "interests", "equals": "fitness"}),
            u.clone()
        ));
        assert!(check(
            json!({"key": "interests", "not_in": ["chess"]}),
            u.clone()
        ));
        assert!(check(
            json!({"all": [{"key": "age", "gte": 20}, {"key": "age", "lte": 40},
                           {"not": {"key": "interests", "in": ["chess"]}}]}),
            u.clone()
        ));
        assert!(!check(json!({"any": []}), u.clone()));
        assert!(check(
            json!({"key": "app_metadata.enrichment.company.employees", "gte": 100}),
            u.clone()
        ));
        assert!(check(json!({"key": "login_count", "equals": 3}), u));
    }

    #[test]
    fn strict_json_parsing() {
        assert!(parse_condition_json(&json!({"key": "a", "in": "x"})).is_err());
        assert!(parse_condition_json(&json!({"key": "a", "equals": 1, "lte": 2})).is_err());
        assert!(parse_condition_json(&json!({"key": "a", "bogus": 1})).is_err());
        assert!(parse_condition_json(&json!({"key": "a b", "exists": true})).is_err());
        assert!(parse_condition_json(&json!({"all": [{"key": "a"}]})).is_err());
        assert!(parse_condition_json(&json!({"key": "a", "gte": [1]})).is_err());
        let c = parse_condition_json(&json!({"key": "a", "not_in": [1, "b"]})).unwrap();
        let back: Condition = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
