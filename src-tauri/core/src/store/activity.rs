//! The `activity` table: an append-only log, newest first when read. Not tied to the clouds
//! table, so the history of a removed cloud stays readable.

use super::Store;
use crate::activity::{ActivityEntry, ActivityResult};
use crate::error::{ErrorBody, Result};
use rusqlite::{params, Row};

fn from_row(r: &Row) -> rusqlite::Result<ActivityEntry> {
    let ok: bool = r.get(8)?;
    let code: Option<String> = r.get(9)?;
    let message: Option<String> = r.get(10)?;
    Ok(ActivityEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        cloud_id: r.get(2)?,
        cloud_title: r.get(3)?,
        machine_id: r.get(4)?,
        machine_name: r.get(5)?,
        action: r.get(6)?,
        detail: r.get(7)?,
        result: if ok { ActivityResult::Ok } else { ActivityResult::Error },
        error: code.map(|code| ErrorBody { code, message: message.unwrap_or_default(), field: None }),
    })
}

impl Store {
    /// Appends one entry (its `id` is ignored) and returns the stored id.
    pub fn insert_activity(&self, e: &ActivityEntry) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO activity (at, cloud_id, cloud_title, machine_id, machine_name, action, detail, ok, error_code, error_message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                e.at,
                e.cloud_id,
                e.cloud_title,
                e.machine_id,
                e.machine_name,
                e.action,
                e.detail,
                e.result == ActivityResult::Ok,
                e.error.as_ref().map(|b| b.code.as_str()),
                e.error.as_ref().map(|b| b.message.as_str()),
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// The newest `limit` entries, optionally of one cloud.
    pub fn list_activity(&self, limit: usize, cloud_id: Option<&str>) -> Result<Vec<ActivityEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, at, cloud_id, cloud_title, machine_id, machine_name, action, detail, ok, error_code, error_message
             FROM activity WHERE (?1 IS NULL OR cloud_id = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![cloud_id, limit.min(i64::MAX as usize) as i64], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
