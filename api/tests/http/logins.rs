use crate::common::{Backend, TestApp, expect_error};
use reqwest::Method;
use serde_json::{Value, json};

async fn a_login_is_counted_and_a_retry_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({ "user_id": "u1", "event_id": "evt-1", "ip": "203.0.113.9", "user_agent": "Firefox",
                       "email": "ada@example.com", "name": "Ada" });
    let first: Value = app
        .server(Method::POST, "/v1/logins")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["login_count"], 1);
    assert_eq!(first["signed_up"], true);
    assert_eq!(first["user_id"], "u1");
    let retry: Value = app
        .server(Method::POST, "/v1/logins")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(retry, first);
    let second = app.login("u1").await;
    assert_eq!(
        (
            second["login_count"].as_i64(),
            second["signed_up"].as_bool()
        ),
        (Some(2), Some(false))
    );
    let profile: Value = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile["email"], "ada@example.com");
    assert_eq!(profile["last_ip"], "203.0.113.9");
}

async fn malformed_logins_are_400_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let send = |body: String| {
        app.server(Method::POST, "/v1/logins")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    expect_error(
        send("{not json".into()).await.unwrap(),
        400,
        "malformed_json",
    )
    .await;
    expect_error(
        send(r#"{"user":"u1"}"#.into()).await.unwrap(),
        400,
        "malformed_json",
    )
    .await;
    expect_error(
        send(r#"{"user_id":"u1","extra":1}"#.into()).await.unwrap(),
        400,
        "malformed_json",
    )
    .await;
    let long = json!({ "user_id": "x".repeat(256) }).to_string();
    let body = expect_error(send(long).await.unwrap(), 400, "invalid_user_id").await;
    assert_eq!(body["error"]["details"]["field"], "user_id");
    expect_error(
        send(json!({ "user_id": "" }).to_string()).await.unwrap(),
        400,
        "invalid_user_id",
    )
    .await;
    let ip = expect_error(
        send(json!({ "user_id": "u", "ip": "999.1.1.1" }).to_string())
            .await
            .unwrap(),
        400,
        "invalid_field",
    )
    .await;
    assert_eq!(ip["error"]["details"]["field"], "ip");
    let email = expect_error(
        send(json!({ "user_id": "u", "email": "nope" }).to_string())
            .await
            .unwrap(),
        400,
        "invalid_field",
    )
    .await;
    assert_eq!(email["error"]["details"]["field"], "email");
    let future = json!({ "user_id": "u", "occurred_at": "2999-01-01T00:00:00Z" }).to_string();
    let body = expect_error(send(future).await.unwrap(), 400, "invalid_field").await;
    assert_eq!(body["error"]["details"]["field"], "occurred_at");
    let plain = app
        .server(Method::POST, "/v1/logins")
        .body(r#"{"user_id":"u"}"#)
        .send()
        .await
        .unwrap();
    expect_error(plain, 400, "malformed_json").await;
    let missing = app.server(Method::GET, "/v1/users/u").send().await.unwrap();
    expect_error(missing, 404, "user_not_found").await;
}

async fn a_reused_event_id_for_another_user_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.server(Method::POST, "/v1/logins")
        .json(&json!({ "user_id": "a", "event_id": "e" }))
        .send()
        .await
        .unwrap();
    let reused = app
        .server(Method::POST, "/v1/logins")
        .json(&json!({ "user_id": "b", "event_id": "e" }))
        .send()
        .await
        .unwrap();
    expect_error(reused, 409, "event_id_reused").await;
}

async fn bodies_over_256_kib_are_413(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let huge = json!({ "user_id": "u", "name": "x".repeat(300 * 1024) });
    let response = app
        .server(Method::POST, "/v1/logins")
        .json(&huge)
        .send()
        .await
        .unwrap();
    expect_error(response, 413, "body_too_large").await;
}

async fn an_idp_profile_is_stored_and_skips_a_known_question(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let set = r#"
slug: birthday
title: Birthday
stages:
  - at_login: 1
    questions:
      - { key: birthday, type: date, title: "Your birthday?", skip_if_known: app_metadata.idp.birthdate }
      - { key: city, type: text, title: "Your city?", prefill: app_metadata.idp.location.name }
"#;
    app.publish_yaml("birthday", set).await;
    let profile = json!({ "given_name": "Ada", "birthdate": "1990-12-10", "location": { "name": "London" },
                          "handles": ["@ada"] });
    let login = app
        .server(Method::POST, "/v1/logins")
        .json(&json!({ "user_id": "u1", "profile": profile }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let user: Value = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["app_metadata"]["idp"]["birthdate"], "1990-12-10");
    assert_eq!(user["app_metadata"]["idp"]["handles"], json!(["@ada"]));
    assert!(user["app_metadata"]["idp"]["received_at"].is_string());
    assert_eq!(user["user_metadata"], json!({}), "claims are not answers");
    let next: Value = app
        .server(Method::GET, "/v1/users/u1/next?explain=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        next["prompt"]["question"]["key"], "city",
        "the birthday is known from the identity provider: {next}"
    );
    assert_eq!(next["prompt"]["question"]["prefill"], "London");
    let birthday = next["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["key"] == "birthday")
        .expect("birthday was considered");
    assert_eq!(birthday["verdict"]["kind"], "known_via_skip_if_known");
}

async fn a_bad_idp_profile_is_400_naming_the_claim_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let send = |profile: Value| {
        app.server(Method::POST, "/v1/logins")
            .json(&json!({ "user_id": "u1", "profile": profile }))
            .send()
    };
    let many: serde_json::Map<String, Value> =
        (0..65).map(|i| (format!("c{i}"), json!(i))).collect();
    let cases = [
        (json!({ "bad key": 1 }), "profile"),
        (
            json!({ "received_at": "2026-01-01" }),
            "profile.received_at",
        ),
        (
            json!({ "a": { "b": { "c": { "d": 1 } } } }),
            "profile.a.b.c",
        ),
        (json!({ "bio": "x".repeat(17 * 1024) }), "profile"),
        (Value::Object(many), "profile"),
    ];
    for (profile, field) in cases {
        let body = expect_error(send(profile).await.unwrap(), 400, "invalid_field").await;
        assert_eq!(body["error"]["details"]["field"], field, "{body}");
    }
    expect_error(send(json!("Ada")).await.unwrap(), 400, "malformed_json").await;
    let missing = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap();
    expect_error(missing, 404, "user_not_found").await;
}

on_both_databases!(
    an_idp_profile_is_stored_and_skips_a_known_question,
    a_bad_idp_profile_is_400_naming_the_claim_and_stores_nothing,
    a_login_is_counted_and_a_retry_changes_nothing,
    malformed_logins_are_400_naming_the_field,
    a_reused_event_id_for_another_user_is_a_conflict,
    bodies_over_256_kib_are_413,
);
