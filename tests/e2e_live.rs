//! Live refresh and the offline cache in the real window (WebDriver), against moto: a machine
//! stopped behind Skydeck's back shows as stopped within one interval, applied from the
//! refresher's events (no re-read of the whole list); pinning and the settings view work; with
//! moto gone, the app restarts on its cache and says it is offline, actions paused.
//! Intervals are shortened with SKYDECK_FAST_INTERVAL_MS / SKYDECK_SLOW_INTERVAL_MS.
//! Screenshots: tests/out/e2e-live/. Skips without a display or tauri-driver.

#[path = "live_common.rs"]
mod common;

use serde_json::json;
use skydeck_tests::moto::Moto;
use skydeck_tests::webdriver::{self, App};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);
const FAST_MS: u64 = 1000;
const SLOW_MS: u64 = 3000;

fn row_state(s: &webdriver::Session, id: &str) -> String {
    s.js(
        "return document.querySelector(`.grid-row[data-key$='/${arguments[0]}'] .col-state`)?.textContent ?? ''",
        json!([id]),
    )
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[test]
fn changes_arrive_live_and_the_cache_serves_offline() {
    if webdriver::should_skip("e2e_live") {
        return;
    }
    webdriver::assert_keychain_ready();
    let shots = skydeck_tests::repo_root().join("tests/out/e2e-live");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let moto = Moto::start();
    let mut seeded = moto.seed_instances("us-east-1", 3, "live");
    seeded.sort_by(|a, b| a.name.cmp(&b.name));
    let data = tempfile::tempdir().unwrap();
    let (_cloud, _entry) = common::ec2_cloud(data.path(), &moto, "us-east-1", &[]);
    let log = shots.join("live-log.jsonl");
    let (fast, slow) = (FAST_MS.to_string(), SLOW_MS.to_string());
    let env = [
        ("SKYDECK_FAST_INTERVAL_MS", fast.as_str()),
        ("SKYDECK_SLOW_INTERVAL_MS", slow.as_str()),
        ("SKYDECK_LIVE_LOG", log.to_str().unwrap()),
    ];

    let app = App::launch(data.path(), &shots, &env);
    let s = &app.session;
    s.wait(
        "the three machines, running",
        "const r = [...document.querySelectorAll('.grid-body .grid-row:not([hidden]) .col-state')]; return r.length === 3 && r.every(c => c.textContent === 'running')",
        json!([]),
        WAIT,
    );
    s.wait("the first live refresh", "return /Updated/.test(document.getElementById('last-updated')?.textContent ?? '')", json!([]), WAIT);
    s.screenshot("live-list");

    // Count full re-reads of the list from now on: live changes must not need any.
    // The window counts its full re-reads of the list and the live events it applied (on
    // <html data-full-reads data-live-events>): live changes must need no re-read.
    let counts = || s.js("const d = document.documentElement.dataset; return [Number(d.fullReads ?? 0), Number(d.liveEvents ?? 0)]", json!([]));
    let before = counts();
    assert_eq!(before[0], json!(1), "one read of the cache at startup");

    // Stopped behind Skydeck's back, directly on moto.
    let target = &seeded[1];
    let stopped_at = Instant::now();
    assert_eq!(moto.stop_instance("us-east-1", &target.id).state, "stopped");
    s.wait("the row to show stopped", "return document.querySelector(`.grid-row[data-key$='/${arguments[0]}'] .col-state`)?.textContent === 'stopped'", json!([target.id]), WAIT);
    let seen_after = stopped_at.elapsed();
    println!("stopped on moto → shown stopped after {} ms (idle interval {SLOW_MS} ms)", seen_after.as_millis());
    assert!(
        seen_after < Duration::from_millis(SLOW_MS + FAST_MS + 4000),
        "shown within one idle interval (+ a refresh): {seen_after:?}"
    );
    assert_eq!(row_state(s, &seeded[0].id), "running", "the others are untouched");
    let after = counts();
    assert_eq!(after[0], before[0], "applied from the event, not by re-reading the list");
    assert!(after[1].as_u64() > before[1].as_u64(), "live events arrived: {before} → {after}");
    s.screenshot("stopped-behind-our-back");

    // Pin a machine from its details panel: the tray's pins are stored.
    s.click(&format!(".grid-row[data-key$='/{}'] .col-name", seeded[0].id));
    s.wait("the details panel", "return document.getElementById('details-pin')", json!([]), WAIT);
    s.click("#details-pin");
    s.wait("the pin to show", "return document.getElementById('details-pin')?.getAttribute('aria-pressed') === 'true'", json!([]), WAIT);
    let pins = skydeck_core::store::Store::open(&data.path().join("skydeck.db")).unwrap().pins().unwrap();
    assert_eq!(pins.iter().map(|(_, id)| id.as_str()).collect::<Vec<_>>(), [seeded[0].id.as_str()]);
    s.screenshot("pinned");
    s.click("#details-close");

    // The settings view: shows the saved values, saves a new interval.
    s.click("#open-settings");
    s.wait("the settings dialog", "return document.querySelector('dialog[open] #set-interval')", json!([]), WAIT);
    assert_eq!(s.js("return document.getElementById('set-interval').value", json!([])), json!("60"), "the default idle interval");
    s.screenshot("settings");
    s.js("const sel = document.getElementById('set-interval'); sel.value = '300'; sel.dispatchEvent(new Event('change', {bubbles: true}))", json!([]));
    s.click("#set-notifications");
    s.click("dialog[open] .btn-primary");
    s.wait("the dialog to close", "return !document.querySelector('dialog[open]')", json!([]), WAIT);
    let saved = s.js_async("const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('get_settings').then(done, e => done(String(e)))", json!([]));
    assert_eq!((saved["slow_interval_secs"].clone(), saved["notifications"].clone()), (json!(300), json!(false)), "{saved}");

    // The scheduler's pace in this run.
    let lines = common::read_log(&log);
    let gaps = common::measured_intervals(&lines);
    assert!(lines.iter().any(|l| l.next_refresh_ms == SLOW_MS), "idle clouds use the idle interval");
    for (gap, chosen) in &gaps {
        assert!(*gap <= chosen + 3000, "refreshed {gap} ms after the previous one, {chosen} ms were scheduled");
    }
    drop(app);
    // WebKitWebDriver leaves the app it started running (in its own process group) once
    // tauri-driver is gone; end it, as quitting would, before starting again on the same data.
    common::end_app_on(data.path());

    // Offline: moto is gone; the app restarts on its cache and says so.
    drop(moto);
    let started = Instant::now();
    let app = App::launch(data.path(), &shots, &env);
    let s = &app.session;
    s.wait("the cached machines", "return document.querySelectorAll('.grid-body .grid-row:not([hidden])').length === 3", json!([]), WAIT);
    println!("cached list shown {} ms after launch", started.elapsed().as_millis());
    assert_eq!(row_state(s, &target.id), "stopped", "as last seen");
    s.wait("the offline banner", "return document.getElementById('offline-banner')?.hidden === false", json!([]), WAIT);
    let banner = s.text("#offline-banner");
    assert!(banner.contains("Offline") && banner.contains("last seen"), "{banner}");
    s.wait("stale rows", "return document.querySelectorAll('.grid-body .grid-row.stale').length === 3", json!([]), WAIT);
    s.screenshot("offline-banner");
    s.click(&format!(".grid-row[data-key$='/{}'] .col-name", seeded[0].id));
    s.wait("the details panel", "return document.querySelector('#details [data-action]')", json!([]), WAIT);
    let buttons = s.js(
        "return [...document.querySelectorAll('#details [data-action]')].map(b => [b.dataset.action, b.disabled, b.title])",
        json!([]),
    );
    for b in buttons.as_array().unwrap() {
        assert_eq!(b[1], json!(true), "actions are paused offline: {b}");
        assert!(b[2].as_str().unwrap().starts_with("Offline"), "the tooltip says why: {b}");
    }
    s.screenshot("offline-actions-paused");
}
