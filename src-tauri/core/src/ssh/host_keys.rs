//! Host-key checking during the SSH handshake: the key Skydeck trusts for the target, else
//! the user's `~/.ssh/known_hosts` (read only), else trust on first use. A key that differs
//! from the trusted one refuses the connection before any credential is sent, unless the
//! user deliberately accepts the new key.

use super::target::Target;
use crate::store::KnownHostKey;
use russh::keys::{HashAlg, PublicKey, PublicKeyOrCertificate};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// `SHA256:…` exactly as `ssh-keygen -lf` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// What the check decided about the server's key.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The key Skydeck already trusts for this target.
    Trusted,
    /// Not in Skydeck's store but in `~/.ssh/known_hosts`: recorded in the store too.
    FromKnownHosts(PublicKey),
    /// Never seen: trusted now (trust on first use); its fingerprint is shown.
    FirstUse(PublicKey),
    /// A different key than the trusted one, accepted because the user asked to.
    Replaced(PublicKey),
    /// A different key than the trusted one: the connection was refused.
    Changed { expected: String, got: String, source: String },
}

/// The russh client handler: checks the host key and remembers the verdict for the caller.
pub struct Checker {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) trusted: Option<KnownHostKey>,
    pub(super) known_hosts: Option<PathBuf>,
    pub(super) accept_new: bool,
    pub(super) verdict: Arc<Mutex<Option<Verdict>>>,
}

impl Checker {
    pub fn new(target: &Target, trusted: Option<KnownHostKey>, accept_new: bool) -> Checker {
        Checker {
            host: target.host.clone(),
            port: target.port,
            trusted,
            known_hosts: dirs::home_dir().map(|h| h.join(".ssh").join("known_hosts")),
            accept_new,
            verdict: Arc::default(),
        }
    }

    /// The decision, separate from the bool russh wants so that the caller can tell "host key
    /// changed" from any other handshake failure.
    pub fn decide(&self, key: &PublicKey) -> Verdict {
        let got = fingerprint(key);
        let changed = |expected: String, source: String| {
            if self.accept_new {
                Verdict::Replaced(key.clone())
            } else {
                Verdict::Changed { expected, got: got.clone(), source }
            }
        };
        if let Some(t) = &self.trusted {
            return match PublicKey::from_openssh(&t.public_key) {
                Ok(k) if k.key_data() == key.key_data() => Verdict::Trusted,
                _ => changed(t.fingerprint.clone(), "Skydeck's trusted host keys".into()),
            };
        }
        if let Some(path) = self.known_hosts.as_ref().filter(|p| p.exists()) {
            match russh::keys::check_known_hosts_path(&self.host, self.port, key, path) {
                Ok(true) => return Verdict::FromKnownHosts(key.clone()),
                Ok(false) => {}
                Err(russh::keys::Error::KeyChanged { line }) => {
                    return changed("the key on that line".into(), format!("{} line {line}", path.display()));
                }
                // An unreadable file is no opinion either way: it is the user's, not ours to
                // fix, and Skydeck's own store still protects later connections.
                Err(e) => tracing::warn!("cannot read {} ({e}); ignoring it for this check", path.display()),
            }
        }
        Verdict::FirstUse(key.clone())
    }
}

impl russh::client::Handler for Checker {
    type Error = russh::Error;

    async fn check_server_key(&mut self, server_key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        // A host certificate is judged by the key it certifies: Skydeck keeps no CA list, so
        // the certificate adds nothing to trust on first use.
        let key = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(c) => PublicKey::new(c.public_key().clone(), ""),
        };
        let verdict = self.decide(&key);
        let ok = !matches!(verdict, Verdict::Changed { .. });
        *self.verdict.lock().unwrap_or_else(|p| p.into_inner()) = Some(verdict);
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    const B: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB6aRQ+f1mQHc5HqZyJrH5Av1dHG8Wj1R0Ef1HLWWG8v";

    fn checker(trusted: Option<&str>, known_hosts: Option<PathBuf>, accept_new: bool) -> Checker {
        let target = Target::parse("127.0.0.1:2222").unwrap();
        let trusted = trusted.map(|k| KnownHostKey {
            scope: target.scope.clone(),
            host: target.host.clone(),
            port: target.port,
            public_key: k.into(),
            fingerprint: fingerprint(&PublicKey::from_openssh(k).unwrap()),
            trusted_at: String::new(),
        });
        let mut c = Checker::new(&target, trusted, accept_new);
        c.known_hosts = known_hosts;
        c
    }

    #[test]
    fn fingerprint_matches_ssh_keygen() {
        // What `ssh-keygen -lf` (OpenSSH 9) printed for A.
        let k = PublicKey::from_openssh(A).unwrap();
        assert_eq!(fingerprint(&k), "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU");
    }

    #[test]
    fn trusted_key_passes_and_a_changed_one_is_refused_unless_accepted() {
        let (a, b) = (PublicKey::from_openssh(A).unwrap(), PublicKey::from_openssh(B).unwrap());
        assert!(matches!(checker(Some(A), None, false).decide(&a), Verdict::Trusted));
        assert!(matches!(checker(Some(A), None, false).decide(&b), Verdict::Changed { .. }));
        assert!(matches!(checker(Some(A), None, true).decide(&b), Verdict::Replaced(_)));
        assert!(matches!(checker(None, None, false).decide(&b), Verdict::FirstUse(_)));
    }

    #[test]
    fn known_hosts_is_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        std::fs::write(&path, format!("[127.0.0.1]:2222 {A}\n")).unwrap();
        let (a, b) = (PublicKey::from_openssh(A).unwrap(), PublicKey::from_openssh(B).unwrap());
        assert!(matches!(checker(None, Some(path.clone()), false).decide(&a), Verdict::FromKnownHosts(_)));
        match checker(None, Some(path), false).decide(&b) {
            Verdict::Changed { source, .. } => assert!(source.ends_with("known_hosts line 1"), "{source}"),
            v => panic!("{v:?}"),
        }
    }
}
