//! The enrichment examples in `examples/enrichment/` (and the Auth0 Action), run as
//! written against mock services on 127.0.0.1: only their hosts and `${…}` secrets are
//! replaced. Person → sentiment (sentiment once per user), a company API with cache and
//! budget (many users of one company, one call), a fraud score with a POSTed JSON body,
//! and the social-login profile the Auth0 Action sends, feeding a provider.

use crate::common::{Backend, TestApp, test_settings};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use trickle::app::logins::LoginRequest;
use trickle::app::sites::user_hash;
use trickle::config::Settings;
use trickle::providers::EnrichmentConfig;

/// What the mock services saw: (service, request as JSON, Authorization header).
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, Value, String)>>>);

impl Seen {
    fn of(&self, service: &str) -> Vec<Value> {
        let seen = self.0.lock().unwrap();
        seen.iter()
            .filter(|(s, _, _)| s == service)
            .map(|(_, v, _)| v.clone())
            .collect()
    }
    fn auth_of(&self, service: &str) -> Vec<String> {
        let seen = self.0.lock().unwrap();
        seen.iter()
            .filter(|(s, _, _)| s == service)
            .map(|(_, _, a)| a.clone())
            .collect()
    }
    fn record(&self, service: &str, request: Value, headers: &HeaderMap) {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        self.0
            .lock()
            .unwrap()
            .push((service.to_owned(), request, auth));
    }
}

type Params = Query<BTreeMap<String, String>>;

