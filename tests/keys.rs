//! SSH keys against OpenSSH's own `ssh-keygen` (Debian openssh-client): generated keys are
//! valid OpenSSH keys, imported keys keep their fingerprints exactly as `ssh-keygen -lf` prints
//! them, passphrase-protected keys import only with the right passphrase, private keys go to
//! the secret store (never SQLite) and leave it on delete. The CLI test runs the same through
//! the real keychain.

use skydeck_core::keys::{key_account, SshKey};
use skydeck_core::providers::digitalocean::md5_fingerprint;
use skydeck_core::providers::ec2::key_pair_name;
use skydeck_core::secrets::{MemorySecrets, SecretStore, Sensitive};
use skydeck_core::{ImportKey, Skydeck};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn deck() -> (tempfile::TempDir, Skydeck, MemorySecrets) {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::default();
    let deck = Skydeck::open(dir.path(), Arc::new(secrets.clone())).unwrap();
    (dir, deck, secrets)
}

fn ssh_keygen(args: &[&str]) -> String {
    let out = Command::new("ssh-keygen")
        .args(args)
        .output()
        .expect("ssh-keygen runs (Debian package openssh-client, installed by scripts/setup)");
    assert!(out.status.success(), "ssh-keygen {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Makes a key pair with ssh-keygen; returns the private key's path.
fn keygen(dir: &Path, name: &str, kind: &[&str], passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec!["-q", "-N", passphrase, "-C", name, "-f", path.to_str().unwrap()];
    args.extend_from_slice(kind);
    ssh_keygen(&args);
    path
}

/// The second field of `ssh-keygen -lf FILE` (`256 SHA256:… comment (ED25519)`).
fn fingerprint_of(file: &Path, hash: &str) -> String {
    let out = ssh_keygen(&["-E", hash, "-lf", file.to_str().unwrap()]);
    out.split_whitespace().nth(1).unwrap().to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    // ssh-keygen refuses private key files others can read.
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

fn import(name: &str, key: &str, pass: Option<&str>) -> ImportKey {
    ImportKey { name: name.into(), key: Sensitive::new(key.into()), passphrase: pass.map(|p| Sensitive::new(p.into())) }
}

#[tokio::test]
async fn generated_keys_are_openssh_keys_with_ssh_keygens_fingerprint() {
    let (dir, deck, secrets) = deck();
    let key = deck.generate_key("laptop").await.unwrap();
    assert_eq!(key.algorithm, "ssh-ed25519");
    assert!(key.is_default, "the first key becomes the default");
    assert!(key.has_private);
    assert_eq!(key.id.len(), 36, "a uuid");

    // ssh-keygen reads the public key and computes the same fingerprint.
    let pub_file = write(dir.path(), "gen.pub", &format!("{}\n", deck.public_key("laptop").unwrap()));
    assert_eq!(fingerprint_of(&pub_file, "sha256"), key.fingerprint);
    // The MD5 form DigitalOcean uses matches ssh-keygen's too.
    assert_eq!(fingerprint_of(&pub_file, "md5"), format!("MD5:{}", md5_fingerprint(&key.public_key).unwrap()));

    // The exported private key is a valid OpenSSH key that derives the same public key.
    let private = deck.export_private_key(&key.id, None).await.unwrap();
    assert!(private.expose().starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    let priv_file = write(dir.path(), "gen", private.expose());
    let derived = ssh_keygen(&["-y", "-f", priv_file.to_str().unwrap()]);
    assert_eq!(
        derived.split_whitespace().take(2).collect::<Vec<_>>(),
        key.public_key.split_whitespace().take(2).collect::<Vec<_>>()
    );

    // Exported with a passphrase: ssh-keygen needs exactly that passphrase.
    let enc = deck.export_private_key("laptop", Some(Sensitive::new("export-pass".into()))).await.unwrap();
    let enc_file = write(dir.path(), "enc", enc.expose());
    let out =
        Command::new("ssh-keygen").args(["-y", "-P", "wrong", "-f", enc_file.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success(), "a wrong passphrase must not open the export");
    let derived = ssh_keygen(&["-y", "-P", "export-pass", "-f", enc_file.to_str().unwrap()]);
    assert!(derived.starts_with(key.public_key.split(' ').take(2).collect::<Vec<_>>().join(" ").as_str()));

    // The private key is in the secret store under sshkey:<id> and nowhere in SQLite.
    let stored = secrets.get(&key_account(&key.id)).unwrap();
    assert_eq!(stored["private_key"].expose(), private.expose());
    let db = std::fs::read(dir.path().join("skydeck.db")).unwrap();
    let body: String = private.expose().lines().nth(1).unwrap().to_string();
    assert!(!db.windows(body.len()).any(|w| w == body.as_bytes()), "the private key reached the database");
}

#[tokio::test]
async fn imported_keys_keep_ssh_keygens_fingerprints() {
    let (dir, deck, secrets) = deck();
    for (name, kind) in
        [("ed", &["-t", "ed25519"][..]), ("rsa", &["-t", "rsa", "-b", "2048"]), ("ec", &["-t", "ecdsa", "-b", "256"])]
    {
        let private = keygen(dir.path(), name, kind, "");
        let public = private.with_extension("pub");
        let want = fingerprint_of(&public, "sha256");

        // The public key alone.
        let k = deck.import_key(import(&format!("{name}-pub"), &read(&public), None)).await.unwrap();
        assert_eq!(k.fingerprint, want, "{name}");
        assert_eq!(k.comment, name);
        assert!(!k.has_private);
        assert!(secrets.get(&key_account(&k.id)).is_err(), "a public key puts nothing in the keychain");
        let e = deck.export_private_key(&k.id, None).await.unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("key")));
        // The same key again (here from its private file) is refused: one key, one entry.
        let e = deck.import_key(import(&format!("{name}-again"), &read(&private), None)).await.unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("key")), "{e}");
        deck.delete_key(&k.id).await.unwrap();

        // The private key: same fingerprint, public line as ssh-keygen wrote it.
        let k = deck.import_key(import(name, &read(&private), None)).await.unwrap();
        assert_eq!(k.fingerprint, want, "{name}");
        assert_eq!(k.public_key, read(&public).trim(), "{name}");
        assert!(k.has_private);
        let back = deck.export_private_key(name, None).await.unwrap();
        let file = write(dir.path(), &format!("{name}.back"), back.expose());
        assert_eq!(fingerprint_of(&file, "sha256"), want);
    }
    // EC2 imports only ed25519 and RSA key pairs: the ECDSA key is refused on the key field.
    let ec = deck.find_key("ec").unwrap();
    assert_eq!(key_pair_name(&ec.to_public()).unwrap_err().field(), Some("key"));
    let ed = deck.find_key("ed").unwrap();
    assert!(key_pair_name(&ed.to_public()).unwrap().starts_with("skydeck-"));
}

#[tokio::test]
async fn protected_private_keys_need_the_right_passphrase() {
    let (dir, deck, secrets) = deck();
    let private = keygen(dir.path(), "locked", &["-t", "ed25519"], "pass");
    let want = fingerprint_of(&private.with_extension("pub"), "sha256");
    let text = read(&private);

    let e = deck.import_key(import("locked", &text, None)).await.unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_input", Some("passphrase")), "{e}");
    let e = deck.import_key(import("locked", &text, Some("wrong"))).await.unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_input", Some("passphrase")), "{e}");
    assert!(!e.to_string().contains("wrong"), "the message never repeats the passphrase: {e}");
    assert!(deck.list_keys().unwrap().is_empty(), "failed imports save nothing");

    let k = deck.import_key(import("locked", &text, Some("pass"))).await.unwrap();
    assert_eq!(k.fingerprint, want);
    // Kept decrypted in the keychain (it encrypts at rest): ssh-keygen opens the export
    // without any passphrase.
    let stored = secrets.get(&key_account(&k.id)).unwrap()["private_key"].expose().clone();
    let file = write(dir.path(), "unlocked", &stored);
    let derived = ssh_keygen(&["-y", "-P", "", "-f", file.to_str().unwrap()]);
    assert!(derived.starts_with("ssh-ed25519 "));
    assert_eq!(fingerprint_of(&file, "sha256"), want);

    for bad in ["not a key", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"] {
        let e = deck.import_key(import("bad", bad, None)).await.unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("key")), "{bad}: {e}");
    }
}

