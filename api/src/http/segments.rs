//! `/v1/segments`: saved conditions, their counts and their users (JSON or CSV).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, QueryParams, ServerSite};
use super::users::{ListFormat, page_limit, page_response};
use crate::app::Actor;
use crate::app::segments::Saved;
use crate::model::segment::{Segment, SegmentCount, SegmentInput};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_segments))
        .routes(routes!(get_segment, put_segment, delete_segment))
        .routes(routes!(count_segment))
        .routes(routes!(segment_users))
}

/// The `{name}` path parameter of every segment operation.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // documentation only: handlers read the path as text
struct SegmentName {
    /// 1 to 64 of `a-z`, `0-9` and `-`, not starting with `-`.
    #[param(pattern = "^[a-z0-9][a-z0-9-]{0,63}$", example = "never-came-back")]
    name: String,
}

/// The site's segments by name.
#[utoipa::path(get, path = "/v1/segments", tag = "segments", operation_id = "list_segments",
    security(("secret_key" = [])),
    responses((status = 200, body = Vec<Segment>), (status = 401)))]
async fn list_segments(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
) -> Result<Json<Vec<Segment>>, ApiError> {
    Ok(Json(state.app.segments().list(&site).await?))
}

/// One segment.
#[utoipa::path(get, path = "/v1/segments/{name}", tag = "segments", operation_id = "get_segment",
    params(SegmentName), security(("secret_key" = [])),
    responses((status = 200, body = Segment),
        (status = 400, description = "`invalid_field`: the name breaks the pattern."), (status = 401),
        (status = 404, description = "`segment_not_found`.")))]
async fn get_segment(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(name): Path<String>,
) -> Result<Json<Segment>, ApiError> {
    Ok(Json(state.app.segments().get(&site, &name).await?))
}

/// Creates or replaces a segment: a condition in the `when` language, as
/// `GET /v1/users?where=` takes it.
#[utoipa::path(put, path = "/v1/segments/{name}", tag = "segments", operation_id = "put_segment",
    params(SegmentName), request_body = SegmentInput, security(("secret_key" = [])),
    responses((status = 201, description = "Created.", body = Segment),
        (status = 200, description = "Replaced (its `created_at` kept).", body = Segment),
        (status = 400, description = "`malformed_json`, `invalid_where` (`details.field` is `where`) \
            or `invalid_field` (`name` breaks the pattern, `description` is over 500 characters)."),
        (status = 401), (status = 409, description = "`too_many_segments`: a site keeps at most 200."),
        (status = 413, description = "`body_too_large`.")))]
async fn put_segment(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(name): Path<String>,
    JsonBody(input): JsonBody<SegmentInput>,
) -> Result<(StatusCode, Json<Segment>), ApiError> {
    let saved = state
        .app
        .segments()
        .save(&Actor::secret_key(), &site, &name, input)
        .await?;
    Ok(match saved {
        Saved::Created(segment) => (StatusCode::CREATED, Json(segment)),
        Saved::Replaced(segment) => (StatusCode::OK, Json(segment)),
    })
}

/// Deletes a segment.
#[utoipa::path(delete, path = "/v1/segments/{name}", tag = "segments", operation_id = "delete_segment",
    params(SegmentName), security(("secret_key" = [])),
    responses((status = 204, description = "Deleted."),
        (status = 400, description = "`invalid_field`: the name breaks the pattern."), (status = 401),
        (status = 404, description = "`segment_not_found`.")))]
async fn delete_segment(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .segments()
        .delete(&Actor::secret_key(), &site, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many users the segment holds now, counted in the database.
#[utoipa::path(get, path = "/v1/segments/{name}/count", tag = "segments",
    operation_id = "count_segment", params(SegmentName), security(("secret_key" = [])),
    responses((status = 200, body = SegmentCount),
        (status = 400, description = "`invalid_field`: the name breaks the pattern."), (status = 401),
        (status = 404, description = "`segment_not_found`.")))]
async fn count_segment(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(name): Path<String>,
) -> Result<Json<SegmentCount>, ApiError> {
    Ok(Json(state.app.segments().count(&site, &name).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PageParams {
    /// `json` (default) or `csv` (the next cursor then comes in `X-Next-Cursor`).
    #[param(value_type = Option<ListFormat>, inline)]
    format: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Cursor: the `next_cursor` of the previous page.
    after: Option<String>,
}

/// The segment's users, a page at a time in user-id order, as JSON or CSV (the export).
#[utoipa::path(get, path = "/v1/segments/{name}/users", tag = "segments",
    operation_id = "segment_users", params(SegmentName, PageParams), security(("secret_key" = [])),
    responses(
        (status = 200, description = "A page of users; `next_cursor` is null on the last page.",
            content((crate::model::UserPage = "application/json"), (String = "text/csv")),
            headers(("X-Next-Cursor" = String, description = "CSV only: the cursor of the next page, when there is one"))),
        (status = 400, description = "`invalid_field` (name), `invalid_format`, `invalid_limit` or `malformed_query`."),
        (status = 401), (status = 404, description = "`segment_not_found`.")))]
async fn segment_users(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(name): Path<String>,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<Response, ApiError> {
    let limit = page_limit(params.limit)?;
    let page = state
        .app
        .segments()
        .users(&site, &name, params.after, limit)
        .await?;
    page_response(page, params.format.as_deref())
}
