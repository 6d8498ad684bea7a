use super::Store;
use crate::diff::{diff_rows, Change};
use crate::error::{ErrorBody, Result};
use crate::model::Machine;
use rusqlite::params;

impl Store {
    /// Replaces a cloud's cached machines with a fresh list and records success, atomically.
    /// Returns what changed against the previous list (nothing if the cloud is gone).
    pub fn replace_machines(&self, cloud_id: &str, machines: &[Machine], now: &str) -> Result<Vec<Change>> {
        self.write_tx(|tx| {
            // The cloud may have been removed while its refresh was in flight: then drop the result.
            let exists: bool =
                tx.query_row("SELECT EXISTS(SELECT 1 FROM clouds WHERE id = ?1)", [cloud_id], |r| r.get(0))?;
            if !exists {
                return Ok(Vec::new());
            }
            let old: Vec<(String, String)> = {
                let mut stmt = tx.prepare("SELECT id, json FROM machines WHERE cloud_id = ?1")?;
                let rows = stmt.query_map([cloud_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let fresh: Vec<Machine> = machines.iter().map(|m| Machine { stale: false, ..m.clone() }).collect();
            let new: Vec<(&Machine, String)> =
                fresh.iter().map(|m| (m, serde_json::to_string(m).expect("machine serializes"))).collect();
            tx.execute("DELETE FROM machines WHERE cloud_id = ?1", [cloud_id])?;
            {
                let mut ins =
                    tx.prepare("INSERT INTO machines (cloud_id, id, json, seen_at) VALUES (?1, ?2, ?3, ?4)")?;
                for (m, json) in &new {
                    ins.execute(params![cloud_id, m.id, json, now])?;
                }
            }
            tx.execute(
                "INSERT INTO cloud_status (cloud_id, last_ok, last_attempt, error_json) VALUES (?1, ?2, ?2, NULL)
             ON CONFLICT(cloud_id) DO UPDATE SET last_ok = ?2, last_attempt = ?2, error_json = NULL",
                params![cloud_id, now],
            )?;
            Ok(diff_rows(old, &new))
        })
    }

    /// Records a failed refresh; cached machines stay as they are.
    pub fn record_refresh_error(&self, cloud_id: &str, error: &ErrorBody, now: &str) -> Result<()> {
        let conn = self.conn();
        let json = serde_json::to_string(error).expect("error serializes");
        conn.execute(
            "INSERT INTO cloud_status (cloud_id, last_attempt, error_json)
             SELECT ?1, ?2, ?3 WHERE EXISTS(SELECT 1 FROM clouds WHERE id = ?1)
             ON CONFLICT(cloud_id) DO UPDATE SET last_attempt = ?2, error_json = ?3",
            params![cloud_id, now, json],
        )?;
        Ok(())
    }

    /// Updates (or inserts) one cached machine, e.g. after an action.
    pub fn upsert_machine(&self, m: &Machine, now: &str) -> Result<()> {
        let conn = self.conn();
        let json = serde_json::to_string(m).expect("machine serializes");
        conn.execute(
            "INSERT INTO machines (cloud_id, id, json, seen_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(cloud_id, id) DO UPDATE SET json = ?3, seen_at = ?4",
            params![m.cloud_id, m.id, json, now],
        )?;
        Ok(())
    }

    pub fn remove_machine(&self, cloud_id: &str, id: &str) -> Result<()> {
        self.conn().execute("DELETE FROM machines WHERE cloud_id = ?1 AND id = ?2", params![cloud_id, id])?;
        Ok(())
    }

    /// Cached machines, optionally of one cloud. `stale` is set for clouds whose last refresh
    /// failed.
    pub fn list_machines(&self, cloud_id: Option<&str>) -> Result<Vec<Machine>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT m.json, s.error_json IS NOT NULL FROM machines m
             JOIN clouds c ON c.id = m.cloud_id
             LEFT JOIN cloud_status s ON s.cloud_id = m.cloud_id
             WHERE (?1 IS NULL OR m.cloud_id = ?1)
             ORDER BY c.position, m.cloud_id, m.rowid",
        )?;
        let rows = stmt.query_map([cloud_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (json, stale) = row?;
            if let Ok(mut m) = serde_json::from_str::<Machine>(&json) {
                m.stale = stale;
                out.push(m);
            }
        }
        Ok(out)
    }
}
