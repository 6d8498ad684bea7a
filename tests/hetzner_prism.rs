//! The Hetzner Cloud driver against Stoplight Prism serving the community-built Hetzner Cloud
//! spec (../shared/specs/hetzner/hcloud.json, made from Hetzner's own). Its paths have no
//! `/v1` and Prism ignores the server URL's path, so here the endpoint is Prism's root; the
//! real default is `https://api.hetzner.cloud/v1`, and the replay tests check that a `/v1`
//! endpoint is kept in front of every path. Prism checks every request (`sl-violations` must
//! be absent) and answers with the spec's examples; error answers with Retry-After or
//! RateLimit-Reset come from the harness's replay server.

use serde_json::json;
use skydeck_core::http::Idempotency;
use skydeck_core::model::{Action, CreateMachine, Machine, MachineState, SshPublicKey};
use skydeck_core::provider::Provider;
use skydeck_core::providers::hetzner::{self, SPEC};
use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::prism::{Prism, Recorder};
use skydeck_tests::replay::{Replay, Reply};
use skydeck_tests::suite::Lifecycle;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use skydeck_tests::tags;

const TOKEN: &str = "hetznerPrismTestToken0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
const PUBKEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnDjLNjW2CYezqqLpAnVaHN+A/g986/lf3QPK1endvg me@laptop";
/// `ssh-keygen -E md5 -lf` of PUBKEY.
const PUBKEY_MD5: &str = "85:d5:4d:25:e2:ee:33:b1:70:7b:46:dd:7e:23:91:09";

fn prism() -> &'static Prism {
    Prism::shared(&skydeck_tests::shared_dir().join("specs/hetzner/hcloud.json"))
}

fn connect_to(url: &str, rec: &Recorder, token: &str) -> skydeck_core::Result<Box<dyn Provider>> {
    skydeck_tests::connect_driver(&SPEC, url, ("token", token), rec.client())
}

fn connect(rec: &Recorder) -> Box<dyn Provider> {
    connect_to(&prism().url(), rec, TOKEN).unwrap()
}

fn create_request() -> CreateMachine {
    CreateMachine {
        name: "web-1".into(),
        location: "fsn1".into(),
        size: "cpx22".into(),
        image: "ubuntu-24.04".into(),
        key: Some(SshPublicKey { name: "laptop".into(), openssh: PUBKEY.into(), fingerprint: String::new() }),
        tags: tags(&[("env", "prod"), ("example.com/team", "ops")]),
        user_data: Some("#cloud-config\nruncmd:\n- [touch, /root/ok]\n".into()),
        options: BTreeMap::new(),
        client_token: "c0ffee".into(),
    }
}

fn sent(rec: &Recorder) -> Vec<String> {
    rec.exchanges().into_iter().map(|e| format!("{} {} {}", e.method, e.path, e.status)).collect()
}

#[tokio::test]
async fn lists_servers_following_next_page() {
    let rec = Recorder::default();
    let mut machines = connect(&rec).list_machines().await.unwrap();
    SPEC.finish("hetzner-test", &mut machines);

    assert_eq!(machines.len(), 1, "page 1 and page 4 hold the same example server: {machines:#?}");
    let m = &machines[0];
    assert_eq!((m.id.as_str(), m.name.as_str()), ("42", "my-resource"));
    assert_eq!((m.raw_state.as_str(), m.state), ("deleting", MachineState::Terminated));
    assert!(m.actions.is_empty(), "nothing to do with a server being deleted");
    assert_eq!(
        (m.location.as_str(), m.size.as_str(), m.image.as_str()),
        ("fsn1", "cpx22", "Ubuntu 24.04 Standard 64 bit")
    );
    assert_eq!(m.public_ips, ["1.2.3.4"]);
    assert_eq!(m.private_ips, ["10.0.0.2"]);
    assert_eq!(m.extra["ipv6_network"], "2001:db8::/64");
    // Labels are key/value pairs: they are the tags, unchanged.
    assert_eq!(m.tags, tags(&[("environment", "prod"), ("example.com/my", "label"), ("just-a-key", "")]));
    assert_eq!(m.created_at.as_deref(), Some("2016-01-30T23:55:00Z"));
    assert_eq!(
        (m.extra["datacenter"].as_str(), m.extra["vcpus"].as_str(), m.extra["memory_mb"].as_str()),
        ("fsn1-dc8", "2", "4096")
    );

    let pages: Vec<_> = rec.find("GET", "/servers").iter().map(|e| e.param("page").unwrap()).collect();
    assert_eq!(pages, ["1", "4"], "next_page 4 is followed, then its own next_page 4 ends the list");
    assert!(rec.exchanges().iter().all(|e| e.param("per_page").as_deref() == Some("50")));
    rec.assert_clean();
}

