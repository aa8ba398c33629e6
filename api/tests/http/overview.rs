//! `GET /v1/stats/overview` and `GET /v1/stats/completeness` on small populations whose
//! figures are worked out by hand: the days at the windows' edges, days without
//! activity, the denominator of completeness; the refusals; another site's data.

use super::SET;
use crate::common::{Backend, TestApp, expect_error};
use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use trickle::providers::{Lookup, Provider, ProviderError, Subject};

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap().and_utc()
}

/// Reports a login of `user` that occurred at `at` (or now).
pub async fn login_at(app: &TestApp, user: &str, at: Option<DateTime<Utc>>) {
    let mut body = json!({ "user_id": user });
    if let Some(at) = at {
        body["occurred_at"] = json!(at);
    }
    let response = app
        .server(Method::POST, "/v1/logins")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The widget's report for `user`: `impressions`, `answers` (with `value`) or `skips`
/// (`forever` for a dismissal).
pub async fn widget(app: &TestApp, user: &str, kind: &str, version: i64, key: &str, extra: Value) {
    let mut body = json!({ "question_set": "profile", "version": version, "key": key });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    let response = app
        .widget(Method::POST, &format!("/v1/widget/{kind}"), user)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{kind} {key}: {}",
        response.text().await.unwrap()
    );
}

pub async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = app.server(Method::GET, path).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Three users with logins on the windows' edges and four prompts today; returns today.
///
/// | user | logins (UTC)                                   | today's prompts        |
/// | u2   | today−30 23:59:59.999999 (new), today−7 23:59:59.999999 | role shown     |
/// | u1   | today−29 00:00 (new), today−6 00:00, now        | role shown, dismissed  |
/// | u3   | now (new)                                       | role shown, answered; nickname shown, skipped |
pub async fn overview_population(app: &TestApp) -> NaiveDate {
    let version = app.publish_yaml("profile", SET).await;
    let today = Utc::now().date_naive();
    let day = |back: u64| today.checked_sub_days(Days::new(back)).unwrap();
    let last_moment =
        |back: u64| midnight(day(back)) + Duration::days(1) - Duration::microseconds(1);
    login_at(app, "u2", Some(last_moment(30))).await;
    login_at(app, "u2", Some(last_moment(7))).await;
    login_at(app, "u1", Some(midnight(day(29)))).await;
    login_at(app, "u1", Some(midnight(day(6)))).await;
    login_at(app, "u1", None).await;
    login_at(app, "u3", None).await;
    widget(app, "u3", "impressions", version, "role", json!({})).await;
    widget(
        app,
        "u3",
        "answers",
        version,
        "role",
        json!({ "value": "dev" }),
    )
    .await;
    widget(app, "u3", "impressions", version, "nickname", json!({})).await;
    widget(app, "u3", "skips", version, "nickname", json!({})).await;
    widget(app, "u1", "impressions", version, "role", json!({})).await;
    widget(
        app,
        "u1",
        "skips",
        version,
        "role",
        json!({ "forever": true }),
    )
    .await;
    widget(app, "u2", "impressions", version, "role", json!({})).await;
    today
}

fn zero_day(day: NaiveDate) -> Value {
    json!({ "day": day, "logins": 0, "new_users": 0, "shown": 0, "answered": 0,
            "skipped": 0, "dismissed": 0, "answer_rate": null })
}

