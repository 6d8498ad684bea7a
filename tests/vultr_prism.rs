//! The Vultr driver against Stoplight Prism serving Vultr's own v2 spec (the copy whose paths
//! carry `/v2`: ../shared/specs/vultr/vultr-v2.prefixed-v2.json). Prism checks every request
//! the driver sends (`sl-violations` must be absent) and answers with the spec's examples;
//! the error answers Prism cannot give (429 with Retry-After, 500) come from the harness's
//! replay server.

use skydeck_core::http::Idempotency;
use skydeck_core::model::{Action, CreateMachine, Machine, MachineState, SshPublicKey};
use skydeck_core::provider::Provider;
use skydeck_core::providers::vultr::{self, SPEC};
use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::prism::{Prism, Recorder};
use skydeck_tests::replay::{Replay, Reply};
use skydeck_tests::suite::Lifecycle;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use skydeck_tests::tags;

const KEY: &str = "VULTRPRISMTESTKEY0123456789ABCDEFGHI";
const PUBKEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnDjLNjW2CYezqqLpAnVaHN+A/g986/lf3QPK1endvg me@laptop";
const EXAMPLE_ID: &str = "cb676a46-66fd-4dfb-b839-443f2e6c0b60";

fn prism() -> &'static Prism {
    Prism::shared(&skydeck_tests::shared_dir().join("specs/vultr/vultr-v2.prefixed-v2.json"))
}

fn connect_to(url: &str, rec: &Recorder, key: &str) -> skydeck_core::Result<Box<dyn Provider>> {
    skydeck_tests::connect_driver(&SPEC, url, ("api_key", key), rec.client())
}

fn connect(rec: &Recorder) -> Box<dyn Provider> {
    connect_to(&prism().url(), rec, KEY).unwrap()
}

fn create_request() -> CreateMachine {
    CreateMachine {
        name: "web 1".into(),
        location: "ewr".into(),
        size: "vc2-1c-1gb".into(),
        image: "215".into(),
        key: Some(SshPublicKey { name: "laptop".into(), openssh: PUBKEY.into(), fingerprint: String::new() }),
        tags: tags(&[("env", "prod")]),
        user_data: Some("#cloud-config\n".into()),
        options: BTreeMap::new(),
        client_token: "c0ffee".into(),
    }
}

fn sent(rec: &Recorder) -> Vec<String> {
    rec.exchanges().into_iter().map(|e| format!("{} {} {}", e.method, e.path, e.status)).collect()
}

#[tokio::test]
async fn lists_instances_following_the_cursor() {
    let rec = Recorder::default();
    let mut machines = connect(&rec).list_machines().await.unwrap();
    SPEC.finish("vultr-test", &mut machines);

    assert_eq!(machines.len(), 1, "the repeated example instance is one machine: {machines:#?}");
    let m = &machines[0];
    assert_eq!((m.id.as_str(), m.name.as_str()), (EXAMPLE_ID, "Example Instance"));
    assert_eq!((m.raw_state.as_str(), m.state), ("running", MachineState::Running));
    assert_eq!(m.actions, [Action::Stop, Action::Reboot, Action::Destroy, Action::Rename, Action::Tag]);
    assert_eq!(
        (m.location.as_str(), m.size.as_str(), m.image.as_str()),
        ("atl", "vc2-6c-16gb", "CentOS SELinux 8 x64")
    );
    assert_eq!(m.public_ips, ["192.0.2.123", "2001:0db8:1112:18fb:0200:00ff:fe00:0000"]);
    assert!(m.private_ips.is_empty(), "internal_ip is empty");
    assert_eq!(m.tags, tags(&[("a tag", ""), ("another", "")]));
    assert_eq!(m.created_at.as_deref(), Some("2020-10-10T01:56:20Z"));
    assert_eq!(
        (m.extra["os_id"].as_str(), m.extra["hostname"].as_str(), m.extra["vcpus"].as_str()),
        ("215", "my_hostname", "1")
    );
    assert!(!m.extra.values().any(|v| v.contains("novnc")), "the console URL (a credential) is not kept");

    // The example's `meta.links.next` is a cursor: the driver follows it once, sees the same
    // cursor again and stops.
    let list = rec.find("GET", "/v2/instances");
    let cursors: Vec<_> = list.iter().map(|e| e.param("cursor")).collect();
    assert_eq!(cursors, [None, Some("WxYzExampleNext".to_string())]);
    assert!(list.iter().all(|e| e.param("per_page").as_deref() == Some("500") && e.host == "127.0.0.1"));
    rec.assert_clean();
}

