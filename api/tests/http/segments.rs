//! `/v1/segments`: saving, replacing, counting, listing and exporting a segment's users,
//! deleting; every refusal (name, condition, description, body, auth, another site's
//! segment, too many) with its status, code and field.

use crate::common::{Backend, TestApp, expect_error};
use reqwest::Method;
use serde_json::{Value, json};

fn never_came_back() -> Value {
    json!({"all": [{"key": "login_count", "equals": 1}, {"key": "days_since_first_login", "gte": 0}]})
}

async fn put(app: &TestApp, name: &str, body: &Value) -> reqwest::Response {
    app.server(Method::PUT, &format!("/v1/segments/{name}"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn json_of(app: &TestApp, path: &str) -> Value {
    let response = app.server(Method::GET, path).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn a_segment_is_saved_counted_listed_exported_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for user in ["u1", "u2", "u3"] {
        app.login(user).await;
    }
    app.login("u2").await;

    let body = json!({"description": "Signed up, never came back", "where": never_came_back()});
    let created = put(&app, "once", &body).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["name"], "once");
    assert_eq!(created["where"], never_came_back());

    let counted = json_of(&app, "/v1/segments/once/count").await;
    assert_eq!(
        (counted["name"].as_str(), counted["users"].as_i64()),
        (Some("once"), Some(2))
    );
    let page = json_of(&app, "/v1/segments/once/users?limit=1").await;
    assert_eq!(page["users"][0]["user_id"], "u1");
    assert_eq!(page["next_cursor"], "u1");
    let rest = json_of(&app, "/v1/segments/once/users?limit=1&after=u1").await;
    assert_eq!(rest["users"][0]["user_id"], "u3");
    let csv = app
        .server(Method::GET, "/v1/segments/once/users?format=csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let rows: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(rows, ["u1", "u3"], "{text}");

    // Replacing keeps created_at; the list shows it.
    let again = json!({"where": {"key": "login_count", "gte": 2}});
    let replaced = put(&app, "once", &again).await;
    assert_eq!(replaced.status(), 200);
    let replaced: Value = replaced.json().await.unwrap();
    assert_eq!(replaced["created_at"], created["created_at"]);
    assert_eq!(replaced["description"], "");
    let counted = json_of(&app, "/v1/segments/once/count").await;
    assert_eq!(counted["users"], 1);
    let list = json_of(&app, "/v1/segments").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["where"], again["where"]);

    let deleted = app
        .server(Method::DELETE, "/v1/segments/once")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    for path in [
        "/v1/segments/once",
        "/v1/segments/once/count",
        "/v1/segments/once/users",
    ] {
        let gone = app.server(Method::GET, path).send().await.unwrap();
        expect_error(gone, 404, "segment_not_found").await;
    }
    let twice = app
        .server(Method::DELETE, "/v1/segments/once")
        .send()
        .await
        .unwrap();
    expect_error(twice, 404, "segment_not_found").await;

    // Saves and deletes are in the audit log, as the secret key.
    let entries = app.trickle.audit().list(None, 50).await.unwrap();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("segment.delete", "secret key"),
            ("segment.save", "secret key"),
            ("segment.save", "secret key"),
        ]
    );
}

async fn bad_segments_are_refused_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let good = json!({"where": never_came_back()});
    for name in ["Once", "-once", "a%20b", &"x".repeat(65)] {
        let body = expect_error(put(&app, name, &good).await, 400, "invalid_field").await;
        assert_eq!(body["error"]["details"]["field"], "name", "{name}");
        let get = app
            .server(Method::GET, &format!("/v1/segments/{name}"))
            .send()
            .await
            .unwrap();
        expect_error(get, 400, "invalid_field").await;
    }
    for (bad, why) in [
        (
            json!({"key": "login count", "equals": 1}),
            "not a profile path",
        ),
        (
            json!({"key": "age", "since": "weeks", "gte": 1}),
            "`years` or `days`",
        ),
        (json!({"key": "age", "between": [1, 2]}), "unknown field"),
        (json!("login_count > 1"), "condition"),
    ] {
        let body = expect_error(
            put(&app, "s", &json!({"where": bad})).await,
            400,
            "invalid_where",
        )
        .await;
        assert_eq!(body["error"]["details"]["field"], "where");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{message}");
    }
    let long = json!({"description": "x".repeat(501), "where": never_came_back()});
    let body = expect_error(put(&app, "s", &long).await, 400, "invalid_field").await;
    assert_eq!(body["error"]["details"]["field"], "description");
    let unknown = json!({"where": never_came_back(), "colour": "red"});
    expect_error(put(&app, "s", &unknown).await, 400, "malformed_json").await;
    let missing = json!({"description": "no condition"});
    expect_error(put(&app, "s", &missing).await, 400, "malformed_json").await;
    let bad_format = app
        .server(Method::PUT, "/v1/segments/s")
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_format.status(), 201);
    let csv = app
        .server(Method::GET, "/v1/segments/s/users?format=xml")
        .send()
        .await
        .unwrap();
    expect_error(csv, 400, "invalid_format").await;
    let limit = app
        .server(Method::GET, "/v1/segments/s/users?limit=0")
        .send()
        .await
        .unwrap();
    expect_error(limit, 400, "invalid_limit").await;
    // Nothing refused was stored.
    let list = json_of(&app, "/v1/segments").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let no_key = app.get("/v1/segments").send().await.unwrap();
    expect_error(no_key, 401, "missing_secret_key").await;
}

async fn sites_see_only_their_own_segments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = app.trickle.sites().create("Other", vec![]).await.unwrap();
    let created = put(&app, "mine", &json!({"where": never_came_back()})).await;
    assert_eq!(created.status(), 201);
    let theirs = |method: Method, path: &str| {
        app.request(method, path)
            .bearer_auth(&other.secret_key)
            .send()
    };
    for path in [
        "/v1/segments/mine",
        "/v1/segments/mine/count",
        "/v1/segments/mine/users",
    ] {
        expect_error(
            theirs(Method::GET, path).await.unwrap(),
            404,
            "segment_not_found",
        )
        .await;
    }
    let delete = theirs(Method::DELETE, "/v1/segments/mine").await.unwrap();
    expect_error(delete, 404, "segment_not_found").await;
    let list: Value = theirs(Method::GET, "/v1/segments")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    // The other site's users are not counted in ours.
    app.login("u1").await;
    let count = json_of(&app, "/v1/segments/mine/count").await;
    assert_eq!(count["users"], 1);
}

async fn a_site_keeps_at_most_200_segments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({"where": {"key": "login_count", "gte": 1}});
    for n in 0..200 {
        assert_eq!(put(&app, &format!("s{n}"), &body).await.status(), 201);
    }
    expect_error(put(&app, "one-more", &body).await, 409, "too_many_segments").await;
    assert_eq!(
        put(&app, "s7", &body).await.status(),
        200,
        "replacing still works"
    );
}

on_both_databases!(
    a_segment_is_saved_counted_listed_exported_and_deleted,
    bad_segments_are_refused_naming_the_field,
    sites_see_only_their_own_segments,
    a_site_keeps_at_most_200_segments,
);
