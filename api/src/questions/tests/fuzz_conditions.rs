//! Fuzzing conditions: arbitrary JSON and generated conditions through the
//! strict parser, then the evaluator on arbitrary profiles and times. Nothing
//! panics, refusals say why, and evaluation keeps the documented laws: `not`
//! negates, a one-element `all`/`any` is its element, and each operator is
//! the exact complement of its negative form, values missing or not.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::super as q;
use super::generate::{KEYS, condition, scalar, tree};
use super::support::cases;
use q::{Condition, Operator, Profile, evaluate, parse_condition_json, set_path};

/// A profile's metadata: some of the known keys set to scalars or lists.
fn metadata() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        3 => scalar(),
        1 => prop::collection::vec(scalar(), 0..3).prop_map(Value::Array),
        1 => Just(json!({"nested": 1})),
        1 => Just(json!({"other": "x"})),
        1 => Just(json!(["a", {"other": "x"}])),
    ];
    prop::collection::vec((prop::sample::select(KEYS), value), 0..6).prop_map(|entries| {
        let mut m = Map::new();
        for (key, v) in entries {
            let key = key.strip_prefix("user_metadata.").unwrap_or(key);
            let key = key.strip_prefix("app_metadata.").unwrap_or(key);
            if q::paths::is_key_path(key) {
                set_path(&mut m, key, v);
            }
        }
        Value::Object(m)
    })
}

/// Any instant chrono can represent.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let (min, max) = (
        DateTime::<Utc>::MIN_UTC.timestamp(),
        DateTime::<Utc>::MAX_UTC.timestamp(),
    );
    prop_oneof![
        (min..=max).prop_map(|s| DateTime::from_timestamp(s, 0).expect("in range")),
        (1_500_000_000i64..1_900_000_000).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
    ]
}

fn negation(op: &Operator) -> Option<Operator> {
    Some(match op.clone() {
        Operator::Equals(v) => Operator::NotEquals(v),
        Operator::NotEquals(v) => Operator::Equals(v),
        Operator::In(v) => Operator::NotIn(v),
        Operator::NotIn(v) => Operator::In(v),
        Operator::Exists(b) => Operator::Exists(!b),
        Operator::HasOther(b) => Operator::HasOther(!b),
        Operator::Gte(_) | Operator::Lte(_) | Operator::Contains(_) => return None,
    })
}

/// Checks the laws on `c` and every sub-condition.
fn check_laws(c: &Condition, p: &Profile<'_>, now: DateTime<Utc>) -> Result<(), TestCaseError> {
    let holds = evaluate(c, p, now);
    let not = Condition::Not {
        not: Box::new(c.clone()),
    };
    prop_assert_eq!(evaluate(&not, p, now), !holds);
    let all = Condition::All {
        all: vec![c.clone()],
    };
    let any = Condition::Any {
        any: vec![c.clone()],
    };
    prop_assert_eq!(
        (evaluate(&all, p, now), evaluate(&any, p, now)),
        (holds, holds)
    );
    match c {
        Condition::All { all: list } | Condition::Any { any: list } => {
            for inner in list {
                check_laws(inner, p, now)?;
            }
        }
        Condition::Not { not } => check_laws(not, p, now)?,
        Condition::Compare { key, since, op } => {
            if let Some(neg) = negation(op) {
                let opposite = Condition::Compare {
                    key: key.clone(),
                    since: *since,
                    op: neg,
                };
                prop_assert_eq!(evaluate(&opposite, p, now), !holds, "{:?}", c);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn fuzz_any_json_as_a_condition(v in tree()) {
        if let Err(why) = parse_condition_json(&v) {
            prop_assert!(!why.is_empty());
        }
    }

    #[test]
    fn fuzz_conditions_on_profiles(
        c in condition(),
        user in metadata(),
        app in metadata(),
        login_count in any::<i64>(),
        first in prop::option::of(instant()),
        last in prop::option::of(instant()),
        now in instant(),
    ) {
        let parsed = match parse_condition_json(&c) {
            Ok(parsed) => parsed,
            Err(why) => {
                prop_assert!(!why.is_empty());
                return Ok(());
            }
        };
        let stored: Condition = serde_json::from_value(serde_json::to_value(&parsed).unwrap()).unwrap();
        prop_assert_eq!(&stored, &parsed, "the stored form loads back");
        let profile = Profile { user_metadata: &user, app_metadata: &app, login_count, first_login_at: first, last_login_at: last };
        prop_assert!(profile.days_since_first_login(now).is_none_or(|d| d >= 0));
        for path in ["days_since_first_login", "days_since_last_login"] {
            prop_assert!(profile.value(path, now).is_none_or(|d| d.as_i64().is_some_and(|d| d >= 0)));
        }
        check_laws(&parsed, &profile, now)?;
    }
}

#[test]
fn generated_conditions_are_often_accepted() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let accepted = (0..200)
        .filter(|_| {
            let c = condition().new_tree(&mut runner).unwrap().current();
            parse_condition_json(&c).is_ok()
        })
        .count();
    assert!(
        accepted >= 20,
        "only {accepted} of 200 generated conditions parse"
    );
}
