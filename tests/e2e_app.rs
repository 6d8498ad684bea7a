//! The desktop app end to end, in the real webview through WebDriver (tauri-driver +
//! WebKitWebDriver), with the real keychain, against moto on 127.0.0.1. Screenshots of every
//! step land in tests/out/e2e/<scenario>/. Skips (with a message) only without a display or
//! tauri-driver; scripts/test runs it under Xvfb with a throwaway keyring.

use serde_json::{json, Value};
use skydeck_core::model::{Cloud, Machine, MachineState};
use skydeck_core::secrets::{cloud_account, Keychain, SecretStore, Secrets, Sensitive};
use skydeck_tests::moto::Moto;
use skydeck_tests::webdriver::{self, App, Session, ENTER, ESCAPE};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One app at a time: two WebKit processes side by side are slow on 2 cores.
static ONE_APP: Mutex<()> = Mutex::new(());
const WAIT: Duration = Duration::from_secs(60);
const PAYLOAD: &str = "<img src=x onerror=alert(1)>";

fn shots(scenario: &str) -> PathBuf {
    let dir = skydeck_tests::repo_root().join("tests/out/e2e").join(scenario);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Skips (with the reason) only outside the test session; inside it a missing tool fails.
fn should_skip() -> bool {
    if webdriver::should_skip("e2e_app") {
        return true;
    }
    webdriver::assert_keychain_ready();
    false
}

/// The rows the table currently draws: key, name, state, public IP.
fn rows(s: &Session) -> Vec<Value> {
    s.js(
        "return [...document.querySelectorAll('.grid-body .grid-row:not([hidden])')]
           .sort((a, b) => a.dataset.index - b.dataset.index)
           .map(r => ({key: r.dataset.key, name: r.querySelector('.col-name').textContent,
                       state: r.querySelector('.col-state').textContent,
                       ip: r.querySelector('.col-public_ips')?.textContent ?? null}))",
        json!([]),
    )
    .as_array()
    .cloned()
    .unwrap_or_default()
}

/// Fails if any of `secrets` is in a file under `data_dir` (SQLite and its WAL, logs, settings
/// and UI preferences: the harness puts the app's XDG dirs there too), in an answer of any of
/// the window's read commands, or in the DOM (markup and the values of form fields).
fn assert_no_secret_anywhere(s: &Session, data_dir: &std::path::Path, secrets: &[&str]) {
    fn files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() { files(&p, out) } else { out.push(p) }
        }
    }
    let mut all = Vec::new();
    files(data_dir, &mut all);
    let names: Vec<String> = all.iter().map(|p| p.strip_prefix(data_dir).unwrap().display().to_string()).collect();
    for want in ["skydeck.db", "ui-prefs.json"] {
        assert!(names.iter().any(|n| n.ends_with(want)), "{want} was written: {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("logs/")), "a log was written: {names:?}");
    for p in &all {
        let bytes = std::fs::read(p).unwrap_or_default();
        for secret in secrets {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "a secret is in {}", p.display());
        }
    }
    let answers = s.js_async(
        "const done = arguments[arguments.length - 1];
         const inv = window.__TAURI__.core.invoke;
         const calls = [['list_providers'], ['list_clouds'], ['list_machines'], ['list_keys'], ['activity', {limit: null, cloud: null}],
                        ['list_pins'], ['get_settings'], ['get_ui_prefs'], ['detect_local_hosts']];
         Promise.allSettled(calls.map(([c, a]) => inv(c, a ?? {}))).then(r => done(r.map((x, i) =>
           [calls[i][0], x.status, JSON.stringify(x.value ?? x.reason)])))",
        json!([]),
    );
    for answer in answers.as_array().unwrap() {
        assert_eq!(answer[1], json!("fulfilled"), "{answer}");
        for secret in secrets {
            assert!(!answer[2].as_str().unwrap().contains(secret), "a secret in the answer of {}", answer[0]);
        }
    }
    let dom = s.js(
        "return document.documentElement.outerHTML + [...document.querySelectorAll('input, textarea')].map(i => i.value).join('\\n')",
        json!([]),
    );
    for secret in secrets {
        assert!(!dom.as_str().unwrap().contains(secret), "a secret in the DOM");
    }
}

