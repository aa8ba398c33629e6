//! The widget's files (embedded by [`crate::widget_files`]): `/widget.js` (the
//! loader; short cache) and `/widget/renderer-<hash>.{js,wasm}` (content-hashed;
//! cached for a year). Strong ETags, precompressed gzip, and CORS for everyone (the
//! renderer is imported cross-origin by the host page). A server built without the
//! widget answers `/widget.js` with a script that says so, never a silent 404.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use super::AppState;
use crate::widget_files::{FILES, LOADER};

/// Served at `/widget.js` when the binary was built without the widget.
const MISSING: &str = "/* Trickle: this server was built without the widget.\n \
   Build it with `cargo xtask build-widget` (or `cargo xtask demo` / `cargo xtask test`),\n \
   then rebuild the trickle binary. */\n\
   console.error('Trickle: this server was built without the widget; run `cargo xtask build-widget` and rebuild trickle.');\n";

/// ETags, computed once.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|f| {
            let digest = Sha256::digest(f.body);
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            format!("\"{hex}\"")
        })
        .collect()
});

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/widget.js", get(loader))
        .route("/widget/{file}", get(renderer))
}

/// What `trickle serve` logs at start-up when [`widget_built`] is false.
pub const WIDGET_MISSING_WARNING: &str = "this trickle binary was built without the widget: \
     /widget.js only logs an error in the browser and no site shows a question. \
     Build the whole product with `cargo xtask dist`.";

/// Whether the widget is embedded in this binary.
pub fn widget_built() -> bool {
    FILES.iter().any(|f| f.name == LOADER)
}

async fn loader(headers: HeaderMap) -> Response {
    if !widget_built() {
        return (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            MISSING,
        )
            .into_response();
    }
    serve(LOADER, "public, max-age=300", &headers)
}

async fn renderer(Path(file): Path<String>, headers: HeaderMap) -> Response {
    if file == LOADER || !file.starts_with("renderer-") {
        return super::error::ApiError(crate::error::Error::NotFound {
            what: "widget file",
        })
        .into_response();
    }
    serve(&file, "public, max-age=31536000, immutable", &headers)
}

fn serve(name: &str, cache: &'static str, request: &HeaderMap) -> Response {
    let Some(index) = FILES.iter().position(|f| f.name == name) else {
        return super::error::ApiError(crate::error::Error::NotFound {
            what: "widget file",
        })
        .into_response();
    };
    let file = &FILES[index];
    let etag = &ETAGS[index];
    let content_type = if name.ends_with(".wasm") {
        "application/wasm"
    } else {
        "text/javascript; charset=utf-8"
    };
    let mut response = if request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let accepts_gzip = request
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        match file.gzip.filter(|_| accepts_gzip) {
            Some(gzip) => ([(header::CONTENT_ENCODING, "gzip")], gzip).into_response(),
            None => file.body.into_response(),
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    fn app() -> Router {
        let router: Router<()> = Router::new()
            .route("/widget.js", get(loader))
            .route("/widget/{file}", get(renderer));
        router
    }

    #[tokio::test]
    async fn the_loader_is_never_a_silent_404() {
        let response = app()
            .oneshot(Request::get("/widget.js").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        if widget_built() {
            assert_eq!(
                response.headers()[header::CACHE_CONTROL],
                "public, max-age=300"
            );
            let etag = response.headers()[header::ETAG].clone();
            let again = app()
                .oneshot(
                    Request::get("/widget.js")
                        .header(header::IF_NONE_MATCH, etag)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        } else {
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        }
    }

    #[tokio::test]
    async fn hashed_renderer_files_are_immutable_and_unknown_ones_404() {
        for file in FILES.iter().filter(|f| f.name != LOADER) {
            let response = app()
                .oneshot(
                    Request::get(format!("/widget/{}", file.name))
                        .header(header::ACCEPT_ENCODING, "gzip, br")
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(
                response.headers()[header::CACHE_CONTROL],
                "public, max-age=31536000, immutable"
            );
            assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
            let wasm = file.name.ends_with(".wasm");
            assert_eq!(
                response.headers()[header::CONTENT_TYPE] == "application/wasm",
                wasm
            );
        }
        let missing = app()
            .oneshot(
                Request::get("/widget/renderer-0000.wasm")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }
}
