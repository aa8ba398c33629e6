use super::SET;
use crate::common::{Backend, ONBOARDING, TestApp, expect_error};
use reqwest::Method;
use serde_json::{Value, json};

const BROKEN: &str = "slug: profile\ntitle: Broken\nstages:\n  - at_login: 0\n    questions:\n      - { key: a, type: sorcery, title: A }\n      - { key: b, type: single_choice, title: B }\n";

async fn drafts_are_versioned_and_published(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let put = app
        .server(Method::PUT, "/v1/question-sets/profile")
        .body(SET)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let draft: Value = put.json().await.unwrap();
    assert_eq!(
        (draft["version"].as_i64(), draft["published"].as_bool()),
        (Some(1), Some(false))
    );
    let again: Value = app
        .server(Method::PUT, "/v1/question-sets/profile")
        .body(SET)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["version"], 2);
    let published = app
        .server(Method::POST, "/v1/question-sets/profile/versions/1/publish")
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 200);
    let list: Value = app
        .server(Method::GET, "/v1/question-sets")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["slug"], "profile");
    assert_eq!(
        (
            list[0]["latest_version"].as_i64(),
            list[0]["live_version"].as_i64()
        ),
        (Some(2), Some(1))
    );
    let one: Value = app
        .server(Method::GET, "/v1/question-sets/profile")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["versions"].as_array().unwrap().len(), 2);
}

async fn the_example_onboarding_set_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.publish_yaml("onboarding", ONBOARDING).await;
}

async fn json_bodies_work_like_yaml(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let set = json!({ "slug": "js", "title": "From JSON", "stages": [
        { "at_login": 1, "questions": [{ "key": "age", "type": "number", "title": "Age?", "min": 0, "max": 130, "integer": true }] }
    ]});
    let put = app
        .server(Method::PUT, "/v1/question-sets/js")
        .json(&set)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
}

async fn an_invalid_set_lists_every_problem_with_positions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .server(Method::PUT, "/v1/question-sets/profile")
        .body(BROKEN)
        .send()
        .await
        .unwrap();
    let body = expect_error(response, 422, "invalid_question_set").await;
    let problems = body["error"]["details"]["problems"].as_array().unwrap();
    assert!(
        problems.len() >= 3,
        "at_login, unknown type and missing options: {body}"
    );
    for problem in problems {
        assert!(problem["line"].as_u64().unwrap() >= 1 && problem["column"].as_u64().unwrap() >= 1);
        let text = problem["text"].as_str().unwrap();
        assert!(text.starts_with("profile.yaml:"), "{text}");
    }
    assert!(
        problems.iter().any(|p| p["line"] == 4),
        "at_login: 0 is on line 4: {body}"
    );
    let list: Value = app
        .server(Method::GET, "/v1/question-sets")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]), "nothing was stored");
}

async fn the_same_problems_come_from_yaml_and_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let yaml = "slug: p\ntitle: P\nstages:\n  - at_login: 1\n    questions:\n      - {key: a, type: sorcery, title: A}\n";
    let json = r#"{"slug": "p", "title": "P", "stages": [{"at_login": 1, "questions": [{"key": "a", "type": "sorcery", "title": "A"}]}]}"#;
    let mut messages = Vec::new();
    for body in [yaml, json] {
        let response = app
            .server(Method::PUT, "/v1/question-sets/p")
            .body(body)
            .send()
            .await
            .unwrap();
        let body = expect_error(response, 422, "invalid_question_set").await;
        let list: Vec<String> = body["error"]["details"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["message"].as_str().unwrap().to_owned())
            .collect();
        messages.push(list);
    }
    assert_eq!(messages[0], messages[1]);
}

async fn the_slug_must_match_the_url(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .server(Method::PUT, "/v1/question-sets/other")
        .body(SET)
        .send()
        .await
        .unwrap();
    let body = expect_error(response, 422, "invalid_question_set").await;
    assert!(
        body["error"]["details"]["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );
}

async fn publishing_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let missing = app
        .server(Method::POST, "/v1/question-sets/none/versions/1/publish")
        .send()
        .await
        .unwrap();
    expect_error(missing, 404, "question_set_version_not_found").await;
    let bad = app
        .server(Method::POST, "/v1/question-sets/none/versions/one/publish")
        .send()
        .await
        .unwrap();
    expect_error(bad, 400, "invalid_version").await;
    let unknown = app
        .server(Method::GET, "/v1/question-sets/none")
        .send()
        .await
        .unwrap();
    expect_error(unknown, 404, "question_set_not_found").await;
    let huge = format!("{SET}\n# {}", "x".repeat(300 * 1024));
    let too_big = app
        .server(Method::PUT, "/v1/question-sets/profile")
        .body(huge)
        .send()
        .await
        .unwrap();
    expect_error(too_big, 413, "body_too_large").await;
    let binary = app
        .server(Method::PUT, "/v1/question-sets/profile")
        .body(vec![0xff, 0xfe])
        .send()
        .await
        .unwrap();
    expect_error(binary, 400, "malformed_body").await;
}

/// Issue 9's "billion laughs" document: aliases that expand to 25 GB of text.
fn alias_bomb() -> String {
    let mut bomb = format!("a0: &a0 \"{}\"\n", "x".repeat(250_000));
    for i in 1..=5 {
        let aliases = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{aliases}]\n"));
    }
    bomb
}

async fn an_alias_bomb_is_refused_quickly_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let started = std::time::Instant::now();
    let response = app
        .server(Method::PUT, "/v1/question-sets/profile")
        .body(alias_bomb())
        .send()
        .await
        .unwrap();
    let body = expect_error(response, 422, "invalid_question_set").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let problem = &body["error"]["details"]["problems"][0];
    assert_eq!(
        (problem["line"].as_u64(), problem["column"].as_u64()),
        (Some(2), Some(25)),
    );
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("bytes of text"),
        "{body}"
    );
    let list: Value = app
        .server(Method::GET, "/v1/question-sets")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]), "nothing was stored");
}

async fn a_pattern_the_widget_cannot_compile_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let set = "slug: p\ntitle: P\nstages:\n  - at_login: 1\n    questions:\n      \
               - { key: a, type: text, title: A, pattern: \"(?i)[a-z]+\" }\n";
    let response = app
        .server(Method::PUT, "/v1/question-sets/p")
        .body(set)
        .send()
        .await
        .unwrap();
    let body = expect_error(response, 422, "invalid_question_set").await;
    let text = body["error"]["details"]["problems"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.starts_with("p.yaml:6:50: `pattern`: `(?i)` at character 1 is not portable"),
        "{text}"
    );
}

on_both_databases!(
    an_alias_bomb_is_refused_quickly_and_stores_nothing,
    a_pattern_the_widget_cannot_compile_is_refused,
    drafts_are_versioned_and_published,
    the_example_onboarding_set_is_accepted,
    json_bodies_work_like_yaml,
    an_invalid_set_lists_every_problem_with_positions,
    the_same_problems_come_from_yaml_and_json,
    the_slug_must_match_the_url,
    publishing_errors,
);
