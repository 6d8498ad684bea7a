//! The activity log: every create and machine action with its result, newest first.

use crate::error::{ipc, CmdResult};
use crate::state::AppState;
use skydeck_core::ActivityEntry;
use tauri::State;

const DEFAULT_LIMIT: usize = 500;
const MAX_LIMIT: usize = 5_000;

#[tauri::command(rename_all = "snake_case")]
pub async fn activity(
    state: State<'_, AppState>,
    limit: Option<usize>,
    cloud: Option<String>,
) -> CmdResult<Vec<ActivityEntry>> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    ipc(state.skydeck.activity(limit, cloud.as_deref()))
}
