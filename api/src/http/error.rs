//! The one place a domain error becomes an HTTP response:
//! `{"error": {"code", "message", "details"}}` with the right status. Internal errors
//! are logged with their cause and shown to clients only as `internal_error`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::error::Error;

/// The body of every error response (the OpenAPI document's `ErrorBody`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "invalid_user_id",
    "message": "user_id must be 1 to 255 bytes without control characters",
    "details": {"field": "user_id"}}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for programs (`code`) and for people (`message`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, `snake_case`: `malformed_json`, `invalid_user_id`, `user_not_found`, …
    #[schema(pattern = "^[a-z][a-z0-9_]*$")]
    pub code: String,
    /// A sentence for the developer reading the log.
    pub message: String,
    /// `null`, or an object: `field` names the input at fault (a body field, `id`,
    /// `where`, a header); 422 for a question set lists `problems` ({file, line,
    /// column, message, text}); 422 for an answer adds `rule`; 429 gives
    /// `retry_after_seconds`.
    #[schema(value_type = Option<Object>)]
    pub details: Value,
}

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl ApiError {
    /// A 400 for a request the extractors could not read.
    pub fn malformed(code: &'static str, message: impl Into<String>) -> Self {
        ApiError(Error::Invalid {
            code,
            message: message.into(),
            field: None,
        })
    }

    fn status(&self) -> StatusCode {
        match &self.0 {
            Error::Invalid { .. } => StatusCode::BAD_REQUEST,
            Error::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Error::Forbidden { .. } => StatusCode::FORBIDDEN,
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::QuestionSetInvalid(_)
            | Error::AnswerInvalid { .. }
            | Error::QuestionNotDue { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> String {
        match &self.0 {
            Error::Invalid { code, .. }
            | Error::Unauthorized { code, .. }
            | Error::Forbidden { code, .. }
            | Error::Conflict { code, .. }
            | Error::TooLarge { code, .. } => (*code).to_owned(),
            Error::NotFound { what } => format!("{}_not_found", what.replace(' ', "_")),
            Error::QuestionSetInvalid(_) => "invalid_question_set".into(),
            Error::AnswerInvalid { .. } => "invalid_answer".into(),
            Error::QuestionNotDue { .. } => "question_not_due".into(),
            Error::RateLimited { .. } => "rate_limited".into(),
            Error::Store(_) => "internal_error".into(),
        }
    }

    fn details(&self) -> Value {
        match &self.0 {
            Error::Invalid {
                field: Some(field), ..
            }
            | Error::TooLarge {
                field: Some(field), ..
            } => {
                json!({ "field": field })
            }
            Error::QuestionSetInvalid(problems) => json!({
                "problems": problems
                    .iter()
                    .map(|p| json!({
                        "file": p.file, "line": p.line, "column": p.column,
                        "message": p.message, "text": p.to_string(),
                    }))
                    .collect::<Vec<_>>()
            }),
            Error::AnswerInvalid { rule, .. } => json!({ "field": "value", "rule": rule }),
            Error::QuestionNotDue {
                question_set,
                version,
                key,
            } => json!({
                "field": "key", "question_set": question_set, "version": version, "key": key,
            }),
            Error::RateLimited { retry_after_secs } => {
                json!({ "retry_after_seconds": retry_after_secs })
            }
            _ => Value::Null,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self.0 {
            Error::Store(cause) => {
                tracing::error!(error = %cause, "request failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
                details: self.details(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Error::RateLimited { retry_after_secs } = self.0 {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
