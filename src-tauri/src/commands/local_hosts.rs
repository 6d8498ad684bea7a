//! Zero-setup onboarding: hosts found on this machine (Docker/Podman and libvirt sockets) and
//! the demo connection, each added in one click.

use crate::error::{ipc, CmdResult};
use crate::state::AppState;
use serde::Serialize;
use skydeck_core::model::Cloud;
use skydeck_core::provider::DetectedHost;
use tauri::State;

#[derive(Serialize)]
pub struct LocalHosts {
    /// Hosts found here that are not added yet.
    pub detected: Vec<DetectedHost>,
    /// Offered only when nothing was detected and no cloud exists yet.
    pub demo: Option<DetectedHost>,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn detect_local_hosts(state: State<'_, AppState>) -> CmdResult<LocalHosts> {
    let deck = &state.skydeck;
    let detected = ipc(deck.detect_local_hosts().await)?;
    let no_clouds = ipc(deck.store().list_clouds())?.is_empty();
    let demo = if detected.is_empty() && no_clouds { ipc(deck.demo_cloud())? } else { None };
    Ok(LocalHosts { detected, demo })
}

/// Tests and saves a detected host (or the demo) as a cloud.
#[tauri::command(rename_all = "snake_case")]
pub async fn add_detected_host(
    state: State<'_, AppState>,
    live: State<'_, crate::live::Live>,
    host: DetectedHost,
) -> CmdResult<Cloud> {
    let cloud = ipc(state.skydeck.add_detected(host).await)?;
    // The new cloud gets its own refresh timetable at once.
    live.clouds_changed();
    Ok(cloud)
}
