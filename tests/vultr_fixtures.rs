//! The Vultr parsers and driver against libcloud's recorded API v2 responses
//! (../shared/fixtures/libcloud/vultr_v2, see INDEX.md there). Parsers are fed the files
//! directly; the driver talks to the harness's replay server, which serves them the way
//! libcloud's own mock does and records each request, so cursor paging, key registration
//! and request bodies are checked too.

use base64::Engine;
use serde_json::json;
use skydeck_core::model::{Action, CreateMachine, MachineState, SshPublicKey};
use skydeck_core::provider::{Connection, Provider};
use skydeck_core::providers::vultr::{parse, SPEC};
use skydeck_core::secrets::Sensitive;
use skydeck_tests::fixture;
use skydeck_tests::replay::{Replay, Reply};
use std::collections::BTreeMap;
use skydeck_tests::tags;

const DIR: &str = "vultr_v2";
/// The public key of `list_key_pairs.json` (libcloud's recording), with another comment.
const RECORDED_KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCwRaxNA9gsFPVAIq4rkBjTtBAsofSJ0lJS3hPFHiwABpiihu45dcJtcmIqUO2jooVsKCfPJ/KrZ5DqhgPWbHJ/C+ZtHDhZ19jq022nfb+tfqCgwolKd8POlmivtpQdl3AaG4hm/Uh0VICAsrgp1o6EEzRLJE6vWrz4XaIUKYI1idzv/1kF2R9LBb60HXsQaIeV5z0036uy9d55wG+DtwUIpBBfyxevISS9n1kEI+MHi+Ci4D9dmE3SGm+9gDAZ2ZwPjWcAiUnf8SJ5CyA3MwUCa8czPgVMtpt5qZNYxilrGJEpPhnCHwT3YvUbh69F24kMDj2IX9LYjcvUsgIjXuxb me@desk";
const NEW_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnDjLNjW2CYezqqLpAnVaHN+A/g986/lf3QPK1endvg me@laptop";

fn fx(file: &str) -> String {
    fixture(DIR, file)
}

fn driver(replay: &Replay) -> Box<dyn Provider> {
    let fields = BTreeMap::from([("endpoint".to_string(), replay.url())]);
    let secrets = BTreeMap::from([("api_key".to_string(), Sensitive::new("FIXTUREKEY0123456789".to_string()))]);
    let http = skydeck_core::http::HttpClient::new().unwrap();
    (SPEC.connect)(Connection { cloud_id: "vultr-fx".into(), fields, secrets, http }).unwrap()
}

fn create_request(key: &str) -> CreateMachine {
    CreateMachine {
        name: "test123".into(),
        location: "ams".into(),
        size: "vc2-1c-1gb".into(),
        image: "446".into(),
        key: Some(SshPublicKey { name: "tester".into(), openssh: key.into(), fingerprint: String::new() }),
        tags: tags(&[("env", "prod")]),
        user_data: Some("#!/bin/sh\necho hi\n".into()),
        options: BTreeMap::new(),
        client_token: "t".into(),
    }
}