#[tokio::test]
async fn lists_the_catalog() {
    let rec = Recorder::default();
    let driver = connect(&rec);

    let locations = driver.list_locations().await.unwrap();
    assert_eq!(locations.len(), 1);
    let l = &locations[0];
    assert_eq!(
        (l.id.as_str(), l.name.as_str(), l.country.as_deref(), l.available),
        ("fsn1", "Falkenstein", Some("DE"), true)
    );

    let sizes = driver.list_sizes().await.unwrap();
    assert_eq!(sizes.len(), 1);
    let s = &sizes[0];
    assert_eq!((s.id.as_str(), s.name.as_str()), ("cpx22", "cpx22 (2 vCPU, 4 GB RAM, 80 GB disk, arm)"));
    assert_eq!((s.vcpus, s.ram_mb, s.disk_gb), (Some(2), Some(4096), Some(80)));
    assert_eq!((s.price_hourly, s.price_monthly), (Some(1.0), Some(1.0)), "net prices");
    assert_eq!(s.locations, ["fsn1"]);

    let images = driver.list_images().await.unwrap();
    assert_eq!(images.len(), 1);
    let i = &images[0];
    assert_eq!((i.id.as_str(), i.name.as_str()), ("ubuntu-24.04", "Ubuntu 24.04 Standard 64 bit"));
    assert_eq!(
        (i.distribution.as_deref(), i.version.as_deref(), i.arch.as_deref()),
        (Some("alma"), Some("24.04"), Some("arm"))
    );
    let img = rec.find("GET", "/images");
    assert_eq!(
        (img[0].param("type").as_deref(), img[0].param("status").as_deref()),
        (Some("system"), Some("available"))
    );
    for path in ["/locations", "/server_types", "/images"] {
        assert_eq!(rec.find("GET", path).len(), 2, "{path}: pages 1 and 4");
    }
    rec.assert_clean();
}

#[tokio::test]
async fn creates_with_a_registered_key() {
    let rec = Recorder::default();
    let driver = connect(&rec);
    let mut m = driver.create_machine(&create_request()).await.unwrap();
    SPEC.finish("hetzner-test", std::slice::from_mut(&mut m));
    assert_eq!((m.id.as_str(), m.name.as_str(), m.raw_state.as_str()), ("42", "my-server", "initializing"));
    assert_eq!(m.state, MachineState::Pending);
    assert!(!m.extra.values().any(|v| v == "YItygq1v3GYjjMomLaKc"), "the root password is never kept");

    // The key is looked up by its MD5 fingerprint; the example key is another one, so ours
    // is registered, then passed by id.
    let lookups = rec.find("GET", "/ssh_keys");
    assert!(!lookups.is_empty());
    assert!(lookups.iter().all(|e| e.param("fingerprint").as_deref() == Some(PUBKEY_MD5)), "{lookups:#?}");
    let order: Vec<_> = sent(&rec).into_iter().filter(|s| !s.starts_with("GET")).collect();
    assert_eq!(order, ["POST /ssh_keys 201", "POST /servers 201"]);
    rec.assert_clean();

    rec.take();
    for (field, change) in [
        ("name", Box::new(|r: &mut CreateMachine| r.name = "web_1".into()) as Box<dyn Fn(&mut CreateMachine)>),
        ("tags", Box::new(|r: &mut CreateMachine| r.tags = tags(&[("owner", "Jane Doe")]))),
        ("image", Box::new(|r: &mut CreateMachine| r.image = String::new())),
        ("key", Box::new(|r: &mut CreateMachine| r.key.as_mut().unwrap().openssh = "not a key".into())),
    ] {
        let mut bad = create_request();
        change(&mut bad);
        assert_eq!(driver.create_machine(&bad).await.unwrap_err().field(), Some(field));
    }
    assert!(rec.exchanges().is_empty(), "refused input sends nothing");
}

