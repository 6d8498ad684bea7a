//! Secrets: a redacting wrapper and the OS keychain.
//!
//! Each cloud's secret fields are stored as one keychain entry (service [`SERVICE`], account
//! `cloud:<id>`) holding a JSON object. Keychain calls are blocking and can hang forever on a
//! locked keyring waiting for a prompt, so they run on the blocking pool under a timeout.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SERVICE: &str = "dev.skydeck.app";
const KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// A value that never shows itself in Debug or Display: `<redacted>`. It can be read from
/// input (Deserialize) but deliberately not serialized: a secret inside a struct that goes out
/// as JSON (an IPC answer, `--json`, a settings file) must fail to compile, not leak.
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(v: T) -> Self {
        Sensitive(v)
    }
    /// The only way to the value; grep for it to audit where secrets go.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}
impl<T> std::fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Sensitive<String> {
    fn from(s: String) -> Self {
        Sensitive(s)
    }
}

pub type Secrets = BTreeMap<String, Sensitive<String>>;

/// Where secrets are kept. The real one is [`Keychain`]; [`MemorySecrets`] exists for
/// benchmarks and unit tests that are not about the keychain.
pub trait SecretStore: Send + Sync + 'static {
    fn set(&self, account: &str, secrets: &Secrets) -> Result<()>;
    fn get(&self, account: &str) -> Result<Secrets>;
    fn delete(&self, account: &str) -> Result<()>;
}

pub fn cloud_account(cloud_id: &str) -> String {
    format!("cloud:{cloud_id}")
}

/// The OS keychain through the `keyring` crate: Secret Service on Linux, Keychain on macOS,
/// Credential Manager on Windows.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Keychain { service: SERVICE.to_string() }
    }
}

impl Keychain {
    pub fn with_service(service: impl Into<String>) -> Self {
        Keychain { service: service.into() }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(keychain_error)
    }
}

impl SecretStore for Keychain {
    fn set(&self, account: &str, secrets: &Secrets) -> Result<()> {
        // The one place a secret is serialized, on purpose: into the keychain entry.
        let exposed: BTreeMap<&str, &str> = secrets.iter().map(|(k, v)| (k.as_str(), v.expose().as_str())).collect();
        let json = serde_json::to_string(&exposed).expect("a string map serializes");
        self.entry(account)?.set_password(&json).map_err(keychain_error)
    }
    fn get(&self, account: &str) -> Result<Secrets> {
        match self.entry(account)?.get_password() {
            Ok(json) => serde_json::from_str(&json)
                .map_err(|_| Error::Keychain("the keychain entry of this cloud is damaged. Remove the cloud and add it again.".into())),
            Err(keyring::Error::NoEntry) => Err(Error::Keychain(
                "the keychain has no credentials for this cloud (was the entry deleted?). Remove the cloud and add it again.".into(),
            )),
            Err(e) => Err(keychain_error(e)),
        }
    }
    fn delete(&self, account: &str) -> Result<()> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error(e)),
        }
    }
}

fn keychain_error(e: keyring::Error) -> Error {
    // keyring's messages never contain the secret itself.
    let hint = if cfg!(target_os = "linux") {
        "Make sure a Secret Service (GNOME Keyring or KWallet) is running and unlocked in your session, then try again."
    } else {
        "Unlock the system keychain and try again."
    };
    Error::Keychain(format!("the OS keychain is unavailable ({e}). {hint}"))
}

/// Runs a keychain call on the blocking pool with a timeout: a locked keyring can block on a
/// prompt forever.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    match tokio::time::timeout(KEYCHAIN_TIMEOUT, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(Error::Keychain(format!("the keychain call failed ({e}). Try again."))),
        Err(_) => Err(Error::Keychain(
            "the OS keychain did not answer within 20 s; it may be locked and waiting for a password prompt. Unlock it and try again.".into(),
        )),
    }
}

/// An in-process secret store. Not persistent: only for benchmarks and unit tests.
#[derive(Debug, Default, Clone)]
pub struct MemorySecrets {
    map: Arc<Mutex<BTreeMap<String, Secrets>>>,
}

impl SecretStore for MemorySecrets {
    fn set(&self, account: &str, secrets: &Secrets) -> Result<()> {
        self.map.lock().unwrap().insert(account.to_string(), secrets.clone());
        Ok(())
    }
    fn get(&self, account: &str) -> Result<Secrets> {
        self.map
            .lock()
            .unwrap()
            .get(account)
            .cloned()
            .ok_or_else(|| Error::Keychain("no credentials stored for this cloud".into()))
    }
    fn delete(&self, account: &str) -> Result<()> {
        self.map.lock().unwrap().remove(account);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compile-time proof that `Sensitive` is not `Serialize` (the `assert_not_impl` trick of
    /// static_assertions): if it were, both impls below would apply and the call is ambiguous.
    #[allow(dead_code)]
    fn sensitive_is_not_serialize() {
        trait AmbiguousIfSerialize<A> {
            fn check() {}
        }
        impl<T: ?Sized> AmbiguousIfSerialize<()> for T {}
        struct IsSerialize;
        impl<T: ?Sized + serde::Serialize> AmbiguousIfSerialize<IsSerialize> for T {}
        <Sensitive<String> as AmbiguousIfSerialize<_>>::check();
    }

    #[test]
    fn sensitive_never_prints() {
        let s = Sensitive::new("hunter2".to_string());
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        let mut m = Secrets::new();
        m.insert("token".into(), s);
        assert!(!format!("{m:?}").contains("hunter2"));
    }
}
