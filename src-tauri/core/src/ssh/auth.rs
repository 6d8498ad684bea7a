//! Public-key authentication in Skydeck's order: the Skydeck key for the machine (private half
//! from the keychain, only ever in memory), then the user's ssh-agent, then a key file the
//! user named. The error lists what was tried (names and fingerprints, never key material).

use super::host_keys::{fingerprint, Checker};
use crate::error::{Error, Result};
use russh::client::Handle;
use russh::keys::{Algorithm, PrivateKey, PrivateKeyWithHashAlg};
use std::path::PathBuf;
use std::sync::Arc;

/// A private key to offer and how messages name it.
pub struct OfferedKey {
    pub label: String,
    pub key: PrivateKey,
}

impl std::fmt::Debug for OfferedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.debug_struct("OfferedKey").field("label", &self.label).finish()
    }
}

/// What to try, in order.
#[derive(Debug, Default)]
pub struct Credentials {
    pub skydeck_key: Option<OfferedKey>,
    /// Ask the agent at `SSH_AUTH_SOCK`.
    pub agent: bool,
    pub key_file: Option<PathBuf>,
}

/// Reads a private key file the user named. Passphrase-protected files are refused with what
/// to do instead (Skydeck asks for no passphrase here).
pub fn load_key_file(path: &std::path::Path) -> Result<OfferedKey> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::invalid("key", format!("cannot read the key file {} ({e}); check the path", path.display()))
    })?;
    let key = russh::keys::decode_secret_key(&text, None).map_err(|e| match e {
        russh::keys::Error::KeyIsEncrypted => Error::invalid(
            "key",
            format!(
                "{} is protected by a passphrase; add it to your ssh-agent (ssh-add) or import it into Skydeck (keys import)",
                path.display()
            ),
        ),
        _ => Error::invalid("key", format!("{} is not an OpenSSH or PEM private key", path.display())),
    })?;
    Ok(OfferedKey { label: format!("key file {} ({})", path.display(), fingerprint(key.public_key())), key })
}

async fn offer(handle: &mut Handle<Checker>, user: &str, k: &OfferedKey) -> Result<bool> {
    // RSA keys sign with the best SHA-2 hash the server announces; other keys have one hash.
    let hash = if matches!(k.key.algorithm(), Algorithm::Rsa { .. }) {
        handle.best_supported_rsa_hash().await.map_err(lost)?.flatten()
    } else {
        None
    };
    let res = handle
        .authenticate_publickey(user, PrivateKeyWithHashAlg::new(Arc::new(k.key.clone()), hash))
        .await
        .map_err(lost)?;
    Ok(res.success())
}

fn lost(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("the SSH connection broke during login ({e}); try again"))
}

/// Tries every credential until one is accepted. `Unauthenticated` names the user and each
/// key tried, so the user can tell a wrong user from a wrong key.
pub async fn authenticate(handle: &mut Handle<Checker>, user: &str, creds: Credentials) -> Result<()> {
    let mut tried: Vec<String> = Vec::new();
    if let Some(k) = &creds.skydeck_key {
        if offer(handle, user, k).await? {
            return Ok(());
        }
        tried.push(k.label.clone());
    }
    if creds.agent {
        match agent_login(handle, user).await {
            Ok(true) => return Ok(()),
            Ok(false) => tried.push("the keys in your ssh-agent".into()),
            Err(note) => tried.push(note),
        }
    }
    if let Some(path) = &creds.key_file {
        let k = load_key_file(path)?;
        if offer(handle, user, &k).await? {
            return Ok(());
        }
        tried.push(k.label);
    }
    if tried.is_empty() {
        return Err(Error::Unauthenticated(format!(
            "no key to log in as '{user}': generate or import one in Skydeck, start ssh-agent, or pass --key FILE"
        )));
    }
    Err(Error::Unauthenticated(format!(
        "the server refused to let '{user}' in with {}. Check the login user (--user) and that the key is in that user's authorized_keys",
        tried.join(", ")
    )))
}

/// Offers each identity of the agent at `SSH_AUTH_SOCK`; `Err` is a note for the message
/// when there is no usable agent.
#[cfg(unix)]
async fn agent_login(handle: &mut Handle<Checker>, user: &str) -> std::result::Result<bool, String> {
    use russh::keys::agent::AgentIdentity;
    if std::env::var_os("SSH_AUTH_SOCK").is_none_or(|s| s.is_empty()) {
        return Err("no ssh-agent (SSH_AUTH_SOCK is not set)".into());
    }
    let mut agent = russh::keys::agent::client::AgentClient::connect_env()
        .await
        .map_err(|e| format!("no ssh-agent ({e})"))?;
    let ids = agent.request_identities().await.map_err(|e| format!("no answer from ssh-agent ({e})"))?;
    if ids.is_empty() {
        return Err("an ssh-agent without keys".into());
    }
    for id in ids {
        let AgentIdentity::PublicKey { key, .. } = id else { continue };
        let hash = if matches!(key.algorithm(), Algorithm::Rsa { .. }) {
            handle.best_supported_rsa_hash().await.map_err(|e| e.to_string())?.flatten()
        } else {
            None
        };
        match handle.authenticate_publickey_with(user, key, hash, &mut agent).await {
            Ok(r) if r.success() => return Ok(true),
            Ok(_) => {}
            Err(e) => return Err(format!("the ssh-agent could not sign ({e})")),
        }
    }
    Ok(false)
}

#[cfg(not(unix))]
async fn agent_login(_: &mut Handle<Checker>, _: &str) -> std::result::Result<bool, String> {
    Err("no ssh-agent support on this system yet".into())
}
