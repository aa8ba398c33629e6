//! `/v1/question-sets/{slug}/results`: a question set's results under filters, and its
//! filtered answers as pages or CSV.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::ApiError;
use super::extract::{QueryParams, ServerSite};
use super::users::{ListFormat, page_limit};
use crate::error::Error;
use crate::model::results::{AnswerPage, ResultsFilterInput, SetResults};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_results))
        .routes(routes!(set_answers))
}

/// The filters every results operation takes; each applies to every number.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct FilterParams {
    /// First day counted, `YYYY-MM-DD` (UTC), on the event or answer time.
    #[param(example = "2026-11-01")]
    from: Option<String>,
    /// Last day counted, `YYYY-MM-DD` (UTC), inclusive.
    #[param(example = "2026-11-30")]
    to: Option<String>,
    /// Only events and answers of this version of the set (its questions are then shown).
    #[param(example = "2")]
    version: Option<String>,
    /// Only users matching this JSON condition, as `GET /v1/users?where=` takes it.
    #[param(example = r#"{"key": "login_count", "gte": 3}"#)]
    r#where: Option<String>,
    /// `key=value`: only users whose current answer to the question `key` is, or (a
    /// multi-choice answer) contains, `value` (`other`: a free "other" answer too).
    #[param(example = "role=dev")]
    answer: Option<String>,
}

impl FilterParams {
    fn input(self) -> ResultsFilterInput {
        ResultsFilterInput {
            from: self.from,
            to: self.to,
            version: self.version,
            r#where: self.r#where,
            answer: self.answer,
        }
    }
}

/// The set's `{slug}` path parameter.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // documentation only: handlers read the path as text
struct Slug {
    /// The set's `slug`: 1 to 64 of `a-z`, `0-9` and `-`.
    #[param(pattern = "^[a-z0-9-]{1,64}$", example = "onboarding")]
    slug: String,
}

/// The results page of a question set: the filtered users, the headline (eligible, then
/// users shown, answered, skipped, dismissed, in total and per version), the funnel by
/// stage, a chart per question of the shown version and answers per day.
#[utoipa::path(get, path = "/v1/question-sets/{slug}/results", tag = "stats",
    operation_id = "question_set_results", params(Slug, FilterParams), security(("secret_key" = [])),
    responses((status = 200, body = SetResults),
        (status = 400, description = "A bad filter, `details.field` naming it: `invalid_date` \
            (`from`, `to`), `invalid_version`, `invalid_where`, `invalid_answer_filter` \
            (`answer`); or `malformed_query`."),
        (status = 401), (status = 404, description = "`question_set_not_found`.")))]
async fn set_results(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(slug): Path<String>,
    QueryParams(params): QueryParams<FilterParams>,
) -> Result<Json<SetResults>, ApiError> {
    let filter = params.input();
    Ok(Json(
        state
            .app
            .results()
            .results(&site, &slug, &filter, None)
            .await?,
    ))
}

/// The filters and what to list of `GET /v1/question-sets/{slug}/results/answers`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AnswerParams {
    /// As for the results.
    from: Option<String>,
    /// As for the results.
    to: Option<String>,
    /// As for the results.
    version: Option<String>,
    /// As for the results.
    r#where: Option<String>,
    /// As for the results.
    answer: Option<String>,
    /// Only the answers to this question.
    #[param(example = "nickname")]
    key: Option<String>,
    /// `json` (default: a page) or `csv` (every filtered answer: `user_id`, `key`,
    /// `value`, `version`, `answered_at`).
    #[param(value_type = Option<ListFormat>, inline)]
    format: Option<String>,
    /// Page size, 1–1000 (default 100; JSON only).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Cursor: the `next_cursor` of the previous page (JSON only).
    after: Option<String>,
}

/// The filtered current answers, in (key, user id) order: a page as JSON, or all of
/// them as CSV, text cells starting with `=`, `+`, `-`, `@`, tab or CR given a leading `'`.
#[utoipa::path(get, path = "/v1/question-sets/{slug}/results/answers", tag = "stats",
    operation_id = "question_set_answers", params(Slug, AnswerParams), security(("secret_key" = [])),
    responses((status = 200, description = "A page of answers (`next_cursor` null on the last), \
            or every filtered answer as CSV.",
            content((AnswerPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A bad filter as for the results, or `invalid_format`, \
            `invalid_limit`, `invalid_cursor` (`after`), `malformed_query`."),
        (status = 401), (status = 404, description = "`question_set_not_found`.")))]
async fn set_answers(
    State(state): State<AppState>,
    ServerSite(site): ServerSite,
    Path(slug): Path<String>,
    QueryParams(params): QueryParams<AnswerParams>,
) -> Result<Response, ApiError> {
    let filter = ResultsFilterInput {
        from: params.from,
        to: params.to,
        version: params.version,
        r#where: params.r#where,
        answer: params.answer,
    };
    let results = state.app.results();
    let key = params.key.as_deref().filter(|k| !k.is_empty());
    match params.format.as_deref() {
        None | Some("json") => {
            let limit = page_limit(params.limit)?;
            let page = results
                .answers(&site, &slug, &filter, key, params.after.as_deref(), limit)
                .await?;
            Ok(Json(page).into_response())
        }
        Some("csv") => {
            let csv = results.export_csv(&site, &slug, &filter, key).await?;
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
        }
        Some(_) => {
            Err(Error::invalid("invalid_format", "format", "format must be json or csv").into())
        }
    }
}
