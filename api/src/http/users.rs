//! `/v1/users`: profiles, merge patches, erasure, segments and CSV export.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, QueryParams, ServerSite, UserIdPath};
use crate::app::prompts::Explanation;
use crate::error::Error;
use crate::model::{ProfileView, User, UserPage, UserPatch, UserQuery};
use crate::questions::parse_condition_json;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, patch_user, delete_user))
        .routes(routes!(next_for_user))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// A JSON condition in the question-set `when` language.
    r#where: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// Page size, 1–1000 (default 100).
    limit: Option<u32>,
    /// Cursor: the `next_cursor` of the previous page.
    after: Option<String>,
}

/// Lists users matching a condition, paginated, as JSON or CSV.
#[utoipa::path(get, path = "/v1/users", tag = "users", params(ListParams), security(("secret_key" = [])),
    responses((status = 200, body = UserPage), (status = 400), (status = 401)))]
async fn list_users(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Response, ApiError> {
    let filter = match params.r#where.as_deref() {
        None | Some("") => None,
        Some(text) => {
            let json: Value = serde_json::from_str(text).map_err(|e| {
                Error::invalid("invalid_where", "where", format!("where is not JSON: {e}"))
            })?;
            Some(
                parse_condition_json(&json)
                    .map_err(|m| Error::invalid("invalid_where", "where", m))?,
            )
        }
    };
    let query = UserQuery {
        filter,
        after: params.after,
        limit: params.limit.unwrap_or(100),
    };
    let page = state.app.profiles().list(&site, &query).await?;
    match params.format.as_deref() {
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

/// A text cell a spreadsheet cannot run: one that starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a leading `'` (OWASP's rule against CSV injection). Only
/// text is passed through here: JSON numbers are written as numbers, so `-5` stays `-5`
/// (a number cannot hold a formula), while the text answer `"-5"` becomes `'-5`.
fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Flattens nested objects into dotted columns; arrays and scalars stay one cell.
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_owned(), text_cell(s));
        }
        Value::Null => {}
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// One row per user: fixed columns, then every metadata path found in the page.
fn users_csv(users: &[User]) -> Vec<u8> {
    let rows: Vec<BTreeMap<String, String>> = users
        .iter()
        .map(|u| {
            let mut cells = BTreeMap::new();
            flatten("user_metadata", &u.user_metadata, &mut cells);
            flatten("app_metadata", &u.app_metadata, &mut cells);
            cells
        })
        .collect();
    let mut dynamic: Vec<&String> = rows.iter().flat_map(|r| r.keys()).collect();
    dynamic.sort();
    dynamic.dedup();
    let fixed = [
        "user_id",
        "email",
        "name",
        "login_count",
        "first_login_at",
        "last_login_at",
    ];
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = fixed
        .iter()
        .copied()
        .chain(dynamic.iter().map(|s| s.as_str()))
        .collect();
    writer.write_record(&header).expect("writing to memory");
    for (user, cells) in users.iter().zip(&rows) {
        let mut record = vec![
            text_cell(&user.user_id),
            text_cell(user.email.as_deref().unwrap_or_default()),
            text_cell(user.name.as_deref().unwrap_or_default()),
            user.login_count.to_string(),
            user.first_login_at.to_rfc3339(),
            user.last_login_at.to_rfc3339(),
        ];
        record.extend(
            dynamic
                .iter()
                .map(|k| cells.get(*k).cloned().unwrap_or_default()),
        );
        writer.write_record(&record).expect("writing to memory");
    }
    writer.into_inner().expect("flushing to memory")
}

/// The whole profile: metadata, answers with their question set and version.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    security(("secret_key" = [])), responses((status = 200, body = ProfileView), (status = 400), (status = 401), (status = 404)))]
async fn get_user(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    UserIdPath(id): UserIdPath,
) -> Result<Json<ProfileView>, ApiError> {
    Ok(Json(state.app.profiles().get(&site, &id).await?))
}

/// JSON merge patch of `user_metadata` and/or `app_metadata`.
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserPatch,
    security(("secret_key" = [])),
    responses((status = 200, body = User), (status = 400), (status = 401), (status = 404), (status = 413)))]
async fn patch_user(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    UserIdPath(id): UserIdPath,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(state.app.profiles().patch(&site, &id, patch).await?))
}

/// Erases the user, their answers, events and enrichment.
#[utoipa::path(delete, path = "/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    security(("secret_key" = [])), responses((status = 204), (status = 400), (status = 401), (status = 404)))]
async fn delete_user(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    UserIdPath(id): UserIdPath,
) -> Result<StatusCode, ApiError> {
    state.app.profiles().delete(&site, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct NextParams {
    /// Also say why each earlier question was passed over.
    #[serde(default)]
    explain: bool,
    locale: Option<String>,
}

/// What the widget would get for this user now.
#[utoipa::path(get, path = "/v1/users/{id}/next", tag = "users", params(("id" = String, Path), NextParams),
    security(("secret_key" = [])), responses((status = 200, body = Explanation), (status = 400), (status = 401), (status = 404)))]
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
