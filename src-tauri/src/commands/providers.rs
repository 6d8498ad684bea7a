use crate::error::CmdResult;
use crate::state::AppState;
use skydeck_core::provider::ProviderSpec;
use tauri::State;

/// Every provider as data: fields of its credential form, logo, capabilities, actions per
/// state. The UI draws everything provider-specific from this.
#[tauri::command]
pub async fn list_providers(state: State<'_, AppState>) -> CmdResult<Vec<&'static ProviderSpec>> {
    Ok(state.skydeck.providers().to_vec())
}
