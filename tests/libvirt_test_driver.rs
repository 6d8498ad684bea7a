//! The KVM / libvirt driver against libvirt's built-in `test:///default` driver (no daemon):
//! one running domain `test`, a storage pool `default-pool`, a network `default`.
//!
//! The test driver keeps its state in memory while a connection to it is open: a new
//! process starts afresh, and within one process all open `test:///default` connections
//! share one state, which is freed when the last closes. So the driver keeps one connection
//! per cloud (or every call would start afresh), and these tests run one at a time (a lock),
//! each with a fresh host: it drops its drivers, closing their connections, before the next.

use skydeck_core::model::{Action, CreateMachine, Machine, MachineState, Tags};
use skydeck_core::provider::{Connection, Provider};
use skydeck_core::providers::libvirt::{Libvirt, SPEC};
use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::{Error, NewCloud, Skydeck};
use skydeck_tests::suite::Lifecycle;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use virt::storage_vol::StorageVol;

const POOL: &str = "default-pool";
/// The UUID of test:///default's built-in domain `test`.
const TEST_UUID: &str = "6695eb01-f6a4-8304-79aa-97f2502e193f";

fn open_uri(uri: &str, key: Option<&str>) -> skydeck_core::Result<Libvirt> {
    let fields = BTreeMap::from([("uri".to_string(), uri.to_string())]);
    let secrets = key.map(|k| ("ssh_private_key".to_string(), Sensitive::new(k.to_string()))).into_iter().collect();
    Libvirt::open(Connection {
        cloud_id: "kvm-test".into(),
        fields,
        secrets,
        http: skydeck_core::http::HttpClient::new().unwrap(),
    })
}

/// One test at a time owns `test:///default`.
static HOST: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A driver on a fresh `test:///default`; the lock is released after the driver is dropped.
struct Fresh {
    driver: Libvirt,
    _host: tokio::sync::MutexGuard<'static, ()>,
}

impl std::ops::Deref for Fresh {
    type Target = Libvirt;
    fn deref(&self) -> &Libvirt {
        &self.driver
    }
}

async fn driver() -> Fresh {
    let host = HOST.lock().await;
    let driver = open_uri("test:///default", None).unwrap();
    let ms = driver.list_machines().await.unwrap();
    assert_eq!(ms.len(), 1, "a fresh test:///default has one domain; a connection stayed open: {ms:?}");
    assert!(volumes(&driver).await.is_empty(), "a fresh test:///default has an empty pool");
    Fresh { driver, _host: host }
}

/// Adds a volume to `default-pool` on the driver's own connection (a "disk image").
async fn add_volume(d: &Libvirt, name: &str, format: &str) -> String {
    let xml = format!("<volume><name>{name}</name><capacity unit='MiB'>64</capacity><target><format type='{format}'/></target></volume>");
    d.with_connect(move |c| {
        let pool = c.lookup_storage_pool_by_name(POOL)?;
        StorageVol::create_xml(&pool, &xml, 0)?.path()
    })
    .await
    .unwrap()
}

async fn volumes(d: &Libvirt) -> Vec<String> {
    let mut v = d.with_connect(|c| c.lookup_storage_pool_by_name(POOL)?.list_volumes()).await.unwrap();
    v.sort();
    v
}

async fn listed(d: &Libvirt) -> Vec<Machine> {
    let mut ms = d.list_machines().await.unwrap();
    SPEC.finish("kvm-test", &mut ms);
    ms
}

async fn by_name(d: &Libvirt, name: &str) -> Option<Machine> {
    listed(d).await.into_iter().find(|m| m.name == name)
}

fn request(name: &str, image: &str) -> CreateMachine {
    CreateMachine {
        name: name.into(),
        location: POOL.into(),
        size: "1x512".into(),
        image: image.into(),
        key: None,
        tags: Tags::from([("env".to_string(), "test".to_string())]),
        user_data: None,
        options: BTreeMap::new(),
        client_token: "t".into(),
    }
}

