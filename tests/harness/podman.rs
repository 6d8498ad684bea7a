//! Debian's podman serving its Docker-compatible API on a unix socket, with throwaway
//! storage, as the peer of the Docker-host driver.
//!
//! Everything podman keeps lives in one temporary directory (storage with the `vfs` driver,
//! run and lock files, events log, network configs): several instances can run side by side
//! and none touches the system's containers. Containers run with runc, cgroupfs and no
//! network namespace set-up on the host: the CNI backend points at an empty plugin directory,
//! so a container that asked for a bridge network would fail instead of changing the host's
//! firewall. Tests must create containers with the `network=none` option.
//!
//! The only image is busybox, made from Debian's busybox-static binary and loaded with
//! `podman import`; registries are blocked, so nothing is ever pulled.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const IMAGE: &str = "localhost/skydeck-busybox:test";

/// The long-running command test containers use: PID 1 exits at once on SIGTERM, so a stop
/// or restart does not wait for the 10 s kill timeout.
pub const COMMAND: &str = "sh -c \"trap 'exit 0' TERM; while :; do sleep 1; done\"";

pub struct Podman {
    dir: tempfile::TempDir,
    service: Option<Child>,
    pub socket: PathBuf,
}

fn busybox() -> PathBuf {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("busybox is missing: install Debian's busybox-static (scripts/setup test)")
}

impl Podman {
    /// Sets up storage, imports the busybox image and starts `podman system service`.
    pub fn start() -> Podman {
        let dir = tempfile::Builder::new().prefix("skydeck-podman-").tempdir().unwrap();
        let d = dir.path();
        for sub in ["conf", "rootfs/bin", "no-cni-plugins", "networks"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let p = |s: &str| d.join(s).display().to_string();
        std::fs::write(
            d.join("conf/containers.conf"),
            format!(
                r#"[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
tmp_dir = "{tmp}"
volume_path = "{volumes}"
lock_type = "file"

[network]
network_backend = "cni"
cni_plugin_dirs = ["{plugins}"]
network_config_dir = "{networks}"
"#,
                tmp = p("libpod-tmp"),
                volumes = p("volumes"),
                plugins = p("no-cni-plugins"),
                networks = p("networks"),
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("conf/storage.conf"),
            format!("[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n", p("root"), p("runroot")),
        )
        .unwrap();
        std::fs::write(d.join("conf/registries.conf"), "unqualified-search-registries = []\n").unwrap();

        // busybox rootfs: the static binary and the applets the tests use.
        std::fs::copy(busybox(), d.join("rootfs/bin/busybox")).unwrap();
        for applet in ["sh", "sleep", "true", "echo", "cat", "ls", "env"] {
            std::os::unix::fs::symlink("busybox", d.join("rootfs/bin").join(applet)).unwrap();
        }
        let tar = d.join("busybox.tar");
        run(Command::new("tar").arg("-C").arg(d.join("rootfs")).arg("-cf").arg(&tar).arg("."));

        let mut podman = Podman { socket: d.join("podman.sock"), dir, service: None };
        run(podman.cmd().arg("import").arg(&tar).arg(IMAGE));
        podman.start_service();
        podman
    }

    /// A `podman` command bound to this instance's configuration.
    pub fn cmd(&self) -> Command {
        let d = self.dir.path();
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", d.join("conf/containers.conf"))
            .env("CONTAINERS_STORAGE_CONF", d.join("conf/storage.conf"))
            .env("CONTAINERS_REGISTRIES_CONF", d.join("conf/registries.conf"))
            .env("TMPDIR", d);
        c
    }

    /// `unix://…/podman.sock`, the Docker host address of this instance.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn start_service(&mut self) {
        assert!(self.service.is_none(), "the service already runs");
        let log = std::fs::File::create(self.dir.path().join("service.log")).unwrap();
        let mut cmd = self.cmd();
        cmd.args(["system", "service", "--time=0"]).arg(self.host());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start podman; install Debian's podman (scripts/setup test)");
        self.service = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while UnixStream::connect(&self.socket).is_err() {
            if let Some(Ok(Some(status))) = self.service.as_mut().map(|c| c.try_wait()) {
                panic!("podman service exited ({status}); log:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "podman service did not listen within 60 s; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the API service (containers keep running, as with a real daemon restart).
    pub fn stop_service(&mut self) {
        if let Some(mut child) = self.service.take() {
            kill_group(&mut child);
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("service.log")).unwrap_or_default()
    }

    /// `podman inspect` of a container, as JSON.
    pub fn inspect(&self, id: &str) -> serde_json::Value {
        let out = self.cmd().args(["inspect", "--type", "container", id]).output().unwrap();
        assert!(out.status.success(), "podman inspect {id}: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v[0].clone()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // Containers outlive the service (conmon keeps them): remove them all first.
        let _ = self.cmd().args(["rm", "--all", "--force", "--time", "0"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
        self.stop_service();
    }
}

fn kill_group(child: &mut Child) {
    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    // SAFETY: plain syscall on our own child's process group.
    unsafe {
        kill(-(child.id() as i32), 15);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe {
        kill(-(child.id() as i32), 9);
    }
    let _ = child.wait();
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
