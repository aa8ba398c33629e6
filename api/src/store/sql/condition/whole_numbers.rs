//! Conditions on whole numbers of days or years: days since the first or the latest
//! login (stored timestamps), and `since` a date value. Every comparison of a whole
//! number with a JSON number is a range of it ([`DayRange`]), and every range of days or
//! years since something is a range of that something, so the SQL compares what is
//! stored with cut-offs worked out here, never computing on each row.

use chrono::{Datelike, Days, Duration, NaiveDate};
use serde_json::Value;

use super::{Arg, Compiler, FALSE, Json, TRUE, joined};
use crate::questions::condition::Operator;
use crate::questions::dates::Since;
use crate::store::dialect::Flavour;

/// Inclusive bounds of a whole number; `None` is open.
type Bounds = (Option<i64>, Option<i64>);

impl Compiler {
    /// Whole days since a stored timestamp, never negative: each comparison becomes a
    /// range of the timestamp around bound cut-offs, so an index can serve it.
    pub(super) fn days_since(&mut self, column: &str, op: &Operator) -> String {
        self.whole_number(op, &mut |this, bounds| this.in_days(column, bounds))
    }

    /// Whole years or days from the value's leading `YYYY-MM-DD` (a valid date, not
    /// after today; anything else has no value) until today.
    pub(super) fn since_date(&mut self, json: &Json, unit: Since, op: &Operator) -> String {
        self.whole_number(op, &mut |this, bounds| this.dated(json, unit, bounds))
    }

    /// `op` on a whole number, given `within(bounds)`: the SQL for "has a value within
    /// `bounds`" (`None`: within nothing).
    fn whole_number(
        &mut self,
        op: &Operator,
        within: &mut dyn FnMut(&mut Self, Option<Bounds>) -> String,
    ) -> String {
        let ranges = |x: &Value| x.as_f64().filter(|_| x.is_number()).map(DayRange::from);
        match op {
            Operator::Exists(exists) => {
                let any = within(self, Some((None, None)));
                if *exists { any } else { format!("(NOT {any})") }
            }
            Operator::Equals(x) => within(self, ranges(x).map(|r| r.equal)),
            Operator::NotEquals(x) => {
                format!("(NOT {})", within(self, ranges(x).map(|r| r.equal)))
            }
            Operator::In(xs) | Operator::NotIn(xs) => {
                let parts = xs
                    .iter()
                    .map(|x| within(self, ranges(x).map(|r| r.equal)))
                    .collect();
                let any = joined(parts, " OR ", FALSE);
                match op {
                    Operator::In(_) => any,
                    _ => format!("(NOT {any})"),
                }
            }
            Operator::Gte(x) => within(self, ranges(x).map(|r| r.at_least)),
            Operator::Lte(x) => within(self, ranges(x).map(|r| r.at_most)),
            Operator::Contains(_) | Operator::HasOther(true) => FALSE.to_owned(),
            Operator::HasOther(false) => TRUE.to_owned(),
        }
    }

    /// The stored time lies where the whole days since it are within `days`.
    fn in_days(&mut self, column: &str, days: Option<Bounds>) -> String {
        let Some(cuts) = cut_offs(days, |d| self.cut_off(d)) else {
            return FALSE.to_owned();
        };
        if cuts.is_empty() {
            return TRUE.to_owned();
        }
        let parts: Vec<String> = cuts
            .into_iter()
            .map(|(cmp, at)| format!("{column} {cmp} {}", self.bind(Arg::Time(at))))
            .collect();
        format!("({})", parts.join(" AND "))
    }

    /// `now` minus whole days, if representable.
    fn cut_off(&self, days: i64) -> Option<chrono::DateTime<chrono::Utc>> {
        self.now.checked_sub_signed(Duration::try_days(days)?)
    }

    /// The value is a valid date, not after today, whose whole `unit`s until today are
    /// within `bounds`: its first ten characters compared as text (dates of this form
    /// sort as text) with the latest dates that measure at least so many.
    fn dated(&mut self, json: &Json, unit: Since, bounds: Option<Bounds>) -> String {
        let today = self.now.date_naive();
        let Some(mut cuts) = cut_offs(bounds, |units| units_back(today, unit, units)) else {
            return FALSE.to_owned();
        };
        cuts.insert(0, ("<=", day_text(today)));
        let date = self
            .flavour
            .in_byte_order(&format!("substr({}, 1, 10)", self.text(json)));
        let parts: Vec<String> = cuts
            .into_iter()
            .map(|(cmp, day)| format!("{date} {cmp} {}", self.bind(Arg::Text(day))))
            .collect();
        self.if_valid_date(json, &parts.join(" AND "))
    }

