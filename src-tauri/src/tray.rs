//! The tray icon and its menu. The menu is drawn from the core's pure
//! [`skydeck_core::tray::tray_model`] (inventory + pins + allowed actions) and rebuilt whenever
//! that model changes; every click goes through [`TrayCommand::parse`] of the item id into
//! [`handle`], the one function tests call too.

use crate::live::{Live, MACHINE_UPDATED};
use crate::state::AppState;
use crate::window;
use skydeck_core::tray::{machine_ip, ssh_command, TrayCommand, TrayModel};
use skydeck_core::ErrorBody;
use std::sync::Mutex;
use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Emitter, Manager, Runtime};

pub const TRAY_ID: &str = "skydeck";
/// Asks the window to open the create-machine wizard.
pub const OPEN_WIZARD: &str = "open-wizard";

/// Ids of the fixed items that are not commands.
pub const SUMMARY_ID: &str = "summary";
pub const PINNED_HEADER_ID: &str = "pinned";
pub const NO_PINS_ID: &str = "no-pins";

/// The last model drawn, so an unchanged inventory does not rebuild the menu.
#[derive(Default)]
pub struct TrayState(Mutex<Option<TrayModel>>);

/// The id of a pinned machine's submenu (not a command: opening it does nothing).
pub fn pin_submenu_id(cloud_id: &str, id: &str) -> String {
    format!("pin|{cloud_id}|{id}")
}

/// The native menu for a model.
pub fn build_menu<R: Runtime, M: Manager<R>>(m: &M, model: &TrayModel) -> tauri::Result<Menu<R>> {
    let item = |cmd: TrayCommand, label: &str| MenuItem::with_id(m, cmd.id(), label, true, None::<&str>);
    let summary = MenuItem::with_id(m, SUMMARY_ID, &model.summary, false, None::<&str>)?;
    let open = item(TrayCommand::Open, "Open Skydeck")?;
    let refresh = item(TrayCommand::RefreshNow, "Refresh now")?;
    let new_machine = item(TrayCommand::NewMachine, "New machine…")?;
    let quit = item(TrayCommand::Quit, "Quit Skydeck")?;
    let mut pinned: Vec<Box<dyn IsMenuItem<R>>> = Vec::new();
    if model.pinned.is_empty() {
        pinned.push(Box::new(MenuItem::with_id(m, NO_PINS_ID, "No pinned machines (pin them in the window)", false, None::<&str>)?));
    } else {
        pinned.push(Box::new(MenuItem::with_id(m, PINNED_HEADER_ID, "Pinned machines", false, None::<&str>)?));
        for p in &model.pinned {
            let mut entries: Vec<MenuItem<R>> = Vec::new();
            for (id, label) in &p.items {
                entries.push(MenuItem::with_id(m, id.as_str(), label, true, None::<&str>)?);
            }
            if entries.is_empty() {
                entries.push(MenuItem::with_id(m, format!("none|{}|{}", p.cloud_id, p.id), "No actions now", false, None::<&str>)?);
            }
            let refs: Vec<&dyn IsMenuItem<R>> = entries.iter().map(|e| e as &dyn IsMenuItem<R>).collect();
            pinned.push(Box::new(Submenu::with_id_and_items(m, pin_submenu_id(&p.cloud_id, &p.id), &p.label, true, &refs)?));
        }
    }
    let sep = || PredefinedMenuItem::separator(m);
    let (s1, s2, s3) = (sep()?, sep()?, sep()?);
    let mut items: Vec<&dyn IsMenuItem<R>> = vec![&summary, &s1, &open, &refresh, &new_machine, &s2];
    items.extend(pinned.iter().map(|b| b.as_ref()));
    items.extend([&s3 as &dyn IsMenuItem<R>, &quit]);
    Menu::with_items(m, &items)
}

/// Creates the tray icon (desktop, real runtime only).
#[cfg(desktop)]
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    use tauri::tray::TrayIconBuilder;
    let model = app.state::<AppState>().skydeck.tray().unwrap_or_else(|_| skydeck_core::tray::tray_model(&[], &[], &[]));
    let menu = build_menu(app, &model)?;
    let mut b = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip(format!("Skydeck — {}", model.summary))
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, ev| on_menu_event(app, ev.id().as_ref()));
    if let Some(icon) = app.default_window_icon() {
        b = b.icon(icon.clone());
    }
    b.build(app)?;
    *app.state::<TrayState>().0.lock().unwrap() = Some(model);
    Ok(())
}

