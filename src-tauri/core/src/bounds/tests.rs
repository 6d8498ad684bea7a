//! Drivers that misbehave on purpose (hang, panic, ask to come back in u64::MAX seconds),
//! injected for one cloud through `Skydeck::set_driver` (test builds only: they are never in
//! the provider registry), and what the user sees: that cloud's typed error, on time, while
//! the other clouds, the CLI's command and the live refresher carry on.

use crate::error::{Error, Result};
use crate::live::{self, Refreshed};
use crate::model::{Action, Cloud, Location, Machine, Tags};
use crate::provider::Provider;
use crate::scheduler::SchedulerConfig;
use crate::secrets::MemorySecrets;
use crate::service::{NewCloud, Skydeck};
use crate::CatalogKind;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

#[derive(Clone, Copy)]
enum Mode {
    Fine,
    Hang,
    Panic,
    /// 429 with a Retry-After of u64::MAX seconds.
    RateLimitedForever,
}

struct Driver(Mode);

impl Driver {
    async fn behave<T>(&self, ok: T) -> Result<T> {
        match self.0 {
            Mode::Fine => Ok(ok),
            Mode::Hang => futures::future::pending().await,
            Mode::Panic => panic!("a driver bug, on purpose"),
            Mode::RateLimitedForever => Err(Error::RateLimited {
                message: "slow down".into(),
                retry_after: Some(Duration::from_secs(u64::MAX)),
            }),
        }
    }
}

#[async_trait]
impl Provider for Driver {
    async fn test_connection(&self) -> Result<()> {
        self.behave(()).await
    }
    async fn list_machines(&self) -> Result<Vec<Machine>> {
        self.behave(vec![Machine::new("m1", "web", "active")]).await
    }
    async fn list_locations(&self) -> Result<Vec<Location>> {
        self.behave(Vec::new()).await
    }
    async fn machine_action(&self, _: &Machine, _: Action) -> Result<()> {
        self.behave(()).await
    }
    async fn rename(&self, _: &Machine, _: &str) -> Result<()> {
        self.behave(()).await
    }
    async fn set_tags(&self, _: &Machine, _: &Tags) -> Result<()> {
        self.behave(()).await
    }
}

struct Fixture {
    deck: Arc<Skydeck>,
    _dir: tempfile::TempDir,
}

/// A deck with one DigitalOcean-shaped cloud per mode (id = title = `name`), each with one
/// cached running machine `m1`, driven by the given driver.
fn deck(clouds: &[(&str, Mode)], call: Duration, refresh: Duration) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default()))
        .unwrap()
        .with_call_timeout(call)
        .with_refresh_timeout(refresh);
    let spec = crate::providers::find("digitalocean").unwrap();
    for (name, mode) in clouds {
        let cloud = Cloud {
            id: name.to_string(),
            provider: "digitalocean".into(),
            title: name.to_string(),
            enabled: true,
            fields: Default::default(),
            created_at: "2026-01-01T00:00:00Z".into(),
        };
        deck.store().insert_cloud(&cloud).unwrap();
        let mut machines = vec![Machine::new("m1", "web", "active")];
        spec.finish(name, &mut machines);
        deck.store().replace_machines(name, &machines, "2026-01-01T00:00:00Z").unwrap();
        deck.set_driver(name, Arc::new(Driver(*mode)));
    }
    Fixture { deck: Arc::new(deck), _dir: dir }
}

/// Fails the test (instead of hanging it) when `fut` is not done within `secs`.
async fn within<T>(secs: u64, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), fut).await.expect("the operation must end within its bound")
}

