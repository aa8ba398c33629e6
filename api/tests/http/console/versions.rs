//! Versions: the list, diffs between any two, publishing after a warning about the
//! answers it would orphan, and rolling back.

use reqwest::Method;
use serde_json::{Value, json};

use super::{admin, location, page, page_html, post_form, sign_in};
use crate::common::{Backend, TestApp};
use crate::http::SET;
use trickle::model::Role;

/// `SET` without `nickname`, without the option `pm`, and with a condition on the city.
const NEXT: &str = r#"
slug: profile
title: Profile
default_locale: en
settings: { max_prompts_per_login: 3 }
stages:
  - at_login: 1
    questions:
      - key: role
        type: single_choice
        title: { en: "Your role?", de: "Ihre Rolle?" }
        options: [dev, student]
  - at_login: 2
    questions:
      - { key: address.city, type: text, title: "City?", when: { key: role, equals: dev } }
"#;

fn set_path(app: &TestApp, rest: &str) -> String {
    format!(
        "/console/sites/{}/question-sets/profile{rest}",
        app.keys.site_id
    )
}

/// `user` logs in and answers `key` through the widget.
async fn answer(app: &TestApp, user: &str, key: &str, value: Value) {
    let body = json!({ "question_set": "profile", "version": 1, "key": key, "value": value });
    let response = app
        .widget(Method::POST, "/v1/widget/answers", user)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn live_version(app: &TestApp) -> Option<i64> {
    app.trickle
        .store()
        .question_sets(&app.keys.site_id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.slug == "profile")
        .and_then(|s| s.live_version)
}

async fn publish(app: &TestApp, cookie: &str, version: i64) -> reqwest::Response {
    let path = set_path(app, &format!("/versions/{version}/publish"));
    post_form(app, &path, Some(cookie), &[])
        .send()
        .await
        .unwrap()
}

async fn versions_are_compared_published_with_a_warning_and_rolled_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    app.publish_yaml("profile", SET).await;
    for (user, role) in [("u1", "dev"), ("u2", "pm"), ("u3", "pm")] {
        app.login(user).await;
        answer(&app, user, "role", json!(role)).await;
    }
    answer(&app, "u1", "nickname", json!("ace")).await;
    let saved = post_form(
        &app,
        &set_path(&app, "/drafts"),
        Some(&cookie),
        &[("source", NEXT)],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(location(&saved), set_path(&app, "?saved=2"));

    let list = page_html(&app, &set_path(&app, "/versions"), Some(&cookie)).await;
    assert!(
        list.contains("<td><strong>live</strong></td>") && list.contains("<td>draft</td>"),
        "{list}"
    );
    assert!(list.contains(&format!(
        r#"<a href="{}">Publish v2…</a>"#,
        set_path(&app, "/versions/2/publish")
    )));
    assert!(list.contains(r#"<select id="diff-from" name="from">"#));

    let diff = page_html(&app, &set_path(&app, "/diff?from=1&to=2"), Some(&cookie)).await;
    let summary = |label: &str| {
        diff.split(&format!("<dt>{label}</dt><dd>"))
            .nth(1)
            .and_then(|rest| rest.split("</dd>").next())
            .unwrap_or_else(|| panic!("{label} in {diff}"))
            .trim()
            .to_owned()
    };
    assert_eq!(summary("Questions added"), "none");
    assert_eq!(summary("Questions removed"), "<code>nickname</code>");
    assert_eq!(
        summary("Questions changed"),
        "<code>role</code> <code>address.city</code>"
    );
    assert_eq!(summary("Options removed"), "<code>role: pm</code>");
    assert_eq!(summary("Conditions changed"), "<code>address.city</code>");
    assert!(
        diff.contains(r#"<span class="del">-        options: [dev, pm, student]</span>"#),
        "{diff}"
    );
    assert!(diff.contains(r#"<span class="ins">+        options: [dev, student]</span>"#));
    assert!(diff.contains(r#"<span class="hunk"> @@ -"#));

    let confirm = page_html(&app, &set_path(&app, "/versions/2/publish"), Some(&cookie)).await;
    assert!(
        confirm.contains("Existing answers would be orphaned"),
        "{confirm}"
    );
    assert!(confirm.contains("question <code>nickname</code>: 1 user</li>"));
    assert!(confirm.contains("option <code>pm</code> of <code>role</code>: 2 users</li>"));
    assert_eq!(
        live_version(&app).await,
        Some(1),
        "the warning publishes nothing"
    );

    let published = publish(&app, &cookie, 2).await;
    assert_eq!(
        location(&published),
        set_path(&app, "/versions?published=2")
    );
    assert_eq!(live_version(&app).await, Some(2));
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(
        (entry.action.as_str(), entry.detail.as_str()),
        ("question_set.publish", "v2")
    );
    app.login("u1").await;
    let due: Value = app
        .widget(Method::GET, "/v1/widget/next", "u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&due["prompt"]["version"], &due["prompt"]["question"]["key"]),
        (&json!(2), &json!("address.city")),
        "the widget asks from v2 now"
    );

    let back = page_html(&app, &set_path(&app, "/versions/1/publish"), Some(&cookie)).await;
    assert!(
        back.contains("Roll back profile to v1")
            && back.contains("No existing answers would be orphaned"),
        "{back}"
    );
    let rolled = publish(&app, &cookie, 1).await;
    assert_eq!(location(&rolled), set_path(&app, "/versions?published=1"));
    assert_eq!(live_version(&app).await, Some(1));
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(
        (
            entry.action.as_str(),
            entry.detail.as_str(),
            entry.actor.as_str()
        ),
        ("question_set.roll_back", "v1 (was v2)", "ann@example.com")
    );
    let list = page_html(
        &app,
        &set_path(&app, "/versions?published=1"),
        Some(&cookie),
    )
    .await;
    assert!(list.contains("Version 1 is live.") && list.contains("Publish v2…"));
    assert!(list.contains("<td>published before</td>"));
    let versions = app
        .trickle
        .store()
        .question_set_versions(&app.keys.site_id, "profile")
        .await
        .unwrap();
    assert_eq!(versions.len(), 2, "a roll back copies nothing");
}

async fn unknown_versions_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    app.publish_yaml("profile", SET).await;
    for path in [
        "/versions/9/publish",
        "/versions/x/publish",
        "/diff?from=1&to=9",
        "/diff?from=a&to=1",
        "?version=7",
    ] {
        let response = page(&app, &set_path(&app, path), Some(&cookie))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let missing = format!(
        "/console/sites/{}/question-sets/nope/versions",
        app.keys.site_id
    );
    assert_eq!(
        page(&app, &missing, Some(&cookie))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(publish(&app, &cookie, 9).await.status(), 404);
    assert_eq!(live_version(&app).await, Some(1));
    let confirm = page_html(&app, &set_path(&app, "/versions/1/publish"), Some(&cookie)).await;
    assert!(confirm.contains("v1 is already live"), "{confirm}");
}

on_both_databases!(
    versions_are_compared_published_with_a_warning_and_rolled_back,
    unknown_versions_are_not_found,
);
