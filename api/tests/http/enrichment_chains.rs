//! Providers fed by other providers, answers and the identity provider's profile,
//! against mock services on 127.0.0.1: person → sentiment, a POSTed fraud score.

use crate::common::{Backend, TestApp, test_settings};
use axum::extract::{Json, Query, State};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use trickle::config::Settings;
use trickle::providers::{HttpMethod, HttpProviderConfig, MapEntry, Transform, UserAgentConfig};

/// What the mock services saw: one entry per call, by service.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<(String, Value)>>>);

impl Calls {
    fn of(&self, service: &str) -> Vec<Value> {
        let calls = self.0.lock().unwrap();
        calls
            .iter()
            .filter(|(s, _)| s == service)
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn record(&self, service: &str, seen: Value) {
        self.0.lock().unwrap().push((service.to_owned(), seen));
    }
}

/// A person API (by e-mail: a Twitter handle and a birthdate; none for `nobody@…`),
/// a sentiment API (POST a handle: a score), a fraud API (POST: a risk score) and a
/// city API (GET by city). Returns the base URL.
async fn mock_services(calls: Calls) -> String {
    async fn person(
        State(calls): State<Calls>,
        Query(query): Query<BTreeMap<String, String>>,
    ) -> Json<Value> {
        let email = query.get("email").cloned().unwrap_or_default();
        calls.record("person", json!(email));
        let local = email.split('@').next().unwrap_or_default().to_owned();
        if local == "nobody" {
            return Json(json!({ "demographics": { "birthdate": "1990-12-10" } }));
        }
        Json(
            json!({ "social": { "twitter": { "handle": format!("@{local}") } },
                     "demographics": { "birthdate": "1990-12-10" } }),
        )
    }
    async fn sentiment(State(calls): State<Calls>, Json(body): Json<Value>) -> Json<Value> {
        calls.record("sentiment", body.clone());
        Json(json!({ "score": 0.8, "label": "POSITIVE", "for": body["handle"] }))
    }
    async fn fraud(State(calls): State<Calls>, Json(body): Json<Value>) -> Json<Value> {
        calls.record("fraud", body);
        Json(json!({ "risk": { "score": 12.5 } }))
    }
    async fn city(
        State(calls): State<Calls>,
        Query(query): Query<BTreeMap<String, String>>,
    ) -> Json<Value> {
        calls.record("city", json!(query));
        Json(json!({ "population": 3_700_000 }))
    }
    let app = axum::Router::new()
        .route("/person", axum::routing::get(person))
        .route("/sentiment", axum::routing::post(sentiment))
        .route("/fraud", axum::routing::post(fraud))
        .route("/city", axum::routing::get(city))
        .with_state(calls);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

fn map(entries: &[(&str, &str)]) -> BTreeMap<String, MapEntry> {
    entries
        .iter()
        .map(|(field, pointer)| ((*field).to_owned(), (*pointer).into()))
        .collect()
}

/// Settings with the person → sentiment chain on the mock services.
fn chain_settings(base: &str) -> Settings {
    let mut settings = test_settings();
    let mut person_map = map(&[("twitter", "/social/twitter/handle")]);
    person_map.insert(
        "age".into(),
        MapEntry::Transformed {
            pointer: "/demographics/birthdate".into(),
            transform: Transform::YearsSince,
        },
    );
    let person = HttpProviderConfig {
        url: format!("{base}/person?email={{email}}"),
        map: person_map,
        ..HttpProviderConfig::default()
    };
    let mut sentiment_map = map(&[("score", "/score"), ("handle", "/for")]);
    sentiment_map.insert(
        "label".into(),
        MapEntry::Transformed {
            pointer: "/label".into(),
            transform: Transform::Lower,
        },
    );
    let sentiment = HttpProviderConfig {
        url: format!("{base}/sentiment"),
        method: HttpMethod::Post,
        body: Some(
            r#"{"handle": "{app_metadata.enrichment.person.twitter}", "about": "@shop"}"#.into(),
        ),
        ttl_hours: 720,
        map: sentiment_map,
        ..HttpProviderConfig::default()
    };
    settings.enrichment.http = BTreeMap::from([
        ("person".to_owned(), person),
        ("sentiment".to_owned(), sentiment),
    ]);
    settings
}

async fn login(app: &TestApp, body: Value) {
    let response = app
        .server(Method::POST, "/v1/logins")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    while app.trickle.jobs().work_once().await.unwrap() > 0 {}
}

async fn enrichment_of(app: &TestApp, user: &str) -> Value {
    let profile: Value = app
        .server(Method::GET, &format!("/v1/users/{user}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    profile["app_metadata"]["enrichment"].clone()
}

async fn the_sentiment_of_a_persons_handle_is_scored_once_per_user(backend: Backend) {
    let calls = Calls::default();
    let base = mock_services(calls.clone()).await;
    let app = TestApp::spawn_with(backend, chain_settings(&base)).await;
    for round in 0..3 {
        for user in ["ada", "bob", "nobody"] {
            login(
                &app,
                json!({ "user_id": user, "email": format!("{user}@shop.example"),
                        "event_id": format!("{user}-{round}") }),
            )
            .await;
        }
    }
    assert_eq!(calls.of("person").len(), 3, "one person lookup per user");
    let mut scored: Vec<Value> = calls.of("sentiment");
    scored.sort_by_key(|b| b["handle"].to_string());
    assert_eq!(
        scored,
        [
            json!({ "handle": "@ada", "about": "@shop" }),
            json!({ "handle": "@bob", "about": "@shop" })
        ],
        "sentiment once per user with a handle, fed the person result"
    );
    let ada = enrichment_of(&app, "ada").await;
    assert_eq!(ada["person"]["twitter"], "@ada");
    assert!(ada["person"]["age"].as_i64().unwrap() >= 35, "{ada}");
    assert_eq!(ada["sentiment"]["handle"], "@ada");
    assert_eq!(ada["sentiment"]["label"], "positive");
    assert_eq!(ada["sentiment"]["inputs_hash"].as_str().unwrap().len(), 32);
    let nobody = enrichment_of(&app, "nobody").await;
    assert!(nobody["person"]["twitter"].is_null());
    assert!(
        nobody["sentiment"].is_null(),
        "without a handle the sentiment provider never runs: {nobody}"
    );
    let jobs = app.trickle.store().jobs(&app.keys.site_id).await.unwrap();
    assert!(
        jobs.iter().all(|j| j.status == "done"),
        "no job failed: {jobs:?}"
    );
}

async fn a_fraud_score_is_posted_the_ip_email_and_device(backend: Backend) {
    let calls = Calls::default();
    let base = mock_services(calls.clone()).await;
    let mut settings = test_settings();
    settings.enrichment.user_agent = Some(UserAgentConfig::default());
    let fraud = HttpProviderConfig {
        url: format!("{base}/fraud"),
        method: HttpMethod::Post,
        body: Some(
            r#"{"ip": "{ip}", "email": "{email}",
                "device": {"class": "{app_metadata.enrichment.user_agent.device}"}}"#
                .into(),
        ),
        map: map(&[("risk", "/risk/score")]),
        ..HttpProviderConfig::default()
    };
    settings.enrichment.http = BTreeMap::from([("fraud".to_owned(), fraud)]);
    let app = TestApp::spawn_with(backend, settings).await;
    let agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    let body = json!({ "user_id": "u1", "email": "ada@shop.example", "ip": "203.0.113.9",
                       "user_agent": agent });
    login(&app, body).await;
    let device = enrichment_of(&app, "u1").await["user_agent"]["device"].clone();
    assert!(device.is_string(), "the user_agent provider ran first");
    assert_eq!(
        calls.of("fraud"),
        [
            json!({ "ip": "203.0.113.9", "email": "ada@shop.example", "device": { "class": device } })
        ]
    );
    assert_eq!(enrichment_of(&app, "u1").await["fraud"]["risk"], 12.5);
    login(
        &app,
        json!({ "user_id": "u1", "email": "ada@shop.example", "ip": "203.0.113.9" }),
    )
    .await;
    assert_eq!(calls.of("fraud").len(), 1, "same inputs, fresh result");
    login(
        &app,
        json!({ "user_id": "u1", "email": "ada@shop.example", "ip": "198.51.100.1" }),
    )
    .await;
    assert_eq!(
        calls.of("fraud").len(),
        2,
        "a changed input (the IP) makes the result stale"
    );
    assert_eq!(calls.of("fraud")[1]["ip"], "198.51.100.1");
}

async fn answers_and_idp_claims_feed_providers_that_wait_for_them(backend: Backend) {
    let calls = Calls::default();
    let base = mock_services(calls.clone()).await;
    let mut settings = test_settings();
    let city = HttpProviderConfig {
        url: format!(
            "{base}/city?name={{app_metadata.idp.location}}&nick={{user_metadata.nickname}}"
        ),
        when: Some(json!({ "key": "app_metadata.idp.country", "equals": "DE" })),
        map: map(&[("population", "/population")]),
        ..HttpProviderConfig::default()
    };
    settings.enrichment.http = BTreeMap::from([("city".to_owned(), city)]);
    let app = TestApp::spawn_with(backend, settings).await;
    app.publish_yaml(
        "nick",
        "slug: nick\ntitle: Nick\nstages:\n  - at_login: 1\n    questions:\n      - { key: nickname, type: text, title: \"Nickname?\" }\n",
    )
    .await;
    let claims = |country: &str| json!({ "location": "Berlin", "country": country });
    login(&app, json!({ "user_id": "de", "profile": claims("DE") })).await;
    login(&app, json!({ "user_id": "fr", "profile": claims("FR") })).await;
    assert!(calls.of("city").is_empty(), "the nickname is not known yet");
    for user in ["de", "fr"] {
        let next: Value = app
            .widget(Method::GET, "/v1/widget/next", user)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let version = next["prompt"]["version"].clone();
        let answer = json!({ "question_set": "nick", "version": version, "key": "nickname", "value": "ada" });
        let answered = app
            .widget(Method::POST, "/v1/widget/answers", user)
            .json(&answer)
            .send()
            .await
            .unwrap();
        assert_eq!(answered.status(), 200, "{next}");
        while app.trickle.jobs().work_once().await.unwrap() > 0 {}
    }
    assert_eq!(
        calls.of("city"),
        [json!({ "name": "Berlin", "nick": "ada" })],
        "run after the answer, only where `when` holds"
    );
    assert_eq!(
        enrichment_of(&app, "de").await["city"]["population"],
        3_700_000
    );
    assert!(enrichment_of(&app, "fr").await["city"].is_null());
}

on_both_databases!(
    the_sentiment_of_a_persons_handle_is_scored_once_per_user,
    a_fraud_score_is_posted_the_ip_email_and_device,
    answers_and_idp_claims_feed_providers_that_wait_for_them,
);
