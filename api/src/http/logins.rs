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
#[utoipa::path(post, path = "/v1/logins", tag = "logins", operation_id = "record_login",
    request_body = LoginRequest, security(("secret_key" = [])),
    responses((status = 200, description = "Counted (or already counted: the same receipt).", body = LoginReceipt),
        (status = 400, description = "`malformed_json`, `invalid_user_id` or `invalid_field` (`details.field`)."),
        (status = 401),
        (status = 409, description = "`event_id_reused`: the event id was used for another user."),
        (status = 413, description = "`body_too_large`.")))]
async fn record_login(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Json<LoginReceipt>, ApiError> {
    Ok(Json(state.app.logins().record(&site, request).await?))
}
