//! The wizard's catalogs (locations, sizes, images): from the SQLite cache while fresh, from
//! the provider when asked to refresh. Filtering to what fits the chosen location and
//! architecture happens in the UI (ui/lib/wizard.js), which needs the whole list for its counts.

use crate::error::{ipc, CmdResult};
use crate::state::AppState;
use skydeck_core::{Catalog, CatalogKind};
use tauri::State;

#[tauri::command(rename_all = "snake_case")]
pub async fn catalog(
    state: State<'_, AppState>,
    cloud: String,
    kind: CatalogKind,
    refresh: Option<bool>,
) -> CmdResult<Catalog> {
    ipc(state.skydeck.catalog(&cloud, kind, refresh.unwrap_or(false)).await)
}
