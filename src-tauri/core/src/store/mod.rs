//! The local SQLite store: clouds (non-secret fields only), the machines cache and each
//! cloud's refresh status. WAL mode, versioned migrations (`PRAGMA user_version`), every
//! multi-row write in one transaction so a crash never leaves half a cloud.

mod activity;
mod catalog;
mod clouds;
mod host_keys;
mod keys;
mod machines;
mod migrations;
mod pins;
mod owner_only;

pub use host_keys::KnownHostKey;

use crate::error::{Error, Result};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long a statement waits for another process's lock (the window and the CLI share the
/// file) before failing with "database is locked". Writes are short, so this is generous.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A cheap-to-clone handle on the database. Calls are blocking (they may wait up to
/// [`BUSY_TIMEOUT`] for another process): async code runs them through `Skydeck::db`, on the
/// blocking pool.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// The window and the CLI open the same file, often at the same moment, so: the busy
    /// timeout is set before anything else touches the file (every later step may meet another
    /// process's lock), and migrations run under an exclusive lock (see [`migrations`]).
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            owner_only::create_dir(dir).map_err(|e| {
                Error::Storage(format!("cannot create the data directory {} ({e}). Check its permissions or set SKYDECK_DATA_DIR.", dir.display()))
            })?;
        }
        owner_only::create_db_file(path).map_err(|e| {
            Error::Storage(format!("cannot create the database {} ({e}). Check the data directory's permissions.", path.display()))
        })?;
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate(&mut conn)?;
        // SQLite gives the -wal and -shm files the database's mode; files left by an older
        // Skydeck (0644) are tightened here.
        owner_only::restrict_db_files(path);
        Ok(Store { conn: Arc::new(Mutex::new(conn)), path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so a
    /// read-then-write never fails half-way with "database is locked" when another process
    /// wrote in between (a deferred transaction cannot upgrade its read snapshot in WAL mode);
    /// it waits for the lock instead (busy timeout).
    fn write_tx<T>(&self, f: impl FnOnce(&rusqlite::Transaction) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The schema version after migrations.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn().pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn().query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// The default data directory: `$SKYDECK_DATA_DIR`, else the platform's app-data dir.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SKYDECK_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join(crate::APP_ID)
}
