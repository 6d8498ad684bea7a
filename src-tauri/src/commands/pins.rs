use crate::error::{ipc, CmdResult};
use crate::live::Live;
use crate::state::AppState;
use skydeck_core::Error;
use tauri::State;

/// Pinned machines as `<cloud id>/<machine id>` keys, in the order they were pinned.
#[tauri::command(rename_all = "snake_case")]
pub async fn list_pins(state: State<'_, AppState>) -> CmdResult<Vec<String>> {
    ipc(state.skydeck.pins().map(|ps| ps.into_iter().map(|(c, id)| format!("{c}/{id}")).collect()))
}

/// Pins `machine` (`<cloud id>/<machine id>`) to the tray menu; returns every pin.
#[tauri::command(rename_all = "snake_case")]
pub async fn pin_machine(state: State<'_, AppState>, live: State<'_, Live>, machine: String) -> CmdResult<Vec<String>> {
    ipc(state.skydeck.pin(&machine))?;
    live.changed();
    list_pins(state).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn unpin_machine(state: State<'_, AppState>, live: State<'_, Live>, machine: String) -> CmdResult<Vec<String>> {
    // Cloud ids never contain '/'; machine ids may.
    let (cloud, id) = machine
        .split_once('/')
        .ok_or_else(|| Error::invalid("machine", "write the machine as <cloud id>/<machine id>"))
        .map_err(skydeck_core::ErrorBody::from)?;
    ipc(state.skydeck.unpin(cloud, id))?;
    live.changed();
    list_pins(state).await
}
