use super::SET;
use crate::common::{Backend, TestApp, expect_error, test_settings};
use reqwest::Method;
use serde_json::{Value, json};
use trickle::app::sites::user_hash;
use trickle::config::RateLimit;

async fn app_with_set(backend: Backend) -> (TestApp, i64) {
    let app = TestApp::spawn(backend).await;
    let version = app.publish_yaml("profile", SET).await;
    app.login("u1").await;
    (app, version)
}

/// Reports that the widget showed `key` of `version` to `user`.
async fn show(app: &TestApp, user: &str, version: i64, key: &str) {
    let target = json!({ "question_set": "profile", "version": version, "key": key });
    let response = app
        .widget(Method::POST, "/v1/widget/impressions", user)
        .json(&target)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

/// `POST /v1/widget/{kind}` for `key` of `version` (an answer carries `value`).
async fn post(
    app: &TestApp,
    kind: &str,
    version: i64,
    key: &str,
    value: Value,
) -> reqwest::Response {
    let mut body = json!({ "question_set": "profile", "version": version, "key": key });
    if kind == "answers" {
        body["value"] = value;
    }
    app.widget(Method::POST, &format!("/v1/widget/{kind}"), "u1")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn user_metadata(app: &TestApp, user: &str) -> Value {
    let profile: Value = app
        .server(Method::GET, &format!("/v1/users/{user}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    profile["user_metadata"].clone()
}

/// `SET` republished with another title: the earlier version is retired.
async fn publish_second_version(app: &TestApp) -> i64 {
    app.publish_yaml("profile", &SET.replace("Your role?", "What is your role?"))
        .await
}

async fn a_stage_not_reached_is_422_question_not_due(backend: Backend) {
    let (app, version) = app_with_set(backend).await;
    for kind in ["answers", "skips"] {
        let response = post(&app, kind, version, "address.city", json!("Berlin")).await;
        let body = expect_error(response, 422, "question_not_due").await;
        let details = &body["error"]["details"];
        assert_eq!(details["key"], "address.city", "{body}");
        assert_eq!(details["field"], "key", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("address.city"),
            "{body}"
        );
    }
    assert_eq!(user_metadata(&app, "u1").await, json!({}));
    // The first stage is due: its question is accepted without an impression (headless).
    assert_eq!(
        post(&app, "answers", version, "role", json!("dev"))
            .await
            .status(),
        200
    );
}

async fn a_retired_version_never_shown_is_422_question_not_due(backend: Backend) {
    let (app, old) = app_with_set(backend).await;
    let live = publish_second_version(&app).await;
    for kind in ["answers", "skips"] {
        let response = post(&app, kind, old, "role", json!("dev")).await;
        let body = expect_error(response, 422, "question_not_due").await;
        assert_eq!(body["error"]["details"]["version"], old, "{body}");
    }
    assert_eq!(user_metadata(&app, "u1").await, json!({}));
    assert_eq!(
        post(&app, "answers", live, "role", json!("dev"))
            .await
            .status(),
        200
    );
    // Answered: no longer due, and never shown, so a second answer is refused.
    let again = post(&app, "answers", live, "role", json!("pm")).await;
    expect_error(again, 422, "question_not_due").await;
    assert_eq!(user_metadata(&app, "u1").await, json!({ "role": "dev" }));
}

/// The widget showed a question, the answer failed to send and waited in the loader's
/// outbox; meanwhile the set was republished and the user logged in again. The answer,
/// sent at that later page view, still lands: losing it would be worse.
async fn a_late_outbox_answer_to_a_shown_question_lands(backend: Backend) {
    let (app, old) = app_with_set(backend).await;
    show(&app, "u1", old, "role").await;
    show(&app, "u1", old, "nickname").await;
    publish_second_version(&app).await;
    app.login("u1").await;
    assert_eq!(
        post(&app, "answers", old, "role", json!("pm"))
            .await
            .status(),
        200
    );
    assert_eq!(
        post(&app, "skips", old, "nickname", Value::Null)
            .await
            .status(),
        200
    );
    assert_eq!(user_metadata(&app, "u1").await, json!({ "role": "pm" }));
}

/// A version that is no longer live is parsed once: after the first answer naming it,
/// the stored definition is not read again (here it is broken behind the server's back,
/// and the second answer still validates against the cached version).
async fn an_old_version_is_parsed_once_then_cached(backend: Backend) {
    let (app, old) = app_with_set(backend).await;
    show(&app, "u1", old, "role").await;
    show(&app, "u1", old, "nickname").await;
    publish_second_version(&app).await;
    assert_eq!(
        post(&app, "answers", old, "role", json!("dev"))
            .await
            .status(),
        200
    );
    let broken = "UPDATE question_set_versions SET definition = '{\"broken\": true}' \
                  WHERE slug = 'profile' AND version = $1";
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(app.database_url()).await.unwrap();
            sqlx::query(broken).bind(old).execute(&pool).await.unwrap();
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(app.database_url()).await.unwrap();
            sqlx::query(broken).bind(old).execute(&pool).await.unwrap();
        }
    }
    let response = post(&app, "answers", old, "nickname", json!("ada")).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(
        user_metadata(&app, "u1").await,
        json!({ "role": "dev", "nickname": "ada" })
    );
}

async fn nothing_due_is_204(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.login("u1").await;
    let response = app
        .widget(Method::GET, "/v1/widget/next", "u1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let stranger = app
        .widget(Method::GET, "/v1/widget/next", "never-logged-in")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stranger.status(),
        204,
        "a user with no login has nothing due"
    );
}

async fn the_due_prompt_has_the_spec_shape_and_locale(backend: Backend) {
    let (app, version) = app_with_set(backend).await;
    let response = app
        .widget(Method::GET, "/v1/widget/next?locale=de-AT", "u1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        app.origin.as_str()
    );
    let body: Value = response.json().await.unwrap();
    let prompt = &body["prompt"];
    assert_eq!(prompt["question_set"], "profile");
    assert_eq!(prompt["version"], version);
    assert_eq!(prompt["stage"], 1);
    assert_eq!(prompt["position"], json!({ "index": 1, "of": 2 }));
    assert_eq!(prompt["locale"], "de");
    assert_eq!(prompt["question"]["key"], "role");
    assert_eq!(prompt["question"]["type"], "single_choice");
    assert_eq!(prompt["question"]["title"], "Ihre Rolle?");
    assert_eq!(prompt["question"]["options"][0]["value"], "dev");
}

async fn answering_stores_and_returns_the_next_prompt(backend: Backend) {
    let (app, version) = app_with_set(backend).await;
    let answer =
        json!({ "question_set": "profile", "version": version, "key": "role", "value": "dev" });
    let body: Value = app
        .widget(Method::POST, "/v1/widget/answers", "u1")
        .json(&answer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["next"]["question"]["key"], "nickname");
    assert_eq!(body["next"]["position"], json!({ "index": 2, "of": 2 }));
    let text =
        json!({ "question_set": "profile", "version": version, "key": "nickname", "value": "ada" });
    let body: Value = app
        .widget(Method::POST, "/v1/widget/answers", "u1")
        .json(&text)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["next"].is_null(), "stage 2 waits for login 2");
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
        json!({ "role": "dev", "nickname": "ada" })
    );
}

