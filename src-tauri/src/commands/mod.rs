//! The app's `#[tauri::command]`s, one module per domain. Each one is a thin call into the core.
//! All are async so none of them runs on (and blocks) the UI thread; those that touch the
//! keychain rely on the core running keychain calls on the blocking pool under a timeout.

pub mod activity;
pub mod catalog;
pub mod clouds;
pub mod create;
pub mod keys;
pub mod local_hosts;
pub mod live;
pub mod machines;
pub mod pins;
pub mod providers;
pub mod settings;
pub mod ui_prefs;

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
        local_hosts::detect_local_hosts,
        local_hosts::add_detected_host,
        machines::list_machines,
        machines::refresh,
        machines::machine_action,
        machines::rename,
        machines::set_tags,
        live::refresh_now,
        pins::list_pins,
        pins::pin_machine,
        pins::unpin_machine,
        settings::get_settings,
        settings::save_settings,
        ui_prefs::get_ui_prefs,
        ui_prefs::set_ui_pref,
        keys::list_keys,
        keys::generate_key,
        keys::import_key,
        keys::set_default_key,
        keys::rename_key,
        keys::delete_key,
        keys::export_private_key,
        catalog::catalog,
        create::check_create,
        create::create_machine,
        create::wait_running,
        activity::activity,
    ]
}