/// Fills and submits the add-cloud form for EC2 (picked from the searchable grid).
fn fill_ec2_form(s: &Session, title: &str, key: &str, secret: &str, region: &str, endpoint: &str) {
    s.type_into("#provider-search", "EC2");
    s.wait(
        "the grid to filter",
        "const cards = [...document.querySelectorAll('.provider-card')];
         return cards.length > 0 && cards.every(c => /ec2/i.test(c.textContent + c.dataset.provider))",
        json!([]),
        WAIT,
    );
    s.keys(ENTER);
    s.wait("the EC2 form", "return document.querySelector('#field-secret_access_key')?.type === 'password'", json!([]), WAIT);
    s.clear("#field-title");
    s.type_into("#field-title", title);
    s.type_into("#field-access_key_id", key);
    s.type_into("#field-secret_access_key", secret);
    s.type_into("#field-regions", region);
    s.click(".advanced summary");
    s.type_into("#field-endpoint", endpoint);
}

fn submit_and_wait_saved(s: &Session, rows_expected: usize) {
    s.click("#test-and-save");
    s.wait(
        "the cloud to be saved and its machines listed",
        "return !document.querySelector('dialog[open]') &&
                document.querySelectorAll('.grid-body .grid-row:not([hidden])').length === arguments[0]",
        json!([rows_expected]),
        WAIT,
    );
}

