//! Cross-site request refusal: a request with an unsafe method (a form post) is served
//! only if the browser says it came from our own pages — `Origin` equal to our origin,
//! or, where no `Origin` is sent, `Sec-Fetch-Site: same-origin`. With `SameSite=Strict`
//! cookies this is the console's CSRF defence; no token is needed.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ConsoleState;
use super::error::ConsoleError;
use super::session::over_https;
use crate::error::Error;

/// Middleware: refuses unsafe methods from anywhere but our own pages (403).
pub async fn same_origin_only(
    State(state): State<ConsoleState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let ours = own_origin(&parts.headers, parts.uri.authority().map(|a| a.as_str())).map(|host| {
        let scheme = if over_https(&parts, &state.trusted_proxies) {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{host}")
    });
    if !from_our_pages(&parts.headers, ours.as_deref()) {
        return ConsoleError::Failed(Error::Forbidden {
            code: "cross_site_request",
            message: "refused: this form did not come from the console's own pages \
                      (the browser's Origin or Sec-Fetch-Site header says otherwise)"
                .into(),
        })
        .into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Our host (and port) as the request names it: `Host`, else the URI's authority.
fn own_origin(headers: &HeaderMap, authority: Option<&str>) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or(authority)
        .map(str::to_ascii_lowercase)
}

/// Whether the browser's headers place the request on our own origin.
fn from_our_pages(headers: &HeaderMap, ours: Option<&str>) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return ours
            .is_some_and(|ours| origin.to_str().is_ok_and(|o| o.eq_ignore_ascii_case(ours)));
    }
    headers
        .get("sec-fetch-site")
        .is_some_and(|site| site == "same-origin")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn only_our_origin_or_same_origin_fetches_pass() {
        let ours = Some("https://trickle.example");
        assert!(from_our_pages(
            &headers(&[("origin", "https://trickle.example")]),
            ours
        ));
        assert!(!from_our_pages(
            &headers(&[("origin", "https://evil.example")]),
            ours
        ));
        assert!(!from_our_pages(
            &headers(&[("origin", "http://trickle.example")]),
            ours
        ));
        assert!(!from_our_pages(&headers(&[("origin", "null")]), ours));
        // Origin wins over Sec-Fetch-Site.
        let both = headers(&[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(!from_our_pages(&both, ours));
        assert!(from_our_pages(
            &headers(&[("sec-fetch-site", "same-origin")]),
            ours
        ));
        assert!(!from_our_pages(
            &headers(&[("sec-fetch-site", "cross-site")]),
            ours
        ));
        assert!(!from_our_pages(&headers(&[]), ours));
    }

    #[test]
    fn our_host_comes_from_host_then_the_uri() {
        let host = headers(&[("host", "Trickle.Example:8443")]);
        assert_eq!(
            own_origin(&host, Some("x")).as_deref(),
            Some("trickle.example:8443")
        );
        assert_eq!(
            own_origin(&headers(&[]), Some("a.test")).as_deref(),
            Some("a.test")
        );
        assert_eq!(own_origin(&headers(&[]), None), None);
    }
}
