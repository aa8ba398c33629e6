//! Calendar dates (`date` answers and bounds): strict `YYYY-MM-DD`, proleptic
//! Gregorian, years 0000 to 9999, as `chrono` reads them on the server.

use core::fmt;

use crate::refusal::{Refusal, Rule, refuse};

/// A valid calendar date; orders chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Whether `year` has a 29 February.
pub const fn is_leap_year(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// Days in `month` (1–12) of `year`; 0 for another month.
pub const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// The date, when it exists (`2024-02-29` does, `2025-02-31` does not).
    pub const fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        if year <= 9999 && day >= 1 && day <= days_in_month(year, month) {
            Some(Date { year, month, day })
        } else {
            None
        }
    }

    /// Parses exactly `YYYY-MM-DD` (10 characters, ASCII digits) naming a real day.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        let shape = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shape {
            return None;
        }
        let num = |r: core::ops::Range<usize>| {
            b[r].iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'))
        };
        Date::new(num(0..4), num(5..7) as u8, num(8..10) as u8)
    }

    /// The year (0–9999).
    pub const fn year(self) -> u16 {
        self.year
    }

    /// The month (1–12).
    pub const fn month(self) -> u8 {
        self.month
    }

    /// The day of the month (1–31).
    pub const fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Checks a `date` answer (already trimmed): a real `YYYY-MM-DD` day (`format`) from
/// `min` to `max` inclusive (`min`, `max`).
pub fn check(s: &str, min: Option<Date>, max: Option<Date>) -> Result<Date, Refusal> {
    let Some(d) = Date::parse(s) else {
        return refuse(Rule::Format, "expected a date as YYYY-MM-DD");
    };
    if min.is_some_and(|m| d < m) {
        return refuse(Rule::Min, "too early");
    }
    if max.is_some_and(|m| d > m) {
        return refuse(Rule::Max, "too late");
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn leap_years_and_month_lengths() {
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2000-02-29").is_some());
        assert!(Date::parse("0000-02-29").is_some());
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2025-02-31",
            "2025-04-31",
            "2025-13-01",
            "2025-00-10",
            "2025-01-00",
            "2025-1-01",
            "2025/01/01",
            "+202-01-01",
            "2025-01-01 ",
            "２０２５-01-01",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert_eq!(Date::parse("0999-12-31").unwrap().to_string(), "0999-12-31");
    }

    #[test]
    fn bounds_are_inclusive() {
        let day = |s| Date::parse(s);
        assert!(check("2025-06-15", day("2025-06-15"), day("2025-06-15")).is_ok());
        assert_eq!(
            check("2025-06-16", None, day("2025-06-15"))
                .unwrap_err()
                .rule,
            Rule::Max
        );
        assert_eq!(
            check("1899-12-31", day("1900-01-01"), None)
                .unwrap_err()
                .rule,
            Rule::Min
        );
    }
}
