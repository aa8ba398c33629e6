//! Sign-in, sign-out and sign-out everywhere.

use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{Layout, render};
use super::session::{Client, CurrentAdmin, cleared_cookie, cookie_token, session_cookie};
use crate::error::Error;

pub(super) fn router() -> Router<ConsoleState> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/sign-out-everywhere", post(sign_out_everywhere))
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    layout: Layout,
    email: String,
    error: Option<String>,
}

/// The sign-in form; an admin already signed in goes on to the sites.
async fn sign_in_page(
    State(state): State<ConsoleState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ConsoleError> {
    if let Some(token) = cookie_token(&headers)
        && state.app.sessions().current(&token).await?.is_some()
    {
        return Ok(Redirect::to("/console/sites").into_response());
    }
    let page = SignInPage {
        layout: Layout::signed_out(),
        email: String::new(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn sign_in(
    State(state): State<ConsoleState>,
    client: Client,
    Form(form): Form<Credentials>,
) -> Result<Response, ConsoleError> {
    let refusal = match state
        .app
        .sessions()
        .sign_in(&form.email, &form.password, client.ip)
        .await
    {
        Ok(signed_in) => {
            let cookie = session_cookie(&signed_in.token, signed_in.lasts_secs, client.https);
            let mut response = Redirect::to("/console/sites").into_response();
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            return Ok(response);
        }
        Err(refusal @ (Error::Unauthorized { .. } | Error::RateLimited { .. })) => refusal,
        Err(other) => return Err(other.into()),
    };
    let (status, retry_after) = match &refusal {
        Error::RateLimited { retry_after_secs } => {
            (StatusCode::TOO_MANY_REQUESTS, Some(*retry_after_secs))
        }
        _ => (StatusCode::UNAUTHORIZED, None),
    };
    let page = SignInPage {
        layout: Layout::signed_out(),
        email: form.email,
        error: Some(refusal.to_string()),
    };
    let mut response = render(status, &page)?;
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
    }
    Ok(response)
}

/// Back to the sign-in page, without the cookie.
fn signed_out(client: &Client) -> Response {
    let mut response = Redirect::to("/console/sign-in").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cleared_cookie(client.https));
    response
}

async fn sign_out(
    State(state): State<ConsoleState>,
    client: Client,
    current: CurrentAdmin,
) -> Result<Response, ConsoleError> {
    state
        .app
        .sessions()
        .sign_out(&current.token, &current.admin)
        .await?;
    Ok(signed_out(&client))
}

async fn sign_out_everywhere(
    State(state): State<ConsoleState>,
    client: Client,
    current: CurrentAdmin,
) -> Result<Response, ConsoleError> {
    state
        .app
        .sessions()
        .sign_out_everywhere(&current.admin)
        .await?;
    Ok(signed_out(&client))
}
