//! A site's enrichment providers: configured or not, today's calls, cache hits,
//! failures and budget, the last success and error (what `GET /v1/enrichment/providers`
//! returns, for admins who may manage the site).

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
use crate::app::enrichment::ProviderStatus;
use crate::model::Site;

pub(super) fn router() -> Router<ConsoleState> {
    Router::new().route("/sites/{site_id}/enrichment", get(providers))
}

#[derive(Template)]
#[template(path = "console/enrichment.html")]
struct EnrichmentPage {
    layout: Layout,
    site: Site,
    providers: Vec<ProviderStatus>,
}

async fn providers(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let providers = state.app.enrichment().status(&site).await?.providers;
    let page = EnrichmentPage {
        layout: Layout::for_admin(&current.admin, "sites"),
        site,
        providers,
    };
    render(StatusCode::OK, &page)
}
