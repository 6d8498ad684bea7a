use super::Store;
use crate::error::{Error, Result};
use crate::model::{Cloud, CloudStatus};
use rusqlite::{params, OptionalExtension, Row};

fn cloud_from_row(r: &Row) -> rusqlite::Result<Cloud> {
    let fields: String = r.get(4)?;
    Ok(Cloud {
        id: r.get(0)?,
        provider: r.get(1)?,
        title: r.get(2)?,
        enabled: r.get(3)?,
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        created_at: r.get(5)?,
    })
}

/// Only a UNIQUE violation means "title taken"; other constraint failures are storage errors.
fn is_unique_violation(e: &rusqlite::ffi::Error) -> bool {
    e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
}

const CLOUD_COLS: &str = "id, provider, title, enabled, fields_json, created_at";

impl Store {
    /// Inserts a cloud. `fields` must already be free of secrets (the service strips them).
    pub fn insert_cloud(&self, cloud: &Cloud) -> Result<()> {
        let conn = self.conn();
        let fields = serde_json::to_string(&cloud.fields).expect("string map serializes");
        conn.execute(
            "INSERT INTO clouds (id, provider, title, enabled, fields_json, created_at, position)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT COALESCE(MAX(position), 0) + 1 FROM clouds))",
            params![cloud.id, cloud.provider, cloud.title, cloud.enabled, fields, cloud.created_at],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if is_unique_violation(&f) => {
                Error::invalid("title", format!("a cloud titled '{}' already exists; pick another title", cloud.title))
            }
            e => e.into(),
        })?;
        Ok(())
    }

    pub fn list_clouds(&self) -> Result<Vec<Cloud>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {CLOUD_COLS} FROM clouds ORDER BY position, title"))?;
        let rows = stmt.query_map([], cloud_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn get_cloud(&self, id: &str) -> Result<Option<Cloud>> {
        let conn = self.conn();
        Ok(conn
            .query_row(&format!("SELECT {CLOUD_COLS} FROM clouds WHERE id = ?1"), [id], cloud_from_row)
            .optional()?)
    }

    /// Changes title and/or enabled; returns false if no such cloud.
    pub fn update_cloud(&self, id: &str, title: Option<&str>, enabled: Option<bool>) -> Result<bool> {
        let conn = self.conn();
        let n = conn
            .execute(
                "UPDATE clouds SET title = COALESCE(?2, title), enabled = COALESCE(?3, enabled) WHERE id = ?1",
                params![id, title, enabled],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if is_unique_violation(&f) => {
                    Error::invalid("title", "another cloud already has this title; pick another one")
                }
                e => e.into(),
            })?;
        Ok(n > 0)
    }

    /// Deletes a cloud with its cached machines and status (one transaction).
    pub fn delete_cloud(&self, id: &str) -> Result<bool> {
        self.write_tx(|tx| {
            tx.execute("DELETE FROM machines WHERE cloud_id = ?1", [id])?;
            tx.execute("DELETE FROM cloud_status WHERE cloud_id = ?1", [id])?;
            let n = tx.execute("DELETE FROM clouds WHERE id = ?1", [id])?;
            Ok(n > 0)
        })
    }

    pub fn cloud_status(&self, id: &str) -> Result<CloudStatus> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT last_ok, last_attempt, error_json,
                        (SELECT COUNT(*) FROM machines WHERE cloud_id = ?1)
                 FROM cloud_status WHERE cloud_id = ?1",
                [id],
                |r| {
                    Ok(CloudStatus {
                        last_ok: r.get(0)?,
                        last_attempt: r.get(1)?,
                        error: r.get::<_, Option<String>>(2)?.and_then(|j| serde_json::from_str(&j).ok()),
                        machine_count: r.get::<_, i64>(3)? as usize,
                    })
                },
            )
            .optional()?;
        Ok(row.unwrap_or_default())
    }
}