#[tokio::test]
async fn power_actions_rename_labels_and_destroy() {
    let rec = Recorder::default();
    let driver = connect(&rec);
    let machine = driver.list_machines().await.unwrap().remove(0);
    rec.take();

    for action in [Action::Start, Action::Stop, Action::ForceOff, Action::Reboot] {
        driver.machine_action(&machine, action).await.unwrap();
    }
    driver.rename(&machine, "web-2").await.unwrap();
    driver.set_tags(&machine, &tags(&[("environment", "stage"), ("example.com/my", "")])).await.unwrap();
    driver.machine_action(&machine, Action::Destroy).await.unwrap();
    assert_eq!(
        sent(&rec),
        [
            "POST /servers/42/actions/poweron 201",
            "POST /servers/42/actions/shutdown 201",
            "POST /servers/42/actions/poweroff 201",
            "POST /servers/42/actions/reboot 201",
            "PUT /servers/42 200",
            "PUT /servers/42 200",
            "DELETE /servers/42 200",
        ]
    );
    rec.assert_clean();

    rec.take();
    assert_eq!(driver.rename(&machine, "no spaces please").await.unwrap_err().field(), Some("name"));
    assert_eq!(driver.set_tags(&machine, &tags(&[("hetzner.cloud/x", "y")])).await.unwrap_err().field(), Some("tags"));
    assert_eq!(driver.machine_action(&machine, Action::Suspend).await.unwrap_err().code(), "not_supported");
    assert!(rec.exchanges().is_empty());
}

#[tokio::test]
async fn runs_the_lifecycle_suite() {
    let rec = Recorder::default();
    let driver = connect(&rec);
    let mut suite = Lifecycle::new(&SPEC, driver.as_ref(), false);
    suite.create = Some(create_request());
    let report = suite.run().await;
    assert_eq!(
        report.ran,
        ["list", "create", "stop", "start", "force_off", "start-after-force-off", "reboot", "rename", "tag", "destroy"],
        "{report:?}"
    );
    assert_eq!(rec.find("PUT", "/servers/42").len(), 2, "rename and labels");
    rec.assert_clean();
}

#[tokio::test]
async fn a_request_without_token_is_unauthenticated() {
    let rec = Recorder::default();
    let err = connect_to(&prism().url(), &rec, "").err().expect("blank token refused");
    assert_eq!((err.code(), err.field()), ("invalid_input", Some("token")));

    let http = rec.client();
    let req = http.client().get(format!("{}/servers", prism().url())).build().unwrap();
    let resp = http.send(req, Idempotency::Idempotent, "Hetzner Cloud").await.unwrap();
    let status = resp.status.as_u16();
    let err = hetzner::error_from_response(status, &resp.body, None);
    assert_eq!((status, err.code()), (401, "unauthenticated"));
    assert!(err.to_string().contains("Read & Write"), "{err}");
}

/// The real API lives under `/v1`: an endpoint with a path keeps it in front of every call.
#[tokio::test]
async fn keeps_the_v1_path_of_the_endpoint() {
    let replay = Replay::start("hetzner");
    replay.route(
        None,
        "GET",
        "_v1_servers",
        [Reply::json(
            200,
            json!({ "servers": [], "meta": { "pagination": { "page": 1, "next_page": null } } }).to_string(),
        )],
    );
    let rec = Recorder::default();
    let driver = connect_to(&format!("{}/v1/", replay.url()), &rec, TOKEN).unwrap();
    driver.test_connection().await.unwrap();
    assert!(driver.list_machines().await.unwrap().is_empty());
    let paths: Vec<_> = replay.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v1/servers", "/v1/servers"]);
}

