//! Conditions evaluated in the database agree with the engine's own evaluator: random
//! profiles (values of every JSON type, dates around today, lists, nested keys, logins
//! on whole-day boundaries) and random conditions, on both databases. Listing and
//! counting users with a filter must give exactly the users `Condition::holds` picks.

use chrono::{DateTime, Datelike, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use std::sync::Arc;

use super::{login, service};
use trickle::app::logins::LoginRequest;
use trickle::model::{MetadataLimits, User};
use trickle::questions::{Condition, parse_condition_json};
use trickle::store::Store;

const LIMITS: MetadataLimits = MetadataLimits {
    user_metadata_bytes: 64 * 1024,
    app_metadata_bytes: 256 * 1024,
};
const USERS: usize = 60;
const CONDITIONS: usize = 400;

const USER_KEYS: &[&str] = &["role", "age", "birthday", "tags", "company.size", "a.b"];
const APP_KEYS: &[&str] = &["enrichment.geo.country", "idp.birthdate"];
const CONDITION_KEYS: &[&str] = &[
    "role",
    "age",
    "birthday",
    "tags",
    "company.size",
    "company",
    "a.b",
    "a.b.0",
    "user_metadata.role",
    "app_metadata.enrichment.geo.country",
    "app_metadata.idp.birthdate",
    "login_count",
    "days_since_first_login",
    "days_since_last_login",
];

/// Dates as text around today: ages on and beside their anniversary, leap days,
/// invalid and future dates, timestamps, and text that only looks like a date.
fn date_text(rng: &mut StdRng, now: DateTime<Utc>) -> String {
    let today = now.date_naive();
    match rng.random_range(0..8) {
        0 => (today - Duration::days(near_a_bound(rng).into()))
            .format("%Y-%m-%d")
            .to_string(),
        1 => {
            let years = near_a_bound(rng);
            let shift = rng.random_range(-1..=1);
            let anniversary = today
                .with_year(today.year() - years)
                .unwrap_or(today - Duration::days(365 * i64::from(years)));
            (anniversary + Duration::days(shift))
                .format("%Y-%m-%d")
                .to_string()
        }
        2 => "2004-02-29".into(),
        3 => "2023-02-29".into(),
        4 => format!(
            "{}T23:59:59+05:00",
            (today - Duration::days(rng.random_range(0..40))).format("%Y-%m-%d")
        ),
        5 => "0000-03-01".into(),
        6 => "2024-13-01".into(),
        _ => "1990-1-01x".into(),
    }
}

/// A whole number of days or years on or beside one of the bounds [`number`] draws, so
/// that every comparison meets values on both sides of its cut-off.
fn near_a_bound(rng: &mut StdRng) -> i32 {
    let bound = [0, 1, 2, 7, 20, 30, 31, 40][rng.random_range(0..8)];
    bound + rng.random_range(-1..=1)
}

fn scalar(rng: &mut StdRng, now: DateTime<Utc>) -> Value {
    match rng.random_range(0..16) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => json!(rng.random_range(-3..40)),
        3 => json!(f64::from(rng.random_range(-3..40))),
        4 => json!(2.5),
        5 => json!(9_007_199_254_740_993_i64),
        6 => json!(""),
        7 => json!("dev"),
        8 => json!("ä"),
        9 => json!("30"),
        10 => json!("a"),
        // Strings spelt as the JSON text SQLite reads a list or an object as.
        11 => json!(["[\"dev\"]", "{\"x\":1}", "[]"][rng.random_range(0..3)]),
        _ => Value::String(date_text(rng, now)),
    }
}

fn value(rng: &mut StdRng, now: DateTime<Utc>) -> Value {
    match rng.random_range(0..12) {
        0 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| element(rng, now))
                .collect(),
        ),
        1 => json!({"x": 1}),
        2 => other_answer(rng),
        _ => scalar(rng, now),
    }
}

/// A list element: mostly a scalar, sometimes a free "Other" answer or another object.
fn element(rng: &mut StdRng, now: DateTime<Utc>) -> Value {
    match rng.random_range(0..6) {
        0 => other_answer(rng),
        1 => json!({"x": 1}),
        _ => scalar(rng, now),
    }
}

/// A free "Other" answer as choice questions store it, or a near miss.
fn other_answer(rng: &mut StdRng) -> Value {
    match rng.random_range(0..4) {
        0 => json!({"other": "yoga"}),
        1 => json!({"other": ""}),
        2 => json!({"other": null}),
        _ => json!({"others": "x"}),
    }
}

