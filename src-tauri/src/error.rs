//! How errors cross IPC: always as the core's `{code, message, field?}` body, never as a bare
//! string, so the UI can put a message at the form field it concerns.

pub use skydeck_core::ErrorBody;

/// What every command returns.
pub type CmdResult<T> = Result<T, ErrorBody>;

/// Converts a core result into a command result.
/// Failures are logged (code and message only: messages never carry secrets) so a user's
/// report can be matched with the log.
pub fn ipc<T>(r: skydeck_core::Result<T>) -> CmdResult<T> {
    r.map_err(|e| {
        let body = ErrorBody::from(e);
        tracing::info!(code = %body.code, field = ?body.field, "command failed: {}", body.message);
        body
    })
}