/// The person, sentiment, company, fraud and city APIs of the examples. Returns the
/// base URL they all answer on.
async fn mock_services(seen: Seen) -> String {
    async fn person(
        State(seen): State<Seen>,
        headers: HeaderMap,
        Query(q): Params,
    ) -> axum::Json<Value> {
        seen.record("person", json!(q), &headers);
        let email = q.get("email").cloned().unwrap_or_default();
        let local = email.split('@').next().unwrap_or_default().to_owned();
        if local.starts_with("private") {
            return axum::Json(json!({ "demographics": { "birthdate": "1990-12-10" } }));
        }
        axum::Json(
            json!({ "social": { "twitter": { "handle": format!("@{local}") } },
                           "demographics": { "birthdate": "1990-12-10" } }),
        )
    }
    async fn sentiment(
        State(seen): State<Seen>,
        headers: HeaderMap,
        axum::Json(body): axum::Json<Value>,
    ) -> axum::Json<Value> {
        seen.record("sentiment", body, &headers);
        axum::Json(json!({ "score": 0.8, "label": "POSITIVE" }))
    }
    async fn company(
        State(seen): State<Seen>,
        headers: HeaderMap,
        Query(q): Params,
    ) -> axum::Json<Value> {
        seen.record("company", json!(q), &headers);
        let domain = q.get("domain").cloned().unwrap_or_default();
        let name = domain.split('.').next().unwrap_or_default().to_uppercase();
        axum::Json(
            json!({ "name": format!("{name} Inc."), "category": { "industry": "Retail" },
                           "metrics": { "employees": 250 } }),
        )
    }
    async fn fraud(
        State(seen): State<Seen>,
        headers: HeaderMap,
        axum::Json(body): axum::Json<Value>,
    ) -> axum::Json<Value> {
        seen.record("fraud", body, &headers);
        axum::Json(json!({ "risk_score": 0.42, "ip_address": { "risk": 3.5 } }))
    }
    async fn city(
        State(seen): State<Seen>,
        headers: HeaderMap,
        Query(q): Params,
    ) -> axum::Json<Value> {
        seen.record("city", json!(q), &headers);
        axum::Json(json!({ "population": 3_700_000, "country_code": "DE" }))
    }
    let app = axum::Router::new()
        .route("/v1/person", axum::routing::get(person))
        .route("/v1/score", axum::routing::post(sentiment))
        .route("/v2/companies/find", axum::routing::get(company))
        .route("/v2/score", axum::routing::post(fraud))
        .route("/v1/cities", axum::routing::get(city))
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Test settings with the `[enrichment]` of an example file, its hosts pointed at the
/// mock services and its `${…}` secrets filled in.
fn example_settings(file: &str, base: &str) -> Settings {
    let mut text = std::fs::read_to_string(examples_dir().join("enrichment").join(file)).unwrap();
    for host in ["person", "sentiment", "company", "fraud", "city"] {
        text = text.replace(&format!("https://{host}.example"), base);
    }
    for secret in ["PERSON_API_KEY", "COMPANY_API_KEY", "FRAUD_API_KEY"] {
        text = text.replace(
            &format!("${{{secret}}}"),
            &format!("{}-secret", secret.to_lowercase()),
        );
    }
    assert!(!text.contains("${"), "every secret filled in: {text}");
    let file: toml::Value = toml::from_str(&text).unwrap();
    let enrichment: EnrichmentConfig = file["enrichment"].clone().try_into().unwrap();
    Settings {
        enrichment,
        ..test_settings()
    }
}

fn login(user: &str, email: &str, ip: Option<&str>) -> LoginRequest {
    LoginRequest {
        user_id: user.into(),
        event_id: None,
        occurred_at: None,
        ip: ip.map(str::to_owned),
        user_agent: Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1".into()),
        email: Some(email.into()),
        name: None,
        profile: None,
    }
}

async fn log_in(app: &TestApp, request: LoginRequest) {
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    app.trickle.logins().record(&site, request).await.unwrap();
}

async fn drain(app: &TestApp) {
    while app.trickle.jobs().work_once().await.unwrap() > 0 {}
}

async fn enrichment_of(app: &TestApp, user: &str) -> Value {
    let user = app
        .trickle
        .store()
        .user(&app.keys.site_id, user)
        .await
        .unwrap()
        .unwrap();
    user.app_metadata["enrichment"].clone()
}

async fn person_then_sentiment_once_per_user(backend: Backend) {
    let seen = Seen::default();
    let base = mock_services(seen.clone()).await;
    let app = TestApp::spawn_with(backend, example_settings("person-sentiment.toml", &base)).await;
    for _round in 0..3 {
        for user in ["ada", "bob", "private-cy"] {
            log_in(&app, login(user, &format!("{user}@mail.example"), None)).await;
            drain(&app).await;
        }
    }
    assert_eq!(
        seen.of("person").len(),
        3,
        "one person lookup per user in 9 logins"
    );
    assert_eq!(seen.auth_of("person")[0], "Bearer person_api_key-secret");
    let mut scored = seen.of("sentiment");
    scored.sort_by_key(|b| b["handle"].to_string());
    assert_eq!(
        scored,
        [
            json!({ "handle": "@ada", "about": "@shoeshop" }),
            json!({ "handle": "@bob", "about": "@shoeshop" })
        ],
        "sentiment once per user with a handle"
    );
    let ada = enrichment_of(&app, "ada").await;
    assert_eq!(
        (
            ada["person"]["twitter"].clone(),
            ada["sentiment"]["label"].clone()
        ),
        (json!("@ada"), json!("positive"))
    );
    assert!(enrichment_of(&app, "private-cy").await["sentiment"].is_null());
}

async fn many_users_of_one_company_cost_one_call(backend: Backend) {
    let seen = Seen::default();
    let base = mock_services(seen.clone()).await;
    let app = TestApp::spawn_with(backend, example_settings("company.toml", &base)).await;
    let users = 1000;
    let started = Instant::now();
    for i in 0..users {
        log_in(
            &app,
            login(
                &format!("acme-{i:04}"),
                &format!("person{i}@acme.com"),
                None,
            ),
        )
        .await;
    }
    for (user, email) in [
        ("g1", "someone@gmail.com"),
        ("b1", "x@bolt.example"),
        ("b2", "y@bolt.example"),
    ] {
        log_in(&app, login(user, email, None)).await;
    }
    let logged_in = started.elapsed();
    let started = Instant::now();
    drain(&app).await;
    let enriched_in = started.elapsed();
    let domains: Vec<Value> = seen
        .of("company")
        .iter()
        .map(|q| q["domain"].clone())
        .collect();
    assert_eq!(domains.len(), 2, "{domains:?}");
    assert!(domains.contains(&json!("acme.com")) && domains.contains(&json!("bolt.example")));
    assert_eq!(seen.auth_of("company")[0], "Bearer company_api_key-secret");
    let mut enriched = 0;
    for i in 0..users {
        let company = &enrichment_of(&app, &format!("acme-{i:04}")).await["company"];
        if company["name"] == "ACME Inc." {
            enriched += 1;
        }
    }
    assert_eq!(enriched, users, "every acme.com user has the company");
    assert!(
        enrichment_of(&app, "g1").await["company"].is_null(),
        "free mail is no company"
    );
    let status: Value = app
        .server(reqwest::Method::GET, "/v1/enrichment/providers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let company = status["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "company")
        .unwrap()
        .clone();
    assert_eq!(company["calls_today"], 2);
    assert_eq!(
        company["cache_hits_today"], users,
        "999 of acme.com, 1 of bolt.example"
    );
    assert_eq!(company["budget_left"], 998);
    assert_eq!(company["spend_today"], 0.1);
    println!(
        "company example: {} users of acme.com and 2 of bolt.example enriched with {} calls \
         ({} cache hits); logins in {logged_in:?}, enrichment in {enriched_in:?}",
        users,
        domains.len(),
        company["cache_hits_today"]
    );
}

async fn a_fraud_score_is_posted_as_json(backend: Backend) {
    let seen = Seen::default();
    let base = mock_services(seen.clone()).await;
    let app = TestApp::spawn_with(backend, example_settings("fraud.toml", &base)).await;
    log_in(&app, login("u1", "ada@shoe.example", Some("203.0.113.9"))).await;
    drain(&app).await;
    assert_eq!(
        seen.of("fraud"),
        [
            json!({ "device": { "ip_address": "203.0.113.9", "class": "mobile" },
                 "email": { "address": "ada@shoe.example" } })
        ]
    );
    assert_eq!(seen.auth_of("fraud")[0], "Basic fraud_api_key-secret");
    let fraud = enrichment_of(&app, "u1").await["fraud"].clone();
    assert_eq!(
        (fraud["risk"].clone(), fraud["ip_risk"].clone()),
        (json!(0.42), json!(3.5))
    );
    log_in(&app, login("u1", "ada@shoe.example", Some("203.0.113.9"))).await;
    drain(&app).await;
    assert_eq!(
        seen.of("fraud").len(),
        1,
        "the same IP: the score is current"
    );
    log_in(&app, login("u1", "ada@shoe.example", Some("198.51.100.7"))).await;
    drain(&app).await;
    assert_eq!(seen.of("fraud").len(), 2, "a new IP is scored again");
}

/// The Auth0 Action itself, run by Node.js against this server on a real port with a
/// Facebook login's `event`: the identity provider's profile lands at
/// `app_metadata.idp` and feeds the city provider; the ID token gets the user hash.
async fn the_auth0_action_sends_the_social_profile(backend: Backend) {
    let seen = Seen::default();
    let base = mock_services(seen.clone()).await;
    let settings = example_settings("social-login.toml", &base);
    let app = TestApp::spawn_with(backend, settings.clone()).await;
    let router =
        trickle::http::router(trickle::http::AppState::new(app.trickle.clone(), &settings));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let event = json!({
        "user": {
            "user_id": "facebook|10203", "email": "ada@shoe.example", "name": "Ada Lovelace",
            "given_name": "Ada", "family_name": "Lovelace",
            "identities": [{ "provider": "facebook", "isSocial": true, "profileData": {
                "birthday": "12/10/1990", "gender": "female", "location": { "name": "Berlin" } } }]
        },
        "stats": { "logins_count": 1 },
        "request": { "ip": "203.0.113.9", "user_agent": "Mozilla/5.0" },
        "secrets": { "TRICKLE_URL": format!("http://{address}"),
                     "TRICKLE_SECRET_KEY": app.keys.secret_key,
                     "TRICKLE_IDENTITY_SECRET": app.keys.identity_secret }
    });
    let harness = "const action = require(process.argv[1]); const claims = {}; \
        const api = { idToken: { setCustomClaim: (k, v) => { claims[k] = v; } } }; \
        action.onExecutePostLogin(JSON.parse(process.argv[2]), api) \
          .then(() => console.log(JSON.stringify(claims)));";
    let action = examples_dir().join("auth0-post-login-action.js");
    let action = action.canonicalize().unwrap();
    let event = event.to_string();
    // Blocking on its own thread: the server it calls runs on this test's runtime.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg("-e")
            .arg(harness)
            .arg(action)
            .arg(event)
            .output()
            .expect("node runs (Node.js 18 or later is needed for this test)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !stdout.contains("trickle: login not"),
        "the login was counted: {stdout}"
    );
    let claims: Value = serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap();
    assert_eq!(
        claims["https://trickle/user_hash"],
        user_hash(&app.keys.identity_secret, "facebook|10203")
    );
    drain(&app).await;
    let user = app
        .trickle
        .store()
        .user(&app.keys.site_id, "facebook|10203")
        .await
        .unwrap()
        .unwrap();
    let idp = &user.app_metadata["idp"];
    assert_eq!(idp["birthdate"], "1990-12-10", "{idp}");
    assert_eq!(
        (idp["gender"].clone(), idp["location"].clone()),
        (json!("female"), json!("Berlin"))
    );
    assert_eq!(idp["social_provider"], "facebook");
    assert_eq!(user.last_ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(
        seen.of("city"),
        [json!({ "name": "Berlin" })],
        "the city provider read the profile"
    );
    assert_eq!(
        user.app_metadata["enrichment"]["city"]["population"],
        3_700_000
    );
}

on_both_databases!(
    person_then_sentiment_once_per_user,
    many_users_of_one_company_cost_one_call,
    a_fraud_score_is_posted_as_json,
    the_auth0_action_sends_the_social_profile,
);
