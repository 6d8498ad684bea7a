//! SSH keys: generate ed25519 keys, import OpenSSH public or private keys (passphrase-protected
//! included), fingerprints exactly as `ssh-keygen -lf` prints them.
//!
//! Private keys live only in the OS keychain (account `sshkey:<id>`), the public half and
//! metadata in SQLite. A passphrase-protected private key is decrypted once at import and kept
//! decrypted in the keychain: the keychain already encrypts it at rest under the user's login,
//! and keeping the passphrase-encrypted form would mean asking for the passphrase on every use
//! (or storing the passphrase next to it, which protects nothing). Export can re-encrypt it
//! with a passphrase of the user's choice.
//!
//! This file holds the pure key handling; [`manage`] the `Skydeck` calls over store and keychain.

mod manage;

pub use manage::ImportKey;

use crate::error::{Error, Result};
use crate::model::SshPublicKey;
use crate::secrets::Sensitive;
use serde::{Deserialize, Serialize};
use ssh_key::rand_core::OsRng;
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey};

/// One SSH key as the keys view and `keys list` show it. Never holds the private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshKey {
    /// Stable id (uuid); the keychain account is `sshkey:<id>`.
    pub id: String,
    /// The user's name for the key; unique.
    pub name: String,
    /// `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, …
    pub algorithm: String,
    /// OpenSSH one-line public key (`ssh-ed25519 AAAA… comment`): what "Copy public key" copies.
    pub public_key: String,
    /// `SHA256:…` as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
    pub comment: String,
    /// True when the private key is in the keychain (generated or imported from a private key).
    pub has_private: bool,
    pub is_default: bool,
    /// RFC 3339.
    pub created_at: String,
}

impl SshKey {
    /// The public half as a driver needs it to put the key on a new machine.
    pub fn to_public(&self) -> SshPublicKey {
        SshPublicKey {
            name: self.name.clone(),
            openssh: self.public_key.clone(),
            fingerprint: self.fingerprint.clone(),
        }
    }
}

/// The keychain account of a key's private half.
pub fn key_account(id: &str) -> String {
    format!("sshkey:{id}")
}

/// The field of the keychain entry that holds the OpenSSH private key.
pub(crate) const PRIVATE_FIELD: &str = "private_key";

/// What generating or parsing a key gave, before it gets an id and a name.
#[derive(Debug, Clone)]
pub struct KeyMaterial {
    pub algorithm: String,
    pub public_key: String,
    pub fingerprint: String,
    pub comment: String,
    /// Unencrypted OpenSSH private key, if there is one.
    pub private_key: Option<Sensitive<String>>,
}

fn material(public: &PublicKey, private: Option<&PrivateKey>) -> Result<KeyMaterial> {
    let private_key = match private {
        Some(p) => Some(Sensitive::new(
            p.to_openssh(LineEnding::LF)
                .map_err(|e| {
                    Error::invalid("key", format!("the private key cannot be written in OpenSSH format ({e})"))
                })?
                .to_string(),
        )),
        None => None,
    };
    Ok(KeyMaterial {
        algorithm: public.algorithm().as_str().to_string(),
        public_key: public
            .to_openssh()
            .map_err(|e| Error::invalid("key", format!("the public key cannot be written in OpenSSH format ({e})")))?,
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
        comment: public.comment().to_string(),
        private_key,
    })
}

/// A new ed25519 key pair with `comment` (Skydeck uses the key's name).
pub fn generate(comment: &str) -> Result<KeyMaterial> {
    let mut key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).map_err(|e| {
        Error::Unavailable(format!("could not generate a key ({e}); the system random source failed. Try again."))
    })?;
    key.set_comment(comment);
    material(key.public_key(), Some(&key))
}

