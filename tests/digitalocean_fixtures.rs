//! The DigitalOcean parsers and driver against libcloud's recorded API responses
//! (../shared/fixtures/libcloud/digitalocean_v2, see INDEX.md there). Parsers are fed the files
//! directly; the driver talks to a small replay server on 127.0.0.1 that serves them the way
//! libcloud's own mock does, so pagination and request bodies are checked too.

use serde_json::json;
use skydeck_core::model::{Action, MachineState};
use skydeck_core::provider::{Connection, Provider};
use skydeck_core::providers::digitalocean::{self, parse, SPEC};
use skydeck_core::secrets::Sensitive;
use skydeck_tests::fixture;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

fn fx(file: &str) -> String {
    fixture("digitalocean_v2", file)
}

#[test]
fn parses_a_single_page_of_droplets() {
    let (machines, next) = parse::parse_droplets(&fx("list_nodes.json")).unwrap();
    assert_eq!(next, None);
    assert_eq!(machines.len(), 1);
    let m = &machines[0];
    assert_eq!(
        (m.id.as_str(), m.name.as_str(), m.raw_state.as_str()),
        ("3164444", "ubuntu-s-1vcpu-1gb-sfo3-01", "active")
    );
    assert_eq!(m.public_ips, ["128.199.13.158", "2604:a880:4:1d0::142:9000"]);
    assert_eq!(m.private_ips, ["10.124.0.2"]);
    assert_eq!((m.location.as_str(), m.size.as_str()), ("sfo3", "s-1vcpu-1gb"));
    assert_eq!(m.image, "Ubuntu 20.04 (LTS) x64");
    assert_eq!(m.created_at.as_deref(), Some("2020-10-15T13:58:22Z"));
    assert!(m.tags.is_empty());
    assert_eq!(m.extra["region_name"], "San Francisco 3");
    assert_eq!(m.extra["image_slug"], "ubuntu-20-04-x64");
    assert_eq!(m.extra["price_monthly"], "5");
    assert_eq!(m.extra["vpc_uuid"], "11e7ec07-6abf-4a06-86fd-3eedb53d7458");
    assert_eq!(SPEC.normalize(&m.raw_state), MachineState::Running);
}

#[test]
fn parses_pages_and_tags() {
    let page = parse::parse_droplets_page(&fx("list_nodes_page_1.json")).unwrap();
    assert_eq!((page.next_page, page.total), (Some(2), Some(2)));
    let m = &page.items[0];
    assert_eq!((m.id.as_str(), m.name.as_str(), m.size.as_str()), ("3164444", "example.com", "512mb"));
    assert_eq!(m.image, "Ubuntu 14.04 x64");
    assert_eq!(m.public_ips, ["104.236.32.182", "2604:A880:0800:0010:0000:0000:02DD:4001"]);
    assert!(m.private_ips.is_empty());
    let want: BTreeMap<String, String> =
        [("environment", "prod"), ("database", "")].map(|(k, v)| (k.into(), v.into())).into();
    assert_eq!(m.tags, want);
    assert_eq!(m.extra["tags_raw"], "environment:prod,database");

    let (empty, next) = parse::parse_droplets(&fx("list_nodes_empty.json")).unwrap();
    assert_eq!((empty.len(), next), (0, None));
    // A single-droplet answer is not a list: reported as unreadable, not as zero machines.
    let err = parse::parse_droplets(&fx("list_node.json")).unwrap_err();
    assert_eq!(err.code(), "provider_error");
    assert!(err.to_string().contains("droplets"), "{err}");
}

#[test]
fn parses_the_catalog() {
    let regions = parse::parse_regions(&fx("list_locations.json")).unwrap().items;
    let r: Vec<_> =
        regions.iter().map(|l| (l.id.as_str(), l.name.as_str(), l.available, l.country.as_deref())).collect();
    assert_eq!(
        r,
        [
            ("nyc1", "New York 1", true, Some("US")),
            ("sfo1", "San Francisco 1", true, Some("US")),
            ("ams1", "Amsterdam 1", false, Some("NL"))
        ]
    );

    let sizes = parse::parse_sizes(&fx("list_sizes.json")).unwrap().items;
    assert_eq!(sizes.len(), 2);
    let s = &sizes[1];
    assert_eq!((s.id.as_str(), s.vcpus, s.ram_mb, s.disk_gb), ("1gb", Some(2), Some(1024), Some(30)));
    assert_eq!((s.price_monthly, s.price_hourly), (Some(10.0), Some(0.01488)));
    assert_eq!(s.locations, ["nyc1", "ams1", "sfo1"]);

    let images = parse::parse_images(&fx("list_images.json")).unwrap().items;
    let i: Vec<_> = images.iter().map(|i| (i.id.as_str(), i.name.as_str())).collect();
    // The snapshot has an empty slug, so its numeric id is its id.
    assert_eq!(
        i,
        [
            ("ubuntu-14-04-x64", "Ubuntu 14.04 x64"),
            ("ubuntu-14-04-x32", "Ubuntu 14.04 x32"),
            ("449676856", "Ubuntu My Snapshot")
        ]
    );
    assert_eq!(images[2].locations, ["nyc1", "nyc3"]);
}

