//! `/v1/webhooks`: subscriptions and their delivery log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, QueryParams, ServerSite};
use crate::model::{CreatedSubscription, Delivery, NewSubscription, Subscription};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(delete_webhook))
        .routes(routes!(list_deliveries))
}

/// Subscribes a URL to event types; the response holds the `whsec_…` signing secret,
/// shown only this once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = NewSubscription,
    security(("secret_key" = [])),
    responses((status = 201, body = CreatedSubscription), (status = 400), (status = 401), (status = 409)))]
async fn create_webhook(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    JsonBody(request): JsonBody<NewSubscription>,
) -> Result<(StatusCode, Json<CreatedSubscription>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.app.webhooks().create(&site, request).await?),
    ))
}

/// The site's subscriptions, with their state (enabled, failure streak).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", security(("secret_key" = [])),
    responses((status = 200, body = Vec<Subscription>), (status = 401)))]
async fn list_webhooks(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
) -> Result<Json<Vec<Subscription>>, ApiError> {
    Ok(Json(state.app.webhooks().list(&site).await?))
}

/// Unsubscribes.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    security(("secret_key" = [])), responses((status = 204), (status = 401), (status = 404)))]
async fn delete_webhook(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.webhooks().delete(&site, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct DeliveryParams {
    /// How many, newest first (1–500, default 100).
    limit: Option<u32>,
}

/// The delivery log of one subscription: status, attempts, last HTTP status and error.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), DeliveryParams), security(("secret_key" = [])),
    responses((status = 200, body = Vec<Delivery>), (status = 400), (status = 401), (status = 404)))]
async fn list_deliveries(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<DeliveryParams>,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    let limit = params.limit.unwrap_or(100);
    Ok(Json(
        state.app.webhooks().deliveries(&site, &id, limit).await?,
    ))
}
