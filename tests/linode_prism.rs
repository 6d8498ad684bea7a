//! The Linode driver against Stoplight Prism serving Linode's own OpenAPI spec
//! (../shared/specs/linode/openapi.yaml). Prism checks every request the driver sends against
//! the spec and answers with the spec's examples, which the driver must parse; the error
//! answers with a Retry-After come from the harness's replay server.
//!
//! Prism reports what it finds in the `sl-violations` header, for the request AND for its own
//! example response. Linode's examples write timestamps without a zone (and one `uuid` that
//! is not one), so some answers carry response-located violations that no driver can avoid:
//! [`assert_requests_clean`] requires every request to be clean and allows only those.

use serde_json::Value;
use skydeck_core::http::Idempotency;
use skydeck_core::model::{Action, CreateMachine, MachineState, SshPublicKey};
use skydeck_core::provider::Provider;
use skydeck_core::providers::linode::{self, SPEC};
use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::prism::{Prism, Recorder};
use skydeck_tests::replay::{Replay, Reply};
use skydeck_tests::suite::Lifecycle;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use skydeck_tests::tags;

const TOKEN: &str = "linode-prism-test-token-0123456789abcdef";
const PUBKEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnDjLNjW2CYezqqLpAnVaHN+A/g986/lf3QPK1endvg me@laptop";

fn prism() -> &'static Prism {
    Prism::shared(&skydeck_tests::shared_dir().join("specs/linode/openapi.yaml"))
}

fn connect_to(url: &str, rec: &Recorder, token: &str) -> skydeck_core::Result<Box<dyn Provider>> {
    skydeck_tests::connect_driver(&SPEC, url, ("token", token), rec.client())
}

fn connect(rec: &Recorder) -> Box<dyn Provider> {
    connect_to(&prism().url(), rec, TOKEN).unwrap()
}

/// Response properties whose spec examples Prism itself finds invalid (timestamps with no
/// zone, a host_uuid that is not a UUID, an integer `migrating_to`).
const EXAMPLE_FLAWS: &[&str] = &["created", "updated", "last_successful", "eol", "host_uuid", "migrating_to"];

