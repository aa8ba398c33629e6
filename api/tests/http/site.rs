use super::SET;
use crate::common::{Backend, TestApp, expect_error, test_settings};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use trickle::App;
use trickle::app::sites::{hash_secret_key, user_hash};
use trickle::model::site::IdentitySecret;
use trickle::model::{Site, WidgetSettings};

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
            // The URL standard reads it as a host; no browser is served from it.
            json!({ "allowed_origins": ["https://a.example", "http://m9-i0xiw-z*"] }),
            "allowed_origins[1]",
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
    // A body that is JSON but not an object (serde would read `[null, null]` as a
    // patch of nothing).
    for not_object in [json!([null, null]), json!("x"), json!(null)] {
        let response = app
            .server(Method::PATCH, "/v1/site")
            .json(&not_object)
            .send()
            .await
            .unwrap();
        expect_error(response, 400, "malformed_json").await;
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

/// `GET /v1/site` with a secret key: its status.
async fn status_with_secret_key(app: &TestApp, secret_key: &str) -> u16 {
    let response = app
        .request(Method::GET, "/v1/site")
        .bearer_auth(secret_key)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

/// `GET /v1/widget/next` for `u1` with a publishable key and a hash made with an
/// identity secret: its status (200 or 204 when let in).
async fn status_with_widget_keys(app: &TestApp, publishable_key: &str, identity: &str) -> u16 {
    let response = app
        .request(Method::GET, "/v1/widget/next")
        .header("X-Trickle-Key", publishable_key)
        .header("X-Trickle-User", "u1")
        .header("X-Trickle-User-Hash", user_hash(identity, "u1"))
        .header("Origin", &app.origin)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

async fn rotate(app: &TestApp, secret_key: &str, body: Value) -> reqwest::Response {
    app.request(Method::POST, "/v1/site/rotate-keys")
        .bearer_auth(secret_key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn old_and_new_keys_both_work_during_the_grace_period(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.login("u1").await;
    let old = &app.keys;
    assert_eq!(
        status_with_widget_keys(&app, &old.publishable_key, &old.identity_secret).await,
        204
    );
    let body = json!({ "keys": ["publishable_key", "secret_key", "identity_secret"], "grace_seconds": 3600 });
    let response = rotate(&app, &old.secret_key, body).await;
    assert_eq!(response.status(), 200);
    let new: Value = response.json().await.unwrap();
    let (new_pk, new_sk, new_identity) = (
        new["publishable_key"].as_str().unwrap(),
        new["secret_key"].as_str().unwrap(),
        new["identity_secret"].as_str().unwrap(),
    );
    assert!(new_pk.starts_with("pk_") && new_sk.starts_with("sk_"));
    assert_ne!(new_sk, old.secret_key);
    assert_eq!(
        new["rotated"],
        json!(["publishable_key", "secret_key", "identity_secret"])
    );
    assert!(new["previous_valid_until"].is_string());
    for sk in [old.secret_key.as_str(), new_sk] {
        assert_eq!(status_with_secret_key(&app, sk).await, 200);
    }
    // Pages rendered before the rotation (old key, old hash), after it, and a mix.
    for (pk, identity) in [
        (old.publishable_key.as_str(), old.identity_secret.as_str()),
        (new_pk, new_identity),
        (new_pk, old.identity_secret.as_str()),
        (old.publishable_key.as_str(), new_identity),
    ] {
        assert_eq!(
            status_with_widget_keys(&app, pk, identity).await,
            204,
            "{pk}"
        );
    }
    // A key in its grace period cannot rotate (a leaked old key must not lock out the owner).
    let response = rotate(&app, &old.secret_key, json!({ "keys": ["secret_key"] })).await;
    expect_error(response, 403, "retired_secret_key").await;
    let site: Value = app
        .request(Method::GET, "/v1/site")
        .bearer_auth(new_sk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(site["publishable_key"], new_pk);
}

async fn after_the_grace_period_old_keys_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.login("u1").await;
    let old = &app.keys;
    let body =
        json!({ "keys": ["publishable_key", "secret_key", "identity_secret"], "grace_seconds": 0 });
    let new: Value = rotate(&app, &old.secret_key, body)
        .await
        .json()
        .await
        .unwrap();
    let (new_pk, new_sk, new_identity) = (
        new["publishable_key"].as_str().unwrap(),
        new["secret_key"].as_str().unwrap(),
        new["identity_secret"].as_str().unwrap(),
    );
    let old_sk = app
        .request(Method::GET, "/v1/site")
        .bearer_auth(&old.secret_key)
        .send()
        .await
        .unwrap();
    expect_error(old_sk, 401, "expired_secret_key").await;
    let old_pk = app
        .request(Method::GET, "/v1/widget/next")
        .header("X-Trickle-Key", &old.publishable_key)
        .header("X-Trickle-User", "u1")
        .header("X-Trickle-User-Hash", user_hash(new_identity, "u1"))
        .header("Origin", &app.origin)
        .send()
        .await
        .unwrap();
    expect_error(old_pk, 401, "expired_publishable_key").await;
    assert_eq!(
        status_with_widget_keys(&app, new_pk, &old.identity_secret).await,
        403
    );
    assert_eq!(status_with_secret_key(&app, new_sk).await, 200);
    assert_eq!(
        status_with_widget_keys(&app, new_pk, new_identity).await,
        204
    );
}

async fn the_default_grace_period_is_a_setting(backend: Backend) {
    let mut settings = test_settings();
    settings.key_grace_seconds = 0;
    let app = TestApp::spawn_with(backend, settings).await;
    let response = rotate(
        &app,
        &app.keys.secret_key,
        json!({ "keys": ["secret_key"] }),
    )
    .await;
    let new: Value = response.json().await.unwrap();
    assert!(
        new.get("identity_secret").is_none(),
        "only the secret key: {new}"
    );
    assert_eq!(new["publishable_key"], app.keys.publishable_key.as_str());
    assert_eq!(
        status_with_secret_key(&app, &app.keys.secret_key).await,
        401
    );
    assert_eq!(
        status_with_secret_key(&app, new["secret_key"].as_str().unwrap()).await,
        200
    );
}

async fn bad_rotation_requests_are_400_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (json!({ "keys": [] }), "invalid_field"),
        (
            json!({ "keys": ["secret_key"], "grace_seconds": 2_592_001 }),
            "invalid_field",
        ),
        (json!({ "keys": ["password"] }), "malformed_json"),
        (
            json!({ "keys": ["secret_key"], "grace_seconds": -1 }),
            "malformed_json",
        ),
        (json!({ "grace_seconds": 5 }), "malformed_json"),
    ];
    for (body, code) in cases {
        let response = rotate(&app, &app.keys.secret_key, body.clone()).await;
        expect_error(response, 400, code).await;
    }
    assert_eq!(
        status_with_secret_key(&app, &app.keys.secret_key).await,
        200
    );
    let no_key = app
        .request(Method::POST, "/v1/site/rotate-keys")
        .json(&json!({ "keys": ["secret_key"] }))
        .send()
        .await
        .unwrap();
    expect_error(no_key, 401, "missing_secret_key").await;
}

/// After one preflight, the allowed origins are in memory: changing them behind the
/// app's back (straight in the store) does not change the answers, so N preflights
/// ran no query; a change through the app is seen at once.
async fn preflights_are_answered_from_memory(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/v1/widget/next")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .send()
    };
    let allowed = |response: &reqwest::Response| {
        response
            .headers()
            .contains_key("access-control-allow-origin")
    };
    assert!(allowed(
        &preflight("https://shop.example.com").await.unwrap()
    ));
    let store = app.trickle.store();
    store
        .update_site(
            &app.keys.site_id,
            &["https://other.example".into()],
            &WidgetSettings::default(),
        )
        .await
        .unwrap();
    for _ in 0..20 {
        assert!(allowed(
            &preflight("https://shop.example.com").await.unwrap()
        ));
        assert!(!allowed(&preflight("https://other.example").await.unwrap()));
    }
    let patch = json!({ "allowed_origins": ["https://third.example"] });
    let response = app
        .server(Method::PATCH, "/v1/site")
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(allowed(&preflight("https://third.example").await.unwrap()));
    assert!(!allowed(
        &preflight("https://shop.example.com").await.unwrap()
    ));
}

/// An unknown publishable key is remembered: once refused, it stays refused without a
/// query even after a site with that key appears in the store (until the cache TTL),
/// although a fresh app (empty caches) finds the site.
async fn unknown_keys_are_refused_from_memory(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.login("u1").await;
    let (pk, identity) = ("pk_madeup000000000000000000", "identity-of-the-late-site");
    assert_eq!(status_with_widget_keys(&app, pk, identity).await, 401);
    let sk = "sk_madeup0000000000000000000000000000";
    assert_eq!(status_with_secret_key(&app, sk).await, 401);
    let site = Site {
        site_id: "site_late".into(),
        name: "late".into(),
        publishable_key: pk.into(),
        identity_secret: IdentitySecret::new(identity),
        previous_publishable_key: None,
        previous_secret_key_hash: None,
        allowed_origins: vec![app.origin.clone()],
        widget_settings: WidgetSettings::default(),
        created_at: chrono::Utc::now(),
    };
    let store = app.trickle.store();
    store
        .insert_site(&site, &hash_secret_key(sk))
        .await
        .unwrap();
    for _ in 0..20 {
        assert_eq!(status_with_widget_keys(&app, pk, identity).await, 401);
        assert_eq!(status_with_secret_key(&app, sk).await, 401);
    }
    let fresh = App::new(store.clone(), Duration::from_secs(30));
    assert_eq!(
        fresh.sites().by_publishable_key(pk).await.unwrap().site_id,
        "site_late"
    );
    assert_eq!(
        fresh.sites().by_secret_key(sk).await.unwrap().site_id,
        "site_late"
    );
}

/// With a secrets key, secrets are encrypted at rest and user hashes still verify.
async fn a_secrets_key_keeps_user_hashes_working(backend: Backend) {
    let mut settings = test_settings();
    settings.secrets_key =
        Some("0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0".into());
    let app = TestApp::spawn_with(backend, settings).await;
    app.login("u1").await;
    let keys = &app.keys;
    assert_eq!(
        status_with_widget_keys(&app, &keys.publishable_key, &keys.identity_secret).await,
        204
    );
    assert_eq!(
        status_with_widget_keys(&app, &keys.publishable_key, "wrong").await,
        403
    );
    assert_eq!(status_with_secret_key(&app, &keys.secret_key).await, 200);
}

on_both_databases!(
    the_site_shows_and_changes_its_settings,
    bad_site_settings_are_400_and_change_nothing,
    origins_are_stored_canonical_and_match_the_browser,
    the_migration_canonicalises_stored_origins,
    stats_show_the_funnel,
    old_and_new_keys_both_work_during_the_grace_period,
    after_the_grace_period_old_keys_are_refused,
    the_default_grace_period_is_a_setting,
    bad_rotation_requests_are_400_and_change_nothing,
    preflights_are_answered_from_memory,
    unknown_keys_are_refused_from_memory,
    a_secrets_key_keeps_user_hashes_working,
);
