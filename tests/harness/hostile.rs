//! A hostile HTTP server for fault injection (issue 9, item 3). Raw TCP on 127.0.0.1, so it
//! can misbehave below HTTP too: never answer, drip a byte a second, reset the connection,
//! send garbage or a truncated body. What it does is a [`Fault`], switched at runtime with
//! [`HostileServer::set_fault`]; it serves any path and method.
//!
//! With [`Fault::Healthy`] it serves a valid one-machine list shaped like the provider's API
//! (from the recorded libcloud fixtures in ../shared, Hetzner from its OpenAPI spec's
//! examples), so the same cloud "works again once the server behaves". The pagination faults
//! serve that list as a page of the provider's own pagination scheme whose next cursor never
//! repeats or cycles A, B, A, B.
//!
//! A provider the server has no page shape for is refused loudly ([`Api::of`]), so a new HTTP
//! provider cannot slip past the suite unnoticed.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How deep the nested JSON and XML answers go: far past any parser's recursion budget.
pub const NESTING: usize = 100_000;
/// The size of [`Fault::HugeBody`]: streamed, never held in memory by the server.
pub const HUGE_BODY: u64 = 400 * 1024 * 1024;
/// Retry-After values of the 429 faults.
pub const RETRY_AFTER_SMALL: &str = "1";
pub const RETRY_AFTER_HUGE: &str = "18446744073709551615";
pub const RETRY_AFTER_YEAR_9999: &str = "Fri, 31 Dec 9999 23:59:59 GMT";

/// What the server does with every request from now on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A valid one-machine list (and whatever else the provider asks while testing a cloud).
    Healthy,
    /// Every request answered with this status and a small JSON error body (401, 403, 404,
    /// 409, 500; 503 is "503 forever").
    Status(u16),
    /// 429 with this Retry-After header.
    TooManyRequests(&'static str),
    /// Accepts the connection, reads the request, never answers.
    NeverAnswer,
    /// A 200 head, then the healthy body one byte a second.
    Drip,
    /// Reads the request, then closes with SO_LINGER 0: the client sees a TCP reset.
    Reset,
    /// Bytes that are not HTTP, then close.
    Garbage,
    /// A Content-Length larger than what is sent, then close.
    Truncated,
    /// A 200 whose body is `[` × [`NESTING`] then `]` × [`NESTING`].
    DeepJson,
    /// A 200 whose body is an EC2 answer with [`NESTING`] nested elements.
    DeepXml,
    /// A 200 with a [`HUGE_BODY`]-byte body.
    HugeBody,
    /// List pages whose next cursor never repeats.
    EndlessPages,
    /// List pages whose next cursor alternates A, B, A, B.
    CyclingPages,
}

impl Fault {
    /// Every fault but `Healthy`, in the order the suite reports them.
    pub fn all() -> Vec<Fault> {
        vec![
            Fault::Status(401),
            Fault::Status(403),
            Fault::Status(404),
            Fault::Status(409),
            Fault::TooManyRequests(RETRY_AFTER_SMALL),
            Fault::TooManyRequests(RETRY_AFTER_HUGE),
            Fault::TooManyRequests(RETRY_AFTER_YEAR_9999),
            Fault::Status(500),
            Fault::Status(503),
            Fault::NeverAnswer,
            Fault::Drip,
            Fault::Reset,
            Fault::Garbage,
            Fault::Truncated,
            Fault::DeepJson,
            Fault::DeepXml,
            Fault::HugeBody,
            Fault::EndlessPages,
            Fault::CyclingPages,
        ]
    }

    /// A short name for tables.
    pub fn name(&self) -> String {
        match self {
            Fault::Healthy => "healthy".into(),
            Fault::Status(503) => "503 forever".into(),
            Fault::Status(s) => s.to_string(),
            Fault::TooManyRequests(RETRY_AFTER_HUGE) => "429 Retry-After u64::MAX".into(),
            Fault::TooManyRequests(RETRY_AFTER_YEAR_9999) => "429 Retry-After year 9999".into(),
            Fault::TooManyRequests(v) => format!("429 Retry-After {v}"),
            Fault::NeverAnswer => "never answers".into(),
            Fault::Drip => "drips 1 B/s".into(),
            Fault::Reset => "connection reset".into(),
            Fault::Garbage => "garbage, not HTTP".into(),
            Fault::Truncated => "truncated body".into(),
            Fault::DeepJson => format!("JSON nested {NESTING}"),
            Fault::DeepXml => format!("XML nested {NESTING}"),
            Fault::HugeBody => format!("{} MiB body", HUGE_BODY >> 20),
            Fault::EndlessPages => "endless pages".into(),
            Fault::CyclingPages => "pages cycle A,B,A".into(),
        }
    }

