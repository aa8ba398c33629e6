//! The console's static files, compiled in and served under names that change with
//! their content (htmx by version, the stylesheet and the preview script by hash), so
//! browsers may keep them for a year.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use super::ConsoleState;

/// htmx, as vendored (see `api/assets/console/HTMX-LICENSE.md`).
const HTMX_FILE: &str = "htmx-2.0.11.min.js";
const HTMX: &str = include_str!("../../assets/console/htmx-2.0.11.min.js");
const CSS: &str = include_str!("../../assets/console/console.css");
/// The live widget preview (`api/assets/console/preview.js`).
const PREVIEW: &str = include_str!("../../assets/console/preview.js");

/// Where pages load htmx from.
pub const HTMX_URL: &str = "/console/assets/htmx-2.0.11.min.js";

/// The stylesheet's file name: `console.<first 12 hex digits of its SHA-256>.css`.
static CSS_FILE: LazyLock<String> = LazyLock::new(|| hashed("console", CSS, "css"));

/// Where pages load the stylesheet from.
pub static CSS_URL: LazyLock<String> = LazyLock::new(|| format!("/console/assets/{}", *CSS_FILE));

/// `<stem>.<first 12 hex digits of the SHA-256 of body>.<ext>`.
fn hashed(stem: &str, body: &str, ext: &str) -> String {
    let digest = hex::encode(Sha256::digest(body.as_bytes()));
    format!("{stem}.{}.{ext}", &digest[..12])
}

static PREVIEW_FILE: LazyLock<String> = LazyLock::new(|| hashed("preview", PREVIEW, "js"));

/// Where pages that preview the widget load the preview script from.
pub static PREVIEW_URL: LazyLock<String> =
    LazyLock::new(|| format!("/console/assets/{}", *PREVIEW_FILE));

pub(super) fn router() -> Router<ConsoleState> {
    Router::new().route("/assets/{file}", get(asset))
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = if file == HTMX_FILE {
        (HTMX, "text/javascript; charset=utf-8")
    } else if file == *CSS_FILE {
        (CSS, "text/css; charset=utf-8")
    } else if file == *PREVIEW_FILE {
        (PREVIEW, "text/javascript; charset=utf-8")
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
