//! Linode API v4 JSON → Skydeck's model. Pure functions (no I/O), public so the fixture tests
//! can feed them libcloud's recorded responses.
//!
//! Every list answer is `{"data": [...], "page": N, "pages": M, "results": K}`. Timestamps
//! have no time zone (`2018-01-01T00:01:01`, UTC): they come out as RFC 3339.

use crate::error::{Error, Result};
use crate::model::{Image, Location, Machine, Size};
use crate::providers::{flat_tags, rest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::net::Ipv4Addr;

/// One page of a list answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    /// How many pages there are in all (1 when the answer does not say).
    pub pages: u32,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: Vec<T>,
    page: Option<u32>,
    pages: Option<u32>,
}

pub(crate) fn unreadable(e: &dyn std::fmt::Display) -> Error {
    rest::unreadable(super::TITLE, e)
}

fn page<T: DeserializeOwned>(json: &str) -> Result<Page<T>> {
    let env: Envelope<T> = serde_json::from_str(json).map_err(|e| unreadable(&e))?;
    let page = env.page.unwrap_or(1);
    Ok(Page { items: env.data, page, pages: env.pages.unwrap_or(page) })
}

fn map_page<T: DeserializeOwned, U>(json: &str, f: impl Fn(T) -> Option<U>) -> Result<Page<U>> {
    let p: Page<T> = page(json)?;
    Ok(Page { items: p.items.into_iter().filter_map(f).collect(), page: p.page, pages: p.pages })
}

#[derive(Deserialize)]
struct Instance {
    id: u64,
    label: String,
    status: String,
    region: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    image: Option<String>,
    #[serde(default)]
    ipv4: Vec<String>,
    ipv6: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    created: Option<String>,
    specs: Option<Specs>,
    hypervisor: Option<String>,
    watchdog_enabled: Option<bool>,
}

#[derive(Deserialize)]
struct Specs {
    disk: Option<u64>,
    memory: Option<u64>,
    vcpus: Option<u32>,
    transfer: Option<u64>,
}

/// One page of `GET /v4/linode/instances`. The machines are not yet `finish`ed (no cloud id,
/// normalized state or actions): the driver's caller does that with the provider spec.
pub fn parse_instances(json: &str) -> Result<Page<Machine>> {
    map_page(json, |i: Instance| Some(machine(i)))
}

/// One instance object (the answer of create, get and update).
pub fn parse_instance(json: &str) -> Result<Machine> {
    serde_json::from_str::<Instance>(json).map(machine).map_err(|e| unreadable(&e))
}

fn machine(i: Instance) -> Machine {
    let mut m = Machine::new(i.id.to_string(), i.label, i.status);
    // Linode lists public and private (192.168.128.0/17) IPv4 addresses in one array.
    for ip in i.ipv4 {
        match ip.parse::<Ipv4Addr>() {
            Ok(a) if a.is_private() => m.private_ips.push(ip),
            _ => m.public_ips.push(ip),
        }
    }
    // `ipv6` is the SLAAC address with its prefix length (`2a01:7e00::f03c:…/64`).
    if let Some(v6) = i.ipv6.as_deref().map(|s| s.split('/').next().unwrap_or(s)).filter(|s| !s.is_empty()) {
        m.public_ips.push(v6.to_string());
    }
    m.tags = flat_tags::from_flat(&i.tags);
    m.created_at = i.created.as_deref().map(rest::rfc3339_utc);
    m.location = i.region.unwrap_or_default();
    m.size = i.kind.unwrap_or_default();
    m.image = i.image.unwrap_or_default();
    let mut extra = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            m.extra.insert(k.to_string(), v);
        }
    };
    if let Some(s) = i.specs {
        extra("vcpus", s.vcpus.map(|v| v.to_string()));
        extra("memory_mb", s.memory.map(|v| v.to_string()));
        // Linode counts disk and transfer in MB and GB respectively.
        extra("disk_gb", s.disk.map(|v| (v / 1024).to_string()));
        extra("transfer_gb", s.transfer.map(|v| v.to_string()));
    }
    extra("hypervisor", i.hypervisor);
    extra("watchdog_enabled", i.watchdog_enabled.map(|v| v.to_string()));
    m
}

