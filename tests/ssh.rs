//! `skydeck-cli ssh` (Skydeck's own SSH client, russh) against a real OpenSSH `sshd` on
//! 127.0.0.1: the Skydeck key from the keychain logs in, the command's output and exit status
//! pass through, a wrong key or user is `unauthenticated`, the host key is trusted on first
//! use, a changed one is refused (`host_key_changed`, nothing runs) until accepted, the user's
//! known_hosts is honoured, and ssh-agent and key files log in too.

use skydeck_tests::sshd::{self, Sshd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A Skydeck data dir and a HOME of its own (so `~/.ssh/known_hosts` is the test's).
struct Cli {
    data: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Cli { data: tempfile::tempdir().unwrap(), home: tempfile::tempdir().unwrap() }
    }

    /// Runs the CLI without any ssh-agent unless `envs` sets one; killed after 60 s (every
    /// step is bounded well below that, so a kill is a failure).
    fn run(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut c = Command::new(skydeck_tests::cli_bin());
        c.args(args)
            .env("SKYDECK_DATA_DIR", self.data.path())
            .env("HOME", self.home.path())
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            c.env(k, v);
        }
        let mut child = c.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{args:?} did not end within 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args, &[]);
        assert!(o.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    }

    /// The fingerprint Skydeck trusts for a plain target on 127.0.0.1, read from its store.
    fn trusted(&self, port: u16) -> Option<String> {
        let conn = rusqlite::Connection::open(self.data.path().join("skydeck.db")).unwrap();
        conn.query_row(
            "SELECT fingerprint FROM ssh_host_keys WHERE scope = ?1",
            [format!("host:127.0.0.1:{port}")],
            |r| r.get(0),
        )
        .ok()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Deletes the test's keys from the keychain whatever the outcome.
struct KeyCleanup<'a>(&'a Cli, Vec<String>);

impl Drop for KeyCleanup<'_> {
    fn drop(&mut self) {
        for name in &self.1 {
            let _ = self.0.run(&["keys", "delete", name, "--yes"], &[]);
        }
    }
}

