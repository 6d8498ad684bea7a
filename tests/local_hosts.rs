//! Zero-setup local hosts: a podman socket pointed at by `DOCKER_HOST` is detected, offered,
//! added in one call, and then no longer offered. Detection reads the process environment,
//! so the tests that change it run one at a time.

use skydeck_core::provider::DetectedHost;
use skydeck_core::secrets::MemorySecrets;
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::podman::Podman;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Mutex;

static ENV: Mutex<()> = Mutex::const_new(());

fn deck() -> (tempfile::TempDir, Skydeck) {
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap();
    (dir, deck)
}

fn docker_hosts(found: &[DetectedHost]) -> Vec<String> {
    found.iter().filter(|h| h.provider == "docker").filter_map(|h| h.fields.get("host").cloned()).collect()
}

#[tokio::test]
async fn a_podman_socket_in_docker_host_is_detected_added_and_then_excluded() {
    let _env = ENV.lock().await;
    let podman = Podman::start();
    std::env::set_var("DOCKER_HOST", podman.host());
    let (_dir, deck) = deck();

    let found = deck.detect_local_hosts().await.unwrap();
    let ours: Vec<&DetectedHost> = found.iter().filter(|h| h.fields.get("host") == Some(&podman.host())).collect();
    assert_eq!(ours.len(), 1, "detected once: {found:#?}");
    assert_eq!((ours[0].provider.as_str(), ours[0].title.as_str()), ("docker", "Docker host (DOCKER_HOST)"));

    // Another host's cloud already holds the title: the detected one gets a numbered title.
    let other = Podman::start();
    let fields = BTreeMap::from([("host".to_string(), other.host().into())]);
    deck.add_cloud(NewCloud { provider: "docker".into(), title: ours[0].title.clone(), fields }).await.unwrap();
    let cloud = deck.add_detected(ours[0].clone()).await.unwrap();
    assert_eq!(cloud.provider, "docker");
    assert_eq!(cloud.title, "Docker host (DOCKER_HOST) 2");
    assert_eq!(cloud.fields.get("host"), Some(&podman.host()));
    assert!(deck.list_clouds().unwrap().iter().any(|c| c.cloud.id == cloud.id));

    let again = deck.detect_local_hosts().await.unwrap();
    assert!(!docker_hosts(&again).contains(&podman.host()), "an added host is not offered again: {again:#?}");
    let e = deck.add_detected(ours[0].clone()).await.unwrap_err();
    assert_eq!(e.code(), "conflict", "{e}");

    // The added cloud works like any other.
    for outcome in deck.refresh(None).await.unwrap() {
        assert!(outcome.error.is_none(), "{outcome:?}");
    }
    std::env::remove_var("DOCKER_HOST");
}

#[tokio::test]
async fn a_stale_socket_is_not_offered() {
    let _env = ENV.lock().await;
    let mut podman = Podman::start();
    std::env::set_var("DOCKER_HOST", podman.host());
    let (_dir, deck) = deck();
    assert!(docker_hosts(&deck.detect_local_hosts().await.unwrap()).contains(&podman.host()));

    podman.stop_service();
    // A daemon that died may leave its socket file behind; nothing listens there.
    if !podman.socket.exists() {
        std::os::unix::net::UnixListener::bind(&podman.socket).map(drop).unwrap();
    }
    assert!(podman.socket.exists());
    let found = deck.detect_local_hosts().await.unwrap();
    assert!(!docker_hosts(&found).contains(&podman.host()), "{found:#?}");
    std::env::remove_var("DOCKER_HOST");
}

#[tokio::test]
async fn the_demo_is_libvirts_test_driver_when_libvirt_is_built_in() {
    let (_dir, deck) = deck();
    let demo = deck.demo_cloud().unwrap();
    let libvirt = skydeck_core::providers::find("libvirt").is_ok();
    assert_eq!(demo.is_some(), libvirt, "offered exactly when the libvirt provider is registered: {demo:?}");
    let Some(demo) = demo else { return };
    assert_eq!(demo.provider, "libvirt");
    assert_eq!(demo.fields.get("uri").map(String::as_str), Some("test:///default"));

    // Once added, it is not offered again.
    deck.add_detected(demo).await.unwrap();
    assert_eq!(deck.demo_cloud().unwrap(), None);
    assert!(deck.refresh(None).await.unwrap().iter().all(|o| o.error.is_none()));
    assert!(!deck.machines(None).unwrap().is_empty(), "the demo shows real machines at once");
}

#[test]
fn the_cli_lists_and_adds_detected_hosts() {
    let podman = Podman::start();
    let data = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(skydeck_tests::cli_bin())
            .args(args)
            .env("SKYDECK_DATA_DIR", data.path())
            .env("DOCKER_HOST", podman.host())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or(serde_json::Value::Null)
    };
    let ours = |report: &serde_json::Value| {
        report["detected"].as_array().unwrap().iter().filter(|h| h["fields"]["host"] == podman.host().as_str()).count()
    };
    let report = cli(&["cloud", "detect", "--json"]);
    assert_eq!(ours(&report), 1, "{report:#}");
    assert_eq!(report["added"], serde_json::json!([]));
    assert_eq!(report["demo"], serde_json::Value::Null, "no demo while something was detected");

    if !skydeck_tests::keychain_ready() {
        return;
    }
    let added = cli(&["cloud", "detect", "--add", "--json"]);
    let clouds = added["added"].as_array().unwrap();
    assert!(clouds.iter().any(|c| c["fields"]["host"] == podman.host().as_str()), "{added:#}");
    assert_eq!(ours(&cli(&["cloud", "detect", "--json"])), 0, "added hosts are not offered again");
    let listed = cli(&["cloud", "list", "--json"]);
    for c in clouds {
        assert!(listed.as_array().unwrap().iter().any(|l| l["id"] == c["id"]), "{listed:#}");
        let id = c["id"].as_str().unwrap();
        let out = std::process::Command::new(skydeck_tests::cli_bin())
            .args(["cloud", "remove", id])
            .env("SKYDECK_DATA_DIR", data.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "cleanup of the keychain entry: {}", String::from_utf8_lossy(&out.stderr));
    }
}