/// Rebuilds the tray menu if the model changed. Without a tray icon (tests) it only
/// remembers the model.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(state) = app.try_state::<TrayState>() else { return };
    let model = match app.state::<AppState>().skydeck.tray() {
        Ok(m) => m,
        Err(e) => return tracing::warn!("cannot read the inventory for the tray: {e}"),
    };
    let mut last = state.0.lock().unwrap();
    if last.as_ref() == Some(&model) {
        return;
    }
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        match build_menu(app, &model) {
            Ok(menu) => {
                if let Err(e) = tray.set_menu(Some(menu)) {
                    tracing::warn!("cannot update the tray menu: {e}");
                }
                let _ = tray.set_tooltip(Some(format!("Skydeck — {}", model.summary)));
            }
            Err(e) => tracing::warn!("cannot build the tray menu: {e}"),
        }
    }
    *last = Some(model);
}

/// The model the tray shows now (tests).
pub fn current<R: Runtime>(app: &AppHandle<R>) -> Option<TrayModel> {
    app.try_state::<TrayState>().and_then(|s| s.0.lock().unwrap().clone())
}

/// A menu click: parsed from the item id, then run off the UI thread.
pub fn on_menu_event<R: Runtime>(app: &AppHandle<R>, id: &str) {
    let Some(cmd) = TrayCommand::parse(id) else { return };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = handle(&app, cmd.clone()).await {
            tracing::warn!("tray command {} failed: {}", cmd.id(), e.message);
        }
    });
}

/// What a tray command did (tests check the route).
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    Shown,
    Refreshing,
    WizardRequested,
    Quitting,
    Acted(Box<skydeck_core::model::Machine>),
    Copied(String),
}

/// Runs one tray command: the single path of every tray click.
pub async fn handle<R: Runtime>(app: &AppHandle<R>, cmd: TrayCommand) -> Result<Handled, ErrorBody> {
    let deck = app.state::<AppState>().skydeck.clone();
    let live = app.state::<Live>();
    match cmd {
        TrayCommand::Open => {
            window::show_main(app);
            Ok(Handled::Shown)
        }
        TrayCommand::RefreshNow => {
            live.refresh_now();
            Ok(Handled::Refreshing)
        }
        TrayCommand::NewMachine => {
            window::show_main(app);
            let _ = app.emit(crate::tray::OPEN_WIZARD, ());
            Ok(Handled::WizardRequested)
        }
        TrayCommand::Quit => {
            app.exit(0);
            Ok(Handled::Quitting)
        }
        TrayCommand::Action { cloud_id, id, action } => {
            let key = format!("{cloud_id}/{id}");
            let name = deck.find_machine(&key).map(|m| m.name).unwrap_or_else(|_| id.clone());
            live.action_started(&key);
            let result = deck.machine_action(&key, action).await.map_err(ErrorBody::from);
            live.action_finished(&cloud_id, &key);
            crate::notify::action_finished(app, &name, action, result.as_ref().map(|_| ()), true);
            let m = result?;
            let _ = app.emit(MACHINE_UPDATED, &m);
            Ok(Handled::Acted(Box::new(m)))
        }
        TrayCommand::CopyIp { cloud_id, id } => {
            let m = deck.find_machine(&format!("{cloud_id}/{id}")).map_err(ErrorBody::from)?;
            // Only an address that parses as an IP: a provider's "IP" field may hold anything.
            let ip = machine_ip(&m).map(|ip| ip.to_string()).ok_or_else(|| no_ip(&m.name))?;
            copy(app, &ip)?;
            Ok(Handled::Copied(ip))
        }
        TrayCommand::CopySsh { cloud_id, id } => {
            let m = deck.find_machine(&format!("{cloud_id}/{id}")).map_err(ErrorBody::from)?;
            let cmd = ssh_command(&m).ok_or_else(|| no_ip(&m.name))?;
            copy(app, &cmd)?;
            Ok(Handled::Copied(cmd))
        }
    }
}

fn no_ip(name: &str) -> ErrorBody {
    ErrorBody { code: "not_found".into(), message: format!("'{}' has no valid IP address yet; refresh and try again.", skydeck_core::text::inert(name)), field: None }
}

fn copy<R: Runtime>(app: &AppHandle<R>, text: &str) -> Result<(), ErrorBody> {
    let Some(clip) = app.try_state::<tauri_plugin_clipboard_manager::Clipboard<R>>() else {
        return Err(ErrorBody { code: "internal".into(), message: "The clipboard is not available.".into(), field: None });
    };
    clip.write_text(text.to_string()).map_err(|e| ErrorBody {
        code: "internal".into(),
        message: format!("Could not copy to the clipboard ({e})."),
        field: None,
    })
}

#[cfg(test)]
#[path = "tray_tests.rs"]
mod tests;
