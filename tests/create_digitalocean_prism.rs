//! Creating droplets against Stoplight Prism serving DigitalOcean's own OpenAPI spec: the SSH
//! key registration (`/v2/account/keys`) and the droplet create must pass the spec's request
//! validation (no `sl-violations`), through the driver and through the whole Skydeck flow
//! (catalog checks, create, wait, activity).

use skydeck_core::catalog::CatalogKind;
use skydeck_core::keys;
use skydeck_core::model::{CreateMachine, MachineState, SshPublicKey};
use skydeck_core::provider::{Connection, Provider};
use skydeck_core::providers::digitalocean::SPEC;
use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::{CreateRequest, NewCloud, Skydeck};
use skydeck_tests::prism::{Prism, Recorder};
use skydeck_tests::suite::Lifecycle;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use skydeck_tests::tags;

const TOKEN: &str = "dop_v1_prism_create_token_0123456789";

fn prism() -> &'static Prism {
    Prism::shared(&skydeck_tests::shared_dir().join("specs/digitalocean/DigitalOcean-public.v2.bundled.yaml"))
}

fn connect(rec: &Recorder) -> Box<dyn Provider> {
    let fields = BTreeMap::from([("endpoint".to_string(), prism().url())]);
    let secrets = BTreeMap::from([("token".to_string(), Sensitive::new(TOKEN.to_string()))]);
    (SPEC.connect)(Connection { cloud_id: "do".into(), fields, secrets, http: rec.client() }).unwrap()
}

fn public(name: &str) -> SshPublicKey {
    let k = keys::generate(name).unwrap();
    SshPublicKey { name: name.into(), openssh: k.public_key, fingerprint: k.fingerprint }
}

fn create_req(key: Option<SshPublicKey>) -> CreateMachine {
    CreateMachine {
        name: "web-1".into(),
        location: "nyc3".into(),
        size: "s-1vcpu-1gb".into(),
        image: "ubuntu-20-04-x64".into(),
        key,
        tags: tags(&[("env", "prod"), ("web", "")]),
        user_data: Some("#cloud-config\nruncmd:\n  - touch /ok\n".into()),
        options: BTreeMap::new(),
        client_token: "unused-by-digitalocean".into(),
    }
}

#[tokio::test]
async fn key_registration_and_droplet_create_pass_the_spec() {
    let rec = Recorder::default();
    let driver = connect(&rec);
    let mut m = driver.create_machine(&create_req(Some(public("laptop")))).await.unwrap();
    SPEC.finish("do", std::slice::from_mut(&mut m));
    // Prism answers with the spec's example droplet.
    assert_eq!((m.id.as_str(), m.name.as_str()), ("3164444", "example.com"));
    assert_eq!((m.raw_state.as_str(), m.state), ("new", MachineState::Pending), "a new droplet starts as 'new'");
    assert_eq!(m.location, "nyc3");

    let sent: Vec<_> = rec.exchanges().into_iter().map(|e| format!("{} {} {}", e.method, e.path, e.status)).collect();
    // The account's keys are read first; ours (a fresh key) is not among them, so it is added.
    assert_eq!(sent, ["GET /v2/account/keys 200", "POST /v2/account/keys 201", "POST /v2/droplets 202"]);
    let list = &rec.find("GET", "/v2/account/keys")[0];
    assert_eq!((list.param("per_page").as_deref(), list.param("page").as_deref()), (Some("200"), Some("1")));
    rec.assert_clean();

    // Without a key nothing is registered; a numeric image id goes as a number.
    rec.take();
    let mut req = create_req(None);
    req.image = "7555620".into();
    req.user_data = None;
    driver.create_machine(&req).await.unwrap();
    let sent: Vec<_> = rec.exchanges().into_iter().map(|e| format!("{} {}", e.method, e.path)).collect();
    assert_eq!(sent, ["POST /v2/droplets"]);
    rec.assert_clean();

    // Tags DigitalOcean cannot store and unknown options are refused before any request.
    rec.take();
    let mut req = create_req(Some(public("x")));
    req.tags = tags(&[("owner", "Jane Doe")]);
    assert_eq!(driver.create_machine(&req).await.unwrap_err().field(), Some("tags"));
    let mut req = create_req(None);
    req.options.insert("backups".into(), "true".into());
    assert_eq!(driver.create_machine(&req).await.unwrap_err().field(), Some("options"));
    assert!(rec.exchanges().is_empty(), "{:?}", rec.exchanges());
}

