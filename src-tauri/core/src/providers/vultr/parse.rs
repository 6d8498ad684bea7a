//! Vultr API v2 JSON → Skydeck's model. Pure functions (no I/O), public so the fixture tests
//! can feed them libcloud's recorded responses.
//!
//! Every list answer is `{"<items>": [...], "meta": {"total": N, "links": {"next": CURSOR}}}`;
//! the next page is asked for with `cursor=CURSOR`, and an empty `next` ends the list.

use crate::error::{Error, Result};
use crate::model::{Image, Location, Machine, Size};
use crate::providers::{flat_tags, rest};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// One page of a list answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last one.
    pub next: Option<String>,
    /// `meta.total`: the number of items over all pages.
    pub total: Option<u64>,
}

#[derive(Deserialize, Default)]
struct Meta {
    total: Option<u64>,
    links: Option<Links>,
}

#[derive(Deserialize, Default)]
struct Links {
    next: Option<String>,
}

pub(crate) fn unreadable(e: &dyn std::fmt::Display) -> Error {
    rest::unreadable(super::TITLE, e)
}

/// Reads a page whose items are under `key`.
fn page<T: DeserializeOwned>(json: &str, key: &str) -> Result<Page<T>> {
    let mut body: serde_json::Value = serde_json::from_str(json).map_err(|e| unreadable(&e))?;
    let items = body
        .get_mut(key)
        .map(serde_json::Value::take)
        .ok_or_else(|| unreadable(&format!("the answer has no '{key}' list")))?;
    let items: Vec<T> = serde_json::from_value(items).map_err(|e| unreadable(&format!("{key}: {e}")))?;
    let meta: Meta = body
        .get_mut("meta")
        .map(serde_json::Value::take)
        .and_then(|m| serde_json::from_value(m).ok())
        .unwrap_or_default();
    let next = meta.links.and_then(|l| l.next).filter(|n| !n.is_empty());
    Ok(Page { items, next, total: meta.total })
}

fn map_page<T: DeserializeOwned, U>(json: &str, key: &str, f: impl Fn(T) -> Option<U>) -> Result<Page<U>> {
    let p: Page<T> = page(json, key)?;
    Ok(Page { items: p.items.into_iter().filter_map(f).collect(), next: p.next, total: p.total })
}

#[derive(Deserialize)]
struct Instance {
    id: String,
    #[serde(default)]
    label: String,
    status: String,
    power_status: Option<String>,
    server_status: Option<String>,
    os: Option<String>,
    os_id: Option<i64>,
    app_id: Option<i64>,
    image_id: Option<String>,
    ram: Option<u64>,
    disk: Option<u64>,
    vcpu_count: Option<u32>,
    region: Option<String>,
    plan: Option<String>,
    date_created: Option<String>,
    main_ip: Option<String>,
    v6_main_ip: Option<String>,
    internal_ip: Option<String>,
    hostname: Option<String>,
    tags: Option<Vec<String>>,
    /// The deprecated single tag, still sent by older accounts.
    tag: Option<String>,
    #[serde(default)]
    features: Vec<String>,
}

/// The raw state Skydeck keeps for an instance. Vultr reports a stopped VM as `status: active`
/// with `power_status: stopped`, so an active instance's raw state is its power status
/// (`running`/`stopped`), or `installingbooting` while a new one's OS is still being set up
/// (`server_status`); any other status (`pending`, `suspended`, `resizing`) is kept as is.
pub fn raw_state(status: &str, power_status: Option<&str>, server_status: Option<&str>) -> String {
    match (status, power_status.filter(|p| !p.is_empty()), server_status) {
        ("active", Some("running"), Some("installingbooting")) => "installingbooting".to_string(),
        ("active", Some(p), _) => p.to_string(),
        (s, _, _) => s.to_string(),
    }
}

/// One page of `GET /v2/instances`. The machines are not yet `finish`ed.
pub fn parse_instances(json: &str) -> Result<Page<Machine>> {
    map_page(json, "instances", |i: Instance| Some(machine(i)))
}

/// `{"instance": {...}}`: the answer of create, get and update.
pub fn parse_instance(json: &str) -> Result<Machine> {
    #[derive(Deserialize)]
    struct One {
        instance: Instance,
    }
    serde_json::from_str::<One>(json).map(|o| machine(o.instance)).map_err(|e| unreadable(&e))
}

/// A real address: Vultr writes `0.0.0.0` / "" until one is assigned.
fn address(ip: Option<String>) -> Option<String> {
    ip.filter(|ip| !ip.is_empty() && ip != "0.0.0.0" && ip != "::")
}