#[tokio::test]
async fn runs_the_lifecycle_suite_statefully() {
    let d = driver().await;
    add_volume(&d, "base.qcow2", "qcow2").await;
    let mut suite = Lifecycle::new(&SPEC, &*d, true);
    suite.create = Some(request("suite-vm", "vol:default-pool/base.qcow2"));
    suite.settle = Duration::from_secs(10);
    let report = suite.run().await;

    for step in ["list", "create", "stop", "start", "suspend", "resume", "force_off", "reboot", "stop-for-rename", "rename", "tag", "destroy"] {
        assert!(report.ran(step), "{step} did not run: {report:?}");
    }
    assert!(report.skipped.is_empty(), "{report:?}");
    assert_eq!(report.listed, 1, "test:///default starts with its one domain");
    // Destroy removed the domain and the disk Skydeck copied for it, not the image.
    assert_eq!(listed(&d).await.len(), 1);
    assert!(listed(&d).await.iter().all(|m| Some(&m.id) != report.machine_id.as_ref()));
    assert_eq!(volumes(&d).await, ["base.qcow2"]);
}

#[tokio::test]
async fn lists_the_test_domain() {
    let d = driver().await;
    let ms = listed(&d).await;
    assert_eq!(ms.len(), 1);
    let m = &ms[0];
    assert_eq!(m.name, "test");
    assert_eq!(m.id, TEST_UUID, "the id is the UUID");
    assert_eq!((m.raw_state.as_str(), m.state), ("running", MachineState::Running));
    assert_eq!(
        m.actions,
        [Action::Stop, Action::ForceOff, Action::Reboot, Action::Suspend, Action::Destroy, Action::Tag]
    );
    assert_eq!(m.size, "2 vCPU, 2048 MiB");
    assert_eq!(m.image, "diskimage1");
    assert_eq!(m.private_ips, ["192.168.122.3"], "from the default network's lease");
    assert!(m.public_ips.is_empty());
    assert_eq!((m.extra["domain_type"].as_str(), m.extra["macs"].as_str()), ("test", "aa:bb:cc:dd:ee:ff"));
    assert!(!m.location.is_empty(), "the host name");
    assert!(m.tags.is_empty());
}

#[tokio::test]
async fn suspends_resumes_forces_off_and_starts() {
    let d = driver().await;
    let m = by_name(&d, "test").await.unwrap();
    d.machine_action(&m, Action::Suspend).await.unwrap();
    let m = by_name(&d, "test").await.unwrap();
    assert_eq!((m.raw_state.as_str(), m.state), ("paused", MachineState::Suspended));
    assert_eq!(m.actions, [Action::Resume, Action::ForceOff, Action::Destroy, Action::Tag]);
    d.machine_action(&m, Action::Resume).await.unwrap();
    assert_eq!(by_name(&d, "test").await.unwrap().state, MachineState::Running);
    d.machine_action(&m, Action::ForceOff).await.unwrap();
    let m = by_name(&d, "test").await.unwrap();
    assert_eq!((m.raw_state.as_str(), m.state), ("shutoff", MachineState::Stopped));
    assert_eq!(m.actions, [Action::Start, Action::Destroy, Action::Rename, Action::Tag]);
    assert!(m.private_ips.is_empty(), "no lease while off");
    d.machine_action(&m, Action::Start).await.unwrap();
    assert_eq!(by_name(&d, "test").await.unwrap().state, MachineState::Running);
}

