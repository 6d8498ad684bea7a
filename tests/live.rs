//! The live refresher end to end (real DigitalOcean driver, delaying local API): each cloud
//! runs on its own timetable, a failing cloud backs off without touching the others, changes
//! arrive as events, and an action speeds its cloud up. The assertions are on the scheduler's
//! decisions and on the events, not on wall-clock timings.

use skydeck_core::diff::Change;
use skydeck_core::http::{HttpClient, RetryPolicy};
use skydeck_core::live::{self, Refreshed};
use skydeck_core::scheduler::SchedulerConfig;
use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::slow_api::SlowApi;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn cfg() -> SchedulerConfig {
    SchedulerConfig {
        fast: Duration::from_millis(200),
        slow: Duration::from_millis(800),
        fast_after_action: Duration::from_secs(2),
        hidden_factor: Some(5),
        backoff_base: Duration::from_millis(300),
        max_backoff: Duration::from_secs(5),
    }
}

async fn add(deck: &Skydeck, title: &str, api: &SlowApi) -> String {
    let fields = BTreeMap::from([
        ("token".to_string(), Sensitive::new("t".to_string())),
        ("endpoint".to_string(), Sensitive::new(api.url())),
    ]);
    deck.add_cloud(NewCloud { provider: "digitalocean".into(), title: title.into(), fields }).await.unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clouds_follow_their_own_timetables_and_changes_arrive_as_events() {
    let dir = tempfile::tempdir().unwrap();
    let policy = RetryPolicy { max_attempts: 1, ..Default::default() };
    let deck = Arc::new(
        Skydeck::open(dir.path(), Arc::new(MemorySecrets::default()))
            .unwrap()
            .with_http(HttpClient::with_policy(policy, Duration::from_secs(10)).unwrap()),
    );
    let good = SlowApi::start(Duration::from_millis(5), 3).await;
    let bad = SlowApi::start(Duration::from_millis(5), 2).await;
    let good_id = add(&deck, "good", &good).await;
    let bad_id = add(&deck, "bad", &bad).await;
    bad.force_status.store(503, Ordering::Relaxed);

    let events: Arc<Mutex<Vec<Refreshed>>> = Arc::default();
    let sink = events.clone();
    let handle = live::spawn(deck.clone(), cfg(), move |r| sink.lock().unwrap().push(r));

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let snapshot = events.lock().unwrap().clone();
    let of = |id: &str| snapshot.iter().filter(|e| e.outcome.cloud_id == id).collect::<Vec<_>>();
    let (g, b) = (of(&good_id), of(&bad_id));
    println!("good intervals (ms): {:?}", g.iter().map(|e| e.next_refresh_ms).collect::<Vec<_>>());
    println!("bad intervals (ms):  {:?}", b.iter().map(|e| e.next_refresh_ms).collect::<Vec<_>>());
    assert!(g.len() >= 2, "the healthy cloud kept refreshing: {}", g.len());
    assert!(g.iter().all(|e| e.outcome.error.is_none() && e.next_refresh_ms == 800), "idle = slow interval");
    assert!(b.len() >= 2 && b.iter().all(|e| e.outcome.error.as_ref().unwrap().code == "unavailable"));
    let backoff: Vec<u64> = b.iter().map(|e| e.next_refresh_ms).collect();
    assert_eq!(&backoff[..2], &[300, 600], "the failing cloud backs off exponentially");
    // The first refresh reports the machines as added.
    assert_eq!(g[0].outcome.changes.iter().filter(|c| matches!(c, Change::Added { .. })).count(), 3);
    assert!(g[1..].iter().all(|e| e.outcome.changes.is_empty()), "nothing changed, no change events");

    // A machine changes behind our back: the next refresh reports exactly that.
    events.lock().unwrap().clear();
    good.set_all_status("off");
    handle.poke(&good_id); // as after an action: fast pace
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let after = events.lock().unwrap().clone();
    let g: Vec<_> = after.iter().filter(|e| e.outcome.cloud_id == good_id).collect();
    let changed: Vec<_> = g.iter().flat_map(|e| e.outcome.changes.iter()).collect();
    assert!(
        changed.iter().any(|c| matches!(c, Change::Changed { machine, .. } if machine.state.as_str() == "stopped")),
        "{changed:?}"
    );
    assert!(g.iter().any(|e| e.next_refresh_ms == 200), "after a poke the cloud is on the fast interval");

    // Recovery: the failing cloud comes back and resets to the normal pace.
    bad.force_status.store(0, Ordering::Relaxed);
    handle.refresh_now();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let last_bad = events.lock().unwrap().iter().rfind(|e| e.outcome.cloud_id == bad_id).cloned().unwrap();
    assert!(last_bad.outcome.error.is_none());
    assert_eq!(last_bad.next_refresh_ms, 800);
}