#[test]
fn parses_instances() {
    let page = parse::parse_instances(&fx("list_nodes.json")).unwrap();
    assert_eq!((page.next.as_deref(), page.total), (None, Some(3)));
    let ids: Vec<_> = page.items.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["123", "bccc8184-ae8b-49d9-ab7c-2dd5c507a4fd", "75c17a64-e703-4d3e-9969-70d39b6db3bf"]);
    let m = &page.items[0];
    assert_eq!((m.name.as_str(), m.raw_state.as_str()), ("test1", "running"));
    assert_eq!(SPEC.normalize(&m.raw_state), MachineState::Running);
    assert_eq!(m.public_ips, ["45.76.83.44"], "no IPv6 (v6_main_ip is empty)");
    assert!(m.private_ips.is_empty());
    assert_eq!((m.location.as_str(), m.size.as_str(), m.image.as_str()), ("fra", "vc2-1c-2gb", "Debian 11 x64"));
    assert_eq!(m.created_at.as_deref(), Some("2021-09-01T13:25:48Z"));
    assert!(m.tags.is_empty(), "tag is empty");
    assert_eq!(
        (m.extra["os_id"].as_str(), m.extra["memory_mb"].as_str(), m.extra["disk_gb"].as_str()),
        ("477", "2048", "55")
    );
    assert!(!m.extra.contains_key("app_id"), "app_id 0 means none");

    // Still installing its OS: active + running, server_status installingbooting.
    let booting = &page.items[2];
    assert_eq!(
        (booting.raw_state.as_str(), SPEC.normalize(&booting.raw_state)),
        ("installingbooting", MachineState::Starting)
    );
    assert_eq!(booting.private_ips, ["10.8.96.3"]);
    assert_eq!(booting.location, "lhr");

    let created = parse::parse_instance(&fx("create_node.json")).unwrap();
    assert_eq!((created.id.as_str(), created.name.as_str(), created.raw_state.as_str()), ("123", "test123", "pending"));
    assert_eq!(SPEC.normalize(&created.raw_state), MachineState::Pending);
    assert!(created.public_ips.is_empty(), "0.0.0.0 is no address yet");
    assert_eq!(created.private_ips, ["10.7.96.6"]);
    assert_eq!(created.tags, tags(&[("dimgal1223444", "")]), "the legacy single `tag`");
    assert!(!created.extra.values().any(|v| v.contains("kB1?@aqK3QSk")), "the default password is never kept");

    let one = parse::parse_instance(&fx("ex_get_node.json")).unwrap();
    assert_eq!((one.id.as_str(), one.public_ips.as_slice()), ("123", ["45.76.36.72".to_string()].as_slice()));
}

#[test]
fn parses_the_catalog() {
    let plans = parse::parse_plans(&fx("list_sizes.json")).unwrap();
    assert_eq!(plans.total, Some(21));
    // vdc-8vcpu-32gb is offered nowhere: it cannot be created.
    assert_eq!(plans.items.len(), 20);
    assert!(!plans.items.iter().any(|p| p.id == "vdc-8vcpu-32gb"));
    let p = &plans.items[0];
    assert_eq!(
        (p.id.as_str(), p.vcpus, p.ram_mb, p.disk_gb, p.price_monthly),
        ("vc2-1c-1gb", Some(1), Some(1024), Some(25), Some(5.0))
    );
    assert_eq!(p.locations.len(), 17);
    assert_eq!(p.locations[..3], ["ewr", "ord", "dfw"]);
    let last = plans.items.last().unwrap();
    assert_eq!((last.id.as_str(), last.price_monthly, last.locations.len()), ("vhf-12c-48gb", Some(256.0), 3));

    let regions = parse::parse_regions(&fx("list_locations.json")).unwrap().items;
    assert_eq!(regions.len(), 17);
    assert_eq!(
        (regions[0].id.as_str(), regions[0].name.as_str(), regions[0].country.as_deref()),
        ("ams", "Amsterdam", Some("NL"))
    );
    assert_eq!(
        (regions[16].id.as_str(), regions[16].name.as_str(), regions[16].country.as_deref()),
        ("yto", "Toronto", Some("CA"))
    );

    let os = parse::parse_os(&fx("list_images.json")).unwrap().items;
    // 30 entries, of which Custom (iso), Snapshot, Backup and Application are not systems.
    assert_eq!(os.len(), 26);
    assert!(!os.iter().any(|o| ["159", "164", "180", "186"].contains(&o.id.as_str())));
    assert_eq!(
        (os[0].id.as_str(), os[0].name.as_str(), os[0].distribution.as_deref(), os[0].arch.as_deref()),
        ("124", "Windows 2012 R2 x64", Some("windows"), Some("x64"))
    );
    assert_eq!(os.last().unwrap().name, "Debian 11 x64 (bullseye)");

    let keys = parse::parse_ssh_keys(&fx("list_key_pairs.json")).unwrap().items;
    assert_eq!((keys[0].id.as_str(), keys[0].name.as_str()), ("123", "tester"));
    assert!(keys[0].ssh_key.starts_with("ssh-rsa AAAAB3NzaC1yc2E"));
    assert_eq!(parse::parse_ssh_key(&fx("import_key_pair_from_string.json")).unwrap().id, "123");
}

