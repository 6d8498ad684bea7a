//! Skydeck's core: everything except the window. No Tauri dependency, so the CLI, the tests
//! and the benchmarks drive exactly the code the desktop app runs.

pub mod activity;
pub mod bounds;
pub mod catalog;
pub mod create;
pub mod diff;
pub mod error;
pub mod http;
pub mod inventory;
pub mod keys;
pub mod local_hosts;
pub mod live;
pub mod model;
/// Entry points for the fuzz targets and the corpus replay test; not an API.
#[doc(hidden)]
pub mod parsers;
pub mod pins;
pub mod private_file;
pub mod provider;
pub mod providers;
pub mod scheduler;
pub mod secrets;
pub mod service;
pub mod ssh;
pub mod store;
pub mod text;
pub mod tray;

pub use error::{Error, ErrorBody, Result};
pub use service::{NewCloud, Skydeck};
pub use activity::ActivityEntry;
pub use catalog::{Catalog, CatalogKind};
pub use create::CreateRequest;
pub use keys::{ImportKey, SshKey};

/// The app identifier: data directory name and keychain service.
pub const APP_ID: &str = "dev.skydeck.app";

/// Current time as RFC 3339 (UTC, seconds).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
