//! The console at `/console`: server-rendered pages (askama templates, checked at
//! compile time) with htmx for navigation and forms, both served from the binary.
//!
//! A presentation layer beside `http/`: handlers translate forms and cookies into use
//! cases (`app.sessions()`, `app.access(admin)`, `app.audit()`) and results into
//! pages, nothing else. One module per page area; cookies and sessions in
//! `session.rs`, the cross-site check in `csrf.rs`, the HTML error page in `error.rs`.
//! Who the client is, behind trusted proxies, comes from `crate::client_ip`, shared
//! with `http/`.

mod assets;
mod audit;
mod csrf;
mod editor;
mod error;
mod page;
mod question_sets;
mod session;
mod sign_in;
mod simulate;
mod sites;
mod versions;
mod workbench;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware;
use axum::response::{Redirect, Response};
use axum::routing::get;
use std::sync::Arc;

use crate::App;
use crate::config::TrustedProxies;

pub use assets::{CSS_URL, HTMX_URL};

/// What the console's handlers reach.
#[derive(Clone)]
pub struct ConsoleState {
    pub app: App,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Arc<TrustedProxies>,
}

/// The console's routes, relative to `/console` (mounted with `nest_service`).
pub fn router(app: App, trusted_proxies: Arc<TrustedProxies>) -> Router {
    let state = ConsoleState {
        app,
        trusted_proxies,
    };
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/sites") }))
        .merge(sign_in::router())
        .merge(sites::router())
        .merge(audit::router())
        .merge(question_sets::router())
        .merge(editor::router())
        .merge(simulate::router())
        .merge(versions::router())
        .fallback(|| async { error::ConsoleError::from(crate::Error::NotFound { what: "page" }) })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csrf::same_origin_only,
        ))
        .layer(middleware::map_response(page_headers))
        .merge(assets::router())
        .with_state(state)
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Pages load nothing from elsewhere, are never framed, and are not cached (they
/// show keys and who is signed in).
async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
        (HeaderName::from_static("x-frame-options"), "DENY"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