async fn invalid_answers_are_422_naming_the_rule_and_store_nothing(backend: Backend) {
    let (app, version) = app_with_set(backend).await;
    show(&app, "u1", version, "role").await;
    show(&app, "u1", version, "nickname").await;
    let cases = [
        ("role", json!("astronaut")),
        ("nickname", json!("x".repeat(21))),
        ("nickname", json!(5)),
        ("role", json!(null)),
    ];
    for (key, value) in cases {
        let answer =
            json!({ "question_set": "profile", "version": version, "key": key, "value": value });
        let response = app
            .widget(Method::POST, "/v1/widget/answers", "u1")
            .json(&answer)
            .send()
            .await
            .unwrap();
        let body = expect_error(response, 422, "invalid_answer").await;
        assert!(body["error"]["details"]["rule"].is_string(), "{body}");
        assert_eq!(body["error"]["details"]["field"], "value");
    }
    let profile: Value = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile["user_metadata"], json!({}));
    assert_eq!(profile["answers"], json!([]));
}

async fn answers_to_unknown_questions_or_users_are_404_and_big_ones_413(backend: Backend) {
    let (app, version) = app_with_set(backend).await;
    let send = |user: &str, body: Value| {
        app.widget(Method::POST, "/v1/widget/answers", user)
            .json(&body)
            .send()
    };
    let unknown_key =
        json!({ "question_set": "profile", "version": version, "key": "shoe_size", "value": "42" });
    expect_error(
        send("u1", unknown_key).await.unwrap(),
        404,
        "question_not_found",
    )
    .await;
    let unknown_version =
        json!({ "question_set": "profile", "version": 99, "key": "role", "value": "dev" });
    expect_error(
        send("u1", unknown_version).await.unwrap(),
        404,
        "question_set_version_not_found",
    )
    .await;
    let ghost =
        json!({ "question_set": "profile", "version": version, "key": "role", "value": "dev" });
    expect_error(send("ghost", ghost).await.unwrap(), 404, "user_not_found").await;
    let big = json!({ "question_set": "profile", "version": version, "key": "nickname", "value": "x".repeat(5000) });
    let body = expect_error(send("u1", big).await.unwrap(), 413, "answer_too_large").await;
    assert_eq!(body["error"]["details"]["field"], "value");
    let malformed = app
        .widget(Method::POST, "/v1/widget/answers", "u1")
        .json(&json!({ "key": "role" }))
        .send()
        .await
        .unwrap();
    expect_error(malformed, 400, "malformed_json").await;
}

