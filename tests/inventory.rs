//! The refresh engine: clouds refresh concurrently; a slow or failing cloud never delays or
//! hides the others; a failed cloud keeps its last-known machines, marked stale, with the
//! error kept. Drives the real DigitalOcean driver against the harness' delaying API.

use skydeck_core::http::{HttpClient, RetryPolicy};
use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::slow_api::SlowApi;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

fn quick_http() -> HttpClient {
    let policy = RetryPolicy { max_attempts: 2, base_delay: Duration::from_millis(10), max_delay: Duration::from_millis(20), ..Default::default() };
    HttpClient::with_policy(policy, Duration::from_secs(30)).unwrap()
}

async fn add(deck: &Skydeck, title: &str, api: &SlowApi) -> String {
    let mut fields = BTreeMap::new();
    fields.insert("token".to_string(), Sensitive::new("t0ken".to_string()));
    fields.insert("endpoint".to_string(), Sensitive::new(api.url()));
    deck.add_cloud(NewCloud { provider: "digitalocean".into(), title: title.into(), fields }).await.unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_and_a_failing_cloud_neither_delay_nor_hide_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default()))
        .unwrap()
        .with_http(quick_http())
        .with_refresh_timeout(Duration::from_secs(3));
    let fast = SlowApi::start(Duration::from_millis(20), 4).await;
    let failing = SlowApi::start(Duration::from_millis(20), 2).await;
    let hanging = SlowApi::start(Duration::from_millis(20), 3).await;
    let fast_id = add(&deck, "fast", &fast).await;
    let failing_id = add(&deck, "failing", &failing).await;
    let hanging_id = add(&deck, "hanging", &hanging).await;

    // First refresh: all fine, everything cached.
    let first = deck.refresh(None).await.unwrap();
    assert!(first.iter().all(|o| o.error.is_none()), "{first:?}");
    assert_eq!(deck.machines(None).unwrap().len(), 9);

    failing.force_status.store(500, Ordering::Relaxed);
    hanging.delay_ms.store(60_000, Ordering::Relaxed);
    let outcomes = deck.refresh(None).await.unwrap();
    let by_id = |id: &str| outcomes.iter().find(|o| o.cloud_id == id).unwrap().clone();

    let f = by_id(&fast_id);
    assert!(f.error.is_none());
    assert_eq!(f.machine_count, 4);
    // The fast cloud finished on its own schedule, not after the hanging one's timeout.
    assert!(f.elapsed_ms < 3000, "fast cloud waited for the others: {} ms", f.elapsed_ms);

    let e = by_id(&failing_id).error.expect("failing cloud reports its error");
    assert_eq!(e.code, "unavailable");
    let h = by_id(&hanging_id).error.expect("hanging cloud times out");
    assert_eq!(h.code, "unavailable");
    assert!(h.message.contains("did not answer"), "{}", h.message);

    // Last-known machines of the failed clouds stay, marked stale; the fast cloud's are fresh.
    let all = deck.machines(None).unwrap();
    assert_eq!(all.len(), 9);
    for m in &all {
        assert_eq!(m.stale, m.cloud_id != fast_id, "{} stale={}", m.name, m.stale);
    }
    let views = deck.list_clouds().unwrap();
    let failing_view = views.iter().find(|v| v.cloud.id == failing_id).unwrap();
    assert_eq!(failing_view.status.error.as_ref().unwrap().code, "unavailable");
    assert!(failing_view.status.last_ok.is_some(), "the last good refresh time is kept");
    assert_eq!(failing_view.status.machine_count, 2);

    // Recovery clears the stale mark.
    failing.force_status.store(0, Ordering::Relaxed);
    let again = deck.refresh(Some("failing")).await.unwrap();
    assert!(again[0].error.is_none());
    assert!(deck.machines(Some("failing")).unwrap().iter().all(|m| !m.stale));
}

#[tokio::test]
async fn revoked_credentials_mark_the_cloud_unauthenticated_and_keep_its_machines() {
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap().with_http(quick_http());
    let api = SlowApi::start(Duration::from_millis(1), 5).await;
    add(&deck, "acct", &api).await;
    deck.refresh(None).await.unwrap();
    api.force_status.store(401, Ordering::Relaxed);
    let out = deck.refresh(None).await.unwrap();
    assert_eq!(out[0].error.as_ref().unwrap().code, "unauthenticated");
    let ms = deck.machines(None).unwrap();
    assert_eq!(ms.len(), 5);
    assert!(ms.iter().all(|m| m.stale));
}

#[tokio::test]
async fn a_failed_connection_test_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemorySecrets::default());
    let deck = Skydeck::open(dir.path(), secrets.clone()).unwrap().with_http(quick_http());
    let api = SlowApi::start(Duration::from_millis(1), 1).await;
    api.force_status.store(401, Ordering::Relaxed);
    let mut fields = BTreeMap::new();
    fields.insert("token".to_string(), Sensitive::new("wrong".to_string()));
    fields.insert("endpoint".to_string(), Sensitive::new(api.url()));
    let err = deck
        .add_cloud(NewCloud { provider: "digitalocean".into(), title: "x".into(), fields })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unauthenticated");
    assert!(deck.list_clouds().unwrap().is_empty());
}
