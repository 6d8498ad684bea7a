use crate::error::{ipc, CmdResult};
use crate::state::AppState;
use skydeck_core::inventory::RefreshOutcome;
use skydeck_core::model::{Action, Machine, Tags};
use tauri::State;

/// The cached machines of every cloud (no network).
#[tauri::command(rename_all = "snake_case")]
pub async fn list_machines(state: State<'_, AppState>) -> CmdResult<Vec<Machine>> {
    ipc(state.skydeck.machines(None))
}

/// Refreshes all enabled clouds (or the one given) concurrently; one outcome per cloud.
#[tauri::command(rename_all = "snake_case")]
pub async fn refresh(state: State<'_, AppState>, cloud: Option<String>) -> CmdResult<Vec<RefreshOutcome>> {
    ipc(state.skydeck.refresh(cloud.as_deref()).await)
}

/// Start, stop, reboot or destroy. `machine` is `<cloud id>/<machine id>`.
#[tauri::command(rename_all = "snake_case")]
pub async fn machine_action<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    live: State<'_, crate::live::Live>,
    machine: String,
    action: Action,
) -> CmdResult<Machine> {
    // Live refresh follows the machine's cloud closely for a while, and its state changes
    // are not announced as changes "on its own".
    live.action_started(&machine);
    let name = state.skydeck.find_machine(&machine).map(|m| m.name).unwrap_or_else(|_| machine.clone());
    let result = ipc(state.skydeck.machine_action(&machine, action).await);
    let cloud = machine.split_once('/').map_or(machine.as_str(), |(c, _)| c);
    live.action_finished(cloud, &machine);
    crate::notify::action_finished(&app, &name, action, result.as_ref().map(|_| ()), false);
    result
}

#[tauri::command(rename_all = "snake_case")]
pub async fn rename(state: State<'_, AppState>, machine: String, name: String) -> CmdResult<Machine> {
    ipc(state.skydeck.rename(&machine, &name).await)
}

/// Makes the machine's tags exactly `tags`.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_tags(state: State<'_, AppState>, machine: String, tags: Tags) -> CmdResult<Machine> {
    ipc(state.skydeck.set_tags(&machine, tags).await)
}