#[tokio::test]
async fn follows_the_cursor_to_the_last_page() {
    let replay = Replay::start(DIR);
    replay.route(
        None,
        "GET",
        "_v2_os",
        ["list_images_paginated_1.json", "list_images_paginated_2.json", "list_images_paginated_3.json"]
            .map(|f| Reply::fixture(DIR, f)),
    );
    let images = driver(&replay).list_images().await.unwrap();
    assert_eq!(images.len(), 26);
    assert_eq!((images[0].id.as_str(), images.last().unwrap().id.as_str()), ("124", "477"));
    let cursors: Vec<_> = replay.find("GET", "_v2_os").iter().map(|r| r.param("cursor")).collect();
    assert_eq!(cursors, [None, Some("bmV4dF9fMjMw".to_string()), Some("bmV4dF9fNDAx".to_string())]);
    assert!(replay.requests().iter().all(|r| r.param("per_page").as_deref() == Some("500")));
}

#[tokio::test]
async fn create_reuses_a_registered_key() {
    let replay = Replay::start(DIR);
    replay.serve("GET", "_v2_ssh_keys", "list_key_pairs.json");
    replay.serve("POST", "_v2_instances", "create_node.json");
    let m = driver(&replay).create_machine(&create_request(RECORDED_KEY)).await.unwrap();
    assert_eq!((m.id.as_str(), m.raw_state.as_str()), ("123", "pending"));

    assert!(replay.find("POST", "_v2_ssh_keys").is_empty(), "the same public key is already registered");
    let body = replay.find("POST", "_v2_instances")[0].json();
    assert_eq!(
        body,
        json!({
            "region": "ams",
            "plan": "vc2-1c-1gb",
            "label": "test123",
            "os_id": 446,
            "sshkey_id": ["123"],
            "tags": ["env:prod"],
            "user_data": base64::engine::general_purpose::STANDARD.encode("#!/bin/sh\necho hi\n"),
        })
    );
}

#[tokio::test]
async fn create_registers_a_new_key_first() {
    let replay = Replay::start(DIR);
    replay.serve("GET", "_v2_ssh_keys", "list_key_pairs.json");
    replay.serve("POST", "_v2_ssh_keys", "import_key_pair_from_string.json");
    replay.serve("POST", "_v2_instances", "create_node.json");
    driver(&replay).create_machine(&create_request(NEW_KEY)).await.unwrap();

    let order: Vec<_> = replay.requests().into_iter().map(|r| format!("{} {}", r.method, r.handler)).collect();
    assert_eq!(order, ["GET _v2_ssh_keys", "POST _v2_ssh_keys", "POST _v2_instances"]);
    assert_eq!(replay.find("POST", "_v2_ssh_keys")[0].json(), json!({ "name": "tester", "ssh_key": NEW_KEY }));
    assert_eq!(replay.find("POST", "_v2_instances")[0].json()["sshkey_id"], json!(["123"]));
}

#[tokio::test]
async fn actions_rename_and_tags_send_what_vultr_expects() {
    let replay = Replay::start(DIR);
    replay.serve("GET", "_v2_instances", "list_nodes.json");
    replay.serve("PATCH", "_v2_instances_123", "ex_resize_node.json");
    for verb in ["start", "halt", "reboot"] {
        replay.route(None, "POST", &format!("_v2_instances_123_{verb}"), [Reply::json(204, "")]);
    }
    replay.route(None, "DELETE", "_v2_instances_123", [Reply::json(204, "")]);
    let d = driver(&replay);
    let mut machines = d.list_machines().await.unwrap();
    SPEC.finish("vultr-fx", &mut machines);
    let m = &machines[0];
    for a in [Action::Start, Action::Stop, Action::Reboot, Action::Destroy] {
        d.machine_action(m, a).await.unwrap();
    }
    d.rename(m, "renamed").await.unwrap();
    d.set_tags(m, &tags(&[("web", ""), ("env", "prod")])).await.unwrap();

    let sent: Vec<_> = replay.requests().into_iter().skip(1).collect();
    let handlers: Vec<_> = sent.iter().map(|r| format!("{} {}", r.method, r.handler)).collect();
    assert_eq!(
        handlers,
        [
            "POST _v2_instances_123_start",
            "POST _v2_instances_123_halt",
            "POST _v2_instances_123_reboot",
            "DELETE _v2_instances_123",
            "PATCH _v2_instances_123",
            "PATCH _v2_instances_123",
        ]
    );
    assert_eq!(sent[4].json(), json!({ "label": "renamed" }));
    assert_eq!(sent[5].json(), json!({ "tags": ["env:prod", "web"] }));
}
