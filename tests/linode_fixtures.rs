//! The Linode parsers and driver against libcloud's recorded API v4 responses
//! (../shared/fixtures/libcloud/linode_v4, see INDEX.md there). Parsers are fed the files
//! directly; the driver talks to the harness's replay server, which serves them the way
//! libcloud's own mock does and records each request, so pagination and request bodies are
//! checked too.

use base64::Engine;
use serde_json::json;
use skydeck_core::model::{Action, CreateMachine, MachineState, SshPublicKey};
use skydeck_core::provider::{Connection, Provider};
use skydeck_core::providers::linode::{parse, SPEC};
use skydeck_core::secrets::Sensitive;
use skydeck_tests::fixture;
use skydeck_tests::replay::{Replay, Reply};
use std::collections::BTreeMap;
use skydeck_tests::tags;

const DIR: &str = "linode_v4";
const PUBKEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnDjLNjW2CYezqqLpAnVaHN+A/g986/lf3QPK1endvg me@laptop";

fn fx(file: &str) -> String {
    fixture(DIR, file)
}

fn driver(replay: &Replay) -> Box<dyn Provider> {
    let fields = BTreeMap::from([("endpoint".to_string(), replay.url())]);
    let secrets = BTreeMap::from([("token".to_string(), Sensitive::new("fixture-token-0123456789".to_string()))]);
    let http = skydeck_core::http::HttpClient::new().unwrap();
    (SPEC.connect)(Connection { cloud_id: "linode-fx".into(), fields, secrets, http }).unwrap()
}

#[test]
fn parses_instances() {
    let page = parse::parse_instances(&fx("list_nodes.json")).unwrap();
    assert_eq!((page.page, page.pages), (1, 1));
    let ids: Vec<_> = page.items.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["22344420", "22344421"]);
    let m = &page.items[0];
    assert_eq!((m.name.as_str(), m.raw_state.as_str()), ("test_2", "running"));
    assert_eq!(SPEC.normalize(&m.raw_state), MachineState::Running);
    // One IPv4 array holds both kinds: 192.168.x is Linode's private network.
    assert_eq!(m.public_ips, ["138.89.34.81", "2a01:7e00::f03c:92ff:fe48:dc47"]);
    assert_eq!(m.private_ips, ["192.168.1.230"]);
    assert_eq!((m.location.as_str(), m.size.as_str(), m.image.as_str()), ("eu-west", "g6-nanode-1", "linode/centos7"));
    assert_eq!(m.created_at.as_deref(), Some("2020-10-08T18:51:29Z"));
    assert_eq!(m.tags, tags(&[("123", ""), ("abcdefg", ""), ("testing", "")]));
    assert_eq!(
        (m.extra["vcpus"].as_str(), m.extra["memory_mb"].as_str(), m.extra["disk_gb"].as_str()),
        ("1", "1024", "25")
    );
    assert_eq!(page.items[1].public_ips, ["156.12.197.243", "2a01:7e00::f03c:92ff:fe48:dcf2"]);
    assert!(page.items[1].private_ips.is_empty());

    let created = parse::parse_instance(&fx("create_node.json")).unwrap();
    assert_eq!(
        (created.id.as_str(), created.name.as_str(), created.raw_state.as_str()),
        ("45501392", "TestNode", "provisioning")
    );
    assert_eq!(SPEC.normalize(&created.raw_state), MachineState::Pending);
    assert_eq!(created.private_ips, ["192.168.206.100"]);
    assert_eq!(created.tags, tags(&[("testing123", "")]));
    assert_eq!(parse::parse_instance(&fx("ex_rename_node.json")).unwrap().name, "new_name");
}

#[test]
fn parses_the_catalog() {
    let types = parse::parse_types(&fx("list_types.json")).unwrap().items;
    assert_eq!(types.len(), 28);
    let t = &types[0];
    assert_eq!((t.id.as_str(), t.name.as_str()), ("g6-nanode-1", "g6-nanode-1 (Nanode 1GB)"));
    assert_eq!(
        (t.vcpus, t.ram_mb, t.disk_gb, t.price_hourly, t.price_monthly),
        (Some(1), Some(1024), Some(25), Some(0.0075), Some(5.0))
    );
    let gpu = types.last().unwrap();
    assert_eq!(
        (gpu.id.as_str(), gpu.vcpus, gpu.ram_mb, gpu.disk_gb),
        ("g1-gpu-rtx6000-4", Some(24), Some(131072), Some(2560))
    );
    assert_eq!(gpu.price_monthly, Some(4000.0));

    let regions = parse::parse_regions(&fx("list_locations.json")).unwrap().items;
    assert_eq!(regions.len(), 10);
    assert_eq!(
        (regions[0].id.as_str(), regions[0].country.as_deref(), regions[0].available),
        ("ap-west", Some("IN"), true)
    );
    // No label in this older answer: the id is the name.
    assert_eq!(regions[0].name, "ap-west");
    let eu_west = regions.iter().find(|r| r.id == "eu-west").unwrap();
    assert_eq!(eu_west.country.as_deref(), Some("GB"), "Linode's `uk` is ISO GB");

    let images = parse::parse_images(&fx("list_images.json")).unwrap().items;
    assert_eq!(images.len(), 34);
    assert_eq!(
        (images[0].id.as_str(), images[0].name.as_str(), images[0].distribution.as_deref()),
        ("linode/alpine3.10", "Alpine 3.10", Some("Alpine"))
    );
    assert_eq!(images[33].id, "linode/ubuntu19.10");

    let p1 = parse::parse_images(&fx("list_images_paginated_page_1.json")).unwrap();
    let p2 = parse::parse_images(&fx("list_images_paginated_page_2.json")).unwrap();
    assert_eq!((p1.items.len(), p1.page, p1.pages, p2.items.len(), p2.page, p2.pages), (25, 1, 2, 9, 2, 2));
}