/// Every request was valid; the only violations Prism reported are its own examples' flaws.
fn assert_requests_clean(rec: &Recorder) {
    let all = rec.exchanges();
    assert!(!all.is_empty(), "no request reached Prism");
    for e in &all {
        let Some(v) = &e.violations else { continue };
        let list: Vec<Value> = serde_json::from_str(v).unwrap_or_else(|_| panic!("unreadable sl-violations: {v}"));
        for item in list {
            let loc: Vec<&str> = item["location"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
            assert_eq!(loc.first(), Some(&"response"), "{} {} sent a request Prism refused: {item}", e.method, e.path);
            assert!(
                loc.last().is_some_and(|p| EXAMPLE_FLAWS.contains(p)),
                "{} {}: an unexpected response violation: {item}",
                e.method,
                e.path
            );
        }
    }
}

fn create_request() -> CreateMachine {
    CreateMachine {
        name: "web-1".into(),
        location: "us-east".into(),
        size: "g6-nanode-1".into(),
        image: "linode/debian12".into(),
        key: Some(SshPublicKey {
            name: "laptop".into(),
            openssh: PUBKEY.into(),
            fingerprint: "SHA256:f5H6lYIriM8AvPsds6VAT5UP+l6Wk4MmcCSyt93rzqU".into(),
        }),
        tags: tags(&[("env", "prod")]),
        user_data: Some("#cloud-config\npackage_update: true\n".into()),
        options: BTreeMap::new(),
        client_token: "c0ffee".into(),
    }
}

#[tokio::test]
async fn lists_instances_of_the_spec_example() {
    let rec = Recorder::default();
    let mut machines = connect(&rec).list_machines().await.unwrap();
    SPEC.finish("linode-test", &mut machines);

    assert_eq!(machines.len(), 1, "{machines:#?}");
    let m = &machines[0];
    assert_eq!((m.id.as_str(), m.name.as_str()), ("123", "linode123"));
    assert_eq!((m.raw_state.as_str(), m.state), ("running", MachineState::Running));
    assert_eq!(m.actions, [Action::Stop, Action::Reboot, Action::Destroy, Action::Rename, Action::Tag]);
    assert_eq!(
        (m.location.as_str(), m.size.as_str(), m.image.as_str()),
        ("us-east", "g6-standard-1", "linode/debian9")
    );
    assert_eq!(m.public_ips, ["203.0.113.1", "192.0.2.1", "c001:d00d::1337"]);
    assert!(m.private_ips.is_empty());
    assert_eq!(m.tags, tags(&[("example tag", ""), ("another example", "")]));
    // The example's `2018-01-01T00:01:01` has no zone: Linode means UTC.
    assert_eq!(m.created_at.as_deref(), Some("2018-01-01T00:01:01Z"));
    assert_eq!(
        (m.extra["vcpus"].as_str(), m.extra["memory_mb"].as_str(), m.extra["disk_gb"].as_str()),
        ("2", "4096", "80")
    );

    let sent = rec.exchanges();
    assert_eq!(sent.len(), 1, "one page (pages: 1): {sent:#?}");
    assert_eq!((sent[0].method.as_str(), sent[0].path.as_str(), sent[0].status), ("GET", "/v4/linode/instances", 200));
    assert_eq!((sent[0].param("page").as_deref(), sent[0].param("page_size").as_deref()), (Some("1"), Some("500")));
    assert!(sent[0].violations.is_some(), "the example's zone-less timestamps are flagged by Prism itself");
    assert_requests_clean(&rec);
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
        ("us-east", "Newark, NJ, USA", Some("US"), true)
    );

    let sizes = driver.list_sizes().await.unwrap();
    assert_eq!(sizes.len(), 1);
    let s = &sizes[0];
    assert_eq!((s.id.as_str(), s.name.as_str()), ("g6-standard-2", "g6-standard-2 (Linode 4GB)"));
    assert_eq!((s.vcpus, s.ram_mb, s.disk_gb), (Some(2), Some(4096), Some(80)));
    assert_eq!((s.price_hourly, s.price_monthly), (Some(0.03), Some(20.0)));

    let images = driver.list_images().await.unwrap();
    assert_eq!(images.len(), 1);
    let i = &images[0];
    assert_eq!(
        (i.id.as_str(), i.name.as_str(), i.distribution.as_deref()),
        ("linode/debian11", "Debian 11", Some("Debian"))
    );
    assert_eq!(i.locations, ["us-iad"]);

    let paths: Vec<_> = rec.exchanges().into_iter().map(|e| format!("{} {} {}", e.method, e.path, e.status)).collect();
    assert_eq!(paths, ["GET /v4/regions 200", "GET /v4/linode/types 200", "GET /v4/images 200"]);
    // Regions and types have no timestamps: their answers carry no violation at all.
    assert!(rec.exchanges()[..2].iter().all(|e| e.violations.is_none()), "{:#?}", rec.exchanges());
    assert_requests_clean(&rec);
}

#[tokio::test]
async fn creates_with_an_inline_key_and_user_data() {
    let rec = Recorder::default();
    let driver = connect(&rec);
    let mut m = driver.create_machine(&create_request()).await.unwrap();
    SPEC.finish("linode-test", std::slice::from_mut(&mut m));
    // Prism answers with the spec's example instance.
    assert_eq!((m.id.as_str(), m.name.as_str(), m.state), ("123", "linode123", MachineState::Running));

    let sent = rec.exchanges();
    assert_eq!(sent.len(), 1, "the key travels inline: no key registration call: {sent:#?}");
    assert_eq!((sent[0].method.as_str(), sent[0].path.as_str(), sent[0].status), ("POST", "/v4/linode/instances", 200));
    assert_requests_clean(&rec);

    // Refused before anything is sent.
    rec.take();
    let mut bad = create_request();
    bad.name = "1 bad name".into();
    assert_eq!(driver.create_machine(&bad).await.unwrap_err().field(), Some("name"));
    let mut bad = create_request();
    bad.tags = tags(&[("db", "")]);
    assert_eq!(driver.create_machine(&bad).await.unwrap_err().field(), Some("tags"));
    let mut bad = create_request();
    bad.size = " ".into();
    assert_eq!(driver.create_machine(&bad).await.unwrap_err().field(), Some("size"));
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
    driver.rename(&machine, "renamed-1").await.unwrap();
    driver.set_tags(&machine, &tags(&[("env", "stage"), ("team", "ops")])).await.unwrap();
    driver.machine_action(&machine, Action::Destroy).await.unwrap();

    let sent: Vec<_> = rec.exchanges().into_iter().map(|e| format!("{} {} {}", e.method, e.path, e.status)).collect();
    assert_eq!(
        sent,
        [
            "POST /v4/linode/instances/123/boot 200",
            "POST /v4/linode/instances/123/shutdown 200",
            "POST /v4/linode/instances/123/reboot 200",
            "PUT /v4/linode/instances/123 200",
            "PUT /v4/linode/instances/123 200",
            "DELETE /v4/linode/instances/123 200",
        ]
    );
    assert_requests_clean(&rec);

    rec.take();
    assert_eq!(driver.rename(&machine, "x").await.unwrap_err().field(), Some("name"));
    assert_eq!(driver.machine_action(&machine, Action::Suspend).await.unwrap_err().code(), "not_supported");
    let mut bad = machine.clone();
    bad.id = "../account".into();
    assert_eq!(driver.machine_action(&bad, Action::Reboot).await.unwrap_err().field(), Some("machine"));
    assert!(rec.exchanges().is_empty(), "refused input sends nothing");
}

