//! A throwaway remote libvirt host on 127.0.0.1: a `libvirtd` with only the drivers built
//! into libvirt itself (test and remote: `LIBVIRT_DRIVER_DIR` points at an empty directory,
//! so no qemu/lxc/storage module loads) listening on a unix socket in a temp dir, and an
//! `sshd` on a free port with its own host key that lets in one generated key. Clients reach
//! it as `test+ssh://<user>@127.0.0.1:<port>/default`.
//!
//! Skydeck refuses the URI parameters that would point libvirt elsewhere (`socket=`,
//! `command=`, `keyfile=`…), so the test host is set up the way a real one is:
//! * server side, the key's `authorized_keys` entry forces the command `nc -U <socket>`:
//!   whatever helper libvirt asks ssh to run, the session is wired to this libvirtd;
//! * client side, libvirt runs `ssh` from `PATH`; [`RemoteHost::start`] puts a wrapper first
//!   on this process's `PATH` (once) that reads no ssh config and checks host keys against
//!   a known_hosts file of this process, to which each host adds its own key. Nothing
//!   touches the user's ~/.ssh, and host keys are still verified.

use crate::peer::{free_port, Peer};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RemoteHost {
    pub dir: tempfile::TempDir,
    pub user: String,
    pub ssh_port: u16,
    /// libvirtd's read-write socket.
    pub socket: PathBuf,
    /// The private key sshd accepts.
    pub key: PathBuf,
    /// The file the ssh client wrapper checks host keys against.
    pub known_hosts: PathBuf,
    libvirtd: Child,
    _sshd: Peer,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}); run scripts/setup"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A new ed25519 key pair at `path` (+ `.pub`), no passphrase.
pub fn keygen(path: &Path) {
    run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", "skydeck-test", "-f"]).arg(path));
}

impl RemoteHost {
    pub fn start() -> RemoteHost {
        let dir = tempfile::Builder::new().prefix("skydeck-lvt-").tempdir().unwrap();
        let d = dir.path();
        let user =
            String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap().trim().to_string();

        // libvirtd: no auth on its own socket, no TCP/TLS listeners, only built-in drivers.
        std::fs::create_dir_all(d.join("drivers")).unwrap();
        std::fs::create_dir_all(d.join("run")).unwrap();
        let conf = d.join("libvirtd.conf");
        std::fs::write(
            &conf,
            format!(
                "unix_sock_dir = \"{}\"\nunix_sock_rw_perms = \"0700\"\nauth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n\
                 listen_tls = 0\nlisten_tcp = 0\nlog_outputs = \"3:stderr\"\n",
                d.join("run").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(d.join("libvirtd.log")).unwrap();
        let socket = d.join("run/libvirt-sock");
        let libvirtd = Command::new("/usr/sbin/libvirtd")
            .arg("--config")
            .arg(&conf)
            .arg("--pid-file")
            .arg(d.join("libvirtd.pid"))
            .env("LIBVIRT_DRIVER_DIR", d.join("drivers"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start libvirtd ({e}); run scripts/setup (libvirt-daemon)"));

        // sshd with its own host key, one authorized key, no PAM, no passwords.
        let key = d.join("client_key");
        keygen(&key);
        keygen(&d.join("host_key"));
        let public = std::fs::read_to_string(d.join("client_key.pub")).unwrap();
        let forced = format!("restrict,command=\"exec nc -U {}\" {public}", socket.display());
        std::fs::write(d.join("authorized_keys"), forced).unwrap();
        let ssh_port = free_port();
        let sshd_conf = d.join("sshd_config");
        std::fs::write(
            &sshd_conf,
            format!(
                "Port {ssh_port}\nListenAddress 127.0.0.1\nHostKey {hk}\nAuthorizedKeysFile {ak}\nPidFile {pid}\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 UsePAM no\nStrictModes no\n",
                hk = d.join("host_key").display(),
                ak = d.join("authorized_keys").display(),
                pid = d.join("sshd.pid").display(),
            ),
        )
        .unwrap();
        // sshd run as root insists on its privilege-separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let mut cmd = Command::new("/usr/sbin/sshd");
        cmd.args(["-D", "-e", "-f"]).arg(&sshd_conf);
        let sshd = Peer::spawn("sshd", cmd, ssh_port, Duration::from_secs(20));

        let host_key = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        let known_hosts = trust_host_key(ssh_port, host_key.trim());

        let mut host = RemoteHost { dir, user, ssh_port, socket, key, known_hosts, libvirtd, _sshd: sshd };
        host.wait_for_socket(Duration::from_secs(30));
        host
    }

    fn wait_for_socket(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while std::os::unix::net::UnixStream::connect(&self.socket).is_err() {
            if let Ok(Some(status)) = self.libvirtd.try_wait() {
                panic!("libvirtd exited ({status}); log:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "libvirtd did not listen on {} in {timeout:?}; log:\n{}",
                self.socket.display(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("libvirtd.log")).unwrap_or_default()
    }

    /// `test+ssh://user@127.0.0.1:port/default` plus `query` (e.g. `?no_tty=1`).
    pub fn uri(&self, query: &str) -> String {
        format!("test+ssh://{}@127.0.0.1:{}/default{query}", self.user, self.ssh_port)
    }
}

impl Drop for RemoteHost {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's process group.
        unsafe {
            kill(-(self.libvirtd.id() as i32), 9);
        }
        let _ = self.libvirtd.kill();
        let _ = self.libvirtd.wait();
    }
}

/// The ssh client wrapper's directory and known_hosts file, made once per test process.
static CLIENT: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
static KNOWN_HOSTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Puts `[127.0.0.1]:port key` into this process's known_hosts (replacing an older host's
/// key for a reused port), and the ssh wrapper first on `PATH`; returns the file.
fn trust_host_key(port: u16, key: &str) -> PathBuf {
    let (bin, known) = CLIENT.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("skydeck-ssh-client-").tempdir().unwrap().keep();
        let known = dir.join("known_hosts");
        std::fs::write(&known, "").unwrap();
        let bin = dir.join("bin");
        std::fs::create_dir(&bin).unwrap();
        let real = ["/usr/bin/ssh", "/bin/ssh"].into_iter().find(|p| Path::new(p).exists()).expect("ssh (openssh-client)");
        let wrapper = bin.join("ssh");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec {real} -F none -o UserKnownHostsFile={kh} -o GlobalKnownHostsFile=/dev/null \
                 -o StrictHostKeyChecking=yes \"$@\"\n",
                kh = known.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![bin.clone()];
        dirs.extend(std::env::split_paths(&path));
        // Once, before any test of this process connects: libvirt looks `ssh` up in PATH.
        std::env::set_var("PATH", std::env::join_paths(dirs).unwrap());
        (bin, known)
    });
    let _ = bin;
    let _guard = KNOWN_HOSTS.lock().unwrap_or_else(|p| p.into_inner());
    let host = format!("[127.0.0.1]:{port} ");
    let old = std::fs::read_to_string(known).unwrap_or_default();
    let mut lines: Vec<&str> = old.lines().filter(|l| !l.starts_with(&host)).collect();
    let entry = format!("{host}{}", key.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
    lines.push(&entry);
    std::fs::write(known, lines.join("\n") + "\n").unwrap();
    known.clone()
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}