    pub fn is_pagination(&self) -> bool {
        matches!(self, Fault::EndlessPages | Fault::CyclingPages)
    }

    /// Faults whose cost is waiting out the client's deadline (the suite runs them together).
    pub fn is_slow(&self) -> bool {
        matches!(self, Fault::NeverAnswer | Fault::Drip)
    }
}

/// The provider APIs the server can imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Ec2,
    DigitalOcean,
    Linode,
    Vultr,
    Hetzner,
    HostVirtual,
}

impl Api {
    /// The API shape of a provider id, `None` when the server cannot imitate it yet.
    pub fn of(provider: &str) -> Option<Api> {
        Some(match provider {
            "ec2" => Api::Ec2,
            "digitalocean" => Api::DigitalOcean,
            "linode" => Api::Linode,
            "vultr" => Api::Vultr,
            "hetzner" => Api::Hetzner,
            "hostvirtual" => Api::HostVirtual,
            _ => return None,
        })
    }

    /// Whether the API pages its machine list (HostVirtual answers it in one piece).
    pub fn paginates(self) -> bool {
        self != Api::HostVirtual
    }

    fn is_xml(self) -> bool {
        self == Api::Ec2
    }

    fn content_type(self) -> &'static str {
        if self.is_xml() {
            "text/xml;charset=UTF-8"
        } else {
            "application/json"
        }
    }
}

/// One request as the server read it.
struct Request {
    path: String,
    /// Query parameters, and for a form POST (EC2) the form's too.
    params: HashMap<String, String>,
}

impl Request {
    fn param(&self, k: &str) -> Option<&str> {
        self.params.get(k).map(String::as_str)
    }

    fn page(&self) -> u64 {
        self.param("page").and_then(|p| p.parse().ok()).unwrap_or(1)
    }
}

/// The healthy answers of one provider.
struct Site {
    api: Api,
    /// The machine list (JSON providers: a parsed page; EC2: the XML).
    list: Value,
    ec2_instances: String,
}

impl Site {
    fn load(api: Api) -> Site {
        let fixture = |dir: &str, file: &str| -> Value {
            serde_json::from_str(&crate::fixture(dir, file)).unwrap_or_else(|e| panic!("{dir}/{file}: {e}"))
        };
        let list = match api {
            Api::Ec2 => Value::Null,
            Api::DigitalOcean => {
                let mut v = fixture("digitalocean_v2", "list_nodes.json");
                one_item(&mut v["droplets"]);
                v["links"] = json!({});
                v["meta"] = json!({"total": 1});
                v
            }
            Api::Linode => {
                let mut v = fixture("linode_v4", "list_nodes.json");
                one_item(&mut v["data"]);
                json!({"data": v["data"], "page": 1, "pages": 1, "results": 1})
            }
            Api::Vultr => {
                let mut v = fixture("vultr_v2", "list_nodes.json");
                one_item(&mut v["instances"]);
                json!({"instances": v["instances"], "meta": {"total": 1, "links": {"next": "", "prev": ""}}})
            }
            Api::Hetzner => json!({
                "servers": [hetzner_server()],
                "meta": {"pagination": {"page": 1, "per_page": 50, "previous_page": null, "next_page": null,
                                        "last_page": 1, "total_entries": 1}},
            }),
            Api::HostVirtual => {
                let mut v = fixture("hostvirtual", "list_nodes.json");
                one_item(&mut v);
                v
            }
        };
        let ec2_instances = if api == Api::Ec2 { crate::fixture("ec2", "describe_instances.xml") } else { String::new() };
        Site { api, list, ec2_instances }
    }

