//! libvirt's errors (a `virErrorNumber` and a message) → Skydeck's typed errors, with what to
//! do next. ssh failures of a `+ssh` URI arrive as generic system/RPC errors carrying ssh's
//! own words, so those are recognised by message.

use crate::error::Error;
use virt::error::ErrorNumber as N;

/// What a blocking libvirt job can fail with: a libvirt error (mapped once, with the URI) or
/// a Skydeck error the job decided on itself.
#[derive(Debug)]
pub enum Fail {
    Virt(virt::error::Error),
    Skydeck(Error),
}

impl From<virt::error::Error> for Fail {
    fn from(e: virt::error::Error) -> Self {
        Fail::Virt(e)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Skydeck(e)
    }
}

/// The connection itself failed (the next call should reconnect).
pub fn is_transport(e: &virt::error::Error) -> bool {
    e.code().is_known_and(|c| {
        matches!(
            c,
            N::NoConnect | N::InvalidConn | N::SystemError | N::Rpc | N::Ssh | N::Libssh | N::NoServer | N::NoClient
        )
    })
}

/// The error code as a short name ("nodomain"), for `Provider` errors.
fn code_name(e: &virt::error::Error) -> String {
    e.code().to_string().rsplit("::").next().unwrap_or_default().to_ascii_lowercase()
}

/// Maps a libvirt error of the connection `uri` (as the user typed it, without a key file).
/// libvirt's message is kept (trimmed to one line): it names the domain/volume concerned.
pub fn map(e: &virt::error::Error, uri: &str) -> Error {
    let msg: String = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    // A temp key file path is not secret, but it is noise and changes on every connect.
    let msg = redact_keyfile(&msg);
    let lower = msg.to_ascii_lowercase();
    let at = format!("libvirt at {uri}");
    if lower.contains("permission denied (publickey") || lower.contains("too many authentication failures") {
        return Error::Unauthenticated(format!(
            "{at}: the SSH server refused the key ({msg}). Load the key into ssh-agent, put it in ~/.ssh, or paste the \
             private key into the cloud's 'SSH private key' field; its public half must be in the remote user's \
             ~/.ssh/authorized_keys."
        ));
    }
    if lower.contains("host key verification failed") {
        return Error::Unauthenticated(format!(
            "{at}: the SSH host key is unknown or changed ({msg}). Connect once with `ssh` from a terminal to check and \
             accept the host key, then try again."
        ));
    }
    let Some(code) = e.code().known() else {
        return Error::Provider {
            provider: "libvirt".into(),
            status: 0,
            code: Some(code_name(e)),
            message: format!("{at}: {msg}"),
        };
    };
    match code {
        N::NoDomain | N::NoStoragePool | N::NoStorageVolume | N::NoNetwork | N::NoDomainSnapshot => {
            Error::NotFound(format!("{at} does not know it: {msg}. Refresh the list; it may have been removed."))
        }
        N::AuthFailed | N::AuthCancelled | N::AuthUnavailable => Error::Unauthenticated(format!(
            "{at} refused the login: {msg}. For qemu:///system add your user to the 'libvirt' group (then log in \
             again), or use qemu:///session."
        )),
        N::OperationDenied | N::AccessDenied => Error::PermissionDenied(format!(
            "{at} denied the request: {msg}. Connect as a user allowed to manage domains (e.g. in the 'libvirt' group)."
        )),
        N::OperationInvalid | N::DomExist | N::StorageVolExist | N::ResourceBusy | N::NetworkExist => {
            Error::Conflict(format!("{at} cannot do that now: {msg}. Refresh and check the machine's state."))
        }
        N::NoSupport | N::OperationUnsupported | N::ArgumentUnsupported | N::ConfigUnsupported => {
            Error::NotSupported(format!("{at} does not support this: {msg}."))
        }
        N::InvalidArg | N::XmlError | N::XmlDetail | N::XmlInvalidSchema | N::InvalidMac => {
            Error::InvalidInput { field: None, message: format!("{at} refused the request: {msg}.") }
        }
        N::NoConnect
        | N::InvalidConn
        | N::SystemError
        | N::Rpc
        | N::Ssh
        | N::Libssh
        | N::NoServer
        | N::NoClient
        | N::UnknownHost => {
            let hint = if uri.contains("+ssh") || uri.contains("+libssh") {
                "Check that the host is reachable over SSH, that libvirtd runs there, and the URI (e.g. qemu+ssh://user@host/system)."
            } else {
                "Check that libvirtd (or virtqemud) runs on this machine and that the URI is right (qemu:///system or qemu:///session)."
            };
            Error::Unavailable(format!("could not reach {at}: {msg}. {hint}"))
        }
        N::OperationTimeout | N::AgentUnresponsive => {
            Error::Unavailable(format!("{at} timed out: {msg}. Try again in a moment."))
        }
        _ => Error::Provider {
            provider: "libvirt".into(),
            status: 0,
            code: Some(code_name(e)),
            message: format!("{at}: {msg}"),
        },
    }
}

/// Replaces Skydeck's temporary key file paths in a message.
pub fn redact_keyfile(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find("skydeck-libvirt-") {
        // Back up to the start of the path, forward to its end.
        let start = rest[..i]
            .rfind(|c: char| c.is_whitespace() || c == '\'' || c == '"' || c == '=')
            .map(|p| p + 1)
            .unwrap_or(0);
        let end = i + rest[i..]
            .find(|c: char| c.is_whitespace() || c == '\'' || c == '"' || c == ':' || c == '&')
            .unwrap_or(rest.len() - i);
        out.push_str(&rest[..start]);
        out.push_str("<key file>");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_file_paths_are_hidden() {
        assert_eq!(
            super::redact_keyfile("Warning: Identity file /tmp/skydeck-libvirt-Ab12 not accessible: x"),
            "Warning: Identity file <key file> not accessible: x"
        );
        assert_eq!(
            super::redact_keyfile("keyfile=/tmp/skydeck-libvirt-x&no_verify=1"),
            "keyfile=<key file>&no_verify=1"
        );
        assert_eq!(super::redact_keyfile("nothing here"), "nothing here");
    }
}
