//! The one error type every service returns and every server function sends to the browser.

use serde::{Deserialize, Serialize};

/// What went wrong, in words a person can act on. `Internal` never carries database details:
/// those are logged on the server where they happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Error {
    /// No valid session.
    #[error("Please sign in to continue.")]
    Unauthenticated,
    /// Signed in, but the rules refuse it.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Bad input in one field of a form.
    #[error("{message}")]
    Validation { field: String, message: String },
    /// The request clashes with what is stored (a duplicate, a stale state).
    #[error("{0}")]
    Conflict(String),
    /// Too many failed attempts; try again after the given number of seconds.
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Internal(String),
}

/// The result of every fallible domain operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A validation error on `field`.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The message for `field`, if this error is about that field.
    pub fn message_for(&self, field: &str) -> Option<String> {
        match self {
            Error::Validation { field: f, message } if f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Unauthenticated => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::Validation { .. } => 422,
            Error::Conflict(_) => 409,
            Error::RateLimited { .. } => 429,
            Error::Internal(_) => 500,
        }
    }

    /// The generic answer for a failure that is ours, not the person's.
    pub fn internal() -> Self {
        Error::Internal("Something went wrong on our side. Please try again.".to_owned())
    }
}

impl From<crate::permission::Denied> for Error {
    fn from(denied: crate::permission::Denied) -> Self {
        Error::Forbidden(denied.to_string())
    }
}