#[tokio::test]
async fn runs_the_lifecycle_suite() {
    let rec = Recorder::default();
    let driver = connect(&rec);
    let mut suite = Lifecycle::new(&SPEC, driver.as_ref(), false);
    suite.create = Some(create_request());
    let report = suite.run().await;
    assert_eq!(report.ran, ["list", "create", "stop", "start", "reboot", "rename", "tag", "destroy"], "{report:?}");
    // The API has neither suspend nor a hard power-off.
    let skipped: Vec<&str> = report.skipped.iter().map(|(step, _)| *step).collect();
    assert_eq!(skipped, ["suspend", "force_off"], "{report:?}");
    assert_eq!(rec.find("PUT", "/v4/linode/instances/123").len(), 2, "rename and tag");
    assert_requests_clean(&rec);
}

#[tokio::test]
async fn a_request_without_token_is_unauthenticated() {
    let rec = Recorder::default();
    let err = connect_to(&prism().url(), &rec, " ").err().expect("blank token refused");
    assert_eq!((err.code(), err.field()), ("invalid_input", Some("token")));
    let err = connect_to(&prism().url(), &rec, "two words").err().expect("pasted junk refused");
    assert_eq!((err.code(), err.field()), ("invalid_input", Some("token")));

    // The driver never sends an empty token, so send a tokenless request through the shared
    // client and let the driver map Prism's 401 answer (the spec's error shape).
    let http = rec.client();
    let req = http.client().get(format!("{}/v4/profile", prism().url())).build().unwrap();
    let resp = http.send(req, Idempotency::Idempotent, "Linode").await.unwrap();
    let status = resp.status.as_u16();
    let err = linode::error_from_response(status, &resp.body, None);
    assert_eq!((status, err.code()), (401, "unauthenticated"));
    assert!(err.to_string().contains("cloud.linode.com/profile/tokens"), "{err}");
    assert!(rec.exchanges()[0].violations.as_deref().unwrap_or_default().contains("security"));
}

/// Prism answers `Prefer: code=N` with the spec's `default` error response: the driver's
/// mapping reads that shape for every status it cares about.
#[tokio::test]
async fn maps_the_specs_error_answers() {
    let rec = Recorder::default();
    let http = rec.client();
    for (code, want) in [
        (401, "unauthenticated"),
        (403, "permission_denied"),
        (404, "not_found"),
        (429, "rate_limited"),
        (500, "unavailable"),
    ] {
        let req = http
            .client()
            .get(format!("{}/v4/linode/instances", prism().url()))
            .bearer_auth(TOKEN)
            .header("Prefer", format!("code={code}"))
            .build()
            .unwrap();
        let resp = http.send(req, Idempotency::NonIdempotent, "Linode").await.unwrap();
        assert_eq!(resp.status.as_u16(), code);
        let err = linode::error_from_response(code, &resp.body, None);
        assert_eq!(err.code(), want, "{code}: {err}");
        assert!(err.to_string().contains("fieldname must be a valid value"), "the spec's reason is kept: {err}");
    }
}

