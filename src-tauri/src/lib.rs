//! Skydeck's desktop shell: a thin Tauri layer over `skydeck-core`. The window's UI lives in
//! ui/ (plain HTML/CSS/ES modules); everything it shows comes through the commands in
//! [`commands`].

pub mod commands;
pub mod error;
pub mod state;

pub use state::AppState;
use tauri::{Builder, Runtime};

/// Starts the app with the store in the default data directory (`$SKYDECK_DATA_DIR` or the
/// platform's app-data dir) and secrets in the OS keychain.
pub fn run() {
    let data_dir = skydeck_core::store::default_data_dir();
    let state = match AppState::open(&data_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Skydeck cannot start: {e}");
            std::process::exit(1);
        }
    };
    run_app(Builder::default(), state)
        .run(tauri::generate_context!())
        .expect("Skydeck's window could not be started (is a display available?)");
}

/// Registers plugins, state and commands on a builder of any runtime (the real one in
/// [`run`], `tauri::test`'s mock runtime in tests).
pub fn run_app<R: Runtime>(builder: Builder<R>, state: AppState) -> Builder<R> {
    builder
        .plugin(tauri_plugin_store::Builder::default().build())
        .plugin(tauri_plugin_clipboard_manager::init())
        .manage(state)
        .setup(|_app| {
            // The tray (a later issue) is set up here, desktop only.
            #[cfg(desktop)]
            {}
            Ok(())
        })
        .invoke_handler(commands::handler())
}