#[test]
fn ec2_cloud_through_the_form_then_actions_and_html_safety() {
    let _one = ONE_APP.lock().unwrap_or_else(|p| p.into_inner());
    if should_skip() {
        return;
    }
    let moto = Moto::start();
    let mut web = moto.seed_instances("us-east-1", 3, "web");
    web.sort_by(|a, b| a.name.cmp(&b.name));
    let evil = moto.seed_instances("eu-west-1", 1, PAYLOAD);
    let data = tempfile::tempdir().unwrap();
    let app = App::launch(data.path(), &shots("ec2"), &[]);
    let s = &app.session;

    // A new user: an empty state that invites to add a cloud.
    s.wait("the empty state", "return document.getElementById('empty')?.hidden === false", json!([]), WAIT);
    s.screenshot("empty-state");
    s.click("#empty-add-cloud");
    s.wait("the provider grid", "return document.querySelectorAll('.provider-card').length", json!([]), WAIT);
    assert_eq!(s.js("return document.activeElement.id", json!([])), json!("provider-search"), "the search box has the focus");
    s.screenshot("provider-grid");

    // A wrong secret: an inline error in the form, nothing saved.
    fill_ec2_form(s, "moto east", &moto.access_key_id, "wrong-secret-value", "us-east-1", &moto.endpoint());
    s.screenshot("form-filled");
    s.click("#test-and-save");
    let banner = s.wait(
        "the inline error",
        "const b = document.querySelector('.cloud-form .banner:not([hidden]), .cloud-form .field-error:not([hidden])');
         return b && !document.querySelector('#test-and-save').disabled ? b.textContent : null",
        json!([]),
        WAIT,
    );
    let banner = banner.as_str().unwrap();
    assert!(banner.to_lowercase().contains("credentials"), "the error says what is wrong: {banner}");
    assert!(!banner.contains("wrong-secret-value"), "the error never shows the secret");
    assert_eq!(s.js("return document.querySelector('#field-secret_access_key').getAttribute('aria-invalid')", json!([])), json!("true"));
    assert_eq!(s.count(".cloud-item[data-cloud-id]"), 0, "nothing is saved before the test passes");
    assert!(skydeck_core::store::Store::open(&data.path().join("skydeck.db")).unwrap().list_clouds().unwrap().is_empty());
    s.screenshot("wrong-secret-inline-error");

    // The right secret: saved, and its instances listed as moto reports them.
    s.clear("#field-secret_access_key");
    s.type_into("#field-secret_access_key", &moto.secret_access_key);
    submit_and_wait_saved(s, web.len());
    let shown = rows(s);
    let names: Vec<&str> = shown.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, web.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), "sorted by name");
    for (row, seeded) in shown.iter().zip(&web) {
        assert_eq!(row["state"], json!("running"));
        assert_eq!(row["ip"].as_str().unwrap_or_default(), seeded.public_ip.clone().unwrap_or_default());
    }
    assert_eq!(s.count(".cloud-item.status-ok"), 1, "the cloud's status dot is ok");
    s.screenshot("machine-list");

    // Details of one machine, then stop it from its action buttons.
    let target = &web[1];
    s.click(&format!(".grid-row[data-key$='/{}'] .col-name", target.id));
    s.wait("the details panel", "return document.getElementById('details-title')?.textContent === arguments[0]", json!([target.name]), WAIT);
    let details = s.text("#details");
    for want in [target.id.as_str(), target.size.as_str(), target.zone.as_str(), target.private_ip.as_deref().unwrap_or("")] {
        assert!(details.contains(want), "details show {want}: {details}");
    }
    let buttons = s.js("return [...document.querySelectorAll('#details [data-action]')].map(b => b.dataset.action)", json!([]));
    assert!(buttons.as_array().unwrap().contains(&json!("stop")) && !buttons.as_array().unwrap().contains(&json!("start")), "{buttons}");
    s.screenshot("details-panel");
    s.click("#details [data-action=stop]");
    s.wait(
        "the machine to show stopped",
        "const r = document.querySelector(`.grid-row[data-key$='/${arguments[0]}'] .col-state`); return r && r.textContent === 'stopped'",
        json!([target.id]),
        WAIT,
    );
    assert_eq!(moto.describe("us-east-1", &target.id).state, "stopped", "moto agrees");
    s.wait("the start button", "return !!document.querySelector('#details [data-action=start]')", json!([]), WAIT);
    s.screenshot("stopped");
    s.keys(ESCAPE);
    s.wait("Esc to close the details", "return document.getElementById('details').hidden", json!([]), WAIT);

    // Multi-select: bulk actions offer what the selected machines allow, with counts.
    let row = |id: &str| format!(".grid-row[data-key$='/{id}']");
    for w in &web {
        s.click(&format!("{} .cell-check input", row(&w.id)));
    }
    s.wait("the bulk bar", "return document.querySelector('#bulkbar:not([hidden]) [data-bulk=stop]')", json!([]), WAIT);
    let bulk = s.js("return [...document.querySelectorAll('#bulkbar [data-bulk]')].map(b => b.textContent)", json!([]));
    assert_eq!(bulk, json!(["Start (1)", "Stop (2)", "Reboot (2)"]), "one stopped and two running machines selected");
    s.screenshot("bulk-selection");
    s.click("#bulkbar [data-bulk=stop]");
    s.wait(
        "both running machines to stop",
        "return arguments[0].every(id => document.querySelector(`.grid-row[data-key$='/${id}'] .col-state`)?.textContent === 'stopped')",
        json!([[&web[0].id, &web[2].id]]),
        WAIT,
    );
    for w in [&web[0], &web[2]] {
        assert_eq!(moto.describe("us-east-1", &w.id).state, "stopped");
    }
    s.click("#bulkbar .btn-ghost");
    s.wait("the selection to clear", "return document.getElementById('bulkbar').hidden", json!([]), WAIT);

    // Rename from the details panel.
    s.click(&format!("{} .col-name", row(&web[0].id)));
    s.wait("the rename button", "return document.querySelector('#details [data-action=rename]')", json!([]), WAIT);
    s.click_until("#details [data-action=rename]", "the rename dialog", "return document.activeElement?.id === 'prompt-input'", json!([]), WAIT);
    s.clear("#prompt-input");
    s.type_into("#prompt-input", "web-zero");
    s.keys(ENTER);
    s.wait("the new name", "return document.getElementById('details-title')?.textContent === 'web-zero'", json!([]), WAIT);
    assert_eq!(moto.describe("us-east-1", &web[0].id).tags.get("Name").map(String::as_str), Some("web-zero"));

    // Destroy asks for the machine's name before it is enabled.
    s.click(&format!("{} .col-name", row(&web[2].id)));
    s.wait("the destroy button", "return document.getElementById('details-title')?.textContent === arguments[0]", json!([web[2].name]), WAIT);
    s.click("#details [data-action=destroy]");
    s.wait("the destroy dialog", "return document.querySelector('dialog[open] #confirm-input')", json!([]), WAIT);
    let confirm_enabled = "return !document.querySelector('dialog[open] .btn-danger').disabled";
    assert_eq!(s.js(confirm_enabled, json!([])), json!(false));
    s.type_into("#confirm-input", "web");
    assert_eq!(s.js(confirm_enabled, json!([])), json!(false), "a partial name does not enable destroy");
    s.type_into("#confirm-input", &web[2].name["web".len()..]);
    s.wait("destroy to be enabled", confirm_enabled, json!([]), WAIT);
    s.screenshot("destroy-confirmation");
    s.click("dialog[open] .btn-danger");
    s.wait("the machine to be terminated", "return !document.querySelector('#details [data-action]') && document.querySelector('.state-badge')?.textContent === 'terminated'", json!([]), WAIT);
    assert_eq!(moto.describe("us-east-1", &web[2].id).state, "terminated");
    s.keys(ESCAPE);
    let before = rows(s).len();

    // A cloud whose machine name (and title) is markup: shown as text, nothing executes.
    s.click("#add-cloud");
    fill_ec2_form(s, "evil <b>cloud</b>", &moto.access_key_id, &moto.secret_access_key, "eu-west-1", &moto.endpoint());
    submit_and_wait_saved(s, before + 1);
    let evil_name = &evil[0].name;
    assert!(evil_name.starts_with(PAYLOAD));
    let names: Vec<String> = rows(s).iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    assert!(names.contains(evil_name), "the payload is shown verbatim as text: {names:?}");
    assert_eq!(s.count("img[src='x']"), 0, "no element was created from the name");
    assert_eq!(s.count(".cloud-title b"), 0, "no element was created from the title");
    let sidebar = s.js("return document.getElementById('sidebar').textContent", json!([]));
    assert!(sidebar.as_str().unwrap().contains("evil <b>cloud</b>"), "{sidebar}");
    assert_eq!(s.alert_text(), None, "no script ran");
    s.screenshot("html-payload-as-text");

    // The CSP refuses inline scripts and eval; the capability refuses commands it does not grant.
    let csp = s.js(
        "const sc = document.createElement('script'); sc.textContent = 'window.__inline = 1'; document.head.append(sc);
         let ev = null; try { eval('1'); ev = 'evaluated'; } catch (e) { ev = e.name; }
         return [window.__inline ?? null, ev]",
        json!([]),
    );
    assert_eq!(csp, json!([null, "EvalError"]));
    let denied = s.js_async(
        "const done = arguments[arguments.length - 1];
         Promise.allSettled([
           window.__TAURI__.core.invoke('plugin:clipboard-manager|read_text'),
           window.__TAURI__.core.invoke('plugin:store|clear', {rid: 1}),
           window.__TAURI__.core.invoke('plugin:store|load', {path: '/tmp/skydeck-e2e-outside.json'}),
           window.__TAURI__.core.invoke('plugin:store|get_store', {path: '../../../.bashrc'}),
         ]).then(r => done(r.map(x => x.status + ' ' + String(x.reason))))",
        json!([]),
    );
    assert_eq!(denied.as_array().unwrap().len(), 4);
    for d in denied.as_array().unwrap() {
        assert!(d.as_str().unwrap().starts_with("rejected") && d.as_str().unwrap().contains("not allowed"), "{d}");
    }
    assert!(!std::path::Path::new("/tmp/skydeck-e2e-outside.json").exists());
    // UI preferences go through Skydeck's own command: known keys with checked values only.
    let prefs = s.js_async(
        "const done = arguments[arguments.length - 1];
         const set = (key, value) => window.__TAURI__.core.invoke('set_ui_pref', {key, value}).then(() => 'saved', e => `${e.code} ${e.field}`);
         Promise.all([set('../../../.bashrc', 'x'), set('sidebarWidth', 'huge'), set('sidebarWidth', 300)])
           .then(r => window.__TAURI__.core.invoke('get_ui_prefs').then(p => done([r, p.sidebarWidth])))",
        json!([]),
    );
    assert_eq!(prefs, json!([["invalid_input key", "invalid_input value", "saved"], 300]));
    // The troubleshooting log of this isolated run is beside its data.
    let logs: Vec<_> = std::fs::read_dir(data.path().join("logs")).expect("a logs dir in SKYDECK_DATA_DIR").map(|e| e.unwrap().path()).collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(log.contains("Skydeck starts"), "{log}");
    // After the whole flow (wrong secret, save, list, stop, bulk stop, rename, destroy), the
    // secrets typed into the form are nowhere but the keychain.
    assert_no_secret_anywhere(s, data.path(), &[moto.secret_access_key.as_str(), "wrong-secret-value"]);

    // The filter box: `/` focuses it; it matches names, IPs and tags.
    s.js("document.activeElement.blur()", json!([]));
    s.keys("/");
    assert_eq!(s.js("return document.activeElement.id", json!([])), json!("filter"));
    s.keys("onerror");
    s.wait("the filter", "return document.querySelectorAll('.grid-body .grid-row:not([hidden])').length === 1", json!([]), WAIT);
    assert_eq!(rows(s)[0]["name"], json!(evil_name));
    s.screenshot("filtered");
    s.clear("#filter");
    // (Stopped instances lose their public IP at moto, as at EC2: match a private one.)
    let ip = web[1].private_ip.as_deref().unwrap();
    s.type_into("#filter", ip);
    s.wait(
        "the IP filter",
        "const rows = [...document.querySelectorAll('.grid-body .grid-row:not([hidden])')];
         return rows.length < arguments[2] && rows.every(r => r.textContent.includes(arguments[0]))
             && rows.some(r => r.dataset.key.endsWith('/' + arguments[1]))",
        json!([ip, web[1].id, before + 1]),
        WAIT,
    );
    s.clear("#filter");
    s.keys(ESCAPE);

    // Sorting by a column header, both ways.
    s.wait("all rows back", "return document.querySelectorAll('.grid-body .grid-row:not([hidden])').length === arguments[0]", json!([before + 1]), WAIT);
    s.click("button.sort[data-sort=name]");
    s.wait("descending order", "return document.querySelector('[aria-sort=descending] [data-sort=name]')", json!([]), WAIT);
    let desc: Vec<String> = rows(s).iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    let mut expected = desc.clone();
    expected.sort();
    expected.reverse();
    assert_eq!(desc, expected);
    s.click("button.sort[data-sort=name]");

    // Remove both clouds (asks first); their keychain entries go with them.
    let ids: Vec<String> = serde_json::from_value(s.js(
        "return [...document.querySelectorAll('.cloud-item[data-cloud-id]')].map(e => e.dataset.cloudId)",
        json!([]),
    ))
    .unwrap();
    assert_eq!(ids.len(), 2);
    for (i, id) in ids.iter().enumerate() {
        s.click(&format!(".cloud-item[data-cloud-id='{id}'] .cloud-menu"));
        s.wait("the cloud menu", "return document.querySelector('.menu')", json!([]), WAIT);
        s.click(".menu .menu-item.danger");
        s.wait("the confirmation", "return document.querySelector('dialog[open] .btn-danger')", json!([]), WAIT);
        if i == 0 {
            s.screenshot("remove-confirmation");
        }
        s.click("dialog[open] .btn-danger");
        s.wait("the cloud to go", "return !document.querySelector(`.cloud-item[data-cloud-id='${arguments[0]}']`)", json!([id]), WAIT);
        let gone = Keychain::default().get(&cloud_account(id));
        assert!(gone.is_err(), "the keychain entry of a removed cloud is deleted");
    }
    s.wait("the empty state again", "return document.getElementById('empty')?.hidden === false", json!([]), WAIT);
    s.screenshot("all-removed");
}

