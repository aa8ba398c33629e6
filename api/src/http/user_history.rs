//! `GET /v1/users/{id}/history`: a user's logins and prompt events, newest first.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{QueryParams, ServerSite, UserIdPath};
use super::users::{UserId, page_limit};
use crate::model::history::HistoryPage;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(user_history))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct HistoryParams {
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Cursor: the `next_cursor` of the previous page.
    after: Option<String>,
}

/// The user's logins (`occurred_at`, login count, IP, user agent) and what happened to
/// the questions shown to them (shown, answered, skipped, dismissed: question set,
/// version, key, login count, time), newest first, a page at a time. Login events
/// are kept for `[retention] login_events_days`.
#[utoipa::path(get, path = "/v1/users/{id}/history", tag = "users", operation_id = "user_history",
    params(UserId, HistoryParams), security(("secret_key" = [])),
    responses((status = 200, body = HistoryPage,
            description = "A page of events, newest first; `next_cursor` is null on the last page."),
        (status = 400, description = "`invalid_user_id`, `invalid_limit`, `invalid_cursor` or `malformed_query`."),
        (status = 401), (status = 404, description = "`user_not_found`.")))]
async fn user_history(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    UserIdPath(id): UserIdPath,
    QueryParams(params): QueryParams<HistoryParams>,
) -> Result<Json<HistoryPage>, ApiError> {
    let limit = page_limit(params.limit)?;
    let page = state
        .app
        .profiles()
        .history(&site, &id, params.after.as_deref(), limit)
        .await?;
    Ok(Json(page))
}
