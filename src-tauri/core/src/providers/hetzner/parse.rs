//! Hetzner Cloud API JSON → Skydeck's model. Pure functions (no I/O), public so tests can
//! feed them recorded answers.
//!
//! Every list answer is `{"<items>": [...], "meta": {"pagination": {"page", "next_page",
//! "last_page", "total_entries"}}}`; `next_page` is null on the last page.

use crate::error::{Error, Result};
use crate::model::{Image, Location, Machine, Size, Tags};
use crate::providers::rest;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// One page of a list answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page: Option<u64>,
}

#[derive(Deserialize, Default)]
struct Meta {
    pagination: Option<Pagination>,
}

#[derive(Deserialize, Default)]
struct Pagination {
    next_page: Option<u64>,
}

pub(crate) fn unreadable(e: &dyn std::fmt::Display) -> Error {
    rest::unreadable(super::TITLE, e)
}

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
    Ok(Page { items, next_page: meta.pagination.and_then(|p| p.next_page) })
}

fn map_page<T: DeserializeOwned, U>(json: &str, key: &str, f: impl Fn(T) -> Option<U>) -> Result<Page<U>> {
    let p: Page<T> = page(json, key)?;
    Ok(Page { items: p.items.into_iter().filter_map(f).collect(), next_page: p.next_page })
}

#[derive(Deserialize)]
struct Server {
    id: u64,
    name: String,
    status: String,
    created: Option<String>,
    public_net: Option<PublicNet>,
    #[serde(default)]
    private_net: Vec<Ip>,
    server_type: Option<ServerType>,
    datacenter: Option<Datacenter>,
    location: Option<Named>,
    image: Option<HImage>,
    #[serde(default)]
    labels: Tags,
    locked: Option<bool>,
    rescue_enabled: Option<bool>,
    primary_disk_size: Option<u64>,
}

#[derive(Deserialize)]
struct PublicNet {
    ipv4: Option<Ip>,
    ipv6: Option<Ip>,
}

#[derive(Deserialize)]
struct Ip {
    ip: String,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Datacenter {
    name: Option<String>,
    location: Option<Named>,
}

/// One page of `GET /servers`. The machines are not yet `finish`ed.
pub fn parse_servers(json: &str) -> Result<Page<Machine>> {
    map_page(json, "servers", |s: Server| Some(machine(s)))
}

/// `{"server": {...}, ...}`: the answer of create (beside `action` and `root_password`, which
/// is never kept), get and update.
pub fn parse_server(json: &str) -> Result<Machine> {
    #[derive(Deserialize)]
    struct One {
        server: Server,
    }
    serde_json::from_str::<One>(json).map(|o| machine(o.server)).map_err(|e| unreadable(&e))
}

fn machine(s: Server) -> Machine {
    let mut m = Machine::new(s.id.to_string(), s.name, s.status);
    if let Some(net) = s.public_net {
        m.public_ips.extend(net.ipv4.map(|i| i.ip));
        // Hetzner assigns a whole /64; the network goes to `extra`, not the address list.
        if let Some(v6) = net.ipv6 {
            m.extra.insert("ipv6_network".into(), v6.ip);
        }
    }
    m.private_ips = s.private_net.into_iter().map(|i| i.ip).collect();
    m.tags = s.labels;
    m.created_at = s.created.as_deref().map(rest::rfc3339_utc);
    let dc_location = s.datacenter.as_ref().and_then(|d| d.location.as_ref()).map(|l| l.name.clone());
    m.location = s.location.map(|l| l.name).or(dc_location).unwrap_or_default();
    let mut extra = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            m.extra.insert(k.to_string(), v);
        }
    };
    extra("datacenter", s.datacenter.and_then(|d| d.name));
    extra("locked", s.locked.map(|v| v.to_string()));
    extra("rescue_enabled", s.rescue_enabled.map(|v| v.to_string()));
    extra("disk_gb", s.primary_disk_size.map(|v| v.to_string()));
    if let Some(t) = &s.server_type {
        extra("vcpus", t.cores.map(|v| v.to_string()));
        extra("memory_mb", t.memory.map(|v| gb_to_mb(v).to_string()));
    }
    if let Some(i) = &s.image {
        extra("image_id", Some(i.id.to_string()));
        extra("image_name", i.name.clone());
    }
    m.size = s.server_type.map(|t| t.name).unwrap_or_default();
    m.image = s.image.map(|i| i.display()).unwrap_or_default();
    m
}

fn gb_to_mb(gb: f64) -> u64 {
    (gb * 1024.0).round() as u64
}

#[derive(Deserialize)]
struct HImage {
    id: u64,
    name: Option<String>,
    description: Option<String>,
    os_flavor: Option<String>,
    os_version: Option<String>,
    architecture: Option<String>,
}

impl HImage {
    /// "Ubuntu 24.04 Standard 64 bit", else the name, else the id.
    fn display(&self) -> String {
        [&self.description, &self.name]
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| self.id.to_string())
    }
}