/// 10,000 cached machines of clouds that cannot be reached (offline): the list shows them all,
/// marked stale with the reason, draws only the rows in view, and scrolls and filters quickly.
#[test]
fn ten_thousand_machines_offline_stay_smooth() {
    let _one = ONE_APP.lock().unwrap_or_else(|p| p.into_inner());
    if should_skip() {
        return;
    }
    const N: usize = 10_000;
    let data = tempfile::tempdir().unwrap();
    let closed = format!("http://127.0.0.1:{}", skydeck_tests::peer::free_port());
    let store = skydeck_core::store::Store::open(&data.path().join("skydeck.db")).unwrap();
    let keychain = Keychain::default();
    let mut names = Vec::with_capacity(N);
    let mut cloud_ids = Vec::new();
    for (c, spec) in skydeck_core::providers::all().iter().cycle().take(4).enumerate() {
        // Fill every field generically from the provider's declared form: secrets to the
        // keychain, the endpoint pointing at a closed local port.
        let id = format!("00000000-0000-4000-8000-00000000000{c}");
        let mut fields = BTreeMap::new();
        let mut secrets = Secrets::new();
        for f in spec.fields {
            if f.is_secret() {
                secrets.insert(f.key.to_string(), Sensitive::new("e2e-not-a-real-secret".into()));
            } else if f.key == "endpoint" {
                fields.insert(f.key.to_string(), closed.clone());
            } else if f.required {
                fields.insert(f.key.to_string(), f.default.unwrap_or(f.options.first().copied().unwrap_or("e2e")).to_string());
            }
        }
        keychain.set(&cloud_account(&id), &secrets).unwrap();
        store
            .insert_cloud(&Cloud {
                id: id.clone(),
                provider: spec.id.to_string(),
                title: format!("fleet {c}"),
                enabled: true,
                fields,
                created_at: "2024-01-01T00:00:00Z".into(),
            })
            .unwrap();
        let machines: Vec<Machine> = (0..N / 4)
            .map(|i| {
                let n = c * (N / 4) + i;
                let mut m = Machine::new(format!("vm-{n:05}"), format!("vm-{n:05}"), "running");
                m.cloud_id = id.clone();
                m.provider = spec.id.to_string();
                m.state = [MachineState::Running, MachineState::Stopped, MachineState::Running, MachineState::Error][n % 4];
                m.location = ["eu-west-1", "us-east-1", "ap-south-1"][n % 3].into();
                m.size = "m5.large".into();
                m.image = "debian-12".into();
                m.public_ips = vec![format!("198.51.{}.{}", n / 256, n % 256)];
                m.private_ips = vec![format!("10.0.{}.{}", n / 256, n % 256)];
                m.tags.insert("team".into(), format!("t{}", n % 40));
                m.created_at = Some("2024-02-03T04:05:06Z".into());
                names.push(m.name.clone());
                m
            })
            .collect();
        store.replace_machines(&id, &machines, "2024-06-01T00:00:00Z").unwrap();
        cloud_ids.push(id);
    }
    drop(store);
    let cleanup = KeychainCleanup(cloud_ids.clone());

    let app = App::launch(data.path(), &shots("ten-thousand"), &[]);
    let s = &app.session;
    s.wait(
        "10,000 machines",
        "return document.getElementById('shown-count')?.textContent === `${(10000).toLocaleString()} machines`",
        json!([]),
        WAIT,
    );
    let drawn = s.count(".grid-body .grid-row");
    assert!(drawn < 80, "only the rows in view are in the DOM, not {drawn}");
    // The unreachable clouds keep their machines, greyed and marked stale with the reason.
    s.wait("the clouds to turn stale", "return document.querySelectorAll('.cloud-item.status-stale').length === 4", json!([]), WAIT);
    s.wait("stale rows", "return document.querySelectorAll('.grid-body .grid-row.stale').length > 0", json!([]), WAIT);
    let reason = s.js("return document.querySelector('.cloud-item.status-stale .cloud-reason').textContent", json!([]));
    assert!(reason.as_str().is_some_and(|r| r.len() > 10), "the sidebar says why the cloud is stale: {reason}");
    s.screenshot("ten-thousand-stale");

    // Scroll to the end: the last machine by name is drawn, still with few DOM rows.
    let t = Instant::now();
    s.js("const v = document.getElementById('machines-grid'); v.scrollTop = v.scrollHeight;", json!([]));
    let mut sorted = names.clone();
    sorted.sort();
    s.wait(
        "the last row",
        "return [...document.querySelectorAll('.grid-body .grid-row:not([hidden]) .col-name')].some(e => e.textContent === arguments[0])",
        json!([sorted.last().unwrap()]),
        WAIT,
    );
    let scrolled = t.elapsed();
    assert!(s.count(".grid-body .grid-row") < 80);
    s.screenshot("ten-thousand-bottom");

    // Filter: the count and rows follow the query quickly.
    let query = "vm-0777";
    let expected = names.iter().filter(|n| n.contains(query)).count();
    s.js("document.activeElement.blur()", json!([]));
    s.keys("/");
    let t = Instant::now();
    s.keys(query);
    s.wait(
        "the filtered count",
        "return document.getElementById('shown-count').textContent === `${arguments[0].toLocaleString()} of ${(10000).toLocaleString()} machines`",
        json!([expected]),
        WAIT,
    );
    let filtered = t.elapsed();
    assert_eq!(rows(s).len(), expected);
    s.screenshot("ten-thousand-filtered");
    eprintln!("10,000 rows: scroll to end {scrolled:?}, filter incl. typing {filtered:?}, {drawn} DOM rows");
    assert!(scrolled < Duration::from_secs(3), "scrolling to the end took {scrolled:?}");
    assert!(filtered < Duration::from_secs(5), "filtering took {filtered:?}");

    // Readable at 1024×700: the default columns shrink to fit, nothing scrolls sideways.
    s.click("#chips .btn-ghost");
    s.wait(
        "the filter to clear",
        "return document.getElementById('shown-count')?.textContent === `${(10000).toLocaleString()} machines`",
        json!([]),
        WAIT,
    );
    s.set_window_size(1024, 700);
    s.wait(
        "columns to fit 1024 px",
        "const v = document.getElementById('machines-grid'); return v.scrollWidth <= v.clientWidth + 1",
        json!([]),
        WAIT,
    );
    s.screenshot("ten-thousand-1024x700");
    let light = s.js("return getComputedStyle(document.body).backgroundColor", json!([]));
    // A preference to find again after a restart (kept by tauri-plugin-store).
    s.click("button.sort[data-sort=name]");
    s.wait("name descending", "return document.querySelector('[aria-sort=descending] [data-sort=name]')", json!([]), WAIT);
    std::thread::sleep(Duration::from_millis(800)); // the store saves 400 ms after a change
    drop(app);

    // The OS dark setting (GTK's here) switches the theme.
    let app = App::launch(data.path(), &shots("ten-thousand-dark"), &[("GTK_THEME", "Adwaita:dark")]);
    let s = &app.session;
    s.wait("the machines", "return document.querySelectorAll('.grid-body .grid-row:not([hidden])').length > 10", json!([]), WAIT);
    let dark = s.js("return getComputedStyle(document.body).backgroundColor", json!([]));
    assert_ne!(light, dark, "the theme follows the OS setting");
    assert_eq!(s.js("return matchMedia('(prefers-color-scheme: dark)').matches", json!([])), json!(true));
    s.wait("the saved sort order", "return document.querySelector('[aria-sort=descending] [data-sort=name]')", json!([]), WAIT);
    assert_eq!(rows(s)[0]["name"], json!(sorted.last().unwrap()), "the last name comes first");
    s.screenshot("dark");
    drop(app);
    drop(cleanup);
}

/// Deletes the keychain entries the 10k scenario wrote, even when it fails.
struct KeychainCleanup(Vec<String>);
impl Drop for KeychainCleanup {
    fn drop(&mut self) {
        for id in &self.0 {
            let _ = Keychain::default().delete(&cloud_account(id));
        }
    }
}
