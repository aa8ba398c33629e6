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
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, QueryParams, WidgetUser};
use crate::App;
use crate::app::prompts::{AnswerRequest, QuestionRef, SkipRequest};
use crate::model::WidgetSettings;
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

/// `{"prompt": …, "settings": …}`: the due prompt, and where and when the widget
/// shows it (the site's widget settings, so the loader needs no second request).
#[derive(Serialize)]
struct DuePrompt<'a> {
    prompt: Prompt,
    settings: &'a WidgetSettings,
}

/// `{"next": …}`: what to show after an answer or skip (null: nothing).
#[derive(Serialize)]
struct NextPrompt {
    next: Option<Prompt>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct LocaleParams {
    /// A BCP 47 tag such as `de` or `pt-BR`; falls back to the set's default locale.
    locale: Option<String>,
}

/// The prompt due now with the site's widget settings (200), or nothing (204).
#[utoipa::path(get, path = "/v1/widget/next", tag = "widget", params(LocaleParams),
    security(("publishable_key" = [])),
    responses((status = 200, description = "`{\"prompt\": …, \"settings\": {corner, delay_ms, min_hours_between_prompts, show_on, hide_on, theme}}`"), (status = 204), (status = 400), (status = 401), (status = 403), (status = 429)))]
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
        Some(prompt) => Json(DuePrompt {
            prompt,
            settings: &caller.site.widget_settings,
        })
        .into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Validates and stores an answer; returns the next prompt or null.
#[utoipa::path(post, path = "/v1/widget/answers", tag = "widget", params(LocaleParams), request_body = AnswerRequest,
    security(("publishable_key" = [])),
    responses((status = 200, description = "`{\"next\": prompt | null}`"), (status = 400), (status = 401), (status = 403), (status = 404), (status = 413), (status = 422), (status = 429)))]
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
#[utoipa::path(post, path = "/v1/widget/skips", tag = "widget", params(LocaleParams), request_body = SkipRequest,
    security(("publishable_key" = [])),
    responses((status = 200, description = "`{\"next\": prompt | null}`"), (status = 400), (status = 401), (status = 403), (status = 404), (status = 422, description = "`question_not_due`"), (status = 429)))]
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

/// Records that a prompt was shown.
#[utoipa::path(post, path = "/v1/widget/impressions", tag = "widget", request_body = QuestionRef,
    security(("publishable_key" = [])),
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404), (status = 429)))]
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
