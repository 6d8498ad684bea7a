//! Between bollard's Engine API models and Skydeck's: containers → machines, images →
//! images, size presets → resource limits, and the create request → a container config.

use crate::error::{Error, Result};
use crate::model::{CreateMachine, Image, Machine, Size};
use bollard::models::{ContainerCreateBody, ContainerSummary, HostConfig, ImageSummary, PortBinding, PortMap};
use std::collections::{BTreeMap, HashMap};

/// A container from the list → a machine (state, actions and cloud are filled in later by
/// the shared layer). Strings from the daemon are data only.
pub fn machine(c: ContainerSummary, location: &str) -> Machine {
    let name = c
        .names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_string())
        .unwrap_or_default();
    let raw_state = c.state.map(|s| s.to_string()).unwrap_or_default();
    let mut m = Machine::new(c.id.unwrap_or_default(), name, raw_state);
    m.location = location.to_string();
    m.image = c.image.unwrap_or_default();
    m.created_at = c
        .created
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    if let Some(nets) = c.network_settings.and_then(|n| n.networks) {
        let mut ips: Vec<String> =
            nets.into_values().filter_map(|n| n.ip_address).filter(|ip| !ip.is_empty()).collect();
        ips.sort();
        ips.dedup();
        m.private_ips = ips;
    }
    m.tags = c.labels.unwrap_or_default().into_iter().collect();
    if let Some(status) = c.status.filter(|s| !s.is_empty()) {
        m.extra.insert("status".into(), status);
    }
    if let Some(cmd) = c.command.filter(|s| !s.is_empty()) {
        m.extra.insert("command".into(), cmd);
    }
    if let Some(image_id) = c.image_id.filter(|s| !s.is_empty()) {
        m.extra.insert("image_id".into(), image_id);
    }
    let ports = published_ports(c.ports.unwrap_or_default());
    if !ports.is_empty() {
        m.extra.insert("ports".into(), ports);
    }
    m
}