#[tokio::test]
async fn default_rename_and_delete() {
    let (_dir, deck, secrets) = deck();
    let a = deck.generate_key("a").await.unwrap();
    let b = deck.generate_key("b").await.unwrap();
    let c = deck.generate_key("c").await.unwrap();
    let default = |deck: &Skydeck| deck.default_key().unwrap().map(|k: SshKey| k.name);
    assert_eq!(default(&deck).as_deref(), Some("a"));
    assert!(!b.is_default);

    assert!(deck.set_default_key("b").unwrap().is_default);
    assert_eq!(deck.list_keys().unwrap().iter().filter(|k| k.is_default).count(), 1);

    let e = deck.generate_key("a").await.unwrap_err();
    assert_eq!(e.field(), Some("name"));
    let e = deck.rename_key("c", "a").unwrap_err();
    assert_eq!(e.field(), Some("name"));
    let renamed = deck.rename_key(&c.id, "ci-deploy").unwrap();
    assert_eq!((renamed.id.as_str(), renamed.name.as_str()), (c.id.as_str(), "ci-deploy"), "ids are stable");
    let e = deck.find_key("c").unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_input", Some("key")));

    // Deleting removes the keychain entry too; deleting the default promotes the newest key.
    deck.delete_key("b").await.unwrap();
    assert!(secrets.get(&key_account(&b.id)).is_err(), "the private key left the keychain");
    assert_eq!(default(&deck).as_deref(), Some("ci-deploy"));
    deck.delete_key(&c.id).await.unwrap();
    deck.delete_key(&a.id).await.unwrap();
    assert_eq!(default(&deck), None);
    assert!(deck.list_keys().unwrap().is_empty());
}

