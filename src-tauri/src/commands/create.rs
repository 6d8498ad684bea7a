//! Creating a machine from the wizard: check the choices (review step), create, then follow
//! the new machine until it runs. Progress reaches the wizard through a `Channel` passed with
//! the `wait_running` call: it belongs to that one call, needs no global event permission, and
//! the call's own result is the final outcome (running, or an error that says what to do).

use crate::error::{ipc, CmdResult};
use crate::state::AppState;
use serde::Serialize;
use skydeck_core::model::{Machine, MachineState};
use skydeck_core::CreateRequest;
use std::time::Duration;
use tauri::ipc::Channel;
use tauri::State;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// Checks the wizard's choices against the cloud's capabilities and catalogs without creating
/// anything. Errors are `invalid_input` with the `field` (wizard step) to fix.
#[tauri::command(rename_all = "snake_case")]
pub async fn check_create(state: State<'_, AppState>, cloud: String, request: CreateRequest) -> CmdResult<()> {
    ipc(state.skydeck.check_create(&cloud, &request).await.map(|_| ()))
}

/// Creates the machine and returns it as the provider first reports it (usually pending).
/// The wizard sends the same `client_token` again when the user retries the same request.
#[tauri::command(rename_all = "snake_case")]
pub async fn create_machine(
    state: State<'_, AppState>,
    live: State<'_, crate::live::Live>,
    cloud: String,
    request: CreateRequest,
) -> CmdResult<Machine> {
    let created = ipc(state.skydeck.create_machine(&cloud, request).await);
    // Live refresh follows the new machine's cloud closely; its tray menu learns of it.
    if let Ok(m) = &created {
        live.action_finished(&m.cloud_id, &format!("{}/{}", m.cloud_id, m.id));
    }
    created
}

/// A machine that runs, with the command to log in to it.
#[derive(Debug, Clone, Serialize)]
pub struct RunningMachine {
    pub machine: Machine,
    /// `ssh <user>@<ip>`; `None` while the machine has no IP address.
    pub ssh_command: Option<String>,
}

/// What each progress message carries: the machine as last seen.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub state: MachineState,
    pub raw_state: String,
    pub machine: Machine,
}

/// Follows a machine until it runs, sending each new state to `on_progress`.
#[tauri::command(rename_all = "snake_case")]
pub async fn wait_running<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    cloud: String,
    id: String,
    timeout_secs: Option<u64>,
    on_progress: Channel<Progress>,
) -> CmdResult<RunningMachine> {
    let timeout = timeout_secs.map(Duration::from_secs).unwrap_or(DEFAULT_TIMEOUT).min(MAX_TIMEOUT);
    let waited = ipc(
        state
            .skydeck
            .wait_until_running(&cloud, &id, timeout, |m| {
                // The window may have closed the wizard meanwhile: nothing to tell then.
                let _ = on_progress.send(Progress { state: m.state, raw_state: m.raw_state.clone(), machine: m.clone() });
            })
            .await,
    );
    // A notification when the user is not looking at the window (the create can take minutes).
    let name = match &waited {
        Ok(m) => m.name.clone(),
        Err(_) => state.skydeck.find_machine(&format!("{cloud}/{id}")).map(|m| m.name).unwrap_or_else(|_| id.clone()),
    };
    crate::notify::create_finished(&app, &name, waited.as_ref().map(|_| ()));
    let machine = waited?;
    let ssh_command = skydeck_core::tray::ssh_command(&machine);
    Ok(RunningMachine { machine, ssh_command })
}
