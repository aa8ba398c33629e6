use crate::common::{Backend, TestApp, expect_error, test_settings};
use axum::http::{HeaderMap, StatusCode};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trickle::config::{OutboundSettings, Settings};

/// A receiver on 127.0.0.1 that records every request and answers with the next status
/// of its script (then 200).
#[derive(Clone, Default)]
pub struct Receiver {
    seen: Arc<Mutex<Vec<(Instant, HeaderMap, String)>>>,
    script: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    pub async fn start(script: Vec<u16>) -> (Receiver, String) {
        Self::start_on("127.0.0.1:0", script).await
    }

    /// A receiver listening on `address` (e.g. `[::1]:0`).
    async fn start_on(address: &str, script: Vec<u16>) -> (Receiver, String) {
        let receiver = Receiver {
            script: Arc::new(Mutex::new(script)),
            ..Default::default()
        };
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    state
                        .seen
                        .lock()
                        .unwrap()
                        .push((Instant::now(), headers, body));
                    let mut script = state.script.lock().unwrap();
                    let status = if script.is_empty() {
                        200
                    } else {
                        script.remove(0)
                    };
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    pub fn requests(&self) -> Vec<(Instant, HeaderMap, String)> {
        self.seen.lock().unwrap().clone()
    }
}

pub async fn subscribe(app: &TestApp, url: &str, events: &[&str]) -> Value {
    let response = app
        .server(Method::POST, "/v1/webhooks")
        .json(&json!({ "url": url, "events": events, "description": "CRM sync" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn deliveries_are_signed_per_standard_webhooks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (receiver, url) = Receiver::start(vec![]).await;
    let created = subscribe(&app, &url, &["user.signed_up", "user.logged_in"]).await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    app.login("u1").await;
    while app.trickle.jobs().work_once().await.unwrap() > 0 {}
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2, "signed_up and logged_in");
    // Verified by an independent implementation of the scheme.
    let verifier = standardwebhooks::Webhook::new(secret).unwrap();
    let mut types = Vec::new();
    for (_, headers, body) in &requests {
        verifier
            .verify(body.as_bytes(), headers)
            .expect("signature verifies");
        let tampered = body.replace("u1", "u2");
        assert!(verifier.verify(tampered.as_bytes(), headers).is_err());
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["data"]["user_id"], "u1");
        types.push(event["type"].as_str().unwrap().to_owned());
    }
    types.sort();
    assert_eq!(types, ["user.logged_in", "user.signed_up"]);
    let id = created["id"].as_str().unwrap();
    let log: Value = app
        .server(Method::GET, &format!("/v1/webhooks/{id}/deliveries"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "delivered" && d["last_status"] == 200)
    );
}

async fn a_failed_delivery_is_retried_with_back_off(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (receiver, url) = Receiver::start(vec![500]).await;
    let created = subscribe(&app, &url, &["user.deleted"]).await;
    app.login("u1").await;
    let worker = app.trickle.jobs().spawn_worker();
    let deleted = app
        .server(Method::DELETE, "/v1/users/u1")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let started = Instant::now();
    while receiver.requests().len() < 2 && started.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2, "a 500, then the retry succeeded");
    let gap = requests[1].0 - requests[0].0;
    println!("measured retry gap after the first failure: {gap:?}");
    assert!(
        gap >= Duration::from_secs(2),
        "the first back-off is 2 s: {gap:?}"
    );
    assert!(
        gap <= Duration::from_secs(5),
        "the first retry comes within 5 s: {gap:?}"
    );
    assert_eq!(
        requests[0].1["webhook-id"], requests[1].1["webhook-id"],
        "retries keep the message id"
    );
    // The receiver has the retry before the worker records its answer: wait for the
    // record, then stop the worker.
    let id = created["id"].as_str().unwrap();
    let started = Instant::now();
    let log = loop {
        let log: Value = app
            .server(Method::GET, &format!("/v1/webhooks/{id}/deliveries"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if log[0]["status"] != "pending" || started.elapsed() > Duration::from_secs(10) {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    worker.abort();
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["attempts"], 2);
    let metrics = app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("trickle_job_failures_total"), "{metrics}");
}

async fn subscriptions_are_listed_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = subscribe(&app, "https://crm.example/hook", &["profile.answered"]).await;
    let list: Value = app
        .server(Method::GET, "/v1/webhooks")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["events"], json!(["profile.answered"]));
    assert_eq!(list[0]["enabled"], true);
    assert!(
        list[0].get("secret").is_none(),
        "secrets are shown once, at creation"
    );
    let id = created["id"].as_str().unwrap();
    let deleted = app
        .server(Method::DELETE, &format!("/v1/webhooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    expect_error(
        app.server(Method::DELETE, &format!("/v1/webhooks/{id}"))
            .send()
            .await
            .unwrap(),
        404,
        "webhook_not_found",
    )
    .await;
    expect_error(
        app.server(Method::GET, &format!("/v1/webhooks/{id}/deliveries"))
            .send()
            .await
            .unwrap(),
        404,
        "webhook_not_found",
    )
    .await;
}

async fn bad_subscriptions_are_400_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (
            json!({ "url": "ftp://x", "events": ["user.deleted"] }),
            "invalid_url",
            "url",
        ),
        (
            json!({ "url": "not a url", "events": ["user.deleted"] }),
            "invalid_url",
            "url",
        ),
        (
            json!({ "url": "https://x.example", "events": [] }),
            "invalid_events",
            "events",
        ),
        (
            json!({ "url": "https://x.example", "events": ["user.exploded"] }),
            "invalid_events",
            "events",
        ),
    ];
    for (body, code, field) in cases {
        let response = app
            .server(Method::POST, "/v1/webhooks")
            .json(&body)
            .send()
            .await
            .unwrap();
        let error = expect_error(response, 400, code).await;
        assert_eq!(error["error"]["details"]["field"], field);
    }
    let unknown = app
        .server(Method::POST, "/v1/webhooks")
        .json(&json!({ "url": "https://x.example", "events": ["user.deleted"], "colour": 1 }))
        .send()
        .await
        .unwrap();
    expect_error(unknown, 400, "malformed_json").await;
    let limit = app
        .server(Method::GET, "/v1/webhooks/wh_x/deliveries?limit=many")
        .send()
        .await
        .unwrap();
    expect_error(limit, 400, "malformed_query").await;
    for out_of_range in ["0", "501"] {
        let response = app
            .server(
                Method::GET,
                &format!("/v1/webhooks/wh_x/deliveries?limit={out_of_range}"),
            )
            .send()
            .await
            .unwrap();
        let body = expect_error(response, 400, "invalid_limit").await;
        assert_eq!(body["error"]["details"]["field"], "limit");
    }
}