/// Reads what the user pasted or picked: an OpenSSH public key line, or an OpenSSH private key
/// (`-----BEGIN OPENSSH PRIVATE KEY-----`), decrypted with `passphrase` when it is protected.
/// Errors name the field to fix: `key` (not a usable key) or `passphrase` (missing or wrong).
pub fn parse(text: &str, passphrase: Option<&str>) -> Result<KeyMaterial> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid(
            "key",
            "paste an OpenSSH public key (ssh-ed25519 AAAA…) or private key, or pick the file",
        ));
    }
    if text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") {
        return parse_private(text, passphrase);
    }
    if text.starts_with("-----BEGIN") {
        return Err(Error::invalid(
            "key",
            "this is a PEM private key; Skydeck reads the OpenSSH format. Convert a copy with `ssh-keygen -p -f FILE` \
             (it rewrites the file in OpenSSH format) and import that",
        ));
    }
    if text.starts_with("---- BEGIN SSH2 PUBLIC KEY") {
        return Err(Error::invalid(
            "key",
            "this is an RFC 4716 (SSH2) public key; convert it with `ssh-keygen -i -f FILE` and import the output",
        ));
    }
    // One line is one key; more lines are probably an authorized_keys file.
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines.next().unwrap_or_default();
    if lines.next().is_some() {
        return Err(Error::invalid("key", "paste exactly one public key (one line); this text holds several"));
    }
    let public = PublicKey::from_openssh(line).map_err(|e| {
        Error::invalid(
            "key",
            format!("this is not an OpenSSH public key ({e}); it should look like `ssh-ed25519 AAAA… comment`"),
        )
    })?;
    check_algorithm(public.algorithm())?;
    material(&public, None)
}

fn parse_private(text: &str, passphrase: Option<&str>) -> Result<KeyMaterial> {
    let key = PrivateKey::from_openssh(text).map_err(|e| {
        Error::invalid("key", format!("this OpenSSH private key cannot be read ({e}); is the whole file pasted?"))
    })?;
    check_algorithm(key.algorithm())?;
    check_kdf_cost(&key)?;
    let key = if key.is_encrypted() {
        let pass = passphrase.filter(|p| !p.is_empty()).ok_or_else(|| {
            Error::invalid("passphrase", "this private key is protected by a passphrase; enter it to import the key")
        })?;
        key.decrypt(pass).map_err(|_| {
            Error::invalid("passphrase", "the passphrase does not unlock this private key; check it and try again")
        })?
    } else {
        key
    };
    material(key.public_key(), Some(&key))
}

/// The most bcrypt-pbkdf rounds an imported key may ask for. The count comes from the file, and
/// each round costs real CPU time: `ssh-keygen` writes 16 (its `-a` option rarely goes past a
/// few hundred), while a crafted file can say 4 billion and keep a thread busy for days.
pub const MAX_BCRYPT_ROUNDS: u32 = 1024;

fn check_kdf_cost(key: &PrivateKey) -> Result<()> {
    if let ssh_key::Kdf::Bcrypt { rounds, .. } = key.kdf() {
        if *rounds > MAX_BCRYPT_ROUNDS {
            return Err(Error::invalid(
                "key",
                format!(
                    "this key asks for {rounds} bcrypt rounds to unlock (at most {MAX_BCRYPT_ROUNDS} are accepted); \
                     re-encrypt a copy with `ssh-keygen -p -a 100 -f FILE` and import that"
                ),
            ));
        }
    }
    Ok(())
}

fn check_algorithm(alg: Algorithm) -> Result<()> {
    if alg == Algorithm::Dsa {
        return Err(Error::invalid(
            "key",
            "DSA keys are no longer accepted by OpenSSH or the clouds; generate an ed25519 key instead",
        ));
    }
    Ok(())
}

/// Re-encrypts a stored private key with `passphrase` for export (bcrypt-pbkdf + aes256-ctr, as
/// `ssh-keygen` does); `None` exports it unencrypted.
pub fn export_private(private_openssh: &str, passphrase: Option<&str>) -> Result<Sensitive<String>> {
    let key = PrivateKey::from_openssh(private_openssh).map_err(|_| {
        Error::Keychain("the private key in the keychain is damaged; delete the key and import it again".into())
    })?;
    let key = match passphrase.filter(|p| !p.is_empty()) {
        Some(p) => key.encrypt(&mut OsRng, p).map_err(|e| {
            Error::invalid("passphrase", format!("the key cannot be encrypted with this passphrase ({e})"))
        })?,
        None => key,
    };
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| Error::Keychain(format!("the private key cannot be written ({e})")))?;
    Ok(Sensitive::new(text.to_string()))
}

