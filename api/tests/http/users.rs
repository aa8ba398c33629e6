use super::SET;
use crate::common::{Backend, TestApp, expect_error};
use reqwest::Method;
use serde_json::{Value, json};

async fn app_with_answer(backend: Backend) -> (TestApp, i64) {
    let app = TestApp::spawn(backend).await;
    let version = app.publish_yaml("profile", SET).await;
    app.login("u1").await;
    let answer =
        json!({ "question_set": "profile", "version": version, "key": "role", "value": "dev" });
    let response = app
        .widget(Method::POST, "/v1/widget/answers", "u1")
        .json(&answer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    (app, version)
}

async fn the_profile_shows_answers_with_their_source(backend: Backend) {
    let (app, version) = app_with_answer(backend).await;
    let profile: Value = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile["user_id"], "u1");
    assert_eq!(profile["user_metadata"], json!({ "role": "dev" }));
    assert_eq!(profile["answers"][0]["question_set"], "profile");
    assert_eq!(profile["answers"][0]["version"], version);
    assert!(profile["answers"][0]["answered_at"].is_string());
}

async fn user_ids_in_paths_are_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let long = "x".repeat(256);
    let response = app
        .server(Method::GET, &format!("/v1/users/{long}"))
        .send()
        .await
        .unwrap();
    expect_error(response, 400, "invalid_user_id").await;
    app.login("with/slash").await;
    let response = app
        .server(Method::GET, "/v1/users/with%2Fslash")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "percent-encoded ids work");
}

async fn patch_merges_metadata(backend: Backend) {
    let (app, _) = app_with_answer(backend).await;
    let patch = json!({ "user_metadata": { "plan": "pro", "role": null }, "app_metadata": { "crm": { "id": 42 } } });
    let user: Value = app
        .server(Method::PATCH, "/v1/users/u1")
        .json(&patch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["user_metadata"], json!({ "plan": "pro" }));
    assert_eq!(user["app_metadata"], json!({ "crm": { "id": 42 } }));
}

async fn bad_patches_are_refused_and_lose_nothing(backend: Backend) {
    let (app, _) = app_with_answer(backend).await;
    let not_object = app
        .server(Method::PATCH, "/v1/users/u1")
        .json(&json!({ "user_metadata": [1] }))
        .send()
        .await
        .unwrap();
    let body = expect_error(not_object, 400, "invalid_field").await;
    assert_eq!(body["error"]["details"]["field"], "user_metadata");
    let unknown = app
        .server(Method::PATCH, "/v1/users/u1")
        .json(&json!({ "metadata": {} }))
        .send()
        .await
        .unwrap();
    expect_error(unknown, 400, "malformed_json").await;
    let big = json!({ "user_metadata": { "blob": "x".repeat(70 * 1024) } });
    let too_big = app
        .server(Method::PATCH, "/v1/users/u1")
        .json(&big)
        .send()
        .await
        .unwrap();
    let body = expect_error(too_big, 413, "metadata_too_large").await;
    assert_eq!(body["error"]["details"]["field"], "user_metadata");
    let ghost = app
        .server(Method::PATCH, "/v1/users/ghost")
        .json(&json!({ "user_metadata": {} }))
        .send()
        .await
        .unwrap();
    expect_error(ghost, 404, "user_not_found").await;
    let profile: Value = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        profile["user_metadata"],
        json!({ "role": "dev" }),
        "nothing stored was lost"
    );
}

async fn delete_erases_the_user(backend: Backend) {
    let (app, _) = app_with_answer(backend).await;
    let deleted = app
        .server(Method::DELETE, "/v1/users/u1")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    expect_error(
        app.server(Method::GET, "/v1/users/u1")
            .send()
            .await
            .unwrap(),
        404,
        "user_not_found",
    )
    .await;
    expect_error(
        app.server(Method::DELETE, "/v1/users/u1")
            .send()
            .await
            .unwrap(),
        404,
        "user_not_found",
    )
    .await;
    assert_eq!(app.login("u1").await["signed_up"], true);
}

