//! Relative dates: whole years or days from a date value until today, as a
//! condition's `since` and an enrichment transform read them.
//!
//! A date value is text starting with `YYYY-MM-DD`: a `date` answer, or the date of an
//! RFC 3339 timestamp as written (its own offset, not converted). Anything else, and a
//! date after today, has no relative value.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The unit a condition's `since` measures a date value in.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Since {
    /// Whole years, as an age is counted: a year is complete on the anniversary
    /// (29 February counts as complete on 1 March in other years).
    Years,
    /// Whole days between the two calendar dates.
    Days,
}

impl Since {
    /// The unit names, as written in conditions.
    pub const NAMES: [&'static str; 2] = ["years", "days"];

    /// The unit named `name`.
    pub fn from_name(name: &str) -> Option<Since> {
        match name {
            "years" => Some(Since::Years),
            "days" => Some(Since::Days),
            _ => None,
        }
    }

    /// Whole units from the date value `value` until `today`, or `None` when the value
    /// is no date or lies after today.
    pub fn measure(self, value: &Value, today: NaiveDate) -> Option<i64> {
        let text = value.as_str()?;
        match self {
            Since::Years => years_since(text, today),
            Since::Days => days_since(text, today),
        }
    }
}

/// The date at the start of `text` (exactly `YYYY-MM-DD`: four, two and two ASCII
/// digits), if it is a real one.
pub fn leading_date(text: &str) -> Option<NaiveDate> {
    let head = text.as_bytes().get(..10)?;
    let digits = |range: std::ops::Range<usize>| {
        head[range].iter().try_fold(0u32, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    if head[4] != b'-' || head[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?)
}

/// Whole years from the date at the start of `text` until `today`; `None` for other
/// text or a date after today.
pub fn years_since(text: &str, today: NaiveDate) -> Option<i64> {
    let date = leading_date(text).filter(|d| *d <= today)?;
    let mut years = i64::from(today.year() - date.year());
    if (today.month(), today.day()) < (date.month(), date.day()) {
        years -= 1;
    }
    Some(years)
}

/// Whole days from the date at the start of `text` until `today`; `None` for other
/// text or a date after today.
pub fn days_since(text: &str, today: NaiveDate) -> Option<i64> {
    let date = leading_date(text).filter(|d| *d <= today)?;
    Some((today - date).num_days())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn years_are_counted_as_ages() {
        let years = |t: &str| years_since(t, today());
        assert_eq!(years("1990-12-01"), Some(36), "the birthday itself");
        assert_eq!(years("1990-12-02"), Some(35), "the day before it");
        assert_eq!(years("2000-02-29"), Some(26));
        assert_eq!(
            years_since("2000-02-29", NaiveDate::from_ymd_opt(2027, 2, 28).unwrap()),
            Some(26),
            "29 February is complete on 1 March"
        );
        assert_eq!(years("2016-05-01T10:00:00Z"), Some(10));
        assert_eq!(years("2026-12-01"), Some(0));
        assert_eq!(years("2026-12-02"), None, "in the future");
        assert_eq!(years("12/01/1990"), None);
        assert_eq!(years("1990"), None);
        assert_eq!(years("1990-13-01"), None);
        assert_eq!(years("+990-01-01"), None);
        assert_eq!(years("1990-1-011"), None);
        assert_eq!(years("0000-01-01"), Some(2026));
        assert_eq!(years("１９９０-01-01"), None, "ASCII digits only");
    }

    #[test]
    fn days_are_calendar_days() {
        let days = |t: &str| days_since(t, today());
        assert_eq!(days("2026-12-01"), Some(0));
        assert_eq!(days("2026-11-30T23:59:59Z"), Some(1));
        assert_eq!(days("2025-12-01"), Some(365));
        assert_eq!(days("2026-12-02"), None);
        assert_eq!(days("2026-02-30"), None, "no such date");
    }

    #[test]
    fn measure_needs_text() {
        assert_eq!(Since::Years.measure(&json!(1990), today()), None);
        assert_eq!(Since::Days.measure(&json!("2026-11-01"), today()), Some(30));
        assert_eq!(Since::from_name("weeks"), None);
    }
}