/// `SHA256:…` of an OpenSSH public key line.
pub fn fingerprint(openssh_public: &str) -> Result<String> {
    let public = PublicKey::from_openssh(openssh_public.trim())
        .map_err(|e| Error::invalid("key", format!("this is not an OpenSSH public key ({e})")))?;
    Ok(public.fingerprint(HashAlg::Sha256).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rewrites the bcrypt round count inside an encrypted OpenSSH private key (the wire
    /// format: magic, cipher name, kdf name, kdf options = salt string + u32 rounds).
    fn with_rounds(openssh: &str, rounds: u32) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let body: String = openssh.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut raw = b64.decode(body).unwrap();
        let mut at = b"openssh-key-v1\0".len();
        let skip_string = |raw: &[u8], at: &mut usize| {
            let n = u32::from_be_bytes(raw[*at..*at + 4].try_into().unwrap()) as usize;
            *at += 4 + n;
        };
        skip_string(&raw, &mut at); // cipher name
        skip_string(&raw, &mut at); // kdf name
        at += 4; // kdf options length
        skip_string(&raw, &mut at); // salt
        raw[at..at + 4].copy_from_slice(&rounds.to_be_bytes());
        let text = b64.encode(&raw);
        let lines: Vec<&str> = text.as_bytes().chunks(70).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n", lines.join("\n"))
    }

    #[test]
    fn a_key_asking_for_billions_of_bcrypt_rounds_is_refused_at_once() {
        let k = generate("victim").unwrap();
        let encrypted = export_private(k.private_key.unwrap().expose(), Some("pw")).unwrap();
        // Sanity: rewriting the count it already has keeps the key readable, and the hostile
        // count is what the parser sees.
        let same = with_rounds(encrypted.expose(), 16);
        assert_eq!(parse(&same, Some("pw")).unwrap().fingerprint, k.fingerprint);
        let hostile = with_rounds(encrypted.expose(), u32::MAX);
        let kdf = PrivateKey::from_openssh(&hostile).unwrap().kdf().clone();
        assert!(matches!(kdf, ssh_key::Kdf::Bcrypt { rounds: u32::MAX, .. }), "{kdf:?}");
        let started = std::time::Instant::now();
        let err = parse(&hostile, Some("pw")).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
        assert_eq!((err.code(), err.field()), ("invalid_input", Some("key")), "{err}");
        assert!(err.to_string().contains("bcrypt rounds"), "{err}");
    }

    #[test]
    fn generated_keys_round_trip_and_fingerprint_consistently() {
        let k = generate("laptop").unwrap();
        assert_eq!(k.algorithm, "ssh-ed25519");
        assert!(k.public_key.starts_with("ssh-ed25519 AAAA") && k.public_key.ends_with(" laptop"), "{}", k.public_key);
        assert!(k.fingerprint.starts_with("SHA256:") && !k.fingerprint.ends_with('='));
        let private = k.private_key.clone().unwrap();
        let again = parse(private.expose(), None).unwrap();
        assert_eq!((again.public_key, again.fingerprint.clone()), (k.public_key.clone(), k.fingerprint.clone()));
        assert_eq!(parse(&k.public_key, None).unwrap().fingerprint, k.fingerprint);
        assert_eq!(fingerprint(&k.public_key).unwrap(), k.fingerprint);
        assert!(format!("{:?}", k.private_key).contains("redacted"));
    }

    #[test]
    fn export_with_a_passphrase_needs_it_to_import_again() {
        let k = generate("x").unwrap();
        let enc = export_private(k.private_key.unwrap().expose(), Some("s3cret")).unwrap();
        assert_eq!(parse(enc.expose(), None).unwrap_err().field(), Some("passphrase"));
        assert_eq!(parse(enc.expose(), Some("wrong")).unwrap_err().field(), Some("passphrase"));
        assert_eq!(parse(enc.expose(), Some("s3cret")).unwrap().fingerprint, k.fingerprint);
    }

    #[test]
    fn unusable_input_names_the_key_field() {
        for bad in [
            "",
            "hello",
            "ssh-ed25519 not-base64",
            "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
        ] {
            assert_eq!(parse(bad, None).unwrap_err().field(), Some("key"), "{bad}");
        }
        let k = generate("a").unwrap();
        let two = format!("{}\n{}", k.public_key, generate("b").unwrap().public_key);
        assert_eq!(parse(&two, None).unwrap_err().field(), Some("key"));
    }
}
