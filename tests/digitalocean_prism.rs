//! The DigitalOcean driver against Stoplight Prism serving DigitalOcean's own OpenAPI spec
//! (../shared/specs/digitalocean). Prism checks every request the driver sends against the
//! spec (`sl-violations`) and answers with the spec's examples, which the driver must parse.

use skydeck_core::http::Idempotency;
use skydeck_core::model::{Action, MachineState};
use skydeck_core::provider::Provider;
use skydeck_core::providers::digitalocean::{self, SPEC};
use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::prism::{Prism, Recorder};
use std::collections::BTreeMap;
use std::sync::Arc;
use skydeck_tests::tags;

const TOKEN: &str = "dop_v1_prism_test_token_0123456789";

fn prism() -> &'static Prism {
    Prism::shared(&skydeck_tests::shared_dir().join("specs/digitalocean/DigitalOcean-public.v2.bundled.yaml"))
}

fn connect(rec: &Recorder, token: &str) -> skydeck_core::Result<Box<dyn Provider>> {
    skydeck_tests::connect_driver(&SPEC, &prism().url(), ("token", token), rec.client())
}

#[tokio::test]
async fn lists_droplets_of_the_spec_example() {
    let rec = Recorder::default();
    let mut machines = connect(&rec, TOKEN).unwrap().list_machines().await.unwrap();
    SPEC.finish("do-test", &mut machines);

    let ids: Vec<_> = machines.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["3164444", "3164459", "3164412"]);
    let m = &machines[0];
    assert_eq!(m.name, "example.com");
    assert_eq!((m.raw_state.as_str(), m.state), ("active", MachineState::Running));
    assert_eq!(m.actions, [Action::Stop, Action::ForceOff, Action::Reboot, Action::Destroy, Action::Rename, Action::Tag]);
    assert_eq!((m.location.as_str(), m.size.as_str()), ("nyc3", "s-1vcpu-1gb"));
    assert_eq!(m.image, "Ubuntu 20.04 (LTS) x64");
    assert_eq!(m.public_ips, ["192.241.165.154", "2604:a880:0:1010::18a:a001"]);
    assert_eq!(m.private_ips, ["10.128.192.124"]);
    assert_eq!(m.tags, tags(&[("web", ""), ("env", "prod")]));
    assert_eq!(m.created_at.as_deref(), Some("2020-07-21T18:37:44Z"));
    assert_eq!(m.extra["region_name"], "New York 3");
    assert_eq!(
        (m.extra["vcpus"].as_str(), m.extra["memory_mb"].as_str(), m.extra["disk_gb"].as_str()),
        ("1", "1024", "25")
    );
    assert_eq!(m.extra["image_id"], "63663980");
    assert_eq!(machines[1].public_ips, ["162.243.0.4"], "a droplet without IPv6");
    assert_eq!(machines[2].tags, tags(&[("env", "stage")]));

    let sent = rec.exchanges();
    assert_eq!(sent.len(), 1, "one page holds all 3 (meta.total): {sent:#?}");
    assert_eq!((sent[0].method.as_str(), sent[0].path.as_str(), sent[0].status), ("GET", "/v2/droplets", 200));
    assert_eq!((sent[0].param("per_page").as_deref(), sent[0].param("page").as_deref()), (Some("200"), Some("1")));
    rec.assert_clean();
}

