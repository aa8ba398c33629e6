//! `/v1/site` and `/v1/stats/questions`.

use axum::Json;
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, ServerSite};
use crate::app::stats::QuestionStats;
use crate::model::{SitePatch, SiteView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_site, patch_site))
        .routes(routes!(question_stats))
}

/// The site's allowed origins and widget settings.
#[utoipa::path(get, path = "/v1/site", tag = "site", security(("secret_key" = [])),
    responses((status = 200, body = SiteView), (status = 401)))]
async fn get_site(ServerSite(site): ServerSite) -> Json<SiteView> {
    Json(SiteView::from(site.as_ref()))
}

/// Replaces allowed origins and merges widget settings.
#[utoipa::path(patch, path = "/v1/site", tag = "site", request_body = SitePatch, security(("secret_key" = [])),
    responses((status = 200, body = SiteView), (status = 400), (status = 401)))]
async fn patch_site(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    JsonBody(patch): JsonBody<SitePatch>,
) -> Result<Json<SiteView>, ApiError> {
    let updated = state.app.sites().update(&site, patch).await?;
    Ok(Json(SiteView::from(&updated)))
}

/// Per question: eligible, shown, answered, skipped, dismissed, answer distribution.
#[utoipa::path(get, path = "/v1/stats/questions", tag = "stats", security(("secret_key" = [])),
    responses((status = 200, body = Vec<QuestionStats>), (status = 401)))]
async fn question_stats(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
) -> Result<Json<Vec<QuestionStats>>, ApiError> {
    Ok(Json(state.app.stats().questions(&site).await?))
}
