//! The hostile-server suite (issue 9, item 3): every HTTP provider × every fault of
//! [`skydeck_tests::hostile`], through the real `skydeck-cli` binary with a fresh data directory.
//!
//! Each case adds a cloud while the server is healthy and lists its machines once (cached),
//! then switches the fault on and runs `machines --json` and `cloud add` (Test & save of a
//! second cloud). For both: a typed error code (`machines` keeps its contract of exiting 0
//! with a `stale: … <code>: …` line per failing cloud; `cloud add` exits non-zero with one
//! `<code>: …` line), no panic and no death by signal, at most [`MAX_WALL`] and
//! [`MAX_RSS_MIB`] of peak RSS (the CLI's own VmHWM, sampled; wait4's ru_maxrss as a bound), the
//! last-known machines kept and marked stale, no secret in any output. Then the server
//! behaves again and `machines` must work. A table of every run is printed at the end.
//!
//! The providers come from the registry (those with an `endpoint` field), so a new HTTP
//! provider joins the suite, and fails it until the hostile server learns its page shape.
//!
//! `SKYDECK_HOSTILE_ONLY=<text>` runs only the cases whose "<provider> <fault>" contains it
//! (e.g. `digitalocean`, `ec2 XML`, `never`), for working on one fix.

use skydeck_core::provider::ProviderSpec;
use skydeck_tests::hostile::{Api, Fault, HostileServer};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The team's bound for any user-visible command at default settings.
const MAX_WALL: Duration = Duration::from_secs(60);
/// Peak RSS allowed for one CLI run (a 400 MB answer once took it to 1.2 GB).
const MAX_RSS_MIB: f64 = 200.0;
/// How often a running CLI's peak RSS is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// A run still going after this is killed, so a hung CLI fails its case, not the whole suite.
const KILL_AFTER: Duration = Duration::from_secs(150);
/// The longest wait a server may impose (Retry-After is clamped to one hour).
const MAX_RETRY_SECS: u64 = 3600;
/// Every secret field gets this; it must never show up in any output.
const SECRET: &str = "hostile-secret-0123456789";
/// Cases that cost CPU rather than waiting run this many at a time (2 shared cores).
const FAST_WORKERS: usize = 3;

/// The HTTP providers: every registered provider with an API endpoint field.
fn http_providers() -> Vec<&'static ProviderSpec> {
    skydeck_core::providers::all().iter().copied().filter(|p| p.fields.iter().any(|f| f.key == "endpoint")).collect()
}

/// One finished CLI process.
struct Run {
    exit: Option<i32>,
    signal: Option<i32>,
    killed: bool,
    stdout: String,
    stderr: String,
    wall: Duration,
    /// The CLI's own peak RSS: VmHWM of its address space, sampled every [`SAMPLE_EVERY`].
    rss_mib: f64,
    /// wait4's ru_maxrss: never below the true peak, but Linux folds in the RSS of the
    /// process that spawned it (this test) at exec, so it is only an upper bound.
    maxrss_mib: f64,
}

impl Run {
    fn ok(&self) -> bool {
        self.exit == Some(0)
    }

    fn describe(&self) -> String {
        format!(
            "exit {:?}, signal {:?}, {} ms, stderr: {}",
            self.exit,
            self.signal,
            self.wall.as_millis(),
            self.stderr.trim().chars().take(400).collect::<String>()
        )
    }
}