/// Webhook URLs aimed at internal addresses: loopback receivers on 127.0.0.1 and ::1
/// (reached by literal, by `localhost` and in IPv4-mapped form), the cloud metadata
/// service and a private address.
async fn internal_targets() -> (Vec<String>, Receiver, Receiver) {
    let (v4, v4_url) = Receiver::start(vec![]).await;
    let (v6, v6_url) = Receiver::start_on("[::1]:0", vec![]).await;
    let port = url::Url::parse(&v4_url).unwrap().port().unwrap();
    let targets = vec![
        v4_url,
        format!("http://localhost:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        v6_url,
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1:5432/".to_owned(),
    ];
    (targets, v4, v6)
}

/// Subscribes every target to `user.signed_up`, signs a user up, works the queue, and
/// returns each target's one delivery.
async fn deliver_to(app: &TestApp, targets: &[String]) -> Vec<Value> {
    let mut ids = Vec::new();
    for url in targets {
        let created = subscribe(app, url, &["user.signed_up"]).await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    app.login("u1").await;
    while app.trickle.jobs().work_once().await.unwrap() > 0 {}
    let mut deliveries = Vec::new();
    for id in ids {
        let log: Value = app
            .server(Method::GET, &format!("/v1/webhooks/{id}/deliveries"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
        deliveries.push(log[0].clone());
    }
    deliveries
}

async fn internal_receivers_are_refused_by_default(backend: Backend) {
    let settings = Settings {
        outbound: OutboundSettings::default(),
        ..test_settings()
    };
    let app = TestApp::spawn_with(backend, settings).await;
    let (targets, v4, v6) = internal_targets().await;
    let deliveries = deliver_to(&app, &targets).await;
    for (url, delivery) in targets.iter().zip(&deliveries) {
        assert_eq!(
            delivery["last_error"], "address not allowed",
            "{url}: {delivery}"
        );
        assert_eq!(delivery["last_status"], Value::Null, "{url}: {delivery}");
        assert_ne!(delivery["status"], "delivered", "{url}: {delivery}");
    }
    assert!(v4.requests().is_empty() && v6.requests().is_empty());
}

async fn internal_receivers_are_reached_when_their_range_is_allowed(backend: Backend) {
    let mut outbound =
        OutboundSettings::allowing(&["127.0.0.0/8", "::1/128", "169.254.0.0/16", "10.0.0.0/8"]);
    outbound.connect_timeout_ms = 200;
    let mut settings = Settings {
        outbound,
        ..test_settings()
    };
    settings.webhooks.timeout_ms = 1000;
    let app = TestApp::spawn_with(backend, settings).await;
    let (targets, v4, v6) = internal_targets().await;
    let deliveries = deliver_to(&app, &targets).await;
    for (url, delivery) in targets.iter().zip(&deliveries).take(4) {
        assert_eq!(delivery["status"], "delivered", "{url}: {delivery}");
    }
    for (url, delivery) in targets.iter().zip(&deliveries).skip(4) {
        // Nothing answers there; what matters is that a connection was tried.
        assert_ne!(
            delivery["last_error"], "address not allowed",
            "{url}: {delivery}"
        );
    }
    assert_eq!((v4.requests().len(), v6.requests().len()), (3, 1));
}

on_both_databases!(
    internal_receivers_are_refused_by_default,
    internal_receivers_are_reached_when_their_range_is_allowed,
    deliveries_are_signed_per_standard_webhooks,
    a_failed_delivery_is_retried_with_back_off,
    subscriptions_are_listed_and_deleted,
    bad_subscriptions_are_400_naming_the_field,
);
