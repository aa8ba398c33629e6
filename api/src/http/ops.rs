//! Operations: liveness, readiness, Prometheus metrics, the OpenAPI document.
//!
//! `/metrics` is served on the main address unless `[metrics] listen` gives it one of
//! its own ([`metrics_router`]); with `[metrics] bearer_token` set it asks for that token
//! wherever it is served.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use utoipa::openapi::OpenApi;

use super::AppState;
use super::error::ApiError;
use crate::error::Error;

pub fn router(openapi: Arc<OpenApi>, serve_metrics: bool) -> Router<AppState> {
    let router = Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(ready))
        .route(
            "/openapi.json",
            get(move || async move { Json(openapi.as_ref().clone()) }),
        );
    if serve_metrics {
        router.route("/metrics", get(metrics))
    } else {
        router
    }
}

/// `/metrics` alone, for the address `[metrics] listen` names.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state.app.ready().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "database unavailable" })),
            )
        }
    }
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.metrics_token
        && let Err(refusal) = check_bearer(&headers, expected)
    {
        let mut response = refusal.into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Whether the request carries `Authorization: Bearer <expected>`. The comparison is of
/// SHA-256 digests in constant time, so neither the token's bytes nor its length leak.
fn check_bearer(headers: &HeaderMap, expected: &str) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let refusal = |code, message: &str| {
        ApiError(Error::Unauthorized {
            code,
            message: message.into(),
        })
    };
    let Some(given) = given else {
        return Err(refusal(
            "missing_metrics_token",
            "send Authorization: Bearer <metrics token>",
        ));
    };
    let matches: bool = Sha256::digest(given.as_bytes())
        .ct_eq(&Sha256::digest(expected.trim().as_bytes()))
        .into();
    if matches {
        Ok(())
    } else {
        Err(refusal(
            "invalid_metrics_token",
            "the metrics token is not valid",
        ))
    }
}
