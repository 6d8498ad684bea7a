//! DigitalOcean API v2 JSON → Skydeck's model. Pure functions (no I/O), public so the fixture
//! tests can feed them libcloud's recorded responses.
//!
//! Every list answer has the shape `{"<items>": [...], "links": {"pages": {"next": URL}},
//! "meta": {"total": N}}`. Only the `page` number is taken from `next`: its host is never
//! followed (the driver keeps using the configured endpoint).

use super::tags;
use crate::error::{Error, Result};
use crate::model::{Image, Location, Machine, Size};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// One page of a list answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The page number `links.pages.next` points at, if any.
    pub next_page: Option<u32>,
    /// `meta.total`: the number of items over all pages.
    pub total: Option<u64>,
}

#[derive(Deserialize, Default)]
struct Envelope {
    links: Option<Links>,
    meta: Option<Meta>,
}

#[derive(Deserialize, Default)]
struct Links {
    pages: Option<Pages>,
}

#[derive(Deserialize, Default)]
struct Pages {
    next: Option<String>,
}

#[derive(Deserialize, Default)]
struct Meta {
    total: Option<u64>,
}

/// Reads a page whose items are under `key`.
fn page<T: DeserializeOwned>(json: &str, key: &str) -> Result<Page<T>> {
    let mut body: serde_json::Value = serde_json::from_str(json).map_err(|e| unreadable(&e))?;
    let items = body
        .get_mut(key)
        .map(serde_json::Value::take)
        .ok_or_else(|| unreadable(&format!("the answer has no '{key}' list")))?;
    let items: Vec<T> = serde_json::from_value(items).map_err(|e| unreadable(&format!("{key}: {e}")))?;
    let env: Envelope = serde_json::from_value(body).unwrap_or_default();
    let next_page = env.links.and_then(|l| l.pages).and_then(|p| p.next).as_deref().and_then(page_number);
    Ok(Page { items, next_page, total: env.meta.and_then(|m| m.total) })
}

/// The `page` query parameter of a `links.pages.next` URL.
pub fn page_number(next_url: &str) -> Option<u32> {
    let url = url::Url::parse(next_url).ok()?;
    let n = url.query_pairs().find(|(k, _)| k == "page")?.1.parse().ok()?;
    Some(n)
}

pub(crate) fn unreadable(e: &dyn std::fmt::Display) -> Error {
    Error::Provider {
        provider: super::TITLE.into(),
        status: 200,
        code: Some("invalid_response".into()),
        message: format!(
            "Skydeck could not read the answer ({e}). Check that the API endpoint points at the DigitalOcean API v2."
        ),
    }
}

#[derive(Deserialize)]
struct Droplet {
    id: u64,
    name: String,
    status: String,
    memory: Option<u64>,
    vcpus: Option<u32>,
    disk: Option<u64>,
    created_at: Option<String>,
    image: Option<DoImage>,
    size_slug: Option<String>,
    size: Option<DoSize>,
    #[serde(default)]
    networks: Networks,
    region: Option<DoRegion>,
    #[serde(default)]
    tags: Vec<String>,
    vpc_uuid: Option<String>,
    locked: Option<bool>,
}

#[derive(Deserialize, Default)]
struct Networks {
    #[serde(default)]
    v4: Vec<Network>,
    #[serde(default)]
    v6: Vec<Network>,
}

