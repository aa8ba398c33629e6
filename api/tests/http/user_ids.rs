//! One rule for user ids (1–255 bytes of UTF-8 without control characters) on every
//! path: logins, `/v1/users/{id}` and the widget's `X-Trickle-User`.

use super::SET;
use crate::common::{Backend, Call, TestApp, expect_error};
use reqwest::Method;
use serde_json::json;
use trickle::app::sites::user_hash;

/// A widget call for `user` whose `X-Trickle-User` is `header` (raw bytes), with the
/// user hash of `user` and `encoding` as `X-Trickle-User-Encoding` when given.
fn widget_call_as(app: &TestApp, user: &str, header: &[u8], encoding: Option<&str>) -> Call {
    let call = app
        .get("/v1/widget/next")
        .header("X-Trickle-Key", &app.keys.publishable_key)
        .header_bytes("X-Trickle-User", header)
        .header(
            "X-Trickle-User-Hash",
            user_hash(&app.keys.identity_secret, user),
        )
        .header("Origin", &app.origin);
    match encoding {
        Some(encoding) => call.header("X-Trickle-User-Encoding", encoding),
        None => call,
    }
}

/// Any user id a login accepts reaches the widget: percent-encoded when it is not
/// visible ASCII, with `X-Trickle-User-Encoding: percent`; bad ids are 400 naming the header.
async fn non_ascii_user_ids_use_the_widget_percent_encoded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.publish_yaml("profile", SET).await;
    app.login("u1").await;
    let user = "jörg@bücher.example";
    app.login(user).await;
    let encoded = "j%C3%B6rg%40b%C3%BCcher.example";
    let due = widget_call_as(&app, user, encoded.as_bytes(), Some("percent"))
        .send()
        .await
        .unwrap();
    assert_eq!(due.status(), 200, "{}", due.text().await.unwrap());
    let spaced = " u1 ";
    app.login(spaced).await;
    let due = widget_call_as(&app, spaced, b"%20u1%20", Some("Percent"))
        .send()
        .await
        .unwrap();
    assert_eq!(due.status(), 200, "spaces at the ends survive encoding");
    let plain = widget_call_as(&app, "u1", b"u1", None)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200, "visible ASCII still goes as is");
    let percent_in_plain_id = "50%25off";
    app.login(percent_in_plain_id).await;
    let literal = widget_call_as(
        &app,
        percent_in_plain_id,
        percent_in_plain_id.as_bytes(),
        None,
    );
    assert_eq!(
        literal.send().await.unwrap().status(),
        200,
        "no encoding: taken as is"
    );

    let refusals: [(&[u8], Option<&str>, &str); 5] = [
        (user.as_bytes(), None, "invalid_user_id"),
        (b"a%07b", Some("percent"), "invalid_user_id"),
        (b"%FF%FE", Some("percent"), "invalid_user_id"),
        (&[b'x'; 256], None, "invalid_user_id"),
        (b"u1", Some("base64"), "invalid_user_encoding"),
    ];
    for (header, encoding, code) in refusals {
        let response = widget_call_as(&app, user, header, encoding)
            .send()
            .await
            .unwrap();
        let body = expect_error(response, 400, code).await;
        let field = if code == "invalid_user_encoding" {
            "X-Trickle-User-Encoding"
        } else {
            "X-Trickle-User"
        };
        assert_eq!(body["error"]["details"]["field"], field, "{body}");
    }
    let preflight = app
        .request(Method::OPTIONS, "/v1/widget/next")
        .header("Origin", &app.origin)
        .header("Access-Control-Request-Method", "GET")
        .header(
            "Access-Control-Request-Headers",
            "x-trickle-user,x-trickle-user-encoding",
        )
        .send()
        .await
        .unwrap();
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("x-trickle-user-encoding"), "{allowed}");
}

/// A login takes any UTF-8 id of 1–255 bytes; control characters and longer ids are 400
/// naming `user_id`.
async fn logins_take_utf8_ids_and_refuse_the_rest(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receipt = app.login("jörg@bücher.example").await;
    assert_eq!(receipt["user_id"], "jörg@bücher.example");
    let exactly_255 = "é".repeat(127) + "x";
    assert_eq!(exactly_255.len(), 255);
    app.login(&exactly_255).await;
    for bad in ["", "a\u{7}b", "line\nbreak", &"é".repeat(128)] {
        let response = app
            .server(Method::POST, "/v1/logins")
            .json(&json!({ "user_id": bad }))
            .send()
            .await
            .unwrap();
        let body = expect_error(response, 400, "invalid_user_id").await;
        assert_eq!(body["error"]["details"]["field"], "user_id", "{bad:?}");
    }
}

/// Every `/v1/users/{id}` route reads UTF-8 ids percent-encoded and refuses, naming `id`,
/// what no login could have stored.
async fn user_routes_take_the_same_ids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.publish_yaml("profile", SET).await;
    app.login("jörg@bücher.example").await;
    let path = "/v1/users/j%C3%B6rg%40b%C3%BCcher.example";
    let profile = app.server(Method::GET, path).send().await.unwrap();
    assert_eq!(profile.status(), 200);
    let patch = json!({ "user_metadata": { "plan": "pro" } });
    let patched = app
        .server(Method::PATCH, path)
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let next = app
        .server(Method::GET, &format!("{path}/next"))
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), 200);
    let long = "x".repeat(256);
    for id in ["a%07b", "%FF%FE", "line%0Abreak", long.as_str()] {
        for (method, suffix) in [
            (Method::GET, ""),
            (Method::PATCH, ""),
            (Method::DELETE, ""),
            (Method::GET, "/next"),
        ] {
            let call = app.server(method.clone(), &format!("/v1/users/{id}{suffix}"));
            let call = if method == Method::PATCH {
                call.json(&patch)
            } else {
                call
            };
            let body = expect_error(call.send().await.unwrap(), 400, "invalid_user_id").await;
            assert_eq!(
                body["error"]["details"]["field"], "id",
                "{method} {id}{suffix}"
            );
        }
    }
    let erased = app.server(Method::DELETE, path).send().await.unwrap();
    assert_eq!(erased.status(), 204, "a UTF-8 id can be erased");
}

on_both_databases!(
    non_ascii_user_ids_use_the_widget_percent_encoded,
    logins_take_utf8_ids_and_refuse_the_rest,
    user_routes_take_the_same_ids,
);
