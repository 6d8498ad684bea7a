//! The HostVirtual driver (legacy API) against libcloud's recorded HostVirtual responses,
//! replayed by harness/replay.rs as libcloud's own mock served them (INDEX.md, HostVirtual
//! section). Error answers were never recorded, so those come from replay scenarios shaped
//! like the API's documented error body `{"error": {"code", "message"}}`.

use skydeck_core::http::{HttpClient, RetryPolicy};
use skydeck_core::model::{Action, CreateMachine, MachineState, SshPublicKey, Tags};
use skydeck_core::provider::{Connection, Provider};
use skydeck_core::providers::hostvirtual::SPEC;
use skydeck_core::secrets::Sensitive;
use skydeck_core::{Error, ErrorBody};
use skydeck_tests::replay::{Replay, Reply};
use skydeck_tests::suite::Lifecycle;
use std::collections::BTreeMap;
use std::time::Duration;

const KEY: &str = "hv-SECRET-api-key-7f3a9c";
const SSH_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq2yvS5b8mBz0kYbq5pXjLwqYV4n0p0nNn2y3jW8Ejf skydeck-test";

/// A replay server with every recorded HostVirtual answer, routed as libcloud's mock did.
fn replay() -> Replay {
    let r = Replay::start("hostvirtual");
    r.serve("GET", "_cloud_servers", "list_nodes.json")
        .serve("GET", "_cloud_server", "get_node.json")
        .serve("GET", "_cloud_sizes", "list_sizes.json")
        .serve("GET", "_cloud_images", "list_images.json")
        .serve("GET", "_cloud_locations", "list_locations.json")
        .serve("GET", "_cloud_packages", "list_packages.json")
        .serve("POST", "_cloud_buy", "order_package.json")
        .serve("POST", "_cloud_server_build", "order_package.json")
        .serve("POST", "_cloud_server_start", "node_start.json")
        .serve("POST", "_cloud_server_shutdown", "node_stop.json")
        .serve("POST", "_cloud_server_reboot", "node_reboot.json")
        .serve("POST", "_cloud_cancel", "cancel_package.json")
        .serve("POST", "_cloud_server_delete", "cancel_package.json")
        .serve("POST", "_cloud_unlink", "unlink_package.json");
    r
}

fn http() -> HttpClient {
    let policy = RetryPolicy { max_attempts: 2, base_delay: Duration::from_millis(20), ..RetryPolicy::default() };
    HttpClient::with_policy(policy, Duration::from_secs(20)).unwrap()
}

fn connect_to(endpoint: &str, key: &str) -> skydeck_core::Result<Box<dyn Provider>> {
    let fields = BTreeMap::from([("endpoint".to_string(), endpoint.to_string())]);
    let secrets = BTreeMap::from([("api_key".to_string(), Sensitive::new(key.to_string()))]);
    (SPEC.connect)(Connection { cloud_id: "hv-test".into(), fields, secrets, http: http() })
}

fn driver(r: &Replay) -> Box<dyn Provider> {
    connect_to(&r.url(), KEY).unwrap()
}

fn create_request() -> CreateMachine {
    CreateMachine {
        name: "web1.example.com".into(),
        location: "3".into(),
        size: "51".into(),
        image: "1613".into(),
        key: Some(SshPublicKey { name: "laptop".into(), openssh: SSH_KEY.into(), fingerprint: "SHA256:x".into() }),
        tags: Tags::new(),
        user_data: None,
        options: BTreeMap::new(),
        client_token: "tok-1".into(),
    }
}

/// Neither the message nor the serialized form of `e` may contain the key.
fn assert_no_key(e: &Error) {
    let text = format!("{e} {e:?} {}", serde_json::to_string(&ErrorBody::from(e)).unwrap());
    assert!(!text.contains(KEY), "the API key leaked into an error: {text}");
}