/// Statuses Prism cannot send with a Retry-After, from the harness's replay server, through
/// the real driver and the shared retry layer.
#[tokio::test]
async fn maps_error_statuses_and_retry_after() {
    let replay = Replay::start("linode_v4");
    let rec = Recorder::default();
    let driver = connect_to(&replay.url(), &rec, "wrong-token-123456789").unwrap();
    let errors = |reason: &str| format!(r#"{{"errors":[{{"reason":"{reason}"}}]}}"#);

    replay.route(None, "*", "*", [Reply::json(401, errors("Invalid Token"))]);
    let e = driver.test_connection().await.unwrap_err();
    assert_eq!(e.code(), "unauthenticated");
    assert!(e.to_string().contains("Invalid Token") && !e.to_string().contains("wrong-token"), "{e}");

    replay.route(None, "*", "*", [Reply::json(404, errors("Not found"))]);
    let gone = skydeck_core::model::Machine::new("999", "gone", "running");
    assert_eq!(driver.machine_action(&gone, Action::Reboot).await.unwrap_err().code(), "not_found");

    // A wait longer than the shared layer waits for itself comes back as RateLimited.
    replay.take();
    replay.route(None, "*", "*", [Reply::json(429, errors("Too many requests")).header("Retry-After", "120")]);
    let e = driver.list_machines().await.unwrap_err();
    assert_eq!((e.code(), e.retry_after()), ("rate_limited", Some(Duration::from_secs(120))));
    assert_eq!(replay.take().len(), 1, "not retried within the call");

    replay.route(None, "*", "*", [Reply::json(500, errors("Internal server error"))]);
    assert_eq!(driver.list_machines().await.unwrap_err().code(), "unavailable");
    assert_eq!(replay.take().len(), 2, "an idempotent read is retried once (the recorder's policy)");
    assert_eq!(driver.create_machine(&create_request()).await.unwrap_err().code(), "unavailable");
    assert_eq!(replay.take().len(), 1, "a create is never resent");
}

#[tokio::test]
async fn skydeck_adds_refreshes_and_acts_on_a_linode_cloud() {
    let rec = Recorder::default();
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap().with_http(rec.client());
    let fields = BTreeMap::from([
        ("token".to_string(), Sensitive::new(TOKEN.to_string())),
        ("endpoint".to_string(), Sensitive::new(prism().url())),
    ]);
    let cloud = deck.add_cloud(NewCloud { provider: "linode".into(), title: "linode".into(), fields }).await.unwrap();
    assert!(!cloud.fields.values().any(|v| v.contains(TOKEN)), "the token stays out of the store");
    assert_eq!(rec.find("GET", "/v4/profile").len(), 1, "Test & save checks the token");

    let outcomes = deck.refresh(None).await.unwrap();
    assert_eq!((outcomes[0].machine_count, outcomes[0].error.as_ref()), (1, None));
    deck.machine_action("123", Action::Stop).await.unwrap();
    deck.rename("123", "new-name").await.unwrap();
    assert_eq!(rec.find("POST", "/v4/linode/instances/123/shutdown").len(), 1);
    assert_eq!(rec.find("PUT", "/v4/linode/instances/123").len(), 1);
    assert_requests_clean(&rec);
}

/// What the add-cloud form and the wizard are drawn from.
#[test]
fn declares_its_form_logo_and_capabilities() {
    let spec = skydeck_core::providers::find("linode").unwrap();
    assert!(std::ptr::eq(spec, &SPEC), "one registry line");
    assert_eq!((spec.title, spec.logo, spec.legacy), ("Linode", "linode.svg", false));
    assert!(skydeck_tests::repo_root().join("icons/providers").join(spec.logo).exists());
    let keys: Vec<_> = spec.fields.iter().map(|f| (f.key, f.kind, f.required, f.advanced)).collect();
    assert_eq!(
        keys,
        [
            ("token", skydeck_core::provider::FieldKind::Secret, true, false),
            ("endpoint", skydeck_core::provider::FieldKind::Url, false, true),
        ]
    );
    assert_eq!(spec.fields[1].placeholder, "https://api.linode.com");
    let caps = spec.capabilities;
    assert!(caps.create && caps.start && caps.stop && caps.reboot && caps.destroy && caps.rename && caps.tag && caps.user_data);
    assert_eq!(caps.key_delivery, skydeck_core::provider::KeyDelivery::Inline);
}
