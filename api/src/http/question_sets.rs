//! `/v1/question-sets`: drafts from YAML or JSON, publishing, listing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{ServerSite, body_rejection};
use crate::model::{QuestionSetHistory, QuestionSetSummary, QuestionSetVersion};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_question_sets))
        .routes(routes!(get_question_set, put_question_set))
        .routes(routes!(publish_version))
}

/// Every question set of the site with its latest and live version.
#[utoipa::path(get, path = "/v1/question-sets", tag = "question-sets", security(("secret_key" = [])),
    responses((status = 200, body = Vec<QuestionSetSummary>), (status = 401)))]
async fn list_question_sets(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
) -> Result<Json<Vec<QuestionSetSummary>>, ApiError> {
    Ok(Json(state.app.publishing().list(&site).await?))
}

/// One set with all its versions.
#[utoipa::path(get, path = "/v1/question-sets/{slug}", tag = "question-sets", params(("slug" = String, Path)),
    security(("secret_key" = [])), responses((status = 200, body = QuestionSetHistory), (status = 401), (status = 404)))]
async fn get_question_set(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(slug): Path<String>,
) -> Result<Json<QuestionSetHistory>, ApiError> {
    Ok(Json(state.app.publishing().history(&site, &slug).await?))
}

/// Stores a new draft version from a YAML or JSON body; 422 lists every problem.
#[utoipa::path(put, path = "/v1/question-sets/{slug}", tag = "question-sets", params(("slug" = String, Path)),
    request_body(content = String, content_type = "application/yaml"),
    security(("secret_key" = [])),
    responses((status = 201, body = QuestionSetVersion), (status = 400), (status = 401), (status = 413), (status = 422)))]
async fn put_question_set(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(slug): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<QuestionSetVersion>), ApiError> {
    let body = body.map_err(body_rejection)?;
    let source = std::str::from_utf8(&body)
        .map_err(|_| ApiError::malformed("malformed_body", "the body is not UTF-8"))?;
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .app
                .publishing()
                .save_draft(&site, &slug, source, &format!("{slug}.yaml"))
                .await?,
        ),
    ))
}

/// Makes a version the live one.
#[utoipa::path(post, path = "/v1/question-sets/{slug}/versions/{version}/publish", tag = "question-sets",
    params(("slug" = String, Path), ("version" = i64, Path)), security(("secret_key" = [])),
    responses((status = 200, body = QuestionSetVersion), (status = 400), (status = 401), (status = 404)))]
async fn publish_version(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path((slug, version)): Path<(String, String)>,
) -> Result<Json<QuestionSetVersion>, ApiError> {
    let version: i64 = version.parse().map_err(|_| {
        ApiError::malformed(
            "invalid_version",
            format!("{version:?} is not a version number"),
        )
    })?;
    Ok(Json(
        state
            .app
            .publishing()
            .publish(&site, &slug, version)
            .await?,
    ))
}
