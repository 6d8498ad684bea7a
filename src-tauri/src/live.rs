//! The app side of live refresh: starts the core's background refresher
//! ([`skydeck_core::live`]) and fans each refresh out to the window (an `inventory-changed`
//! event with the changes and the cloud's status), the tray menu and notifications.
//!
//! `SKYDECK_LIVE_LOG=<file>` appends one JSON line per refresh (time, cloud, error, number of
//! changes, the scheduler's next interval), to measure the pace a real run keeps.

use crate::notify;
use crate::settings::{self, Settings};
use crate::state::AppState;
use serde::Serialize;
use skydeck_core::live::{self as core_live, LiveHandle, Refreshed};
use skydeck_core::model::CloudView;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// The event the window applies incrementally.
pub const INVENTORY_CHANGED: &str = "inventory-changed";
/// A machine the app acted on outside the window (the tray): the window upserts it.
pub const MACHINE_UPDATED: &str = "machine-updated";

/// How long after an action from Skydeck a state change counts as its result, not as a change
/// "on its own".
pub const ACTION_MEMORY: Duration = Duration::from_secs(300);

#[derive(Serialize, Clone)]
pub struct InventoryChanged<'a> {
    #[serde(flatten)]
    pub refreshed: &'a Refreshed,
    /// The cloud with its refresh status after this refresh (for the sidebar and the banner).
    pub cloud: Option<CloudView>,
}

/// Managed state: the refresher's handle (once started) and what notifications need to
/// remember between refreshes.
#[derive(Default)]
pub struct Live {
    handle: OnceLock<LiveHandle>,
    pub settings: Mutex<Settings>,
    /// `<cloud>/<machine>` → when Skydeck last acted on it.
    recent_actions: Mutex<HashMap<String, Instant>>,
    /// Clouds whose credentials are known not to work (notified once until they work again).
    auth_failed: Mutex<HashSet<String>>,
    /// Called when the inventory or the pins changed outside a refresh (the tray rebuilds).
    on_change: OnceLock<Box<dyn Fn() + Send + Sync>>,
    log: Option<Mutex<std::fs::File>>,
    started: OnceLock<Instant>,
}

impl Live {
    fn new(settings: Settings) -> Self {
        let log = std::env::var_os("SKYDECK_LIVE_LOG").and_then(|p| {
            std::fs::OpenOptions::new().create(true).append(true).open(&p).map(Mutex::new).ok()
        });
        Live { settings: Mutex::new(settings), log, ..Default::default() }
    }

    /// Every enabled cloud now (a cloud added by any path is picked up first).
    pub fn refresh_now(&self) {
        if let Some(h) = self.handle.get() {
            h.clouds_changed();
            h.refresh_now();
        }
    }

    pub fn set_visible(&self, visible: bool) {
        if let Some(h) = self.handle.get() {
            h.set_visible(visible);
        }
    }

    /// A cloud was added, removed, enabled or disabled.
    pub fn clouds_changed(&self) {
        if let Some(h) = self.handle.get() {
            h.clouds_changed();
        }
        self.changed();
    }

    /// The inventory or the pins changed outside a refresh.
    pub fn changed(&self) {
        if let Some(f) = self.on_change.get() {
            f();
        }
    }

    /// The user acts on a machine (`<cloud>/<machine>`): remember it, and follow its cloud closely.
    pub fn action_started(&self, machine_key: &str) {
        self.recent_actions.lock().unwrap().insert(machine_key.to_string(), Instant::now());
    }

    pub fn action_finished(&self, cloud_id: &str, machine_key: &str) {
        self.recent_actions.lock().unwrap().insert(machine_key.to_string(), Instant::now());
        if let Some(h) = self.handle.get() {
            h.poke(cloud_id);
        }
        self.changed();
    }

    pub fn apply_settings(&self, s: Settings) {
        let (fast, slow) = settings::env_overrides();
        if let Some(h) = self.handle.get() {
            h.set_config(s.scheduler_config(fast, slow));
        }
        *self.settings.lock().unwrap() = s;
    }

    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap().clone()
    }

    /// Machines acted on within [`ACTION_MEMORY`].
    pub fn recently_acted(&self) -> HashSet<String> {
        let mut recent = self.recent_actions.lock().unwrap();
        recent.retain(|_, t| t.elapsed() < ACTION_MEMORY);
        recent.keys().cloned().collect()
    }

    /// Records whether `cloud_id`'s credentials work; true the first time they stop working.
    pub fn credentials_failed(&self, cloud_id: &str, failed: bool) -> bool {
        let mut set = self.auth_failed.lock().unwrap();
        if failed {
            set.insert(cloud_id.to_string())
        } else {
            set.remove(cloud_id);
            false
        }
    }

    fn log(&self, r: &Refreshed) {
        let Some(f) = &self.log else { return };
        let t = self.started.get_or_init(Instant::now).elapsed().as_millis() as u64;
        let line = serde_json::json!({
            "t_ms": t,
            "at": skydeck_core::now_rfc3339(),
            "cloud": r.outcome.title,
            "error": r.outcome.error.as_ref().map(|e| e.code.clone()),
            "transitioning": r.outcome.transitioning,
            "changes": r.outcome.changes.len(),
            "elapsed_ms": r.outcome.elapsed_ms,
            "next_refresh_ms": r.next_refresh_ms,
        });
        let _ = writeln!(f.lock().unwrap(), "{line}");
    }
}

/// Puts the (not yet started) live state under management, with the saved settings once the
/// store plugin can read them.
pub fn manage<R: Runtime>(app: &AppHandle<R>) {
    let live = Live::new(settings::load(app));
    let _ = live.started.set(Instant::now());
    app.manage(live);
}

/// Starts the background refresher (in setup): every enabled cloud is refreshed at once, then
/// on its own timetable.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let live = app.state::<Live>();
    let deck = app.state::<AppState>().skydeck.clone();
    let (fast, slow) = settings::env_overrides();
    let cfg = live.settings().scheduler_config(fast, slow);
    tracing::info!(?cfg, "live refresh starts");
    let handle = app.clone();
    // live::spawn needs to run inside the tokio runtime tauri drives.
    let rt = tauri::async_runtime::handle();
    let _guard = rt.inner().enter();
    let h = core_live::spawn(deck, cfg, move |r| on_refresh(&handle, r));
    let _ = live.handle.set(h);
    let app2 = app.clone();
    let _ = live.on_change.set(Box::new(move || crate::tray::refresh(&app2)));
}

fn on_refresh<R: Runtime>(app: &AppHandle<R>, r: Refreshed) {
    let live = app.state::<Live>();
    live.log(&r);
    let deck = app.state::<AppState>().skydeck.clone();
    let cloud = deck.list_clouds().ok().and_then(|cs| cs.into_iter().find(|c| c.cloud.id == r.outcome.cloud_id));
    if let Err(e) = app.emit(INVENTORY_CHANGED, InventoryChanged { refreshed: &r, cloud }) {
        tracing::warn!("cannot send the refresh to the window: {e}");
    }
    notify::after_refresh(app, &live, &r);
    crate::tray::refresh(app);
}
