//! The user's settings (refresh pace, notifications, window behaviour), kept with
//! tauri-plugin-store in `settings.json` of the app's config dir. Never secrets.
//!
//! Two environment variables override the refresh pace at startup, for tests and for people
//! who want a different pace than the settings view offers:
//! - `SKYDECK_FAST_INTERVAL_MS`: the fast interval (default 5000) while a machine is
//!   transitioning or after an action;
//! - `SKYDECK_SLOW_INTERVAL_MS`: the idle interval, replacing the "Refresh every" setting.

use serde::{Deserialize, Serialize};
use skydeck_core::scheduler::SchedulerConfig;
use skydeck_core::Error;
use std::time::Duration;
use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;

pub const STORE_FILE: &str = "settings.json";
const KEY: &str = "settings";

/// What to do while the window is hidden (closed to the tray or minimized).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenHidden {
    /// Refresh five times less often.
    Slow,
    /// Do not refresh until the window is shown again (transitioning machines are still followed).
    Pause,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The idle refresh interval in seconds.
    pub slow_interval_secs: u64,
    pub when_hidden: WhenHidden,
    /// Desktop notifications at all.
    pub notifications: bool,
    /// Also when a machine changes state on its own (not after an action from Skydeck).
    pub notify_external_changes: bool,
    /// Closing the window hides it; the tray's Quit ends the app.
    pub close_to_tray: bool,
    /// Start with the window hidden (only the tray).
    pub start_minimized: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            slow_interval_secs: 60,
            when_hidden: WhenHidden::Slow,
            notifications: true,
            notify_external_changes: false,
            close_to_tray: false,
            start_minimized: false,
        }
    }
}

pub const MIN_SLOW_SECS: u64 = 15;
pub const MAX_SLOW_SECS: u64 = 3600;

impl Settings {
    pub fn validate(&self) -> skydeck_core::Result<()> {
        if !(MIN_SLOW_SECS..=MAX_SLOW_SECS).contains(&self.slow_interval_secs) {
            return Err(Error::invalid(
                "slow_interval_secs",
                format!("the refresh interval must be between {MIN_SLOW_SECS} s and {} min", MAX_SLOW_SECS / 60),
            ));
        }
        Ok(())
    }

    /// The scheduler's configuration from these settings and the environment overrides.
    pub fn scheduler_config(&self, fast_ms: Option<u64>, slow_ms: Option<u64>) -> SchedulerConfig {
        let d = SchedulerConfig::default();
        let fast = fast_ms.map(Duration::from_millis).unwrap_or(d.fast);
        let slow = slow_ms.map(Duration::from_millis).unwrap_or(Duration::from_secs(self.slow_interval_secs));
        SchedulerConfig {
            fast,
            slow: slow.max(fast),
            hidden_factor: match self.when_hidden {
                WhenHidden::Slow => Some(5),
                WhenHidden::Pause => None,
            },
            // With a shortened pace (tests), errors are retried on that scale too.
            backoff_base: d.backoff_base.min(slow.max(fast)),
            ..d
        }
    }
}

/// `SKYDECK_FAST_INTERVAL_MS` and `SKYDECK_SLOW_INTERVAL_MS`, if set to a number.
pub fn env_overrides() -> (Option<u64>, Option<u64>) {
    let read = |k: &str| std::env::var(k).ok().and_then(|v| v.trim().parse::<u64>().ok()).filter(|v| *v > 0);
    (read("SKYDECK_FAST_INTERVAL_MS"), read("SKYDECK_SLOW_INTERVAL_MS"))
}

/// The saved settings, or the defaults (also when the file is unreadable: a broken settings
/// file must not keep the app from starting).
pub fn load<R: Runtime>(app: &AppHandle<R>) -> Settings {
    match app.store(STORE_FILE) {
        Ok(store) => store
            .get(KEY)
            .and_then(|v| serde_json::from_value::<Settings>(v).ok())
            .unwrap_or_default(),
        Err(e) => {
            tracing::warn!("settings unavailable, using defaults: {e}");
            Settings::default()
        }
    }
}

pub fn save<R: Runtime>(app: &AppHandle<R>, s: &Settings) -> skydeck_core::Result<()> {
    s.validate()?;
    let store = app
        .store(STORE_FILE)
        .map_err(|e| Error::Storage(format!("cannot open the settings file ({e}); check the config directory's permissions")))?;
    store.set(KEY, serde_json::to_value(s).expect("settings serialize"));
    store
        .save()
        .map_err(|e| Error::Storage(format!("cannot save the settings ({e}); check the config directory's permissions")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_a_scheduler_config_and_env_overrides_win() {
        let mut s = Settings::default();
        let c = s.scheduler_config(None, None);
        assert_eq!((c.fast, c.slow, c.hidden_factor), (Duration::from_secs(5), Duration::from_secs(60), Some(5)));
        s.slow_interval_secs = 300;
        s.when_hidden = WhenHidden::Pause;
        let c = s.scheduler_config(None, None);
        assert_eq!((c.slow, c.hidden_factor), (Duration::from_secs(300), None));
        let c = s.scheduler_config(Some(500), Some(2000));
        assert_eq!((c.fast, c.slow), (Duration::from_millis(500), Duration::from_millis(2000)));
        assert_eq!(c.backoff_base, Duration::from_millis(2000), "backoff on the shortened scale");
        // A slow interval below the fast one is raised to it.
        assert_eq!(s.scheduler_config(Some(3000), Some(1000)).slow, Duration::from_millis(3000));
    }

    #[test]
    fn intervals_out_of_range_are_refused_with_the_field() {
        let s = Settings { slow_interval_secs: 1, ..Default::default() };
        let e = skydeck_core::ErrorBody::from(s.validate().unwrap_err());
        assert_eq!(e.field.as_deref(), Some("slow_interval_secs"));
        assert!(Settings::default().validate().is_ok());
        // Old or partial files load with defaults for what is missing.
        let partial: Settings = serde_json::from_value(serde_json::json!({"notifications": false})).unwrap();
        assert_eq!(partial, Settings { notifications: false, ..Default::default() });
    }
}