#[derive(Deserialize)]
struct Network {
    ip_address: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct DoImage {
    id: Option<u64>,
    name: Option<String>,
    distribution: Option<String>,
    slug: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
}

impl DoImage {
    /// "Ubuntu 20.04 (LTS) x64": distribution + name, else the slug, else the id.
    fn display(&self) -> String {
        match (&self.distribution, &self.name) {
            (Some(d), Some(n)) if !n.starts_with(d.as_str()) => format!("{d} {n}"),
            (_, Some(n)) => n.clone(),
            _ => self.slug.clone().or(self.id.map(|i| i.to_string())).unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
struct DoSize {
    slug: String,
    memory: Option<u64>,
    vcpus: Option<u32>,
    disk: Option<u64>,
    price_monthly: Option<f64>,
    price_hourly: Option<f64>,
    #[serde(default)]
    regions: Vec<String>,
    available: Option<bool>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct DoRegion {
    slug: String,
    name: Option<String>,
    available: Option<bool>,
}

/// One page of `GET /v2/droplets`. The machines are not yet `finish`ed (no cloud id,
/// normalized state or actions): the driver does that with the provider spec.
pub fn parse_droplets(json: &str) -> Result<(Vec<Machine>, Option<u32>)> {
    let p = parse_droplets_page(json)?;
    Ok((p.items, p.next_page))
}

pub fn parse_droplets_page(json: &str) -> Result<Page<Machine>> {
    let p: Page<Droplet> = page(json, "droplets")?;
    Ok(Page { items: p.items.into_iter().map(machine).collect(), next_page: p.next_page, total: p.total })
}

fn machine(d: Droplet) -> Machine {
    let mut m = Machine::new(d.id.to_string(), d.name, d.status);
    let ips = |nets: &[Network], kind: &str| {
        nets.iter().filter(|n| n.kind == kind).map(|n| n.ip_address.clone()).collect::<Vec<_>>()
    };
    m.public_ips = ips(&d.networks.v4, "public");
    m.public_ips.extend(ips(&d.networks.v6, "public"));
    m.private_ips = ips(&d.networks.v4, "private");
    m.created_at = d.created_at;
    m.tags = tags::from_do(&d.tags);
    let mut extra = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            m.extra.insert(k.to_string(), v);
        }
    };
    // Tag names cannot hold commas, so the raw list survives a join.
    extra("tags_raw", Some(d.tags.join(",")));
    extra("vcpus", d.vcpus.map(|v| v.to_string()));
    extra("memory_mb", d.memory.map(|v| v.to_string()));
    extra("disk_gb", d.disk.map(|v| v.to_string()));
    extra("vpc_uuid", d.vpc_uuid);
    extra("locked", d.locked.map(|v| v.to_string()));
    if let Some(s) = &d.size {
        extra("price_monthly", s.price_monthly.map(|v| v.to_string()));
        extra("price_hourly", s.price_hourly.map(|v| v.to_string()));
    }
    if let Some(r) = &d.region {
        extra("region_name", r.name.clone());
    }
    if let Some(i) = &d.image {
        extra("image_id", i.id.map(|v| v.to_string()));
        extra("image_slug", i.slug.clone());
    }
    m.location = d.region.map(|r| r.slug).unwrap_or_default();
    m.size = d.size_slug.or(d.size.map(|s| s.slug)).unwrap_or_default();
    m.image = d.image.map(|i| i.display()).unwrap_or_default();
    m
}

/// One page of `GET /v2/regions`.
pub fn parse_regions(json: &str) -> Result<Page<Location>> {
    let p: Page<DoRegion> = page(json, "regions")?;
    let items = p
        .items
        .into_iter()
        .map(|r| Location {
            country: country(&r.slug).map(str::to_string),
            name: r.name.unwrap_or_else(|| r.slug.clone()),
            available: r.available.unwrap_or(true),
            id: r.slug,
        })
        .collect();
    Ok(Page { items, next_page: p.next_page, total: p.total })
}

/// ISO country of a region, from its slug's city prefix (DO regions carry no country field).
fn country(slug: &str) -> Option<&'static str> {
    const CITIES: &[(&str, &str)] = &[
        ("nyc", "US"),
        ("sfo", "US"),
        ("atl", "US"),
        ("ams", "NL"),
        ("sgp", "SG"),
        ("lon", "GB"),
        ("fra", "DE"),
        ("tor", "CA"),
        ("blr", "IN"),
        ("syd", "AU"),
    ];
    CITIES.iter().find(|(p, _)| slug.starts_with(p)).map(|(_, c)| *c)
}

/// One page of `GET /v2/sizes`. Sizes marked `available: false` cannot be created anywhere,
/// so they are left out of the wizard's choices.
pub fn parse_sizes(json: &str) -> Result<Page<Size>> {
    let p: Page<DoSize> = page(json, "sizes")?;
    let items = p
        .items
        .into_iter()
        .filter(|s| s.available != Some(false))
        .map(|s| Size {
            name: match &s.description {
                Some(d) if !d.is_empty() => format!("{} ({d})", s.slug),
                _ => s.slug.clone(),
            },
            id: s.slug,
            vcpus: s.vcpus,
            ram_mb: s.memory,
            disk_gb: s.disk,
            price_hourly: s.price_hourly,
            price_monthly: s.price_monthly,
            locations: s.regions,
        })
        .collect();
    Ok(Page { items, next_page: p.next_page, total: p.total })
}

/// One page of `GET /v2/images`. The id is the slug where there is one (it survives DO's
/// image refreshes, the numeric id does not), else the numeric id.
pub fn parse_images(json: &str) -> Result<Page<Image>> {
    let p: Page<DoImage> = page(json, "images")?;
    let items = p
        .items
        .into_iter()
        .filter_map(|i| {
            let id = i.slug.clone().filter(|s| !s.is_empty()).or(i.id.map(|v| v.to_string()))?;
            Some(Image {
                id,
                name: i.display(),
                distribution: i.distribution,
                version: None,
                arch: None,
                locations: i.regions,
            })
        })
        .collect();
    Ok(Page { items, next_page: p.next_page, total: p.total })
}

#[derive(Deserialize)]
struct ErrorBody {
    id: Option<String>,
    message: Option<String>,
}

/// DigitalOcean's error body `{"id": "...", "message": "..."}` → (code, message). A body
/// that is not JSON gives no code and a short, single-line excerpt.
pub fn parse_error(body: &str) -> (Option<String>, String) {
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(e) => (e.id.filter(|s| !s.is_empty()), e.message.unwrap_or_default()),
        Err(_) => (None, body.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect()),
    }
}

/// One SSH key of the account (`GET /v2/account/keys`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AccountKey {
    pub id: u64,
    /// MD5 of the key, `aa:bb:…`.
    #[serde(default)]
    pub fingerprint: String,
    #[serde(default)]
    pub name: String,
}