#[tokio::test]
async fn follows_every_page() {
    let replay = Replay::start(DIR);
    replay.route(
        None,
        "GET",
        "_v4_images",
        [
            Reply::fixture(DIR, "list_images_paginated_page_1.json"),
            Reply::fixture(DIR, "list_images_paginated_page_2.json"),
        ],
    );
    let images = driver(&replay).list_images().await.unwrap();
    assert_eq!(images.len(), 34);
    assert_eq!((images[0].id.as_str(), images[25].id.as_str()), ("linode/alpine3.10", "linode/containerlinux"));
    let sent = replay.find("GET", "_v4_images");
    let pages: Vec<_> = sent.iter().map(|r| (r.param("page").unwrap(), r.param("page_size").unwrap())).collect();
    assert_eq!(pages, [("1".to_string(), "500".to_string()), ("2".to_string(), "500".to_string())]);
}

#[tokio::test]
async fn create_sends_the_key_inline_with_user_data() {
    let replay = Replay::start(DIR);
    replay.serve("POST", "_v4_linode_instances", "create_node.json");
    let req = CreateMachine {
        name: "TestNode".into(),
        location: "eu-west".into(),
        size: "g6-nanode-1".into(),
        image: "linode/centos7".into(),
        key: Some(SshPublicKey { name: "laptop".into(), openssh: PUBKEY.into(), fingerprint: String::new() }),
        tags: tags(&[("testing123", ""), ("env", "prod")]),
        user_data: Some("#cloud-config\nruncmd: [touch, /ok]\n".into()),
        options: BTreeMap::new(),
        client_token: "t".into(),
    };
    let m = driver(&replay).create_machine(&req).await.unwrap();
    assert_eq!((m.id.as_str(), m.raw_state.as_str()), ("45501392", "provisioning"));

    let sent = replay.find("POST", "_v4_linode_instances");
    assert_eq!(sent.len(), 1);
    let body = sent[0].json();
    assert_eq!(
        (&body["label"], &body["region"], &body["type"], &body["image"], &body["booted"]),
        (&json!("TestNode"), &json!("eu-west"), &json!("g6-nanode-1"), &json!("linode/centos7"), &json!(true))
    );
    assert_eq!(body["authorized_keys"], json!([PUBKEY]));
    assert_eq!(body["tags"], json!(["env:prod", "testing123"]));
    let ud = base64::engine::general_purpose::STANDARD.decode(body["metadata"]["user_data"].as_str().unwrap()).unwrap();
    assert_eq!(String::from_utf8(ud).unwrap(), "#cloud-config\nruncmd: [touch, /ok]\n");
    // A throwaway root password is required by Linode for an image deploy; it is never kept.
    assert_eq!(body["root_pass"].as_str().unwrap().len(), 40);
    assert!(!m.extra.values().any(|v| v == body["root_pass"].as_str().unwrap()));
}

#[tokio::test]
async fn actions_rename_and_tags_send_what_linode_expects() {
    let replay = Replay::start(DIR);
    replay.serve("GET", "_v4_linode_instances", "list_nodes.json");
    replay.serve("PUT", "_v4_linode_instances_22344420", "ex_rename_node.json");
    for verb in ["boot", "shutdown", "reboot"] {
        replay.route(None, "POST", &format!("_v4_linode_instances_22344420_{verb}"), [Reply::json(200, "{}")]);
    }
    replay.route(None, "DELETE", "_v4_linode_instances_22344420", [Reply::json(200, "{}")]);
    let d = driver(&replay);
    let mut machines = d.list_machines().await.unwrap();
    SPEC.finish("linode-fx", &mut machines);
    let m = &machines[0];
    assert_eq!(m.actions, [Action::Stop, Action::Reboot, Action::Destroy, Action::Rename, Action::Tag]);

    for a in [Action::Start, Action::Stop, Action::Reboot, Action::Destroy] {
        d.machine_action(m, a).await.unwrap();
    }
    d.rename(m, "new_name").await.unwrap();
    d.set_tags(m, &tags(&[("team", "ops"), ("testing", "")])).await.unwrap();

    let sent: Vec<_> =
        replay.requests().into_iter().skip(1).map(|r| (r.method.clone(), r.handler.clone(), r.json())).collect();
    let handlers: Vec<_> = sent.iter().map(|(m, h, _)| format!("{m} {h}")).collect();
    assert_eq!(
        handlers,
        [
            "POST _v4_linode_instances_22344420_boot",
            "POST _v4_linode_instances_22344420_shutdown",
            "POST _v4_linode_instances_22344420_reboot",
            "DELETE _v4_linode_instances_22344420",
            "PUT _v4_linode_instances_22344420",
            "PUT _v4_linode_instances_22344420",
        ]
    );
    assert_eq!(sent[4].2, json!({ "label": "new_name" }));
    assert_eq!(sent[5].2, json!({ "tags": ["team:ops", "testing"] }));
}
