//! The main window's life: shown from the tray or a second launch, hidden to the tray on close
//! (a setting), started hidden (a setting). Whether it is visible steers the refresh pace.

use crate::live::Live;
use std::hash::{Hash, Hasher};
use tauri::{AppHandle, Manager, Runtime, Window, WindowEvent};

pub const MAIN: &str = "main";

/// Shows, unminimizes and focuses the main window.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
    if let Some(live) = app.try_state::<Live>() {
        live.set_visible(true);
    }
}

/// In setup: hide the window when the user chose to start minimized.
pub fn apply_start_minimized<R: Runtime>(app: &AppHandle<R>) {
    let minimized = app.state::<Live>().settings().start_minimized;
    if minimized {
        if let Some(w) = app.get_webview_window(MAIN) {
            let _ = w.hide();
        }
        app.state::<Live>().set_visible(false);
    }
}

pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    if window.label() != MAIN {
        return;
    }
    let Some(live) = window.app_handle().try_state::<Live>() else { return };
    match event {
        WindowEvent::CloseRequested { api, .. } if live.settings().close_to_tray => {
            api.prevent_close();
            let _ = window.hide();
            live.set_visible(false);
        }
        WindowEvent::Focused(true) => live.set_visible(true),
        WindowEvent::Resized(_) => {
            // Minimizing arrives as a resize; so does restoring.
            let hidden = window.is_minimized().unwrap_or(false) || !window.is_visible().unwrap_or(true);
            live.set_visible(!hidden);
        }
        _ => {}
    }
}

/// The single-instance id (D-Bus name on Linux): the app's identifier, plus a hash of the data
/// directory when one is chosen with SKYDECK_DATA_DIR. A second launch on the same data focuses
/// the first (two processes must not share one database); another data directory (a test, a
/// second profile) is another instance.
pub fn instance_id(app_id: &str, data_dir_override: Option<&std::ffi::OsStr>) -> String {
    match data_dir_override.filter(|d| !d.is_empty()) {
        None => app_id.to_string(),
        Some(dir) => {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            dir.hash(&mut h);
            format!("{app_id}.d{:016x}", h.finish())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::instance_id;
    use std::ffi::OsStr;

    #[test]
    fn each_data_directory_is_its_own_instance() {
        assert_eq!(instance_id("dev.skydeck.app", None), "dev.skydeck.app");
        assert_eq!(instance_id("dev.skydeck.app", Some(OsStr::new(""))), "dev.skydeck.app");
        let a = instance_id("dev.skydeck.app", Some(OsStr::new("/tmp/a")));
        assert_eq!(a, instance_id("dev.skydeck.app", Some(OsStr::new("/tmp/a"))));
        assert_ne!(a, instance_id("dev.skydeck.app", Some(OsStr::new("/tmp/b"))));
        // A valid D-Bus name: elements start with a letter, only [A-Za-z0-9_].
        assert!(a.split('.').all(|e| e.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')), "{a}");
    }
}
