use super::SET;
use crate::common::{Backend, TestApp, expect_error};
use reqwest::Method;
use serde_json::{Value, json};
use trickle::model::WidgetSettings;

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
            json!({ "allowed_origins": ["https://a.example", "https://user@b.example"] }),
            "allowed_origins[1]",
        ),
        (
            json!({ "allowed_origins": ["https://a.example/?q"] }),
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

/// Origins are stored as browsers send them, so what the owner types matches.
async fn origins_are_stored_canonical_and_match_the_browser(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.login("u1").await;
    let typed =
        json!({ "allowed_origins": ["HTTPS://Shop.Example.com:443/", "https://Bücher.example/"] });
    let updated: Value = app
        .server(Method::PATCH, "/v1/site")
        .json(&typed)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let canonical = json!(["https://shop.example.com", "https://xn--bcher-kva.example"]);
    assert_eq!(updated["allowed_origins"], canonical);
    for origin in ["https://shop.example.com", "https://xn--bcher-kva.example"] {
        let call = app
            .widget(Method::GET, "/v1/widget/next", "u1")
            .header("Origin", origin);
        assert_eq!(call.send().await.unwrap().status(), 204, "{origin}");
        let preflight = app
            .request(Method::OPTIONS, "/v1/widget/next")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.headers()["access-control-allow-origin"], origin);
    }
}

/// The migration's SQL (run again here on a site stored the old way) strips the trailing
/// slashes the old check let through, keeping each origin once and in order.
async fn the_migration_canonicalises_stored_origins(backend: Backend) {
    let db = backend.store().await;
    let sites = trickle::App::new(db.store.clone(), std::time::Duration::from_secs(1));
    let old = sites.sites().create("Old", vec![]).await.unwrap().site_id;
    let new = sites.sites().create("New", vec![]).await.unwrap().site_id;
    let stored_the_old_way = [
        "https://b.example/",
        "https://a.example",
        "https://a.example//",
        "http://c.example:8080/",
    ]
    .map(String::from);
    let settings = WidgetSettings::default();
    db.store
        .update_site(&old, &stored_the_old_way, &settings)
        .await
        .unwrap();
    db.store
        .update_site(&new, &["https://n.example".into()], &settings)
        .await
        .unwrap();
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let sql =
                include_str!("../../../migrations/sqlite/20261201000005_canonical_origins.sql");
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let sql =
                include_str!("../../../migrations/postgres/20261201000005_canonical_origins.sql");
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        }
    }
    let migrated = db.store.site(&old).await.unwrap().unwrap();
    assert_eq!(
        migrated.allowed_origins,
        [
            "https://b.example",
            "https://a.example",
            "http://c.example:8080"
        ]
    );
    let other = db.store.site(&new).await.unwrap().unwrap();
    assert_eq!(other.allowed_origins, ["https://n.example"]);
}

on_both_databases!(
    the_site_shows_and_changes_its_settings,
    bad_site_settings_are_400_and_change_nothing,
    origins_are_stored_canonical_and_match_the_browser,
    the_migration_canonicalises_stored_origins,
    stats_show_the_funnel,
);
