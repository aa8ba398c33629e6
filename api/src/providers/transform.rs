//! The named transforms of an http provider's mapped values (a closed set).

use chrono::NaiveDate;
use serde_json::Value;

use super::Transform;
use crate::questions::dates::years_since;

/// Applies `transform` to a mapped value; `None` when the value does not suit it
/// (then the field is left out).
pub(crate) fn apply(transform: Transform, value: &Value, today: NaiveDate) -> Option<Value> {
    match transform {
        Transform::YearsSince => years_since(value.as_str()?, today).map(Value::from),
        Transform::Lower => Some(Value::String(value.as_str()?.to_lowercase())),
        Transform::First => match value {
            Value::Array(items) => items.first().filter(|v| !v.is_null()).cloned(),
            other => Some(other.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn years_since_counts_whole_years() {
        let years = |v: Value| apply(Transform::YearsSince, &v, today());
        assert_eq!(
            years(json!("1990-12-01")),
            Some(json!(36)),
            "birthday today"
        );
        assert_eq!(
            years(json!("1990-12-02")),
            Some(json!(35)),
            "birthday tomorrow"
        );
        assert_eq!(years(json!("2000-02-29")), Some(json!(26)));
        assert_eq!(years(json!("2016-05-01T10:00:00Z")), Some(json!(10)));
        assert_eq!(years(json!("2027-01-01")), None, "in the future");
        assert_eq!(years(json!("12/01/1990")), None);
        assert_eq!(years(json!("1990")), None);
        assert_eq!(years(json!(1990)), None);
    }

    #[test]
    fn lower_and_first() {
        assert_eq!(
            apply(Transform::Lower, &json!("ACME Corp"), today()),
            Some(json!("acme corp"))
        );
        assert_eq!(apply(Transform::Lower, &json!(5), today()), None);
        assert_eq!(
            apply(Transform::First, &json!(["@a", "@b"]), today()),
            Some(json!("@a"))
        );
        assert_eq!(apply(Transform::First, &json!([]), today()), None);
        assert_eq!(
            apply(Transform::First, &json!("@a"), today()),
            Some(json!("@a")),
            "a single value is its own first"
        );
    }
}
