//! Simulating a login in the editor: the questions due in order and the engine's
//! reasons for the others, for a made-up profile or a real user; bad input refused.

use super::editor::{set_path, signed_in_owner};
use super::post_form;
use crate::common::{Backend, TestApp};
use crate::http::SET;

async fn simulate(app: &TestApp, cookie: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut all = vec![("source", SET)];
    all.extend_from_slice(fields);
    let response = post_form(app, &set_path(app, "/profile/simulate"), Some(cookie), &all)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The keys of the questions shown, in order.
fn shown(html: &str) -> Vec<String> {
    let list = html
        .split(r#"<ol class="shown">"#)
        .nth(1)
        .map_or("", |l| l.split("</ol>").next().unwrap());
    list.split("<li><code>")
        .skip(1)
        .map(|item| item.split('<').next().unwrap().to_owned())
        .collect()
}

async fn simulating_a_login_lists_due_questions_and_the_engines_reasons(backend: Backend) {
    let (app, cookie) = signed_in_owner(backend).await;
    app.publish_yaml("profile", SET).await;
    let (status, first) = simulate(&app, &cookie, &[("login", "1"), ("user_metadata", "{}")]).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(shown(&first), ["role", "nickname"]);
    assert!(first.contains("<td><code>address.city</code></td><td>profile (this draft)</td><td>2</td><td>its stage starts at login 2</td>"), "{first}");

    let (_, second) = simulate(
        &app,
        &cookie,
        &[("login", "2"), ("user_metadata", r#"{"role": "dev"}"#)],
    )
    .await;
    assert_eq!(shown(&second), ["nickname", "address.city"]);
    assert!(second.contains("already known: the key has a value"));

    app.login("u1").await;
    let (status, real) = simulate(&app, &cookie, &[("login", "2"), ("user_id", "u1")]).await;
    assert_eq!(status, 200);
    assert!(real.contains("At login 2 for <code>u1</code>"));
    assert_eq!(shown(&real), ["role", "nickname", "address.city"]);

    for (fields, status, message) in [
        (
            vec![("login", "2"), ("user_id", "ghost")],
            404,
            "user not found",
        ),
        (
            vec![("login", "1"), ("user_metadata", "{nope")],
            400,
            "user_metadata: is not JSON",
        ),
        (
            vec![("login", "1"), ("user_metadata", "[1]")],
            400,
            "user_metadata: must be a JSON object",
        ),
        (
            vec![("login", "0")],
            400,
            "login: must be a login number from 1 to 1000000",
        ),
        (vec![("login", "x")], 400, "login: must be a whole number"),
        (
            vec![("login", "1"), ("days_since_first_login", "-1")],
            400,
            "days_since_first_login",
        ),
    ] {
        let (got, html) = simulate(&app, &cookie, &fields).await;
        assert_eq!(got, status, "{fields:?}: {html}");
        assert!(html.contains(message), "{fields:?}: {html}");
    }
    let invalid = post_form(
        &app,
        &set_path(&app, "/profile/simulate"),
        Some(&cookie),
        &[("source", "slug: profile\n"), ("login", "1")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(invalid.status(), 422);
    assert!(
        invalid
            .text()
            .await
            .unwrap()
            .contains("fix them to simulate")
    );
}

on_both_databases!(simulating_a_login_lists_due_questions_and_the_engines_reasons);
