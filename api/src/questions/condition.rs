//! Conditions (`when`, and the users-list `where=` filter) and their
//! evaluation against a profile.
//!
//! A key with no value makes `equals`, `in`, `gte`, `lte` and `exists: true`
//! false, and `not_equals`, `not_in` and `exists: false` true. When the
//! profile value is a list (a `multi_choice` answer), `equals` also holds when
//! the list contains the operand and `in` when any element is in the operand
//! list. Numbers compare as 64-bit floats (`1` equals `1.0`; exact for integers up
//! to 2^53, as in the database); `gte`/`lte` compare numbers so and strings in byte
//! order (so ISO dates work);
//! mismatched types are false. `contains` holds when the value is a list with an
//! element equal to the operand.
//!
//! `since: years` or `since: days` reads the key's value as a date (text starting
//! `YYYY-MM-DD`) and tests the whole years or days from it until today instead
//! ([`Since`]): `{key: birthday, since: years, gte: 20}`. A value that is no date, or
//! a date after today, counts as no value.
//!
//! `has_other: true` holds when the value is a free "Other" answer (`{"other": …}`, as
//! a choice question with `allow_other` stores it) or a list holding one;
//! `has_other: false` when it is not (no value included).

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::dates::Since;
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
        /// Test the whole years or days since the value (a date) instead of the value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Since>,
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
    /// The value is a list with an element equal to the operand.
    Contains(Value),
    /// The value is (`true`) or is not (`false`) a free "Other" answer, or a list
    /// holding one.
    HasOther(bool),
}

/// Operator names, in the order they are documented.
pub const OPERATORS: [&str; 9] = [
    "equals",
    "not_equals",
    "in",
    "not_in",
    "exists",
    "gte",
    "lte",
    "contains",
    "has_other",
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
        Condition::Compare { key, since, op } => {
            let value = profile.value(key, now);
            match since {
                None => apply(op, value.as_deref()),
                Some(unit) => {
                    let measured = value.and_then(|v| unit.measure(&v, now.date_naive()));
                    apply(op, measured.map(Value::from).as_ref())
                }
            }
        }
    }
}

fn apply(op: &Operator, value: Option<&Value>) -> bool {
    match (op, value) {
        (Operator::Exists(want), v) => v.is_some() == *want,
        (Operator::HasOther(want), v) => v.is_some_and(has_other) == *want,
        (Operator::NotEquals(x), v) => !v.is_some_and(|v| matches_value(v, x)),
        (Operator::NotIn(xs), v) => !v.is_some_and(|v| xs.iter().any(|x| matches_value(v, x))),
        (_, None) => false,
        (Operator::Equals(x), Some(v)) => matches_value(v, x),
        (Operator::In(xs), Some(v)) => xs.iter().any(|x| matches_value(v, x)),
        (Operator::Gte(x), Some(v)) => compare(v, x).is_some_and(|o| o != Ordering::Less),
        (Operator::Lte(x), Some(v)) => compare(v, x).is_some_and(|o| o != Ordering::Greater),
        (Operator::Contains(x), Some(Value::Array(items))) => {
            items.iter().any(|i| json_equal(i, x))
        }
        (Operator::Contains(_), Some(_)) => false,
    }
}

/// A free "Other" answer (an object with an `other` key), or a list holding one.
pub fn has_other(value: &Value) -> bool {
    let is_other = |v: &Value| matches!(v, Value::Object(o) if o.contains_key("other"));
    is_other(value) || matches!(value, Value::Array(items) if items.iter().any(is_other))
}

/// Equality, or membership when the profile value is a list.
fn matches_value(value: &Value, operand: &Value) -> bool {
    json_equal(value, operand)
        || matches!(value, Value::Array(items) if items.iter().any(|i| json_equal(i, operand)))
}

/// JSON equality with numbers compared numerically.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
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
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Deepest nesting of `all`/`any`/`not` a JSON condition may have.
pub const MAX_CONDITION_DEPTH: usize = 8;
/// Most comparisons (`{key, …}`) in a JSON condition.
pub const MAX_CONDITION_COMPARISONS: usize = 64;
/// Most operand values (an `in` list counts each) in a JSON condition.
pub const MAX_CONDITION_VALUES: usize = 256;

