//! The console's one `IntoResponse` for failures: an HTML page with the status the
//! API would give (`http/error.rs` is the JSON counterpart), or, without a session, a
//! redirect to the sign-in page. Internal errors are logged and shown only as such.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::page::{Layout, render};
use crate::error::Error;

/// A console request that did not succeed.
#[derive(Debug)]
pub enum ConsoleError {
    /// No live session: go and sign in.
    SignInRequired,
    /// A use case refused or failed.
    Failed(Error),
    /// A template failed to render (a bug).
    Render(askama::Error),
}

impl From<Error> for ConsoleError {
    fn from(error: Error) -> Self {
        ConsoleError::Failed(error)
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: String,
}

fn status_and_heading(error: &Error) -> (StatusCode, &'static str) {
    match error {
        Error::Invalid { .. } | Error::QuestionSetInvalid(_) | Error::AnswerInvalid { .. } => {
            (StatusCode::BAD_REQUEST, "That did not work")
        }
        Error::Unauthorized { .. } => (StatusCode::UNAUTHORIZED, "Not signed in"),
        Error::Forbidden { .. } => (StatusCode::FORBIDDEN, "Not allowed"),
        Error::NotFound { .. } => (StatusCode::NOT_FOUND, "Not found"),
        Error::Conflict { .. } => (StatusCode::CONFLICT, "Already there"),
        Error::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "Too large"),
        Error::QuestionNotDue { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "That did not work"),
        Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "Too many attempts"),
        Error::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong"),
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let error = match self {
            ConsoleError::SignInRequired => {
                return Redirect::to("/console/sign-in").into_response();
            }
            ConsoleError::Render(cause) => {
                tracing::error!(error = %cause, "console page failed to render");
                return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
            }
            ConsoleError::Failed(error) => error,
        };
        let (status, heading) = status_and_heading(&error);
        let message = match &error {
            Error::Store(cause) => {
                tracing::error!(error = %cause, "console request failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let page = ErrorPage {
            layout: Layout::signed_out(),
            heading,
            message,
        };
        let mut response = match render(status, &page) {
            Ok(response) => response,
            Err(failed) => return failed.into_response(),
        };
        if let Error::RateLimited { retry_after_secs } = error {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
