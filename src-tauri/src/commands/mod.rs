//! The app's `#[tauri::command]`s, one module per domain. Each one is a thin call into the core.
//! All are async so none of them runs on (and blocks) the UI thread; those that touch the
//! keychain rely on the core running keychain calls on the blocking pool under a timeout.

pub mod clouds;
pub mod machines;
pub mod providers;

use tauri::ipc::Invoke;
use tauri::Runtime;

/// The invoke handler with every command. Keep in step with src-tauri/permissions/commands.toml.
pub fn handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        providers::list_providers,
        clouds::test_connection,
        clouds::add_cloud,
        clouds::list_clouds,
        clouds::update_cloud,
        clouds::remove_cloud,
        machines::list_machines,
        machines::refresh,
        machines::machine_action,
        machines::rename,
        machines::set_tags,
    ]
}
