//! The tray on tauri's mock runtime (no display): the native menu built from a model has the
//! right ids, and every command a click can carry is routed to what it should do. The routing
//! test runs the real app setup (live refresh included) against libvirt's in-process
//! `test:///default` host, so "Stop" really stops a domain.

use super::*;
use crate::live::INVENTORY_CHANGED;
use crate::{run_app, AppState};
use skydeck_core::model::{Action, CloudView, Machine, MachineState};
use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::tray::tray_model;
use skydeck_core::{NewCloud, Skydeck};
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tauri::menu::MenuItemKind;
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::Listener;

/// XDG dirs in a temp dir for the whole test process (the store plugin writes under them).
fn xdg() {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let d = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    std::env::set_var("XDG_DATA_HOME", d.path().join("data"));
    std::env::set_var("XDG_CONFIG_HOME", d.path().join("config"));
}

fn mock_app(deck: Skydeck) -> tauri::App<MockRuntime> {
    xdg();
    run_app(mock_builder(), AppState::new(deck)).build(mock_context(noop_assets())).expect("mock app builds")
}

/// Every item id of a menu, submenus flattened, with submenus' own ids too.
fn ids(items: Vec<MenuItemKind<MockRuntime>>) -> Vec<String> {
    let mut out = Vec::new();
    for it in items {
        out.push(it.id().as_ref().to_string());
        if let Some(sub) = it.as_submenu() {
            out.extend(ids(sub.items().unwrap()));
        }
    }
    out
}

fn machine(cloud: &str, id: &str, state: MachineState, actions: &[Action], ip: Option<&str>) -> Machine {
    let mut m = Machine::new(id, format!("vm-{id}"), state.as_str());
    m.cloud_id = cloud.into();
    m.state = state;
    m.actions = actions.to_vec();
    m.public_ips = ip.map(|i| vec![i.to_string()]).unwrap_or_default();
    m
}

#[test]
fn the_native_menu_has_one_item_per_model_entry_with_parseable_ids() {
    let dir = tempfile::tempdir().unwrap();
    let app = mock_app(Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap());
    let cloud: CloudView = serde_json::from_value(serde_json::json!({
        "id": "c1", "provider": "ec2", "title": "work", "enabled": true, "fields": {}, "created_at": "",
        "status": {"last_ok": null, "last_attempt": null, "error": null, "machine_count": 2}
    }))
    .unwrap();
    let ms = [
        machine("c1", "i-1", MachineState::Running, &[Action::Stop, Action::Reboot, Action::Destroy], Some("198.51.100.4")),
        machine("c1", "i-2", MachineState::Stopped, &[Action::Start], None),
    ];
    let pins = [("c1".to_string(), "i-1".to_string()), ("c1".to_string(), "i-2".to_string())];
    let model = tray_model(std::slice::from_ref(&cloud), &ms, &pins);
    let menu = build_menu(app.handle(), &model).unwrap();
    let got = ids(menu.items().unwrap());
    let want_in_order = [
        "summary", "open", "refresh", "new-machine", "pinned",
        "pin|c1|i-1", "act|stop|c1|i-1", "act|reboot|c1|i-1", "copy-ip|c1|i-1", "copy-ssh|c1|i-1",
        "pin|c1|i-2", "act|start|c1|i-2", "quit",
    ];
    let named: Vec<&str> = got.iter().map(String::as_str).filter(|id| want_in_order.contains(id)).collect();
    assert_eq!(named, want_in_order, "all items, in menu order: {got:?}");
    // Besides separators, nothing else is in the menu; every clickable id parses to its command.
    let leaves: Vec<&String> = got.iter().filter(|id| !id.starts_with("pin|") && !["summary", "pinned"].contains(&id.as_str())).collect();
    for id in &leaves {
        if want_in_order.contains(&id.as_str()) {
            assert_eq!(TrayCommand::parse(id).map(|c| c.id()).as_deref(), Some(id.as_str()));
        }
    }
    let texts: Vec<String> = menu
        .items()
        .unwrap()
        .iter()
        .filter_map(|i| i.as_menuitem().map(|m| m.text().unwrap()))
        .collect();
    assert_eq!(texts[0], model.summary, "the summary line comes first");
    assert!(texts.contains(&"Refresh now".to_string()) && texts.contains(&"Quit Skydeck".to_string()));
    let summary = menu.get("summary").unwrap();
    assert!(!summary.as_menuitem().unwrap().is_enabled().unwrap(), "the summary is not clickable");

    // No pins: a hint instead of the section; an error mark in the summary.
    let mut failing = cloud;
    failing.status.error = Some(skydeck_core::ErrorBody { code: "unauthenticated".into(), message: "x".into(), field: None });
    let model = tray_model(&[failing], &ms, &[]);
    let got = ids(build_menu(app.handle(), &model).unwrap().items().unwrap());
    assert!(got.contains(&NO_PINS_ID.to_string()) && !got.iter().any(|i| i.starts_with("pin|")), "{got:?}");
    assert!(model.summary.contains('⚠'));
}

