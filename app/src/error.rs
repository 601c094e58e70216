//! `AppError`: the domain's error as a server-function error, with the HTTP status it deserves.

use domain::Error;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The error every server function returns. It wraps [`domain::Error`] so the browser receives
/// the same typed variants (field, message) that the domain produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppError(pub Error);

impl AppError {
    /// The message for `field`, when this is a validation error on it.
    pub fn field(&self, field: &str) -> Option<String> {
        self.0.message_for(field)
    }

    /// Whether the message belongs next to a field rather than above the form.
    pub fn is_field_error(&self) -> bool {
        matches!(self.0, Error::Validation { .. })
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for AppError {}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError(e)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Transport failures (network down) become an internal error with a message a person can
    /// act on; a request that cannot be read (missing or malformed arguments — a hand-made
    /// call) is the caller's to fix: 422, not a failure of ours.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let message = match value {
            ServerFnErrorErr::Request(_) => {
                "Could not reach the server. Check your connection and try again."
            }
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_) => {
                return AppError(Error::validation(
                    "form",
                    "The form was incomplete or could not be read. Please fill it in again.",
                ));
            }
            _ => "Something went wrong on our side. Please try again.",
        };
        AppError(Error::Internal(message.to_owned()))
    }
}