    /// The answer to `req` when the server behaves, or serves `fault`'s pagination.
    fn answer(&self, req: &Request, fault: &Fault, base: &str) -> String {
        let paging = fault.is_pagination();
        let endless = *fault == Fault::EndlessPages;
        match self.api {
            Api::Ec2 => {
                if req.param("Action") == Some("DescribeRegions") {
                    return EC2_REGIONS.to_string();
                }
                if !paging {
                    return self.ec2_instances.clone();
                }
                let token = next_cursor(req.param("NextToken"), endless);
                self.ec2_instances
                    .replacen("</DescribeInstancesResponse>", &format!("<nextToken>{token}</nextToken></DescribeInstancesResponse>"), 1)
            }
            Api::DigitalOcean if req.path.ends_with("/account") => {
                json!({"account": {"droplet_limit": 25, "email": "hostile@example.com", "uuid": "hostile", "status": "active"}})
                    .to_string()
            }
            Api::Linode if req.path.ends_with("/profile") => {
                json!({"username": "hostile", "email": "hostile@example.com", "uid": 1}).to_string()
            }
            Api::Vultr if req.path.ends_with("/account") => {
                json!({"account": {"name": "hostile", "email": "hostile@example.com", "balance": 0}}).to_string()
            }
            _ if !paging => self.list.to_string(),
            Api::DigitalOcean => {
                let n = req.page();
                let next = next_page(n, endless);
                let mut v = self.list.clone();
                v["links"] = json!({"pages": {"next": format!("{base}/v2/droplets?page={next}&per_page=200")}});
                // No total: a client that stops once `total` items arrived would stop at once.
                v["meta"] = json!({});
                v.to_string()
            }
            Api::Linode => {
                // The client picks Linode's page numbers, so a cycle is a server that answers
                // "page 1" whatever is asked, with ever more pages to come.
                let page = if endless { req.page() } else { 1 };
                json!({"data": self.list["data"], "page": page, "pages": 1_000_000_000u32, "results": 1_000_000_000u32})
                    .to_string()
            }
            Api::Vultr => {
                let next = next_cursor(req.param("cursor"), endless);
                json!({"instances": self.list["instances"], "meta": {"links": {"next": next, "prev": ""}}}).to_string()
            }
            Api::Hetzner => {
                let n = req.page();
                let mut v = self.list.clone();
                v["meta"] = json!({"pagination": {"page": n, "per_page": 50, "previous_page": null,
                                                  "next_page": next_page(n, endless), "last_page": null, "total_entries": null}});
                v.to_string()
            }
            Api::HostVirtual => self.list.to_string(),
        }
    }

    /// What goes around the filler of [`Fault::HugeBody`], so it starts like an answer.
    fn huge_parts(&self) -> (&'static str, &'static str) {
        if self.api.is_xml() {
            ("<DescribeInstancesResponse><requestId>", "</requestId></DescribeInstancesResponse>")
        } else {
            ("{\"filler\":\"", "\"}")
        }
    }
}

/// The page after `n`: ever forward, or 1 → 2 → 1 → 2.
fn next_page(n: u64, endless: bool) -> u64 {
    if endless || n % 2 == 1 {
        n + 1
    } else {
        n - 1
    }
}

/// The cursor after `current`: a fresh one every time, or A → B → A → B.
fn next_cursor(current: Option<&str>, endless: bool) -> String {
    if endless {
        let k: u64 = current.and_then(|c| c.strip_prefix("hostile-")).and_then(|k| k.parse().ok()).unwrap_or(0);
        format!("hostile-{}", k + 1)
    } else if current == Some("A") {
        "B".into()
    } else {
        "A".into()
    }
}

/// Keeps the first element of a JSON array (a one-machine list).
fn one_item(list: &mut Value) {
    let first = list.as_array().and_then(|a| a.first()).cloned().expect("the fixture lists at least one machine");
    *list = json!([first]);
}

/// DescribeRegions as the EC2 API reference shows it, one region.
const EC2_REGIONS: &str = r#"<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
   <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
   <regionInfo>
      <item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint></item>
   </regionInfo>
</DescribeRegionsResponse>"#;