    /// `then` where the value is a string starting with a valid `YYYY-MM-DD`, else false.
    /// Text tests only, in a `CASE` so that the year is read as a number only once it is
    /// known to be four digits. `then` (text comparisons, safe on any text) comes before
    /// the calendar, which then runs only for the values in range. On SQLite the pattern
    /// alone proves a string: `json_extract` gives no other type text starting with
    /// `dddd-dd-dd` (numbers have no such form, lists and objects start with `[`/`{`).
    fn if_valid_date(&self, json: &Json, then: &str) -> String {
        let text = self.text(json);
        let pattern = match self.flavour {
            Flavour::Sqlite => {
                format!("{text} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'")
            }
            Flavour::Postgres => format!("{text} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}'"),
        };
        let month = self.flavour.in_byte_order(&format!("substr({text}, 6, 2)"));
        let day = self.flavour.in_byte_order(&format!("substr({text}, 9, 2)"));
        let year = format!("CAST(substr({text}, 1, 4) AS INTEGER)");
        let leap = format!("(({year} % 4 = 0 AND {year} % 100 <> 0) OR {year} % 400 = 0)");
        let last_day = format!(
            "(CASE {month} WHEN '02' THEN (CASE WHEN {leap} THEN '29' ELSE '28' END) \
             WHEN '04' THEN '30' WHEN '06' THEN '30' WHEN '09' THEN '30' WHEN '11' THEN '30' \
             ELSE '31' END)"
        );
        let string = match json {
            Json::At { .. } => String::new(),
            _ => format!("{} AND ", self.is_type(json, "string")),
        };
        format!(
            "(CASE WHEN {string}{then} AND {pattern} THEN ({month} BETWEEN '01' AND '12' \
             AND {day} >= '01' AND ({day} < '29' OR {day} <= {last_day})) ELSE {FALSE} END)"
        )
    }
}

/// The cut-offs within which a whole count of units back from now lies in `bounds`, as
/// `(comparison, cut-off)` for the stored value (`back(n)`: the latest stored value at
/// least `n` units back, `None` when there is none); `None`: no value is within them.
/// Counts are never negative: `units >= low` is `stored <= back(low)` (always true
/// below 1), `units <= high` is `stored > back(high + 1)` (never true below 0).
fn cut_offs<T>(
    bounds: Option<Bounds>,
    back: impl Fn(i64) -> Option<T>,
) -> Option<Vec<(&'static str, T)>> {
    let (low, high) = bounds?;
    let mut cuts = Vec::new();
    if let Some(low) = low.filter(|l| *l >= 1) {
        cuts.push(("<=", back(low)?));
    }
    if let Some(high) = high {
        if high < 0 {
            return None;
        }
        if let Some(cut) = back(high.saturating_add(1)) {
            cuts.push((">", cut));
        }
    }
    Some(cuts)
}

/// The latest day (as `YYYY-MM-DD`, possibly not a calendar date, such as 29 February of
/// a common year, which still sorts right) from which at least `units` (≥ 1) whole
/// years or days have passed by `today`; `None` before year 0.
fn units_back(today: NaiveDate, unit: Since, units: i64) -> Option<String> {
    match unit {
        Since::Years => {
            let year = i64::from(today.year()).checked_sub(units)?;
            (year >= 0).then(|| format!("{year:04}-{:02}-{:02}", today.month(), today.day()))
        }
        Since::Days => {
            let day = today.checked_sub_days(Days::new(u64::try_from(units).ok()?))?;
            (day.year() >= 0).then(|| day_text(day))
        }
    }
}

/// A date as `YYYY-MM-DD` (years 0 to 9999).
fn day_text(day: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", day.year(), day.month(), day.day())
}

/// Whole-number ranges (inclusive, open when `None`) for the comparisons of a whole
/// number with a number `r`, as floats compare.
struct DayRange {
    equal: Bounds,
    at_least: Bounds,
    at_most: Bounds,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_ranges_follow_float_comparison() {
        let r = DayRange::from(2.5);
        assert_eq!(r.equal, (Some(1), Some(0)));
        assert_eq!(r.at_least, (Some(3), None));
        assert_eq!(r.at_most, (None, Some(2)));
        assert_eq!(DayRange::from(-1.0).equal, (Some(-1), Some(-1)));
    }

    #[test]
    fn cut_off_days_sort_as_the_dates_they_bound() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let leap = day(2024, 2, 29);
        assert_eq!(units_back(leap, Since::Years, 1).unwrap(), "2023-02-29");
        assert_eq!(units_back(leap, Since::Years, 2024).unwrap(), "0000-02-29");
        assert_eq!(units_back(leap, Since::Years, 2025), None);
        assert_eq!(units_back(leap, Since::Days, 60).unwrap(), "2023-12-31");
        assert_eq!(units_back(leap, Since::Days, i64::MAX), None);
        assert_eq!(day_text(day(7, 1, 2)), "0007-01-02");
    }
}
