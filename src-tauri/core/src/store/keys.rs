//! The `ssh_keys` table: public keys and metadata. At most one key is the default (a partial
//! unique index enforces it); the first key becomes the default, and deleting the default
//! promotes the newest remaining key, so "there are keys" always means "there is a default".

use super::Store;
use crate::error::{Error, Result};
use crate::keys::SshKey;
use rusqlite::{params, OptionalExtension, Row};

const COLS: &str = "id, name, algorithm, public_key, fingerprint, comment, has_private, is_default, created_at";

fn from_row(r: &Row) -> rusqlite::Result<SshKey> {
    Ok(SshKey {
        id: r.get(0)?,
        name: r.get(1)?,
        algorithm: r.get(2)?,
        public_key: r.get(3)?,
        fingerprint: r.get(4)?,
        comment: r.get(5)?,
        has_private: r.get(6)?,
        is_default: r.get(7)?,
        created_at: r.get(8)?,
    })
}

/// Turns a UNIQUE violation into the input error the user can fix.
fn unique_error(e: rusqlite::Error, key: &SshKey) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(f, Some(msg)) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            if msg.contains("fingerprint") {
                Error::invalid(
                    "key",
                    format!("this key ({}) is already in Skydeck; use the existing one", key.fingerprint),
                )
            } else {
                Error::invalid("name", format!("a key named '{}' already exists; pick another name", key.name))
            }
        }
        _ => e.into(),
    }
}

impl Store {
    /// Inserts a key; it becomes the default when no other key is.
    pub fn insert_key(&self, key: &SshKey) -> Result<SshKey> {
        self.write_tx(|tx| {
            let has_default: bool =
                tx.query_row("SELECT EXISTS(SELECT 1 FROM ssh_keys WHERE is_default = 1)", [], |r| r.get(0))?;
            tx.execute(
                &format!("INSERT INTO ssh_keys ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    key.id,
                    key.name,
                    key.algorithm,
                    key.public_key,
                    key.fingerprint,
                    key.comment,
                    key.has_private,
                    !has_default,
                    key.created_at
                ],
            )
            .map_err(|e| unique_error(e, key))?;
            Ok(tx.query_row(&format!("SELECT {COLS} FROM ssh_keys WHERE id = ?1"), [&key.id], from_row)?)
        })
    }

    /// All keys, oldest first.
    pub fn list_keys(&self) -> Result<Vec<SshKey>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLS} FROM ssh_keys ORDER BY created_at, rowid"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn get_key(&self, id: &str) -> Result<Option<SshKey>> {
        let conn = self.conn();
        Ok(conn.query_row(&format!("SELECT {COLS} FROM ssh_keys WHERE id = ?1"), [id], from_row).optional()?)
    }

    pub fn default_key(&self) -> Result<Option<SshKey>> {
        let conn = self.conn();
        Ok(conn.query_row(&format!("SELECT {COLS} FROM ssh_keys WHERE is_default = 1"), [], from_row).optional()?)
    }

    /// Makes `id` the one default key; false if there is no such key.
    pub fn set_default_key(&self, id: &str) -> Result<bool> {
        self.write_tx(|tx| {
            let exists: bool =
                tx.query_row("SELECT EXISTS(SELECT 1 FROM ssh_keys WHERE id = ?1)", [id], |r| r.get(0))?;
            if !exists {
                return Ok(false);
            }
            tx.execute("UPDATE ssh_keys SET is_default = 0 WHERE is_default = 1", [])?;
            tx.execute("UPDATE ssh_keys SET is_default = 1 WHERE id = ?1", [id])?;
            Ok(true)
        })
    }

    pub fn rename_key(&self, id: &str, name: &str) -> Result<bool> {
        let conn = self.conn();
        let n =
            conn.execute("UPDATE ssh_keys SET name = ?2 WHERE id = ?1", params![id, name]).map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Error::invalid("name", format!("a key named '{name}' already exists; pick another name"))
                }
                e => e.into(),
            })?;
        Ok(n > 0)
    }

    /// Deletes a key; if it was the default, the newest remaining key becomes the default.
    pub fn delete_key(&self, id: &str) -> Result<bool> {
        self.write_tx(|tx| {
            let n = tx.execute("DELETE FROM ssh_keys WHERE id = ?1", [id])?;
            tx.execute(
                "UPDATE ssh_keys SET is_default = 1
                 WHERE NOT EXISTS (SELECT 1 FROM ssh_keys WHERE is_default = 1)
                   AND id = (SELECT id FROM ssh_keys ORDER BY created_at DESC, rowid DESC LIMIT 1)",
                [],
            )?;
            Ok(n > 0)
        })
    }
}