/// Events about the user still waiting in the outbox are dropped with the user: the
/// delivery log shows only `user.deleted`, which names the user and nothing else.
async fn delete_drops_the_users_pending_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let events = [
        "user.signed_up",
        "user.logged_in",
        "profile.answered",
        "user.deleted",
    ];
    let created: Value = app
        .server(Method::POST, "/v1/webhooks")
        .json(&json!({ "url": "http://127.0.0.1:9/hook", "events": events }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let version = app.publish_yaml("profile", SET).await;
    app.login("u1").await;
    let answer =
        json!({ "question_set": "profile", "version": version, "key": "role", "value": "dev" });
    let answered = app
        .widget(Method::POST, "/v1/widget/answers", "u1")
        .json(&answer)
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    let deleted = app
        .server(Method::DELETE, "/v1/users/u1")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    while app.trickle.jobs().work_once().await.unwrap() > 0 {}
    let id = created["id"].as_str().unwrap();
    let log: Value = app
        .server(Method::GET, &format!("/v1/webhooks/{id}/deliveries"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["event_type"], "user.deleted");
    assert_eq!(log[0]["payload"]["data"], json!({ "user_id": "u1" }));
}

async fn users_are_listed_filtered_and_paginated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for user in ["a", "b", "c", "d"] {
        app.login(user).await;
    }
    app.login("c").await;
    let page: Value = app
        .server(Method::GET, "/v1/users?limit=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["users"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .server(Method::GET, &format!("/v1/users?limit=10&after={cursor}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = rest["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c", "d"]);
    assert!(rest["next_cursor"].is_null());
    let filter = json!({ "key": "login_count", "gte": 2 }).to_string();
    let filtered: Value = app
        .server(Method::GET, "/v1/users")
        .query(&[("where", filter.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["users"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["users"][0]["user_id"], "c");
}

async fn users_export_as_csv(backend: Backend) {
    let (app, _) = app_with_answer(backend).await;
    let response = app
        .server(Method::GET, "/v1/users?format=csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = response.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "user_id,email,name,login_count,first_login_at,last_login_at,user_metadata.role"
    );
    assert!(lines.next().unwrap().starts_with("u1,,,1,"));
}

/// Cells a spreadsheet would run as formulas are exported as text (OWASP's `'` prefix);
/// JSON numbers, negative ones too, stay numbers.
async fn csv_cells_cannot_run_as_formulas(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let set = "slug: notes\ntitle: Notes\ndefault_locale: en\nstages:\n  - at_login: 1\n    questions:\n      - { key: motto, type: text, title: \"Motto?\" }\n";
    let version = app.publish_yaml("notes", set).await;
    app.login("-u1").await;
    let formula = r#"=HYPERLINK("http://x","y")"#;
    let answer =
        json!({ "question_set": "notes", "version": version, "key": "motto", "value": formula });
    let response = app
        .widget(Method::POST, "/v1/widget/answers", "-u1")
        .json(&answer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let patch = json!({ "app_metadata": { "balance": -5, "note": "@SUM(1)", "tab": "\tx", "cr": "\rx", "plus": "+1" } });
    let response = app
        .server(Method::PATCH, "/v1/users/-u1")
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = app
        .server(Method::GET, "/v1/users?format=csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let cell = |name: &str| row[header.iter().position(|h| h == name).unwrap()].to_owned();
    assert_eq!(cell("user_metadata.motto"), format!("'{formula}"));
    assert_eq!(cell("user_id"), "'-u1");
    assert_eq!(cell("app_metadata.note"), "'@SUM(1)");
    assert_eq!(cell("app_metadata.tab"), "'\tx");
    assert_eq!(cell("app_metadata.cr"), "'\rx");
    assert_eq!(cell("app_metadata.plus"), "'+1");
    assert_eq!(cell("app_metadata.balance"), "-5", "numbers stay numbers");
    assert_eq!(cell("login_count"), "1");
}

async fn bad_list_queries_are_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bad_json = app
        .server(Method::GET, "/v1/users")
        .query(&[("where", "{nope")])
        .send()
        .await
        .unwrap();
    let body = expect_error(bad_json, 400, "invalid_where").await;
    assert_eq!(body["error"]["details"]["field"], "where");
    let bad_condition = app
        .server(Method::GET, "/v1/users")
        .query(&[("where", r#"{"key":"x","sorta":1}"#)])
        .send()
        .await
        .unwrap();
    expect_error(bad_condition, 400, "invalid_where").await;
    let format = app
        .server(Method::GET, "/v1/users?format=xml")
        .send()
        .await
        .unwrap();
    expect_error(format, 400, "invalid_format").await;
    let limit = app
        .server(Method::GET, "/v1/users?limit=ten")
        .send()
        .await
        .unwrap();
    expect_error(limit, 400, "malformed_query").await;
    // Out of range is refused, not quietly clamped (the document says 1–1000).
    for out_of_range in ["0", "1001"] {
        let response = app
            .server(Method::GET, "/v1/users")
            .query(&[("limit", out_of_range)])
            .send()
            .await
            .unwrap();
        let body = expect_error(response, 400, "invalid_limit").await;
        assert_eq!(body["error"]["details"]["field"], "limit");
    }
    let unknown = app
        .server(Method::GET, "/v1/users?colour=red")
        .send()
        .await
        .unwrap();
    expect_error(unknown, 400, "malformed_query").await;
}

async fn next_explains_its_decision(backend: Backend) {
    let (app, _) = app_with_answer(backend).await;
    let plain: Value = app
        .server(Method::GET, "/v1/users/u1/next")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plain["prompt"]["question"]["key"], "nickname");
    assert!(plain.get("decisions").is_none());
    let explained: Value = app
        .server(Method::GET, "/v1/users/u1/next?explain=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let decisions = explained["decisions"].as_array().unwrap();
    assert!(decisions.len() >= 2, "{explained}");
    assert_eq!(decisions[0]["key"], "role");
    let ghost = app
        .server(Method::GET, "/v1/users/ghost/next")
        .send()
        .await
        .unwrap();
    expect_error(ghost, 404, "user_not_found").await;
    let bad = app
        .server(Method::GET, "/v1/users/u1/next?explain=maybe")
        .send()
        .await
        .unwrap();
    expect_error(bad, 400, "malformed_query").await;
}

on_both_databases!(
    the_profile_shows_answers_with_their_source,
    user_ids_in_paths_are_checked,
    patch_merges_metadata,
    bad_patches_are_refused_and_lose_nothing,
    delete_erases_the_user,
    delete_drops_the_users_pending_events,
    users_are_listed_filtered_and_paginated,
    users_export_as_csv,
    csv_cells_cannot_run_as_formulas,
    bad_list_queries_are_400,
    next_explains_its_decision,
);
