//! Versioned schema migrations. Each entry runs once, in order, in its own transaction; the
//! version lives in `PRAGMA user_version`. Never edit a shipped migration: append a new one.

use crate::error::{Error, Result};
use rusqlite::Connection;

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
];

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let latest = MIGRATIONS.len() as i64;
    if current > latest {
        return Err(Error::Storage(format!(
            "the database was written by a newer Skydeck (schema {current}, this one knows {latest}). Update Skydeck."
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