/// `0.0.0.0:8080->80/tcp, 53/udp`, as `docker ps` shows them.
fn published_ports(ports: Vec<bollard::models::PortSummary>) -> String {
    let mut out: Vec<String> = ports
        .into_iter()
        .map(|p| {
            let proto = p.typ.map(|t| t.to_string()).filter(|t| !t.is_empty()).unwrap_or_else(|| "tcp".into());
            match p.public_port {
                Some(public) => {
                    format!("{}:{public}->{}/{proto}", p.ip.filter(|i| !i.is_empty()).unwrap_or_else(|| "0.0.0.0".into()), p.private_port)
                }
                None => format!("{}/{proto}", p.private_port),
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out.join(", ")
}

/// Local images, one entry per tag (the id a create uses). Untagged images are left out: they
/// are build leftovers nobody means to start.
pub fn images(images: Vec<ImageSummary>, location: &str) -> Vec<Image> {
    let mut out: Vec<Image> = images
        .into_iter()
        .flat_map(|i| {
            i.repo_tags
                .into_iter()
                .filter(|t| !t.is_empty() && t != "<none>:<none>")
                .map(|tag| Image {
                    name: tag.clone(),
                    id: tag,
                    distribution: None,
                    version: None,
                    arch: None,
                    locations: vec![location.to_string()],
                })
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    out
}

/// Resource-limit presets offered as sizes; `default` sets no limit.
const SIZES: &[(&str, &str, Option<u32>, Option<u64>)] = &[
    ("default", "No limits (the host's defaults)", None, None),
    ("1cpu-512mb", "1 CPU, 512 MB", Some(1), Some(512)),
    ("1cpu-1gb", "1 CPU, 1 GB", Some(1), Some(1024)),
    ("2cpu-2gb", "2 CPUs, 2 GB", Some(2), Some(2048)),
    ("4cpu-8gb", "4 CPUs, 8 GB", Some(4), Some(8192)),
];

pub fn sizes() -> Vec<Size> {
    SIZES
        .iter()
        .map(|(id, name, vcpus, ram_mb)| Size {
            id: id.to_string(),
            name: name.to_string(),
            vcpus: *vcpus,
            ram_mb: *ram_mb,
            disk_gb: None,
            price_hourly: None,
            price_monthly: None,
            locations: Vec::new(),
        })
        .collect()
}

/// The full container id of a machine. Bollard puts it into the URL path as is, so only a
/// hex id (what the list returned) is accepted.
pub fn container_id(machine: &Machine) -> Result<&str> {
    let id = machine.id.as_str();
    if (12..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(Error::invalid("machine", format!("'{id}' is not a container id; refresh the machine list and try again")))
    }
}

/// Docker's rule for container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn container_name(name: &str) -> Result<&str> {
    let name = name.trim();
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && name.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(name)
    } else {
        Err(Error::invalid(
            "name",
            format!("'{name}' is not a valid container name: use at least 2 letters, digits, '_', '.' or '-', starting with a letter or digit"),
        ))
    }
}

/// The create options a Docker host reads from `CreateMachine::options`.
pub const OPTION_KEYS: &[&str] = &["command", "env", "ports", "network"];

/// A validated create request, ready to send.
pub struct CreatePlan {
    pub name: String,
    pub body: ContainerCreateBody,
}

impl CreatePlan {
    pub fn from_request(req: &CreateMachine) -> Result<CreatePlan> {
        let name = container_name(&req.name)?.to_string();
        let image = req.image.trim();
        if image.is_empty() {
            return Err(Error::invalid("image", "pick a local image to create the container from"));
        }
        if req.user_data.as_deref().is_some_and(|u| !u.trim().is_empty()) {
            return Err(Error::invalid(
                "user_data",
                "containers take no cloud-init user data; use the 'command' and 'env' options instead",
            ));
        }
        if req.key.is_some() {
            return Err(Error::invalid(
                "key",
                "containers take no SSH key; leave the key empty (use `docker exec` or a command to get in)",
            ));
        }
        if let Some(k) = req.options.keys().find(|k| !OPTION_KEYS.contains(&k.as_str())) {
            return Err(Error::invalid(k.clone(), format!("unknown option '{k}'; a Docker host takes: {}", OPTION_KEYS.join(", "))));
        }
        let opt = |k: &str| req.options.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());

        let cmd = opt("command")
            .map(|c| {
                shlex::split(c).filter(|w| !w.is_empty()).ok_or_else(|| {
                    Error::invalid("command", "the command has an unclosed quote; write it as you would in a shell")
                })
            })
            .transpose()?;
        let env = opt("env").map(parse_env).transpose()?;
        let ports = opt("ports").map(parse_ports).transpose()?;
        let (vcpus, ram_mb) = match req.size.trim() {
            "" => (None, None),
            s => SIZES
                .iter()
                .find(|(id, ..)| *id == s)
                .map(|(_, _, c, r)| (*c, *r))
                .ok_or_else(|| {
                    let ids: Vec<_> = SIZES.iter().map(|s| s.0).collect();
                    Error::invalid("size", format!("unknown size '{s}'; pick one of: {}", ids.join(", ")))
                })?,
        };

        let host_config = HostConfig {
            network_mode: opt("network").map(str::to_string),
            port_bindings: ports.as_ref().map(|p| p.bindings.clone()),
            nano_cpus: vcpus.map(|c| i64::from(c) * 1_000_000_000),
            memory: ram_mb.map(|m| m as i64 * 1024 * 1024),
            ..Default::default()
        };
        let labels: HashMap<String, String> = req.tags.clone().into_iter().collect();
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            cmd,
            env,
            labels: (!labels.is_empty()).then_some(labels),
            exposed_ports: ports.map(|p| p.exposed),
            host_config: Some(host_config),
            ..Default::default()
        };
        Ok(CreatePlan { name, body })
    }
}

/// `KEY=VALUE` per line (values may hold anything, commas included).
fn parse_env(text: &str) -> Result<Vec<String>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, _)) if !k.trim().is_empty() && !k.contains(char::is_whitespace) => Ok(l.to_string()),
            _ => Err(Error::invalid("env", format!("environment lines are KEY=VALUE, one per line; got '{l}'"))),
        })
        .collect()
}