#[tokio::test]
async fn a_panic_in_one_clouds_driver_becomes_that_clouds_error() {
    let f = deck(&[("bad", Mode::Panic), ("good", Mode::Fine)], Duration::from_secs(5), Duration::from_secs(5));
    let outcomes = f.deck.refresh(None).await.unwrap();
    let bad = outcomes.iter().find(|o| o.cloud_id == "bad").unwrap();
    let good = outcomes.iter().find(|o| o.cloud_id == "good").unwrap();
    let err = bad.error.as_ref().expect("the panic is the cloud's error");
    assert_eq!(err.code, "unavailable");
    assert!(err.message.contains("internal error") && !err.message.contains("on purpose"), "{}", err.message);
    assert_eq!(bad.machine_count, 1, "its last-known machines are kept");
    assert!(good.error.is_none() && good.machine_count == 1, "the other cloud is unaffected: {good:?}");
    let stale = f.deck.machines(Some("bad")).unwrap();
    assert!(stale.iter().all(|m| m.stale), "kept machines are marked stale");

    // Actions too: the command fails with the typed error, and the activity log says so.
    for result in [
        f.deck.machine_action("bad/m1", Action::Stop).await,
        f.deck.rename("bad/m1", "web2").await,
        f.deck.set_tags("bad/m1", Tags::new()).await,
    ] {
        assert_eq!(result.unwrap_err().code(), "unavailable");
    }
    assert_eq!(f.deck.catalog("bad", CatalogKind::Locations, true).await.unwrap_err().code(), "unavailable");
    let log = f.deck.activity(10, Some("bad")).unwrap();
    assert_eq!(log.len(), 3, "{log:?}");
    // And the deck keeps working.
    assert!(f.deck.machine_action("good/m1", Action::Stop).await.is_ok());
}

#[tokio::test]
async fn every_driver_call_ends_within_its_bound() {
    let f = deck(&[("hung", Mode::Hang)], Duration::from_millis(300), Duration::from_millis(300));
    let started = Instant::now();
    let outcome = within(10, f.deck.refresh(Some("hung"))).await.unwrap().remove(0);
    assert_eq!(outcome.error.unwrap().code, "unavailable");
    for (what, result) in [
        ("action", within(10, f.deck.machine_action("m1", Action::Reboot)).await.map(drop)),
        ("rename", within(10, f.deck.rename("m1", "web2")).await.map(drop)),
        ("tags", within(10, f.deck.set_tags("m1", Tags::new())).await.map(drop)),
        ("catalog", within(10, f.deck.catalog("hung", CatalogKind::Locations, true)).await.map(drop)),
    ] {
        let e = result.unwrap_err();
        assert_eq!(e.code(), "unavailable", "{what}: {e}");
        assert!(e.to_string().contains("did not answer within"), "{what}: {e}");
    }
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

/// "Test & save" against an endpoint that accepts the connection and never answers: the
/// outer bound ends it even when the HTTP client itself would wait much longer (the hostile
/// server took `cloud add` 121 s before).
#[tokio::test]
async fn test_and_save_ends_within_its_bound_against_a_silent_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock); // never answered, never closed
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let slow_http = crate::http::HttpClient::with_policy(Default::default(), Duration::from_secs(120)).unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default()))
        .unwrap()
        .with_http(slow_http)
        .with_call_timeout(Duration::from_millis(500));
    let fields = [
        ("token".to_string(), "tok".to_string().into()),
        ("endpoint".to_string(), format!("http://{addr}").into()),
    ]
    .into_iter()
    .collect();
    let started = Instant::now();
    let err = within(10, deck.add_cloud(NewCloud { provider: "digitalocean".into(), title: "t".into(), fields }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unavailable", "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(deck.list_clouds().unwrap().is_empty(), "nothing is saved");
    silent.abort();
}

/// Starts the live refresher on `f`'s deck; the listener panics on its first call when
/// `listener_panics`. Returns the handle and the stream of reports.
fn refresher(f: &Fixture, listener_panics: bool) -> (live::LiveHandle, mpsc::UnboundedReceiver<Refreshed>) {
    let (tx, rx) = mpsc::unbounded_channel::<Refreshed>();
    let first = AtomicBool::new(true);
    let handle = live::spawn(f.deck.clone(), SchedulerConfig::default(), move |r| {
        let _ = tx.send(r);
        if first.swap(false, Ordering::SeqCst) && listener_panics {
            panic!("a listener bug, on purpose");
        }
    });
    (handle, rx)
}

/// The next report of each of `n` distinct clouds.
async fn reports(rx: &mut mpsc::UnboundedReceiver<Refreshed>, n: usize) -> BTreeMap<String, Refreshed> {
    let mut seen = BTreeMap::new();
    while seen.len() < n {
        let r = within(10, rx.recv()).await.expect("the refresher is alive");
        seen.insert(r.outcome.cloud_id.clone(), r);
    }
    seen
}

fn code(r: &Refreshed) -> Option<&str> {
    r.outcome.error.as_ref().map(|e| e.code.as_str())
}

/// A panic in one cloud's driver is that cloud's report; a panic in the listener (the app's
/// window/tray code) is logged; the refresher goes on refreshing every cloud.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_refresher_outlives_a_panicking_driver_and_listener() {
    let f = deck(&[("panics", Mode::Panic), ("fine", Mode::Fine)], Duration::from_secs(5), Duration::from_secs(5));
    let (handle, mut rx) = refresher(&f, true);
    let first = reports(&mut rx, 2).await;
    assert_eq!(code(&first["panics"]), Some("unavailable"));
    assert_eq!(code(&first["fine"]), None);
    handle.refresh_now();
    let again = reports(&mut rx, 2).await;
    assert_eq!(code(&again["panics"]), Some("unavailable"));
    assert_eq!(code(&again["fine"]), None);
}

