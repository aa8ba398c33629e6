use super::SET;
use crate::common::{Backend, TestApp, expect_error};
use reqwest::Method;
use serde_json::{Value, json};

async fn the_site_shows_and_changes_its_settings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let site: Value = app
        .server(Method::GET, "/v1/site")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(site["site_id"], app.keys.site_id.as_str());
    assert_eq!(site["widget_settings"]["corner"], "bottom-right");
    assert!(site.get("identity_secret").is_none() && site.get("secret_key").is_none());
    let patch = json!({ "allowed_origins": ["https://a.example"], "widget_settings": { "delay_ms": 500, "hide_on": ["/checkout/*"] } });
    let updated: Value = app
        .server(Method::PATCH, "/v1/site")
        .json(&patch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(updated["allowed_origins"], json!(["https://a.example"]));
    assert_eq!(updated["widget_settings"]["delay_ms"], 500);
    assert_eq!(updated["widget_settings"]["corner"], "bottom-right");
    let reread: Value = app
        .server(Method::GET, "/v1/site")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        reread["widget_settings"]["hide_on"],
        json!(["/checkout/*"]),
        "the cached site was refreshed"
    );
}

async fn bad_site_settings_are_400_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (
            json!({ "allowed_origins": ["https://a.example/path"] }),
            "allowed_origins[0]",
        ),
        (
            json!({ "widget_settings": { "corner": "middle" } }),
            "widget_settings.corner",
        ),
        (
            json!({ "widget_settings": { "theme": { "brand_color": "red" } } }),
            "widget_settings.theme.brand_color",
        ),
        (
            json!({ "widget_settings": { "colour": 1 } }),
            "widget_settings",
        ),
        (json!({ "widget_settings": 3 }), "widget_settings"),
    ];
    for (patch, field) in cases {
        let response = app
            .server(Method::PATCH, "/v1/site")
            .json(&patch)
            .send()
            .await
            .unwrap();
        let code = if field.starts_with("allowed") {
            "invalid_origin"
        } else {
            "invalid_field"
        };
        let body = expect_error(response, 400, code).await;
        assert_eq!(body["error"]["details"]["field"], field, "{patch}");
    }
    let site: Value = app
        .server(Method::GET, "/v1/site")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(site["allowed_origins"], json!(["https://shop.example.com"]));
}

async fn stats_show_the_funnel(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let version = app.publish_yaml("profile", SET).await;
    app.login("u1").await;
    let target = json!({ "question_set": "profile", "version": version, "key": "role" });
    app.widget(Method::POST, "/v1/widget/impressions", "u1")
        .json(&target)
        .send()
        .await
        .unwrap();
    let answer =
        json!({ "question_set": "profile", "version": version, "key": "role", "value": "pm" });
    app.widget(Method::POST, "/v1/widget/answers", "u1")
        .json(&answer)
        .send()
        .await
        .unwrap();
    let stats: Value = app
        .server(Method::GET, "/v1/stats/questions")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let role = stats
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "role")
        .unwrap();
    assert_eq!(
        (
            role["eligible"].as_i64(),
            role["shown"].as_i64(),
            role["answered"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(role["distribution"], json!({ "pm": 1 }));
}

on_both_databases!(
    the_site_shows_and_changes_its_settings,
    bad_site_settings_are_400_and_change_nothing,
    stats_show_the_funnel,
);
