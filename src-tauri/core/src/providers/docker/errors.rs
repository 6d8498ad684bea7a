//! Bollard's errors → Skydeck's typed errors, with a next step for the user. The daemon's own
//! messages are kept (they name the container or image); nothing here can hold a secret: the
//! TLS key never leaves rustls, and the host is shown without any password.

use super::transport::Target;
use super::TITLE;
use crate::error::Error;
use bollard::errors::Error as B;
use std::io::ErrorKind;

pub fn map_error(target: &Target, e: B) -> Error {
    match e {
        B::DockerResponseServerError { status_code, message } => from_status(status_code, message.trim()),
        B::RequestTimeoutError => Error::Unavailable(format!(
            "{TITLE} {} did not answer in time. Check that the daemon is running and not overloaded, then try again.",
            target.display()
        )),
        B::SocketNotFoundError(_) => not_running(target, "there is no socket at that path"),
        B::JsonDataError { message, .. } => unreadable(&message),
        B::JsonSerdeError { err } => unreadable(&err.to_string()),
        B::APIVersionParseError {} => unreadable("no API version in the /version answer"),
        other => transport_error(target, &other),
    }
}

fn unreadable(detail: &str) -> Error {
    Error::Provider {
        provider: TITLE.into(),
        status: 200,
        code: Some("unreadable_answer".into()),
        message: format!(
            "the daemon answered with data Skydeck cannot read ({detail}). Is this a Docker Engine API (Docker or \
             Podman's Docker-compatible service)?"
        ),
    }
}

/// Engine API status codes: 400 bad parameter, 404 no such container/image, 409 conflict
/// (name in use, container running/paused), 500 the daemon or runtime failed.
fn from_status(status: u16, message: &str) -> Error {
    let sep = if message.is_empty() { "" } else { ": " };
    match status {
        400 => Error::InvalidInput {
            field: None,
            message: format!("{TITLE} refused the request{sep}{message}. Check the values and try again."),
        },
        404 => Error::NotFound(format!(
            "{TITLE} does not know it{sep}{message}. Refresh the list; it may have been removed."
        )),
        409 => Error::Conflict(format!("{TITLE} refused because of the current state{sep}{message}.")),
        // Podman 4 answers 500 where Docker answers 409 for a container name in use.
        500 if message.contains("already in use") => {
            Error::Conflict(format!("{TITLE} refused because of the current state{sep}{message}."))
        }
        // The daemon's own failure (runtime error, bad command): a real answer, not an outage.
        500 => Error::Provider { provider: TITLE.into(), status, code: None, message: message.to_string() },
        _ => Error::from_status(TITLE, status, None, message, None),
    }
}

/// Could not talk to the daemon at all: look for the I/O or TLS cause.
fn transport_error(target: &Target, e: &(dyn std::error::Error + 'static)) -> Error {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            return tls_failed(target, &tls.to_string());
        }
        let Some(io) = c.downcast_ref::<std::io::Error>() else {
            cause = c.source();
            continue;
        };
        match io.kind() {
            ErrorKind::ConnectionRefused | ErrorKind::NotFound | ErrorKind::AddrNotAvailable => {
                return not_running(target, "nothing is listening there")
            }
            ErrorKind::PermissionDenied => return Error::PermissionDenied(target.permission_hint()),
            _ => {}
        }
        // An io::Error's source() skips the error it wraps (rustls' error inside an io
        // error inside hyper's): step into the wrapped one.
        cause = match io.get_ref() {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => c.source(),
        };
    }
    Error::Unavailable(format!(
        "{TITLE} {} could not be reached ({}). Check the host address and that the daemon is running, then try again.",
        target.display(),
        chain(e)
    ))
}

fn not_running(target: &Target, why: &str) -> Error {
    Error::Unavailable(format!("{TITLE} {} is not answering ({why}). {}", target.display(), target.start_hint()))
}

fn tls_failed(target: &Target, detail: &str) -> Error {
    Error::Unauthenticated(format!(
        "the TLS handshake with {TITLE} {} failed ({detail}). Check that the CA certificate signed the daemon's \
         certificate and that the client certificate and key belong together and are trusted by the daemon.",
        target.display()
    ))
}

/// `outer: inner: innermost`, without repeats (hyper nests the same text).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cause = c.source();
    }
    parts.join(": ")
}
