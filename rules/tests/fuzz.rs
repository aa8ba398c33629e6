//! Fuzzing the shared answer rules with arbitrary input (proptest stands in
//! for cargo-fuzz, which needs a nightly toolchain): no check panics, and
//! every normalisation is idempotent, so the widget and the server, which
//! both run these checks, accept their own output unchanged.
//!
//! Case counts are small enough for a debug `cargo test`; set `PROPTEST_CASES`
//! to fuzz longer.

use proptest::prelude::*;
use proptest::test_runner::Config;
use trickle_rules::{choice, country, date, email, number, phone, text, url};

fn cases(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        ..Config::default()
    }
}

/// Any string, or one shaped like an answer of some type, with odd characters mixed in.
fn input() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ a-zA-Z0-9äß\\r\\n\\t\u{85}\u{2028}]{0,24}",
        "[a-zA-Z0-9.+_\"-]{1,10}@[a-zA-Z0-9İßẞΣςǅ.-]{1,16}",
        "\\+[0-9 ()./-]{0,20}",
        "(?i:https?)://[a-zA-Z0-9İ.-]{1,16}(:[0-9]{0,6})?(/[a-zA-Z0-9%./?#=&ä\\\\-]{0,12})?",
        "[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}",
        "[a-zA-Zı]{1,3}",
    ]
}

/// Checks that `f` accepts its own output unchanged.
fn idempotent(
    f: impl Fn(&str) -> Result<String, trickle_rules::Refusal>,
    s: &str,
) -> Result<(), TestCaseError> {
    if let Ok(once) = f(s) {
        prop_assert_eq!(f(&once), Ok(once.clone()), "{:?} → {:?}", s, once);
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(1024))]

    #[test]
    fn fuzz_text(s in input(), multiline in any::<bool>(), min in prop::option::of(0u32..6), max in 1u32..30) {
        idempotent(|s| text::check(s.trim(), multiline, min, max), &s)?;
        let _ = text::json_len(&s);
    }

    #[test]
    fn fuzz_email(s in input()) {
        idempotent(|s| email::normalise(s, str::to_lowercase), s.trim())?;
        if let Ok(stored) = email::normalise(s.trim(), str::to_lowercase) {
            prop_assert!(email::split(&stored).is_ok());
        }
    }

    #[test]
    fn fuzz_phone(s in input()) {
        idempotent(phone::normalise, s.trim())?;
    }

    #[test]
    fn fuzz_url(s in input()) {
        idempotent(url::normalise, s.trim())?;
    }

    #[test]
    fn fuzz_country(s in input()) {
        idempotent(country::normalise, s.trim())?;
    }

    #[test]
    fn fuzz_other(s in input()) {
        idempotent(|s| choice::other(s).map(str::to_owned), &s)?;
    }

    #[test]
    fn fuzz_date(s in input(), lo in prop::option::of("[0-9]{4}-[0-9]{2}-[0-9]{2}"), hi in prop::option::of("[0-9]{4}-[0-9]{2}-[0-9]{2}")) {
        let (min, max) = (lo.and_then(|d| date::Date::parse(&d)), hi.and_then(|d| date::Date::parse(&d)));
        if let Ok(d) = date::check(s.trim(), min, max) {
            prop_assert_eq!(date::Date::parse(s.trim()), Some(d));
        }
    }

    #[test]
    fn fuzz_numbers(f in any::<f64>(), integer in any::<bool>(), min in prop::option::of(any::<f64>()), max in prop::option::of(any::<f64>()), lo in any::<i64>(), hi in any::<i64>()) {
        if number::check(f, integer, min, max).is_ok() {
            prop_assert!(f.is_finite());
            prop_assert!(!integer || number::is_whole(f));
        }
        let _ = number::check_scale(f, lo, hi);
    }
}
