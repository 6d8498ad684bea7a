//! One libvirt connection per cloud, opened on first use and kept: libvirt's `test:///default`
//! driver keeps its state only within one connection, and a remote `+ssh` connection costs an
//! ssh login. libvirt calls block (an ssh round trip, a disk copy), so every call runs on
//! tokio's blocking pool under a timeout.
//!
//! Threads: a `virConnectPtr` may be used from several threads at once (libvirt ≥ 0.6; the
//! `virt` crate marks `Connect` Send + Sync), and `Connect::clone` only takes a reference. So
//! the mutex guards just the slot: it is held while (re)opening, never during a call, and
//! concurrent calls share the connection.
//!
//! An SSH private key from the keychain is written to a 0600 temp file only while the
//! connection opens (ssh has authenticated by the time `virConnectOpen` returns), passed as
//! the URI's `keyfile=` parameter, and deleted right after. Its path never reaches a
//! message.

use super::errors::{self, Fail};
use crate::error::{Error, Result};
use crate::secrets::Sensitive;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;
use virt::connect::Connect;

pub struct Conn {
    /// The URI as the user gave it (no key file): safe to show.
    pub uri: String,
    key: Option<Sensitive<String>>,
    slot: Mutex<Option<Connect>>,
}

/// libvirt's default error handler prints every error to stderr; Skydeck reports them itself.
fn quiet_libvirt() {
    static ONCE: Once = Once::new();
    ONCE.call_once(virt::error::clear_error_callback);
}

/// True for URIs whose transport is ssh (the only ones a key file applies to).
pub fn is_ssh(uri: &url::Url) -> bool {
    matches!(uri.scheme().split_once('+').map(|(_, t)| t), Some("ssh" | "libssh" | "libssh2"))
}

/// A private key as pasted into a one-line secret field: the newlines may be gone. OpenSSH
/// and PEM keys are a BEGIN line, base64 and an END line; rebuild that shape.
pub fn normalize_key(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let begin_end = raw.find("-----BEGIN ")?;
    let header_end = begin_end + raw[begin_end + 11..].find("-----")? + 11 + 5;
    let footer_start = raw.rfind("-----END ")?;
    if footer_start < header_end {
        return None;
    }
    let header = &raw[begin_end..header_end];
    let footer = raw[footer_start..].trim();
    let body = &raw[header_end..footer_start];
    // A PEM key may carry "Proc-Type: …" headers: keep such lines as they are.
    let (headers, b64): (Vec<&str>, Vec<&str>) =
        body.lines().map(str::trim).filter(|l| !l.is_empty()).partition(|l| l.contains(": "));
    let b64: String = b64.concat().split_whitespace().collect();
    if b64.is_empty() || !b64.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)) {
        return None;
    }
    let mut out = format!("{header}\n");
    for h in &headers {
        out.push_str(h);
        out.push('\n');
    }
    if !headers.is_empty() {
        out.push('\n');
    }
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("ascii"));
        out.push('\n');
    }
    out.push_str(footer);
    out.push('\n');
    Some(out)
}

impl Conn {
    pub fn new(uri: String, key: Option<Sensitive<String>>) -> Self {
        Conn { uri, key, slot: Mutex::new(None) }
    }

    /// The open connection, opening it first if there is none or it died (blocking).
    pub fn handle(&self) -> Result<Connect, Fail> {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = slot.as_ref() {
            if c.is_alive().unwrap_or(false) {
                return Ok(c.clone());
            }
        }
        *slot = None;
        let c = self.open()?;
        *slot = Some(c.clone());
        Ok(c)
    }

    fn open(&self) -> Result<Connect, Fail> {
        quiet_libvirt();
        let Some(key) = &self.key else {
            return Connect::open(Some(&self.uri)).map_err(Fail::Virt);
        };
        let mut file = tempfile::Builder::new().prefix("skydeck-libvirt-").tempfile().map_err(|e| {
            Fail::Skydeck(Error::Unavailable(format!("could not write the SSH key to a temporary file ({e})")))
        })?;
        file.write_all(key.expose().as_bytes()).and_then(|_| file.flush()).map_err(|e| {
            Fail::Skydeck(Error::Unavailable(format!("could not write the SSH key to a temporary file ({e})")))
        })?;
        let path = file.into_temp_path();
        let mut uri = url::Url::parse(&self.uri).map_err(|e| Fail::Skydeck(Error::invalid("uri", e.to_string())))?;
        let others: Vec<(String, String)> =
            uri.query_pairs().filter(|(k, _)| k != "keyfile").map(|(k, v)| (k.into(), v.into())).collect();
        uri.query_pairs_mut().clear().extend_pairs(others).append_pair("keyfile", &path.to_string_lossy());
        let opened = Connect::open(Some(uri.as_str()));
        // ssh has read the key by now (the open call is answered only after it logged in).
        drop(path);
        opened.map_err(Fail::Virt)
    }

    /// Forgets the connection so the next call opens a new one (after a transport error).
    pub fn forget(&self) {
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Runs `f` with the connection on the blocking pool; libvirt errors become Skydeck's.
    pub async fn run<T, F>(self: &Arc<Self>, timeout: Duration, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connect) -> Result<T, Fail> + Send + 'static,
    {
        let this = self.clone();
        let job = tokio::task::spawn_blocking(move || {
            let result = this.handle().and_then(|c| f(&c));
            result.map_err(|fail| match fail {
                Fail::Skydeck(e) => e,
                Fail::Virt(e) => {
                    if errors::is_transport(&e) {
                        this.forget();
                    }
                    errors::map(&e, &this.uri)
                }
            })
        });
        match tokio::time::timeout(timeout, job).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => {
                Err(Error::Unavailable(format!("a libvirt call failed unexpectedly ({join}). Try again.")))
            }
            Err(_) => Err(Error::Unavailable(format!(
                "libvirt at {} did not answer within {} s. Check that the host is reachable and libvirtd runs there.",
                self.uri,
                timeout.as_secs()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuilds_a_key_pasted_without_newlines() {
        let body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
        let flat = format!("-----BEGIN OPENSSH PRIVATE KEY-----{body}-----END OPENSSH PRIVATE KEY-----");
        let k = normalize_key(&flat).unwrap();
        let lines: Vec<&str> = k.lines().collect();
        assert_eq!(lines[0], "-----BEGIN OPENSSH PRIVATE KEY-----");
        assert_eq!(*lines.last().unwrap(), "-----END OPENSSH PRIVATE KEY-----");
        assert_eq!(lines[1..lines.len() - 1].concat(), body);
        assert!(lines.iter().all(|l| l.len() <= 64 || l.starts_with("-----")));
        // An already well-formed key comes out the same.
        assert_eq!(normalize_key(&k).unwrap(), k);
        assert!(normalize_key("not a key").is_none());
        assert!(normalize_key("-----BEGIN X-----$$$-----END X-----").is_none());
    }

    #[test]
    fn ssh_transports() {
        let ssh = |u: &str| is_ssh(&url::Url::parse(u).unwrap());
        assert!(ssh("qemu+ssh://root@host/system"));
        assert!(ssh("test+libssh2://h/default"));
        assert!(!ssh("qemu:///system"));
        assert!(!ssh("qemu+tcp://h/system"));
    }
}