async fn the_overview_counts_each_utc_day_of_both_windows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let today = overview_population(&app).await;
    // Another site's activity today is not counted.
    let other = app.trickle.sites().create("Other", vec![]).await.unwrap();
    let other_login = app
        .request(Method::POST, "/v1/logins")
        .bearer_auth(&other.secret_key)
        .json(&json!({ "user_id": "u9" }))
        .send()
        .await
        .unwrap();
    assert_eq!(other_login.status(), 200);

    let overview = get_json(&app, "/v1/stats/overview").await;
    if Utc::now().date_naive() != today {
        return; // midnight passed during the test: the figures moved a day
    }
    assert_eq!(overview["today"], json!(today));
    let day = |back: u64| today.checked_sub_days(Days::new(back)).unwrap();
    let week = &overview["windows"][0];
    assert_eq!(week["days"], 7);
    assert_eq!(week["first_day"], json!(day(6)));
    assert_eq!(week["last_day"], json!(today));
    assert_eq!(
        week["totals"],
        json!({ "logins": 3, "new_users": 1, "shown": 4, "answered": 1, "skipped": 1,
                "dismissed": 1, "answer_rate": 0.25 })
    );
    let daily = week["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 7, "one entry per day");
    assert_eq!(
        daily[0],
        json!({ "day": day(6), "logins": 1, "new_users": 0, "shown": 0, "answered": 0,
                "skipped": 0, "dismissed": 0, "answer_rate": null }),
        "the first day starts at midnight"
    );
    for (i, entry) in daily.iter().enumerate().take(6).skip(1) {
        assert_eq!(
            *entry,
            zero_day(day(6 - i as u64)),
            "a day without activity"
        );
    }
    assert_eq!(
        daily[6],
        json!({ "day": today, "logins": 2, "new_users": 1, "shown": 4, "answered": 1,
                "skipped": 1, "dismissed": 1, "answer_rate": 0.25 })
    );

    let month = &overview["windows"][1];
    assert_eq!(month["days"], 30);
    assert_eq!(month["first_day"], json!(day(29)));
    assert_eq!(
        month["totals"],
        json!({ "logins": 5, "new_users": 2, "shown": 4, "answered": 1, "skipped": 1,
                "dismissed": 1, "answer_rate": 0.25 }),
        "today−30 is outside; today−29 at midnight and today−7 at its last moment inside"
    );
    let daily = month["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 30);
    assert_eq!(
        (daily[0]["logins"].as_i64(), daily[0]["new_users"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(daily[22]["day"], json!(day(7)));
    assert_eq!(daily[22]["logins"], 1);
    assert_eq!(daily[23]["logins"], 1);
    let busy_days = daily.iter().filter(|d| d["logins"] != 0).count();
    assert_eq!(busy_days, 4);
}

async fn the_overview_window_moves_with_now(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let today = overview_population(&app).await;
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    let stats = app.trickle.stats();
    // Six days on, today's prompts are on the first day of the 7-day window ...
    let later = midnight(today) + Duration::days(6) + Duration::hours(12);
    let overview = stats.overview(&site, later).await.unwrap();
    let week = &overview.windows[0];
    assert_eq!(week.first_day, today);
    assert_eq!(week.daily[0].figures.shown, 4);
    assert_eq!((week.totals.shown, week.totals.logins), (4, 2));
    // ... and a day later, outside it but still inside the 30 days.
    let overview = stats
        .overview(&site, later + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(overview.windows[0].totals.shown, 0);
    assert_eq!(overview.windows[0].totals.answer_rate, None);
    assert_eq!(overview.windows[1].totals.shown, 4);
}

async fn completeness_is_the_share_of_users_who_reached_each_login(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let version = app.publish_yaml("profile", SET).await;
    // a: 1 login, answers role at login 1.
    login_at(&app, "a", None).await;
    widget(&app, "a", "impressions", version, "role", json!({})).await;
    widget(
        &app,
        "a",
        "answers",
        version,
        "role",
        json!({ "value": "dev" }),
    )
    .await;
    // b: 2 logins, answers role at login 2.
    login_at(&app, "b", None).await;
    login_at(&app, "b", None).await;
    widget(&app, "b", "impressions", version, "role", json!({})).await;
    widget(
        &app,
        "b",
        "answers",
        version,
        "role",
        json!({ "value": "pm" }),
    )
    .await;
    // c: 3 logins, answers nickname at login 1 and address.city at login 2.
    login_at(&app, "c", None).await;
    widget(&app, "c", "impressions", version, "nickname", json!({})).await;
    widget(
        &app,
        "c",
        "answers",
        version,
        "nickname",
        json!({ "value": "cee" }),
    )
    .await;
    login_at(&app, "c", None).await;
    widget(&app, "c", "impressions", version, "address.city", json!({})).await;
    widget(
        &app,
        "c",
        "answers",
        version,
        "address.city",
        json!({ "value": "Oslo" }),
    )
    .await;
    login_at(&app, "c", None).await;
    // d: 1 login, nothing.
    login_at(&app, "d", None).await;

    let completeness = get_json(&app, "/v1/stats/completeness").await;
    assert_eq!(completeness["logins"], 4, "the last stage (2) plus two");
    assert_eq!(completeness["reached"], json!([4, 2, 1, 0]));
    assert_eq!(
        completeness["rows"],
        json!([
            { "key": "role", "source": "answer", "held": [1, 1, 0, 0],
              "share": [0.25, 0.5, 0.0, null] },
            { "key": "nickname", "source": "answer", "held": [1, 1, 1, 0],
              "share": [0.25, 0.5, 1.0, null] },
            { "key": "address.city", "source": "answer", "held": [0, 1, 1, 0],
              "share": [0.0, 0.5, 1.0, null] },
        ])
    );
}

/// Finds a company for `@acme.example` addresses, nothing for others.
struct Company;

#[async_trait::async_trait]
impl Provider for Company {
    fn name(&self) -> &str {
        "company"
    }
    fn ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(3600)
    }
    async fn lookup(&self, subject: &Subject) -> Result<Lookup, ProviderError> {
        match &subject.email {
            Some(email) if email.ends_with("@acme.example") => Ok(Lookup::Found(
                serde_json::from_value(json!({ "name": "Acme" })).unwrap(),
            )),
            _ => Ok(Lookup::NothingKnown),
        }
    }
}

async fn completeness_counts_enrichment_from_the_login_it_was_fetched_at(backend: Backend) {
    let app = TestApp::spawn_customised(backend, crate::common::test_settings(), |t| {
        t.with_providers(vec![Arc::new(Company)])
    })
    .await;
    let login = |user: &'static str, email: &'static str| {
        let app = &app;
        async move {
            let response = app
                .server(Method::POST, "/v1/logins")
                .json(&json!({ "user_id": user, "email": email }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
    };
    let work = || async { while app.trickle.jobs().work_once().await.unwrap() > 0 {} };
    // a: found at login 1. b: found at login 1, then a second login.
    // c: nothing found. d: two logins before the job ran: found at login 2.
    login("a", "a@acme.example").await;
    login("b", "b@acme.example").await;
    login("c", "c@other.example").await;
    work().await;
    login("b", "b@acme.example").await;
    login("d", "d@acme.example").await;
    login("d", "d@acme.example").await;
    work().await;

    let completeness = get_json(&app, "/v1/stats/completeness").await;
    assert_eq!(completeness["logins"], 3, "no live set: logins 1 to 3");
    assert_eq!(completeness["reached"], json!([4, 2, 0]));
    assert_eq!(
        completeness["rows"],
        json!([{ "key": "enrichment.company", "source": "enrichment", "held": [2, 2, 0],
                 "share": [0.5, 1.0, null] }])
    );
}

async fn the_insights_endpoints_refuse_requests_without_the_secret_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/v1/stats/overview", "/v1/stats/completeness"] {
        let missing = app.get(path).send().await.unwrap();
        expect_error(missing, 401, "missing_secret_key").await;
        let wrong = app.get(path).bearer_auth("sk_wrong").send().await.unwrap();
        expect_error(wrong, 401, "invalid_secret_key").await;
        let publishable = app
            .get(path)
            .bearer_auth(&app.keys.publishable_key)
            .send()
            .await
            .unwrap();
        assert_eq!(publishable.status(), 401, "{path} with the publishable key");
    }
}

async fn another_sites_key_sees_only_its_own_site(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    overview_population(&app).await;
    let other = app.trickle.sites().create("Other", vec![]).await.unwrap();
    let get = |path: &'static str| {
        app.request(Method::GET, path)
            .bearer_auth(&other.secret_key)
            .send()
    };
    let overview: Value = get("/v1/stats/overview")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for window in overview["windows"].as_array().unwrap() {
        assert_eq!(window["totals"]["logins"], 0);
        assert_eq!(window["totals"]["shown"], 0);
    }
    let completeness: Value = get("/v1/stats/completeness")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(completeness["rows"], json!([]));
    assert_eq!(completeness["reached"], json!([0, 0, 0]));
}

on_both_databases!(
    the_overview_counts_each_utc_day_of_both_windows,
    the_overview_window_moves_with_now,
    completeness_is_the_share_of_users_who_reached_each_login,
    completeness_counts_enrichment_from_the_login_it_was_fetched_at,
    the_insights_endpoints_refuse_requests_without_the_secret_key,
    another_sites_key_sees_only_its_own_site,
);