pub struct Ports {
    pub exposed: Vec<String>,
    pub bindings: PortMap,
}

/// `8080:80, 127.0.0.1:8443:443/tcp, 53:53/udp, 9000` (a lone port is published on a port the
/// daemon picks), separated by commas or spaces, as `docker run -p` takes them.
pub fn parse_ports(text: &str) -> Result<Ports> {
    let bad = |p: &str| {
        Error::invalid(
            "ports",
            format!("'{p}' is not a port mapping; write host:container, ip:host:container or container, optionally /tcp or /udp"),
        )
    };
    let port = |s: &str, p: &str| match s.parse::<u16>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(bad(p)),
    };
    let mut exposed = Vec::new();
    let mut bindings: BTreeMap<String, Vec<PortBinding>> = BTreeMap::new();
    for p in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()) {
        let (spec, proto) = match p.rsplit_once('/') {
            Some((s, proto @ ("tcp" | "udp" | "sctp"))) => (s, proto),
            Some(_) => return Err(bad(p)),
            None => (p, "tcp"),
        };
        let mut parts = spec.rsplitn(3, ':');
        let container = port(parts.next().unwrap_or_default(), p)?;
        let host_port = parts.next().map(|h| port(h, p)).transpose()?;
        let host_ip = parts.next().map(|ip| ip.trim_start_matches('[').trim_end_matches(']').to_string());
        if host_ip.as_ref().is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_err()) {
            return Err(bad(p));
        }
        let key = format!("{container}/{proto}");
        if !exposed.contains(&key) {
            exposed.push(key.clone());
        }
        bindings.entry(key).or_default().push(PortBinding {
            host_ip,
            host_port: Some(host_port.map(|h| h.to_string()).unwrap_or_default()),
        });
    }
    Ok(Ports { exposed, bindings: bindings.into_iter().map(|(k, v)| (k, Some(v))).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse_like_docker_run() {
        let p = parse_ports("8080:80, 127.0.0.1:8443:443/tcp 53:53/udp,9000 [::1]:81:80").unwrap();
        assert_eq!(p.exposed, ["80/tcp", "443/tcp", "53/udp", "9000/tcp"]);
        let b = |k: &str| p.bindings[k].clone().unwrap();
        assert_eq!(b("80/tcp").len(), 2);
        assert_eq!(b("80/tcp")[1].host_ip.as_deref(), Some("::1"));
        assert_eq!(b("443/tcp")[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(b("443/tcp")[0].host_port.as_deref(), Some("8443"));
        assert_eq!(b("9000/tcp")[0].host_port.as_deref(), Some(""));
        for bad in ["80:x", "0", "1.2.3:80:80", "80/icmp", "70000"] {
            assert_eq!(parse_ports(bad).err().and_then(|e| e.field().map(str::to_string)).as_deref(), Some("ports"), "{bad}");
        }
    }

    #[test]
    fn env_and_names_are_checked() {
        assert_eq!(parse_env("A=1\n\n B=x,y=z \n").unwrap(), ["A=1", "B=x,y=z"]);
        assert!(parse_env("novalue").is_err());
        assert!(container_name("web-1.a_b").is_ok());
        for bad in ["-x", "a", "a b", "a/b", ""] {
            assert!(container_name(bad).is_err(), "{bad}");
        }
        let mut m = Machine::new("../images/x", "n", "running");
        assert!(container_id(&m).is_err());
        m.id = "0123456789abcdef".into();
        assert!(container_id(&m).is_ok());
    }
}