/// One page of `GET /v2/account/keys`.
pub fn parse_keys(json: &str) -> Result<Page<AccountKey>> {
    page(json, "ssh_keys")
}

/// The id of the key in a `POST /v2/account/keys` answer (`{"ssh_key": {...}}`).
pub fn parse_new_key(json: &str) -> Result<AccountKey> {
    let mut body: serde_json::Value = serde_json::from_str(json).map_err(|e| unreadable(&e))?;
    // `get_mut`, not `body["ssh_key"]`: indexing a non-object answer (an array, a number)
    // panics.
    let key = body.get_mut("ssh_key").map(serde_json::Value::take).ok_or_else(|| unreadable(&"the answer has no 'ssh_key'"))?;
    serde_json::from_value(key).map_err(|e| unreadable(&format!("ssh_key: {e}")))
}

/// The droplet of a `POST /v2/droplets` answer: `{"droplet": {...}}`, or the first of
/// `{"droplets": [...]}` (the multi-create form). Not yet `finish`ed, like listed droplets.
pub fn parse_created_droplet(json: &str) -> Result<Machine> {
    let mut body: serde_json::Value = serde_json::from_str(json).map_err(|e| unreadable(&e))?;
    let one = match body.get_mut("droplet") {
        Some(d) => d.take(),
        None => body
            .get_mut("droplets")
            .and_then(|d| d.as_array_mut())
            .and_then(|a| (!a.is_empty()).then(|| a.swap_remove(0)))
            .ok_or_else(|| unreadable(&"the answer has no 'droplet'"))?,
    };
    let d: Droplet = serde_json::from_value(one).map_err(|e| unreadable(&format!("droplet: {e}")))?;
    Ok(machine(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: &Error) -> Option<&str> {
        match e {
            Error::Provider { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    #[test]
    fn a_new_key_answer_that_is_not_an_object_is_a_typed_error() {
        // Each of these panicked in `body["ssh_key"]` (IndexMut on a non-object).
        for body in ["[]", "[1,2]", "42", "\"ssh_key\"", "true", "{}", "{\"ssh_key\": 5}", "null"] {
            let e = parse_new_key(body).expect_err(body);
            assert_eq!(code(&e), Some("invalid_response"), "{body}: {e}");
        }
        assert_eq!(parse_new_key(r#"{"ssh_key":{"id":7,"fingerprint":"aa","name":"k"}}"#).unwrap().id, 7);
    }
}
