//! Stoplight Prism (`@stoplight/prism-cli`, installed by `npm ci --prefix tests/peers`) serving
//! an OpenAPI spec on 127.0.0.1, and a [`Recorder`] that checks what Prism thought of every
//! request a driver sent.
//!
//! Prism has no state: it answers with the spec's examples, checks each request (path, query,
//! body, security) against the spec and lists what is wrong in the `sl-violations` response
//! header. A test drives a provider through [`Recorder::client`] and ends with
//! [`Recorder::assert_clean`].

use crate::peer::{free_port, Peer};
use skydeck_core::http::{HttpClient, Observer, RetryPolicy};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Loading a multi-megabyte spec takes Prism ~10 s on an idle 2-core machine; much more while
/// cargo builds beside it.
pub const START_TIMEOUT: Duration = Duration::from_secs(240);

pub struct Prism {
    peer: Peer,
    pub spec: PathBuf,
    /// How long Prism took from spawn to accepting connections.
    pub startup: Duration,
}

/// `tests/peers/node_modules/.bin/prism`.
pub fn bin() -> PathBuf {
    crate::repo_root().join("tests/peers/node_modules/.bin/prism")
}

impl Prism {
    /// Starts Prism for `spec` on a free port; it is killed when the value is dropped.
    pub fn start(spec: &Path) -> Prism {
        Self::spawn(spec, false)
    }

    /// One Prism per spec for the whole test binary, started on first use. It lives until the
    /// process exits (a static is never dropped, so on Linux the kernel kills it then).
    pub fn shared(spec: &Path) -> &'static Prism {
        static RUNNING: OnceLock<Mutex<HashMap<PathBuf, &'static Prism>>> = OnceLock::new();
        // Held while starting, so two tests never start two copies of the same spec.
        let mut running = RUNNING.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = running.get(spec) {
            return p;
        }
        let prism: &'static Prism = Box::leak(Box::new(start_owned(spec.to_path_buf())));
        running.insert(spec.to_path_buf(), prism);
        prism
    }

    fn spawn(spec: &Path, die_with_thread: bool) -> Prism {
        let bin = bin();
        assert!(bin.exists(), "{} is missing: run `npm ci --prefix tests/peers` first", bin.display());
        assert!(spec.exists(), "spec {} is missing (see ../shared/specs/SOURCES.md)", spec.display());
        let port = free_port();
        let mut cmd = Command::new(&bin);
        cmd.arg("mock").arg(spec).args(["-h", "127.0.0.1", "-p", &port.to_string()]);
        if die_with_thread {
            kill_with_parent(&mut cmd);
        }
        let name = format!("prism-{}", spec.file_stem().unwrap_or_default().to_string_lossy());
        let started = Instant::now();
        let peer = Peer::spawn(&name, cmd, port, START_TIMEOUT);
        let startup = started.elapsed();
        eprintln!("{name} listening on {} after {:.1} s", peer.url(), startup.as_secs_f64());
        Prism { peer, spec: spec.to_path_buf(), startup }
    }

    pub fn url(&self) -> String {
        self.peer.url()
    }

    pub fn log_text(&self) -> String {
        self.peer.log_text()
    }
}

/// Starts a shared Prism from a thread that never ends: the child's parent-death signal fires
/// when the thread that spawned it exits, so it must be one that lives as long as the process.
fn start_owned(spec: PathBuf) -> Prism {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("prism-owner".into())
        .spawn(move || {
            let started = std::panic::catch_unwind(|| Prism::spawn(&spec, true));
            let _ = tx.send(started.map_err(|p| {
                p.downcast_ref::<String>()
                    .cloned()
                    .or(p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            }));
            loop {
                std::thread::park();
            }
        })
        .expect("spawn the prism-owner thread");
    match rx.recv() {
        Ok(Ok(p)) => p,
        Ok(Err(msg)) => panic!("Prism did not start: {msg}"),
        Err(_) => panic!("Prism did not start (its owner thread died)"),
    }
}

#[cfg(target_os = "linux")]
fn kill_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    extern "C" {
        fn prctl(option: i32, ...) -> i32;
    }
    const PR_SET_PDEATHSIG: i32 = 1;
    const SIGKILL: u64 = 9;
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn kill_with_parent(_cmd: &mut Command) {}

/// What the driver sent and what Prism answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub method: String,
    pub host: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    /// The `sl-violations` header, if Prism found anything wrong with the request.
    pub violations: Option<String>,
}

impl Exchange {
    /// The (decoded) value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<String> {
        let url = reqwest::Url::parse(&format!("http://h/?{}", self.query.as_deref()?)).ok()?;
        let value = url.query_pairs().find(|(k, _)| k == key)?.1.into_owned();
        Some(value)
    }
}

/// Records every response a client saw (as an `HttpClient` observer).
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Exchange>>>);

impl Recorder {
    pub fn observer(&self) -> Observer {
        let log = self.0.clone();
        Arc::new(move |method, url, resp| {
            let violations =
                resp.headers().get("sl-violations").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            log.lock().unwrap().push(Exchange {
                method: method.to_string(),
                host: url.host_str().unwrap_or_default().to_string(),
                path: url.path().to_string(),
                query: url.query().map(str::to_string),
                status: resp.status().as_u16(),
                violations,
            });
        })
    }

    /// A shared-layer client (two attempts, short backoff) that reports to this recorder.
    pub fn client(&self) -> HttpClient {
        let policy = RetryPolicy { max_attempts: 2, base_delay: Duration::from_millis(50), ..RetryPolicy::default() };
        HttpClient::with_policy(policy, Duration::from_secs(60)).unwrap().with_observer(self.observer())
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.0.lock().unwrap().clone()
    }

    /// Returns and forgets what was recorded so far.
    pub fn take(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// The recorded exchanges with this method and path.
    pub fn find(&self, method: &str, path: &str) -> Vec<Exchange> {
        self.exchanges().into_iter().filter(|e| e.method == method && e.path == path).collect()
    }

    /// Panics unless at least one request was recorded and Prism found no violation in any.
    pub fn assert_clean(&self) {
        let all = self.exchanges();
        assert!(!all.is_empty(), "no request reached Prism");
        let bad: Vec<_> = all.iter().filter(|e| e.violations.is_some()).collect();
        assert!(bad.is_empty(), "Prism found violations in requests the driver sent: {bad:#?}");
    }
}