async fn skips_and_dismissals_move_on(backend: Backend) {
    let (app, version) = app_with_set(backend).await;
    let skip = json!({ "question_set": "profile", "version": version, "key": "role" });
    let body: Value = app
        .widget(Method::POST, "/v1/widget/skips", "u1")
        .json(&skip)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["next"]["question"]["key"], "nickname");
    let dismiss = json!({ "question_set": "profile", "version": version, "key": "nickname", "forever": true });
    let body: Value = app
        .widget(Method::POST, "/v1/widget/skips", "u1")
        .json(&dismiss)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["next"].is_null());
    let unknown = json!({ "question_set": "nope", "version": 1, "key": "role" });
    let response = app
        .widget(Method::POST, "/v1/widget/skips", "u1")
        .json(&unknown)
        .send()
        .await
        .unwrap();
    expect_error(response, 404, "question_set_version_not_found").await;
}

async fn impressions_are_recorded(backend: Backend) {
    let (app, version) = app_with_set(backend).await;
    let target = json!({ "question_set": "profile", "version": version, "key": "role" });
    let response = app
        .widget(Method::POST, "/v1/widget/impressions", "u1")
        .json(&target)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let ghost = app
        .widget(Method::POST, "/v1/widget/impressions", "ghost")
        .json(&target)
        .send()
        .await
        .unwrap();
    expect_error(ghost, 404, "user_not_found").await;
    let bad = app
        .widget(Method::POST, "/v1/widget/impressions", "u1")
        .json(&json!({ "key": 1 }))
        .send()
        .await
        .unwrap();
    expect_error(bad, 400, "malformed_json").await;
}

/// The widget's headers without an `Origin` (headless use from a server) are enough;
/// what happens without each of them is in `auth.rs`.
async fn widget_calls_from_a_server_need_no_origin(backend: Backend) {
    let (app, _) = app_with_set(backend).await;
    let server_side = app
        .get("/v1/widget/next")
        .header("X-Trickle-Key", &app.keys.publishable_key)
        .header("X-Trickle-User", "u1")
        .header(
            "X-Trickle-User-Hash",
            user_hash(&app.keys.identity_secret, "u1"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        server_side.status(),
        200,
        "no Origin header (headless use from a server) is allowed"
    );
}

async fn cors_preflight_answers_allowed_origins_only(backend: Backend) {
    let (app, _) = app_with_set(backend).await;
    let preflight = |origin: &str| {
        app.request(Method::OPTIONS, "/v1/widget/answers")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type,x-trickle-key,x-trickle-user,x-trickle-user-hash",
            )
            .send()
    };
    let allowed = preflight(&app.origin).await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        app.origin.as_str()
    );
    let allow_headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allow_headers.contains("x-trickle-user-hash"));
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

