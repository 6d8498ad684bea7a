//! The non-HTTP drivers against a daemon that is not there and one that hangs (issue 9, item
//! 3): libvirt over ssh, Docker over a unix socket and over tcp. Each case ends in a typed
//! `unavailable` error, without a panic, within the driver's documented bound at default
//! settings:
//! * libvirt: `libvirt::CALL_TIMEOUT` (45 s) to get the connection, ssh login included, and
//!   45 s for the call itself;
//! * Docker: `docker::CALL_TIMEOUT` (45 s) per operation, API version negotiation included.
//!
//! "Hung" is a listener on 127.0.0.1 that accepts and never sends a byte (for ssh: not even
//! its banner). The tests wait the real bounds (about 90 s in all with two test threads).
//!
//! Also here, the libvirt concurrency regression (issue 9): a hung ssh login must not hold
//! the connection lock, nor a blocking thread per later call.

use skydeck_core::provider::{Connection, Provider};
use skydeck_core::providers::{docker, libvirt};
use skydeck_core::Error;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time beyond a bound that a test allows for scheduling on a busy 2-core machine.
const SLACK: Duration = Duration::from_secs(10);

/// A 127.0.0.1 port that accepts connections and never answers; connections are kept open
/// for the life of the test process.
fn hung_tcp() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

/// A unix socket that accepts connections and never answers.
fn hung_unix(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("hung.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    path
}

fn connection(field: &str, value: &str) -> Connection {
    Connection {
        cloud_id: "fault".into(),
        fields: BTreeMap::from([(field.to_string(), value.to_string())]),
        secrets: BTreeMap::new(),
        http: skydeck_core::http::HttpClient::new().unwrap(),
    }
}

/// Runs `f` on a runtime of its own that is shut down without waiting for its blocking
/// threads: a hung ssh login keeps one until ssh gives up, and `#[tokio::test]`'s runtime
/// would wait for it at the end of the test.
fn on_runtime<F: std::future::Future>(max_blocking_threads: usize, f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(max_blocking_threads)
        .enable_all()
        .build()
        .unwrap();
    let out = rt.block_on(f);
    rt.shutdown_background();
    out
}

fn libvirt_driver(uri: &str) -> libvirt::Libvirt {
    libvirt::Libvirt::open(connection("uri", uri)).unwrap()
}

fn docker_driver(host: &str) -> Box<dyn Provider> {
    (docker::SPEC.connect)(connection("host", host)).unwrap()
}

/// Runs `call`, checks it is `unavailable` and took no longer than `bound` (+ slack).
async fn assert_unavailable_within<T: std::fmt::Debug>(
    what: &str,
    bound: Duration,
    call: impl std::future::Future<Output = skydeck_core::Result<T>>,
) -> Error {
    let started = Instant::now();
    let e = call.await.expect_err(what);
    let took = started.elapsed();
    assert!(matches!(e, Error::Unavailable(_)), "{what}: {e:?}");
    assert!(took <= bound + SLACK, "{what} took {took:?}, over its bound {bound:?}");
    eprintln!("{what}: unavailable after {took:.1?}: {e}");
    e
}

#[test]
fn libvirt_nothing_listening_is_unavailable_at_once() {
    on_runtime(64, async {
        let port = skydeck_tests::peer::free_port();
        let d = libvirt_driver(&format!("qemu+ssh://127.0.0.1:{port}/system"));
        let e = assert_unavailable_within("libvirt, closed port", Duration::from_secs(5), d.test_connection()).await;
        assert!(e.to_string().contains("reachable over SSH"), "says what to check: {e}");
    })
}

#[test]
fn libvirt_hung_host_is_unavailable_within_the_bound() {
    on_runtime(64, async {
        let port = hung_tcp();
        let d = libvirt_driver(&format!("qemu+ssh://127.0.0.1:{port}/system"));
        let e = assert_unavailable_within("libvirt, hung ssh", libvirt::CALL_TIMEOUT, d.list_machines()).await;
        assert!(e.to_string().contains("within 45 s"), "{e}");
    })
}

#[tokio::test]
async fn docker_unix_socket_missing_or_dead_is_unavailable_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("unix://{}/none.sock", dir.path().display());
    assert_unavailable_within("docker, no socket", Duration::from_secs(5), docker_driver(&missing).test_connection())
        .await;
    // A socket file whose daemon died: connecting is refused.
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let stale = format!("unix://{}", stale.display());
    assert_unavailable_within("docker, stale socket", Duration::from_secs(5), docker_driver(&stale).list_machines())
        .await;
}

#[tokio::test]
async fn docker_hung_unix_socket_is_unavailable_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}", hung_unix(dir.path()).display());
    let e =
        assert_unavailable_within("docker, hung socket", docker::CALL_TIMEOUT, docker_driver(&host).test_connection())
            .await;
    assert!(e.to_string().contains("did not answer"), "{e}");
}

