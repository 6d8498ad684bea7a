//! Versioned schema migrations. Each entry runs once, in order, in one exclusive transaction; the
//! version lives in `PRAGMA user_version`. Never edit a shipped migration: append a new one.

use crate::error::{Error, Result};
use rusqlite::{Connection, TransactionBehavior};

const MIGRATIONS: &[&str] = &[
    // 1: clouds, machines cache, refresh status.
    r#"
    CREATE TABLE clouds (
        id          TEXT PRIMARY KEY,
        provider    TEXT NOT NULL,
        title       TEXT NOT NULL UNIQUE,
        enabled     INTEGER NOT NULL DEFAULT 1,
        fields_json TEXT NOT NULL DEFAULT '{}',
        created_at  TEXT NOT NULL,
        position    INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE machines (
        cloud_id    TEXT NOT NULL REFERENCES clouds(id) ON DELETE CASCADE,
        id          TEXT NOT NULL,
        json        TEXT NOT NULL,
        seen_at     TEXT NOT NULL,
        PRIMARY KEY (cloud_id, id)
    );
    CREATE TABLE cloud_status (
        cloud_id      TEXT PRIMARY KEY REFERENCES clouds(id) ON DELETE CASCADE,
        last_ok       TEXT,
        last_attempt  TEXT,
        error_json    TEXT
    );
    "#,
    // 2: SSH keys (public part and metadata only; private keys live in the keychain), the
    // catalog cache (locations/sizes/images per cloud, freshness from fetched_at and the
    // configured TTL) and the activity log (kept when its cloud is removed).
    r#"
    CREATE TABLE ssh_keys (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        algorithm   TEXT NOT NULL,
        public_key  TEXT NOT NULL,
        fingerprint TEXT NOT NULL UNIQUE,
        comment     TEXT NOT NULL DEFAULT '',
        has_private INTEGER NOT NULL,
        is_default  INTEGER NOT NULL DEFAULT 0,
        created_at  TEXT NOT NULL
    );
    CREATE UNIQUE INDEX ssh_keys_one_default ON ssh_keys(is_default) WHERE is_default = 1;
    CREATE TABLE catalog_cache (
        cloud_id    TEXT NOT NULL REFERENCES clouds(id) ON DELETE CASCADE,
        kind        TEXT NOT NULL,
        json        TEXT NOT NULL,
        fetched_at  TEXT NOT NULL,
        PRIMARY KEY (cloud_id, kind)
    );
    CREATE TABLE activity (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        at            TEXT NOT NULL,
        cloud_id      TEXT NOT NULL,
        cloud_title   TEXT NOT NULL,
        machine_id    TEXT,
        machine_name  TEXT,
        action        TEXT NOT NULL,
        detail        TEXT,
        ok            INTEGER NOT NULL,
        error_code    TEXT,
        error_message TEXT
    );
    CREATE INDEX activity_cloud ON activity(cloud_id, id);
    "#,
    // 3: machines pinned to the tray menu, in the order they were pinned. A pin goes with its
    // cloud; a pin of a machine that no longer exists is kept (the tray skips it) so that a
    // machine re-created under the same id comes back pinned.
    r#"
    CREATE TABLE pins (
        cloud_id    TEXT NOT NULL REFERENCES clouds(id) ON DELETE CASCADE,
        machine_id  TEXT NOT NULL,
        pinned_at   TEXT NOT NULL,
        PRIMARY KEY (cloud_id, machine_id)
    );
    "#,
    // 4: SSH host keys trusted per machine (`machine:<cloud>/<id>`) or per plain target
    // (`host:<host>:<port>`): the public key only. Not tied to the clouds table: a key learned
    // for a plain `user@host` has no cloud, and a machine's key outlives a cache refresh.
    r#"
    CREATE TABLE ssh_host_keys (
        scope       TEXT PRIMARY KEY,
        host        TEXT NOT NULL,
        port        INTEGER NOT NULL,
        public_key  TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        trusted_at  TEXT NOT NULL
    );
    "#,
];

/// Brings the schema up to date. Several processes may open a fresh data directory at once
/// (the window and the CLI): the version is read again under an exclusive lock and the
/// pending migrations run in that one transaction, so exactly one process migrates and the
/// others find the work done ("table clouds already exists" before).
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let latest = MIGRATIONS.len() as i64;
    // Fast path without a write lock: an up-to-date database (every open but the first).
    let seen: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    check_not_newer(seen, latest)?;
    if seen == latest {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    check_not_newer(current, latest)?;
    for sql in MIGRATIONS.iter().skip(current as usize) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", latest)?;
    tx.commit()?;
    Ok(())
}

fn check_not_newer(current: i64, latest: i64) -> Result<()> {
    if current > latest {
        return Err(Error::Storage(format!(
            "the database was written by a newer Skydeck (schema {current}, this one knows {latest}). Update Skydeck."
        )));
    }
    Ok(())
}
