//! `skydeck-cli keys …`: SSH keys. Private keys stay in the OS keychain; passphrases come
//! from the environment or a no-echo prompt, never from arguments (shell history).

use crate::output;
use clap::Subcommand;
use skydeck_core::text::inert;
use skydeck_core::keys::SshKey;
use skydeck_core::secrets::Sensitive;
use skydeck_core::{Error, ImportKey, Skydeck};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Where `keys import` reads the passphrase of a protected private key from.
const IMPORT_PASS_ENV: &str = "SKYDECK_KEY_PASSPHRASE";
/// Where `keys export --encrypt` reads the passphrase to protect the export with.
const EXPORT_PASS_ENV: &str = "SKYDECK_EXPORT_PASSPHRASE";

#[derive(Subcommand)]
pub enum KeysCmd {
    /// List the keys (public data); the default is marked with *.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Generate an ed25519 key; the private key goes to the OS keychain.
    Generate {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Import an OpenSSH public key or private key from FILE (or stdin with `-`). A protected
    /// private key's passphrase comes from $SKYDECK_KEY_PASSPHRASE or a prompt.
    Import {
        name: String,
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Delete a key and its private key in the keychain.
    Delete {
        key: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Make a key the default for new machines.
    Default {
        key: String,
    },
    Rename {
        key: String,
        name: String,
    },
    /// Print the public key (--public), or write the private key to --out FILE (mode 0600) or
    /// stdout. --encrypt protects it with $SKYDECK_EXPORT_PASSPHRASE or a prompted passphrase.
    Export {
        key: String,
        #[arg(long)]
        public: bool,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long)]
        encrypt: bool,
    },
}

fn read_input(file: &Path) -> Result<String, Error> {
    let mut text = String::new();
    let res = if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_string(&mut text)).map(|_| ())
    };
    res.map_err(|e| Error::invalid("key", format!("cannot read {} ({e})", file.display())))?;
    Ok(text)
}

/// A passphrase from `env`, else a no-echo prompt when there is a terminal.
fn passphrase(env: &str, prompt: &str) -> Result<Option<Sensitive<String>>, Error> {
    if let Ok(p) = std::env::var(env) {
        return Ok(Some(Sensitive::new(p)));
    }
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let p = rpassword::prompt_password(prompt)
        .map_err(|e| Error::invalid("passphrase", format!("cannot read the passphrase ({e})")))?;
    Ok(Some(Sensitive::new(p)))
}

fn print_key(k: &SshKey, json: bool) -> Result<(), Error> {
    if json {
        return output::print_json(k);
    }
    println!("{}\t{}\t{}", k.id, inert(&k.name), k.fingerprint);
    Ok(())
}

pub async fn run(deck: &Skydeck, cmd: KeysCmd) -> Result<(), Error> {
    match cmd {
        KeysCmd::List { json } => {
            let keys = deck.list_keys()?;
            if json {
                return output::print_json(&keys);
            }
            if keys.is_empty() {
                println!("No SSH keys yet. Generate one with `skydeck-cli keys generate NAME`.");
                return Ok(());
            }
            let rows = keys
                .iter()
                .map(|k| {
                    vec![
                        if k.is_default { "*".into() } else { String::new() },
                        k.name.clone(),
                        k.algorithm.clone(),
                        k.fingerprint.clone(),
                        if k.has_private { "private+public".into() } else { "public only".into() },
                        k.id.clone(),
                    ]
                })
                .collect();
            output::table(&["", "NAME", "TYPE", "FINGERPRINT", "HAS", "ID"], rows);
        }
        KeysCmd::Generate { name, json } => print_key(&deck.generate_key(&name).await?, json)?,
        KeysCmd::Import { name, file, json } => {
            let key = Sensitive::new(read_input(&file)?);
            let pass = std::env::var(IMPORT_PASS_ENV).ok().map(Sensitive::new);
            let req = ImportKey { name: name.clone(), key: key.clone(), passphrase: pass.clone() };
            let imported = match deck.import_key(req).await {
                // Protected and no passphrase given: ask for it once (only with a terminal).
                Err(e) if e.field() == Some("passphrase") && pass.is_none() && file != Path::new("-") => {
                    match passphrase(IMPORT_PASS_ENV, "Passphrase of the private key: ")? {
                        Some(p) => deck.import_key(ImportKey { name, key, passphrase: Some(p) }).await?,
                        None => return Err(Error::invalid("passphrase", format!("{e} (set {IMPORT_PASS_ENV})"))),
                    }
                }
                other => other?,
            };
            print_key(&imported, json)?;
        }
        KeysCmd::Delete { key, yes } => {
            let k = deck.find_key(&key)?;
            if !yes {
                confirm_delete(&k)?;
            }
            deck.delete_key(&k.id).await?;
            eprintln!("deleted key '{}' ({})", inert(&k.name), k.fingerprint);
        }
        KeysCmd::Default { key } => print_key(&deck.set_default_key(&key)?, false)?,
        KeysCmd::Rename { key, name } => print_key(&deck.rename_key(&key, &name)?, false)?,
        KeysCmd::Export { key, public, out, encrypt } => {
            let text = if public {
                Sensitive::new(format!("{}\n", deck.public_key(&key)?))
            } else {
                let pass = if encrypt {
                    let p = passphrase(EXPORT_PASS_ENV, "Passphrase for the exported key: ")?;
                    Some(p.ok_or_else(|| {
                        Error::invalid("passphrase", format!("--encrypt needs a passphrase: set {EXPORT_PASS_ENV}"))
                    })?)
                } else {
                    None
                };
                deck.export_private_key(&key, pass).await?
            };
            match out {
                // A new 0600 file renamed over the target: an existing 0644 file or a symlink there
                // is replaced, never written through (skydeck_core::private_file).
                Some(path) => skydeck_core::private_file::write_private(&path, text.expose(), "out")?,
                None => print!("{}", text.expose()),
            }
        }
    }
    Ok(())
}

fn confirm_delete(k: &SshKey) -> Result<(), Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::invalid(
            "yes",
            format!("deleting '{}' removes its private key from the keychain for good; pass --yes to confirm", k.name),
        ));
    }
    eprint!("Delete the key '{}' and its private key for good? Type its name to confirm: ", inert(&k.name));
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok();
    if line.trim() != k.name {
        return Err(Error::invalid("yes", "the name did not match; nothing was deleted"));
    }
    Ok(())
}
