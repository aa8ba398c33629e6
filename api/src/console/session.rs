//! The session cookie and the request facts the console needs: who is signed in, the
//! client's address, and whether the request came over HTTPS.
//!
//! Cookie: `trickle_console=<token>; HttpOnly; SameSite=Strict; Path=/console`, plus
//! `Secure` when served over HTTPS (directly, or by a trusted proxy that says so in
//! `X-Forwarded-Proto`). The token is random; the database keeps only its hash.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::ConsoleState;
use super::error::ConsoleError;
use crate::client_ip::ClientIp;
use crate::config::TrustedProxies;
use crate::model::Admin;

/// The session cookie's name.
pub const COOKIE: &str = "trickle_console";

/// The signed-in admin of a request, and their session's token.
pub struct CurrentAdmin {
    pub admin: Admin,
    pub token: String,
}

impl FromRequestParts<ConsoleState> for CurrentAdmin {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie_token(&parts.headers).ok_or(ConsoleError::SignInRequired)?;
        match state.app.sessions().current(&token).await? {
            Some((_, admin)) => Ok(CurrentAdmin { admin, token }),
            None => Err(ConsoleError::SignInRequired),
        }
    }
}

/// The session token in the request's cookies, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The client's address and whether it reached us over HTTPS.
pub struct Client {
    pub ip: IpAddr,
    pub https: bool,
}

impl FromRequestParts<ConsoleState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::of(&parts.headers, &parts.extensions, &state.trusted_proxies);
        let https = over_https(parts, &state.trusted_proxies);
        Ok(Client { ip, https })
    }
}

/// Whether the request came over HTTPS: its own scheme, or a trusted proxy's
/// `X-Forwarded-Proto` (anyone else's is ignored).
pub fn over_https(parts: &Parts, trusted: &TrustedProxies) -> bool {
    if parts.uri.scheme_str() == Some("https") {
        return true;
    }
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |ConnectInfo(addr)| {
            addr.ip()
        });
    trusted.contains(peer)
        && parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` value that opens a session for `max_age_secs`.
pub fn session_cookie(token: &str, max_age_secs: i64, https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/console; Max-Age={max_age_secs}{secure}"
    ))
    .expect("a token is base64url")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn cleared_cookie(https: bool) -> HeaderValue {
    session_cookie("", 0, https)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            "a=1; trickle_console=tok; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_token(&headers).as_deref(), Some("tok"));
        let mut other = HeaderMap::new();
        other.append(header::COOKIE, "trickle_console_x=1".parse().unwrap());
        assert_eq!(cookie_token(&other), None);
    }

    #[test]
    fn the_cookie_is_strict_http_only_and_secure_over_https() {
        let plain = session_cookie("tok", 60, false);
        let plain = plain.to_str().unwrap();
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(plain.contains("Path=/console") && !plain.contains("Secure"));
        assert!(
            session_cookie("tok", 60, true)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }

    fn parts(uri: &str, peer: [u8; 4], proto: Option<&str>) -> Parts {
        let mut request = axum::http::Request::builder().uri(uri);
        if let Some(proto) = proto {
            request = request.header("x-forwarded-proto", proto);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from((peer, 4000))));
        parts
    }

    #[test]
    fn forwarded_proto_counts_only_from_trusted_proxies() {
        let trusted = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        assert!(over_https(
            &parts("/", [10, 0, 0, 1], Some("https")),
            &trusted
        ));
        assert!(!over_https(
            &parts("/", [203, 0, 113, 9], Some("https")),
            &trusted
        ));
        assert!(!over_https(
            &parts("/", [10, 0, 0, 1], Some("http")),
            &trusted
        ));
        assert!(over_https(
            &parts("https://x.test/", [203, 0, 113, 9], None),
            &trusted
        ));
    }
}