#[tokio::test]
async fn lists_the_catalog_following_next_pages_on_the_configured_host() {
    let rec = Recorder::default();
    let driver = connect(&rec, TOKEN).unwrap();

    let regions = driver.list_locations().await.unwrap();
    assert_eq!(regions.len(), 1, "{regions:?}");
    assert_eq!((regions[0].id.as_str(), regions[0].name.as_str()), ("nyc3", "New York 3"));
    assert_eq!((regions[0].country.as_deref(), regions[0].available), (Some("US"), true));

    let sizes = driver.list_sizes().await.unwrap();
    assert_eq!(sizes.len(), 1, "{sizes:?}");
    let s = &sizes[0];
    assert_eq!((s.id.as_str(), s.vcpus, s.ram_mb, s.disk_gb), ("s-1vcpu-1gb", Some(1), Some(1024), Some(25)));
    assert_eq!(s.price_monthly, Some(5.0));
    assert!((s.price_hourly.unwrap() - 0.00744).abs() < 1e-5);
    assert_eq!(s.locations.len(), 13);
    assert!(s.locations.contains(&"nyc3".to_string()));

    let images = driver.list_images().await.unwrap();
    let ids: Vec<_> = images.iter().map(|i| i.id.as_str()).collect();
    // The example repeats id 7555621 four times; a repeated id is one image.
    assert_eq!(ids, ["7555620", "7555621", "ubuntu-20-04-x64"]);
    assert_eq!(images[2].name, "Ubuntu 20.04 (LTS) x64");
    assert_eq!(images[2].distribution.as_deref(), Some("Ubuntu"));
    assert_eq!(images[2].locations, ["nyc2", "nyc3"]);

    // The regions and sizes examples link `next` to https://api.digitalocean.com/...?page=2
    // with a larger meta.total: the driver asks for page 2 on Prism, and stops there because
    // the second answer's `next` does not move forward.
    let sent = rec.exchanges();
    for path in ["/v2/regions", "/v2/sizes"] {
        let pages: Vec<_> = rec.find("GET", path).iter().map(|e| e.param("page").unwrap()).collect();
        assert_eq!(pages, ["1", "2"], "{path}");
    }
    let images_sent = rec.find("GET", "/v2/images");
    assert_eq!(images_sent.len(), 1, "all 6 images (meta.total) are on page 1");
    assert_eq!(images_sent[0].param("type").as_deref(), Some("distribution"));
    assert!(sent.iter().all(|e| e.host == "127.0.0.1" && e.param("per_page").as_deref() == Some("200")), "{sent:#?}");
    rec.assert_clean();
}

#[tokio::test]
async fn power_actions_rename_and_destroy() {
    let rec = Recorder::default();
    let driver = connect(&rec, TOKEN).unwrap();
    let machine = driver.list_machines().await.unwrap().remove(0);
    rec.take();

    for action in [Action::Start, Action::Stop, Action::ForceOff, Action::Reboot] {
        driver.machine_action(&machine, action).await.unwrap();
    }
    driver.rename(&machine, "renamed.example.com").await.unwrap();
    driver.machine_action(&machine, Action::Destroy).await.unwrap();

    let sent: Vec<_> = rec.exchanges().into_iter().map(|e| (e.method, e.path, e.status)).collect();
    let action = ("POST".to_string(), "/v2/droplets/3164444/actions".to_string(), 201);
    let destroy = ("DELETE".to_string(), "/v2/droplets/3164444".to_string(), 204);
    assert_eq!(sent, [action.clone(), action.clone(), action.clone(), action.clone(), action, destroy]);
    rec.assert_clean();

    let err = driver.rename(&machine, "  ").await.unwrap_err();
    assert_eq!((err.code(), err.field()), ("invalid_input", Some("name")));
    let mut bad = machine.clone();
    bad.id = "not-a-droplet".into();
    let err = driver.machine_action(&bad, Action::Reboot).await.unwrap_err();
    assert_eq!((err.code(), err.field()), ("invalid_input", Some("machine")));
    assert_eq!(rec.exchanges().len(), 6, "refused input sends nothing");
}