#[tokio::test]
async fn offers_pools_fitting_sizes_and_unused_volumes_and_templates() {
    let d = driver().await;
    let locs = d.list_locations().await.unwrap();
    assert_eq!(locs.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), [POOL]);
    assert!(locs[0].name.starts_with("default-pool (") && locs[0].name.ends_with("GiB free)"), "{:?}", locs[0]);

    // The test host has 16 CPUs and 3 GiB: presets above 3 GiB do not fit.
    let sizes = d.list_sizes().await.unwrap();
    let ids: Vec<_> = sizes.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["1x512", "1x1024", "2x2048"]);
    assert_eq!((sizes[2].name.as_str(), sizes[2].vcpus, sizes[2].ram_mb), ("2 vCPU, 2 GiB", Some(2), Some(2048)));

    assert!(d.list_images().await.unwrap().is_empty(), "the running test domain is no template, the pool is empty");
    add_volume(&d, "debian.qcow2", "qcow2").await;
    add_volume(&d, "alpine.img", "raw").await;
    let images = d.list_images().await.unwrap();
    let ids: Vec<_> = images.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["vol:default-pool/alpine.img", "vol:default-pool/debian.qcow2"]);
    assert_eq!(images[1].name, "debian.qcow2 (default-pool)");

    // A shut-off domain is offered as a template; a volume in use is not an image.
    let m = d.create_machine(&request("web", "vol:default-pool/debian.qcow2")).await.unwrap();
    d.machine_action(&m, Action::ForceOff).await.unwrap();
    let ids: Vec<_> = d.list_images().await.unwrap().into_iter().map(|i| (i.id, i.name)).collect();
    assert_eq!(
        ids,
        [
            (format!("domain:{}", m.id), "Clone of web".to_string()),
            ("vol:default-pool/alpine.img".into(), "alpine.img (default-pool)".into()),
            ("vol:default-pool/debian.qcow2".into(), "debian.qcow2 (default-pool)".into()),
        ],
        "web-vda.qcow2 is web's disk"
    );
}

#[tokio::test]
async fn creates_from_a_volume_with_tags_and_metadata() {
    let d = driver().await;
    add_volume(&d, "debian.qcow2", "qcow2").await;
    let mut req = request("web1", "vol:default-pool/debian.qcow2");
    req.size = "2x2048".into();
    let m = d.create_machine(&req).await.unwrap();
    assert_eq!((m.name.as_str(), m.raw_state.as_str()), ("web1", "running"));
    assert_eq!(m.size, "2 vCPU, 2048 MiB");
    assert_eq!(m.tags, req.tags);
    assert_eq!(m.image, "default-pool/debian.qcow2");
    assert!(m.created_at.as_deref().is_some_and(|t| t.ends_with('Z')), "{:?}", m.created_at);
    assert_eq!(m.extra["disks"], "/default-pool/web1-vda.qcow2");
    assert_eq!(volumes(&d).await, ["debian.qcow2", "web1-vda.qcow2"]);

    // Tags replace, and survive alongside Skydeck's other metadata.
    let tags = Tags::from([("team".to_string(), "a&b <ops>".to_string()), ("k".to_string(), String::new())]);
    d.set_tags(&m, &tags).await.unwrap();
    let again = by_name(&d, "web1").await.unwrap();
    assert_eq!(again.tags, tags);
    assert_eq!(again.created_at, m.created_at);

    // The same name twice is a conflict, and nothing is copied for it.
    let e = d.create_machine(&req).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    assert_eq!(volumes(&d).await, ["debian.qcow2", "web1-vda.qcow2"]);
}

#[tokio::test]
async fn clones_a_template_domain_with_new_disks_and_macs() {
    let d = driver().await;
    let disk = add_volume(&d, "tmpl-disk.img", "raw").await;
    let xml = format!(
        "<domain type='test'><name>tmpl</name><memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>hvm</type></os>\
         <devices><disk type='file' device='disk'><source file='{disk}'/><target dev='vda'/></disk>\
         <interface type='network'><mac address='52:54:00:12:34:56'/><source network='default'/></interface></devices></domain>"
    );
    let uuid = d.with_connect(move |c| c.define_domain_xml(&xml)?.uuid_string()).await.unwrap();
    let image = format!("domain:{uuid}");
    assert!(d.list_images().await.unwrap().iter().any(|i| i.id == image && i.name == "Clone of tmpl"));

    let mut req = request("clone1", &image);
    req.size = "1x1024".into();
    let m = d.create_machine(&req).await.unwrap();
    assert_ne!(m.id, uuid);
    assert_eq!((m.raw_state.as_str(), m.size.as_str()), ("running", "1 vCPU, 1024 MiB"));
    assert_eq!(m.extra["disks"], "/default-pool/clone1-vda.img", "its own copy of the template's disk");
    let mac = &m.extra["macs"];
    assert!(!mac.is_empty() && mac != "52:54:00:12:34:56", "a new MAC: {mac}");
    assert_eq!(volumes(&d).await, ["clone1-vda.img", "tmpl-disk.img"]);

    // Destroying the clone (running) powers it off, undefines it and deletes only its copy.
    d.machine_action(&m, Action::Destroy).await.unwrap();
    assert!(by_name(&d, "clone1").await.is_none());
    assert!(by_name(&d, "tmpl").await.is_some(), "the template stays");
    assert_eq!(volumes(&d).await, ["tmpl-disk.img"]);
}