/// A Hetzner server built from the examples of ../shared/specs/hetzner/hcloud.json (there is
/// no recorded fixture), read once per test binary.
fn hetzner_server() -> Value {
    static SERVER: OnceLock<Value> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let path = crate::shared_dir().join("specs/hetzner/hcloud.json");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{} unreadable: {e}", path.display()));
            let spec: Value = serde_json::from_str(&text).expect("hcloud.json is JSON");
            example(&spec, &json!({"$ref": "#/components/schemas/server"}), 0)
        })
        .clone()
}

/// An example value of an OpenAPI schema: its `example` where it has one, else built from its
/// parts (as Prism does). Deep or cyclic schemas end in `null`.
fn example(spec: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 12 {
        return Value::Null;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = r.strip_prefix('#').and_then(|p| spec.pointer(p)).unwrap_or(&Value::Null);
        return example(spec, target, depth + 1);
    }
    if let Some(e) = schema.get("example") {
        return e.clone();
    }
    if let Some(first) = schema.get("allOf").and_then(|a| a.get(0)) {
        return example(spec, first, depth + 1);
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        return props.iter().map(|(k, s)| (k.clone(), example(spec, s, depth + 1))).collect();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => json!([example(spec, schema.get("items").unwrap_or(&Value::Null), depth + 1)]),
        Some("object") => json!({}),
        _ if schema.get("nullable") == Some(&Value::Bool(true)) => Value::Null,
        Some("string") => json!(""),
        Some("integer") | Some("number") => json!(0),
        Some("boolean") => json!(false),
        _ => Value::Null,
    }
}

/// The hostile server. Dropping it stops accepting; connections in flight end when their
/// client goes away.
pub struct HostileServer {
    pub port: u16,
    fault: Arc<Mutex<Fault>>,
    requests: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HostileServer {
    /// Starts a healthy server imitating `provider` on a free port of 127.0.0.1, inside the
    /// current tokio runtime. Panics for a provider it cannot imitate (see [`Api::of`]).
    pub async fn start(provider: &str) -> HostileServer {
        let api = Api::of(provider).unwrap_or_else(|| {
            panic!("the hostile server cannot imitate '{provider}': add its list page shape to tests/harness/hostile.rs")
        });
        let site = Arc::new(Site::load(api));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let fault = Arc::new(Mutex::new(Fault::Healthy));
        let requests = Arc::new(AtomicU64::new(0));
        let (f, rq) = (fault.clone(), requests.clone());
        let base = format!("http://127.0.0.1:{port}");
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { continue };
                // Else Nagle + delayed ACK hold every small write ~40 ms: a thousand pages
                // would take the client's whole deadline, and a drip would not drip.
                let _ = sock.set_nodelay(true);
                tokio::spawn(serve(sock, site.clone(), f.clone(), rq.clone(), base.clone()));
            }
        });
        HostileServer { port, fault, requests, task }
    }

    /// What the server does with every request from now on (connections already dripping
    /// or hanging keep doing so).
    pub fn set_fault(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }

    pub fn fault(&self) -> Fault {
        self.fault.lock().unwrap().clone()
    }

    /// The endpoint to give the provider: the server's root (every driver adds its own path).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests read so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// Serves one connection: keep-alive for answers with a length, closed after the faults that
