//! Test fixtures: a fresh database per test (a SQLite file in a temp dir, or a PostgreSQL
//! database of its own that is dropped afterwards), and `TestApp`, the real router served
//! on 127.0.0.1:0.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use tempfile::TempDir;

use trickle::App;
use trickle::app::sites::user_hash;
use trickle::config::{RateLimit, Settings};
use trickle::http::{AppState, router};
use trickle::model::SiteKeys;
use trickle::store::{self, Store};
use trickle_testkit::PostgresDatabase;

/// A migrated store on a database of its own, which lives as long as this value (the temp
/// dir of a SQLite file; a PostgreSQL database is dropped with it).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub url: String,
    _database: Database,
}

/// What keeps a test database alive. (Fields drop in order: the store's pool first.)
enum Database {
    Sqlite(TempDir),
    Postgres(PostgresDatabase),
}

/// A fresh SQLite database file.
pub async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("trickle.db").display());
    let store = store::connect(&url).await.expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    TestStore {
        store,
        url,
        _database: Database::Sqlite(dir),
    }
}

/// A fresh PostgreSQL database (`trickle_test_<uuid>`), migrated, dropped with the
/// returned value. Fails loudly when PostgreSQL is not reachable: never skipped.
pub async fn postgres_store() -> TestStore {
    let database = PostgresDatabase::create().await;
    let url = database.url().to_owned();
    let store = store::connect(&url).await.expect("open postgres");
    store.migrate().await.expect("migrate postgres");
    TestStore {
        store,
        url,
        _database: Database::Postgres(database),
    }
}

/// Settings for tests: a generous rate limit unless a test asks otherwise.
pub fn test_settings() -> Settings {
    Settings {
        rate_limit: RateLimit {
            widget_per_minute: 6000,
            widget_burst: 1000,
        },
        ..Settings::default()
    }
}

/// The real router served over HTTP, with one site already created.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub trickle: App,
    pub keys: SiteKeys,
    pub origin: String,
    _store: TestStore,
}

impl TestApp {
    /// An app on a fresh SQLite database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(test_settings()).await
    }

    /// An app with the given settings (the database is always a fresh SQLite file).
    pub async fn spawn_with(settings: Settings) -> TestApp {
        Self::spawn_customised(settings, |trickle| trickle).await
    }

    /// An app whose service is adjusted first (e.g. given test enrichment providers).
    pub async fn spawn_customised(settings: Settings, adjust: impl FnOnce(App) -> App) -> TestApp {
        let test_store = sqlite_store().await;
        let configured = App::from_settings(test_store.store.clone(), &settings);
        let trickle = adjust(configured.expect("settings"));
        let origin = "https://shop.example.com".to_owned();
        let keys = trickle
            .sites()
            .create("Test shop", vec![origin.clone()])
            .await
            .expect("site");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = router(AppState::new(trickle.clone(), &settings));
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("serve")
        });
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            trickle,
            keys,
            origin,
            _store: test_store,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the site's secret key.
    pub fn server(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.keys.secret_key)
    }

    /// A widget request for a user, with key, user hash and allowed origin.
    pub fn widget(
        &self,
        method: reqwest::Method,
        path: &str,
        user: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("X-Trickle-Key", &self.keys.publishable_key)
            .header("X-Trickle-User", user)
            .header(
                "X-Trickle-User-Hash",
                user_hash(&self.keys.identity_secret, user),
            )
            .header("Origin", &self.origin)
    }

    /// Reports a login; returns the receipt.
    pub async fn login(&self, user: &str) -> Value {
        let response = self
            .server(reqwest::Method::POST, "/v1/logins")
            .json(&json!({ "user_id": user }))
            .send()
            .await
            .expect("login request");
        assert_eq!(response.status(), 200, "login failed");
        response.json().await.expect("login body")
    }

    /// Stores and publishes a question set from YAML.
    pub async fn publish_yaml(&self, slug: &str, yaml: &str) -> i64 {
        let response = self
            .server(reqwest::Method::PUT, &format!("/v1/question-sets/{slug}"))
            .header("Content-Type", "application/yaml")
            .body(yaml.to_owned())
            .send()
            .await
            .expect("put");
        assert_eq!(
            response.status(),
            201,
            "put failed: {}",
            response.text().await.unwrap_or_default()
        );
        let version = response.json::<Value>().await.expect("body")["version"]
            .as_i64()
            .expect("version");
        let response = self
            .server(
                reqwest::Method::POST,
                &format!("/v1/question-sets/{slug}/versions/{version}/publish"),
            )
            .send()
            .await
            .expect("publish");
        assert_eq!(response.status(), 200);
        version
    }
}

/// Asserts the error shape and returns the body.
pub async fn expect_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "unexpected status for {code}"
    );
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
    body
}

/// A small three-stage set used across tests.
pub const ONBOARDING: &str = include_str!("../../../question-sets/onboarding.yaml");