#[tokio::test]
async fn lists_the_catalog() {
    let rec = Recorder::default();
    let driver = connect(&rec);

    let regions = driver.list_locations().await.unwrap();
    assert_eq!(regions.len(), 1);
    let r = &regions[0];
    assert_eq!(
        (r.id.as_str(), r.name.as_str(), r.country.as_deref(), r.available),
        ("ams", "Amsterdam", Some("NL"), true)
    );

    let sizes = driver.list_sizes().await.unwrap();
    assert_eq!(sizes.len(), 1);
    let s = &sizes[0];
    assert_eq!((s.id.as_str(), s.name.as_str()), ("vhf-8c-32gb", "vhf-8c-32gb (8 vCPU, 32768 MB, 512 GB, vhf)"));
    assert_eq!(
        (s.vcpus, s.ram_mb, s.disk_gb, s.price_monthly, s.price_hourly),
        (Some(8), Some(32768), Some(512), Some(192.0), None)
    );
    assert_eq!(s.locations, ["sea"]);

    let images = driver.list_images().await.unwrap();
    assert_eq!(images.len(), 1);
    let i = &images[0];
    assert_eq!(
        (i.id.as_str(), i.name.as_str(), i.distribution.as_deref(), i.arch.as_deref()),
        ("127", "CentOS 6 x64", Some("centos"), Some("x64"))
    );

    assert_eq!(sent(&rec), ["GET /v2/regions 200", "GET /v2/plans 200", "GET /v2/os 200"]);
    rec.assert_clean();
}

#[tokio::test]
async fn creates_with_a_registered_key() {
    let rec = Recorder::default();
    let driver = connect(&rec);
    let mut m = driver.create_machine(&create_request()).await.unwrap();
    SPEC.finish("vultr-test", std::slice::from_mut(&mut m));
    assert_eq!(
        (m.id.as_str(), m.raw_state.as_str(), m.state),
        ("4f0f12e5-1f84-404f-aa84-85f431ea5ec2", "pending", MachineState::Pending)
    );
    assert!(!m.extra.values().any(|v| v == "v5{Fkvb#2ycPGwHs"), "the default password is never kept");

    // The example account key is another key, so ours is registered, then passed by id.
    assert_eq!(sent(&rec), ["GET /v2/ssh-keys 200", "POST /v2/ssh-keys 201", "POST /v2/instances 202"]);
    rec.assert_clean();

    rec.take();
    let mut bad = create_request();
    bad.name = " ".into();
    assert_eq!(driver.create_machine(&bad).await.unwrap_err().field(), Some("name"));
    let mut bad = create_request();
    bad.tags = tags(&[("a:b", "c")]);
    assert_eq!(driver.create_machine(&bad).await.unwrap_err().field(), Some("tags"));
    assert!(rec.exchanges().is_empty());
}

#[tokio::test]
async fn power_actions_rename_tags_and_destroy() {
    let rec = Recorder::default();
    let driver = connect(&rec);
    let machine = driver.list_machines().await.unwrap().remove(0);
    rec.take();

    for action in [Action::Start, Action::Stop, Action::Reboot] {
        driver.machine_action(&machine, action).await.unwrap();
    }
    driver.rename(&machine, "renamed instance").await.unwrap();
    driver.set_tags(&machine, &tags(&[("env", "stage")])).await.unwrap();
    driver.machine_action(&machine, Action::Destroy).await.unwrap();

    let base = format!("/v2/instances/{EXAMPLE_ID}");
    assert_eq!(
        sent(&rec),
        [
            format!("POST {base}/start 204"),
            format!("POST {base}/halt 204"),
            format!("POST {base}/reboot 204"),
            format!("PATCH {base} 202"),
            format!("PATCH {base} 202"),
            format!("DELETE {base} 204"),
        ]
    );
    rec.assert_clean();

    rec.take();
    let mut bad = machine.clone();
    bad.id = "../account".into();
    assert_eq!(driver.machine_action(&bad, Action::Start).await.unwrap_err().field(), Some("machine"));
    assert_eq!(driver.machine_action(&machine, Action::ForceOff).await.unwrap_err().code(), "not_supported");
    assert!(rec.exchanges().is_empty());
}

#[tokio::test]
async fn runs_the_lifecycle_suite() {
    let rec = Recorder::default();
    let driver = connect(&rec);
    let mut suite = Lifecycle::new(&SPEC, driver.as_ref(), false);
    suite.create = Some(create_request());
    let report = suite.run().await;
    assert_eq!(report.ran, ["list", "create", "stop", "start", "reboot", "rename", "tag", "destroy"], "{report:?}");
    assert_eq!(report.machine_id.as_deref(), Some("4f0f12e5-1f84-404f-aa84-85f431ea5ec2"));
    rec.assert_clean();
}