#[test]
fn maps_error_bodies() {
    assert_eq!(parse::parse_error(&fx("error.json")), (None, "Unable to authenticate you.".to_string()));
    let err = digitalocean::error_from_response(401, &fx("error.json"), None);
    assert_eq!(err.code(), "unauthenticated");
    assert!(err.to_string().contains("create a new one"), "{err}");

    match digitalocean::error_from_response(422, &fx("error_invalid_image.json"), None) {
        skydeck_core::Error::Provider { status, code, message, .. } => {
            assert_eq!((status, code.as_deref()), (422, Some("unprocessable_entity")));
            assert_eq!(message, "You specified an invalid image for Droplet creation.");
        }
        other => panic!("expected a provider error, got {other:?}"),
    }
}

/// One request the replay server received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    auth: String,
    body: String,
}

/// Serves libcloud's fixtures like `DigitalOceanMockHttp`: the droplet list is the two-page
/// fixture (page 2 gets the same body, as in libcloud), actions are chosen by the body's
/// `type`, and a token other than the right one gets `error.json` with 401.
fn replay_server() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut parts = line.split_whitespace();
            let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
            let (mut auth, mut len) = (String::new(), 0usize);
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                match k.to_ascii_lowercase().as_str() {
                    "authorization" => auth = v.trim().to_string(),
                    "content-length" => len = v.trim().parse().unwrap(),
                    _ => {}
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let req = Seen { method, target, auth, body: String::from_utf8(body).unwrap() };
            let (status, reply) = route(&req);
            log.lock().unwrap().push(req);
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                reply.len()
            );
            stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(reply.as_bytes())).unwrap();
        }
    });
    (url, seen)
}

fn route(req: &Seen) -> (u16, String) {
    if req.auth != "Bearer good-token-123" {
        return (401, fx("error.json"));
    }
    let path = req.target.split('?').next().unwrap();
    let body_type =
        serde_json::from_str::<serde_json::Value>(&req.body).ok().and_then(|v| v["type"].as_str().map(str::to_string));
    match (req.method.as_str(), path, body_type.as_deref()) {
        ("GET", "/v2/droplets", _) => (200, fx("list_nodes_page_1.json")),
        ("POST", "/v2/droplets/3164444/actions", Some(t)) => match t {
            "power_on" => (201, fx("ex_power_on_node.json")),
            "shutdown" => (201, fx("ex_shutdown_node.json")),
            "reboot" => (201, fx("reboot_node.json")),
            "rename" => (201, fx("ex_rename_node.json")),
            _ => (422, fx("error_invalid_image.json")),
        },
        ("DELETE", "/v2/droplets/3164444", _) => (204, String::new()),
        _ => (404, r#"{"id":"not_found","message":"The resource you were accessing could not be found."}"#.into()),
    }
}

fn driver(url: &str, token: &str) -> Box<dyn Provider> {
    let fields = BTreeMap::from([("endpoint".to_string(), url.to_string())]);
    let secrets = BTreeMap::from([("token".to_string(), Sensitive::new(token.to_string()))]);
    let http = skydeck_core::http::HttpClient::new().unwrap();
    (SPEC.connect)(Connection { cloud_id: "fx".into(), fields, secrets, http }).unwrap()
}

#[tokio::test]
async fn follows_pages_on_the_configured_endpoint_and_sends_the_right_actions() {
    let (url, seen) = replay_server();
    let do_ = driver(&url, "good-token-123");

    let machines = do_.list_machines().await.unwrap();
    let targets: Vec<_> = seen.lock().unwrap().iter().map(|s| s.target.clone()).collect();
    // `next` says https://api.digitalocean.com/v2/droplets?page=2: only its page number is used.
    assert_eq!(targets, ["/v2/droplets?per_page=200&page=1", "/v2/droplets?per_page=200&page=2"]);
    // Both pages carry droplet 3164444: it is one machine.
    assert_eq!(machines.len(), 1);
    assert_eq!(machines[0].name, "example.com");
    seen.lock().unwrap().clear();

    let m = &machines[0];
    for a in [Action::Start, Action::Stop, Action::Reboot, Action::Destroy] {
        do_.machine_action(m, a).await.unwrap();
    }
    do_.rename(m, "web-2").await.unwrap();
    let sent: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| {
            (format!("{} {}", s.method, s.target), serde_json::from_str(&s.body).unwrap_or(serde_json::Value::Null))
        })
        .collect();
    let action = "POST /v2/droplets/3164444/actions".to_string();
    let want = [
        (action.clone(), json!({"type": "power_on"})),
        (action.clone(), json!({"type": "shutdown"})),
        (action.clone(), json!({"type": "reboot"})),
        ("DELETE /v2/droplets/3164444".to_string(), serde_json::Value::Null),
        (action, json!({"type": "rename", "name": "web-2"})),
    ];
    assert_eq!(sent, want);
}

#[tokio::test]
async fn a_rejected_token_is_unauthenticated_and_not_echoed() {
    let (url, _seen) = replay_server();
    let err = driver(&url, "wrong-token-456").list_machines().await.unwrap_err();
    assert_eq!(err.code(), "unauthenticated");
    let msg = err.to_string();
    assert!(msg.contains("Unable to authenticate you.") && !msg.contains("wrong-token-456"), "{msg}");
}
