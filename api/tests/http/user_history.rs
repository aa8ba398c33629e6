//! `GET /v1/users/{id}/history`: logins and prompt events newest first, paged by a
//! cursor (ties of one instant included), with its refusals; and the profile's
//! `sources`, which name where each value came from, the API included.

use super::SET;
use crate::common::{Backend, TestApp, expect_error};
use reqwest::Method;
use serde_json::{Value, json};

/// Posts a widget call for `u1` on version `version` of the `profile` set.
async fn prompt(app: &TestApp, call: &str, version: i64, key: &str, extra: Value) {
    let mut body = json!({ "question_set": "profile", "version": version, "key": key });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let response = app
        .widget(Method::POST, &format!("/v1/widget/{call}"), "u1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{call}: {}",
        response.status()
    );
}

async fn login(app: &TestApp, user: &str, body: Value) {
    let mut body = body;
    body["user_id"] = json!(user);
    let response = app
        .server(Method::POST, "/v1/logins")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn history(app: &TestApp, user: &str, query: &str) -> Value {
    let path = format!("/v1/users/{user}/history{query}");
    let response = app.server(Method::GET, &path).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

fn kinds(page: &Value) -> Vec<&str> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

async fn history_lists_logins_and_prompt_events_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let version = app.publish_yaml("profile", SET).await;
    login(
        &app,
        "u1",
        json!({ "ip": "203.0.113.9", "user_agent": "Firefox/1" }),
    )
    .await;
    prompt(&app, "impressions", version, "role", json!({})).await;
    prompt(&app, "answers", version, "role", json!({ "value": "dev" })).await;
    prompt(&app, "impressions", version, "nickname", json!({})).await;
    prompt(
        &app,
        "skips",
        version,
        "nickname",
        json!({ "forever": false }),
    )
    .await;
    login(&app, "u1", json!({ "ip": "198.51.100.7" })).await;
    prompt(&app, "impressions", version, "address.city", json!({})).await;
    prompt(
        &app,
        "skips",
        version,
        "address.city",
        json!({ "forever": true }),
    )
    .await;

    let page = history(&app, "u1", "").await;
    assert_eq!(
        kinds(&page),
        [
            "dismissed",
            "shown",
            "login",
            "skipped",
            "shown",
            "answered",
            "shown",
            "login"
        ],
        "{page}"
    );
    assert_eq!(page["next_cursor"], Value::Null);
    let events = page["events"].as_array().unwrap();
    assert_eq!(events[0]["login_count"], 2, "dismissed at login 2");
    let newest = &events[2];
    assert_eq!(
        (&newest["login_count"], &newest["ip"]),
        (&json!(2), &json!("198.51.100.7"))
    );
    assert!(newest.get("question_set").is_none(), "{newest}");
    let first = &events[7];
    assert_eq!(
        (&first["login_count"], &first["ip"], &first["user_agent"]),
        (&json!(1), &json!("203.0.113.9"), &json!("Firefox/1"))
    );
    let answered = &events[5];
    assert_eq!(
        (
            &answered["question_set"],
            &answered["version"],
            &answered["key"],
            &answered["login_count"]
        ),
        (
            &json!("profile"),
            &json!(version),
            &json!("role"),
            &json!(1)
        )
    );
    assert!(answered.get("ip").is_none());
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
}

async fn history_pages_with_a_cursor_through_ties(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    login(&app, "u1", json!({})).await;
    // Three logins of one instant: only the cursor's tie-break keeps them apart.
    let instant = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    for event in ["evt-b", "evt-a", "evt-c"] {
        login(
            &app,
            "u1",
            json!({ "event_id": event, "occurred_at": instant }),
        )
        .await;
    }
    login(&app, "u2", json!({})).await;
    let whole = history(&app, "u1", "").await;
    assert_eq!(whole["events"].as_array().unwrap().len(), 4);
    for limit in [1, 2, 3] {
        let mut seen = Vec::new();
        let mut query = format!("?limit={limit}");
        loop {
            let page = history(&app, "u1", &query).await;
            let events = page["events"].as_array().unwrap();
            assert!(events.len() <= limit, "{page}");
            seen.extend(events.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    assert_eq!(events.len(), limit);
                    query = format!("?limit={limit}&after={cursor}");
                }
                None => break,
            }
        }
        assert_eq!(&Value::Array(seen), &whole["events"], "limit {limit}");
    }
    let counts: Vec<i64> = whole["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["login_count"].as_i64().unwrap())
        .collect();
    let mut sorted = counts.clone();
    sorted.sort();
    assert_eq!(sorted, [1, 2, 3, 4], "each login once: {counts:?}");
    assert_eq!(
        counts[0], 1,
        "the newest login is the first one, an hour later"
    );
}

async fn history_refusals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    login(&app, "u1", json!({})).await;
    for limit in ["0", "1001"] {
        let response = app
            .server(Method::GET, &format!("/v1/users/u1/history?limit={limit}"))
            .send()
            .await
            .unwrap();
        let body = expect_error(response, 400, "invalid_limit").await;
        assert_eq!(body["error"]["details"]["field"], "limit");
    }
    let response = app
        .server(Method::GET, "/v1/users/u1/history?limit=1000")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for cursor in ["nonsense", "MTox", "%E2%9C%93"] {
        let response = app
            .server(Method::GET, &format!("/v1/users/u1/history?after={cursor}"))
            .send()
            .await
            .unwrap();
        let body = expect_error(response, 400, "invalid_cursor").await;
        assert_eq!(body["error"]["details"]["field"], "after");
    }
    let response = app
        .server(Method::GET, "/v1/users/u1/history?page=2")
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "malformed_query").await;
    let response = app
        .server(Method::GET, "/v1/users/u%01/history")
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_user_id").await;
    let response = app
        .server(Method::GET, "/v1/users/nobody/history")
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "user_not_found").await;
    let response = app.get("/v1/users/u1/history").send().await.unwrap();
    assert_eq!(response.status(), 401);
    let other = app.trickle.sites().create("Other", vec![]).await.unwrap();
    let response = app
        .request(Method::GET, "/v1/users/u1/history")
        .bearer_auth(&other.secret_key)
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "user_not_found").await;
}

