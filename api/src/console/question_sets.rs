//! A site's question sets: each with its live version, drafts newer than it, and its
//! last change with who made it.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{Layout, render};
use super::session::CurrentAdmin;
use crate::app::authoring::SetListing;
use crate::model::Site;

pub(super) fn router() -> Router<ConsoleState> {
    Router::new().route("/sites/{site_id}/question-sets", get(list))
}

#[derive(Template)]
#[template(path = "console/question_sets.html")]
struct SetsPage {
    layout: Layout,
    site: Site,
    sets: Vec<SetListing>,
}

async fn list(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
) -> Result<Response, ConsoleError> {
    let authoring = state.app.authoring(&current.admin);
    let site = authoring.site(&site_id).await?;
    let sets = authoring.sets(&site).await?;
    let page = SetsPage {
        layout: Layout::for_admin(&current.admin, "sites"),
        site: site.site().clone(),
        sets,
    };
    render(StatusCode::OK, &page)
}
