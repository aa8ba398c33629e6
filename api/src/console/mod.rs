//! The console at `/console`: server-rendered pages (askama templates, checked at
//! compile time) with htmx for navigation and forms, both served from the binary.
//!
//! A presentation layer beside `http/`: handlers translate forms and cookies into use
//! cases (`app.sessions()`, `app.access(admin)`, `app.audit()`) and results into
//! pages, nothing else. One module per page area; cookies and sessions in
//! `session.rs`, the cross-site check in `csrf.rs`, the HTML error page in `error.rs`.
//! Who the client is, behind trusted proxies, comes from `crate::client_ip`, shared
//! with `http/`.

mod admins;
mod assets;
mod audit;
mod completeness;
mod csrf;
mod editor;
mod enrichment;
mod error;
mod overview;
mod page;
mod preview;
mod question_sets;
mod results;
mod segment_actions;
mod segment_builder;
mod segments;
mod session;
mod sign_in;
mod simulate;
mod sites;
mod users;
mod versions;
mod webhooks;
mod workbench;

use axum::Router;
use axum::extract::{OriginalUri, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use std::sync::Arc;

use crate::app::App;
use crate::config::TrustedProxies;

pub use assets::{CSS_URL, HTMX_URL, PREVIEW_URL};
pub use preview::PREVIEW_CSP;

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
        .merge(results::router())
        .merge(editor::router())
        .merge(simulate::router())
        .merge(versions::router())
        .merge(enrichment::router())
        .merge(overview::router())
        .merge(completeness::router())
        .merge(webhooks::router())
        .merge(segments::router())
        .merge(admins::router())
        .merge(users::router())
        .fallback(|| async {
            error::ConsoleError::from(crate::error::Error::NotFound { what: "page" })
        })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csrf::same_origin_only,
        ))
        .layer(middleware::from_fn(page_headers))
        .merge(assets::router())
        .with_state(state)
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Pages load nothing from elsewhere, are never framed, and are not cached (they
/// show keys and who is signed in). A page marked [`preview::Previewing`] gets the
/// preview's policy; asked for by `hx-boost`, it is loaded as a whole page instead,
/// since a swapped-in page keeps the policy of the one it replaced.
async fn page_headers(request: Request, next: Next) -> Response {
    let boosted = request.method() == Method::GET && request.headers().contains_key("hx-boosted");
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().clone(), |original| original.0.clone());
    let mut response = next.run(request).await;
    let previews = response.extensions().get::<preview::Previewing>().is_some();
    if previews && boosted && response.status() == StatusCode::OK {
        let target = path
            .path_and_query()
            .map_or("/console", |p| p.as_str())
            .to_owned();
        response = match HeaderValue::from_str(&target) {
            Ok(target) => {
                let mut whole = StatusCode::OK.into_response();
                whole
                    .headers_mut()
                    .insert(HeaderName::from_static("hx-redirect"), target);
                whole
            }
            Err(_) => response,
        };
    }
    let policy = if previews {
        HeaderValue::from_str(&PREVIEW_CSP).expect("the policy is ASCII")
    } else {
        HeaderValue::from_static(CONTENT_SECURITY_POLICY)
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    let set = [
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