/// Waits for the next `inventory-changed` payload.
fn next(rx: &mpsc::Receiver<serde_json::Value>, what: &str) -> serde_json::Value {
    rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("no inventory-changed event: {what}"))
}

#[test]
fn every_tray_command_is_routed_to_its_effect() {
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap();
    let fields = BTreeMap::from([("uri".to_string(), Sensitive::new("test:///default".to_string()))]);
    let cloud = tauri::async_runtime::block_on(deck.add_cloud(NewCloud { provider: "libvirt".into(), title: "kvm".into(), fields }))
        .expect("libvirt's test driver is available (libvirt-dev / libvirt0)");
    let mut app = mock_app(deck);
    let (tx, rx) = mpsc::channel();
    app.listen_any(INVENTORY_CHANGED, move |e| {
        let _ = tx.send(serde_json::from_str::<serde_json::Value>(e.payload()).unwrap());
    });
    let (wtx, wrx) = mpsc::channel();
    app.listen_any(OPEN_WIZARD, move |_| {
        let _ = wtx.send(());
    });
    // One iteration runs setup (run_return would block until the app exits).
    #[allow(deprecated)]
    app.run_iteration(|_, _| {}); // runs setup: live refresh starts and lists the host at once
    let h = app.handle().clone();
    let run = |cmd: TrayCommand| tauri::async_runtime::block_on(handle(&h, cmd));

    let first = next(&rx, "the first refresh at startup");
    assert_eq!(first["cloud_id"], cloud.id.as_str());
    assert_eq!(first["cloud"]["status"]["error"], serde_json::Value::Null, "{first}");
    let added = first["changes"].as_array().unwrap();
    assert_eq!(added.len(), 1, "test:///default has one domain: {first}");
    assert_eq!(added[0]["kind"], "added");
    let id = added[0]["machine"]["id"].as_str().unwrap().to_string();
    assert!(first["next_refresh_ms"].as_u64().unwrap() >= 15_000, "idle: the slow interval");

    // Pinning rebuilds the tray model: the running domain offers Stop and Reboot (and copying
    // its address).
    let deck = h.state::<AppState>().skydeck.clone();
    deck.pin(&format!("{}/{id}", cloud.id)).unwrap();
    h.state::<Live>().changed();
    let model = current(&h).expect("the tray model is kept");
    let labels: Vec<&str> = model.pinned[0].items.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(labels, ["Stop", "Reboot", "Copy IP", "Copy SSH command"], "{model:?}");
    let machine = deck.find_machine(&format!("{}/{id}", cloud.id)).unwrap();
    let ip = machine.public_ips.first().or(machine.private_ips.first()).unwrap().clone();

    // Copy IP / Copy SSH command: what is copied is the machine's address. Without a display
    // there is no clipboard, and the error says so.
    for (cmd, want) in [
        (TrayCommand::CopyIp { cloud_id: cloud.id.clone(), id: id.clone() }, ip.clone()),
        (TrayCommand::CopySsh { cloud_id: cloud.id.clone(), id: id.clone() }, skydeck_core::tray::ssh_command(&machine).unwrap()),
    ] {
        match run(cmd) {
            Ok(Handled::Copied(text)) => assert_eq!(text, want),
            Err(e) if std::env::var_os("DISPLAY").is_none() => assert!(e.message.contains("clipboard"), "{e:?}"),
            other => panic!("copy: {other:?}"),
        }
    }
    assert!(want_ssh_has_ip(&machine, &ip));

    // Refresh now: a refresh happens long before the slow interval would bring one.
    assert_eq!(run(TrayCommand::RefreshNow), Ok(Handled::Refreshing));
    let again = next(&rx, "after Refresh now");
    assert_eq!(again["cloud_id"], cloud.id.as_str());

    // New machine: the window is asked to open the wizard.
    assert_eq!(run(TrayCommand::NewMachine), Ok(Handled::WizardRequested));
    wrx.recv_timeout(Duration::from_secs(5)).expect("open-wizard is emitted");
    assert_eq!(run(TrayCommand::Open), Ok(Handled::Shown));

    // A pinned machine's Stop, parsed from its menu id exactly as a click is.
    let stop_id = &model.pinned[0].items[0].0;
    let Ok(Handled::Acted(m)) = run(TrayCommand::parse(stop_id).unwrap()) else { panic!("stop did not act") };
    assert_eq!(m.state, MachineState::Stopped);
    let cached = deck.find_machine(&format!("{}/{id}", cloud.id)).unwrap();
    assert_eq!(cached.state, MachineState::Stopped, "the cache knows");
    let actions: Vec<String> =
        current(&h).unwrap().pinned[0].items.iter().filter(|(id, _)| id.starts_with("act|")).map(|(_, l)| l.clone()).collect();
    assert_eq!(actions, ["Start"], "the tray menu follows the new state");
    // The action put the cloud on the fast pace.
    let fast = (0..5).map(|_| next(&rx, "after the action")).any(|e| e["next_refresh_ms"].as_u64() == Some(5_000));
    assert!(fast, "after an action the cloud is refreshed at the fast interval");

    // A machine that is gone: an error that says so, nothing copied.
    let err = run(TrayCommand::CopyIp { cloud_id: cloud.id.clone(), id: "gone".into() }).unwrap_err();
    assert_eq!(err.code, "not_found", "{err:?}");
    // An action the machine does not allow in its state is refused by the core.
    let err = run(TrayCommand::Action { cloud_id: cloud.id.clone(), id: id.clone(), action: Action::Stop }).unwrap_err();
    assert_eq!(err.code, "conflict", "{err:?}");
    drop(app);
}

