//! Skydeck's desktop shell: a thin Tauri layer over `skydeck-core`. The window's UI lives in
//! ui/ (plain HTML/CSS/ES modules); everything it shows comes through the commands in
//! [`commands`].

pub mod commands;
pub mod error;
pub mod live;
pub mod logging;
pub mod notify;
pub mod settings;
pub mod state;
pub mod tray;
pub mod ui_prefs;
pub mod window;

pub use state::AppState;
use tauri::{Builder, Runtime};

/// Starts the app with the store in the default data directory (`$SKYDECK_DATA_DIR` or the
/// platform's app-data dir) and secrets in the OS keychain.
pub fn run() {
    let log_dir = logging::init();
    let data_dir = skydeck_core::store::default_data_dir();
    match &log_dir {
        Ok(dir) => tracing::info!(version = env!("CARGO_PKG_VERSION"), data_dir = %data_dir.display(), log_dir = %dir.display(), "Skydeck starts"),
        Err(why) => eprintln!("Skydeck: no log file ({why}); starting without one"),
    }
    let state = match AppState::open(&data_dir) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot open the data directory: {e}");
            eprintln!("Skydeck cannot start: {e}");
            std::process::exit(1);
        }
    };
    let builder = Builder::default();
    // Desktop only, and only in the real app (not in mock-runtime tests): a second launch
    // focuses the first; the window's size and position are remembered (not whether it is
    // shown: the "start minimized" setting decides that).
    #[cfg(desktop)]
    let builder = {
        use tauri_plugin_window_state::StateFlags;
        builder
            .plugin(
                tauri_plugin_single_instance::Builder::new()
                    .dbus_id(window::instance_id(skydeck_core::APP_ID, std::env::var_os("SKYDECK_DATA_DIR").as_deref()))
                    .callback(|app, _args, _cwd| window::show_main(app))
                    .build(),
            )
            .plugin(
                tauri_plugin_window_state::Builder::default()
                    .with_state_flags(StateFlags::all() - StateFlags::VISIBLE)
                    .build(),
            )
    };
    run_app(builder, state)
        .build(tauri::generate_context!())
        .expect("Skydeck's window could not be started (is a display available?)")
        .run(|_app, _event| {
            // The tray icon needs the real event loop: created once it runs.
            #[cfg(desktop)]
            if let tauri::RunEvent::Ready = _event {
                if let Err(e) = tray::create(_app) {
                    tracing::warn!("no tray icon ({e}); the window works without it");
                }
            }
        });
}

/// Registers plugins, state and commands on a builder of any runtime (the real one in
/// [`run`], `tauri::test`'s mock runtime in tests).
pub fn run_app<R: Runtime>(builder: Builder<R>, state: AppState) -> Builder<R> {
    builder
        .plugin(tauri_plugin_store::Builder::default().build())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        // Only Rust opens it (the private-key export); the UI has no dialog permission.
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .manage(tray::TrayState::default())
        .setup(|app| {
            // Live refresh (the first paint uses the cache; this refreshes behind it), then
            // the window as the settings want it. The tray icon is made in `run`.
            live::manage(app.handle());
            live::start(app.handle());
            window::apply_start_minimized(app.handle());
            Ok(())
        })
        .on_window_event(window::on_window_event)
        .invoke_handler(commands::handler())
}