async fn widget_calls_are_rate_limited_per_site_and_ip(backend: Backend) {
    let mut settings = test_settings();
    settings.rate_limit = RateLimit {
        widget_per_minute: 1,
        widget_burst: 3,
        ..settings.rate_limit
    };
    let app = TestApp::spawn_with(backend, settings).await;
    app.login("u1").await;
    for _ in 0..3 {
        let ok = app
            .widget(Method::GET, "/v1/widget/next", "u1")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 204);
    }
    let limited = app
        .widget(Method::GET, "/v1/widget/next", "u1")
        .send()
        .await
        .unwrap();
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=61).contains(&retry_after), "{retry_after}");
    expect_error(limited, 429, "rate_limited").await;
    let server = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        server.status(),
        200,
        "server endpoints are not widget-limited"
    );
}

async fn the_next_prompt_carries_the_sites_widget_settings(backend: Backend) {
    let (app, _) = app_with_set(backend).await;
    let patch = json!({ "widget_settings": { "corner": "top-left", "delay_ms": 500, "hide_on": ["/checkout/*"] } });
    let patched = app
        .server(Method::PATCH, "/v1/site")
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let body: Value = app
        .widget(Method::GET, "/v1/widget/next", "u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let settings = &body["settings"];
    assert_eq!(settings["corner"], "top-left");
    assert_eq!(settings["delay_ms"], 500);
    assert_eq!(settings["hide_on"], json!(["/checkout/*"]));
    assert_eq!(
        settings["theme"]["mode"], "auto",
        "untouched settings keep their defaults"
    );
    assert!(body["prompt"]["question"].is_object());
}

async fn the_minimum_interval_holds_new_page_views_but_not_the_open_widget(backend: Backend) {
    let (app, version) = app_with_set(backend).await;
    let patch = json!({ "widget_settings": { "min_hours_between_prompts": 24 } });
    let patched = app.server(Method::PATCH, "/v1/site").json(&patch).send();
    assert_eq!(patched.await.unwrap().status(), 200);
    let next = || app.widget(Method::GET, "/v1/widget/next", "u1").send();
    assert_eq!(next().await.unwrap().status(), 200, "never shown: due");

    let role = json!({ "question_set": "profile", "version": version, "key": "role" });
    let shown = app.widget(Method::POST, "/v1/widget/impressions", "u1");
    assert_eq!(shown.json(&role).send().await.unwrap().status(), 204);
    assert_eq!(
        next().await.unwrap().status(),
        204,
        "a new page view within 24 h gets nothing"
    );
    let explained: Value = app
        .server(Method::GET, "/v1/users/u1/next?explain=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(explained["prompt"].is_null());
    assert!(explained["held_until"].is_string(), "{explained}");

    let mut answer = role.clone();
    answer["value"] = json!("dev");
    let answered = app.widget(Method::POST, "/v1/widget/answers", "u1");
    let body: Value = answered
        .json(&answer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["next"]["question"]["key"], "nickname",
        "the open widget goes on to the next question"
    );
    let profile: Value = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(profile["last_prompted_at"].is_string(), "{profile}");
}

on_both_databases!(
    a_stage_not_reached_is_422_question_not_due,
    a_retired_version_never_shown_is_422_question_not_due,
    a_late_outbox_answer_to_a_shown_question_lands,
    an_old_version_is_parsed_once_then_cached,
    nothing_due_is_204,
    the_due_prompt_has_the_spec_shape_and_locale,
    answering_stores_and_returns_the_next_prompt,
    invalid_answers_are_422_naming_the_rule_and_store_nothing,
    answers_to_unknown_questions_or_users_are_404_and_big_ones_413,
    skips_and_dismissals_move_on,
    impressions_are_recorded,
    widget_calls_from_a_server_need_no_origin,
    cors_preflight_answers_allowed_origins_only,
    widget_calls_are_rate_limited_per_site_and_ip,
    the_next_prompt_carries_the_sites_widget_settings,
    the_minimum_interval_holds_new_page_views_but_not_the_open_widget,
);