async fn the_profile_names_each_values_source(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let version = app.publish_yaml("profile", SET).await;
    login(&app, "u1", json!({ "profile": { "locale": "de" } })).await;
    prompt(&app, "answers", version, "role", json!({ "value": "dev" })).await;
    let patch =
        json!({ "user_metadata": { "newsletter": true }, "app_metadata": { "plan": "pro" } });
    let response = app
        .server(Method::PATCH, "/v1/users/u1")
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let profile: Value = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let source = |path: &str| -> Value {
        profile["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"] == path)
            .unwrap_or_else(|| panic!("{path}: {profile}"))
            .clone()
    };
    let role = source("user_metadata.role");
    assert_eq!(
        (
            &role["source"],
            &role["question_set"],
            &role["version"],
            &role["value"]
        ),
        (
            &json!("answer"),
            &json!("profile"),
            &json!(version),
            &json!("dev")
        )
    );
    assert!(role["at"].is_string());
    assert_eq!(source("user_metadata.newsletter")["source"], "api");
    assert_eq!(source("app_metadata.plan")["source"], "api");
    let locale = source("app_metadata.idp.locale");
    assert_eq!(
        (&locale["source"], &locale["value"]),
        (&json!("identity_provider"), &json!("de"))
    );
    assert!(locale["at"].is_string());
    assert_eq!(profile["sources"].as_array().unwrap().len(), 4, "{profile}");
}

on_both_databases!(
    history_lists_logins_and_prompt_events_newest_first,
    history_pages_with_a_cursor_through_ties,
    history_refusals,
    the_profile_names_each_values_source,
);