#[tokio::test]
async fn a_request_without_key_is_unauthenticated() {
    let rec = Recorder::default();
    let err = connect_to(&prism().url(), &rec, "").err().expect("blank key refused");
    assert_eq!((err.code(), err.field()), ("invalid_input", Some("api_key")));

    let http = rec.client();
    let req = http.client().get(format!("{}/v2/instances", prism().url())).build().unwrap();
    let resp = http.send(req, Idempotency::Idempotent, "Vultr").await.unwrap();
    let status = resp.status.as_u16();
    let err = vultr::error_from_response(status, &resp.body, None);
    assert_eq!((status, err.code()), (401, "unauthenticated"));
    assert!(err.to_string().contains("my.vultr.com/settings"), "{err}");
    assert!(rec.exchanges()[0].violations.as_deref().unwrap_or_default().contains("security"));

    // The spec's own 401/403/404 answers (Prism's `Prefer: code=N`) map too.
    for (code, want) in [(401, "unauthenticated"), (403, "permission_denied"), (404, "not_found")] {
        let req = http
            .client()
            .get(format!("{}/v2/instances", prism().url()))
            .bearer_auth(KEY)
            .header("Prefer", format!("code={code}"))
            .build()
            .unwrap();
        let resp = http.send(req, Idempotency::Idempotent, "Vultr").await.unwrap();
        assert_eq!(resp.status.as_u16(), code);
        assert_eq!(vultr::error_from_response(code, &resp.body, None).code(), want);
    }
}

#[tokio::test]
async fn maps_error_statuses_and_retry_after() {
    let replay = Replay::start("vultr_v2");
    let rec = Recorder::default();
    let driver = connect_to(&replay.url(), &rec, "WRONGKEY0123456789").unwrap();
    let error = |status: u16, msg: &str| Reply::json(status, format!(r#"{{"error":"{msg}","status":{status}}}"#));

    replay.route(None, "*", "*", [error(401, "Invalid API token.")]);
    let e = driver.test_connection().await.unwrap_err();
    assert_eq!(e.code(), "unauthenticated");
    assert!(e.to_string().contains("Invalid API token.") && !e.to_string().contains("WRONGKEY"), "{e}");

    replay.route(None, "*", "*", [error(404, "Invalid instance-id.")]);
    let gone = Machine::new("00000000-0000-0000-0000-000000000000", "gone", "running");
    let e = driver.machine_action(&gone, Action::Reboot).await.unwrap_err();
    assert_eq!(e.code(), "not_found");
    assert!(e.to_string().contains("Invalid instance-id."), "{e}");

    replay.take();
    replay.route(None, "*", "*", [error(429, "Rate limit reached").header("Retry-After", "120")]);
    let e = driver.list_machines().await.unwrap_err();
    assert_eq!((e.code(), e.retry_after()), ("rate_limited", Some(Duration::from_secs(120))));
    assert_eq!(replay.take().len(), 1);

    replay.route(None, "*", "*", [Reply::json(500, "<html>oops</html>")]);
    let e = driver.list_locations().await.unwrap_err();
    assert_eq!(e.code(), "unavailable");
    assert_eq!(replay.take().len(), 2, "an idempotent read is retried once (the recorder's policy)");
    let mut no_key = create_request();
    no_key.key = None;
    assert_eq!(driver.create_machine(&no_key).await.unwrap_err().code(), "unavailable");
    assert_eq!(replay.take().len(), 1, "a create is never resent");
}

#[tokio::test]
async fn skydeck_adds_refreshes_and_acts_on_a_vultr_cloud() {
    let rec = Recorder::default();
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap().with_http(rec.client());
    let fields = BTreeMap::from([
        ("api_key".to_string(), Sensitive::new(KEY.to_string())),
        ("endpoint".to_string(), Sensitive::new(prism().url())),
    ]);
    let cloud = deck.add_cloud(NewCloud { provider: "vultr".into(), title: "vultr".into(), fields }).await.unwrap();
    assert!(!cloud.fields.values().any(|v| v.contains(KEY)), "the key stays out of the store");
    assert_eq!(rec.find("GET", "/v2/account").len(), 1);

    let outcomes = deck.refresh(None).await.unwrap();
    assert_eq!((outcomes[0].machine_count, outcomes[0].error.as_ref()), (1, None));
    deck.machine_action(EXAMPLE_ID, Action::Stop).await.unwrap();
    assert_eq!(rec.find("POST", &format!("/v2/instances/{EXAMPLE_ID}/halt")).len(), 1);
    rec.assert_clean();
}

/// What the add-cloud form and the wizard are drawn from.
#[test]
fn declares_its_form_logo_and_capabilities() {
    let spec = skydeck_core::providers::find("vultr").unwrap();
    assert!(std::ptr::eq(spec, &SPEC), "one registry line");
    assert_eq!((spec.title, spec.logo, spec.legacy), ("Vultr", "vultr.svg", false));
    assert!(skydeck_tests::repo_root().join("icons/providers").join(spec.logo).exists());
    let keys: Vec<_> = spec.fields.iter().map(|f| (f.key, f.kind, f.required, f.advanced)).collect();
    assert_eq!(
        keys,
        [
            ("api_key", skydeck_core::provider::FieldKind::Secret, true, false),
            ("endpoint", skydeck_core::provider::FieldKind::Url, false, true),
        ]
    );
    assert_eq!(spec.fields[1].placeholder, "https://api.vultr.com");
    let caps = spec.capabilities;
    assert!(caps.create && caps.start && caps.stop && caps.reboot && caps.destroy && caps.rename && caps.tag && caps.user_data);
    assert_eq!(caps.key_delivery, skydeck_core::provider::KeyDelivery::Registered);
}
