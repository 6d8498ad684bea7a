//! Peer processes: free ports, start, wait until listening, kill on drop.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (the OS picks; a small race with other binders is accepted).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running peer process; killed (with its process group) when dropped.
pub struct Peer {
    pub name: String,
    pub port: u16,
    child: Child,
    log: std::path::PathBuf,
}

impl Peer {
    /// Spawns `cmd` (stdout/stderr to a log file under the target dir) and waits until
    /// 127.0.0.1:`port` accepts connections, up to `timeout`.
    pub fn spawn(name: &str, mut cmd: Command, port: u16, timeout: Duration) -> Peer {
        let log_dir = crate::repo_root().join("target/peer-logs");
        std::fs::create_dir_all(&log_dir).unwrap();
        let log = log_dir.join(format!("{name}-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({e}); run scripts/setup to install the test peers"));
        let mut peer = Peer { name: name.to_string(), port, child, log };
        let deadline = Instant::now() + timeout;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = peer.child.try_wait() {
                panic!("{name} exited ({status}) before listening; log:\n{}", peer.log_text());
            }
            if Instant::now() > deadline {
                panic!("{name} did not listen on {port} within {timeout:?}; log:\n{}", peer.log_text());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        peer
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        #[cfg(unix)]
        unsafe {
            // Kill the whole group: npx/python may have forked the real server.
            libc_kill(-(self.child.id() as i32), 9);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(unix)]
extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