fn machine(i: Instance) -> Machine {
    let raw = raw_state(&i.status, i.power_status.as_deref(), i.server_status.as_deref());
    let mut m = Machine::new(i.id, i.label, raw);
    m.public_ips = [address(i.main_ip), address(i.v6_main_ip)].into_iter().flatten().collect();
    m.private_ips = address(i.internal_ip).into_iter().collect();
    let tags = match (i.tags, i.tag) {
        (Some(t), _) if !t.is_empty() => t,
        (_, Some(t)) if !t.is_empty() => vec![t],
        _ => Vec::new(),
    };
    m.tags = flat_tags::from_flat(&tags);
    m.created_at = i.date_created.as_deref().map(rest::rfc3339_utc);
    m.location = i.region.unwrap_or_default();
    m.size = i.plan.unwrap_or_default();
    m.image = i.os.unwrap_or_default();
    let mut extra = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty() && v != "0") {
            m.extra.insert(k.to_string(), v);
        }
    };
    extra("status", Some(i.status));
    extra("power_status", i.power_status);
    extra("server_status", i.server_status);
    extra("os_id", i.os_id.map(|v| v.to_string()));
    extra("app_id", i.app_id.map(|v| v.to_string()));
    extra("image_id", i.image_id);
    extra("vcpus", i.vcpu_count.map(|v| v.to_string()));
    extra("memory_mb", i.ram.map(|v| v.to_string()));
    extra("disk_gb", i.disk.map(|v| v.to_string()));
    extra("hostname", i.hostname);
    extra("features", Some(i.features.join(",")));
    m
}

#[derive(Deserialize)]
struct Region {
    id: String,
    city: Option<String>,
    country: Option<String>,
}

/// One page of `GET /v2/regions`.
pub fn parse_regions(json: &str) -> Result<Page<Location>> {
    map_page(json, "regions", |r: Region| {
        Some(Location {
            name: r.city.filter(|c| !c.is_empty()).unwrap_or_else(|| r.id.clone()),
            country: r.country.filter(|c| !c.is_empty()),
            available: true,
            id: r.id,
        })
    })
}

#[derive(Deserialize)]
struct Plan {
    id: String,
    vcpu_count: Option<u32>,
    ram: Option<u64>,
    disk: Option<u64>,
    disk_count: Option<u32>,
    monthly_cost: Option<f64>,
    hourly_cost: Option<f64>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    locations: Vec<String>,
}

/// One page of `GET /v2/plans`. A plan offered in no location cannot be created, so it is
/// left out of the wizard's choices.
pub fn parse_plans(json: &str) -> Result<Page<Size>> {
    map_page(json, "plans", |p: Plan| {
        if p.locations.is_empty() {
            return None;
        }
        let disks = match p.disk_count {
            Some(n) if n > 1 => format!("{n}×{} GB", p.disk.unwrap_or_default()),
            _ => format!("{} GB", p.disk.unwrap_or_default()),
        };
        Some(Size {
            name: format!(
                "{} ({} vCPU, {} MB, {disks}{})",
                p.id,
                p.vcpu_count.unwrap_or_default(),
                p.ram.unwrap_or_default(),
                p.kind.map(|k| format!(", {k}")).unwrap_or_default()
            ),
            id: p.id,
            vcpus: p.vcpu_count,
            ram_mb: p.ram,
            disk_gb: p.disk.map(|d| d * u64::from(p.disk_count.unwrap_or(1).max(1))),
            price_hourly: p.hourly_cost,
            price_monthly: p.monthly_cost,
            locations: p.locations,
        })
    })
}

#[derive(Deserialize)]
struct Os {
    id: i64,
    name: String,
    arch: Option<String>,
    family: Option<String>,
}

/// Families in `/v2/os` that are placeholders for other sources (an ISO, a snapshot, a backup,
/// a marketplace app), not operating systems one can install by id alone.
const NOT_AN_OS: &[&str] = &["iso", "snapshot", "backup", "application"];

/// One page of `GET /v2/os`.
pub fn parse_os(json: &str) -> Result<Page<Image>> {
    map_page(json, "os", |o: Os| {
        if o.family.as_deref().is_some_and(|f| NOT_AN_OS.contains(&f)) {
            return None;
        }
        Some(Image {
            id: o.id.to_string(),
            name: o.name,
            distribution: o.family,
            version: None,
            arch: o.arch,
            locations: Vec::new(),
        })
    })
}

/// A registered SSH key: (id, name, public key line).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SshKey {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub ssh_key: String,
}

/// One page of `GET /v2/ssh-keys`.
pub fn parse_ssh_keys(json: &str) -> Result<Page<SshKey>> {
    page(json, "ssh_keys")
}

/// `{"ssh_key": {...}}`: the answer of `POST /v2/ssh-keys`.
pub fn parse_ssh_key(json: &str) -> Result<SshKey> {
    #[derive(Deserialize)]
    struct One {
        ssh_key: SshKey,
    }
    serde_json::from_str::<One>(json).map(|o| o.ssh_key).map_err(|e| unreadable(&e))
}

/// Vultr's error body `{"error": "...", "status": N}` → the message (or a short excerpt of a
/// body that is not JSON).
pub fn parse_error(body: &str) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: Option<String>,
    }
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody { error: Some(e) }) => e,
        _ => rest::excerpt(body),
    }
}
