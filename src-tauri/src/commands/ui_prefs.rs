//! UI preferences for the window (columns, sort, chips, sidebar width): one fixed file, an
//! allowlist of keys, checked values. See [`crate::ui_prefs`] for why the webview has no store
//! permission of its own.

use crate::error::{ipc, CmdResult};
use crate::ui_prefs;
use serde_json::{Map, Value};
use tauri::{AppHandle, Runtime};

/// Every saved preference the UI may read.
#[tauri::command(rename_all = "snake_case")]
pub async fn get_ui_prefs<R: Runtime>(app: AppHandle<R>) -> CmdResult<Map<String, Value>> {
    Ok(ui_prefs::load(&app))
}

/// Saves one preference; an unknown key or a malformed value is an `invalid_input`.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_ui_pref<R: Runtime>(app: AppHandle<R>, key: String, value: Value) -> CmdResult<()> {
    ipc(ui_prefs::set(&app, &key, value))
}
