//! Logging in to machines over SSH, in-process (russh: async, pure Rust). The base of the
//! built-in terminal and `skydeck-cli ssh`.
//!
//! * [`target`]: a Skydeck machine (its IP, login user from the driver) or a plain
//!   `[user@]host[:port]`.
//! * [`host_keys`]: trust on first use per target in Skydeck's store, `~/.ssh/known_hosts`
//!   honoured read-only, a changed key refused (`host_key_changed`) until accepted deliberately.
//! * [`auth`]: the Skydeck key (keychain, in memory only), then ssh-agent, then a key file.
//! * [`session`]: run a command or open a PTY shell, each step bounded in time.

pub mod auth;
pub mod host_keys;
pub mod session;
pub mod target;

pub use session::{HostKeyNote, Shell, ShellEvent, SshSession};
pub use target::Target;

use crate::error::{Error, Result};
use crate::keys::{key_account, SshKey, PRIVATE_FIELD};
use crate::secrets;
use crate::service::Skydeck;
use crate::store::KnownHostKey;
use auth::{Credentials, OfferedKey};
use host_keys::{Checker, Verdict};
use std::path::PathBuf;

/// How to log in; everything optional.
#[derive(Debug, Clone, Default)]
pub struct LoginOptions {
    /// Overrides the target's login user.
    pub user: Option<String>,
    /// A Skydeck key (name or id) to use instead of the machine's, or a private key file to try
    /// after the Skydeck key and the agent.
    pub key: Option<String>,
    /// Trust the server's key even when it differs from the one recorded: the deliberate step
    /// after a `host_key_changed` refusal.
    pub accept_new_host_key: bool,
    /// Try the ssh-agent at `SSH_AUTH_SOCK` (on by default in the CLI).
    pub use_agent: bool,
}

