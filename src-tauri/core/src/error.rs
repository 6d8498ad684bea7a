//! One typed error for the whole core. Every variant has a stable `code` (what scripts and the
//! UI branch on) and a message that says what happened and what to do next. Errors cross the
//! IPC boundary and the CLI as `{code, message, field?}` via [`ErrorBody`].

use serde::{Deserialize, Serialize};
use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The provider rejected the credentials (wrong key, expired token, bad signature).
    #[error("{0}")]
    Unauthenticated(String),
    /// The credentials are valid but lack a permission for this call.
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    RateLimited { message: String, retry_after: Option<Duration> },
    /// Bad input from the user; `field` names the form field / CLI flag it concerns.
    #[error("{message}")]
    InvalidInput { field: Option<String>, message: String },
    #[error("{0}")]
    NotSupported(String),
    /// The provider could not be reached, timed out, or answered 5xx.
    #[error("{0}")]
    Unavailable(String),
    /// Any other error the provider answered with, kept verbatim (minus secrets).
    #[error("{provider} answered {status}{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Provider { provider: String, status: u16, code: Option<String>, message: String },
    /// The OS keychain refused or could not be reached.
    #[error("{0}")]
    Keychain(String),
    #[error("{0}")]
    Storage(String),
    #[error("{0}")]
    Conflict(String),
    /// An SSH server showed a host key other than the one recorded for it: possibly someone in
    /// the middle, possibly a reinstalled machine. Nothing was sent; the user must accept the
    /// new key deliberately.
    #[error("{0}")]
    HostKeyChanged(String),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated(_) => "unauthenticated",
            Error::PermissionDenied(_) => "permission_denied",
            Error::NotFound(_) => "not_found",
            Error::RateLimited { .. } => "rate_limited",
            Error::InvalidInput { .. } => "invalid_input",
            Error::NotSupported(_) => "not_supported",
            Error::Unavailable(_) => "unavailable",
            Error::Provider { .. } => "provider_error",
            Error::Keychain(_) => "keychain",
            Error::Storage(_) => "storage",
            Error::Conflict(_) => "conflict",
            Error::HostKeyChanged(_) => "host_key_changed",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidInput { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput { field: Some(field.into()), message: message.into() }
    }

    /// True for errors worth retrying later without any change by the user.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable(_) | Error::RateLimited { .. })
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Maps an HTTP error status of a provider to the matching variant, with a message that
    /// tells the user what to do. `detail` is the provider's own message, already free of
    /// secrets; `code` its error code if it has one.
    pub fn from_status(
        provider: &str,
        status: u16,
        code: Option<String>,
        detail: &str,
        retry_after: Option<Duration>,
    ) -> Self {
        let detail = detail.trim();
        let sep = if detail.is_empty() { "" } else { ": " };
        match status {
            401 => Error::Unauthenticated(format!(
                "{provider} rejected the credentials{sep}{detail}. Check the key/token and update the cloud's credentials."
            )),
            403 => Error::PermissionDenied(format!(
                "{provider} denied the request{sep}{detail}. Give the credentials the permission or use another account."
            )),
            404 => Error::NotFound(format!(
                "{provider} does not know this resource{sep}{detail}. Refresh the list; it may have been deleted."
            )),
            429 => Error::RateLimited {
                message: format!(
                    "{provider} is rate-limiting requests{sep}{detail}. Skydeck will retry {}.",
                    retry_after.map(|d| format!("in {}s", d.as_secs().max(1))).unwrap_or_else(|| "later".into())
                ),
                retry_after,
            },
            500..=599 => Error::Unavailable(format!(
                "{provider} had a server error ({status}){sep}{detail}. Try again in a moment."
            )),
            _ => Error::Provider { provider: provider.into(), status, code, message: detail.to_string() },
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Storage(format!("the local database failed: {e}. Check disk space and permissions of the data directory."))
    }
}

/// The serialized form of an error: what crosses IPC and what `--json` prints.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<&Error> for ErrorBody {
    fn from(e: &Error) -> Self {
        ErrorBody { code: e.code().to_string(), message: e.to_string(), field: e.field().map(str::to_string) }
    }
}

impl From<Error> for ErrorBody {
    fn from(e: Error) -> Self {
        ErrorBody::from(&e)
    }
}