#[tokio::test]
async fn docker_tcp_nothing_listening_is_unavailable_at_once() {
    let host = format!("tcp://127.0.0.1:{}", skydeck_tests::peer::free_port());
    let e = assert_unavailable_within("docker, closed port", Duration::from_secs(5), docker_driver(&host).list_machines())
        .await;
    assert!(e.to_string().contains("nothing is listening"), "{e}");
}

#[tokio::test]
async fn docker_hung_tcp_is_unavailable_within_the_bound() {
    let host = format!("tcp://127.0.0.1:{}", hung_tcp());
    assert_unavailable_within("docker, hung tcp", docker::CALL_TIMEOUT, docker_driver(&host).list_machines()).await;
}

/// One hung libvirt host must not stall anything else. Before the fix the connection mutex
/// was held across the ssh login, and each later call to that cloud parked a blocking-pool
/// thread on it for good; once those threads ran out (here the pool has 2, as a long-running
/// app eventually reaches its limit) every other cloud's calls queued behind them. Now the
/// hung open holds one thread, later calls wait for it asynchronously under their own bound,
/// and the test driver's cloud answers at once.
#[test]
fn a_hung_libvirt_host_stalls_neither_other_clouds_nor_later_calls() {
    on_runtime(2, async {
        let bound = Duration::from_secs(5);
        let port = hung_tcp();
        let hung = Arc::new(libvirt_driver(&format!("qemu+ssh://127.0.0.1:{port}/system")).with_call_timeout(bound));
        let demo = libvirt_driver("test:///default");

        let first = tokio::spawn({
            let hung = hung.clone();
            async move { assert_unavailable_within("first call to the hung host", bound, hung.list_machines()).await }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        let second = tokio::spawn({
            let hung = hung.clone();
            async move { assert_unavailable_within("second call to the hung host", bound, hung.test_connection()).await }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;

        let started = Instant::now();
        let machines = tokio::time::timeout(Duration::from_secs(30), demo.list_machines())
            .await
            .expect("the other cloud's call was stalled by the hung host")
            .unwrap();
        assert_eq!(machines.len(), 1);
        assert!(started.elapsed() < Duration::from_secs(3), "the other cloud waited {:?}", started.elapsed());

        first.await.unwrap();
        second.await.unwrap();
        // After the timeouts, a new call to the hung host gets its own bound and a typed error
        // (it does not queue behind the stuck login), and the other cloud still answers.
        assert_unavailable_within("call after the timeouts", bound, hung.list_machines()).await;
        let started = Instant::now();
        assert_eq!(demo.list_machines().await.unwrap().len(), 1);
        assert!(started.elapsed() < Duration::from_secs(3), "the other cloud waited {:?}", started.elapsed());
    });
}

/// The CLI as a whole keeps the bound: `machines` with a cloud whose ssh login hangs reports the
/// cloud as unavailable and exits. Before, the process hung after printing its answer, because
/// dropping the runtime waited for the abandoned blocking open.
#[test]
fn the_cli_exits_within_the_bound_when_a_libvirt_login_hangs() {
    use skydeck_core::secrets::{cloud_account, Keychain, SecretStore, Secrets};
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let port = hung_tcp();
    let cloud = skydeck_core::model::Cloud {
        id: format!("hung-{}", std::process::id()),
        provider: "libvirt".into(),
        title: "hung host".into(),
        enabled: true,
        fields: BTreeMap::from([("uri".to_string(), format!("qemu+ssh://127.0.0.1:{port}/system"))]),
        created_at: skydeck_core::now_rfc3339(),
    };
    // Saved directly, as a cloud that worked before its host hung (adding it would test it).
    skydeck_core::store::Store::open(&data.path().join("skydeck.db")).unwrap().insert_cloud(&cloud).unwrap();
    Keychain::default().set(&cloud_account(&cloud.id), &Secrets::new()).unwrap();

    let started = Instant::now();
    let mut child = std::process::Command::new(skydeck_tests::cli_bin())
        .args(["machines", "--json"])
        .env("SKYDECK_DATA_DIR", data.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let bound = skydeck_core::bounds::REFRESH_TIMEOUT + SLACK;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            let _ = Keychain::default().delete(&cloud_account(&cloud.id));
            panic!("skydeck-cli machines still running after {:?}", started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = child.wait_with_output().unwrap();
    let _ = Keychain::default().delete(&cloud_account(&cloud.id));
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("skydeck-cli machines exited {status} after {:.1?}: {stderr}", started.elapsed());
    assert!(!stderr.contains("panicked"), "{stderr}");
    let status = skydeck_core::store::Store::open(&data.path().join("skydeck.db")).unwrap().cloud_status(&cloud.id).unwrap();
    assert_eq!(status.error.map(|e| e.code), Some("unavailable".to_string()), "the hung cloud is reported");
}
