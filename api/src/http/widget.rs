//! `/v1/widget/*`: what the embedded widget calls, with a publishable key and a user
//! hash. CORS answers only origins some site allows; each call then checks the origin
//! against its own site.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, QueryParams, WidgetUser};
use crate::app::App;
use crate::app::prompts::{AnswerRequest, DuePrompt, QuestionRef, SkipRequest};
use crate::questions::Prompt;

pub fn router(app: App) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(next))
        .routes(routes!(answer))
        .routes(routes!(skip))
        .routes(routes!(impression))
        .layer(cors(app))
}

fn cors(app: App) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::async_predicate(
            move |origin: HeaderValue, _: &Parts| {
                let app = app.clone();
                async move {
                    match origin.to_str() {
                        Ok(origin) => app
                            .sites()
                            .origin_allowed_anywhere(origin)
                            .await
                            .unwrap_or(false),
                        Err(_) => false,
                    }
                }
            },
        ))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            HeaderName::from_static("content-type"),
            HeaderName::from_static("x-trickle-key"),
            HeaderName::from_static("x-trickle-user"),
            HeaderName::from_static("x-trickle-user-encoding"),
            HeaderName::from_static("x-trickle-user-hash"),
        ])
        .max_age(Duration::from_secs(600))
}

/// `{"next": …}`: what to show after an answer or skip (null: nothing).
#[derive(Serialize, ToSchema)]
struct NextPrompt {
    /// The next prompt (as in `GET /v1/widget/next`), or null when nothing is due.
    #[schema(value_type = Option<Object>)]
    next: Option<Prompt>,
}

const WIDGET_400: &str = "`missing_user`, `invalid_user_id`, `invalid_user_encoding`, `malformed_query` or `malformed_json`.";
const WIDGET_401: &str =
    "`missing_publishable_key`, `invalid_publishable_key` or `expired_publishable_key`.";
const WIDGET_403: &str = "`origin_not_allowed` or `invalid_user_hash`.";
const WIDGET_429: &str = "`rate_limited`: per client IP or per site.";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LocaleParams {
    /// A BCP 47 tag such as `de` or `pt-BR`; falls back to the set's default locale.
    locale: Option<String>,
}

/// Optional headers of every widget call.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // documentation only: `WidgetUser` reads them
struct WidgetHeaders {
    /// `percent` when `X-Trickle-User` carries the id percent-encoded as UTF-8 (needed
    /// for ids that are not visible ASCII); absent: the header is the id as is.
    #[param(
        rename = "X-Trickle-User-Encoding",
        pattern = "^[Pp][Ee][Rr][Cc][Ee][Nn][Tt]$",
        required = false
    )]
    // A `String`, not an `Option`, so the document says "absent or `percent`", not
    // "or null": a header has no null.
    encoding: String,
}

/// The prompt due now with the site's widget settings (200), or nothing (204).
#[utoipa::path(get, path = "/v1/widget/next", tag = "widget", operation_id = "widget_next",
    params(LocaleParams, WidgetHeaders), security(("publishable_key" = [], "widget_user" = [], "widget_user_hash" = [])),
    responses((status = 200, description = "The prompt due now, and where and when to show it.", body = DuePrompt),
        (status = 204, description = "Nothing is due."),
        (status = 400, description = WIDGET_400), (status = 401, description = WIDGET_401),
        (status = 403, description = WIDGET_403), (status = 429, description = WIDGET_429,
            headers(("Retry-After" = u64, description = "Seconds to wait.")))))]
async fn next(
    State(state): State<AppState>,
    caller: WidgetUser,
    QueryParams(params): QueryParams<LocaleParams>,
) -> Result<Response, ApiError> {
    let prompt = state
        .app
        .prompts()
        .next(&caller.site, &caller.user_id, params.locale.as_deref())
        .await?;
    Ok(match prompt {
        Some(prompt) => Json(DuePrompt::new(prompt, &caller.site)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Validates and stores an answer; returns the next prompt or null.
#[utoipa::path(post, path = "/v1/widget/answers", tag = "widget", operation_id = "widget_answer",
    params(LocaleParams, WidgetHeaders), request_body = AnswerRequest,
    security(("publishable_key" = [], "widget_user" = [], "widget_user_hash" = [])),
    responses((status = 200, description = "Stored; what to show next.", body = NextPrompt),
        (status = 400, description = WIDGET_400), (status = 401, description = WIDGET_401),
        (status = 403, description = WIDGET_403),
        (status = 404, description = "`question_not_found` or `user_not_found`."),
        (status = 413, description = "`body_too_large`, or the answer over 4 KiB."),
        (status = 422, description = "`invalid_answer` (`details.rule`) or `question_not_due`."),
        (status = 429, description = WIDGET_429, headers(("Retry-After" = u64, description = "Seconds to wait.")))))]
async fn answer(
    State(state): State<AppState>,
    caller: WidgetUser,
    QueryParams(params): QueryParams<LocaleParams>,
    JsonBody(request): JsonBody<AnswerRequest>,
) -> Result<Json<NextPrompt>, ApiError> {
    let next = state
        .app
        .prompts()
        .answer(
            &caller.site,
            &caller.user_id,
            request,
            params.locale.as_deref(),
        )
        .await?;
    Ok(Json(NextPrompt { next }))
}

/// Records a skip (`forever: true` dismisses); returns the next prompt or null.
#[utoipa::path(post, path = "/v1/widget/skips", tag = "widget", operation_id = "widget_skip",
    params(LocaleParams, WidgetHeaders), request_body = SkipRequest,
    security(("publishable_key" = [], "widget_user" = [], "widget_user_hash" = [])),
    responses((status = 200, description = "Recorded; what to show next.", body = NextPrompt),
        (status = 400, description = WIDGET_400), (status = 401, description = WIDGET_401),
        (status = 403, description = WIDGET_403),
        (status = 404, description = "`question_not_found` or `user_not_found`."),
        (status = 413, description = "`body_too_large`."),
        (status = 422, description = "`question_not_due`."),
        (status = 429, description = WIDGET_429, headers(("Retry-After" = u64, description = "Seconds to wait.")))))]
async fn skip(
    State(state): State<AppState>,
    caller: WidgetUser,
    QueryParams(params): QueryParams<LocaleParams>,
    JsonBody(request): JsonBody<SkipRequest>,
) -> Result<Json<NextPrompt>, ApiError> {
    let next = state
        .app
        .prompts()
        .skip(
            &caller.site,
            &caller.user_id,
            request,
            params.locale.as_deref(),
        )
        .await?;
    Ok(Json(NextPrompt { next }))
}

/// Records that a prompt was shown (once per user, question and login).
#[utoipa::path(post, path = "/v1/widget/impressions", tag = "widget", operation_id = "widget_impression",
    params(WidgetHeaders), request_body = QuestionRef,
    security(("publishable_key" = [], "widget_user" = [], "widget_user_hash" = [])),
    responses((status = 204, description = "Recorded."),
        (status = 400, description = WIDGET_400), (status = 401, description = WIDGET_401),
        (status = 403, description = WIDGET_403),
        (status = 404, description = "`question_not_found` or `user_not_found`."),
        (status = 413, description = "`body_too_large`."),
        (status = 429, description = WIDGET_429, headers(("Retry-After" = u64, description = "Seconds to wait.")))))]
async fn impression(
    State(state): State<AppState>,
    caller: WidgetUser,
    JsonBody(target): JsonBody<QuestionRef>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .prompts()
        .record_impression(&caller.site, &caller.user_id, target)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