#[test]
fn keychain_key_logs_in_and_host_keys_are_trusted_on_first_use_then_pinned() {
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let cli = Cli::new();
    let suffix = uuid_suffix();
    let (good, other) = (format!("ssh-good-{suffix}"), format!("ssh-other-{suffix}"));
    let _cleanup = KeyCleanup(&cli, vec![good.clone(), other.clone()]);
    cli.ok(&["keys", "generate", &good]); // the first key is the default
    cli.ok(&["keys", "generate", &other]);
    let public = cli.ok(&["keys", "export", &good, "--public"]);
    let mut sshd = Sshd::start(&public);
    let target = sshd.target(&sshd.user);

    // The default Skydeck key logs in; output and status pass through; the host key is
    // trusted on first use with ssh-keygen's fingerprint, and recorded.
    let o = cli.run(&["ssh", &target, "--", "echo", "$((6*7))"], &[]);
    assert!(o.status.success(), "{}\nsshd log:\n{}", stderr(&o), sshd.log());
    assert_eq!(stdout(&o), "42\n");
    let first_fp = sshd.host_key_fingerprint();
    assert!(stderr(&o).contains(&first_fp), "the first use shows the fingerprint: {}", stderr(&o));
    assert_eq!(cli.trusted(sshd.port).as_deref(), Some(first_fp.as_str()));

    let o = cli.run(&["ssh", &target, "--", "sh", "-c", "'echo oops >&2; exit 3'"], &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(stderr(&o), "oops\n", "stderr passes through, and a known key is not announced again");
    assert_eq!(stdout(&o), "");

    // Wrong user, wrong key: typed errors that say which user and key were tried.
    let o = cli.run(&["ssh", &target, "--user", "nosuchuser", "--", "true"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with("unauthenticated:") && e.contains("'nosuchuser'"), "{e}");
    let o = cli.run(&["ssh", &target, "--key", &other, "--", "true"], &[]);
    let e = stderr(&o);
    assert!(e.starts_with("unauthenticated:") && e.contains(&other), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "errors are one line: {e}");

    // A new host key: refused before anything runs, until accepted deliberately.
    sshd.restart_with_new_host_key();
    let marker = cli.home.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let o = cli.run(&["ssh", &target, "--", &touch], &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with("host_key_changed:"), "{e}");
    assert!(e.contains(&first_fp) && e.contains(&sshd.host_key_fingerprint()), "both fingerprints: {e}");
    assert!(!marker.exists(), "nothing may run on a host whose key changed");
    assert_eq!(cli.trusted(sshd.port).as_deref(), Some(first_fp.as_str()), "the old key stays trusted");

    let o = cli.run(&["ssh", &target, "--accept-new-host-key", "--", &touch], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(marker.exists());
    let new_fp = sshd.host_key_fingerprint();
    assert_eq!(cli.trusted(sshd.port).as_deref(), Some(new_fp.as_str()));
    let o = cli.run(&["ssh", &target, "--", "echo", "again"], &[]);
    assert_eq!(stdout(&o), "again\n", "{}", stderr(&o));
}

#[test]
fn agent_and_key_files_log_in_and_known_hosts_is_honoured() {
    let cli = Cli::new();
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("id_ed25519");
    sshd::keygen(&key);
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let sshd = Sshd::start(&public);
    let target = sshd.target(&sshd.user);

    // ~/.ssh/known_hosts with another key for this host: refused as a changed key (before any
    // connection, as Skydeck's own record, once made, comes first).
    let ssh_dir = cli.home.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let stranger = keys.path().join("stranger");
    sshd::keygen(&stranger);
    let stranger_pub = std::fs::read_to_string(stranger.with_extension("pub")).unwrap();
    let line = |k: &str| format!("[127.0.0.1]:{} {}\n", sshd.port, k.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
    std::fs::write(ssh_dir.join("known_hosts"), line(&stranger_pub)).unwrap();
    let key_arg = key.to_str().unwrap();
    let o = cli.run(&["ssh", &target, "--key", key_arg, "--", "true"], &[]);
    assert!(stderr(&o).starts_with("host_key_changed:"), "{}", stderr(&o));
    assert!(stderr(&o).contains("known_hosts line 1"), "{}", stderr(&o));

    // The right line: trusted without a first-use notice; the key file logs in.
    let host_pub = std::fs::read_to_string(sshd.dir.path().join("host_key.pub")).unwrap();
    std::fs::write(ssh_dir.join("known_hosts"), line(&host_pub)).unwrap();
    let o = cli.run(&["ssh", &target, "--key", key_arg, "--", "echo", "$((6*7))"], &[]);
    assert_eq!(stdout(&o), "42\n", "{}", stderr(&o));
    assert!(!stderr(&o).contains("trusting"), "{}", stderr(&o));
    assert_eq!(cli.trusted(sshd.port), Some(sshd.host_key_fingerprint()));

    // No Skydeck key, no agent, no file: says what to do.
    let o = cli.run(&["ssh", &target, "--", "true"], &[]);
    let e = stderr(&o);
    assert!(e.starts_with("unauthenticated:") && e.contains("ssh-agent"), "{e}");

    // A real ssh-agent holding the key.
    let agent = Agent::start(&key);
    let o = cli.run(&["ssh", &target, "--", "echo", "$((6*7))"], &[("SSH_AUTH_SOCK", agent.sock.to_str().unwrap())]);
    assert_eq!(stdout(&o), "42\n", "{}", stderr(&o));
    assert!(o.status.success());
}

/// `ssh-agent -D` on a socket of its own, with one key added; killed on drop.
struct Agent {
    _dir: tempfile::TempDir,
    sock: PathBuf,
    child: std::process::Child,
}

impl Agent {
    fn start(key: &Path) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent (openssh-client)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sock.exists() {
            assert!(Instant::now() < deadline, "ssh-agent did not create its socket");
            std::thread::sleep(Duration::from_millis(50));
        }
        let agent = Agent { _dir: dir, sock, child };
        let out = Command::new("ssh-add").arg(key).env("SSH_AUTH_SOCK", &agent.sock).output().unwrap();
        assert!(out.status.success(), "ssh-add: {}", String::from_utf8_lossy(&out.stderr));
        agent
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Unique key names: the keychain is shared with other runs.
fn uuid_suffix() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// Without a command: a shell on a PTY. `script` gives the CLI a terminal; what is typed
/// runs remotely and the shell's exit status comes back.
#[test]
fn interactive_shell_runs_on_a_pty_and_passes_the_exit_status() {
    use std::io::Write;
    let cli = Cli::new();
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("id_ed25519");
    sshd::keygen(&key);
    let sshd = Sshd::start(&std::fs::read_to_string(key.with_extension("pub")).unwrap());
    let inner = format!(
        "{} ssh --key {} {}",
        skydeck_tests::cli_bin().display(),
        key.display(),
        sshd.target(&sshd.user)
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &inner, "/dev/null"])
        .env("SKYDECK_DATA_DIR", cli.data.path())
        .env("HOME", cli.home.path())
        .env("TERM", "xterm")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux)");
    // Typed once the session is up; stdin stays open (an EOF would end `script` early).
    std::thread::sleep(Duration::from_secs(2));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"echo $((6*7))\nexit 5\n").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the interactive session did not end within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.split(['\r', '\n']).any(|l| l == "42"), "the shell's output: {out:?} {}", stderr(&o));
    assert_eq!(o.status.code(), Some(5), "{out:?} {}", stderr(&o));
}

/// A reference that is neither a known machine nor an address says so, without a DNS lookup.
#[test]
fn unknown_machine_is_not_found() {
    let cli = Cli::new();
    let o = cli.run(&["ssh", "i-0123456789", "--", "true"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("not_found:"), "{}", stderr(&o));
    let o = cli.run(&["ssh", "root@-oProxyCommand=x", "--", "true"], &[]);
    assert!(stderr(&o).starts_with("not_found:"), "an option is never a host: {}", stderr(&o));
}
