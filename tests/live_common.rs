#![allow(dead_code)] // shared by two test crates; each uses part of it
//! Shared by tray_dbus.rs and e2e_live.rs: an EC2 cloud on moto saved the way the app saves
//! one (the core's add_cloud: secret in the real keychain), its cache filled, and the live
//! refresher's log (SKYDECK_LIVE_LOG) read back.

use serde::Deserialize;
use skydeck_core::secrets::{cloud_account, Keychain, SecretStore, Sensitive};
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::moto::Moto;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Adds an EC2 cloud on `moto` (region `region`) to the store in `data`, refreshes it once,
/// pins the machines named in `pin`. Returns the cloud id; its keychain entry is removed when
/// the returned guard drops.
pub fn ec2_cloud(data: &Path, moto: &Moto, region: &str, pin: &[&str]) -> (String, KeychainEntry) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let deck = Skydeck::open(data, Arc::new(Keychain::default())).unwrap();
    let fields = BTreeMap::from([
        ("access_key_id".to_string(), Sensitive::new(moto.access_key_id.clone())),
        ("secret_access_key".to_string(), Sensitive::new(moto.secret_access_key.clone())),
        ("regions".to_string(), Sensitive::new(region.to_string())),
        ("endpoint".to_string(), Sensitive::new(moto.endpoint())),
    ]);
    let cloud = rt
        .block_on(deck.add_cloud(NewCloud { provider: "ec2".into(), title: "moto".into(), fields }))
        .expect("the EC2 cloud on moto is saved");
    let outcomes = rt.block_on(deck.refresh(None)).unwrap();
    assert!(outcomes.iter().all(|o| o.error.is_none()), "{outcomes:?}");
    for name in pin {
        let m = deck.machines(None).unwrap().into_iter().find(|m| &m.name == name).expect("machine to pin");
        deck.pin(&format!("{}/{}", m.cloud_id, m.id)).unwrap();
    }
    (cloud.id.clone(), KeychainEntry(cloud.id))
}

/// Removes a cloud's keychain entry at the end of a test.
pub struct KeychainEntry(pub String);
impl Drop for KeychainEntry {
    fn drop(&mut self) {
        let _ = Keychain::default().delete(&cloud_account(&self.0));
    }
}

/// One line of the SKYDECK_LIVE_LOG file.
#[derive(Debug, Clone, Deserialize)]
#[allow(dead_code)]
pub struct LogLine {
    pub t_ms: u64,
    pub cloud: String,
    pub error: Option<String>,
    pub transitioning: bool,
    pub changes: usize,
    pub elapsed_ms: u64,
    pub next_refresh_ms: u64,
}

pub fn read_log(path: &Path) -> Vec<LogLine> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Prints each refresh with the time since the previous one next to the interval the
/// scheduler had chosen, and returns (measured gap, chosen interval) pairs.
pub fn measured_intervals(log: &[LogLine]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    println!("   t (ms)  cloud  error          changes  next_refresh_ms  gap since previous (ms)");
    for (i, l) in log.iter().enumerate() {
        let gap = i.checked_sub(1).map(|p| l.t_ms - log[p].t_ms);
        println!(
            "{:>9}  {:<5}  {:<13}  {:>7}  {:>15}  {}",
            l.t_ms,
            l.cloud,
            l.error.as_deref().unwrap_or("-"),
            l.changes,
            l.next_refresh_ms,
            gap.map(|g| g.to_string()).unwrap_or_default()
        );
        if let Some(g) = gap {
            out.push((g, log[i - 1].next_refresh_ms));
        }
    }
    out
}

/// Ends (SIGTERM, then SIGKILL after 10 s) every app process started on `data_dir`, found by
/// its SKYDECK_DATA_DIR in /proc, by pid.
pub fn end_app_on(data_dir: &Path) {
    let want = format!("SKYDECK_DATA_DIR={}", data_dir.display());
    let pids: Vec<String> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().to_string();
            pid.parse::<u32>().ok()?;
            let env = std::fs::read(e.path().join("environ")).ok()?;
            let exe = std::fs::read_link(e.path().join("exe")).ok()?;
            (exe.ends_with("skydeck") && env.split(|b| *b == 0).any(|v| v == want.as_bytes())).then_some(pid)
        })
        .collect();
    for pid in &pids {
        let _ = std::process::Command::new("kill").arg(pid).status();
    }
    let start = std::time::Instant::now();
    while pids.iter().any(|p| Path::new(&format!("/proc/{p}")).exists()) {
        if start.elapsed() > std::time::Duration::from_secs(10) {
            for pid in &pids {
                let _ = std::process::Command::new("kill").args(["-9", pid]).status();
            }
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
