//! The integration-test harness: starts real third-party peers on 127.0.0.1 (free ports,
//! killed on drop), locates ../shared, and sets up throwaway Skydeck instances.

#[cfg(unix)]
pub mod libvirtd;
pub mod hostile;
pub mod moto;
pub mod peer;
pub mod podman;
pub mod prism;
pub mod replay;
pub mod webdriver;
pub mod slow_api;
#[cfg(unix)]
pub mod sshd;
pub mod suite;

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `../shared` beside the repository (specs and recorded fixtures), or `$SKYDECK_SHARED_DIR`.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("SKYDECK_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().parent().unwrap().join("shared"))
}

/// A recorded libcloud fixture, e.g. `fixture("ec2", "describe_instances.xml")`.
pub fn fixture(provider_dir: &str, file: &str) -> String {
    let p = shared_dir().join("fixtures/libcloud").join(provider_dir).join(file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("fixture {} unreadable: {e}", p.display()))
}

/// Whether a Secret Service is reachable (tests that need the real keychain run under
/// `dbus-run-session` with gnome-keyring, see scripts/test).
pub fn has_secret_service() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
}

/// Whether a test that needs the real keychain can run: true inside a D-Bus session. Outside
/// one it says why and the test skips — but inside the README's test run (`SKYDECK_TEST_SESSION`)
/// a missing keychain is a failure, never a silent skip.
pub fn keychain_ready() -> bool {
    if has_secret_service() {
        return true;
    }
    assert!(std::env::var_os("SKYDECK_TEST_SESSION").is_none(), "scripts/test should provide a D-Bus session");
    eprintln!("skipped: no D-Bus session; run through ./dev test");
    false
}

/// The `skydeck-cli` binary, built by scripts/test before the tests run (a nested `cargo
/// build` inside `cargo test` could wait on cargo's own lock).
pub fn cli_bin() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
    let bin = target.join("debug").join(format!("skydeck-cli{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} is missing: run `cargo build -p skydeck-cli` first (./dev test does)", bin.display());
    bin
}

/// A tag map from pairs, for assertions: `tags(&[("env", "prod")])`.
pub fn tags(pairs: &[(&str, &str)]) -> skydeck_core::model::Tags {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Connects a provider's driver to a local peer: `endpoint` as its API endpoint field and one
/// secret field, all traffic through `http` (e.g. a Prism [`prism::Recorder`]'s client).
pub fn connect_driver(
    spec: &skydeck_core::provider::ProviderSpec,
    endpoint: &str,
    secret: (&str, &str),
    http: skydeck_core::http::HttpClient,
) -> skydeck_core::Result<Box<dyn skydeck_core::provider::Provider>> {
    use skydeck_core::secrets::Sensitive;
    let fields = std::collections::BTreeMap::from([("endpoint".to_string(), endpoint.to_string())]);
    let secrets = std::collections::BTreeMap::from([(secret.0.to_string(), Sensitive::new(secret.1.to_string()))]);
    (spec.connect)(skydeck_core::provider::Connection { cloud_id: format!("{}-test", spec.id), fields, secrets, http })
}
