use crate::error::CmdResult;
use crate::live::Live;
use crate::settings::{self, Settings};
use skydeck_core::ErrorBody;
use tauri::{AppHandle, Runtime, State};

#[tauri::command(rename_all = "snake_case")]
pub async fn get_settings(live: State<'_, Live>) -> CmdResult<Settings> {
    Ok(live.settings())
}

/// Validates, saves and applies the settings (the refresh pace changes at once).
#[tauri::command(rename_all = "snake_case")]
pub async fn save_settings<R: Runtime>(app: AppHandle<R>, live: State<'_, Live>, settings: Settings) -> CmdResult<Settings> {
    settings::save(&app, &settings).map_err(ErrorBody::from)?;
    live.apply_settings(settings.clone());
    Ok(settings)
}