#[tokio::test]
async fn runs_the_lifecycle_suite_with_the_buy_build_poll_create() {
    let r = replay();
    let d = driver(&r);
    let mut suite = Lifecycle::new(&SPEC, d.as_ref(), false);
    suite.create = Some(create_request());
    let report = suite.run().await;

    for step in ["list", "create", "stop", "start", "reboot", "destroy"] {
        assert!(report.ran(step), "{step} did not run: {report:?}");
    }
    let skipped: Vec<_> = report.skipped.iter().map(|(s, _)| *s).collect();
    assert_eq!(skipped, ["suspend", "force_off", "rename", "tag"], "the API has none of these");
    assert_eq!(report.listed, 4);
    assert_eq!(report.machine_id.as_deref(), Some("62291"), "the created machine is what the poll answered");

    let sent = r.requests();
    assert!(sent.iter().all(|q| q.param("key").as_deref() == Some(KEY)), "every call carries key=: {sent:#?}");
    assert!(sent.iter().all(|q| q.status == 200), "{sent:#?}");

    // Create: the size id "51" is bought by its plan name, then built with the key inline.
    let buy = r.find("POST", "_cloud_buy");
    assert_eq!(buy.len(), 1);
    assert_eq!(buy[0].json(), serde_json::json!({ "plan": "VR512" }));
    let build = r.find("POST", "_cloud_server_build");
    assert_eq!(build.len(), 1);
    assert_eq!(
        build[0].json(),
        serde_json::json!({ "mbpkgid": "62291", "image": "1613", "fqdn": "web1.example.com", "location": "3", "ssh_key": SSH_KEY })
    );
    let polls = r.find("GET", "_cloud_server");
    assert_eq!(polls.len(), 1, "the recorded server answers at once");
    assert_eq!(polls[0].param("mbpkgid").as_deref(), Some("62291"));

    // Power actions and destroy, with the documented bodies.
    let body = |h: &str| r.find("POST", h).first().map(|q| q.json()).unwrap_or_default();
    assert_eq!(body("_cloud_server_shutdown"), serde_json::json!({ "force": 0, "mbpkgid": "62291" }));
    assert_eq!(body("_cloud_server_start"), serde_json::json!({ "mbpkgid": "62291" }));
    assert_eq!(body("_cloud_server_reboot"), serde_json::json!({ "force": 0, "mbpkgid": "62291" }));
    assert_eq!(body("_cloud_cancel"), serde_json::json!({ "mbpkgid": "62291" }));
    assert_eq!(r.find("POST", "_cloud_cancel")[0].path, "/cloud/cancel");
}

#[tokio::test]
async fn parses_the_recorded_servers() {
    let r = replay();
    let mut ms = driver(&r).list_machines().await.unwrap();
    SPEC.finish("hv-test", &mut ms);

    let ids: Vec<_> = ms.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["62291", "62327", "62300", "74567"]);
    let m = &ms[0];
    assert_eq!(m.name, "server1.vr-cluster.org");
    // TERMINATED servers are powered down (state DOWN) and can be started: stopped, not gone.
    assert_eq!((m.raw_state.as_str(), m.state), ("TERMINATED", MachineState::Stopped));
    assert_eq!(m.actions, [Action::Start, Action::Destroy]);
    assert_eq!(m.public_ips, ["208.111.45.250", "2607:f740:10::f98"]);
    assert!(m.private_ips.is_empty());
    assert_eq!(
        (m.location.as_str(), m.size.as_str(), m.image.as_str()),
        ("MAA - Chennai (Madras), India", "VR512", "Debian 6 i386 PV")
    );
    assert_eq!(
        (m.extra["location_id"].as_str(), m.extra["plan_id"].as_str(), m.extra["image_id"].as_str()),
        ("3", "51", "1613")
    );
    assert_eq!(m.extra["power"], "DOWN");
    assert_eq!((m.cloud_id.as_str(), m.provider.as_str()), ("hv-test", "hostvirtual"));

    let up = &ms[3];
    assert_eq!((up.name.as_str(), up.state), ("libcloud2.node.com", MachineState::Running));
    assert_eq!(up.actions, [Action::Stop, Action::Reboot, Action::Destroy]);
    assert_eq!(up.public_ips, ["209.177.157.99", "2607:f740:b::eff"]);

    let sent = r.requests();
    assert_eq!((sent.len(), sent[0].method.as_str(), sent[0].path.as_str()), (1, "GET", "/cloud/servers/"));
}

