//! A question set's results page: the numbers of `GET /v1/question-sets/{slug}/results`
//! (the same use case) under a filter form sent as query parameters, SVG charts drawn
//! here whose bars link to the page filtered by that answer, and the CSV export of
//! exactly what is filtered.

use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{FieldError, Layout, render};
use super::session::CurrentAdmin;
use crate::error::Error;
use crate::model::Site;
use crate::model::results::{QuestionResults, ResultsFilterInput, SetResults};

pub(super) fn router() -> Router<ConsoleState> {
    Router::new()
        .route("/sites/{site_id}/question-sets/{slug}/results", get(page))
        .route(
            "/sites/{site_id}/question-sets/{slug}/results.csv",
            get(export),
        )
}

/// The page's query: the filters, and which free-text list to page on.
#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    from: Option<String>,
    to: Option<String>,
    version: Option<String>,
    r#where: Option<String>,
    answer: Option<String>,
    /// The free-text question whose list starts after `texts_after`.
    texts_key: Option<String>,
    texts_after: Option<String>,
}

impl PageQuery {
    /// The `from` filter (the first day) as typed.
    fn start_text(&self) -> &str {
        self.from.as_deref().unwrap_or_default()
    }

    /// The `to` filter as typed.
    fn to_text(&self) -> &str {
        self.to.as_deref().unwrap_or_default()
    }

    /// The `answer` filter as typed.
    fn answer_text(&self) -> &str {
        self.answer.as_deref().unwrap_or_default()
    }

    /// The `where` filter as typed.
    fn condition(&self) -> &str {
        self.r#where.as_deref().unwrap_or_default()
    }

    /// Whether the version filter is `version`.
    fn is_version(&self, version: &i64) -> bool {
        self.version.as_deref().map(str::trim) == Some(version.to_string().as_str())
    }

    fn filter(&self) -> ResultsFilterInput {
        ResultsFilterInput {
            from: self.from.clone(),
            to: self.to.clone(),
            version: self.version.clone(),
            r#where: self.r#where.clone(),
            answer: self.answer.clone(),
        }
    }

    /// The filters as a query string (without `answer` when `answer` is given: a bar
    /// replaces it), extra pairs appended.
    fn query(&self, extra: &[(&str, &str)], keep_answer: bool) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        let answer = self.answer.as_deref().filter(|_| keep_answer);
        for (name, value) in [
            ("from", self.from.as_deref()),
            ("to", self.to.as_deref()),
            ("version", self.version.as_deref()),
            ("where", self.r#where.as_deref()),
            ("answer", answer),
        ] {
            if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
                query.append_pair(name, value);
            }
        }
        query.extend_pairs(extra);
        query.finish()
    }
}

/// Width in pixels of the longest bar.
const BAR_SPACE: f64 = 300.0;
/// Height of one bar's row.
const ROW: u32 = 26;
/// Height of the answers-per-day chart's bars at most.
const DAY_SPACE: f64 = 100.0;
/// Width of one day's column.
const DAY_COLUMN: u32 = 14;

/// One bar as drawn.
struct DrawnBar {
    label: String,
    count: i64,
    percent: f64,
    y: u32,
    width: u32,
    /// This page filtered by the bar's answer.
    href: Option<String>,
}

/// A question's card as drawn.
struct Card {
    question: QuestionResults,
    bars: Vec<DrawnBar>,
    height: u32,
    /// The next page of its free-text answers.
    more_href: Option<String>,
}

/// One day's column.
struct DayColumn {
    day: String,
    answers: i64,
    x: u32,
    y: u32,
    height: u32,
}

#[derive(Template)]
#[template(path = "console/results.html")]
struct ResultsPage {
    layout: Layout,
    site: Site,
    slug: String,
    form: PageQuery,
    error: Option<FieldError>,
    results: Option<SetResults>,
    cards: Vec<Card>,
    days: Vec<DayColumn>,
    days_width: u32,
    first_day: String,
    last_day: String,
    csv_href: String,
    clear_answer_href: Option<String>,
}

