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
use crate::app::Actor;
use crate::model::{QuestionSetHistory, QuestionSetSummary, QuestionSetVersion};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_question_sets))
        .routes(routes!(get_question_set, put_question_set))
        .routes(routes!(publish_version))
}

/// Every question set of the site with its latest and live version.
#[utoipa::path(get, path = "/v1/question-sets", tag = "question-sets", operation_id = "list_question_sets",
    security(("secret_key" = [])),
    responses((status = 200, body = Vec<QuestionSetSummary>), (status = 401)))]
async fn list_question_sets(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
) -> Result<Json<Vec<QuestionSetSummary>>, ApiError> {
    Ok(Json(state.app.publishing().list(&site).await?))
}

/// The body of `PUT /v1/question-sets/{slug}` (documentation only): YAML text, sent
/// as bytes (generated clients take a file or bytes).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
struct QuestionSetSource(Vec<u8>);

/// An example question set, as `PUT /v1/question-sets/{slug}` takes it.
const EXAMPLE_SET: &str = "slug: onboarding\ntitle: Onboarding\ndefault_locale: en\nstages:\n  - at_login: 1\n    questions:\n      - key: role\n        type: single_choice\n        title: { en: \"Your role?\", de: \"Ihre Rolle?\" }\n        options: [dev, pm, student]\n";

/// One set with all its versions.
#[utoipa::path(get, path = "/v1/question-sets/{slug}", tag = "question-sets", operation_id = "get_question_set",
    params(("slug" = String, Path, description = "The set's `slug`: 1 to 64 of `a-z`, `0-9` and `-`.", pattern = "^[a-z0-9-]{1,64}$", example = "onboarding")), security(("secret_key" = [])),
    responses((status = 200, body = QuestionSetHistory), (status = 401),
        (status = 404, description = "`question_set_not_found`.")))]
async fn get_question_set(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(slug): Path<String>,
) -> Result<Json<QuestionSetHistory>, ApiError> {
    Ok(Json(state.app.publishing().history(&site, &slug).await?))
}

/// Stores a new draft version from a YAML (or JSON) body, whatever its `Content-Type`;
/// its `slug` must be the one in the path. 422 lists every problem with its line.
#[utoipa::path(put, path = "/v1/question-sets/{slug}", tag = "question-sets", operation_id = "save_question_set_draft",
    params(("slug" = String, Path, description = "The set's `slug`: 1 to 64 of `a-z`, `0-9` and `-`.", pattern = "^[a-z0-9-]{1,64}$", example = "onboarding")),
    request_body(description = "The question set as YAML (JSON is YAML too), at most 256 KiB; \
        its format is `question-sets/schema.json`.",
        content((QuestionSetSource = "application/yaml", example = json!(EXAMPLE_SET)))),
    security(("secret_key" = [])),
    responses((status = 201, description = "Stored as the next draft version.", body = QuestionSetVersion),
        (status = 400, description = "`malformed_body`: the body is not UTF-8 text."), (status = 401),
        (status = 413, description = "`body_too_large`."),
        (status = 422, description = "`invalid_question_set`: `details.problems` lists every problem \
            (the YAML does not parse or breaks the question-set format, or its slug is not the path's).")))]
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
                .save_draft(
                    &Actor::secret_key(),
                    &site,
                    &slug,
                    source,
                    &format!("{slug}.yaml"),
                )
                .await?,
        ),
    ))
}

/// Makes a version the live one (publishing an older version rolls back to it).
#[utoipa::path(post, path = "/v1/question-sets/{slug}/versions/{version}/publish", tag = "question-sets",
    operation_id = "publish_question_set_version", params(("slug" = String, Path, description = "The set's `slug`: 1 to 64 of `a-z`, `0-9` and `-`.", pattern = "^[a-z0-9-]{1,64}$", example = "onboarding"),
        ("version" = i64, Path, description = "A version number, from 1.", minimum = 1, example = 1)), security(("secret_key" = [])),
    responses((status = 200, body = QuestionSetVersion),
        (status = 400, description = "`invalid_version`: not a number."), (status = 401),
        (status = 404, description = "`question_set_version_not_found`.")))]
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
            .publish(&Actor::secret_key(), &site, &slug, version)
            .await?,
    ))
}