#[tokio::test]
async fn parses_the_recorded_catalog() {
    let r = replay();
    let d = driver(&r);

    let locs = d.list_locations().await.unwrap();
    assert_eq!(locs.len(), 26);
    let ids: Vec<u64> = locs.iter().map(|l| l.id.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted by numeric id as libcloud did: {ids:?}");
    assert_eq!(
        (locs[0].id.as_str(), locs[0].name.as_str(), locs[0].country.as_deref()),
        ("3", "SJC - San Jose, CA", Some("CA"))
    );
    let maa = locs.iter().find(|l| l.id == "61").unwrap();
    assert_eq!(
        (maa.name.as_str(), maa.country.as_deref(), maa.available),
        ("MAA - Chennai (Madras), India", Some("India"), true)
    );

    let sizes = d.list_sizes().await.unwrap();
    assert_eq!(sizes.len(), 14);
    let s = &sizes[0];
    assert_eq!((s.id.as_str(), s.name.as_str(), s.ram_mb, s.disk_gb), ("31", "VR256", Some(256), Some(10)));
    assert_eq!((s.price_monthly, s.price_hourly, s.vcpus), (Some(10.0), None, None));
    let big = sizes.iter().find(|s| s.name == "VRBL8G").unwrap();
    assert_eq!(
        (big.id.as_str(), big.ram_mb, big.disk_gb, big.price_monthly),
        ("155", Some(8096), Some(200), Some(400.0))
    );

    let images = d.list_images().await.unwrap();
    assert_eq!(images.len(), 8);
    let i = &images[0];
    assert_eq!((i.id.as_str(), i.name.as_str()), ("1739", "Gentoo 2012 (0619) i386"));
    assert_eq!((i.distribution.as_deref(), i.arch.as_deref()), (Some("gentoo"), Some("i386")));
    let u = images.iter().find(|i| i.id == "1676").unwrap();
    assert_eq!((u.name.as_str(), u.arch.as_deref()), ("Ubuntu Server 12.04 LTS 64 bit", Some("x86_64")));
}

#[tokio::test]
async fn maps_error_answers_to_typed_errors_without_the_key() {
    let r = replay();
    let d = driver(&r);
    let err_body = |code: u16, msg: &str| format!(r#"{{"error": {{"code": {code}, "message": "{msg}"}}}}"#);
    r.route(Some("UNAUTHORIZED"), "*", "*", [Reply::json(401, err_body(401, "Invalid API key"))]);
    r.route(Some("NOT_FOUND"), "POST", "_cloud_server_reboot", [Reply::json(404, err_body(404, "Package not found"))]);
    r.route(Some("BUSY"), "POST", "_cloud_server_start", [Reply::json(412, err_body(412, "Server is building"))]);
    r.route(
        Some("RATE_LIMITED"),
        "*",
        "*",
        [Reply::json(429, err_body(429, "Slow down")).header("Retry-After", "120")],
    );
    // A 500 that echoes the request URL, key and all.
    let echo = err_body(500, &format!("internal error at /cloud/servers/?key={KEY}"));
    r.route(Some("SERVER_ERROR"), "*", "*", [Reply::json(500, echo)]);
    let machine = driver(&r).list_machines().await.unwrap().remove(0);

    r.set_scenario(Some("UNAUTHORIZED"));
    let e = d.list_machines().await.unwrap_err();
    assert!(matches!(e, Error::Unauthenticated(_)), "{e:?}");
    assert!(e.to_string().contains("Invalid API key"), "{e}");
    assert_no_key(&e);
    let e = d.test_connection().await.unwrap_err();
    assert_eq!(e.code(), "unauthenticated");

    r.set_scenario(Some("NOT_FOUND"));
    let e = d.machine_action(&machine, Action::Reboot).await.unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    assert!(e.to_string().contains("Package not found"), "{e}");
    assert_no_key(&e);

    r.set_scenario(Some("BUSY"));
    let e = d.machine_action(&machine, Action::Start).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "412 is a state conflict: {e:?}");
    assert_no_key(&e);

    r.set_scenario(Some("RATE_LIMITED"));
    r.take();
    let e = d.list_sizes().await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)), "{e:?}");
    assert!(e.is_transient());
    assert_eq!(r.take().len(), 1, "a Retry-After beyond the policy's limit is not waited out inside the call");
    assert_no_key(&e);

    r.set_scenario(Some("SERVER_ERROR"));
    let e = d.list_images().await.unwrap_err();
    assert!(matches!(e, Error::Unavailable(_)), "{e:?}");
    assert!(e.to_string().contains("<redacted>"), "the echoed key is redacted: {e}");
    assert_no_key(&e);
    assert_eq!(r.take().len(), 2, "an idempotent read is retried on 500");
    // A create looks the plan up first; with that failing, nothing is bought.
    let e = d.create_machine(&create_request()).await.unwrap_err();
    assert_no_key(&e);
    assert_eq!(r.find("POST", "_cloud_buy").len(), 0, "the size lookup failed first");
}

