//! One data directory, many processes: the window and the CLI share it, and scripts run the
//! CLI in parallel. Real `skydeck-cli` processes are started together against one directory,
//! fresh and already populated; none may fail ("table clouds already exists", "database is
//! locked" before) and no write may be lost.

use skydeck_core::model::Cloud;
use skydeck_core::store::Store;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

const PROCESSES: usize = 20;
/// Processes that each talk to the keychain: the test session's gnome-keyring drops D-Bus
/// calls ("Did not receive a reply") when 20 processes open encrypted sessions at once on a
/// loaded machine, which would make this a test of the keyring instead of the store.
const KEYCHAIN_PROCESSES: usize = 8;

fn start(data: &Path, args: &[&str]) -> Child {
    Command::new(skydeck_tests::cli_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Starts one process per argument list at once, waits for all, and asserts each succeeded.
fn all_at_once(data: &Path, runs: Vec<Vec<String>>) -> Vec<Output> {
    let children: Vec<(Vec<String>, Child)> = runs
        .into_iter()
        .map(|args| {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let child = start(data, &refs);
            (args, child)
        })
        .collect();
    let outputs: Vec<(Vec<String>, Output)> =
        children.into_iter().map(|(args, c)| (args, c.wait_with_output().unwrap())).collect();
    let failed: Vec<String> = outputs
        .iter()
        .filter(|(_, o)| !o.status.success())
        .map(|(args, o)| format!("{args:?}: {}", String::from_utf8_lossy(&o.stderr).trim()))
        .collect();
    assert!(failed.is_empty(), "{} of {} processes failed:\n{}", failed.len(), outputs.len(), failed.join("\n"));
    outputs.into_iter().map(|(_, o)| o).collect()
}

fn cloud(i: usize) -> Cloud {
    Cloud {
        id: format!("cloud-{i}"),
        provider: "digitalocean".into(),
        title: format!("title {i}"),
        enabled: true,
        fields: Default::default(),
        created_at: "2026-01-01T00:00:00Z".into(),
    }
}

#[test]
fn many_processes_open_a_fresh_data_directory_at_once() {
    // Before: 5 to 8 of 20 such opens failed, run after run; a few rounds make the race sure.
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("skydeck");
        let runs = (0..PROCESSES).map(|_| vec!["cloud".to_string(), "list".into(), "--json".into()]).collect();
        for out in all_at_once(&data, runs) {
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
        }
        let store = Store::open(&data.join("skydeck.db")).unwrap();
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }
}

#[test]
fn parallel_writes_to_a_populated_data_directory_are_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let store = Store::open(&data.join("skydeck.db")).unwrap();
    for i in 0..PROCESSES {
        store.insert_cloud(&cloud(i)).unwrap();
    }
    // For every cloud one process renames it and another disables it, all at the same moment.
    let mut runs = Vec::new();
    for i in 0..PROCESSES {
        runs.push(vec!["cloud".to_string(), "rename".into(), format!("cloud-{i}"), format!("renamed {i}")]);
        runs.push(vec!["cloud".to_string(), "disable".into(), format!("cloud-{i}")]);
    }
    all_at_once(data, runs);
    let clouds = store.list_clouds().unwrap();
    assert_eq!(clouds.len(), PROCESSES);
    for i in 0..PROCESSES {
        let c = clouds.iter().find(|c| c.id == format!("cloud-{i}")).unwrap();
        assert_eq!(c.title, format!("renamed {i}"), "a rename was lost");
        assert!(!c.enabled, "a disable was lost");
    }
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

/// The data directory and the database are the owner's only (they were 0755/0644).
#[cfg(unix)]
#[test]
fn the_data_directory_and_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new").join("skydeck");
    all_at_once(&data, vec![vec!["cloud".into(), "list".into()]]);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data directory");
    assert_eq!(mode(data.parent().unwrap()), 0o700, "a parent Skydeck created");
    for name in ["skydeck.db", "skydeck.db-wal", "skydeck.db-shm"] {
        let p = data.join(name);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{name}");
        }
    }
    assert!(data.join("skydeck.db").exists());

    // A database an older Skydeck left world-readable is tightened on the next open.
    let db = data.join("skydeck.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(Store::open(&db).unwrap());
    assert_eq!(mode(&db), 0o600);
}

/// Through the whole CLI, with the keychain: `cloud add` of the libvirt demo driver
/// (`test:///default`, no network) into a fresh directory at once, then 20 parallel refreshes
/// and tag changes of machines. Every cloud, every machine and every activity entry is there.
#[test]
fn parallel_cloud_adds_refreshes_and_tag_changes_lose_nothing() {
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("skydeck");
    let adds = (0..KEYCHAIN_PROCESSES)
        .map(|i| {
            ["cloud", "add", "libvirt", "--title", &format!("kvm {i}"), "--field", "uri=test:///default"]
                .map(String::from)
                .to_vec()
        })
        .collect();
    all_at_once(&data, adds);
    let store = Store::open(&data.join("skydeck.db")).unwrap();
    let clouds = store.list_clouds().unwrap();
    assert_eq!(clouds.len(), KEYCHAIN_PROCESSES, "a cloud add was lost");

    all_at_once(&data, vec![vec!["machines".into(), "--json".into()]]);
    // Each process tags a machine of its own cloud (an action, a cache update and an
    // activity entry) while others refresh the same clouds (writers of the same rows). One
    // cloud per refresh: each process reads the keychain, and the test's gnome-keyring
    // drops D-Bus calls under hundreds of parallel reads.
    let mut runs: Vec<Vec<String>> = clouds
        .iter()
        .take(KEYCHAIN_PROCESSES / 2)
        .map(|c| vec!["machines".into(), "--cloud".into(), c.id.clone(), "--json".into()])
        .collect();
    let machines = store.list_machines(None).unwrap();
    assert!(!machines.is_empty());
    for c in &clouds {
        let m = machines.iter().find(|m| m.cloud_id == c.id).expect("each demo cloud has machines");
        runs.push(vec!["machine".into(), "tag".into(), format!("{}/{}", c.id, m.id), format!("owner={}", c.title.replace(' ', "-"))]);
    }
    all_at_once(&data, runs);
    for c in &clouds {
        let log = store.list_activity(100, Some(&c.id)).unwrap();
        assert_eq!(log.iter().filter(|e| e.action == "tag").count(), 1, "{}: an activity entry was lost", c.title);
    }
    assert_eq!(store.integrity_check().unwrap(), "ok");
    for c in &clouds {
        let out = Command::new(skydeck_tests::cli_bin())
            .arg("--data-dir")
            .arg(&data)
            .args(["cloud", "remove", &c.id])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
