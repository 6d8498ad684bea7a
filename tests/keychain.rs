//! The real OS keychain (Secret Service under dbus-run-session + gnome-keyring, as
//! scripts/test sets up): secrets live only there, never in SQLite; adding a cloud is atomic
//! across the keychain and the database; removing a cloud removes both.

use skydeck_core::secrets::{Keychain, SecretStore, Secrets, Sensitive};
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::slow_api::SlowApi;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A unique keychain service per test, so tests never see each other's (or a user's) entries.
fn service(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("skydeck-test-{test}-{}-{nanos}", std::process::id())
}

/// What the Secret Service holds for a service name, via libsecret's own CLI.
fn keychain_items(service: &str) -> String {
    let out = Command::new("secret-tool").args(["search", "--all", "service", service]).output().expect("secret-tool (libsecret-tools)");
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

fn do_fields(api: &SlowApi, token: &str) -> BTreeMap<String, Sensitive<String>> {
    let mut f = BTreeMap::new();
    f.insert("token".to_string(), Sensitive::new(token.to_string()));
    f.insert("endpoint".to_string(), Sensitive::new(api.url()));
    f
}

fn file_contains(path: &std::path::Path, needle: &str) -> bool {
    std::fs::read(path).map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes())).unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn keychain_round_trip() {
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let svc = service("roundtrip");
    let kc = Keychain::with_service(&svc);
    let mut s = Secrets::new();
    s.insert("token".into(), Sensitive::new("s3cr3t-value".into()));
    let (k, s2) = (kc.clone(), s.clone());
    skydeck_core::secrets::blocking(move || k.set("cloud:x", &s2)).await.unwrap();
    assert!(keychain_items(&svc).contains("cloud:x"), "the entry is in the Secret Service");
    let k = kc.clone();
    let back = skydeck_core::secrets::blocking(move || k.get("cloud:x")).await.unwrap();
    assert_eq!(back["token"].expose(), "s3cr3t-value");
    let k = kc.clone();
    skydeck_core::secrets::blocking(move || k.delete("cloud:x")).await.unwrap();
    let k = kc.clone();
    let err = skydeck_core::secrets::blocking(move || k.get("cloud:x")).await.unwrap_err();
    assert_eq!(err.code(), "keychain");
    assert!(!err.to_string().contains("s3cr3t"));
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_reach_the_keychain_and_never_sqlite_and_removal_removes_both() {
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let svc = service("cloud");
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(Keychain::with_service(&svc))).unwrap();
    let api = SlowApi::start(Duration::from_millis(1), 3).await;
    let marker = "dop_v1_TESTMARKER_0123456789abcdef";
    let cloud = deck
        .add_cloud(NewCloud { provider: "digitalocean".into(), title: "kc".into(), fields: do_fields(&api, marker) })
        .await
        .unwrap();
    deck.refresh(None).await.unwrap();
    assert_eq!(deck.machines(None).unwrap().len(), 3);

    // In the keychain under the cloud's account...
    let items = keychain_items(&svc);
    assert!(items.contains(&format!("cloud:{}", cloud.id)), "{items}");
    assert!(items.contains(marker), "secret-tool shows the stored secret");
    // ...and nowhere in the database, its WAL, or what the UI/CLI get.
    for f in ["skydeck.db", "skydeck.db-wal", "skydeck.db-shm"] {
        assert!(!file_contains(&dir.path().join(f), marker), "secret found in {f}");
    }
    assert!(!file_contains(&dir.path().join("skydeck.db"), "t0ken"));
    let json = serde_json::to_string(&deck.list_clouds().unwrap()).unwrap() + &serde_json::to_string(&deck.machines(None).unwrap()).unwrap();
    assert!(!json.contains(marker));
    assert!(!cloud.fields.contains_key("token"), "secret fields are not part of the saved cloud");

    deck.remove_cloud("kc").await.unwrap();
    assert!(!keychain_items(&svc).contains(&cloud.id), "keychain entry removed with the cloud");
    assert!(deck.list_clouds().unwrap().is_empty());
    assert!(deck.machines(None).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_database_write_removes_the_keychain_entry_again() {
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let svc = service("atomic");
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(Keychain::with_service(&svc))).unwrap();
    // Make every insert of a cloud fail, as a full disk or a broken database would.
    let conn = rusqlite::Connection::open(dir.path().join("skydeck.db")).unwrap();
    conn.execute_batch("CREATE TRIGGER fail_insert BEFORE INSERT ON clouds BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END;").unwrap();
    let api = SlowApi::start(Duration::from_millis(1), 1).await;
    let err = deck
        .add_cloud(NewCloud { provider: "digitalocean".into(), title: "t".into(), fields: do_fields(&api, "tok-atomic") })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "storage");
    let items = keychain_items(&svc);
    assert!(!items.contains("cloud:"), "orphaned keychain entry left behind: {items}");
    conn.execute_batch("DROP TRIGGER fail_insert").unwrap();
    assert!(deck.list_clouds().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_keychain_saves_nothing_and_says_how_to_fix_it() {
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let api = SlowApi::start(Duration::from_millis(1), 1).await;
    let cli = skydeck_tests::cli_bin();
    let out = Command::new(&cli)
        .args(["cloud", "add", "digitalocean", "--title", "nokc", "--field", &format!("endpoint={}", api.url())])
        .env("SKYDECK_DATA_DIR", dir.path())
        .env("SKYDECK_FIELD_TOKEN", "tok-unreachable")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.starts_with("keychain: "), "{stderr}");
    assert!(stderr.contains("Secret Service"), "says what to do: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1);
    assert!(!stderr.contains("tok-unreachable"));
    let list = Command::new(&cli).args(["cloud", "list", "--json"]).env("SKYDECK_DATA_DIR", dir.path()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "[]", "nothing was saved");
}