#[test]
fn the_cli_manages_keys_in_the_real_keychain() {
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let cli = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(skydeck_tests::cli_bin());
        c.args(args).env("SKYDECK_DATA_DIR", data.path()).env_remove("SKYDECK_KEY_PASSPHRASE");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let ok = |args: &[&str], env: &[(&str, &str)]| {
        let o = cli(args, env);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };

    let gen: serde_json::Value = serde_json::from_str(&ok(&["keys", "generate", "cli-key", "--json"], &[])).unwrap();
    let id = gen["id"].as_str().unwrap().to_string();
    assert_eq!(gen["is_default"], true);
    let public = ok(&["keys", "export", "cli-key", "--public"], &[]);
    let pub_file = write(files.path(), "cli.pub", &public);
    assert_eq!(fingerprint_of(&pub_file, "sha256"), gen["fingerprint"].as_str().unwrap());

    // Import a protected key: the passphrase comes from the environment, never an argument.
    let locked = keygen(files.path(), "locked", &["-t", "ed25519"], "hunter22");
    let path = locked.to_str().unwrap();
    let o = cli(&["keys", "import", "locked", path], &[]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
    assert!(err.starts_with("invalid_input: ") && err.contains("SKYDECK_KEY_PASSPHRASE"), "{err}");
    let o = cli(&["keys", "import", "locked", path], &[("SKYDECK_KEY_PASSPHRASE", "nope")]);
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("invalid_input: the passphrase does not unlock"));
    ok(&["keys", "import", "locked", path], &[("SKYDECK_KEY_PASSPHRASE", "hunter22")]);

    // Export to a 0600 file; ssh-keygen reads it back to the same public key.
    let out = files.path().join("exported");
    ok(&["keys", "export", "locked", "--out", out.to_str().unwrap()], &[]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(fingerprint_of(&out, "sha256"), fingerprint_of(&locked.with_extension("pub"), "sha256"));

    let list: serde_json::Value = serde_json::from_str(&ok(&["keys", "list", "--json"], &[])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains("PRIVATE KEY"), "list shows public data only");
    ok(&["keys", "default", "locked"], &[]);
    assert!(ok(&["keys", "list"], &[]).lines().any(|l| l.starts_with('*') && l.contains("locked")));
    ok(&["keys", "rename", "locked", "work"], &[]);

    // Delete asks for --yes without a terminal, then removes the keychain entry too.
    let o = cli(&["keys", "delete", "cli-key"], &[]);
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("invalid_input: ") && !o.status.success());
    let keychain = skydeck_core::secrets::Keychain::default();
    assert!(keychain.get(&key_account(&id)).is_ok(), "the generated key's private half is in the keychain");
    ok(&["keys", "delete", "cli-key", "--yes"], &[]);
    assert!(keychain.get(&key_account(&id)).is_err(), "deleting removed the keychain entry");
    let work = deck_less_find(&ok(&["keys", "list", "--json"], &[]), "work");
    ok(&["keys", "delete", &work, "--yes"], &[]);
    assert_eq!(ok(&["keys", "list", "--json"], &[]).trim(), "[]");
}

fn deck_less_find(list_json: &str, name: &str) -> String {
    let list: serde_json::Value = serde_json::from_str(list_json).unwrap();
    list.as_array().unwrap().iter().find(|k| k["name"] == name).unwrap()["id"].as_str().unwrap().to_string()
}
