//! A throwaway OpenSSH `sshd` on 127.0.0.1 for Skydeck's own SSH client: a free port, its own
//! config (no PAM, no passwords, public keys from one `AuthorizedKeysFile`), a throwaway host
//! key that a test can replace (restart with a new key, same port) to see a changed host key.
//! It logs in as the user running the tests.

use crate::peer::{free_port, Peer};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The user the tests run as: the one sshd lets in.
    pub user: String,
    pub authorized_keys: PathBuf,
    peer: Option<Peer>,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}); run scripts/setup"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new ed25519 key pair at `path` (+ `.pub`), no passphrase.
pub fn keygen(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("pub"));
    run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", "skydeck-test", "-f"]).arg(path));
}

/// `SHA256:…` of a public key file, as `ssh-keygen -lf` prints it.
pub fn fingerprint(pub_file: &Path) -> String {
    let out = run(Command::new("ssh-keygen").arg("-lf").arg(pub_file));
    out.split_whitespace().nth(1).expect("ssh-keygen -lf prints the fingerprint second").to_string()
}

/// The login name of the user running the tests.
pub fn current_user() -> String {
    run(Command::new("id").arg("-un")).trim().to_string()
}

impl Sshd {
    /// Starts sshd letting in the keys in `authorized` (authorized_keys lines).
    pub fn start(authorized: &str) -> Sshd {
        let dir = tempfile::Builder::new().prefix("skydeck-sshd-").tempdir().unwrap();
        let authorized_keys = dir.path().join("authorized_keys");
        std::fs::write(&authorized_keys, authorized).unwrap();
        keygen(&dir.path().join("host_key"));
        let mut sshd = Sshd { port: free_port(), user: current_user(), authorized_keys, dir, peer: None };
        sshd.spawn();
        sshd
    }

    fn spawn(&mut self) {
        let d = self.dir.path();
        let conf = d.join("sshd_config");
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nAuthorizedKeysFile {ak}\nPidFile {pid}\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 UsePAM no\nStrictModes no\nMaxAuthTries 6\nLogLevel VERBOSE\n",
                port = self.port,
                hk = d.join("host_key").display(),
                ak = self.authorized_keys.display(),
                pid = d.join("sshd.pid").display(),
            ),
        )
        .unwrap();
        // sshd run as root insists on its privilege-separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let mut cmd = Command::new("/usr/sbin/sshd");
        cmd.args(["-D", "-e", "-f"]).arg(&conf);
        self.peer = Some(Peer::spawn("sshd", cmd, self.port, Duration::from_secs(20)));
    }

    /// `SHA256:…` of the current host key.
    pub fn host_key_fingerprint(&self) -> String {
        fingerprint(&self.dir.path().join("host_key.pub"))
    }

    /// Stops sshd, gives it a new host key, starts it again on the same port: what a
    /// reinstalled machine (or someone in the middle) looks like to a client.
    pub fn restart_with_new_host_key(&mut self) {
        self.peer = None; // killed on drop
        keygen(&self.dir.path().join("host_key"));
        self.spawn();
    }

    /// `user@127.0.0.1:port`.
    pub fn target(&self, user: &str) -> String {
        format!("{user}@127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        self.peer.as_ref().map(Peer::log_text).unwrap_or_default()
    }
}
