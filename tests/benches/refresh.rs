//! Refresh-engine benchmark: N = 1, 10, 50 clouds behind one local server that adds 100 ms to
//! every response. Prints the wall time of a full refresh for each N (median of 5) and the
//! ratio wall(50)/wall(1): with truly concurrent refreshes it stays near 1 (target ≤ 1.3).
//!
//! Run: `cargo bench -p skydeck-tests --bench refresh` (or `./dev bench`).

use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::slow_api::SlowApi;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DELAY: Duration = Duration::from_millis(100);
const MACHINES_PER_CLOUD: usize = 20;
const RUNS: usize = 5;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let api = SlowApi::start(DELAY, MACHINES_PER_CLOUD).await;
        println!("refresh benchmark: every response delayed {} ms, {MACHINES_PER_CLOUD} machines per cloud, median of {RUNS} runs", DELAY.as_millis());
        println!("{:>6} {:>12} {:>12} {:>10}", "clouds", "wall (ms)", "machines", "requests");
        let mut walls = Vec::new();
        for n in [1usize, 10, 50] {
            let dir = tempfile::tempdir().unwrap();
            let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap();
            let adds = (0..n).map(|i| {
                let mut fields = BTreeMap::new();
                fields.insert("token".to_string(), Sensitive::new(format!("bench-token-{i}")));
                fields.insert("endpoint".to_string(), Sensitive::new(api.url()));
                deck.add_cloud(NewCloud { provider: "digitalocean".into(), title: format!("bench {i}"), fields })
            });
            for r in futures::future::join_all(adds).await {
                r.expect("add cloud");
            }
            deck.refresh(None).await.unwrap(); // warm-up: connections, keychain cache
            let before = api.requests.load(std::sync::atomic::Ordering::Relaxed);
            let mut times = Vec::new();
            let mut machines = 0;
            for _ in 0..RUNS {
                let t = Instant::now();
                let outcomes = deck.refresh(None).await.unwrap();
                times.push(t.elapsed());
                assert!(outcomes.iter().all(|o| o.error.is_none()), "a bench refresh failed: {outcomes:?}");
                machines = outcomes.iter().map(|o| o.machine_count).sum::<usize>();
            }
            let reqs = api.requests.load(std::sync::atomic::Ordering::Relaxed) - before;
            times.sort();
            let median = times[RUNS / 2];
            walls.push(median);
            println!("{n:>6} {:>12.1} {machines:>12} {:>10}", median.as_secs_f64() * 1000.0, reqs / RUNS as u64);
        }
        let ratio = walls[2].as_secs_f64() / walls[0].as_secs_f64();
        println!("ratio wall(50)/wall(1) = {ratio:.2} (target <= 1.3)");
        cached_inventory();
        println!("peak resident memory of this process: {} MiB", peak_rss_kib() / 1024);
    });
}

/// The offline/first-paint path: how long reading 10,000 cached machines from SQLite takes.
fn cached_inventory() {
    use skydeck_core::model::{Cloud, Machine};
    use skydeck_core::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("skydeck.db")).unwrap();
    for c in 0..4 {
        let id = format!("c{c}");
        let cloud = Cloud { id: id.clone(), provider: "digitalocean".into(), title: id.clone(), enabled: true, fields: Default::default(), created_at: String::new() };
        store.insert_cloud(&cloud).unwrap();
        let ms: Vec<Machine> = (0..2500)
            .map(|i| {
                let mut m = Machine::new(format!("{c}-{i}"), format!("vm-{c}-{i}"), "active");
                m.cloud_id = id.clone();
                m.public_ips = vec![format!("198.51.{c}.{}", i % 250)];
                m.tags.insert("team".into(), format!("t{}", i % 17));
                m
            })
            .collect();
        store.replace_machines(&id, &ms, "2026-01-01T00:00:00Z").unwrap();
    }
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let n = store.list_machines(None).unwrap().len();
        times.push(t.elapsed());
        assert_eq!(n, 10_000);
    }
    times.sort();
    println!("reading 10,000 cached machines: {:.1} ms (median of {RUNS})", times[RUNS / 2].as_secs_f64() * 1000.0);
}

/// VmHWM from /proc (Linux); 0 elsewhere.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}
