//! HTTP: routes translate requests to use-case calls on [`crate::app::App`] and results back, nothing else.
//! Each module has one `router()`; they are merged here, with the OpenAPI document
//! generated from the same handlers (utoipa).

mod assets;
mod enrichment;
mod error;
mod extract;
mod insights;
mod logins;
mod openapi;
mod ops;
mod question_sets;
mod rate_limit;
mod results;
mod segments;
mod sites;
mod user_history;
mod users;
mod webhooks;
mod widget;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use assets::{WIDGET_MISSING_WARNING, widget_built};
pub use error::{ApiError, ErrorBody};
pub use openapi::UNDOCUMENTED_ROUTES;
pub use ops::metrics_router;
pub use rate_limit::WidgetLimiter;

use crate::app::App;
use crate::config::{Settings, TrustedProxies};

/// Largest request body accepted (spec: 256 KiB).
pub const BODY_LIMIT: usize = 256 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub limiter: Arc<WidgetLimiter>,
    pub metrics: PrometheusHandle,
    /// The bearer token `/metrics` asks for, if any.
    pub metrics_token: Option<Arc<str>>,
    /// Whether the main router serves `/metrics` (not when it has its own address).
    pub metrics_on_main: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<TrustedProxies>,
}

impl AppState {
    /// State for a service under the given settings.
    pub fn new(app: App, settings: &Settings) -> Self {
        AppState {
            app,
            limiter: Arc::new(WidgetLimiter::new(&settings.rate_limit)),
            metrics: crate::telemetry::metrics_handle(),
            metrics_token: settings.metrics.bearer_token.as_deref().map(Arc::from),
            metrics_on_main: settings.metrics.listen.is_none(),
            trusted_proxies: Arc::new(settings.trusted_proxies.clone()),
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (api, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(logins::router())
        .merge(users::router())
        .merge(user_history::router())
        .merge(segments::router())
        .merge(question_sets::router())
        .merge(results::router())
        .merge(sites::router())
        .merge(webhooks::router())
        .merge(enrichment::router())
        .merge(insights::router())
        .merge(
            widget::router(state.app.clone()).layer(middleware::from_fn_with_state(
                state.clone(),
                rate_limit::limit_per_ip,
            )),
        )
        .split_for_parts();
    api.merge(ops::router(Arc::new(openapi::complete(document)), state.metrics_on_main))
        .merge(assets::router())
        .nest_service("/console", crate::console::router(state.app.clone(), state.trusted_proxies.clone()))
        .fallback(route_not_found)
        .layer(middleware::map_response(method_not_allowed))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(record_metrics))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

async fn route_not_found() -> ApiError {
    ApiError(crate::error::Error::NotFound { what: "route" })
}

/// Gives axum's bare 405 our error shape (a router-wide method fallback would also
/// swallow the CORS preflights that the widget routes' layer answers).
async fn method_not_allowed(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let allow = response.headers().get(axum::http::header::ALLOW).cloned();
    let mut json = ApiError::malformed("method_not_allowed", "this method is not allowed here")
        .into_response();
    *json.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    if let Some(allow) = allow {
        json.headers_mut().insert(axum::http::header::ALLOW, allow);
    }
    json
}

/// The method as a metrics label: the standard ones by name, any other token `other`,
/// so that clients cannot mint label values (and time series) at will.
fn method_label(method: &Method) -> String {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    if KNOWN.contains(method) {
        method.as_str().to_owned()
    } else {
        "other".to_owned()
    }
}

/// Counts requests and their latency per route and status.
async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("trickle_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("trickle_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