#[derive(Deserialize)]
struct Region {
    id: String,
    label: Option<String>,
    country: Option<String>,
    status: Option<String>,
    #[serde(default)]
    capabilities: Vec<String>,
}

/// One page of `GET /v4/regions`. A region is available for new Linodes when its status is
/// `ok` and it lists the `Linodes` capability.
pub fn parse_regions(json: &str) -> Result<Page<Location>> {
    map_page(json, |r: Region| {
        let linodes = r.capabilities.is_empty() || r.capabilities.iter().any(|c| c == "Linodes");
        Some(Location {
            name: r.label.filter(|l| !l.is_empty()).unwrap_or_else(|| r.id.clone()),
            // Linode writes lower-case ISO codes, except `uk` for GB.
            country: r.country.filter(|c| !c.is_empty()).map(|c| match c.as_str() {
                "uk" => "GB".to_string(),
                other => other.to_ascii_uppercase(),
            }),
            available: linodes && r.status.as_deref().unwrap_or("ok") == "ok",
            id: r.id,
        })
    })
}

#[derive(Deserialize)]
struct LinodeType {
    id: String,
    label: Option<String>,
    vcpus: Option<u32>,
    memory: Option<u64>,
    disk: Option<u64>,
    price: Option<Price>,
}

#[derive(Deserialize)]
struct Price {
    hourly: Option<f64>,
    monthly: Option<f64>,
}

/// One page of `GET /v4/linode/types`: plans with their base prices (some regions charge
/// more; Linode lists those as `region_prices`).
pub fn parse_types(json: &str) -> Result<Page<Size>> {
    map_page(json, |t: LinodeType| {
        Some(Size {
            name: match &t.label {
                Some(l) if !l.is_empty() => format!("{} ({l})", t.id),
                _ => t.id.clone(),
            },
            id: t.id,
            vcpus: t.vcpus,
            ram_mb: t.memory,
            disk_gb: t.disk.map(|d| d / 1024),
            price_hourly: t.price.as_ref().and_then(|p| p.hourly),
            price_monthly: t.price.as_ref().and_then(|p| p.monthly),
            locations: Vec::new(),
        })
    })
}

#[derive(Deserialize)]
struct LinodeImage {
    id: String,
    label: Option<String>,
    vendor: Option<String>,
    #[serde(default)]
    regions: Vec<ImageRegion>,
}

#[derive(Deserialize)]
struct ImageRegion {
    region: String,
}

/// One page of `GET /v4/images` (public distributions and the account's private images).
pub fn parse_images(json: &str) -> Result<Page<Image>> {
    map_page(json, |i: LinodeImage| {
        Some(Image {
            name: i.label.filter(|l| !l.is_empty()).unwrap_or_else(|| i.id.clone()),
            distribution: i.vendor,
            version: None,
            arch: None,
            locations: i.regions.into_iter().map(|r| r.region).collect(),
            id: i.id,
        })
    })
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    field: Option<String>,
    reason: Option<String>,
}

/// Linode's error body `{"errors": [{"field": "...", "reason": "..."}]}` → (the first field
/// named, all reasons as one message). A body that is not JSON gives a short excerpt.
pub fn parse_error(body: &str) -> (Option<String>, String) {
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(e) if !e.errors.is_empty() => {
            let field = e.errors.iter().find_map(|i| i.field.clone()).filter(|f| !f.is_empty());
            let msg = e
                .errors
                .iter()
                .filter_map(|i| {
                    let reason = i.reason.as_deref()?;
                    Some(match i.field.as_deref() {
                        Some(f) if !f.is_empty() && !reason.contains(f) => format!("{reason} ({f})"),
                        _ => reason.to_string(),
                    })
                })
                .collect::<Vec<_>>()
                .join("; ");
            (field, msg)
        }
        _ => (None, rest::excerpt(body)),
    }
}