#[tokio::test]
async fn maps_error_statuses_and_rate_limits() {
    let replay = Replay::start("hetzner");
    let rec = Recorder::default();
    let driver = connect_to(&replay.url(), &rec, "wrongtoken0123456789").unwrap();
    let error = |status: u16, code: &str, msg: &str| {
        Reply::json(status, json!({ "error": { "code": code, "message": msg, "details": null } }).to_string())
    };

    replay.route(None, "*", "*", [error(401, "unauthorized", "unable to authenticate")]);
    let e = driver.test_connection().await.unwrap_err();
    assert_eq!(e.code(), "unauthenticated");
    assert!(e.to_string().contains("unable to authenticate") && !e.to_string().contains("wrongtoken"), "{e}");

    replay.route(None, "*", "*", [error(404, "not_found", "server with ID '7' not found")]);
    let gone = Machine::new("7", "gone", "running");
    assert_eq!(driver.machine_action(&gone, Action::Reboot).await.unwrap_err().code(), "not_found");

    replay.route(None, "*", "*", [error(423, "locked", "server is locked")]);
    assert_eq!(driver.rename(&gone, "web-3").await.unwrap_err().code(), "conflict");

    replay.take();
    replay.route(None, "*", "*", [error(429, "rate_limit_exceeded", "limit reached").header("Retry-After", "120")]);
    let e = driver.list_machines().await.unwrap_err();
    assert_eq!((e.code(), e.retry_after()), ("rate_limited", Some(Duration::from_secs(120))));
    assert_eq!(replay.take().len(), 1);

    // Hetzner's own header: RateLimit-Reset, a UNIX time.
    let reset = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 300;
    replay.route(
        None,
        "*",
        "*",
        [error(429, "rate_limit_exceeded", "limit reached").header("RateLimit-Reset", &reset.to_string())],
    );
    let e = driver.list_sizes().await.unwrap_err();
    let wait = e.retry_after().unwrap().as_secs();
    assert_eq!(e.code(), "rate_limited");
    assert!((295..=300).contains(&wait), "{wait}");
    replay.take();

    replay.route(None, "*", "*", [error(503, "maintenance", "cloud API is in maintenance")]);
    assert_eq!(driver.list_locations().await.unwrap_err().code(), "unavailable");
    assert_eq!(replay.take().len(), 2, "an idempotent read is retried once (the recorder's policy)");
    let mut no_key = create_request();
    no_key.key = None;
    assert_eq!(driver.create_machine(&no_key).await.unwrap_err().code(), "unavailable");
    assert_eq!(replay.take().len(), 1, "a create is never resent");

    replay.route(
        None,
        "*",
        "*",
        [Reply::json(422, json!({ "error": { "code": "invalid_input", "message": "invalid input in field 'server_type'", "details": { "fields": [{ "name": "server_type", "messages": ["unknown"] }] } } }).to_string())],
    );
    let e = driver.create_machine(&no_key).await.unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_input", Some("size")));
}

#[tokio::test]
async fn skydeck_adds_refreshes_and_acts_on_a_hetzner_cloud() {
    let rec = Recorder::default();
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap().with_http(rec.client());
    let fields = BTreeMap::from([
        ("token".to_string(), Sensitive::new(TOKEN.to_string())),
        ("endpoint".to_string(), Sensitive::new(prism().url())),
    ]);
    let cloud = deck.add_cloud(NewCloud { provider: "hetzner".into(), title: "hetzner".into(), fields }).await.unwrap();
    assert!(!cloud.fields.values().any(|v| v.contains(TOKEN)), "the token stays out of the store");
    assert_eq!(rec.find("GET", "/servers")[0].param("per_page").as_deref(), Some("1"), "Test & save lists one server");

    let outcomes = deck.refresh(None).await.unwrap();
    assert_eq!((outcomes[0].machine_count, outcomes[0].error.as_ref()), (1, None));
    deck.set_tags("42", tags(&[("env", "prod")])).await.unwrap();
    assert_eq!(rec.find("PUT", "/servers/42").len(), 1);
    rec.assert_clean();
}

/// What the add-cloud form and the wizard are drawn from.
#[test]
fn declares_its_form_logo_and_capabilities() {
    let spec = skydeck_core::providers::find("hetzner").unwrap();
    assert!(std::ptr::eq(spec, &SPEC), "one registry line");
    assert_eq!((spec.title, spec.logo, spec.legacy), ("Hetzner Cloud", "hetzner.svg", false));
    assert!(skydeck_tests::repo_root().join("icons/providers").join(spec.logo).exists());
    let keys: Vec<_> = spec.fields.iter().map(|f| (f.key, f.kind, f.required, f.advanced)).collect();
    assert_eq!(
        keys,
        [
            ("token", skydeck_core::provider::FieldKind::Secret, true, false),
            ("endpoint", skydeck_core::provider::FieldKind::Url, false, true),
        ]
    );
    assert_eq!(spec.fields[1].placeholder, "https://api.hetzner.cloud/v1");
    let caps = spec.capabilities;
    assert!(caps.create && caps.start && caps.stop && caps.reboot && caps.destroy && caps.rename && caps.tag && caps.user_data);
    assert_eq!(caps.key_delivery, skydeck_core::provider::KeyDelivery::Registered);
    assert!(SPEC.fields[0].help.contains("Mist.io users asked for"));
}
