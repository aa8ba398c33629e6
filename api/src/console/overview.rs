//! A site's overview page (`/console/sites/{site}/overview`): the figures of
//! `GET /v1/stats/overview` for the last 7 and 30 days, each with a sparkline drawn
//! here as SVG points (the page carries no script and no inline style).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{Layout, render};
use super::session::CurrentAdmin;
use crate::app::overview::{OverviewFigures, OverviewWindow};
use crate::model::{Site, now};

pub(super) fn router() -> Router<ConsoleState> {
    Router::new().route("/sites/{site_id}/overview", get(overview))
}

/// A sparkline's drawing area, in SVG user units (the template's `viewBox`).
const WIDTH: f64 = 120.0;
const HEIGHT: f64 = 32.0;
const MARGIN: f64 = 2.0;

/// One figure of a window: its total and its days.
struct FigureView {
    /// For ids: `logins`, `new-users`, …
    id: &'static str,
    label: &'static str,
    total: String,
    /// The polyline's points, oldest day first.
    points: String,
    /// The days' values as text, for screen readers.
    series: String,
}

struct WindowView {
    days: u32,
    first_day: NaiveDate,
    last_day: NaiveDate,
    figures: Vec<FigureView>,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    layout: Layout,
    site: Site,
    windows: Vec<WindowView>,
}

async fn overview(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let overview = state.app.stats().overview(&site, now()).await?;
    let page = OverviewPage {
        layout: Layout::for_admin(&current.admin, "sites"),
        site,
        windows: overview.windows.iter().map(window_view).collect(),
    };
    render(StatusCode::OK, &page)
}

/// A rate as a whole percentage, or a dash when there is none.
pub(super) fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_owned(), |r| format!("{:.0}%", r * 100.0))
}

fn window_view(window: &OverviewWindow) -> WindowView {
    type Count = fn(&OverviewFigures) -> i64;
    let counts: [(&'static str, &'static str, Count); 6] = [
        ("logins", "Logins", |f| f.logins),
        ("new-users", "New users", |f| f.new_users),
        ("shown", "Prompts shown", |f| f.shown),
        ("answered", "Answered", |f| f.answered),
        ("skipped", "Skipped", |f| f.skipped),
        ("dismissed", "Dismissed", |f| f.dismissed),
    ];
    let mut figures: Vec<FigureView> = counts
        .into_iter()
        .map(|(id, label, count)| {
            let values: Vec<f64> = window
                .daily
                .iter()
                .map(|d| count(&d.figures) as f64)
                .collect();
            FigureView {
                id,
                label,
                total: count(&window.totals).to_string(),
                points: sparkline(&values, None),
                series: window
                    .daily
                    .iter()
                    .map(|d| count(&d.figures).to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    let rates: Vec<f64> = window
        .daily
        .iter()
        .map(|d| d.figures.answer_rate.unwrap_or(0.0))
        .collect();
    figures.push(FigureView {
        id: "answer-rate",
        label: "Answer rate",
        total: percent(window.totals.answer_rate),
        points: sparkline(&rates, Some(1.0)),
        series: window
            .daily
            .iter()
            .map(|d| percent(d.figures.answer_rate))
            .collect::<Vec<_>>()
            .join(", "),
    });
    WindowView {
        days: window.days,
        first_day: window.first_day,
        last_day: window.last_day,
        figures,
    }
}

/// The points of a polyline through `values`, left to right, scaled so that the
/// largest (or `top`, if given and larger) touches the top; all zeros lie on the floor.
fn sparkline(values: &[f64], top: Option<f64>) -> String {
    let highest = values.iter().copied().fold(top.unwrap_or(0.0), f64::max);
    let step = if values.len() > 1 {
        WIDTH / (values.len() - 1) as f64
    } else {
        0.0
    };
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let height = if highest > 0.0 { value / highest } else { 0.0 };
            let y = HEIGHT - MARGIN - height * (HEIGHT - 2.0 * MARGIN);
            format!("{:.1},{:.1}", i as f64 * step, y)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_spans_the_width_and_puts_the_largest_value_on_top() {
        assert_eq!(
            sparkline(&[0.0, 2.0, 1.0], None),
            "0.0,30.0 60.0,2.0 120.0,16.0"
        );
        assert_eq!(sparkline(&[0.0, 0.0], None), "0.0,30.0 120.0,30.0");
        assert_eq!(sparkline(&[0.5], Some(1.0)), "0.0,16.0");
    }
}
