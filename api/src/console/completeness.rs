//! A site's profile completeness page (`/console/sites/{site}/completeness`): the
//! table of `GET /v1/stats/completeness`, key × login number, each share shaded by
//! its decile through a CSS class.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::ConsoleState;
use super::error::ConsoleError;
use super::overview::percent;
use super::page::{Layout, render};
use super::session::CurrentAdmin;
use crate::app::completeness::{Completeness, ValueSource};
use crate::model::Site;

pub(super) fn router() -> Router<ConsoleState> {
    Router::new().route("/sites/{site_id}/completeness", get(completeness))
}

/// One cell: the share as text, the counts behind it, and its shading class.
struct CellView {
    text: String,
    held: i64,
    reached: i64,
    /// `share-0` … `share-10` by decile, `share-none` when nobody reached the login.
    class: String,
}

struct RowView {
    key: String,
    enrichment: bool,
    cells: Vec<CellView>,
}

#[derive(Template)]
#[template(path = "console/completeness.html")]
struct CompletenessPage {
    layout: Layout,
    site: Site,
    logins: Vec<u32>,
    reached: Vec<i64>,
    rows: Vec<RowView>,
}

async fn completeness(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let completeness = state.app.stats().completeness(&site).await?;
    let page = CompletenessPage {
        layout: Layout::for_admin(&current.admin, "sites"),
        site,
        logins: (1..=completeness.logins).collect(),
        rows: rows(&completeness),
        reached: completeness.reached,
    };
    render(StatusCode::OK, &page)
}

fn rows(completeness: &Completeness) -> Vec<RowView> {
    completeness
        .rows
        .iter()
        .map(|row| RowView {
            key: row.key.clone(),
            enrichment: row.source == ValueSource::Enrichment,
            cells: row
                .share
                .iter()
                .zip(&row.held)
                .zip(&completeness.reached)
                .map(|((&share, &held), &reached)| CellView {
                    text: percent(share),
                    held,
                    reached,
                    class: share.map_or_else(
                        || "share-none".to_owned(),
                        |s| format!("share-{}", (s * 10.0).floor().clamp(0.0, 10.0) as u32),
                    ),
                })
                .collect(),
        })
        .collect()
}