impl Skydeck {
    /// A machine reference (id or `<cloud>/<id>`) or a plain `[user@]host[:port]`.
    pub async fn ssh_target(&self, reference: &str) -> Result<(Target, Option<SshKeyHint>)> {
        let r = reference.to_string();
        match self.db(move |s| crate::service::find_machine_in(s, &r)).await {
            Ok(m) => Ok((Target::machine(&m)?, m.extra.get("ssh_key_fingerprint").cloned().map(SshKeyHint))),
            // Only what looks like an address (`user@`, a port, a dotted name or an IP) is taken
            // as a plain target: a mistyped machine id should say "no such machine", not fail
            // a DNS lookup.
            Err(e @ Error::NotFound(_)) if reference.contains(['@', ':', '.']) => {
                Target::parse(reference).map(|t| (t, None)).ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Connects to `reference`, checks the host key, logs in. Bounded: 10 s to connect and
    /// check the host key, 20 s to log in.
    pub async fn ssh_login(&self, reference: &str, opts: LoginOptions) -> Result<SshSession> {
        let (target, hint) = self.ssh_target(reference).await?;
        let user = opts.user.clone().or_else(|| target.user.clone()).unwrap_or_else(|| "root".into());
        if !target::valid_user(&user) {
            return Err(Error::invalid("user", format!("'{user}' is not a valid login name")));
        }
        let creds = self.credentials(&opts, hint).await?;

        let scope = target.scope.clone();
        let trusted = self.db(move |s| s.host_key(&scope)).await?;
        let checker = Checker::new(&target, trusted, opts.accept_new_host_key);
        let (handle, verdict) = session::handshake(&target, checker).await?;
        // Recorded before logging in: the key was shown by the server that we are talking to,
        // whatever the login gives; a failed login must not make the next attempt "first use".
        match &verdict {
            Verdict::FirstUse(k) | Verdict::FromKnownHosts(k) => self.trust(&target, k, false).await?,
            Verdict::Replaced(k) => self.trust(&target, k, true).await?,
            Verdict::Trusted | Verdict::Changed { .. } => {}
        }
        let note = session::note(&verdict);
        SshSession::login(handle, target, user, creds, note).await
    }

    async fn trust(&self, target: &Target, key: &russh::keys::PublicKey, replace: bool) -> Result<()> {
        let row = KnownHostKey {
            scope: target.scope.clone(),
            host: target.host.clone(),
            port: target.port,
            public_key: key
                .to_openssh()
                .map_err(|e| Error::Unavailable(format!("the server's host key cannot be written down ({e})")))?,
            fingerprint: host_keys::fingerprint(key),
            trusted_at: crate::now_rfc3339(),
        };
        let label = target.label.clone();
        let stored = self.db(move |s| s.trust_host_key(&row, replace)).await?;
        if !stored {
            // Another process trusted a different key for this target between our read and
            // our write: treat it like any changed key.
            return Err(Error::HostKeyChanged(format!(
                "another Skydeck just recorded a different host key for {label}; connect again to see it"
            )));
        }
        Ok(())
    }

    /// Forgets the trusted host key of `reference` (the next connection is a first use).
    pub async fn forget_host_key(&self, reference: &str) -> Result<bool> {
        let (target, _) = self.ssh_target(reference).await?;
        self.db(move |s| s.forget_host_key(&target.scope)).await
    }

    async fn credentials(&self, opts: &LoginOptions, hint: Option<SshKeyHint>) -> Result<Credentials> {
        let mut creds = Credentials { agent: opts.use_agent, ..Default::default() };
        // --key names a Skydeck key, else a file.
        let named = match &opts.key {
            Some(k) => match self.find_key(k) {
                Ok(key) => Some(key),
                Err(_) => {
                    let path = PathBuf::from(k);
                    if !path.is_file() {
                        return Err(Error::invalid(
                            "key",
                            format!("'{k}' is neither a Skydeck key (see `skydeck-cli keys list`) nor a key file"),
                        ));
                    }
                    creds.key_file = Some(path);
                    None
                }
            },
            None => None,
        };
        let key = match named {
            Some(k) => Some(k),
            None => self.machine_key(hint)?,
        };
        if let Some(k) = key {
            creds.skydeck_key = Some(self.offered_key(&k).await?);
        }
        Ok(creds)
    }

    /// The Skydeck key for a machine: the one its driver reports by fingerprint, else the
    /// default key. Only keys with a private half can log in.
    fn machine_key(&self, hint: Option<SshKeyHint>) -> Result<Option<SshKey>> {
        let keys = self.list_keys()?;
        let by_hint = hint.and_then(|h| keys.iter().find(|k| k.fingerprint == h.0 && k.has_private).cloned());
        Ok(by_hint.or_else(|| keys.into_iter().find(|k| k.is_default && k.has_private)))
    }

    /// The private half of a Skydeck key, from the keychain into memory (never to disk).
    async fn offered_key(&self, key: &SshKey) -> Result<OfferedKey> {
        if !key.has_private {
            return Err(Error::invalid(
                "key",
                format!("'{}' was imported as a public key only; Skydeck cannot log in with it", key.name),
            ));
        }
        let (store, account) = (self.secrets.clone(), key_account(&key.id));
        let secret = secrets::blocking(move || store.get(&account)).await?;
        let pem = secret.get(PRIVATE_FIELD).ok_or_else(|| {
            Error::Keychain("the keychain entry of this key is damaged; delete the key and import it again".into())
        })?;
        let private = russh::keys::decode_secret_key(pem.expose(), None).map_err(|_| {
            Error::Keychain(format!(
                "the private key of '{}' in the keychain cannot be read; delete the key and import it again",
                key.name
            ))
        })?;
        Ok(OfferedKey { label: format!("Skydeck key '{}' ({})", key.name, key.fingerprint), key: private })
    }
}

/// The fingerprint of the key a driver says a machine was created with.
#[derive(Debug, Clone)]
pub struct SshKeyHint(pub String);
