//! The audit log page (owners only).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{Layout, render};
use super::session::CurrentAdmin;
use crate::model::AuditEntry;

/// Entries per page.
const PAGE: u32 = 50;

pub(super) fn router() -> Router<ConsoleState> {
    Router::new().route("/audit", get(audit_page))
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<AuditEntry>,
    before: Option<i64>,
    /// Where the next page starts, when there may be one.
    older: Option<i64>,
}

#[derive(Deserialize)]
struct Paging {
    before: Option<i64>,
}

async fn audit_page(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Query(paging): Query<Paging>,
) -> Result<Response, ConsoleError> {
    let entries = state
        .app
        .access(&current.admin)
        .audit_log(paging.before, PAGE)
        .await?;
    let older = (entries.len() == PAGE as usize)
        .then(|| entries.last().map(|entry| entry.id))
        .flatten();
    let page = AuditPage {
        layout: Layout::for_admin(&current.admin, "audit"),
        entries,
        before: paging.before,
        older,
    };
    render(StatusCode::OK, &page)
}