impl ResultsPage {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is_about(field))
    }
}

async fn page(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, slug)): Path<(String, String)>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let Query(form) =
        query.map_err(|e| Error::invalid("malformed_query", "query", e.body_text()))?;
    let base = format!(
        "/console/sites/{}/question-sets/{slug}/results",
        site.site_id
    );
    let text_page = form.texts_key.as_deref().zip(form.texts_after.as_deref());
    let outcome = state
        .app
        .results()
        .results(&site, &slug, &form.filter(), text_page)
        .await;
    let (results, error) = match outcome {
        Ok(results) => (Some(results), None),
        Err(error) => (None, Some(FieldError::from_error(error)?)),
    };
    let cards = results
        .as_ref()
        .map(|r| r.questions.iter().map(|q| card(q, &form, &base)).collect())
        .unwrap_or_default();
    let days = results.as_ref().map(day_columns).unwrap_or_default();
    let page = ResultsPage {
        layout: Layout::for_admin(&current.admin, "sites"),
        csv_href: format!("{base}.csv?{}", form.query(&[], true)),
        clear_answer_href: form
            .answer
            .as_ref()
            .filter(|a| !a.is_empty())
            .map(|_| format!("{base}?{}", form.query(&[], false))),
        days_width: (days.len() as u32 * DAY_COLUMN).max(DAY_COLUMN),
        first_day: days.first().map(|d| d.day.clone()).unwrap_or_default(),
        last_day: days.last().map(|d| d.day.clone()).unwrap_or_default(),
        site,
        slug,
        form,
        error,
        results,
        cards,
        days,
    };
    let status = if page.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(status, &page)
}

fn card(question: &QuestionResults, form: &PageQuery, base: &str) -> Card {
    let most = question.bars.iter().map(|b| b.count).max().unwrap_or(0);
    let bars: Vec<DrawnBar> = question
        .bars
        .iter()
        .enumerate()
        .map(|(i, bar)| DrawnBar {
            label: bar.label.chars().take(28).collect(),
            count: bar.count,
            percent: bar.percent,
            y: i as u32 * ROW,
            width: if most > 0 {
                (bar.count as f64 / most as f64 * BAR_SPACE).round() as u32
            } else {
                0
            },
            href: bar.filter.as_ref().map(|value| {
                let answer = format!("{}={value}", question.key);
                format!("{base}?{}", form.query(&[("answer", &answer)], false))
            }),
        })
        .collect();
    let more_href = question
        .texts
        .as_ref()
        .and_then(|t| t.next_cursor.as_ref())
        .map(|cursor| {
            let extra = [
                ("texts_key", question.key.as_str()),
                ("texts_after", cursor),
            ];
            format!("{base}?{}#q-{}", form.query(&extra, true), question.key)
        });
    Card {
        height: (bars.len() as u32 * ROW).max(ROW),
        question: question.clone(),
        bars,
        more_href,
    }
}

fn day_columns(results: &SetResults) -> Vec<DayColumn> {
    let most = results
        .answers_per_day
        .iter()
        .map(|d| d.answers)
        .max()
        .unwrap_or(0);
    results
        .answers_per_day
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let height = if most > 0 {
                ((d.answers as f64 / most as f64 * DAY_SPACE).round() as u32).max(1)
            } else {
                0
            };
            DayColumn {
                day: d.day.clone(),
                answers: d.answers,
                x: i as u32 * DAY_COLUMN,
                y: DAY_SPACE as u32 - height,
                height,
            }
        })
        .collect()
}

/// Every filtered answer as CSV, as `GET /v1/question-sets/{slug}/results/answers?format=csv`.
async fn export(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, slug)): Path<(String, String)>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let Query(form) =
        query.map_err(|e| Error::invalid("malformed_query", "query", e.body_text()))?;
    let csv = state
        .app
        .results()
        .export_csv(&site, &slug, &form.filter(), None)
        .await?;
    let disposition = format!("attachment; filename=\"{slug}-answers.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
