//! The Docker-host driver against Debian podman's Docker-compatible API on a unix socket
//! (runtime runc, a busybox image made with `podman import`, never pulled). Podman's own CLI,
//! reading the same storage, is the independent reference for what the driver created.

use skydeck_core::http::HttpClient;
use skydeck_core::model::{Action, CreateMachine, Machine, MachineState};
use skydeck_core::provider::{Connection, Provider};
use skydeck_core::providers::docker::SPEC;
use skydeck_core::secrets::MemorySecrets;
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::podman::{Podman, COMMAND, IMAGE};
use skydeck_tests::suite::Lifecycle;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn connect(host: &str) -> Box<dyn Provider> {
    let fields = BTreeMap::from([("host".to_string(), host.to_string())]);
    (SPEC.connect)(Connection {
        cloud_id: "docker-test".into(),
        fields,
        secrets: BTreeMap::new(),
        http: HttpClient::new().unwrap(),
    })
    .unwrap()
}

fn request(name: &str, options: &[(&str, &str)]) -> CreateMachine {
    // No bridge network in the sandbox (and none is wanted on a CI host): `network=none`.
    let mut opts: BTreeMap<String, String> =
        BTreeMap::from([("command".into(), COMMAND.into()), ("network".into(), "none".into())]);
    opts.extend(options.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    CreateMachine {
        name: name.into(),
        location: "local".into(),
        size: String::new(),
        image: IMAGE.into(),
        key: None,
        tags: BTreeMap::from([("suite".into(), "docker".into())]),
        user_data: None,
        options: opts,
        client_token: "unused".into(),
    }
}

async fn listed(driver: &dyn Provider, id: &str) -> Option<Machine> {
    let mut ms = driver.list_machines().await.unwrap();
    SPEC.finish("docker-test", &mut ms);
    ms.into_iter().find(|m| m.id == id)
}

async fn wait_state(driver: &dyn Provider, id: &str, want: MachineState) -> Machine {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = listed(driver, id).await;
        if let Some(m) = m.as_ref().filter(|m| m.state == want) {
            return m.clone();
        }
        assert!(Instant::now() < deadline, "{id} never became {want}: {m:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_lifecycle_suite_passes_against_podman() {
    let podman = Podman::start();
    let driver = connect(&podman.host());
    let mut suite = Lifecycle::new(&SPEC, driver.as_ref(), true);
    suite.create = Some(request("skydeck-suite", &[]));
    let report = suite.run().await;
    for step in ["list", "create", "stop", "start", "suspend", "resume", "force_off", "reboot", "rename", "destroy"] {
        assert!(report.ran(step), "{step} did not run: {report:?}");
    }
    assert_eq!(report.skipped, [("tag", "capabilities.tag is false")]);
    let id = report.machine_id.unwrap();
    let out = podman.cmd().args(["ps", "--all", "--quiet", "--no-trunc"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&id), "podman still has the destroyed container");
}

#[tokio::test]
async fn creates_from_the_local_image_with_env_command_labels_and_a_size() {
    let podman = Podman::start();
    let driver = connect(&podman.host());

    let images = driver.list_images().await.unwrap();
    assert_eq!(images.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), [IMAGE], "only the imported image");
    assert_eq!(images[0].locations, ["local"]);
    let locations = driver.list_locations().await.unwrap();
    assert_eq!(locations.len(), 1);
    assert_eq!(locations[0].id, "local");
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    assert_eq!(locations[0].name, hostname.trim(), "the location is named after the daemon's host");
    let sizes = driver.list_sizes().await.unwrap();
    assert!(sizes.iter().any(|s| s.id == "default" && s.vcpus.is_none()), "{sizes:?}");

    let mut req = request("skydeck-env", &[("env", "GREETING=hello, world\nEMPTY=")]);
    req.tags.insert("team".into(), "ops".into());
    req.size = "1cpu-512mb".into();
    let created = driver.create_machine(&req).await.unwrap();
    let m = wait_state(driver.as_ref(), &created.id, MachineState::Running).await;
    assert_eq!((m.name.as_str(), m.raw_state.as_str(), m.location.as_str()), ("skydeck-env", "running", "local"));
    assert_eq!(m.image, IMAGE);
    assert_eq!(m.tags.get("team").map(String::as_str), Some("ops"), "labels are the tags: {:?}", m.tags);
    assert_eq!(m.actions, [Action::Stop, Action::ForceOff, Action::Reboot, Action::Suspend, Action::Destroy, Action::Rename]);
    assert!(m.created_at.as_deref().is_some_and(|t| t.ends_with('Z')), "{:?}", m.created_at);

    // Podman's own view of what the driver asked for.
    let inspect = podman.inspect(&m.id);
    let env: Vec<&str> = inspect["Config"]["Env"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert!(env.contains(&"GREETING=hello, world") && env.contains(&"EMPTY="), "{env:?}");
    assert_eq!(inspect["Config"]["Labels"]["team"], "ops");
    let cmd: Vec<&str> = inspect["Config"]["Cmd"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(cmd, ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]);
    assert_eq!(inspect["HostConfig"]["Memory"], 512 * 1024 * 1024);
    assert_eq!(inspect["HostConfig"]["NanoCpus"], 1_000_000_000u64);

    // Suspend/resume are pause/unpause; force off is a kill.
    driver.machine_action(&m, Action::Suspend).await.unwrap();
    let paused = wait_state(driver.as_ref(), &m.id, MachineState::Suspended).await;
    assert_eq!(paused.raw_state, "paused");
    assert_eq!(paused.actions, [Action::Resume, Action::Destroy, Action::Rename]);
    driver.machine_action(&paused, Action::Resume).await.unwrap();
    let m = wait_state(driver.as_ref(), &m.id, MachineState::Running).await;
    driver.machine_action(&m, Action::ForceOff).await.unwrap();
    let off = wait_state(driver.as_ref(), &m.id, MachineState::Stopped).await;
    assert_eq!(off.raw_state, "exited");
    assert_eq!(off.actions, [Action::Start, Action::Destroy, Action::Rename]);
    // Starting what already runs, stopping what is stopped: Docker's 304 is no error.
    driver.machine_action(&off, Action::Stop).await.unwrap();

    driver.machine_action(&off, Action::Destroy).await.unwrap();
    assert!(listed(driver.as_ref(), &m.id).await.is_none());
}

#[tokio::test]
async fn bad_create_requests_are_typed_and_leave_nothing_behind() {
    let podman = Podman::start();
    let driver = connect(&podman.host());
    let field = |r: skydeck_core::Result<Machine>| {
        let e = r.expect_err("must fail");
        (e.code(), e.field().map(str::to_string), e.to_string())
    };

    let (code, f, msg) = field(driver.create_machine(&CreateMachine { image: "localhost/absent:1".into(), ..request("absent", &[]) }).await);
    assert_eq!((code, f.as_deref()), ("invalid_input", Some("image")), "{msg}");
    assert!(msg.contains("pull or build it"), "{msg}");

    let first = driver.create_machine(&request("twin", &[])).await.unwrap();
    let (code, f, msg) = field(driver.create_machine(&request("twin", &[])).await);
    assert_eq!((code, f.as_deref()), ("invalid_input", Some("name")), "a taken name is a 409: {msg}");

    let (code, f, _) = field(driver.create_machine(&request("opts", &[("volumes", "/x")])).await);
    assert_eq!((code, f.as_deref()), ("invalid_input", Some("volumes")));
    let (code, f, _) = field(driver.create_machine(&request("bad name!", &[])).await);
    assert_eq!((code, f.as_deref()), ("invalid_input", Some("name")));

    // A command the runtime cannot run: the daemon's reason comes back and the container
    // that could not start is removed.
    let (code, _, msg) = field(driver.create_machine(&request("nocmd", &[("command", "/no/such/binary")])).await);
    assert_eq!(code, "provider_error", "{msg}");
    assert!(msg.contains("no/such/binary"), "the runtime's reason is kept: {msg}");

    let mut names: Vec<String> = driver.list_machines().await.unwrap().into_iter().map(|m| m.name).collect();
    names.sort();
    assert_eq!(names, ["twin"], "only the first twin exists");
    driver.machine_action(&first, Action::Destroy).await.unwrap();
}

#[tokio::test]
async fn unknown_containers_and_stopped_daemons_are_typed_errors() {
    let mut podman = Podman::start();
    let driver = connect(&podman.host());

    let ghost = Machine::new("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ghost", "running");
    for action in [Action::Start, Action::Stop, Action::Reboot, Action::Destroy] {
        let e = driver.machine_action(&ghost, action).await.unwrap_err();
        assert_eq!(e.code(), "not_found", "{action}: {e}");
    }
    assert_eq!(driver.rename(&ghost, "other").await.unwrap_err().code(), "not_found");
    let e = driver.machine_action(&ghost, Action::Tag).await.unwrap_err();
    assert_eq!(e.code(), "not_supported");

    // A renamed container that collides with an existing name: conflict, on the name field.
    let a = driver.create_machine(&request("alpha", &[])).await.unwrap();
    driver.create_machine(&request("beta", &[])).await.unwrap();
    let e = driver.rename(&a, "beta").await.unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_input", Some("name")), "{e}");

    podman.stop_service();
    let e = driver.list_machines().await.unwrap_err();
    assert_eq!(e.code(), "unavailable", "{e}");
    assert!(e.to_string().contains("Start the daemon"), "says what to do: {e}");
    assert!(e.to_string().contains(&podman.socket.display().to_string()), "names the socket: {e}");

    // A fresh connection to a socket path where nothing exists at all.
    let missing = connect(&format!("unix://{}/nothing.sock", podman.dir().display()));
    let e = missing.test_connection().await.unwrap_err();
    assert_eq!(e.code(), "unavailable", "{e}");

    // The daemon comes back: the same driver works again.
    podman.start_service();
    let names: Vec<String> = driver.list_machines().await.unwrap().into_iter().map(|m| m.name).collect();
    assert!(names.contains(&"alpha".to_string()) && names.contains(&"beta".to_string()), "{names:?}");
}

#[tokio::test]
async fn a_docker_cloud_is_added_refreshed_and_acted_on_through_skydeck() {
    let podman = Podman::start();
    let seed = connect(&podman.host());
    let created = seed.create_machine(&request("via-deck", &[])).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap();
    let fields = BTreeMap::from([("host".to_string(), podman.host().into())]);
    let cloud = deck.add_cloud(NewCloud { provider: "docker".into(), title: "podman".into(), fields }).await.unwrap();
    assert_eq!(cloud.fields.get("host"), Some(&podman.host()));
    for outcome in deck.refresh(None).await.unwrap() {
        assert!(outcome.error.is_none(), "{outcome:?}");
    }
    let m = deck.find_machine(&created.id).unwrap();
    assert_eq!((m.name.as_str(), m.state, m.provider.as_str()), ("via-deck", MachineState::Running, "docker"));
    let stopped = deck.machine_action(&created.id, Action::Stop).await.unwrap();
    assert_eq!(stopped.state, MachineState::Stopped);
    assert_eq!(podman.inspect(&created.id)["State"]["Status"], "exited");
    let e = deck.set_tags(&created.id, Default::default()).await.unwrap_err();
    assert_eq!(e.code(), "not_supported", "{e}");
    deck.machine_action(&created.id, Action::Destroy).await.unwrap();
}

#[test]
fn bad_host_addresses_are_rejected_on_the_field() {
    let connect_err = |host: &str, extra: &[(&str, &str)]| {
        let mut fields = BTreeMap::from([("host".to_string(), host.to_string())]);
        fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let c = Connection { cloud_id: "x".into(), fields, secrets: BTreeMap::new(), http: HttpClient::new().unwrap() };
        (SPEC.connect)(c).err().and_then(|e| e.field().map(str::to_string))
    };
    assert_eq!(connect_err("ftp://host", &[]).as_deref(), Some("host"));
    assert_eq!(connect_err("unix://", &[]).as_deref(), Some("host"));
    assert_eq!(connect_err("unix:///var/run/docker.sock", &[("tls_ca", "x")]).as_deref(), Some("tls_ca"));
    assert_eq!(connect_err("tcp://h:2376", &[("tls_cert", "x")]).as_deref(), Some("tls_ca"));
    assert_eq!(connect_err("tcp://h:2376", &[("tls_ca", "not pem")]).as_deref(), Some("tls_ca"));
    assert_eq!(connect_err("tcp://h:2375", &[]), None, "plain tcp is accepted");
}

/// A throwaway PKI made with the openssl CLI: two CAs, a server certificate for 127.0.0.1
/// and client certificates signed by each CA.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let pki = Pki { dir: tempfile::tempdir().unwrap() };
        for ca in ["ca", "rogue-ca"] {
            pki.openssl(&["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", &format!("{ca}.key"), "-out", &format!("{ca}.pem"), "-days", "2", "-subj", &format!("/CN=skydeck {ca}")]);
        }
        pki.leaf("server", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        pki.leaf("client", "ca", "extendedKeyUsage=clientAuth\n");
        pki.leaf("rogue-client", "rogue-ca", "extendedKeyUsage=clientAuth\n");
        pki
    }
    fn leaf(&self, name: &str, ca: &str, ext: &str) {
        std::fs::write(self.dir.path().join(format!("{name}.ext")), ext).unwrap();
        self.openssl(&["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", &format!("{name}.key"), "-out", &format!("{name}.csr"), "-subj", &format!("/CN=skydeck {name}")]);
        self.openssl(&["x509", "-req", "-in", &format!("{name}.csr"), "-CA", &format!("{ca}.pem"), "-CAkey", &format!("{ca}.key"),
            "-CAcreateserial", "-days", "2", "-out", &format!("{name}.pem"), "-extfile", &format!("{name}.ext")]);
    }
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap()
    }
    fn openssl(&self, args: &[&str]) {
        let out = std::process::Command::new("openssl").args(args).current_dir(self.dir.path()).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

fn tls_connection(host: &str, pki: &Pki, ca: &str, client: &str) -> Connection {
    let fields = BTreeMap::from([
        ("host".to_string(), host.to_string()),
        ("tls_ca".to_string(), pki.read(&format!("{ca}.pem"))),
        ("tls_cert".to_string(), pki.read(&format!("{client}.pem"))),
    ]);
    // As pasted into a one-line password input: the key's line breaks became spaces.
    let key = pki.read(&format!("{client}.key")).replace('\n', " ");
    let secrets = BTreeMap::from([("tls_key".to_string(), key.into())]);
    Connection { cloud_id: "tls".into(), fields, secrets, http: HttpClient::new().unwrap() }
}

/// `tcp://` with mutual TLS: socat terminates TLS (it demands a client certificate signed by
/// the test CA) in front of podman's socket.
#[tokio::test]
async fn tcp_with_tls_uses_the_ca_client_certificate_and_key() {
    let podman = Podman::start();
    let pki = Pki::new();
    let port = skydeck_tests::peer::free_port();
    let mut cmd = std::process::Command::new("socat");
    cmd.arg(format!(
        "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},cafile={},verify=1",
        pki.path("server.pem"),
        pki.path("server.key"),
        pki.path("ca.pem")
    ))
    .arg(format!("UNIX-CONNECT:{}", podman.socket.display()));
    let _socat = skydeck_tests::peer::Peer::spawn("socat-tls", cmd, port, Duration::from_secs(20));
    let host = format!("tcp://127.0.0.1:{port}");

    let driver = (SPEC.connect)(tls_connection(&host, &pki, "ca", "client")).unwrap();
    driver.test_connection().await.unwrap();
    let created = driver.create_machine(&request("over-tls", &[])).await.unwrap();
    let m = wait_state(driver.as_ref(), &created.id, MachineState::Running).await;
    assert_eq!(m.location, "127.0.0.1");
    driver.machine_action(&m, Action::Destroy).await.unwrap();

    // A client certificate from another CA: the daemon side refuses the handshake.
    let rogue = (SPEC.connect)(tls_connection(&host, &pki, "ca", "rogue-client")).unwrap();
    let e = rogue.list_machines().await.unwrap_err();
    assert_eq!(e.code(), "unauthenticated", "{e}");
    // Trusting the wrong CA: the daemon's certificate is refused.
    let e = (SPEC.connect)(tls_connection(&host, &pki, "rogue-ca", "client")).unwrap().list_machines().await.unwrap_err();
    assert_eq!(e.code(), "unauthenticated", "{e}");
    assert!(e.to_string().contains("TLS handshake"), "{e}");
    let key = pki.read("client.key");
    let body = key.lines().nth(1).unwrap();
    assert!(!e.to_string().contains(body), "no key material in messages");

    // Through Skydeck: the key goes to the secret store, never into the cloud's fields.
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::default();
    let deck = Skydeck::open(dir.path(), Arc::new(secrets.clone())).unwrap();
    let c = tls_connection(&host, &pki, "ca", "client");
    let mut fields: BTreeMap<String, skydeck_core::secrets::Sensitive<String>> =
        c.fields.into_iter().map(|(k, v)| (k, v.into())).collect();
    fields.extend(c.secrets);
    let cloud = deck.add_cloud(NewCloud { provider: "docker".into(), title: "tls".into(), fields }).await.unwrap();
    assert!(!cloud.fields.contains_key("tls_key") && cloud.fields.contains_key("tls_cert"), "{:?}", cloud.fields.keys());
    use skydeck_core::secrets::SecretStore;
    let stored = secrets.get(&skydeck_core::secrets::cloud_account(&cloud.id)).unwrap();
    assert_eq!(stored.keys().collect::<Vec<_>>(), ["tls_key"]);
}
