//! tauri-build: reads tauri.conf.json (beside the root Cargo.toml), embeds the capabilities of
//! src-tauri/capabilities and the app's command permissions of src-tauri/permissions. With an
//! app permission manifest, every app command not allowed by a capability is denied.

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=src-tauri/permissions");
    println!("cargo:rerun-if-changed=ui");
    println!("cargo:rerun-if-changed=icons");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().permissions_path_pattern("./src-tauri/permissions/*.toml")),
    )
    .expect("tauri-build failed (check tauri.conf.json, src-tauri/capabilities and src-tauri/permissions)");
}
