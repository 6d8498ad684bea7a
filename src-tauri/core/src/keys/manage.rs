//! The keys view's calls on `Skydeck`. Invariant kept like for clouds: a key with a private
//! half is in both the keychain and SQLite, or in neither.

use super::{export_private, generate, key_account, parse, KeyMaterial, SshKey, PRIVATE_FIELD};
use crate::error::{Error, Result};
use crate::secrets::{self, Secrets, Sensitive};
use crate::service::Skydeck;
use serde::Deserialize;

/// What the import form / `keys import` submits.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportKey {
    pub name: String,
    /// An OpenSSH public key line or an OpenSSH private key (whole file).
    pub key: Sensitive<String>,
    /// Only for a passphrase-protected private key.
    #[serde(default)]
    pub passphrase: Option<Sensitive<String>>,
}

const MAX_NAME: usize = 64;

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "give the key a name, e.g. 'laptop' or 'deploy'"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(Error::invalid("name", format!("key names are at most {MAX_NAME} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "key names cannot contain control characters"));
    }
    Ok(name.to_string())
}

impl Skydeck {
    /// All keys, oldest first (public data only).
    pub fn list_keys(&self) -> Result<Vec<SshKey>> {
        self.store.list_keys()
    }

    /// Finds a key by id or name.
    pub fn find_key(&self, id_or_name: &str) -> Result<SshKey> {
        let keys = self.store.list_keys()?;
        keys.iter()
            .find(|k| k.id == id_or_name)
            .or_else(|| keys.iter().find(|k| k.name == id_or_name))
            .cloned()
            .ok_or_else(|| {
                Error::invalid(
                    "key",
                    format!("no SSH key with id or name '{id_or_name}'; see `skydeck-cli keys list` or generate one"),
                )
            })
    }

    /// The default key, if there is one.
    pub fn default_key(&self) -> Result<Option<SshKey>> {
        self.store.default_key()
    }

    /// Generates an ed25519 key: the private half to the keychain, the public half to SQLite.
    pub async fn generate_key(&self, name: &str) -> Result<SshKey> {
        let name = check_name(name)?;
        let material = generate(&name)?;
        self.save_key(name, material).await
    }

    /// Imports an OpenSSH public key, or a private key (decrypted with the passphrase if it has
    /// one). Errors: `invalid_input` with field `key` (unreadable key, already imported),
    /// `passphrase` (missing or wrong) or `name`.
    pub async fn import_key(&self, req: ImportKey) -> Result<SshKey> {
        let name = check_name(&req.name)?;
        // Decrypting runs bcrypt-pbkdf (deliberately slow): keep it off the async workers.
        let material = tokio::task::spawn_blocking(move || {
            parse(req.key.expose(), req.passphrase.as_ref().map(|p| p.expose().as_str()))
        })
        .await
        .map_err(|e| Error::Unavailable(format!("reading the key failed unexpectedly ({e}); try again")))??;
        self.save_key(name, material).await
    }

    async fn save_key(&self, name: String, m: KeyMaterial) -> Result<SshKey> {
        let keys = self.db(|s| s.list_keys()).await?;
        if let Some(k) = keys.iter().find(|k| k.fingerprint == m.fingerprint) {
            return Err(Error::invalid("key", format!("this key is already in Skydeck as '{}'", k.name)));
        }
        if keys.iter().any(|k| k.name == name) {
            return Err(Error::invalid("name", format!("a key named '{name}' already exists; pick another name")));
        }
        let key = SshKey {
            id: uuid::Uuid::new_v4().to_string(),
            name,
            algorithm: m.algorithm,
            public_key: m.public_key,
            fingerprint: m.fingerprint,
            comment: m.comment,
            has_private: m.private_key.is_some(),
            is_default: false,
            created_at: crate::now_rfc3339(),
        };
        let account = key_account(&key.id);
        if let Some(private) = m.private_key {
            let mut secret = Secrets::new();
            secret.insert(PRIVATE_FIELD.to_string(), private);
            let (store, acc) = (self.secrets.clone(), account.clone());
            secrets::blocking(move || store.set(&acc, &secret)).await?;
        }
        let row = key.clone();
        match self.db(move |s| s.insert_key(&row)).await {
            Ok(stored) => Ok(stored),
            Err(e) => {
                if key.has_private {
                    let store = self.secrets.clone();
                    if let Err(cleanup) = secrets::blocking(move || store.delete(&account)).await {
                        tracing::error!("could not remove the keychain entry of a key that failed to save: {cleanup}");
                    }
                }
                Err(e)
            }
        }
    }

    pub fn set_default_key(&self, id_or_name: &str) -> Result<SshKey> {
        let key = self.find_key(id_or_name)?;
        self.store.set_default_key(&key.id)?;
        self.find_key(&key.id)
    }

    pub fn rename_key(&self, id_or_name: &str, name: &str) -> Result<SshKey> {
        let name = check_name(name)?;
        let key = self.find_key(id_or_name)?;
        self.store.rename_key(&key.id, &name)?;
        self.find_key(&key.id)
    }

    /// Deletes the keychain entry, then the row (so no private key is ever orphaned). Keys
    /// already registered at providers stay there; machines keep working.
    pub async fn delete_key(&self, id_or_name: &str) -> Result<SshKey> {
        let key = self.find_key(id_or_name)?;
        if key.has_private {
            let (store, account) = (self.secrets.clone(), key_account(&key.id));
            secrets::blocking(move || store.delete(&account)).await?;
        }
        let id = key.id.clone();
        self.db(move |s| s.delete_key(&id)).await?;
        Ok(key)
    }

    /// The OpenSSH public key line ("Copy public key").
    pub fn public_key(&self, id_or_name: &str) -> Result<String> {
        Ok(self.find_key(id_or_name)?.public_key)
    }

    /// The private key in OpenSSH format, encrypted with `passphrase` when given. A separate,
    /// explicit call: the UI asks the user first.
    pub async fn export_private_key(
        &self,
        id_or_name: &str,
        passphrase: Option<Sensitive<String>>,
    ) -> Result<Sensitive<String>> {
        let key = self.find_key(id_or_name)?;
        if !key.has_private {
            return Err(Error::invalid(
                "key",
                format!("'{}' was imported as a public key only; Skydeck has no private key to export", key.name),
            ));
        }
        let (store, account) = (self.secrets.clone(), key_account(&key.id));
        let secret = secrets::blocking(move || store.get(&account)).await.map_err(|e| match e {
            // The store's own message for a missing entry speaks of clouds.
            Error::Keychain(m) if m.contains("no credentials") => Error::Keychain(format!(
                "the keychain has no private key for '{}' (was the entry deleted?); delete the key and import it again",
                key.name
            )),
            e => e,
        })?;
        let private = secret.get(PRIVATE_FIELD).ok_or_else(|| {
            Error::Keychain("the keychain entry of this key is damaged; delete the key and import it again".into())
        })?;
        // Encrypting runs bcrypt-pbkdf: off the async workers, like import.
        let private = private.clone();
        tokio::task::spawn_blocking(move || {
            export_private(private.expose(), passphrase.as_ref().map(|p| p.expose().as_str()))
        })
        .await
        .map_err(|e| Error::Unavailable(format!("writing the key failed unexpectedly ({e}); try again")))?
    }
}
