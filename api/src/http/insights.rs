//! `/v1/stats/overview` and `/v1/stats/completeness`.

use axum::Json;
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::ServerSite;
use crate::app::completeness::Completeness;
use crate::app::overview::SiteOverview;
use crate::model::now;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(overview))
        .routes(routes!(completeness))
}

/// The site's last 7 and 30 UTC days (each ending today): logins, new users, prompts
/// shown, answered, skipped and dismissed, and the answer rate (answered / shown; null
/// when nothing was shown), in total and per day (every day listed, zeros included).
#[utoipa::path(get, path = "/v1/stats/overview", tag = "stats", operation_id = "stats_overview",
    security(("secret_key" = [])),
    responses((status = 200, body = SiteOverview), (status = 401)))]
async fn overview(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
) -> Result<Json<SiteOverview>, ApiError> {
    Ok(Json(state.app.stats().overview(&site, now()).await?))
}

/// Profile completeness by login number: for each question key of the live sets and
/// each enrichment provider that found something, per login number k, the users who
/// reached login k (login count ≥ k) and held a value by the end of login k, and
/// their share of all users who reached login k.
#[utoipa::path(get, path = "/v1/stats/completeness", tag = "stats", operation_id = "stats_completeness",
    security(("secret_key" = [])),
    responses((status = 200, body = Completeness), (status = 401)))]
async fn completeness(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
) -> Result<Json<Completeness>, ApiError> {
    Ok(Json(state.app.stats().completeness(&site).await?))
}