/// break the connection.
async fn serve(mut sock: TcpStream, site: Arc<Site>, fault: Arc<Mutex<Fault>>, requests: Arc<AtomicU64>, base: String) {
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut sock, &mut buf).await else { return };
        requests.fetch_add(1, Ordering::Relaxed);
        let fault = fault.lock().unwrap().clone();
        let ct = site.api.content_type();
        let sent = match &fault {
            Fault::Healthy | Fault::EndlessPages | Fault::CyclingPages => {
                respond(&mut sock, 200, ct, &[], site.answer(&req, &fault, &base).as_bytes()).await
            }
            Fault::Status(status) => respond(&mut sock, *status, "application/json", &[], &error_body(*status)).await,
            Fault::TooManyRequests(wait) => {
                respond(&mut sock, 429, "application/json", &[("Retry-After", wait)], &error_body(429)).await
            }
            Fault::DeepJson => {
                let body = [vec![b'['; NESTING], vec![b']'; NESTING]].concat();
                respond(&mut sock, 200, "application/json", &[], &body).await
            }
            Fault::DeepXml => {
                let body = format!(
                    "<DescribeInstancesResponse>{}{}</DescribeInstancesResponse>",
                    "<item>".repeat(NESTING),
                    "</item>".repeat(NESTING)
                );
                respond(&mut sock, 200, "text/xml", &[], body.as_bytes()).await
            }
            Fault::NeverAnswer => {
                // Hold the connection open, silent, until the client gives up.
                let mut sink = [0u8; 1024];
                while matches!(sock.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
            Fault::Drip => {
                let body = site.answer(&req, &Fault::Healthy, &base);
                if sock.write_all(head(200, ct, body.len() as u64, &[]).as_bytes()).await.is_err() {
                    return;
                }
                for b in body.bytes() {
                    if sock.write_all(&[b]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                return;
            }
            Fault::Reset => {
                // SO_LINGER 0: close() sends RST instead of FIN (and does not block).
                let _ = sock.set_zero_linger();
                return;
            }
            Fault::Garbage => {
                let mut junk = b"\x16\x03\x01\x00\xa5 SKYDECK-HOSTILE this is not HTTP \xff\xfe\x00\r\n\r\n".to_vec();
                junk.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
                let _ = sock.write_all(&junk).await;
                let _ = sock.shutdown().await;
                return;
            }
            Fault::Truncated => {
                let body = site.answer(&req, &Fault::Healthy, &base);
                let half = &body.as_bytes()[..body.len() / 2];
                let _ = sock.write_all(head(200, ct, body.len() as u64 + 4096, &[]).as_bytes()).await;
                let _ = sock.write_all(half).await;
                let _ = sock.shutdown().await;
                return;
            }
            Fault::HugeBody => {
                let (prefix, suffix) = site.huge_parts();
                let _ = stream_huge(&mut sock, ct, prefix, suffix).await;
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Streams a [`HUGE_BODY`]-byte answer in 64 KiB pieces (constant memory), stopping when the
/// client stops reading.
async fn stream_huge(sock: &mut TcpStream, ct: &str, prefix: &str, suffix: &str) -> std::io::Result<()> {
    sock.write_all(head(200, ct, HUGE_BODY, &[]).as_bytes()).await?;
    sock.write_all(prefix.as_bytes()).await?;
    let filler = vec![b'x'; 64 * 1024];
    let mut left = HUGE_BODY - (prefix.len() + suffix.len()) as u64;
    while left > 0 {
        let n = left.min(filler.len() as u64) as usize;
        sock.write_all(&filler[..n]).await?;
        left -= n as u64;
    }
    sock.write_all(suffix.as_bytes()).await
}

/// An error body every provider's error parser reads without trouble (DigitalOcean's `id`/
/// `message`, Hetzner's and HostVirtual's `error` object); EC2 falls back to the status.
fn error_body(status: u16) -> Vec<u8> {
    let msg = format!("hostile server: HTTP {status}");
    json!({"id": "hostile", "message": msg, "error": {"code": "hostile", "message": msg}}).to_string().into_bytes()
}

fn head(status: u16, content_type: &str, len: u64, extra: &[(&str, &str)]) -> String {
    let mut h = format!("HTTP/1.1 {status} Hostile\r\ncontent-type: {content_type}\r\ncontent-length: {len}\r\n");
    for (k, v) in extra {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    h
}

async fn respond(sock: &mut TcpStream, status: u16, ct: &str, extra: &[(&str, &str)], body: &[u8]) -> std::io::Result<()> {
    // One write for head and body: one segment for a small answer.
    let mut all = head(status, ct, body.len() as u64, extra).into_bytes();
    all.extend_from_slice(body);
    sock.write_all(&all).await
}

/// Reads one request (head and Content-Length body); `None` when the client closed.
async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body: Vec<u8> = buf.drain(..head_end + len).skip(head_end).collect();
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    // EC2's Query API sends its parameters as a form body.
    params.extend(url::form_urlencoded::parse(&body).into_owned());
    Some(Request { path: path.to_string(), params })
}
