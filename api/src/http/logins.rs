//! `POST /v1/logins`.

use axum::Json;
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, ServerSite};
use crate::app::logins::LoginRequest;
use crate::model::LoginReceipt;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(record_login))
}

/// Counts a login; a repeated `event_id` changes nothing and returns the same body.
#[utoipa::path(post, path = "/v1/logins", tag = "logins", request_body = LoginRequest,
    security(("secret_key" = [])),
    responses((status = 200, body = LoginReceipt), (status = 400), (status = 401), (status = 409), (status = 413)))]
async fn record_login(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Json<LoginReceipt>, ApiError> {
    Ok(Json(state.app.logins().record(&site, request).await?))
}
