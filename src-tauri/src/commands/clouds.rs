use crate::error::{ipc, CmdResult};
use crate::state::AppState;
use skydeck_core::model::{Cloud, CloudView};
use skydeck_core::secrets::Sensitive;
use skydeck_core::NewCloud;
use std::collections::BTreeMap;
use tauri::State;

/// Tests credentials without saving anything.
#[tauri::command(rename_all = "snake_case")]
pub async fn test_connection(
    state: State<'_, AppState>,
    provider: String,
    fields: BTreeMap<String, Sensitive<String>>,
) -> CmdResult<()> {
    ipc(state.skydeck.test_connection(&provider, &fields).await)
}

/// Tests the connection, then saves the cloud (secrets to the keychain).
#[tauri::command(rename_all = "snake_case")]
pub async fn add_cloud(state: State<'_, AppState>, live: State<'_, crate::live::Live>, cloud: NewCloud) -> CmdResult<Cloud> {
    let r = ipc(state.skydeck.add_cloud(cloud).await);
    live.clouds_changed();
    r
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_clouds(state: State<'_, AppState>) -> CmdResult<Vec<CloudView>> {
    ipc(state.skydeck.list_clouds())
}

/// Renames and/or enables/disables a cloud.
#[tauri::command(rename_all = "snake_case")]
pub async fn update_cloud(
    state: State<'_, AppState>,
    live: State<'_, crate::live::Live>,
    id: String,
    title: Option<String>,
    enabled: Option<bool>,
) -> CmdResult<Cloud> {
    let r = ipc(state.skydeck.update_cloud(&id, title.as_deref(), enabled));
    live.clouds_changed();
    r
}

/// Removes the cloud's keychain entry, then its cached data.
#[tauri::command(rename_all = "snake_case")]
pub async fn remove_cloud(state: State<'_, AppState>, live: State<'_, crate::live::Live>, id: String) -> CmdResult<Cloud> {
    let r = ipc(state.skydeck.remove_cloud(&id).await);
    live.clouds_changed();
    r
}
