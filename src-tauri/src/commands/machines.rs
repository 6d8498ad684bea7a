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
pub async fn machine_action(state: State<'_, AppState>, machine: String, action: Action) -> CmdResult<Machine> {
    ipc(state.skydeck.machine_action(&machine, action).await)
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
