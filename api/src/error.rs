//! The domain error: what went wrong, in the domain's words. `http::error` maps it to a
//! status and the `{"error": {code, message, details}}` body in one place.

use crate::model::question_set::CorruptVersion;
use crate::questions::Problem;
use crate::store::StoreError;

/// A failed use case. Variants carry a stable snake_case `code` for clients.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed input (400), naming the field when there is one.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// Missing or wrong API key (401).
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// Authenticated, but not allowed: wrong user hash or origin (403).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The thing asked for does not exist for this site (404).
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The request conflicts with stored state (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A value is over its size limit (413).
    #[error("{message}")]
    TooLarge {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// A question set that does not parse or validate (422), with every problem.
    #[error("the question set has {} problem(s)", .0.len())]
    QuestionSetInvalid(Vec<Problem>),
    /// An answer that breaks its question's rule (422).
    #[error("{message}")]
    AnswerInvalid { rule: &'static str, message: String },
    /// An answer or skip for a question the user is not being asked (422): not due now,
    /// and not shown without an answer since.
    #[error("question {key:?} of {question_set:?} version {version} is not due for this user")]
    QuestionNotDue {
        question_set: String,
        version: i64,
        key: String,
    },
    /// Too many requests (429).
    #[error("too many requests, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The database failed; details are logged, never shown to clients (500).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    /// A 400 for a field.
    pub fn invalid(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Error::Invalid {
            code,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }
}

impl Error {
    /// A store refusal over a metadata size limit as the 413 the client should see;
    /// any other store error as it is.
    pub(crate) fn metadata_too_large(error: StoreError) -> Error {
        match error {
            StoreError::TooLarge { field, size, limit } => Error::TooLarge {
                code: "metadata_too_large",
                message: format!("{field} would be {size} bytes, over the limit of {limit}"),
                field: Some(field.to_owned()),
            },
            other => other.into(),
        }
    }
}

impl From<CorruptVersion> for Error {
    fn from(error: CorruptVersion) -> Self {
        Error::Store(StoreError::Corrupt(error.to_string()))
    }
}

/// Result of a domain call.
pub type Result<T, E = Error> = std::result::Result<T, E>;
