//! Test fixtures: a fresh database per test (a SQLite file in a temp dir, or a PostgreSQL
//! database of its own that is dropped afterwards), and `TestApp`, the real router called
//! in-process: requests are built with reqwest and answered without a socket.
#![allow(dead_code)]

use axum::Router;
use axum::extract::ConnectInfo;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use tempfile::TempDir;
use tower::ServiceExt;

use trickle::App;
use trickle::app::sites::user_hash;
use trickle::config::{OutboundSettings, RateLimit, Settings};
use trickle::http::{AppState, router};
use trickle::model::SiteKeys;
use trickle::store::{self, Store};
use trickle_testkit::PostgresDatabase;

/// The database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// A migrated store on a fresh database of this kind.
    pub async fn store(self) -> TestStore {
        match self {
            Backend::Sqlite => sqlite_store().await,
            Backend::Postgres => postgres_store().await,
        }
    }
}

/// A migrated store on a database of its own, which lives as long as this value (the temp
/// dir of a SQLite file; a PostgreSQL database is dropped with it).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub url: String,
    _database: Database,
}

impl TestStore {
    /// Another store on this database that encrypts secrets with `key`, migrated (which
    /// encrypts the secrets already stored).
    pub async fn with_secrets_key(&self, key: &str) -> Arc<dyn Store> {
        let store = store::connect_with_secrets(&self.url, Some(key))
            .await
            .expect("open with a secrets key");
        store.migrate().await.expect("migrate with a secrets key");
        store
    }

    /// The rows of `sql`, read with plain SQL on this database (no store in between).
    pub async fn rows<T>(&self, sql: &str) -> Vec<T>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if self.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
        }
    }
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

/// Settings for tests: a generous rate limit unless a test asks otherwise, and outbound
/// calls allowed to the loopback receivers tests start (refused by default).
pub fn test_settings() -> Settings {
    Settings {
        rate_limit: RateLimit {
            widget_per_minute: 6000,
            widget_burst: 1000,
            ip_per_minute: 6000,
            ip_burst: 1000,
        },
        outbound: loopback_allowed(),
        ..Settings::default()
    }
}

/// Outbound settings that allow 127.0.0.0/8 and ::1, where test receivers listen.
pub fn loopback_allowed() -> OutboundSettings {
    OutboundSettings::allowing(&["127.0.0.0/8", "::1/128"])
}

/// The peer address every in-process request comes from, as a local client's would.
const PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);

/// The real router, called in-process, with one site already created.
pub struct TestApp {
    pub trickle: App,
    pub keys: SiteKeys,
    pub origin: String,
    router: Router,
    client: reqwest::Client,
    _store: TestStore,
}

impl TestApp {
    /// An app on a fresh database of `backend`.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, test_settings()).await
    }

    /// An app with the given settings.
    pub async fn spawn_with(backend: Backend, settings: Settings) -> TestApp {
        Self::spawn_customised(backend, settings, |trickle| trickle).await
    }

    /// An app whose service is adjusted first (e.g. given test enrichment providers).
    pub async fn spawn_customised(
        backend: Backend,
        settings: Settings,
        adjust: impl FnOnce(App) -> App,
    ) -> TestApp {
        let test_store = backend.store().await;
        let store = match &settings.secrets_key {
            Some(key) => test_store.with_secrets_key(key).await,
            None => test_store.store.clone(),
        };
        let configured = App::from_settings(store, &settings);
        let trickle = adjust(configured.expect("settings"));
        let origin = "https://shop.example.com".to_owned();
        let keys = trickle
            .sites()
            .create("Test shop", vec![origin.clone()])
            .await
            .expect("site");
        TestApp {
            router: router(AppState::new(trickle.clone(), &settings)),
            client: reqwest::Client::new(),
            trickle,
            keys,
            origin,
            _store: test_store,
        }
    }

    /// The URL of this app's database, for tests that must change it behind the app's back.
    pub fn database_url(&self) -> &str {
        &self._store.url
    }

    /// A request without credentials.
    pub fn request(&self, method: reqwest::Method, path: &str) -> Call {
        Call {
            builder: self
                .client
                .request(method, format!("http://trickle.test{path}")),
            router: self.router.clone(),
        }
    }

    /// A GET without credentials.
    pub fn get(&self, path: &str) -> Call {
        self.request(reqwest::Method::GET, path)
    }

    /// A request with the site's secret key.
    pub fn server(&self, method: reqwest::Method, path: &str) -> Call {
        self.request(method, path)
            .bearer_auth(&self.keys.secret_key)
    }

    /// A widget request for a user, with key, user hash and allowed origin.
    pub fn widget(&self, method: reqwest::Method, path: &str, user: &str) -> Call {
        self.request(method, path)
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

/// A request being built, as with reqwest, whose [`Call::send`] hands it to the router
/// in-process and returns the router's answer as a `reqwest::Response`.
pub struct Call {
    builder: reqwest::RequestBuilder,
    router: Router,
}

impl Call {
    pub fn header(self, name: &str, value: impl AsRef<str>) -> Call {
        self.map(|b| b.header(name, value.as_ref()))
    }

    /// A header whose value is raw bytes, such as a non-ASCII user id sent as is.
    pub fn header_bytes(self, name: &str, value: &[u8]) -> Call {
        let value = reqwest::header::HeaderValue::from_bytes(value).expect("a header value");
        self.map(|b| b.header(name, value))
    }

    pub fn bearer_auth(self, token: impl std::fmt::Display) -> Call {
        self.map(|b| b.bearer_auth(token))
    }

    pub fn basic_auth(self, user: &str, password: Option<&str>) -> Call {
        self.map(|b| b.basic_auth(user, password))
    }

    pub fn json(self, body: &impl serde::Serialize) -> Call {
        self.map(|b| b.json(body))
    }

    pub fn body(self, body: impl Into<reqwest::Body>) -> Call {
        self.map(|b| b.body(body))
    }

    /// An `application/x-www-form-urlencoded` body, as an HTML form posts it.
    pub fn form(self, fields: &[(&str, &str)]) -> Call {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
    }

    pub fn query(self, query: &impl serde::Serialize) -> Call {
        self.map(|b| b.query(query))
    }

    fn map(self, change: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Call {
        Call {
            builder: change(self.builder),
            router: self.router,
        }
    }

    /// The router's response, as if it had come over HTTP from a client on 127.0.0.1.
    pub async fn send(self) -> reqwest::Result<reqwest::Response> {
        let request: axum::http::Request<reqwest::Body> = self.builder.build()?.try_into()?;
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(PEER));
        let response = self
            .router
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("the router's response body");
        Ok(axum::http::Response::from_parts(parts, bytes).into())
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
