//! A tiny scripted HTTP/1.1 server on 127.0.0.1 for unit tests of the HTTP layer and the
//! drivers: each request gets what the script says, including the misbehaviours a real
//! server library would not produce (never answering, dripping, an endless body).

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
pub(crate) enum Act {
    /// A complete answer (`Content-Length` set, connection closed after).
    Reply { status: u16, headers: Vec<(&'static str, String)>, body: String },
    /// Accept the request and never answer.
    Hang,
    /// Headers announcing `len` bytes, then one byte every `every`.
    Drip { len: usize, every: Duration },
    /// A chunked body that never ends.
    Endless,
}

impl Act {
    pub(crate) fn json(status: u16, body: impl Into<String>) -> Act {
        Act::Reply { status, headers: vec![("content-type", "application/json".into())], body: body.into() }
    }
    pub(crate) fn xml(status: u16, body: impl Into<String>) -> Act {
        Act::Reply { status, headers: vec![("content-type", "text/xml".into())], body: body.into() }
    }
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Act {
        if let Act::Reply { headers, .. } = &mut self {
            headers.push((name, value.into()));
        }
        self
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub body: String,
}

pub(crate) struct TestServer {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

type Script = Arc<dyn Fn(usize, &Seen) -> Act + Send + Sync>;

impl TestServer {
    /// Serves every request with `script(index, request)`.
    pub(crate) async fn start(script: impl Fn(usize, &Seen) -> Act + Send + Sync + 'static) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Script = Arc::new(script);
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve(sock, script.clone(), log.clone()));
            }
        });
        TestServer { url, seen }
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub(crate) fn hits(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

async fn serve(mut sock: TcpStream, script: Script, log: Arc<Mutex<Vec<Seen>>>) {
    let Some(req) = read_request(&mut sock).await else { return };
    let index = {
        let mut log = log.lock().unwrap();
        log.push(req.clone());
        log.len() - 1
    };
    match script(index, &req) {
        Act::Reply { status, headers, body } => {
            let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(body.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
        Act::Hang => {
            // Hold the connection open without a byte until the client gives up.
            let mut sink = [0u8; 64];
            while matches!(sock.read(&mut sink).await, Ok(n) if n > 0) {}
        }
        Act::Drip { len, every } => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n");
            if sock.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for _ in 0..len {
                tokio::time::sleep(every).await;
                if sock.write_all(b" ").await.is_err() {
                    return;
                }
            }
        }
        Act::Endless => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            if sock.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = [b'['; 64 * 1024];
            let frame = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk.to_vec(), b"\r\n".to_vec()].concat();
            while sock.write_all(&frame).await.is_ok() {}
        }
    }
}

async fn read_request(sock: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let mut first = head.lines().next()?.split(' ');
    Some(Seen {
        method: first.next()?.to_string(),
        target: first.next()?.to_string(),
        body: String::from_utf8_lossy(&buf[head_end..]).into_owned(),
    })
}

/// A client for driver tests: three attempts, millisecond backoff, a 5 s deadline.
pub(crate) fn quick_http() -> super::HttpClient {
    let policy = super::RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        deadline: Duration::from_secs(5),
        ..super::RetryPolicy::default()
    };
    super::HttpClient::with_policy(policy, Duration::from_secs(5)).expect("client")
}

/// A driver's connection with these fields and secrets and [`quick_http`].
pub(crate) fn connection(fields: &[(&str, &str)], secrets: &[(&str, &str)]) -> crate::provider::Connection {
    crate::provider::Connection {
        cloud_id: "test".into(),
        fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        secrets: secrets.iter().map(|(k, v)| (k.to_string(), crate::secrets::Sensitive::new(v.to_string()))).collect(),
        http: quick_http(),
    }
}

/// The provider-level code of an error (`pagination_loop`, `too_many_pages`, …), for assertions.
pub(crate) fn provider_code(e: &crate::error::Error) -> Option<&str> {
    match e {
        crate::error::Error::Provider { code, .. } => code.as_deref(),
        _ => None,
    }
}

/// Runs each of `actions` on `machine` against `srv` (which must answer 5xx, so any resend
/// would show) and asserts the driver sent each exactly `times` requests: 1 for what must
/// never be repeated (power actions), the retry budget for what is safe to repeat (deletes).
pub(crate) async fn assert_requests_per_action(
    srv: &TestServer,
    driver: &dyn crate::provider::Provider,
    machine: &crate::model::Machine,
    actions: &[crate::model::Action],
    times: usize,
) {
    for &action in actions {
        let before = srv.hits();
        let e = driver.machine_action(machine, action).await.unwrap_err();
        assert_eq!(e.code(), "unavailable", "{action}: {e}");
        assert_eq!(srv.hits() - before, times, "{action}");
    }
}