fn metadata(rng: &mut StdRng, now: DateTime<Utc>, keys: &[&str]) -> Value {
    let mut map = Map::new();
    for key in keys {
        if rng.random_bool(0.6) {
            trickle::questions::set_path(&mut map, key, value(rng, now));
        }
    }
    Value::Object(map)
}

fn operand(rng: &mut StdRng, now: DateTime<Utc>) -> Value {
    loop {
        let v = scalar(rng, now);
        if !v.is_null() {
            return v;
        }
    }
}

/// A number of years, days or logins, whole or not.
fn number(rng: &mut StdRng) -> Value {
    let n: f64 = [0.0, 1.0, 2.0, 7.0, 20.0, 30.5, 40.0, -1.0][rng.random_range(0..8)];
    if n.fract() == 0.0 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

fn condition(rng: &mut StdRng, now: DateTime<Utc>, depth: u32) -> Value {
    if depth < 3 && rng.random_bool(0.3) {
        let inner: Vec<Value> = (0..rng.random_range(0..4))
            .map(|_| condition(rng, now, depth + 1))
            .collect();
        return match rng.random_range(0..3) {
            0 => json!({ "all": inner }),
            1 => json!({ "any": inner }),
            _ => json!({ "not": condition(rng, now, depth + 1) }),
        };
    }
    let key = CONDITION_KEYS[rng.random_range(0..CONDITION_KEYS.len())];
    let op = [
        "equals",
        "not_equals",
        "in",
        "not_in",
        "exists",
        "gte",
        "lte",
        "contains",
        "has_other",
    ][rng.random_range(0..9)];
    let since = rng.random_bool(0.25);
    let argument = match op {
        "exists" | "has_other" => json!(rng.random_bool(0.5)),
        "in" | "not_in" => Value::Array(
            (0..rng.random_range(0..3))
                .map(|_| {
                    if since {
                        number(rng)
                    } else {
                        operand(rng, now)
                    }
                })
                .collect(),
        ),
        _ if since || key.starts_with("days_since") || key == "login_count" => {
            if rng.random_bool(0.9) {
                number(rng)
            } else {
                operand(rng, now)
            }
        }
        _ => operand(rng, now),
    };
    if since {
        let unit = if rng.random_bool(0.5) {
            "years"
        } else {
            "days"
        };
        json!({ "key": key, "since": unit, op: argument })
    } else {
        json!({ "key": key, op: argument })
    }
}

/// Creates a user whose first and latest logins are whole days (or days and seconds)
/// before `now`, with random metadata.
async fn user(
    trickle: &trickle::App,
    store: &Arc<dyn Store>,
    site: &trickle::model::Site,
    id: &str,
    rng: &mut StdRng,
    now: DateTime<Utc>,
) {
    let first_days = rng.random_range(0..40);
    let jitter = if rng.random_bool(0.5) {
        Duration::zero()
    } else {
        Duration::seconds(rng.random_range(-3..=3))
    };
    let first = now - Duration::days(first_days) + jitter;
    let first = first.min(now);
    let logins = rng.random_range(1..4);
    for n in 0..logins {
        let at = if n == 0 {
            first
        } else {
            (first + Duration::days(rng.random_range(0..=first_days))).min(now)
        };
        let request = LoginRequest {
            occurred_at: Some(at),
            ..login(id)
        };
        trickle.logins().record(site, request).await.unwrap();
    }
    let user_metadata = metadata(rng, now, USER_KEYS);
    let app_metadata = metadata(rng, now, APP_KEYS);
    let edit = move |u: &mut Value, a: &mut Value| {
        *u = user_metadata.clone();
        *a = app_metadata.clone();
    };
    store
        .edit_user(&site.site_id, id, &edit, LIMITS, &[])
        .await
        .unwrap()
        .expect("the user exists");
}

fn ids(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.user_id.as_str()).collect()
}

