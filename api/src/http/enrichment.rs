//! `/v1/enrichment/providers`: the configured providers and what they did for the site.

use axum::Json;
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::ServerSite;
use crate::app::enrichment::ProviderStatusList;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(providers))
}

/// Every configured enrichment provider, in the order they run: kind, inputs, quotas,
/// and for this site today (UTC) calls, cache hits, failures and budget deferrals, with
/// the last success and error. `budget_left` is the deployment's (the budget is shared
/// by every site).
#[utoipa::path(get, path = "/v1/enrichment/providers", tag = "enrichment",
    operation_id = "enrichment_providers", security(("secret_key" = [])),
    responses((status = 200, body = ProviderStatusList), (status = 401)))]
async fn providers(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
) -> Result<Json<ProviderStatusList>, ApiError> {
    Ok(Json(state.app.enrichment().status(&site).await?))
}
