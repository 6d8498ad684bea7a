//! Finds Docker and Podman daemons on this machine for zero-setup onboarding: `$DOCKER_HOST`,
//! then the usual socket paths. A socket counts when something listens on it (a stale socket
//! file left by a stopped daemon does not) or when it exists but this user may not use it
//! (adding it then explains how to get access).

use crate::provider::DetectedHost;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn detect() -> Vec<DetectedHost> {
    let mut found: Vec<DetectedHost> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();

    if let Ok(host) = std::env::var("DOCKER_HOST") {
        let host = host.trim();
        match host.strip_prefix("unix://") {
            Some(path) => push_socket(&mut found, &mut seen, Path::new(path), "Docker host (DOCKER_HOST)"),
            // A remote host the user pointed their docker CLI at; TLS material (DOCKER_CERT_PATH)
            // is not picked up silently, so only plain tcp:// and ssh:// are offered.
            None if (host.starts_with("tcp://") && std::env::var_os("DOCKER_TLS_VERIFY").is_none())
                || host.starts_with("ssh://") =>
            {
                found.push(host_entry(host, "Docker host (DOCKER_HOST)"))
            }
            None => {}
        }
    }
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    let home = dirs::home_dir();
    let candidates: Vec<(Option<PathBuf>, &str)> = vec![
        (Some("/var/run/docker.sock".into()), "Docker (local)"),
        (runtime_dir.as_ref().map(|d| d.join("podman/podman.sock")), "Podman (rootless)"),
        (Some("/run/podman/podman.sock".into()), "Podman (local)"),
        (runtime_dir.as_ref().map(|d| d.join("docker.sock")), "Docker (rootless)"),
        (home.as_ref().map(|h| h.join(".docker/run/docker.sock")), "Docker Desktop"),
    ];
    for (path, title) in candidates {
        if let Some(path) = path {
            push_socket(&mut found, &mut seen, &path, title);
        }
    }
    found
}

fn host_entry(host: &str, title: &str) -> DetectedHost {
    DetectedHost {
        provider: super::SPEC.id.to_string(),
        title: title.to_string(),
        fields: BTreeMap::from([("host".to_string(), host.to_string())]),
    }
}

/// Adds `path` if it is a live (or permission-guarded) socket not seen under another name
/// (`/var/run` is usually a link to `/run`).
fn push_socket(found: &mut Vec<DetectedHost>, seen: &mut Vec<PathBuf>, path: &Path, title: &str) {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if seen.contains(&real) || !is_live_socket(path) {
        return;
    }
    seen.push(real);
    found.push(host_entry(&format!("unix://{}", path.display()), title));
}

#[cfg(unix)]
fn is_live_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let is_socket = std::fs::metadata(path).map(|m| m.file_type().is_socket()).unwrap_or(false);
    is_socket
        && match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::PermissionDenied,
        }
}

#[cfg(not(unix))]
fn is_live_socket(_path: &Path) -> bool {
    false
}
