//! Number and scale answers. Parsing is left to the caller (JSON on the server, the
//! browser's `Number` in the widget), so no float parser is compiled into the Wasm.

use crate::refusal::{Refusal, Rule, refuse};

/// Whether `f` is a finite whole number (every float of magnitude 2^52 or more is one).
pub fn is_whole(f: f64) -> bool {
    const EXACT: f64 = 4_503_599_627_370_496.0; // 2^52
    f.is_finite() && (!(-EXACT..EXACT).contains(&f) || (f as i64) as f64 == f)
}

/// Checks a `number` answer: finite (`type`), whole when `integer` (`integer`), and
/// within `min` and `max` inclusive (`min`, `max`).
pub fn check(f: f64, integer: bool, min: Option<f64>, max: Option<f64>) -> Result<(), Refusal> {
    if !f.is_finite() {
        return refuse(Rule::Type, "expected a number");
    }
    if integer && !is_whole(f) {
        return refuse(Rule::Integer, "must be a whole number");
    }
    if min.is_some_and(|m| f < m) {
        return refuse(Rule::Min, "too small");
    }
    if max.is_some_and(|m| f > m) {
        return refuse(Rule::Max, "too large");
    }
    Ok(())
}

/// Checks a `scale` answer: a whole number from `min` to `max`.
pub fn check_scale(f: f64, min: i64, max: i64) -> Result<(), Refusal> {
    check(f, true, Some(min as f64), Some(max as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive() {
        assert!(check(0.0, true, Some(0.0), Some(10.0)).is_ok());
        assert!(check(10.0, true, Some(0.0), Some(10.0)).is_ok());
        assert_eq!(
            check(-0.5, false, Some(0.0), None).unwrap_err().rule,
            Rule::Min
        );
        assert_eq!(
            check(10.5, false, None, Some(10.0)).unwrap_err().rule,
            Rule::Max
        );
        assert_eq!(
            check(2.5, true, None, None).unwrap_err().rule,
            Rule::Integer
        );
        assert_eq!(
            check(f64::NAN, false, None, None).unwrap_err().rule,
            Rule::Type
        );
        assert_eq!(check_scale(11.0, 0, 10).unwrap_err().rule, Rule::Max);
    }

    #[test]
    fn whole_numbers() {
        for f in [0.0, -3.0, 1e15, 9.007_199_254_740_993e15, 1e300, -1e300] {
            assert!(is_whole(f), "{f}");
        }
        for f in [0.5, -2.25, 1e15 + 0.5, f64::NAN, f64::INFINITY] {
            assert!(!is_whole(f), "{f}");
        }
    }
}