/// One page of `GET /images`. The id is the image name where there is one (system images:
/// `ubuntu-24.04`, stable across Hetzner's rebuilds of the image), else the numeric id;
/// `POST /servers` takes either.
pub fn parse_images(json: &str) -> Result<Page<Image>> {
    map_page(json, "images", |i: HImage| {
        Some(Image {
            id: i.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| i.id.to_string()),
            name: i.display(),
            distribution: i.os_flavor,
            version: i.os_version,
            arch: i.architecture,
            locations: Vec::new(),
        })
    })
}

#[derive(Deserialize)]
struct HLocation {
    name: String,
    city: Option<String>,
    description: Option<String>,
    country: Option<String>,
}

/// One page of `GET /locations`; the id is the location name (`fsn1`), as `POST /servers`
/// takes it.
pub fn parse_locations(json: &str) -> Result<Page<Location>> {
    map_page(json, "locations", |l: HLocation| {
        Some(Location {
            name: [l.city, l.description]
                .into_iter()
                .flatten()
                .find(|s| !s.is_empty())
                .unwrap_or_else(|| l.name.clone()),
            country: l.country,
            available: true,
            id: l.name,
        })
    })
}

#[derive(Deserialize)]
struct ServerType {
    name: String,
    cores: Option<u32>,
    /// GB, may be fractional.
    memory: Option<f64>,
    disk: Option<u64>,
    architecture: Option<String>,
    deprecated: Option<bool>,
    #[serde(default)]
    prices: Vec<LocationPrice>,
}

#[derive(Deserialize)]
struct LocationPrice {
    location: String,
    price_hourly: Option<Amount>,
    price_monthly: Option<Amount>,
}

/// Hetzner writes prices as decimal strings, net (without VAT) and gross.
#[derive(Deserialize)]
struct Amount {
    net: String,
}

impl Amount {
    fn value(&self) -> Option<f64> {
        self.net.trim().parse().ok()
    }
}

/// One page of `GET /server_types`. Prices are per location; a size shows the lowest net price
/// (without VAT) and the locations that have one. Deprecated types are left out: they can no
/// longer be created.
pub fn parse_server_types(json: &str) -> Result<Page<Size>> {
    map_page(json, "server_types", |t: ServerType| {
        if t.deprecated == Some(true) {
            return None;
        }
        let min = |f: fn(&LocationPrice) -> Option<f64>| t.prices.iter().filter_map(f).reduce(f64::min);
        let hourly = min(|p| p.price_hourly.as_ref().and_then(Amount::value));
        let monthly = min(|p| p.price_monthly.as_ref().and_then(Amount::value));
        let ram_mb = t.memory.map(gb_to_mb);
        let mut desc = vec![];
        desc.extend(t.cores.map(|c| format!("{c} vCPU")));
        desc.extend(t.memory.map(|m| format!("{m} GB RAM")));
        desc.extend(t.disk.map(|d| format!("{d} GB disk")));
        desc.extend(t.architecture.clone());
        Some(Size {
            name: if desc.is_empty() { t.name.clone() } else { format!("{} ({})", t.name, desc.join(", ")) },
            id: t.name,
            vcpus: t.cores,
            ram_mb,
            disk_gb: t.disk,
            price_hourly: hourly,
            price_monthly: monthly,
            locations: t.prices.into_iter().map(|p| p.location).collect(),
        })
    })
}

/// A registered SSH key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SshKey {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub fingerprint: String,
    #[serde(default)]
    pub public_key: String,
}

/// One page of `GET /ssh_keys`.
pub fn parse_ssh_keys(json: &str) -> Result<Page<SshKey>> {
    page(json, "ssh_keys")
}

/// `{"ssh_key": {...}}`: the answer of `POST /ssh_keys`.
pub fn parse_ssh_key(json: &str) -> Result<SshKey> {
    #[derive(Deserialize)]
    struct One {
        ssh_key: SshKey,
    }
    serde_json::from_str::<One>(json).map(|o| o.ssh_key).map_err(|e| unreadable(&e))
}

/// Hetzner's error: `{"error": {"code": "...", "message": "...", "details": {"fields":
/// [{"name": "..."}]}}}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiError {
    pub code: Option<String>,
    pub message: String,
    /// The request fields the error names (`details.fields[].name`).
    pub fields: Vec<String>,
}

pub fn parse_error(body: &str) -> ApiError {
    #[derive(Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        code: Option<String>,
        message: Option<String>,
        /// Its shape depends on the code; only `fields[].name` is read.
        details: Option<serde_json::Value>,
    }
    match serde_json::from_str::<Body>(body) {
        Ok(Body { error }) => ApiError {
            code: error.code.filter(|c| !c.is_empty()),
            message: error.message.unwrap_or_default(),
            fields: error
                .details
                .as_ref()
                .and_then(|d| d.get("fields"))
                .and_then(|f| f.as_array())
                .map(|a| a.iter().filter_map(|f| f.get("name")?.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
        },
        Err(_) => ApiError { code: None, message: rest::excerpt(body), fields: Vec::new() },
    }
}
