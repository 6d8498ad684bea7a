//! The KVM / libvirt driver against a remote host over SSH: a libvirtd with only the test
//! and remote drivers plus an sshd, both on 127.0.0.1 and started by the test
//! (harness/libvirtd.rs). The driver connects with `test+ssh://…`, with the private key
//! from the keychain (written to a 0600 temp file only while connecting) or ssh-agent; URI
//! parameters that pick a key file, a program or a socket are refused.

use skydeck_core::model::{CreateMachine, MachineState, Tags};
use skydeck_core::provider::{Connection, Provider};
use skydeck_core::providers::libvirt::{Libvirt, SPEC};
use skydeck_core::secrets::Sensitive;
use skydeck_core::{Error, ErrorBody};
use skydeck_tests::libvirtd::{keygen, RemoteHost};
use skydeck_tests::suite::Lifecycle;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;
use virt::storage_vol::StorageVol;

/// A remote host of its own for each test (killed when the test ends, even by a panic).
fn host() -> RemoteHost {
    RemoteHost::start()
}

/// The tests run one at a time: one starts an ssh-agent for the whole process, others check
/// that no key file is left in the temp dir.
static SSH_KEYS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn try_open(uri: &str, key: Option<&str>) -> skydeck_core::Result<Libvirt> {
    let fields = BTreeMap::from([("uri".to_string(), uri.to_string())]);
    let secrets = key.map(|k| ("ssh_private_key".to_string(), Sensitive::new(k.to_string()))).into_iter().collect();
    Libvirt::open(Connection {
        cloud_id: "kvm-remote".into(),
        fields,
        secrets,
        http: skydeck_core::http::HttpClient::new().unwrap(),
    })
}

fn open(uri: &str, key: Option<&str>) -> Libvirt {
    try_open(uri, key).unwrap()
}

/// The key as a one-line password field would deliver it: no newlines at all.
fn pasted(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap().replace('\n', "")
}

fn key_files_in_tmp() -> Vec<String> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("skydeck-libvirt-"))
        .collect()
}

fn assert_clean_message(e: &Error, secret: &str) {
    let text = format!("{e} {e:?} {}", serde_json::to_string(&ErrorBody::from(e)).unwrap());
    assert!(!text.contains("skydeck-libvirt-"), "the key file path leaked: {text}");
    let body_line = secret.lines().nth(1).unwrap_or(secret);
    assert!(!text.contains(body_line), "key material leaked: {text}");
}

#[tokio::test]
async fn runs_the_lifecycle_suite_over_ssh_with_a_key_from_the_keychain() {
    let _keys = SSH_KEYS.lock().await;
    let h = host();
    let d = open(&h.uri(""), Some(&pasted(&h.key)));
    // A "disk image" on the remote host, added through the driver's own connection.
    d.with_connect(|c| {
        let pool = c.lookup_storage_pool_by_name("default-pool")?;
        let xml = "<volume><name>remote-base.qcow2</name><capacity unit='MiB'>64</capacity><target><format type='qcow2'/></target></volume>";
        StorageVol::create_xml(&pool, xml, 0).map(|_| ())
    })
    .await
    .unwrap();
    assert!(key_files_in_tmp().is_empty(), "the key file is deleted once connected");

    let mut suite = Lifecycle::new(&SPEC, &d, true);
    suite.create = Some(CreateMachine {
        name: "remote-vm".into(),
        location: "default-pool".into(),
        size: "1x512".into(),
        image: "vol:default-pool/remote-base.qcow2".into(),
        key: None,
        tags: Tags::from([("where".to_string(), "remote".to_string())]),
        user_data: None,
        options: BTreeMap::new(),
        client_token: "t".into(),
    });
    suite.settle = Duration::from_secs(20);
    let report = suite.run().await;
    for step in ["list", "create", "stop", "start", "reboot", "rename", "tag", "destroy"] {
        assert!(report.ran(step), "{step} did not run: {report:?}");
    }

    let mut ms = d.list_machines().await.unwrap();
    SPEC.finish("kvm-remote", &mut ms);
    assert_eq!(ms.iter().map(|m| (m.name.as_str(), m.state)).collect::<Vec<_>>(), [("test", MachineState::Running)]);
    assert!(key_files_in_tmp().is_empty());
}