/// Parses a condition from JSON with the same strict rules as a `when` in a
/// question set (any valid profile path is accepted as a key), within the size
/// limits above (it becomes one SQL expression). Used for the users-list `where=`
/// filter and segments. The error lists every problem, `; `-separated.
pub fn parse_condition_json(value: &Value) -> Result<Condition, String> {
    let node = Node::from_json(value, Mark { line: 1, column: 1 });
    let mut ctx = Ctx::new("where");
    let parsed = parse_condition_node(&mut ctx, &node);
    let problems = ctx.into_problems();
    match parsed {
        Some(c) if problems.is_empty() => check_size(&c).map(|()| c),
        _ if problems.is_empty() => Err("invalid condition".into()),
        _ => Err(problems
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

/// Refuses a condition beyond [`MAX_CONDITION_DEPTH`], [`MAX_CONDITION_COMPARISONS`]
/// or [`MAX_CONDITION_VALUES`].
fn check_size(condition: &Condition) -> Result<(), String> {
    #[derive(Default)]
    struct Size {
        depth: usize,
        comparisons: usize,
        values: usize,
    }
    fn walk(c: &Condition, level: usize, size: &mut Size) {
        size.depth = size.depth.max(level);
        match c {
            Condition::All { all: list } | Condition::Any { any: list } => {
                list.iter().for_each(|c| walk(c, level + 1, size));
            }
            Condition::Not { not } => walk(not, level + 1, size),
            Condition::Compare { op, .. } => {
                size.comparisons += 1;
                size.values += match op {
                    Operator::In(xs) | Operator::NotIn(xs) => xs.len(),
                    _ => 1,
                };
            }
        }
    }
    let mut size = Size::default();
    walk(condition, 0, &mut size);
    if size.depth > MAX_CONDITION_DEPTH {
        Err(format!(
            "the condition nests {} levels of all/any/not; at most {MAX_CONDITION_DEPTH}",
            size.depth
        ))
    } else if size.comparisons > MAX_CONDITION_COMPARISONS {
        Err(format!(
            "the condition has {} comparisons; at most {MAX_CONDITION_COMPARISONS}",
            size.comparisons
        ))
    } else if size.values > MAX_CONDITION_VALUES {
        Err(format!(
            "the condition has {} operand values; at most {MAX_CONDITION_VALUES}",
            size.values
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_are_bounded_in_size() {
        let mut deep = json!({"key": "a", "exists": true});
        for _ in 0..MAX_CONDITION_DEPTH {
            deep = json!({ "not": deep });
        }
        assert!(parse_condition_json(&deep).is_ok());
        let too_deep = json!({ "not": deep });
        assert!(
            parse_condition_json(&too_deep)
                .unwrap_err()
                .contains("at most 8")
        );
        let leaf = json!({"key": "a", "equals": 1});
        let many = json!({ "any": vec![leaf; MAX_CONDITION_COMPARISONS + 1] });
        assert!(
            parse_condition_json(&many)
                .unwrap_err()
                .contains("comparisons")
        );
        let values: Vec<Value> = (0..=MAX_CONDITION_VALUES).map(Value::from).collect();
        let wide = json!({"key": "a", "in": values});
        assert!(
            parse_condition_json(&wide)
                .unwrap_err()
                .contains("operand values")
        );
    }

    fn check(cond: Value, user: Value) -> bool {
        let c = parse_condition_json(&cond).unwrap();
        let app = json!({"enrichment": {"company": {"employees": 120}}});
        let p = Profile {
            user_metadata: &user,
            app_metadata: &app,
            login_count: 3,
            first_login_at: None,
            last_login_at: None,
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

    /// A profile at 2026-12-01 12:00 UTC: first login 40 days ago, latest 3 days ago.
    fn check_at(cond: Value, user: Value) -> bool {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let c = parse_condition_json(&cond).unwrap();
        let app = json!({"idp": {"birthdate": "1990-12-02"}, "seen": "2026-11-01T08:00:00Z"});
        let p = Profile {
            user_metadata: &user,
            app_metadata: &app,
            login_count: 5,
            first_login_at: Some(now - chrono::Duration::days(40)),
            last_login_at: Some(now - chrono::Duration::hours(73)),
        };
        c.holds(&p, now)
    }

    #[test]
    fn relative_dates_and_last_login() {
        let u = json!({"birthday": "1996-12-01", "note": "hello", "tags": ["a", 1]});
        let aged = |op: &str, n: i64| json!({"key": "birthday", "since": "years", op: n});
        assert!(check_at(aged("equals", 30), u.clone()), "30 today");
        assert!(check_at(
            json!({"all": [aged("gte", 20), aged("lte", 40)]}),
            u.clone()
        ));
        assert!(!check_at(aged("gte", 31), u.clone()));
        assert!(
            check_at(
                json!({"key": "app_metadata.idp.birthdate", "since": "years", "equals": 35}),
                u.clone()
            ),
            "36 only tomorrow"
        );
        assert!(check_at(
            json!({"key": "app_metadata.seen", "since": "days", "equals": 30}),
            u.clone()
        ));
        let no_date = json!({"key": "note", "since": "days", "gte": 0});
        assert!(
            !check_at(no_date, u.clone()),
            "text that is no date has no value"
        );
        assert!(check_at(
            json!({"key": "note", "since": "days", "exists": false}),
            u.clone()
        ));
        assert!(check_at(
            json!({"key": "days_since_last_login", "equals": 3}),
            u.clone()
        ));
        assert!(check_at(
            json!({"key": "days_since_first_login", "gte": 40}),
            u.clone()
        ));
        assert!(check_at(json!({"key": "tags", "contains": "a"}), u.clone()));
        assert!(check_at(json!({"key": "tags", "contains": 1.0}), u.clone()));
        assert!(!check_at(
            json!({"key": "tags", "contains": "b"}),
            u.clone()
        ));
        assert!(
            !check_at(json!({"key": "note", "contains": "hello"}), u.clone()),
            "contains is for lists"
        );
        assert!(!check_at(json!({"key": "missing", "contains": "a"}), u));
    }

    #[test]
    fn has_other_finds_free_other_answers_alone_or_listed() {
        let u = json!({
            "role": {"other": "ceo"},
            "topics": ["a", {"other": "ml"}],
            "tags": ["a", {"x": 1}],
            "note": "other",
        });
        let holds =
            |key: &str, want: bool| check_at(json!({"key": key, "has_other": want}), u.clone());
        assert!(holds("role", true) && holds("topics", true));
        for key in ["tags", "note", "missing", "login_count"] {
            assert!(!holds(key, true) && holds(key, false), "{key}");
        }
        assert!(
            parse_condition_json(&json!({"key": "role", "has_other": "yes"})).is_err(),
            "a boolean operand"
        );
        assert!(
            parse_condition_json(&json!({"key": "b", "since": "years", "has_other": true}))
                .unwrap_err()
                .contains("does not go with `since`")
        );
    }

    #[test]
    fn since_is_parsed_strictly() {
        let refused = |c: Value| parse_condition_json(&c).unwrap_err();
        assert!(
            refused(json!({"key": "b", "since": "weeks", "gte": 1})).contains("`years` or `days`")
        );
        assert!(
            refused(json!({"key": "login_count", "since": "days", "gte": 1}))
                .contains("is a number")
        );
        assert!(
            refused(json!({"key": "b", "since": "years", "gte": "20"})).contains("needs a number")
        );
        assert!(
            refused(json!({"key": "b", "since": "years", "in": [1, "x"]}))
                .contains("needs a number")
        );
        assert!(
            refused(json!({"key": "b", "since": "years", "contains": 1}))
                .contains("does not go with `since`")
        );
        assert!(refused(json!({"key": "b", "since": "years"})).contains("needs one operator"));
        assert!(refused(json!({"any": [], "since": "years"})).contains("since"));
        let c = parse_condition_json(&json!({"key": "b", "since": "days", "in": [1, 2]})).unwrap();
        let text = serde_json::to_value(&c).unwrap();
        assert_eq!(text, json!({"key": "b", "since": "days", "in": [1, 2]}));
        let back: Condition = serde_json::from_value(text).unwrap();
        assert_eq!(back, c);
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