async fn conditions_in_the_database_agree_with_the_evaluator(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let now = trickle::model::now();
    let mut rng = StdRng::seed_from_u64(20261202);
    for n in 0..USERS {
        user(&trickle, &store, &site, &format!("u{n:02}"), &mut rng, now).await;
    }
    let everyone = store
        .list_users(&site.site_id, None, now, None, 1000)
        .await
        .unwrap();
    assert_eq!(everyone.len(), USERS);

    let (mut checked, mut nonempty, mut partial, mut others) = (0, 0, 0, 0);
    for _ in 0..CONDITIONS * 3 {
        if checked == CONDITIONS {
            break;
        }
        let text = condition(&mut rng, now, 0);
        let Ok(parsed) = parse_condition_json(&text) else {
            continue;
        };
        checked += 1;
        let expected: Vec<&User> = everyone
            .iter()
            .filter(|u| parsed.holds(&u.profile(), now))
            .collect();
        let found = store
            .list_users(&site.site_id, Some(&parsed), now, None, 1000)
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let expected_ids: Vec<&str> = expected.iter().map(|u| u.user_id.as_str()).collect();
        assert_eq!(ids(&found), expected_ids, "{text}");
        let count = store
            .count_users(&site.site_id, Some(&parsed), now)
            .await
            .unwrap();
        assert_eq!(count, expected_ids.len() as i64, "{text}");
        nonempty += usize::from(!expected_ids.is_empty());
        let splits = !expected_ids.is_empty() && expected_ids.len() < USERS;
        partial += usize::from(splits);
        others += usize::from(splits && text.to_string().contains("has_other"));
    }
    assert_eq!(checked, CONDITIONS, "the generator makes valid conditions");
    // The comparison means something only if conditions pick some users, not all.
    assert!(
        partial > CONDITIONS / 4,
        "{partial} of {checked} split the users"
    );
    assert!(nonempty > CONDITIONS / 3);
    assert!(
        others >= 10,
        "{others} `has_other` conditions split the users"
    );
}

/// The classic segments, by hand: "signed up and never came back" and "aged 20–40,
/// interested in fitness", with the boundaries that matter.
async fn the_classic_segments_pick_the_right_users(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let now = trickle::model::now();
    let today = now.date_naive();
    let born = |years: i32, shift: i64| {
        (today.with_year(today.year() - years).unwrap_or(today) + Duration::days(shift))
            .format("%Y-%m-%d")
            .to_string()
    };
    let people = [
        ("gone", 8, 1, json!({})),
        ("new", 6, 1, json!({})),
        ("back", 30, 2, json!({})),
        (
            "fit20",
            1,
            1,
            json!({"birthday": born(20, 0), "interests": ["fitness"]}),
        ),
        (
            "fit19",
            1,
            1,
            json!({"birthday": born(20, 1), "interests": ["fitness", "golf"]}),
        ),
        (
            "fit41",
            1,
            1,
            json!({"birthday": born(41, 0), "interests": ["fitness"]}),
        ),
        (
            "fit40",
            1,
            1,
            json!({"birthday": born(41, 1), "interests": ["fitness"]}),
        ),
        (
            "golf",
            1,
            1,
            json!({"birthday": born(30, 0), "interests": ["golf"]}),
        ),
    ];
    for (id, days_ago, logins, answers) in people {
        for n in 0..logins {
            let at = now - Duration::days(days_ago) + Duration::hours(n);
            let request = LoginRequest {
                occurred_at: Some(at),
                ..login(id)
            };
            trickle.logins().record(&site, request).await.unwrap();
        }
        let edit = move |u: &mut Value, _: &mut Value| *u = answers.clone();
        store
            .edit_user(&site.site_id, id, &edit, LIMITS, &[])
            .await
            .unwrap();
    }
    let pick = |text: Value| {
        let store = store.clone();
        let site_id = site.site_id.clone();
        async move {
            let condition: Condition = parse_condition_json(&text).unwrap();
            let users = store
                .list_users(&site_id, Some(&condition), now, None, 100)
                .await
                .unwrap();
            users.into_iter().map(|u| u.user_id).collect::<Vec<_>>()
        }
    };
    let never_came_back = json!({"all": [
        {"key": "login_count", "equals": 1},
        {"key": "days_since_first_login", "gte": 7}
    ]});
    assert_eq!(pick(never_came_back).await, ["gone"]);
    let fit_20_to_40 = json!({"all": [
        {"key": "birthday", "since": "years", "gte": 20},
        {"key": "birthday", "since": "years", "lte": 40},
        {"key": "interests", "contains": "fitness"}
    ]});
    assert_eq!(pick(fit_20_to_40).await, ["fit20", "fit40"]);
    let not_seen = json!({"key": "days_since_last_login", "gte": 7});
    assert_eq!(pick(not_seen).await, ["back", "gone"]);
}

conformance!(
    conditions_in_the_database_agree_with_the_evaluator,
    the_classic_segments_pick_the_right_users,
);