fn want_ssh_has_ip(m: &Machine, ip: &str) -> bool {
    skydeck_core::tray::ssh_command(m).is_some_and(|c| c.contains(ip))
}

/// A provider's "IP" that is not an IP address is never copied, neither as the address nor
/// inside the SSH command: both say there is no valid address.
#[test]
fn copy_ip_and_copy_ssh_refuse_an_address_that_is_not_an_ip() {
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap();
    let cloud = skydeck_core::model::Cloud {
        id: "c1".into(),
        provider: "ec2".into(),
        title: "work".into(),
        // Disabled: the live refresher leaves its cached machines alone.
        enabled: false,
        fields: Default::default(),
        created_at: String::new(),
    };
    deck.store().insert_cloud(&cloud).unwrap();
    let mut m = machine("c1", "i-1", MachineState::Running, &[], Some("1.2.3.4; rm -rf ~"));
    m.private_ips = vec!["-oProxyCommand=touch /tmp/pwned".into()];
    deck.store().replace_machines("c1", &[m], "2024-06-01T00:00:00Z").unwrap();
    let mut app = mock_app(deck);
    #[allow(deprecated)]
    app.run_iteration(|_, _| {}); // runs setup (the live state the handler uses)
    let h = app.handle().clone();
    for cmd in [
        TrayCommand::CopyIp { cloud_id: "c1".into(), id: "i-1".into() },
        TrayCommand::CopySsh { cloud_id: "c1".into(), id: "i-1".into() },
    ] {
        let err = tauri::async_runtime::block_on(handle(&h, cmd.clone())).unwrap_err();
        assert_eq!(err.code, "not_found", "{cmd:?}: {err:?}");
        assert!(err.message.contains("no valid IP address"), "{err:?}");
    }
    drop(app);
}
