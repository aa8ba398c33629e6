//! Every way a request can fail to authenticate, across endpoints, as one table: what is
//! sent, and the status and error code it must get.

use super::SET;
use crate::common::{Backend, Call, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use trickle::app::sites::user_hash;

/// One request that must be refused.
struct Case {
    name: &'static str,
    request: fn(&TestApp) -> Call,
    status: u16,
    code: &'static str,
}

fn case(
    name: &'static str,
    status: u16,
    code: &'static str,
    request: fn(&TestApp) -> Call,
) -> Case {
    Case {
        name,
        request,
        status,
        code,
    }
}

/// A login as the server sends it, before credentials.
fn login(app: &TestApp) -> Call {
    app.request(Method::POST, "/v1/logins")
        .json(&json!({ "user_id": "u1" }))
}

/// `GET /v1/widget/next`, before any widget header.
fn next(app: &TestApp) -> Call {
    app.get("/v1/widget/next")
}

fn hash(app: &TestApp, user: &str) -> String {
    user_hash(&app.keys.identity_secret, user)
}

fn cases() -> Vec<Case> {
    vec![
        // Server endpoints: the secret key as a bearer token.
        case("a login without a key", 401, "missing_secret_key", login),
        case(
            "a login with a wrong secret key",
            401,
            "invalid_secret_key",
            |app| login(app).bearer_auth("sk_wrong"),
        ),
        case(
            "a login with the publishable key as the secret key",
            401,
            "invalid_secret_key",
            |app| login(app).bearer_auth(&app.keys.publishable_key),
        ),
        case(
            "a login with basic auth",
            401,
            "invalid_secret_key",
            |app| login(app).basic_auth("x", Some("y")),
        ),
        case(
            "a question set put without a key",
            401,
            "missing_secret_key",
            |app| {
                app.request(Method::PUT, "/v1/question-sets/profile")
                    .body(SET)
            },
        ),
        case(
            "the site read without a key",
            401,
            "missing_secret_key",
            |app| app.get("/v1/site"),
        ),
        case(
            "stats read without a key",
            401,
            "missing_secret_key",
            |app| app.get("/v1/stats/questions"),
        ),
        case(
            "users listed without a key",
            401,
            "missing_secret_key",
            |app| app.get("/v1/users"),
        ),
        case(
            "webhooks listed without a key",
            401,
            "missing_secret_key",
            |app| app.get("/v1/webhooks"),
        ),
        case(
            "enrichment providers read without a key",
            401,
            "missing_secret_key",
            |app| app.get("/v1/enrichment/providers"),
        ),
        case(
            "enrichment providers read with the publishable key",
            401,
            "invalid_secret_key",
            |app| {
                app.get("/v1/enrichment/providers")
                    .bearer_auth(&app.keys.publishable_key)
            },
        ),
        case(
            "a redelivery with a wrong secret key",
            401,
            "invalid_secret_key",
            |app| {
                app.request(Method::POST, "/v1/webhooks/wh_x/deliveries/msg_x/redeliver")
                    .bearer_auth("sk_wrong")
            },
        ),
        // Widget endpoints: publishable key, user, user hash and an allowed origin.
        case(
            "a widget call without a key",
            401,
            "missing_publishable_key",
            |app| {
                next(app)
                    .header("X-Trickle-User", "u1")
                    .header("X-Trickle-User-Hash", hash(app, "u1"))
            },
        ),
        case(
            "a widget call with the secret key",
            401,
            "invalid_publishable_key",
            |app| next(app).header("X-Trickle-Key", &app.keys.secret_key),
        ),
        case(
            "a widget call with a wrong key",
            401,
            "invalid_publishable_key",
            |app| next(app).header("X-Trickle-Key", "pk_nope"),
        ),
        case("a widget call without a user", 400, "missing_user", |app| {
            next(app).header("X-Trickle-Key", &app.keys.publishable_key)
        }),
        case(
            "a widget call with another user's hash",
            403,
            "invalid_user_hash",
            |app| {
                next(app)
                    .header("X-Trickle-Key", &app.keys.publishable_key)
                    .header("X-Trickle-User", "u2")
                    .header("X-Trickle-User-Hash", hash(app, "u1"))
            },
        ),
        case(
            "a widget call without a hash",
            403,
            "invalid_user_hash",
            |app| {
                next(app)
                    .header("X-Trickle-Key", &app.keys.publishable_key)
                    .header("X-Trickle-User", "u1")
            },
        ),
        case(
            "a widget call from a disallowed origin",
            403,
            "origin_not_allowed",
            |app| {
                app.widget(Method::GET, "/v1/widget/next", "u1")
                    .header("Origin", "https://evil.example")
            },
        ),
    ]
}

/// With a set published and `u1` logged in, so that each request would otherwise be
/// answered; every case is sent, and all that are answered wrongly are named.
async fn auth_failures_are_refused_with_their_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.publish_yaml("profile", SET).await;
    app.login("u1").await;
    let mut wrong = Vec::new();
    for case in cases() {
        let response = (case.request)(&app).send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let explained = body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty());
        if status != case.status || body["error"]["code"] != case.code || !explained {
            wrong.push(format!(
                "{}: expected {} {} with a message, got {status} {body}",
                case.name, case.status, case.code
            ));
        }
    }
    assert!(wrong.is_empty(), "answered wrongly:\n{}", wrong.join("\n"));
}

on_both_databases!(auth_failures_are_refused_with_their_code);
