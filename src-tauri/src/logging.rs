//! The app's troubleshooting log: `tracing` events to a daily file `skydeck.YYYY-MM-DD.log`
//! (UTC dates, as tracing-appender rolls them) in the log directory, and warnings to stderr.
//!
//! Where: `$SKYDECK_LOG_DIR` if set; else `<$SKYDECK_DATA_DIR>/logs` when the data directory is
//! overridden (tests and isolated runs keep their logs beside their data, where a test can scan
//! them); else the platform's log dir as Tauri names it (`~/.local/share/dev.skydeck.app/logs`
//! on Linux, `~/Library/Logs/dev.skydeck.app` on macOS, `%LOCALAPPDATA%\dev.skydeck.app\logs` on
//! Windows). The directory is created 0700: logs name hosts and addresses.
//!
//! How big: at most [`MAX_FILES`] daily files are kept (tracing-appender deletes the oldest at
//! startup and when it rolls over to a new day), and one day's file stops growing at
//! [`MAX_BYTES_PER_DAY`]: [`Capped`] counts what is in today's file (also what an earlier run
//! wrote today) and drops further lines, writing one line that says so. So the logs never
//! take more than `MAX_FILES × MAX_BYTES_PER_DAY` (7 × 8 MiB = 56 MiB) plus that notice.
//!
//! What: `RUST_LOG` picks the detail (default `info`). Secrets never reach a log line: they
//! travel in `skydeck_core::secrets::Sensitive`, whose Debug and Display print `<redacted>`,
//! and nothing logs a cloud's field map.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tracing_subscriber::fmt::MakeWriter;

pub const FILE_PREFIX: &str = "skydeck";
pub const FILE_SUFFIX: &str = "log";
pub const MAX_FILES: usize = 7;
pub const MAX_BYTES_PER_DAY: u64 = 8 * 1024 * 1024;

/// The log directory from the environment's overrides, else `platform`.
pub fn resolve_dir(log_dir: Option<PathBuf>, data_dir: Option<PathBuf>, platform: Option<PathBuf>) -> Option<PathBuf> {
    let nonempty = |p: PathBuf| (!p.as_os_str().is_empty()).then_some(p);
    log_dir
        .and_then(nonempty)
        .or_else(|| data_dir.and_then(nonempty).map(|d| d.join("logs")))
        .or(platform)
}

/// The platform's log dir for the app, as Tauri's `app_log_dir` names it (computed here
/// because logging starts before Tauri does).
fn platform_dir() -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        dirs::home_dir().map(|h| h.join("Library/Logs").join(skydeck_core::APP_ID))
    } else {
        dirs::data_local_dir().map(|d| d.join(skydeck_core::APP_ID).join("logs"))
    }
}

/// Where this run logs to.
pub fn log_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).map(PathBuf::from);
    resolve_dir(env("SKYDECK_LOG_DIR"), env("SKYDECK_DATA_DIR"), platform_dir())
}

/// Installs the global subscriber: the daily file in [`log_dir`] and warnings on stderr.
/// Returns the directory, or why there is no log file (the app runs without one).
pub fn init() -> Result<PathBuf, String> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{fmt, EnvFilter, Layer};
    let stderr = fmt::layer().with_writer(io::stderr).with_filter(tracing_subscriber::filter::LevelFilter::WARN);
    let file = log_dir().ok_or_else(|| "no log directory (no home directory?)".to_string()).and_then(|dir| {
        let writer = file_writer(&dir)?;
        Ok((dir, writer))
    });
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Without a file (no directory, not writable) the app still runs and warns on stderr.
    let (dir, file_layer) = match file {
        Ok((dir, writer)) => (Ok(dir), Some(fmt::layer().with_ansi(false).with_writer(writer).with_filter(filter))),
        Err(why) => (Err(why), None),
    };
    tracing_subscriber::registry().with(file_layer).with(stderr).try_init().map_err(|e| e.to_string())?;
    dir
}

/// The capped daily file appender in `dir` (created 0700 if missing).
pub fn file_writer(dir: &Path) -> Result<Capped<tracing_appender::rolling::RollingFileAppender>, String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| format!("cannot create the log directory {} ({e})", dir.display()))?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix(FILE_SUFFIX)
        .max_log_files(MAX_FILES)
        .build(dir)
        .map_err(|e| format!("cannot open a log file in {} ({e})", dir.display()))?;
    Ok(Capped::new(appender, dir.to_path_buf(), MAX_BYTES_PER_DAY))
}

/// Today's file name, as tracing-appender's daily rotation names it.
fn file_name(day: &str) -> String {
    format!("{FILE_PREFIX}.{day}.{FILE_SUFFIX}")
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// What to do with one line.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    Write,
    /// The day's budget is spent: write the notice instead, then drop.
    Notice,
    Drop,
}