/// A Retry-After of u64::MAX seconds used to overflow `now + interval` in the scheduler and
/// end the refresher of every cloud.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_far_future_retry_after_does_not_stop_the_live_refresher() {
    let f = deck(
        &[("limited", Mode::RateLimitedForever), ("fine", Mode::Fine)],
        Duration::from_secs(5),
        Duration::from_secs(5),
    );
    let (handle, mut rx) = refresher(&f, false);
    let first = reports(&mut rx, 2).await;
    assert_eq!(code(&first["limited"]), Some("rate_limited"));
    assert!(first["limited"].next_refresh_ms <= 3_600_000, "clamped to an hour: {}", first["limited"].next_refresh_ms);
    handle.refresh_now();
    let again = reports(&mut rx, 2).await;
    assert_eq!(code(&again["fine"]), None);
}

/// A cloud removed behind the refresher's back (no `clouds_changed`) used to stay "in
/// progress" for ever: its refresh returned without a report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloud_that_vanished_is_reported_not_left_in_flight() {
    let f = deck(&[("gone", Mode::Fine), ("fine", Mode::Fine)], Duration::from_secs(5), Duration::from_secs(5));
    let (handle, mut rx) = refresher(&f, false);
    reports(&mut rx, 2).await;
    f.deck.store().delete_cloud("gone").unwrap();
    handle.refresh_now();
    let again = reports(&mut rx, 2).await;
    assert_eq!(code(&again["gone"]), Some("not_found"));
    // Once told, the refresher drops it.
    handle.clouds_changed();
    handle.refresh_now();
    let r = within(10, rx.recv()).await.unwrap();
    assert_eq!(r.outcome.cloud_id, "fine");
}

/// Store calls run on the blocking pool: while another process holds the database's write
/// lock, a refresh waits for it without stalling the runtime's only worker (which also runs
/// every other cloud, the window's commands and timers).
#[tokio::test(flavor = "current_thread")]
async fn database_waits_never_stall_the_async_runtime() {
    let f = deck(&[("fine", Mode::Fine)], Duration::from_secs(5), Duration::from_secs(5));
    let path = f.deck.store().path().to_path_buf();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let other_process = std::thread::spawn(move || {
        let mut conn = rusqlite::Connection::open(path).unwrap();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        tx.commit().unwrap();
    });
    locked_rx.recv().unwrap();
    let ticker = tokio::spawn(async {
        let mut worst = Duration::ZERO;
        let mut last = Instant::now();
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            worst = worst.max(last.elapsed());
            last = Instant::now();
        }
        worst
    });
    let outcome = f.deck.refresh(Some("fine")).await.unwrap().remove(0);
    assert!(outcome.error.is_none(), "{outcome:?}");
    let worst = ticker.await.unwrap();
    other_process.join().unwrap();
    assert!(worst < Duration::from_millis(500), "the runtime stalled for {worst:?}");
}
