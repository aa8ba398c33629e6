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
use crate::app::Actor;
use crate::error::Error;
use crate::model::{CreatedSubscription, Delivery, NewSubscription, Subscription};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(delete_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(redeliver))
}

/// Subscribes a URL to event types; the response holds the `whsec_…` signing secret,
/// shown only this once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", operation_id = "create_webhook",
    request_body = NewSubscription, security(("secret_key" = [])),
    responses((status = 201, body = CreatedSubscription),
        (status = 400, description = "`malformed_json`, `invalid_url`, `invalid_events` or `invalid_field`."),
        (status = 401), (status = 409, description = "`too_many_webhooks`: a site has at most 50."),
        (status = 413, description = "`body_too_large`.")))]
async fn create_webhook(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    JsonBody(request): JsonBody<NewSubscription>,
) -> Result<(StatusCode, Json<CreatedSubscription>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .app
                .webhooks()
                .create(&Actor::secret_key(), &site, request)
                .await?,
        ),
    ))
}

/// The site's subscriptions, with their state (enabled, failure streak).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    security(("secret_key" = [])),
    responses((status = 200, body = Vec<Subscription>), (status = 401)))]
async fn list_webhooks(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
) -> Result<Json<Vec<Subscription>>, ApiError> {
    Ok(Json(state.app.webhooks().list(&site).await?))
}

/// Unsubscribes.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = String, Path, description = "The subscription's `wh_…` id.")),
    security(("secret_key" = [])),
    responses((status = 204, description = "Unsubscribed."), (status = 401),
        (status = 404, description = "`webhook_not_found`.")))]
async fn delete_webhook(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .webhooks()
        .delete(&Actor::secret_key(), &site, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DeliveryParams {
    /// How many, newest first (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Most deliveries one page lists.
const MAX_DELIVERIES: u32 = 500;

/// The delivery log of one subscription: status, attempts, last HTTP status and error.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "list_deliveries",
    params(("id" = String, Path, description = "The subscription's `wh_…` id."), DeliveryParams),
    security(("secret_key" = [])),
    responses((status = 200, body = Vec<Delivery>),
        (status = 400, description = "`malformed_query` or `invalid_limit`."), (status = 401),
        (status = 404, description = "`webhook_not_found`.")))]
async fn list_deliveries(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<DeliveryParams>,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    let limit = match params.limit {
        None => 100,
        Some(limit) if (1..=MAX_DELIVERIES).contains(&limit) => limit,
        Some(_) => {
            return Err(Error::invalid(
                "invalid_limit",
                "limit",
                format!("limit must be 1 to {MAX_DELIVERIES}"),
            )
            .into());
        }
    };
    Ok(Json(
        state.app.webhooks().deliveries(&site, &id, limit).await?,
    ))
}

/// Sends a finished delivery again: the same `msg_…` id (`webhook-id`) and payload,
/// signed afresh, through the durable queue with a full set of retries. The delivery
/// row itself goes back to `pending`; its `attempts` keep counting.
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    operation_id = "redeliver",
    params(("id" = String, Path, description = "The subscription's `wh_…` id."),
        ("delivery_id" = String, Path, description = "The delivery's `msg_…` id.")),
    security(("secret_key" = [])),
    responses((status = 202, body = Delivery, description = "Queued: the delivery, pending again."),
        (status = 401),
        (status = 404, description = "`webhook_not_found`, or `delivery_not_found` (no such delivery of this webhook)."),
        (status = 409, description = "`delivery_pending`: it is still being sent; `webhook_disabled`: the webhook is disabled.")))]
async fn redeliver(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Delivery>), ApiError> {
    let delivery = state
        .app
        .webhooks()
        .redeliver(&Actor::secret_key(), &site, &id, &delivery_id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}