#[tokio::test]
async fn honours_a_short_retry_after_then_succeeds() {
    let r = replay();
    r.route(
        Some("ONCE"),
        "GET",
        "_cloud_locations",
        [
            Reply::json(429, r#"{"error": {"code": 429, "message": "Slow down"}}"#).header("Retry-After", "1"),
            Reply::fixture("hostvirtual", "list_locations.json"),
        ],
    );
    r.set_scenario(Some("ONCE"));
    let started = std::time::Instant::now();
    let locs = driver(&r).list_locations().await.unwrap();
    assert_eq!(locs.len(), 26);
    assert!(started.elapsed() >= Duration::from_millis(900), "waited for Retry-After");
    assert_eq!(r.requests().iter().map(|q| q.status).collect::<Vec<_>>(), [429, 200]);
}

#[tokio::test]
async fn a_failed_build_cancels_the_package_and_a_buy_is_never_resent() {
    let r = replay();
    r.route(
        Some("BUILD_FAILS"),
        "POST",
        "_cloud_server_build",
        [Reply::json(500, r#"{"error": {"code": 500, "message": "no capacity"}}"#)],
    );
    r.set_scenario(Some("BUILD_FAILS"));
    let e = driver(&r).create_machine(&create_request()).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("no capacity") && msg.contains("62291 was cancelled"), "{msg}");
    assert_no_key(&e);
    assert_eq!(r.find("POST", "_cloud_server_build").len(), 1, "a build is not resent after a 500");
    let cancel = r.find("POST", "_cloud_cancel");
    assert_eq!(cancel.len(), 1);
    assert_eq!(cancel[0].path, "/cloud/cancel/");
    assert_eq!(cancel[0].json(), serde_json::json!({ "mbpkgid": "62291" }));

    // A 500 on the buy itself: no second buy.
    r.route(
        Some("BUY_FAILS"),
        "POST",
        "_cloud_buy",
        [Reply::json(500, r#"{"error": {"code": 500, "message": "oops"}}"#)],
    );
    r.set_scenario(Some("BUY_FAILS"));
    r.take();
    driver(&r).create_machine(&create_request()).await.unwrap_err();
    assert_eq!(r.find("POST", "_cloud_buy").len(), 1);
    assert!(r.find("POST", "_cloud_server_build").is_empty());
}

#[tokio::test]
async fn create_checks_its_input_before_buying_anything() {
    let r = replay();
    let d = driver(&r);
    let mut bad_name = create_request();
    bad_name.name = "web1".into();
    assert_eq!(d.create_machine(&bad_name).await.unwrap_err().field(), Some("name"));
    let mut no_key = create_request();
    no_key.key = None;
    assert_eq!(d.create_machine(&no_key).await.unwrap_err().field(), Some("key"));
    let mut tagged = create_request();
    tagged.tags.insert("env".into(), "prod".into());
    assert_eq!(d.create_machine(&tagged).await.unwrap_err().field(), Some("tags"));
    let mut no_plan = create_request();
    no_plan.size = "9999".into();
    assert_eq!(d.create_machine(&no_plan).await.unwrap_err().field(), Some("size"));
    assert!(r.find("POST", "_cloud_buy").is_empty(), "nothing was bought");
}

#[tokio::test]
async fn the_key_stays_out_of_transport_errors_and_plain_http() {
    // A closed port on 127.0.0.1: the transport error names the URL, minus its query.
    let port = skydeck_tests::peer::free_port();
    let d = connect_to(&format!("http://127.0.0.1:{port}"), KEY).unwrap();
    let e = d.list_machines().await.unwrap_err();
    assert!(matches!(e, Error::Unavailable(_)), "{e:?}");
    assert_no_key(&e);

    // The key travels in the URL: plain HTTP is refused except to a local emulator.
    let e = connect_to("http://vapi.example.com", KEY).err().unwrap();
    assert_eq!(e.field(), Some("endpoint"));
    let e = connect_to("https://vapi.example.com", "key with spaces").err().unwrap();
    assert_eq!(e.field(), Some("api_key"));
    assert_no_key(&connect_to("https://vapi.example.com", "").err().unwrap());
}

#[test]
fn the_spec_is_registered_as_a_legacy_api() {
    let spec = skydeck_core::providers::find("hostvirtual").unwrap();
    assert!(spec.legacy);
    assert_eq!((spec.title, spec.logo), ("HostVirtual", "hostvirtual.svg"));
    assert!(skydeck_tests::repo_root().join("icons/providers").join(spec.logo).exists());
    let keys: Vec<_> = spec.fields.iter().map(|f| (f.key, f.is_secret(), f.advanced)).collect();
    assert_eq!(keys, [("api_key", true, false), ("endpoint", false, true)]);
    let json = serde_json::to_value(spec).unwrap();
    assert_eq!(json["legacy"], true);
    assert_eq!(spec.normalize("BUILDING"), MachineState::Pending);
    assert_eq!(spec.normalize("STARTING"), MachineState::Starting);
    assert_eq!(spec.normalize("STOPPING"), MachineState::Stopping);
    assert_eq!(spec.normalize("SOMETHING_NEW"), MachineState::Unknown);
}