#[tokio::test]
async fn refuses_a_template_whose_disk_is_in_no_pool() {
    let d = driver().await;
    let test = by_name(&d, "test").await.unwrap();
    d.machine_action(&test, Action::ForceOff).await.unwrap();
    // /guest/diskimage1 of the built-in domain belongs to no pool: copying it is not possible.
    let e = d.create_machine(&request("copy", &format!("domain:{}", test.id))).await.unwrap_err();
    assert_eq!(e.field(), Some("image"), "{e:?}");
    assert!(e.to_string().contains("/guest/diskimage1"), "{e}");
    assert!(volumes(&d).await.is_empty(), "nothing was copied");
    assert!(by_name(&d, "copy").await.is_none());
}

#[tokio::test]
async fn maps_libvirt_errors_to_typed_errors() {
    let d = driver().await;
    let test = by_name(&d, "test").await.unwrap();

    let e = d.rename(&test, "other").await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "running domains cannot be renamed: {e:?}");
    assert!(e.to_string().contains("stop 'test' first"), "{e}");

    let mut gone = test.clone();
    gone.id = "00000000-0000-0000-0000-000000000001".into();
    let e = d.machine_action(&gone, Action::Start).await.unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    assert!(e.to_string().contains("libvirt at test:///default"), "{e}");

    let e = d.machine_action(&test, Action::Start).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "already running: {e:?}");

    add_volume(&d, "img.qcow2", "qcow2").await;
    let img = "vol:default-pool/img.qcow2";
    let field = |r: skydeck_core::Result<Machine>| r.unwrap_err().field().map(str::to_string);
    let mut r = request("x", img);
    r.size = "lots".into();
    assert_eq!(field(d.create_machine(&r).await).as_deref(), Some("size"));
    let mut r = request("x", img);
    r.location = "nope".into();
    assert_eq!(field(d.create_machine(&r).await).as_deref(), Some("location"));
    let r = request("x", "vol:default-pool/missing.qcow2");
    assert_eq!(field(d.create_machine(&r).await).as_deref(), Some("image"));
    let mut r = request("x", img);
    r.key = Some(skydeck_core::model::SshPublicKey {
        name: "k".into(),
        openssh: "ssh-ed25519 AAAA".into(),
        fingerprint: "f".into(),
    });
    assert_eq!(field(d.create_machine(&r).await).as_deref(), Some("key"));
    let mut r = request("x", img);
    r.options.insert("cpu_model".into(), "host".into());
    assert_eq!(field(d.create_machine(&r).await).as_deref(), Some("options"));
    let e = d.create_machine(&request("test", img)).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "the name is taken: {e:?}");
    assert_eq!(volumes(&d).await, ["img.qcow2"], "failed creates copied nothing");

    assert_eq!(open_uri("not a uri", None).err().unwrap().field(), Some("uri"));
    assert_eq!(
        open_uri("test:///default", Some("-----BEGIN OPENSSH PRIVATE KEY-----eA==-----END OPENSSH PRIVATE KEY-----"))
            .err()
            .unwrap()
            .field(),
        Some("ssh_private_key")
    );
    assert_eq!(open_uri("test+ssh://h/default", Some("not a key")).err().unwrap().field(), Some("ssh_private_key"));

    // A URI may not pick the socket (nor a program, key file…): see tests/libvirt_uri_guard.rs.
    // An unreachable or hung daemon is in tests/nonhttp_faults.rs.
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("qemu+unix:///system?socket={}/none.sock", dir.path().display());
    let e = open_uri(&uri, None).err().unwrap();
    assert_eq!((e.code(), e.field()), ("invalid_input", Some("uri")), "{e:?}");
    assert!(e.to_string().contains("'socket'"), "names the parameter: {e}");
}