#[tokio::test]
async fn set_tags_creates_assigns_and_unassigns() {
    let rec = Recorder::default();
    let driver = connect(&rec, TOKEN).unwrap();
    let machine = driver.list_machines().await.unwrap().remove(0);
    assert_eq!(machine.tags, tags(&[("web", ""), ("env", "prod")]));
    rec.take();

    // Keep `web`, change env, add team.
    driver.set_tags(&machine, &tags(&[("web", ""), ("env", "stage"), ("team", "ops")])).await.unwrap();
    let sent: Vec<_> = rec.exchanges().into_iter().map(|e| format!("{} {} {}", e.method, e.path, e.status)).collect();
    assert_eq!(
        sent,
        [
            "POST /v2/tags 201",
            "POST /v2/tags/env:stage/resources 204",
            "POST /v2/tags 201",
            "POST /v2/tags/team:ops/resources 204",
            "DELETE /v2/tags/env:prod/resources 204",
        ]
    );
    rec.assert_clean();

    // A tag DigitalOcean cannot store is refused before any request.
    rec.take();
    let err = driver.set_tags(&machine, &tags(&[("owner", "Jane Doe")])).await.unwrap_err();
    assert_eq!((err.code(), err.field()), ("invalid_input", Some("tags")));
    assert!(rec.exchanges().is_empty());
}

#[tokio::test]
async fn a_request_without_token_is_unauthenticated() {
    let rec = Recorder::default();
    // The driver itself never sends an empty token...
    let err = connect(&rec, "   ").err().expect("blank token refused");
    assert_eq!((err.code(), err.field()), ("invalid_input", Some("token")));

    // ...so send a tokenless request through the shared client and let the driver map
    // Prism's 401 answer.
    let http = rec.client();
    let req = http.client().get(format!("{}/v2/account", prism().url())).build().unwrap();
    let resp = http.send(req, Idempotency::Idempotent, "DigitalOcean").await.unwrap();
    let status = resp.status.as_u16();
    let body = resp.body;
    assert_eq!(status, 401);
    let err = digitalocean::error_from_response(status, &body, None);
    assert_eq!(err.code(), "unauthenticated");
    let msg = err.to_string();
    assert!(msg.contains("Unable to authenticate you."), "{msg}");
    assert!(msg.contains("create a new one"), "{msg}");
    // The observer does see Prism's complaint, so the clean checks above can fail.
    let sent = rec.exchanges();
    assert!(sent[0].violations.as_deref().unwrap_or_default().contains("security"), "{sent:#?}");
}

#[tokio::test]
async fn skydeck_adds_refreshes_and_acts_on_a_digitalocean_cloud() {
    let rec = Recorder::default();
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap().with_http(rec.client());
    let fields = BTreeMap::from([
        ("token".to_string(), Sensitive::new(TOKEN.to_string())),
        ("endpoint".to_string(), Sensitive::new(prism().url())),
    ]);
    let cloud = deck.add_cloud(NewCloud { provider: "digitalocean".into(), title: "do".into(), fields }).await.unwrap();
    assert!(!cloud.fields.values().any(|v| v.contains(TOKEN)), "the token stays out of the store");
    assert_eq!(rec.find("GET", "/v2/account").len(), 1);

    let outcomes = deck.refresh(None).await.unwrap();
    assert_eq!((outcomes[0].machine_count, outcomes[0].error.as_ref()), (3, None));
    let m = deck.machine_action("3164444", Action::Stop).await.unwrap();
    assert_eq!(m.state, MachineState::Running, "Prism has no state: the refreshed droplet is still active");
    let m = deck.rename("3164459", "new-name").await.unwrap();
    assert_eq!(m.name, "new-name");
    deck.set_tags("3164412", tags(&[("env", "stage"), ("db", "")])).await.unwrap();

    assert_eq!(rec.find("POST", "/v2/droplets/3164444/actions").len(), 1);
    assert_eq!(rec.find("POST", "/v2/droplets/3164459/actions").len(), 1);
    assert_eq!(rec.find("POST", "/v2/tags/db/resources").len(), 1);
    assert!(rec.find("POST", "/v2/tags/env:stage/resources").is_empty(), "env:stage was already there");
    assert!(rec.find("GET", "/v2/droplets").len() >= 2);
    rec.assert_clean();
}