#[tokio::test]
async fn uri_parameters_that_pick_a_key_a_program_or_a_socket_are_refused() {
    let _keys = SSH_KEYS.lock().await;
    let h = host();
    // What this harness once put in its URIs: each one alone is refused, before any ssh runs.
    for (query, names) in [
        (format!("?keyfile={}", h.key.display()), "keyfile"),
        (format!("?socket={}", h.socket.display()), "socket"),
        ("?command=/usr/bin/ssh".to_string(), "command"),
        ("?no_verify=1".to_string(), "no_verify"),
    ] {
        let e = try_open(&h.uri(&query), None).err().unwrap_or_else(|| panic!("{query} was accepted"));
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("uri")), "{query}: {e:?}");
        assert!(e.to_string().contains(names), "{query}: {e}");
    }
    // The same host without them works (the key from the keychain), and `no_tty` is harmless.
    let d = open(&h.uri("?no_tty=1"), Some(&pasted(&h.key)));
    assert_eq!(d.list_machines().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_unknown_host_key_fails_at_once_instead_of_asking() {
    let _keys = SSH_KEYS.lock().await;
    let h = host();
    // Another host's key under this host's name: ssh must refuse, not prompt (no_tty=1).
    let other = h.dir.path().join("impostor_key");
    keygen(&other);
    let impostor = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let entry = format!("[127.0.0.1]:{} {}", h.ssh_port, impostor.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
    let known = std::fs::read_to_string(&h.known_hosts).unwrap();
    let port = format!("[127.0.0.1]:{} ", h.ssh_port);
    let swapped: Vec<String> =
        known.lines().map(|l| if l.starts_with(&port) { entry.clone() } else { l.to_string() }).collect();
    std::fs::write(&h.known_hosts, swapped.join("\n") + "\n").unwrap();
    let started = std::time::Instant::now();
    let e = open(&h.uri(""), Some(&pasted(&h.key))).test_connection().await.unwrap_err();
    assert!(matches!(e, Error::Unauthenticated(_)), "{e:?}");
    assert!(e.to_string().contains("host key"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(20), "ssh did not wait for an answer: {:?}", started.elapsed());
}

#[tokio::test]
async fn ssh_agent_keys_are_used_by_default() {
    let _keys = SSH_KEYS.lock().await;
    let h = host();
    let sock = h.dir.path().join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent (openssh-client)");
    for _ in 0..50 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let added = Command::new("ssh-add").arg(&h.key).env("SSH_AUTH_SOCK", &sock).output().unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    // libvirt runs ssh with this process's environment.
    std::env::set_var("SSH_AUTH_SOCK", &sock);
    let result = open(&h.uri(""), None).list_machines().await;
    std::env::remove_var("SSH_AUTH_SOCK");
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(result.unwrap().len(), 1);
}

#[tokio::test]
async fn a_refused_key_is_unauthenticated_and_leaks_nothing() {
    let _keys = SSH_KEYS.lock().await;
    let h = host();
    let other = h.dir.path().join("other_key");
    if !other.exists() {
        keygen(&other);
    }
    let secret = std::fs::read_to_string(&other).unwrap();
    let d = open(&h.uri(""), Some(&pasted(&other)));
    let e = d.test_connection().await.unwrap_err();
    assert!(matches!(e, Error::Unauthenticated(_)), "{e:?}");
    assert!(e.to_string().contains("authorized_keys"), "says what to do: {e}");
    assert_clean_message(&e, &secret);
    assert!(key_files_in_tmp().is_empty(), "the key file is deleted after a failed login too");

    // An unknown user is refused the same way.
    let uri = h.uri("").replace(&format!("{}@", h.user), "nobody-here@");
    let e = open(&uri, Some(&pasted(&h.key))).list_machines().await.unwrap_err();
    assert!(matches!(e, Error::Unauthenticated(_)), "{e:?}");
}

#[tokio::test]
async fn a_closed_ssh_port_is_unavailable() {
    let _keys = SSH_KEYS.lock().await;
    let h = host();
    let port = skydeck_tests::peer::free_port();
    let uri = h.uri("").replace(&format!(":{}/", h.ssh_port), &format!(":{port}/"));
    let e = open(&uri, Some(&pasted(&h.key))).test_connection().await.unwrap_err();
    assert!(matches!(e, Error::Unavailable(_)), "{e:?}");
    assert!(e.to_string().contains("reachable over SSH"), "{e}");
    assert_clean_message(&e, &std::fs::read_to_string(&h.key).unwrap());
}

#[test]
fn the_daemon_has_only_the_test_and_remote_drivers() {
    let h = host();
    let local = format!("qemu+unix:///system?socket={}", h.socket.display());
    let out = Command::new("virsh").args(["-c", &local, "list"]).output().expect("virsh (libvirt-clients)");
    assert!(!out.status.success(), "the qemu driver must not be loaded in the test libvirtd");
    let test = format!("test+unix:///default?socket={}", h.socket.display());
    let out = Command::new("virsh").args(["-c", &test, "list", "--name"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "test", "{}", String::from_utf8_lossy(&out.stderr));
}
