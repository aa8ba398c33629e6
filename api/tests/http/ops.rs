use crate::common::{Backend, TestApp, expect_error};
use reqwest::Method;
use serde_json::Value;

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

on_both_databases!(
    health_and_readiness_answer,
    metrics_are_prometheus_text,
    the_openapi_document_lists_every_endpoint,
    unknown_routes_and_methods_answer_in_the_error_shape,
);