/// The bytes written on one day, against the cap.
#[derive(Debug)]
pub struct Budget {
    cap: u64,
    day: String,
    used: u64,
    noticed: bool,
}

impl Budget {
    pub fn new(cap: u64) -> Self {
        Budget { cap, day: String::new(), used: 0, noticed: false }
    }

    /// Whether `len` more bytes fit on `day`; `already` says how big that day's file is when
    /// the day is new to this budget (an earlier run's lines count too).
    pub fn admit(&mut self, day: &str, len: u64, already: impl FnOnce() -> u64) -> Admit {
        if self.day != day {
            *self = Budget { cap: self.cap, day: day.to_string(), used: already(), noticed: false };
        }
        // Once the notice is written, the day is over for this log (no short lines sneaking
        // in after it, which would read as if nothing had been dropped).
        if self.noticed {
            Admit::Drop
        } else if self.used.saturating_add(len) <= self.cap {
            self.used += len;
            Admit::Write
        } else {
            self.noticed = true;
            Admit::Notice
        }
    }
}

/// A writer that stops a day's log file at a byte budget (see the module docs).
pub struct Capped<W> {
    inner: W,
    dir: PathBuf,
    budget: Mutex<Budget>,
}

impl<W> Capped<W> {
    pub fn new(inner: W, dir: PathBuf, cap: u64) -> Self {
        Capped { inner, dir, budget: Mutex::new(Budget::new(cap)) }
    }
}

pub struct CappedWriter<'a, W> {
    cap: &'a Mutex<Budget>,
    dir: &'a Path,
    inner: W,
}

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Capped<W> {
    type Writer = CappedWriter<'a, W::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        CappedWriter { cap: &self.budget, dir: &self.dir, inner: self.inner.make_writer() }
    }
}

impl<W: Write> Write for CappedWriter<'_, W> {
    /// One formatted event arrives as one write: it is written whole or dropped whole.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let day = today();
        let admit = {
            let mut budget = self.cap.lock().unwrap_or_else(|p| p.into_inner());
            let dir = self.dir;
            budget.admit(&day, buf.len() as u64, || std::fs::metadata(dir.join(file_name(&day))).map(|m| m.len()).unwrap_or(0))
        };
        match admit {
            Admit::Write => self.inner.write_all(buf)?,
            Admit::Notice => self.inner.write_all(
                format!("skydeck: today's log reached {MAX_BYTES_PER_DAY} bytes; further lines are dropped until tomorrow\n").as_bytes(),
            )?,
            Admit::Drop => {}
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_dir_follows_the_overrides_then_the_platform() {
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(resolve_dir(p("/l"), p("/d"), p("/plat")), p("/l"));
        assert_eq!(resolve_dir(None, p("/d"), p("/plat")), p("/d/logs"), "isolated runs log beside their data");
        assert_eq!(resolve_dir(p(""), p(""), p("/plat")), p("/plat"), "empty variables are unset");
        assert_eq!(resolve_dir(None, None, None), None);
    }

    #[test]
    fn a_day_stops_at_its_budget_with_one_notice_and_the_next_day_starts_afresh() {
        let mut b = Budget::new(100);
        assert_eq!(b.admit("2026-01-01", 60, || 30), Admit::Write, "an earlier run wrote 30 bytes today");
        assert_eq!(b.admit("2026-01-01", 20, || unreachable!()), Admit::Notice);
        assert_eq!(b.admit("2026-01-01", 1, || unreachable!()), Admit::Drop);
        assert_eq!(b.admit("2026-01-01", 1, || unreachable!()), Admit::Drop);
        assert_eq!(b.admit("2026-01-02", 90, || 0), Admit::Write);
    }

    #[test]
    fn events_land_in_todays_file_and_the_file_stops_growing_at_the_cap() {
        use tracing_subscriber::layer::SubscriberExt;
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let appender = file_writer(&logs).unwrap().inner;
        let writer = Capped::new(appender, logs.clone(), 4096);
        let subscriber =
            tracing_subscriber::registry().with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(writer));
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..1000 {
                tracing::info!(line = i, "refresh of 'work' took 12 ms");
            }
        });
        let path = logs.join(file_name(&today()));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(text.contains("refresh of 'work' took 12 ms") && text.contains("line=0"), "{text}");
        assert!(text.len() as u64 <= 4096 + 200, "capped: {} bytes", text.len());
        assert_eq!(text.matches("further lines are dropped").count(), 1);
        assert!(!text.contains("line=999"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&logs).unwrap().permissions().mode() & 0o777, 0o700);
        }
    }
}