#[tokio::test]
async fn skydeck_creates_a_droplet_with_a_generated_key() {
    let rec = Recorder::default();
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap().with_http(rec.client());
    let fields = BTreeMap::from([
        ("token".to_string(), Sensitive::new(TOKEN.to_string())),
        ("endpoint".to_string(), Sensitive::new(prism().url())),
    ]);
    deck.add_cloud(NewCloud { provider: "digitalocean".into(), title: "do".into(), fields }).await.unwrap();
    let key = deck.generate_key("laptop").await.unwrap();

    // The wizard's catalog: sizes offered in nyc3 with prices, images for nyc3.
    let sizes = deck.catalog("do", CatalogKind::Sizes, false).await.unwrap().filter(Some("nyc3"), None);
    let size = sizes.sizes().iter().find(|s| s.id == "s-1vcpu-1gb").expect("offered in nyc3");
    assert_eq!(size.price_monthly, Some(5.0));
    let images = deck.catalog("do", CatalogKind::Images, false).await.unwrap().filter(Some("nyc3"), None);
    assert!(images.images().iter().any(|i| i.id == "ubuntu-20-04-x64"));

    let req = CreateRequest {
        location: "nyc3".into(),
        size: "s-1vcpu-1gb".into(),
        image: "ubuntu-20-04-x64".into(),
        key_id: Some(key.id.clone()),
        name: "web-1".into(),
        tags: tags(&[("env", "prod")]),
        user_data: Some("#!/bin/sh\necho hi\n".into()),
        options: BTreeMap::new(),
        client_token: None,
    };
    // A location the cloud does not have is refused before any create is sent.
    let bad = CreateRequest { location: "mars1".into(), ..req.clone() };
    assert_eq!(deck.create_machine("do", bad).await.unwrap_err().field(), Some("location"));
    assert!(rec.find("POST", "/v2/droplets").is_empty());

    let m = deck.create_machine("do", req).await.unwrap();
    assert_eq!((m.id.as_str(), m.cloud_id.is_empty(), m.provider.as_str()), ("3164444", false, "digitalocean"));
    assert_eq!(rec.find("POST", "/v2/account/keys").len(), 1);
    assert_eq!(rec.find("POST", "/v2/droplets").len(), 1, "a create is sent once");
    let seen = Mutex::new(Vec::new());
    let running = deck
        .wait_until_running("do", &m.id, Duration::from_secs(30), |x| seen.lock().unwrap().push(x.state))
        .await
        .unwrap();
    assert_eq!(running.state, MachineState::Running);
    assert_eq!(*seen.lock().unwrap(), [MachineState::Running]);

    let log = deck.activity(10, None).unwrap();
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(
        (log[0].action.as_str(), log[0].machine_id.as_deref(), log[0].error.as_ref()),
        ("create", Some("3164444"), None)
    );
    assert_eq!(
        log[0].detail.as_deref(),
        Some(format!("location nyc3, size s-1vcpu-1gb, image ubuntu-20-04-x64, key {}", key.id).as_str())
    );
    assert_eq!(
        (log[1].error.as_ref().map(|e| e.code.as_str()), log[1].machine_id.as_ref()),
        (Some("invalid_input"), None)
    );
    rec.assert_clean();
}

/// The shared lifecycle suite starting with a create, on the stateless Prism peer.
#[tokio::test]
async fn lifecycle_suite_with_create() {
    let rec = Recorder::default();
    let driver = connect(&rec);
    let mut suite = Lifecycle::new(&SPEC, driver.as_ref(), false);
    suite.create = Some(create_req(Some(public("suite"))));
    let report = suite.run().await;
    for step in ["list", "create", "stop", "start", "reboot", "rename", "tag", "destroy"] {
        assert!(report.ran(step), "skipped {step}: {report:?}");
    }
    rec.assert_clean();
}
