//! The shared state behind `tauri::State`: one `Skydeck` handle for all commands.

use skydeck_core::secrets::{Keychain, SecretStore};
use skydeck_core::Skydeck;
use std::path::Path;
use std::sync::Arc;

pub struct AppState {
    pub skydeck: Arc<Skydeck>,
}

impl AppState {
    pub fn new(skydeck: Skydeck) -> Self {
        AppState { skydeck: Arc::new(skydeck) }
    }

    /// Opens the store in `data_dir` with the OS keychain for secrets.
    pub fn open(data_dir: &Path) -> skydeck_core::Result<Self> {
        let secrets: Arc<dyn SecretStore> = Arc::new(Keychain::default());
        Ok(AppState::new(Skydeck::open(data_dir, secrets)?))
    }
}
