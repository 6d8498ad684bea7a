//! A throwaway remote libvirt host on 127.0.0.1: a `libvirtd` with only the drivers built
//! into libvirt itself (test and remote: `LIBVIRT_DRIVER_DIR` points at an empty directory,
//! so no qemu/lxc/storage module loads) listening on a unix socket in a temp dir, and an
//! `sshd` on a free port with its own host key that lets in one generated key. Clients reach
//! it as `test+ssh://<user>@127.0.0.1:<port>/default?socket=<sock>`.
//!
//! Nothing touches the user's ~/.ssh: clients go through an ssh wrapper (the URI's
//! `command=` parameter) that reads no config and keeps known hosts in the temp dir.

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
    /// The ssh client wrapper for the URI's `command=`.
    pub ssh: PathBuf,
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
        let socket = d.join("run/libvirt-sock");

        // sshd with its own host key, one authorized key, no PAM, no passwords.
        let key = d.join("client_key");
        keygen(&key);
        keygen(&d.join("host_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
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

        let ssh = d.join("ssh");
        std::fs::write(
            &ssh,
            format!(
                "#!/bin/sh\nexec ssh -F none -o UserKnownHostsFile={kh} -o GlobalKnownHostsFile=/dev/null \
                 -o StrictHostKeyChecking=accept-new -o BatchMode=yes \"$@\"\n",
                kh = d.join("known_hosts").display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&ssh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

        let mut host = RemoteHost { dir, user, ssh_port, socket, key, ssh, libvirtd, _sshd: sshd };
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

    /// `test+ssh://user@127.0.0.1:port/default?socket=…&command=…` plus `extra` params.
    pub fn uri(&self, extra: &str) -> String {
        format!(
            "test+ssh://{}@127.0.0.1:{}/default?socket={}&command={}{extra}",
            self.user,
            self.ssh_port,
            self.socket.display(),
            self.ssh.display()
        )
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

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}
