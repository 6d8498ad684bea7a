//! A tiny DigitalOcean-shaped HTTP server that answers after a fixed delay. It is not a test of
//! the DigitalOcean driver (Prism does that): it exists to measure and test the refresh
//! engine's concurrency (every response +100 ms) and its handling of failing clouds
//! (a status can be forced). Hand-written on tokio to keep the bench free of a web framework.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub struct SlowApi {
    pub port: u16,
    /// 0 = answer normally; otherwise answer every request with this status.
    pub force_status: Arc<AtomicU16>,
    /// Delay in ms before each answer.
    pub delay_ms: Arc<AtomicU64>,
    pub requests: Arc<AtomicU64>,
    droplets: Arc<std::sync::RwLock<String>>,
    machines: usize,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SlowApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SlowApi {
    /// Starts the server on 127.0.0.1 (free port) inside the current tokio runtime. Each
    /// droplets listing has `machines` droplets.
    pub async fn start(delay: Duration, machines: usize) -> SlowApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let force_status = Arc::new(AtomicU16::new(0));
        let delay_ms = Arc::new(AtomicU64::new(delay.as_millis() as u64));
        let requests = Arc::new(AtomicU64::new(0));
        let body_droplets = Arc::new(std::sync::RwLock::new(droplets_json(machines, port, None)));
        let (fs, dm, rq, bd) = (force_status.clone(), delay_ms.clone(), requests.clone(), body_droplets.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { continue };
                let (fs, dm, rq, droplets) = (fs.clone(), dm.clone(), rq.clone(), bd.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::with_capacity(2048);
                    loop {
                        // Read one request head (GETs only: no body to skip).
                        let mut chunk = [0u8; 2048];
                        let head_end = loop {
                            if let Some(i) = find(&buf, b"\r\n\r\n") {
                                break i + 4;
                            }
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                        buf.drain(..head_end);
                        rq.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(dm.load(Ordering::Relaxed))).await;
                        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                        let forced = fs.load(Ordering::Relaxed);
                        let (status, body) = if forced != 0 {
                            (forced, format!(r#"{{"id":"forced","message":"forced status {forced}"}}"#))
                        } else if path.starts_with("/v2/droplets") {
                            (200, droplets.read().unwrap().clone())
                        } else if path.starts_with("/v2/account") {
                            (200, r#"{"account":{"email":"bench@example.com","status":"active","uuid":"b"}}"#.to_string())
                        } else {
                            (404, r#"{"id":"not_found","message":"no such path"}"#.to_string())
                        };
                        let resp = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if sock.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SlowApi { port, force_status, delay_ms, requests, droplets: body_droplets, machines, task }
    }

    /// Changes the status every droplet reports (e.g. "off"), as if changed behind our back.
    pub fn set_all_status(&self, status: &str) {
        *self.droplets.write().unwrap() = droplets_json(self.machines, self.port, Some(status));
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn droplets_json(n: usize, seed: u16, status: Option<&str>) -> String {
    let droplets: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "id": seed as u64 * 100_000 + i as u64,
                "name": format!("bench-{seed}-{i}"),
                "status": status.unwrap_or(if i % 3 == 0 { "off" } else { "active" }),
                "created_at": "2026-01-01T00:00:00Z",
                "memory": 1024, "vcpus": 1, "disk": 25,
                "region": {"slug": "ams3", "name": "Amsterdam 3"},
                "size_slug": "s-1vcpu-1gb",
                "image": {"id": 1, "name": "24.04 x64", "distribution": "Ubuntu", "slug": "ubuntu-24-04-x64"},
                "networks": {"v4": [{"ip_address": format!("203.0.113.{}", i % 250), "type": "public"}], "v6": []},
                "tags": ["env:bench"]
            })
        })
        .collect();
    serde_json::json!({"droplets": droplets, "links": {}, "meta": {"total": n}}).to_string()
}