#[tokio::test]
async fn one_connection_per_driver_shared_by_concurrent_calls() {
    let fresh = driver().await;
    add_volume(&fresh, "base.qcow2", "qcow2").await;
    fresh.create_machine(&request("shared", "vol:default-pool/base.qcow2")).await.unwrap();
    let Fresh { driver, _host } = fresh;
    let d = Arc::new(driver);
    let calls = (0..8).map(|_| {
        let d = d.clone();
        async move { d.list_machines().await.unwrap().len() }
    });
    assert_eq!(futures::future::join_all(calls).await, vec![2; 8], "every call sees the same connection's state");
    // Closing the only connection frees test:///default's state: the next one starts afresh.
    drop(d);
    let again = open_uri("test:///default", None).unwrap();
    assert_eq!(again.list_machines().await.unwrap().len(), 1);
}

#[tokio::test]
async fn skydeck_adds_the_test_driver_as_a_cloud_and_acts_through_it() {
    let _host = HOST.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap();
    let spec = skydeck_core::providers::find("libvirt").unwrap();
    assert_eq!((spec.title, spec.logo, spec.legacy), ("KVM / libvirt", "libvirt.svg", false));
    let fields = BTreeMap::from([("uri".to_string(), Sensitive::new("test:///default".to_string()))]);
    let cloud = deck.add_cloud(NewCloud { provider: "libvirt".into(), title: "demo".into(), fields }).await.unwrap();
    assert_eq!(cloud.fields["uri"], "test:///default");
    let outcomes = deck.refresh(None).await.unwrap();
    assert_eq!((outcomes[0].machine_count, outcomes[0].error.as_ref()), (1, None));
    let m = deck.machine_action(TEST_UUID, Action::Suspend).await.unwrap();
    assert_eq!(m.state, MachineState::Suspended);
    let m = deck.machine_action(TEST_UUID, Action::Resume).await.unwrap();
    assert_eq!(m.state, MachineState::Running);
    let e = deck.machine_action(TEST_UUID, Action::Start).await.unwrap_err();
    assert_eq!(e.code(), "conflict", "start is not allowed while running: {e}");
    let m = deck.set_tags(TEST_UUID, Tags::from([("role".to_string(), "demo".to_string())])).await.unwrap();
    assert_eq!(m.tags["role"], "demo");
}

#[tokio::test]
async fn detects_a_session_daemon_socket() {
    // Under the lock: no other test here runs while the environment changes.
    let _host = HOST.lock().await;
    let detect = SPEC.detect.expect("libvirt offers local hosts");
    let runtime = tempfile::tempdir().unwrap();
    let session = |hosts: Vec<skydeck_core::provider::DetectedHost>| {
        hosts.into_iter().find(|h| h.fields.get("uri").map(String::as_str) == Some("qemu:///session"))
    };
    let old = std::env::var_os("XDG_RUNTIME_DIR");
    std::env::set_var("XDG_RUNTIME_DIR", runtime.path());
    let without = session(detect());
    std::fs::create_dir_all(runtime.path().join("libvirt")).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(runtime.path().join("libvirt/libvirt-sock")).unwrap();
    let with = session(detect());
    match old {
        Some(v) => std::env::set_var("XDG_RUNTIME_DIR", v),
        None => std::env::remove_var("XDG_RUNTIME_DIR"),
    }
    assert!(without.is_none(), "no socket, no host");
    let h = with.expect("the session socket is found");
    assert_eq!((h.provider.as_str(), h.title.as_str()), ("libvirt", "KVM on this computer (your user)"));
}
