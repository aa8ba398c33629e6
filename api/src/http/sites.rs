//! `/v1/site`, `/v1/site/rotate-keys` and `/v1/stats/questions`.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, ServerSite};
use crate::app::Actor;
use crate::app::stats::QuestionStats;
use crate::model::site::{KeyRotationRequest, RotatedKeys};
use crate::model::{SitePatch, SiteView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_site, patch_site))
        .routes(routes!(rotate_keys))
        .routes(routes!(question_stats))
}

/// The site's allowed origins and widget settings.
#[utoipa::path(get, path = "/v1/site", tag = "site", operation_id = "get_site", security(("secret_key" = [])),
    responses((status = 200, body = SiteView), (status = 401)))]
async fn get_site(ServerSite(site): ServerSite) -> Json<SiteView> {
    Json(SiteView::from(site.as_ref()))
}

/// Replaces allowed origins and merges widget settings.
#[utoipa::path(patch, path = "/v1/site", tag = "site", operation_id = "patch_site", request_body = SitePatch,
    security(("secret_key" = [])),
    responses((status = 200, body = SiteView),
        (status = 400, description = "`malformed_json`, `invalid_origin` or `invalid_field` (`details.field` names the setting)."),
        (status = 401), (status = 413, description = "`body_too_large`.")))]
async fn patch_site(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    JsonBody(patch): JsonBody<SitePatch>,
) -> Result<Json<SiteView>, ApiError> {
    let updated = state
        .app
        .sites()
        .update(&Actor::secret_key(), &site, patch)
        .await?;
    Ok(Json(SiteView::from(&updated)))
}

/// Replaces the named keys and returns them, the only time they are shown. The
/// replaced keys stay valid for `grace_seconds` (default: the server's
/// `key_grace_seconds`), then are refused. A secret key that is itself in its grace
/// period cannot rotate (403).
#[utoipa::path(post, path = "/v1/site/rotate-keys", tag = "site", operation_id = "rotate_keys",
    request_body = KeyRotationRequest, security(("secret_key" = [])),
    responses((status = 200, body = RotatedKeys),
        (status = 400, description = "`malformed_json` or `invalid_field` (no keys named, `grace_seconds` over 30 days)."),
        (status = 401),
        (status = 403, description = "`retired_secret_key`: the key used is itself in its grace period."),
        (status = 413, description = "`body_too_large`.")))]
async fn rotate_keys(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    headers: HeaderMap,
    JsonBody(request): JsonBody<KeyRotationRequest>,
) -> Result<Json<RotatedKeys>, ApiError> {
    let used_key = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let keys = state
        .app
        .sites()
        .rotate_keys(&Actor::secret_key(), &site, used_key, request)
        .await?;
    Ok(Json(keys))
}

/// Per question: eligible, shown, answered, skipped, dismissed, answer distribution.
#[utoipa::path(get, path = "/v1/stats/questions", tag = "stats", operation_id = "question_stats",
    security(("secret_key" = [])),
    responses((status = 200, body = Vec<QuestionStats>), (status = 401)))]
async fn question_stats(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
) -> Result<Json<Vec<QuestionStats>>, ApiError> {
    Ok(Json(state.app.stats().questions(&site).await?))
}
