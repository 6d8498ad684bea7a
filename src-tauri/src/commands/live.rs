use crate::error::CmdResult;
use crate::live::Live;
use tauri::State;

/// Refreshes every enabled cloud now, in the background: results arrive as
/// `inventory-changed` events, one per cloud.
#[tauri::command(rename_all = "snake_case")]
pub async fn refresh_now(live: State<'_, Live>) -> CmdResult<()> {
    live.refresh_now();
    Ok(())
}
