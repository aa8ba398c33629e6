//! A saved segment's delete confirmation and delete (audited, through the same use case
//! as `DELETE /v1/segments/{name}`), and its CSV export as
//! `GET /v1/segments/{name}/users?format=csv` writes it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{Layout, render};
use super::session::CurrentAdmin;
use crate::app::Actor;
use crate::model::Site;
use crate::model::segment::Segment;
use crate::model::user::MAX_PAGE;
use crate::model::users_csv::users_csv;

/// The page asking to confirm a segment's deletion.
#[derive(Template)]
#[template(path = "console/segment_delete.html")]
struct ConfirmDeletePage {
    layout: Layout,
    site: Site,
    segment: Segment,
    json: String,
}

pub(super) async fn confirm_delete(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, name)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let segment = state.app.segments().get(&site, &name).await?;
    let page = ConfirmDeletePage {
        layout: Layout::for_admin(&current.admin, "sites"),
        json: serde_json::to_string(&segment.r#where).expect("JSON serialises"),
        site,
        segment,
    };
    render(StatusCode::OK, &page)
}

pub(super) async fn delete(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, name)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let by = Actor::admin(&current.admin);
    state.app.segments().delete(&by, &site, &name).await?;
    Ok(Redirect::to(&format!("/console/sites/{site_id}/segments?deleted={name}")).into_response())
}

/// The export's page: how many users and after which cursor.
#[derive(Deserialize)]
pub(super) struct ExportQuery {
    limit: Option<u32>,
    after: Option<String>,
}

/// The segment's users as CSV, a page of up to 1000 (the API's most) at a time, as
/// `GET /v1/segments/{name}/users?format=csv` writes them (the next page's cursor in
/// `X-Next-Cursor`).
pub(super) async fn export(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path((site_id, name)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let limit = query.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let page = state
        .app
        .segments()
        .users(&site, &name, query.after, limit)
        .await?;
    let disposition = format!("attachment; filename=\"{name}.csv\"");
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        users_csv(&page.users),
    )
        .into_response();
    if let Some(cursor) = page.next_cursor.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert("x-next-cursor", cursor);
    }
    Ok(response)
}
