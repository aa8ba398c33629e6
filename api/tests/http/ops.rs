use crate::common::{Backend, TestApp, expect_error, test_settings};
use axum::body::Body;
use reqwest::Method;
use serde_json::Value;
use tower::ServiceExt;
use trickle::http::{AppState, metrics_router};

async fn health_and_readiness_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let health = app.get("/healthz").send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        health.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );
    let ready: Value = app
        .get("/readyz")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
}

async fn metrics_are_prometheus_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.login("u1").await;
    let response = app.get("/metrics").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(text.contains("trickle_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/v1/logins\""), "{text}");
}

async fn the_openapi_document_lists_every_endpoint(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc: Value = app
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/logins",
        "/v1/users",
        "/v1/users/{id}",
        "/v1/users/{id}/next",
        "/v1/question-sets",
        "/v1/question-sets/{slug}",
        "/v1/question-sets/{slug}/versions/{version}/publish",
        "/v1/stats/questions",
        "/v1/enrichment/providers",
        "/v1/site",
        "/v1/widget/next",
        "/v1/widget/answers",
        "/v1/widget/skips",
        "/v1/widget/impressions",
    ] {
        assert!(doc["paths"].get(path).is_some(), "missing {path}");
    }
    assert!(doc["components"]["securitySchemes"]["secret_key"].is_object());
}

async fn unknown_routes_and_methods_answer_in_the_error_shape(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.get("/v1/nothing").send().await.unwrap();
    expect_error(response, 404, "route_not_found").await;
    let response = app
        .request(Method::DELETE, "/v1/logins")
        .send()
        .await
        .unwrap();
    expect_error(response, 405, "method_not_allowed").await;
}

/// Methods outside the standard set are one label, so clients cannot mint time series.
async fn unknown_methods_are_counted_as_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let foobar = Method::from_bytes(b"FOOBAR").unwrap();
    let response = app.request(foobar, "/v1/logins").send().await.unwrap();
    expect_error(response, 405, "method_not_allowed").await;
    let text = app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("FOOBAR"), "{text}");
    assert!(
        text.lines()
            .any(|line| line.starts_with("trickle_http_requests_total")
                && line.contains("method=\"other\"")
                && line.contains("route=\"/v1/logins\"")
                && line.contains("status=\"405\"")),
        "{text}"
    );
}

const METRICS_TOKEN: &str = "metrics-token-0123456789";

async fn a_metrics_token_is_required_once_set(backend: Backend) {
    let mut settings = test_settings();
    settings.metrics.bearer_token = Some(METRICS_TOKEN.into());
    let app = TestApp::spawn_with(backend, settings).await;
    let none = app.get("/metrics").send().await.unwrap();
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    expect_error(none, 401, "missing_metrics_token").await;
    let wrong = app
        .get("/metrics")
        .bearer_auth("metrics-token-9876543210")
        .send();
    expect_error(wrong.await.unwrap(), 401, "invalid_metrics_token").await;
    let prefix = app.get("/metrics").bearer_auth(&METRICS_TOKEN[..10]).send();
    expect_error(prefix.await.unwrap(), 401, "invalid_metrics_token").await;
    let secret_key = app.get("/metrics").bearer_auth(&app.keys.secret_key).send();
    expect_error(secret_key.await.unwrap(), 401, "invalid_metrics_token").await;
    let right = app
        .get("/metrics")
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert!(
        right
            .text()
            .await
            .unwrap()
            .contains("trickle_http_requests_total")
    );
    let health = app.get("/healthz").send().await.unwrap();
    assert_eq!(health.status(), 200, "only /metrics asks for the token");
}

/// With `[metrics] listen`, the main address no longer serves `/metrics`; the metrics
/// router (what `serve` binds there) does, with the token when one is set.
async fn metrics_on_their_own_address_leave_the_main_one(backend: Backend) {
    let mut settings = test_settings();
    settings.metrics.listen = Some("127.0.0.1:0".parse().unwrap());
    settings.metrics.bearer_token = Some(METRICS_TOKEN.into());
    let app = TestApp::spawn_with(backend, settings.clone()).await;
    let main = app
        .get("/metrics")
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    expect_error(main, 404, "route_not_found").await;
    let metrics = metrics_router(AppState::new(app.trickle.clone(), &settings));
    let scrape = |token: Option<&str>| {
        let mut request = axum::http::Request::get("/metrics");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        metrics
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
    };
    assert_eq!(scrape(None).await.unwrap().status(), 401);
    assert_eq!(scrape(Some(METRICS_TOKEN)).await.unwrap().status(), 200);
}

on_both_databases!(
    health_and_readiness_answer,
    metrics_are_prometheus_text,
    the_openapi_document_lists_every_endpoint,
    unknown_routes_and_methods_answer_in_the_error_shape,
    unknown_methods_are_counted_as_other,
    a_metrics_token_is_required_once_set,
    metrics_on_their_own_address_leave_the_main_one,
);
