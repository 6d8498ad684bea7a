//! HostVirtual ("VR" API) JSON → Skydeck's model. Pure functions (no I/O), public so the
//! replay tests can feed them libcloud's recorded responses.
//!
//! The API is loose about types: ids and sizes arrive as strings ("62291", "256MB"), some
//! fields are `null` or `false` for an unbuilt package, so everything is read through
//! [`text`], which accepts a string or a number and treats null/false/"" as absent.

use super::TITLE;
use crate::error::{Error, Result};
use crate::model::{Image, Location, Machine, Size};
use serde_json::Value;

pub(crate) fn unreadable(e: &dyn std::fmt::Display) -> Error {
    Error::Provider {
        provider: TITLE.into(),
        status: 200,
        code: Some("invalid_response".into()),
        message: format!(
            "Skydeck could not read the answer ({e}). Check that the API endpoint points at the HostVirtual API."
        ),
    }
}

fn json(body: &str) -> Result<Value> {
    serde_json::from_str(body).map_err(|e| unreadable(&e))
}

/// A field as text: strings trimmed, numbers printed; null, false and "" are absent.
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn array<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>> {
    v.as_array().ok_or_else(|| unreadable(&format!("the {what} answer is not a list")))
}

/// The leading number of "256MB", "10GB", "1.2gb".
fn number_prefix(s: &str) -> Option<f64> {
    let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    s[..end].parse().ok()
}

/// `GET /cloud/server?mbpkgid=` (one server) or one element of `GET /cloud/servers/`. The id
/// is the package id (`mbpkgid`), the name the server's FQDN. Not yet `finish`ed.
pub fn server(v: &Value) -> Result<Machine> {
    let id = text(v, "mbpkgid").ok_or_else(|| unreadable(&"a server has no 'mbpkgid'"))?;
    let name = text(v, "fqdn").unwrap_or_else(|| id.clone());
    let mut m = Machine::new(id, name, text(v, "status").unwrap_or_default());
    // Both addresses are public: HostVirtual hands out no private networks.
    m.public_ips = ["ip", "ipv6"].iter().filter_map(|k| text(v, k)).collect();
    m.location = text(v, "city").or_else(|| text(v, "location_id")).unwrap_or_default();
    m.size = text(v, "package").or_else(|| text(v, "plan_id")).unwrap_or_default();
    m.image = text(v, "os").or_else(|| text(v, "os_id")).unwrap_or_default();
    for (from, to) in [
        ("location_id", "location_id"),
        ("plan_id", "plan_id"),
        ("os_id", "image_id"),
        ("state", "power"),
        ("host", "host"),
        ("installed", "installed"),
        ("locked", "locked"),
        ("rescue", "rescue"),
    ] {
        if let Some(val) = text(v, from) {
            m.extra.insert(to.to_string(), val);
        }
    }
    Ok(m)
}

pub fn parse_server(body: &str) -> Result<Machine> {
    let v = json(body)?;
    if !v.is_object() {
        return Err(unreadable(&"the server answer is not an object"));
    }
    server(&v)
}

/// `GET /cloud/servers/`.
pub fn parse_servers(body: &str) -> Result<Vec<Machine>> {
    let v = json(body)?;
    array(&v, "servers")?.iter().map(server).collect()
}

/// `GET /cloud/locations/`: an object keyed by display name, each `{id, name}`, returned in
/// numeric id order as libcloud did. "SJC - San Jose, CA": the text after the comma is the
/// country (or, in the US, the state), as libcloud read it.
pub fn parse_locations(body: &str) -> Result<Vec<Location>> {
    let v = json(body)?;
    let obj = v.as_object().ok_or_else(|| unreadable(&"the locations answer is not an object"))?;
    let mut out: Vec<Location> = obj
        .iter()
        .filter_map(|(key, loc)| {
            let id = text(loc, "id")?;
            let name = text(loc, "name").unwrap_or_else(|| key.clone());
            let country = name.rsplit_once(',').map(|(_, c)| c.trim().to_string()).filter(|c| !c.is_empty());
            Some(Location { id, name, country, available: true })
        })
        .collect();
    out.sort_by_key(|l| (l.id.parse::<u64>().unwrap_or(u64::MAX), l.id.clone()));
    Ok(out)
}

