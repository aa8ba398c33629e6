//! `/v1/users`: profiles, merge patches, erasure, segments and CSV export.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, QueryParams, ServerSite, UserIdPath};
use crate::app::prompts::Explanation;
use crate::app::segments::parse_where_text;
use crate::error::Error;
use crate::model::user::MAX_PAGE;
use crate::model::users_csv::users_csv;
use crate::model::{ProfileView, User, UserPage, UserPatch, UserQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, patch_user, delete_user))
        .routes(routes!(next_for_user))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// A JSON condition in the question-set `when` language, e.g.
    /// `{"all": [{"key": "role", "in": ["dev"]}, {"key": "login_count", "gte": 3}]}`;
    /// empty or absent: every user.
    #[param(example = r#"{"key": "login_count", "gte": 3}"#)]
    r#where: Option<String>,
    /// `json` (default) or `csv` (the next cursor then comes in `X-Next-Cursor`).
    #[param(value_type = Option<ListFormat>, inline)]
    format: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Cursor: the `next_cursor` of the previous page.
    after: Option<String>,
}

/// How `GET /v1/users` answers.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // documentation only: the handler reads the text
pub(super) enum ListFormat {
    Json,
    Csv,
}

/// The page size of `GET /v1/users`: 1 to [`MAX_PAGE`] (default 100).
pub(super) fn page_limit(limit: Option<u32>) -> Result<u32, Error> {
    match limit {
        None => Ok(100),
        Some(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(limit),
        Some(_) => Err(Error::invalid(
            "invalid_limit",
            "limit",
            format!("limit must be 1 to {MAX_PAGE}"),
        )),
    }
}

/// Lists users matching a condition, a page at a time (in user-id order), as JSON or CSV.
#[utoipa::path(get, path = "/v1/users", tag = "users", operation_id = "list_users",
    params(ListParams), security(("secret_key" = [])),
    responses(
        (status = 200, description = "A page of users; `next_cursor` is null on the last page.",
            content((UserPage = "application/json"), (String = "text/csv")),
            headers(("X-Next-Cursor" = String, description = "CSV only: the cursor of the next page, when there is one"))),
        (status = 400, description = "`invalid_where`, `invalid_format`, `invalid_limit` or `malformed_query`."),
        (status = 401)))]
async fn list_users(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Response, ApiError> {
    let filter = match params.r#where.as_deref() {
        None | Some("") => None,
        Some(text) => Some(parse_where_text(text)?),
    };
    let query = UserQuery {
        filter,
        after: params.after,
        limit: page_limit(params.limit)?,
    };
    let page = state.app.profiles().list(&site, &query).await?;
    page_response(page, params.format.as_deref())
}

/// A page of users as JSON (`format` absent or `json`) or CSV (`csv`, the next
/// cursor in `X-Next-Cursor`); 400 `invalid_format` otherwise.
pub(super) fn page_response(page: UserPage, format: Option<&str>) -> Result<Response, ApiError> {
    match format {
        None | Some("json") => Ok(Json(page).into_response()),
        Some("csv") => {
            let mut response = (
                [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
                users_csv(&page.users),
            )
                .into_response();
            if let Some(cursor) = page.next_cursor.and_then(|c| c.parse().ok()) {
                response.headers_mut().insert("x-next-cursor", cursor);
            }
            Ok(response)
        }
        Some(_) => {
            Err(Error::invalid("invalid_format", "format", "format must be json or csv").into())
        }
    }
}

/// The whole profile: metadata, answers with their question set and version, enrichment.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users", operation_id = "get_user", params(UserId),
    security(("secret_key" = [])),
    responses((status = 200, body = ProfileView), (status = 400, description = "`invalid_user_id`."),
        (status = 401), (status = 404, description = "`user_not_found`.")))]
async fn get_user(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    UserIdPath(id): UserIdPath,
) -> Result<Json<ProfileView>, ApiError> {
    Ok(Json(state.app.profiles().get(&site, &id).await?))
}

/// JSON merge patch (RFC 7396) of `user_metadata` and/or `app_metadata`.
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "users", operation_id = "patch_user", params(UserId),
    request_body = UserPatch, security(("secret_key" = [])),
    responses((status = 200, body = User),
        (status = 400, description = "`invalid_user_id`, `malformed_json`, or a patch that is not an object."),
        (status = 401), (status = 404, description = "`user_not_found`."),
        (status = 413, description = "`body_too_large`, or metadata over its limit (user 64 KiB, app 256 KiB).")))]
async fn patch_user(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    UserIdPath(id): UserIdPath,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(state.app.profiles().patch(&site, &id, patch).await?))
}

/// Erases the user, their answers, events and enrichment, and every job and webhook
/// delivery about them; emits `user.deleted`; the audit log records that a user was
/// erased (`user.erase`), not which.
#[utoipa::path(delete, path = "/v1/users/{id}", tag = "users", operation_id = "delete_user", params(UserId),
    security(("secret_key" = [])),
    responses((status = 204, description = "Erased."), (status = 400, description = "`invalid_user_id`."),
        (status = 401), (status = 404, description = "`user_not_found`.")))]
async fn delete_user(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    UserIdPath(id): UserIdPath,
) -> Result<StatusCode, ApiError> {
    let by = crate::app::Actor::secret_key();
    state.app.profiles().erase(&by, &site, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The `{id}` of `/v1/users/{id}`: the site's own user id.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // documentation only: `UserIdPath` reads it
pub(super) struct UserId {
    /// 1 to 255 bytes of UTF-8 without control characters, percent-encoded in the path.
    #[param(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$",
        example = "u_1"
    )]
    id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct NextParams {
    /// Also say why each earlier question was passed over (`decisions`).
    #[serde(default)]
    explain: bool,
    /// A BCP 47 tag such as `de` or `pt-BR`; falls back to the set's default locale.
    locale: Option<String>,
}

/// What the widget would get for this user now; with `explain=true`, also why each
/// earlier question was passed over.
#[utoipa::path(get, path = "/v1/users/{id}/next", tag = "users", operation_id = "next_for_user",
    params(UserId, NextParams), security(("secret_key" = [])),
    responses((status = 200, body = Explanation),
        (status = 400, description = "`invalid_user_id` or `malformed_query`."),
        (status = 401), (status = 404, description = "`user_not_found`.")))]
async fn next_for_user(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    UserIdPath(id): UserIdPath,
    QueryParams(params): QueryParams<NextParams>,
) -> Result<Response, ApiError> {
    let mut explanation = state
        .app
        .prompts()
        .explain(&site, &id, params.locale.as_deref())
        .await?;
    if !params.explain {
        explanation.decisions.clear();
        return Ok(Json(serde_json::json!({ "prompt": explanation.prompt })).into_response());
    }
    Ok(Json(explanation).into_response())
}
