//! The `ssh_host_keys` table: the SSH host key trusted for each machine or plain target
//! (trust on first use, replaced only by an explicit "accept the new host key").

use super::Store;
use crate::error::Result;
use rusqlite::{params, OptionalExtension};

/// A trusted host key. Public data only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHostKey {
    /// `machine:<cloud>/<id>` or `host:<host>:<port>`.
    pub scope: String,
    pub host: String,
    pub port: u16,
    /// OpenSSH public key line (`ssh-ed25519 AAAA…`).
    pub public_key: String,
    /// `SHA256:…` as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
    /// RFC 3339.
    pub trusted_at: String,
}

impl Store {
    pub fn host_key(&self, scope: &str) -> Result<Option<KnownHostKey>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT scope, host, port, public_key, fingerprint, trusted_at FROM ssh_host_keys WHERE scope = ?1",
                params![scope],
                |r| {
                    Ok(KnownHostKey {
                        scope: r.get(0)?,
                        host: r.get(1)?,
                        port: r.get(2)?,
                        public_key: r.get(3)?,
                        fingerprint: r.get(4)?,
                        trusted_at: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records the key trusted for `scope`. With `replace` false an existing different key is
    /// kept (two first connections racing record the first one; the second then sees a
    /// mismatch on its next connect instead of silently overwriting): returns whether the
    /// stored key is now `key`. One `BEGIN IMMEDIATE` transaction, since it reads then writes.
    pub fn trust_host_key(&self, key: &KnownHostKey, replace: bool) -> Result<bool> {
        self.write_tx(|tx| {
            let current: Option<String> = tx
                .query_row("SELECT public_key FROM ssh_host_keys WHERE scope = ?1", params![key.scope], |r| r.get(0))
                .optional()?;
            match current {
                Some(k) if k == key.public_key => return Ok(true),
                Some(_) if !replace => return Ok(false),
                _ => {}
            }
            tx.execute(
                "INSERT INTO ssh_host_keys (scope, host, port, public_key, fingerprint, trusted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(scope) DO UPDATE SET host = excluded.host, port = excluded.port,
                   public_key = excluded.public_key, fingerprint = excluded.fingerprint,
                   trusted_at = excluded.trusted_at",
                params![key.scope, key.host, key.port, key.public_key, key.fingerprint, key.trusted_at],
            )?;
            Ok(true)
        })
    }

    /// Forgets the key of `scope`; true if there was one.
    pub fn forget_host_key(&self, scope: &str) -> Result<bool> {
        Ok(self.conn().execute("DELETE FROM ssh_host_keys WHERE scope = ?1", params![scope])? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> KnownHostKey {
        KnownHostKey {
            scope: "host:127.0.0.1:22".into(),
            host: "127.0.0.1".into(),
            port: 22,
            public_key: k.into(),
            fingerprint: format!("SHA256:{k}"),
            trusted_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn first_key_is_kept_until_replaced_deliberately() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        assert_eq!(store.host_key("host:127.0.0.1:22").unwrap(), None);
        assert!(store.trust_host_key(&key("a"), false).unwrap());
        assert!(!store.trust_host_key(&key("b"), false).unwrap(), "a different key must not overwrite");
        assert_eq!(store.host_key("host:127.0.0.1:22").unwrap().unwrap().public_key, "a");
        assert!(store.trust_host_key(&key("b"), true).unwrap());
        assert_eq!(store.host_key("host:127.0.0.1:22").unwrap().unwrap().public_key, "b");
        assert!(store.forget_host_key("host:127.0.0.1:22").unwrap());
        assert_eq!(store.host_key("host:127.0.0.1:22").unwrap(), None);
    }
}