/// `GET /cloud/sizes/`: plans with units in strings ("512MB", "20GB") and a monthly price.
pub fn parse_sizes(body: &str) -> Result<Vec<Size>> {
    let v = json(body)?;
    Ok(array(&v, "sizes")?
        .iter()
        .filter_map(|p| {
            let id = text(p, "plan_id")?;
            let name = text(p, "plan").unwrap_or_else(|| id.clone());
            let ram_mb = text(p, "ram").and_then(|r| {
                let n = number_prefix(&r)?;
                Some(if r.to_ascii_uppercase().ends_with("GB") { n * 1024.0 } else { n } as u64)
            });
            let disk_gb = text(p, "disk").and_then(|d| number_prefix(&d)).map(|n| n as u64);
            Some(Size {
                id,
                name,
                vcpus: None,
                ram_mb,
                disk_gb,
                price_hourly: None,
                price_monthly: text(p, "price").and_then(|s| s.parse().ok()),
                locations: Vec::new(),
            })
        })
        .collect())
}

/// `GET /cloud/images/`: `id`, `os` (the name), `type` (distribution), `bits`.
pub fn parse_images(body: &str) -> Result<Vec<Image>> {
    let v = json(body)?;
    Ok(array(&v, "images")?
        .iter()
        .filter_map(|i| {
            let id = text(i, "id")?;
            Some(Image {
                name: text(i, "os").unwrap_or_else(|| id.clone()),
                id,
                distribution: text(i, "type"),
                version: None,
                arch: text(i, "bits").map(|b| if b == "64" { "x86_64".into() } else { "i386".into() }),
                locations: Vec::new(),
            })
        })
        .collect())
}

/// `POST /cloud/buy/` → the new package id.
pub fn parse_bought(body: &str) -> Result<String> {
    text(&json(body)?, "id").ok_or_else(|| unreadable(&"the order answer has no package 'id'"))
}

/// HostVirtual's error body `{"error": {"code": .., "message": ..}}` → (code, message), if the
/// body is one. A 200 answer can carry it too.
pub fn parse_error(body: &str) -> Option<(Option<String>, String)> {
    let v: Value = serde_json::from_str(body).ok()?;
    let e = v.get("error")?;
    match e {
        Value::Object(_) => Some((text(e, "code"), text(e, "message").unwrap_or_default())),
        Value::String(s) => Some((None, s.clone())),
        _ => None,
    }
}

/// A short, single-line excerpt of a body that is not HostVirtual's error JSON.
pub fn excerpt(body: &str) -> String {
    body.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect()
}

/// An FQDN as the build call needs it (libcloud's rule): two or more dot-separated labels of
/// 1–63 letters, digits or hyphens, none starting or ending with a hyphen, 255 chars at most.
pub fn valid_fqdn(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 255
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqdn_rule() {
        assert!(valid_fqdn("web1.example.com"));
        assert!(valid_fqdn("a.b"));
        assert!(!valid_fqdn("web1"), "one label");
        assert!(!valid_fqdn("-web.example.com"));
        assert!(!valid_fqdn("web_1.example.com"));
        assert!(!valid_fqdn("web..com"));
        assert!(!valid_fqdn(&format!("{}.com", "a".repeat(64))));
    }

    #[test]
    fn units_and_loose_types() {
        let sizes =
            parse_sizes(r#"[{"plan_id": 7, "plan": "X", "ram": "2GB", "disk": "1.5GB", "price": "3.50"}]"#).unwrap();
        assert_eq!((sizes[0].id.as_str(), sizes[0].ram_mb, sizes[0].disk_gb), ("7", Some(2048), Some(1)));
        assert_eq!(sizes[0].price_monthly, Some(3.5));
        let m = parse_server(r#"{"mbpkgid": 9, "fqdn": null, "status": "BUILDING", "ip": false}"#).unwrap();
        assert_eq!((m.id.as_str(), m.name.as_str(), m.public_ips.len()), ("9", "9", 0));
        assert!(parse_servers(r#"{"error": {"code": 401, "message": "x"}}"#).is_err());
        assert_eq!(
            parse_error(r#"{"error": {"code": 412, "message": "no"}}"#),
            Some((Some("412".into()), "no".into()))
        );
        assert_eq!(parse_error(r#"{"status": "success"}"#), None);
    }
}