/// Runs the CLI and reaps it with wait4 (so it can be killed without a pid race and its
/// ru_maxrss read), sampling its VmHWM while it runs: the figure of the CLI alone, where
/// ru_maxrss also counts this test process (the parent's address space at exec).
fn run_cli(data: &Path, args: &[String], envs: &[(String, String)]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(skydeck_tests::cli_bin())
        .args(args)
        .env("SKYDECK_DATA_DIR", data)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("skydeck-cli starts");
    let pid = child.id() as libc::pid_t;
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let mut killed = false;
    let mut hwm_kib = 0u64;
    let (status, usage) = loop {
        hwm_kib = hwm_kib.max(vm_hwm_kib(pid).unwrap_or(0));
        let mut status = 0;
        // SAFETY: plain syscalls on our own unreaped child; rusage is plain old data.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break (status, usage);
        }
        assert!(r == 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if !killed && started.elapsed() > KILL_AFTER {
            // Not reaped yet, so the pid is still ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(SAMPLE_EVERY);
    };
    let wall = started.elapsed();
    // Reaped above: `child` must not be waited on again (dropping it does not wait).
    drop(child);
    Run {
        exit: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        killed,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        wall,
        rss_mib: hwm_kib as f64 / 1024.0,
        maxrss_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}

/// The peak resident set of a live process, from /proc/<pid>/status (`None` once it is gone).
fn vm_hwm_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One throwaway Skydeck (data directory) pointed at one hostile server.
struct Deck {
    data: tempfile::TempDir,
    spec: &'static ProviderSpec,
    endpoint: String,
}

impl Deck {
    fn run(&self, args: &[&str]) -> Run {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        run_cli(self.data.path(), &args, &[])
    }

    /// `cloud add` with the endpoint, a dummy for every other required plain field and
    /// [`SECRET`] for every secret (through `SKYDECK_FIELD_<KEY>`, as a user would).
    fn add(&self, title: &str) -> Run {
        let mut args: Vec<String> = ["cloud", "add", self.spec.id, "--title", title].map(String::from).to_vec();
        args.extend(["--field".into(), format!("endpoint={}", self.endpoint)]);
        let mut envs = Vec::new();
        for f in self.spec.fields.iter().filter(|f| f.key != "endpoint" && f.required) {
            if f.is_secret() {
                envs.push((format!("SKYDECK_FIELD_{}", f.key.to_ascii_uppercase()), SECRET.to_string()));
            } else {
                args.extend(["--field".into(), format!("{}=hostile-{}-0123456789", f.key, f.key)]);
            }
        }
        run_cli(self.data.path(), &args, &envs)
    }
}

/// What a command must end with under a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok,
    Code(&'static str),
}

/// The typed error a listing must report under `fault`.
fn expect_refresh(fault: &Fault) -> Expect {
    Expect::Code(match fault {
        Fault::Healthy => return Expect::Ok,
        Fault::Status(401) => "unauthenticated",
        Fault::Status(403) => "permission_denied",
        Fault::Status(404) => "not_found",
        // A status Skydeck has no meaning for is kept as the provider's own error.
        Fault::Status(409) => "provider_error",
        Fault::Status(_) => "unavailable",
        Fault::TooManyRequests(_) => "rate_limited",
        // The server could not be talked to (transport, deadline): worth retrying later.
        Fault::NeverAnswer | Fault::Drip | Fault::Reset | Fault::Garbage | Fault::Truncated => "unavailable",
        // A complete answer Skydeck refuses to read (invalid_response, response_too_large,
        // a pagination that never ends): the provider's error, on every provider alike.
        Fault::DeepJson | Fault::DeepXml | Fault::HugeBody | Fault::EndlessPages | Fault::CyclingPages => {
            "provider_error"
        }
    })
}

/// Test & save reads one page at most, so the pagination faults do not concern it.
fn expect_add(fault: &Fault) -> Expect {
    if fault.is_pagination() {
        Expect::Ok
    } else {
        expect_refresh(fault)
    }
}

/// `machines`' code for the cloud: from its `stale: …` line, or from the error line if the
/// whole command failed.
fn refresh_code(run: &Run) -> Option<String> {
    if !run.ok() {
        return error_code(run);
    }
    let line = run.stderr.lines().find(|l| l.starts_with("stale: "))?;
    let rest = line.split_once("showing last-known machines: ")?.1;
    Some(rest.split_once(": ")?.0.to_string())
}

/// The code of a failed command's one-line `<code>: message`.
fn error_code(run: &Run) -> Option<String> {
    let (code, _) = run.stderr.trim().split_once(": ")?;
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')).then(|| code.to_string())
}

/// "… retry in 123s" of a rate-limit message: the wait Skydeck took from the server.
fn announced_wait(text: &str) -> Option<u64> {
    let rest = text.split_once("retry in ")?.1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().or(Some(u64::MAX))
}

/// Machines of `machines --json` as (id, stale).
fn machines(run: &Run) -> Result<Vec<(String, bool)>, String> {
    let v: serde_json::Value = serde_json::from_str(&run.stdout).map_err(|e| format!("not JSON ({e}): {}", run.stdout))?;
    let list = v.as_array().ok_or("not a list")?;
    Ok(list
        .iter()
        .map(|m| (m["id"].as_str().unwrap_or_default().to_string(), m["stale"] == serde_json::Value::Bool(true)))
        .collect())
}

/// One row of the final table.
struct Row {
    provider: &'static str,
    fault: String,
    op: &'static str,
    code: String,
    wall: Duration,
    rss_mib: f64,
    maxrss_mib: f64,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    problems: Vec<String>,
}

/// Checks what every run under a fault must satisfy, whatever it answered.
fn check_sound(run: &Run, what: &str, problems: &mut Vec<String>) {
    if run.killed {
        problems.push(format!("{what}: still running after {} s, killed", KILL_AFTER.as_secs()));
    }
    if let Some(sig) = run.signal.filter(|_| !run.killed) {
        problems.push(format!("{what}: died by signal {sig} (abort or stack overflow?): {}", run.describe()));
    }
    if run.stderr.contains("panicked") {
        problems.push(format!("{what}: panicked: {}", run.describe()));
    }
    if run.wall > MAX_WALL {
        problems.push(format!("{what}: took {} ms, over the {} s bound", run.wall.as_millis(), MAX_WALL.as_secs()));
    }
    if run.rss_mib > MAX_RSS_MIB {
        problems.push(format!("{what}: peak RSS {:.0} MiB, over {MAX_RSS_MIB} MiB", run.rss_mib));
    } else if run.maxrss_mib > MAX_RSS_MIB {
        // The sampling can miss a spike in the last milliseconds; the upper bound cannot.
        problems.push(format!("{what}: ru_maxrss {:.0} MiB, over {MAX_RSS_MIB} MiB", run.maxrss_mib));
    }
    if run.stdout.contains(SECRET) || run.stderr.contains(SECRET) {
        problems.push(format!("{what}: the secret appears in the output"));
    }
    if let Some(wait) = announced_wait(&run.stderr).filter(|w| *w > MAX_RETRY_SECS) {
        problems.push(format!("{what}: announces a retry in {wait} s, more than {MAX_RETRY_SECS} s: {}", run.describe()));
    }
}

/// Compares a run's outcome with the expectation; returns the code seen ("ok" on success).
fn check_outcome(run: &Run, code: Option<String>, expect: Expect, what: &str, problems: &mut Vec<String>) -> String {
    let seen = code.clone().unwrap_or_else(|| if run.ok() { "ok".into() } else { "?".into() });
    match expect {
        Expect::Ok if !run.ok() || code.is_some() => {
            problems.push(format!("{what}: expected success, got {seen}: {}", run.describe()))
        }
        Expect::Code(want) if code.as_deref() != Some(want) => {
            problems.push(format!("{what}: expected a typed '{want}', got {seen}: {}", run.describe()))
        }
        _ => {}
    }
    seen
}

/// Every id of `baseline` is listed, each with the expected stale flag.
fn check_kept(run: &Run, baseline: &[String], stale: bool, what: &str, problems: &mut Vec<String>) {
    if !run.ok() {
        problems.push(format!("{what}: failed: {}", run.describe()));
        return;
    }
    match machines(run) {
        Err(e) => problems.push(format!("{what}: {e}")),
        Ok(ms) => {
            for id in baseline {
                match ms.iter().find(|(m, _)| m == id) {
                    None => problems.push(format!("{what}: last-known machine {id} is gone: {}", run.stdout)),
                    Some((_, s)) if *s != stale => {
                        problems.push(format!("{what}: machine {id} has stale={s}, expected stale={stale}"))
                    }
                    _ => {}
                }
            }
        }
    }
}

/// One provider × one fault, end to end. Never panics on a product failure: everything wrong
/// goes into the report, so one table shows every case.
fn run_case(rt: &tokio::runtime::Runtime, spec: &'static ProviderSpec, fault: &Fault) -> Report {
    let mut rep = Report::default();
    let server = rt.block_on(HostileServer::start(spec.id));
    let deck = Deck { data: tempfile::tempdir().unwrap(), spec, endpoint: server.url() };
    let case = format!("{} × {}", spec.id, fault.name());
    let p = &mut rep.problems;

    // While healthy: add the cloud and cache its machines.
    let add = deck.add("first");
    if !add.ok() {
        p.push(format!("{case}: setup: cloud add against the healthy server failed: {}", add.describe()));
        return rep;
    }
    let first = deck.run(&["machines", "--json"]);
    let baseline: Vec<String> = match machines(&first) {
        Ok(ms) if first.ok() && !ms.is_empty() && ms.iter().all(|(_, s)| !s) => ms.into_iter().map(|(id, _)| id).collect(),
        _ => {
            p.push(format!("{case}: setup: listing the healthy server gave no fresh machines: {}", first.describe()));
            return rep;
        }
    };

    server.set_fault(fault.clone());

    let what = format!("{case}: machines --json");
    let before = server.requests();
    let listed = deck.run(&["machines", "--json"]);
    check_sound(&listed, &what, p);
    // Else a page shape the driver cannot read would pass as a pagination error.
    if fault.is_pagination() && server.requests() - before < 2 {
        p.push(format!("{what}: the driver never asked for a second page; is the page shape in hostile.rs right?"));
    }
    let code = check_outcome(&listed, refresh_code(&listed), expect_refresh(fault), &what, p);
    if expect_refresh(fault) != Expect::Ok {
        check_kept(&listed, &baseline, true, &what, p);
    }
    rep.rows.push(Row { provider: spec.id, fault: fault.name(), op: "machines", code, wall: listed.wall, rss_mib: listed.rss_mib, maxrss_mib: listed.maxrss_mib });

    let p = &mut rep.problems;
    if expect_refresh(fault) != Expect::Ok {
        let cached = deck.run(&["machines", "--cached", "--json"]);
        check_kept(&cached, &baseline, true, &format!("{case}: machines --cached --json"), p);
    }

    let what = format!("{case}: cloud add");
    let added = deck.add("second");
    check_sound(&added, &what, p);
    let code = if added.ok() { None } else { error_code(&added) };
    if !added.ok() && added.stderr.trim_end().lines().count() != 1 {
        p.push(format!("{what}: the error is not one line: {}", added.stderr));
    }
    let code = check_outcome(&added, code, expect_add(fault), &what, p);
    let clouds = deck.run(&["cloud", "list", "--json"]);
    let count = serde_json::from_str::<serde_json::Value>(&clouds.stdout).ok().and_then(|v| v.as_array().map(Vec::len));
    let want = if added.ok() { 2 } else { 1 };
    if count != Some(want) {
        p.push(format!("{what}: {want} cloud(s) expected afterwards (a failed test saves nothing), listed {count:?}"));
    }
    rep.rows.push(Row { provider: spec.id, fault: fault.name(), op: "cloud add", code, wall: added.wall, rss_mib: added.rss_mib, maxrss_mib: added.maxrss_mib });

    // The server behaves again: the same cloud works, nothing stale.
    server.set_fault(Fault::Healthy);
    let p = &mut rep.problems;
    let what = format!("{case}: machines --json once healthy again");
    let healed = deck.run(&["machines", "--json"]);
    if healed.stderr.contains("stale: ") {
        p.push(format!("{what}: still stale: {}", healed.describe()));
    }
    check_kept(&healed, &baseline, false, &what, p);
    rep
}

#[test]
fn every_http_provider_survives_every_fault() {
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let providers = http_providers();
    assert!(providers.len() >= 6, "the registry lists the six HTTP providers: {:?}", providers.iter().map(|p| p.id).collect::<Vec<_>>());
    for p in &providers {
        assert!(Api::of(p.id).is_some(), "{}: the hostile server has no page shape for it (tests/harness/hostile.rs)", p.id);
    }
    let only = std::env::var("SKYDECK_HOSTILE_ONLY").unwrap_or_default();
    let mut cases: Vec<(&'static ProviderSpec, Fault)> = Vec::new();
    for p in &providers {
        for f in Fault::all() {
            // HostVirtual lists its servers in one answer: there is no cursor to abuse.
            if f.is_pagination() && !Api::of(p.id).unwrap().paginates() {
                continue;
            }
            if !format!("{} {}", p.id, f.name()).contains(&only) {
                continue;
            }
            cases.push((p, f));
        }
    }
    assert!(!cases.is_empty(), "SKYDECK_HOSTILE_ONLY='{only}' matches no case");
    // Three lanes at once: the cases that only wait (never answering, dripping) all together,
    // the 400 MB bodies one at a time (memory), the rest a few at a time (CPU).
    let (slow, rest): (Vec<_>, Vec<_>) = cases.into_iter().partition(|(_, f)| f.is_slow());
    let (heavy, fast): (Vec<_>, Vec<_>) = rest.into_iter().partition(|(_, f)| *f == Fault::HugeBody);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let started = Instant::now();
    let reports = Mutex::new(Vec::new());
    let queue = Mutex::new(VecDeque::from(fast));
    std::thread::scope(|s| {
        for (p, f) in &slow {
            let (rt, reports) = (&rt, &reports);
            s.spawn(move || {
                let r = run_case(rt, p, f);
                reports.lock().unwrap().push(r);
            });
        }
        s.spawn(|| {
            for (p, f) in &heavy {
                let r = run_case(&rt, p, f);
                reports.lock().unwrap().push(r);
            }
        });
        for _ in 0..FAST_WORKERS {
            s.spawn(|| loop {
                let Some((p, f)) = queue.lock().unwrap().pop_front() else { break };
                let r = run_case(&rt, p, &f);
                reports.lock().unwrap().push(r);
            });
        }
    });
    let total = started.elapsed();

    let reports = reports.into_inner().unwrap();
    let mut rows: Vec<&Row> = reports.iter().flat_map(|r| &r.rows).collect();
    let order = |r: &Row| {
        let p = providers.iter().position(|s| s.id == r.provider).unwrap_or(usize::MAX);
        let f = Fault::all().iter().position(|f| f.name() == r.fault).unwrap_or(usize::MAX);
        (p, f, r.op != "machines")
    };
    rows.sort_by_key(|r| order(r));
    let problems: Vec<&String> = reports.iter().flat_map(|r| &r.problems).collect();

    // Written straight to stderr, past the test harness's capture: the figures are the point.
    let mut table = format!(
        "\nhostile HTTP suite: {} cases, {} runs measured, {:.1} s in all\n{:<13} {:<27} {:<10} {:<18} {:>8} {:>8} {:>11}\n",
        reports.len(),
        rows.len(),
        total.as_secs_f64(),
        "PROVIDER",
        "FAULT",
        "OP",
        "CODE",
        "WALL ms",
        "RSS MiB",
        "(maxrss ≤)"
    );
    for r in &rows {
        table.push_str(&format!(
            "{:<13} {:<27} {:<10} {:<18} {:>8} {:>8.1} {:>11.1}\n",
            r.provider,
            r.fault,
            r.op,
            r.code,
            r.wall.as_millis(),
            r.rss_mib,
            r.maxrss_mib
        ));
    }
    if let Some(w) = rows.iter().max_by_key(|r| r.wall) {
        table.push_str(&format!("slowest: {} × {} ({}): {} ms\n", w.provider, w.fault, w.op, w.wall.as_millis()));
    }
    if let Some(m) = rows.iter().max_by(|a, b| a.rss_mib.total_cmp(&b.rss_mib)) {
        table.push_str(&format!("largest: {} × {} ({}): {:.1} MiB\n", m.provider, m.fault, m.op, m.rss_mib));
    }
    table.push_str(&format!("{} problem(s)\n", problems.len()));
    for p in &problems {
        table.push_str(&format!("  - {p}\n"));
    }
    let _ = std::io::stderr().write_all(table.as_bytes());

    assert!(problems.is_empty(), "{} problem(s) in the hostile HTTP suite (table above):\n{}", problems.len(),
        problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"));
}

/// The harness itself, without the keychain or the CLI: each fault breaks HTTP the way the
/// suite above assumes (so a case cannot pass for the wrong reason).
#[tokio::test(flavor = "multi_thread")]
async fn the_hostile_server_misbehaves_as_described() {
    use skydeck_tests::hostile::{HUGE_BODY, NESTING, RETRY_AFTER_HUGE};
    let server = HostileServer::start("digitalocean").await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap();
    let get = |path: &str| http.get(format!("{}{path}", server.url())).send();
    let json = |text: String| serde_json::from_str::<serde_json::Value>(&text).unwrap();

    let page = json(get("/v2/droplets?page=1").await.unwrap().text().await.unwrap());
    assert_eq!(page["droplets"].as_array().unwrap().len(), 1, "healthy: a one-machine list");
    assert!(page["links"]["pages"].get("next").is_none());

    server.set_fault(Fault::CyclingPages);
    let next = |v: serde_json::Value| v["links"]["pages"]["next"].as_str().unwrap().to_string();
    assert!(next(json(get("/v2/droplets?page=1").await.unwrap().text().await.unwrap())).contains("page=2"));
    assert!(next(json(get("/v2/droplets?page=2").await.unwrap().text().await.unwrap())).contains("page=1"));
    server.set_fault(Fault::EndlessPages);
    assert!(next(json(get("/v2/droplets?page=7").await.unwrap().text().await.unwrap())).contains("page=8"));
    assert!(get("/v2/account").await.unwrap().text().await.unwrap().contains("account"), "only lists are paged");

    server.set_fault(Fault::TooManyRequests(RETRY_AFTER_HUGE));
    let r = get("/v2/droplets").await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (429, RETRY_AFTER_HUGE));

    server.set_fault(Fault::HugeBody);
    assert_eq!(get("/").await.unwrap().content_length(), Some(HUGE_BODY), "announced, then streamed");

    server.set_fault(Fault::DeepJson);
    let body = get("/").await.unwrap().text().await.unwrap();
    assert!(body.len() == 2 * NESTING && body.starts_with("[[[") && body.ends_with("]]]"));

    server.set_fault(Fault::Truncated);
    assert!(get("/").await.unwrap().text().await.is_err(), "the body ends before its Content-Length");
    for broken in [Fault::Reset, Fault::Garbage] {
        server.set_fault(broken.clone());
        let e = get("/").await.expect_err("no HTTP answer");
        assert!(!e.is_timeout(), "{broken:?} fails at once: {e}");
    }
    server.set_fault(Fault::NeverAnswer);
    assert!(get("/").await.expect_err("no answer").is_timeout());

    server.set_fault(Fault::Drip);
    let started = Instant::now();
    let mut r = get("/v2/droplets").await.unwrap();
    let first = r.chunk().await.unwrap().unwrap();
    assert_eq!(first.len(), 1, "one byte at a time");
    assert!(r.text().await.is_err(), "a body of a byte a second outlasts a 3 s timeout");
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(server.requests() >= 12);
}
