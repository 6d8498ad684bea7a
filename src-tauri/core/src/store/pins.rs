use super::Store;
use crate::error::Result;
use rusqlite::params;

impl Store {
    /// Pins a machine to the tray menu (pinning twice keeps the first pin's place).
    pub fn pin(&self, cloud_id: &str, machine_id: &str, now: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO pins (cloud_id, machine_id, pinned_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(cloud_id, machine_id) DO NOTHING",
            params![cloud_id, machine_id, now],
        )?;
        Ok(())
    }

    /// Unpins a machine; true if it was pinned.
    pub fn unpin(&self, cloud_id: &str, machine_id: &str) -> Result<bool> {
        let n = self
            .conn()
            .execute("DELETE FROM pins WHERE cloud_id = ?1 AND machine_id = ?2", params![cloud_id, machine_id])?;
        Ok(n > 0)
    }

    /// Every pin as (cloud id, machine id), in the order they were pinned.
    pub fn pins(&self) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT cloud_id, machine_id FROM pins ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
