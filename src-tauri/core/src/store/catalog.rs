//! The `catalog_cache` table: one JSON list per (cloud, kind) with the time it was fetched.
//! Rows go with their cloud (ON DELETE CASCADE).

use super::Store;
use crate::error::Result;
use rusqlite::{params, OptionalExtension};

impl Store {
    /// The cached JSON of `kind` for a cloud and when it was fetched (RFC 3339).
    pub fn get_catalog(&self, cloud_id: &str, kind: &str) -> Result<Option<(String, String)>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT json, fetched_at FROM catalog_cache WHERE cloud_id = ?1 AND kind = ?2",
                params![cloud_id, kind],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Replaces the cached list; does nothing if the cloud was removed meanwhile.
    pub fn put_catalog(&self, cloud_id: &str, kind: &str, json: &str, fetched_at: &str) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO catalog_cache (cloud_id, kind, json, fetched_at)
             SELECT ?1, ?2, ?3, ?4 WHERE EXISTS(SELECT 1 FROM clouds WHERE id = ?1)
             ON CONFLICT(cloud_id, kind) DO UPDATE SET json = ?3, fetched_at = ?4",
            params![cloud_id, kind, json, fetched_at],
        )?;
        Ok(())
    }
}
