//! Doors to the crate's parsers of provider data for the fuzz targets (`fuzz/`) and the corpus
//! replay test (`tests/fuzz_corpus.rs`). Not an API: each family forwards bytes to the same
//! functions the drivers call on a response, so provider internals stay private and the fuzzers
//! test exactly the shipped code.
//!
//! The contract being checked: whatever a cloud, a daemon or a key file holds, a parser returns
//! a value or a typed error. A panic, an abort or a hang is a bug.

use crate::error::Error;
use crate::model::Machine;
use crate::provider::ProviderSpec;
use crate::providers::{digitalocean, docker, ec2, hetzner, hostvirtual, linode, rest, vultr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One family of parsers: one fuzz target and one corpus directory (its [`Family::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// DigitalOcean API v2 JSON pages, single objects and error bodies.
    DigitalOcean,
    /// Linode API v4 JSON.
    Linode,
    /// Vultr API v2 JSON.
    Vultr,
    /// Hetzner Cloud API v1 JSON.
    Hetzner,
    /// HostVirtual's legacy JSON.
    HostVirtual,
    /// EC2 Query API XML (DOM, instances, regions, zones, types, images, key pairs, errors).
    Ec2Xml,
    /// libvirt domain XML, host capabilities and template cloning.
    LibvirtXml,
    /// Docker Engine API JSON as bollard reads it (containers, images, daemon info).
    DockerJson,
    /// SSH key import (OpenSSH public or private keys, fingerprints).
    SshKey,
    /// `Retry-After` and `RateLimit-Reset` header values.
    Headers,
}

impl Family {
    pub const ALL: &'static [Family] = &[
        Family::DigitalOcean,
        Family::Linode,
        Family::Vultr,
        Family::Hetzner,
        Family::HostVirtual,
        Family::Ec2Xml,
        Family::LibvirtXml,
        Family::DockerJson,
        Family::SshKey,
        Family::Headers,
    ];

    /// The fuzz target's name, which is also its corpus directory under `fuzz/corpus/`.
    pub fn name(self) -> &'static str {
        match self {
            Family::DigitalOcean => "digitalocean_json",
            Family::Linode => "linode_json",
            Family::Vultr => "vultr_json",
            Family::Hetzner => "hetzner_json",
            Family::HostVirtual => "hostvirtual_json",
            Family::Ec2Xml => "ec2_xml",
            Family::LibvirtXml => "libvirt_xml",
            Family::DockerJson => "docker_json",
            Family::SshKey => "ssh_key",
            Family::Headers => "http_headers",
        }
    }

    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// Feeds `input` to every parser of `family` and returns how many accepted it (returned `Ok`
/// or a value). Bodies are decoded as reqwest's `text()` decodes them (lossy UTF-8), so every
/// byte string reaches the parsers.
pub fn feed(family: Family, input: &[u8]) -> usize {
    let text = String::from_utf8_lossy(input);
    let text = text.as_ref();
    match family {
        Family::DigitalOcean => digitalocean_json(text),
        Family::Linode => linode_json(text),
        Family::Vultr => vultr_json(text),
        Family::Hetzner => hetzner_json(text),
        Family::HostVirtual => hostvirtual_json(text),
        Family::Ec2Xml => ec2_xml(text),
        Family::LibvirtXml => libvirt_xml(text),
        Family::DockerJson => docker_json(text),
        Family::SshKey => ssh_key(text),
        Family::Headers => headers(text),
    }
}

/// The stack of a tokio worker (tokio's default, and Rust's for spawned threads): in the app the
/// parsers run on one, so nesting that would overflow it must be found on one too.
pub const WORKER_STACK: usize = 2 * 1024 * 1024;

/// [`feed`] on a thread with [`WORKER_STACK`], as the fuzz targets call it. A panic inside is
/// passed on to the caller.
pub fn feed_on_worker_stack(family: Family, input: &[u8]) -> usize {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(WORKER_STACK)
            .spawn_scoped(s, || feed(family, input))
            .expect("a thread can be started")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The statuses error bodies arrive with: each maps to a different error kind.
const STATUSES: &[u16] = &[400, 401, 403, 404, 409, 412, 422, 429, 500, 503];

fn ok<T>(r: crate::Result<T>) -> usize {
    usize::from(r.is_ok())
}

/// What the shared layer does with parsed machines: normalize, attach actions, store as JSON.
fn finish(spec: &ProviderSpec, mut machines: Vec<Machine>) {
    spec.finish("fuzz", &mut machines);
    for m in &machines {
        // The store and the IPC layer serialize machines; that must hold for any parsed value.
        serde_json::to_string(m).expect("a parsed machine serializes");
    }
}

fn errors(map: impl Fn(u16, Option<Duration>) -> Error) {
    for &status in STATUSES {
        let e = map(status, Some(Duration::from_secs(1)));
        // Every error must render (the CLI's stderr line, the UI's field message).
        let _ = (e.code(), e.to_string());
    }
}

fn digitalocean_json(body: &str) -> usize {
    use digitalocean::parse::*;
    let spec = &digitalocean::SPEC;
    let mut n = 0;
    if let Ok(p) = parse_droplets_page(body) {
        finish(spec, p.items);
        n += 1;
    }
    n += ok(parse_droplets(body));
    n += ok(parse_regions(body)) + ok(parse_sizes(body)) + ok(parse_images(body));
    n += ok(parse_keys(body)) + ok(parse_new_key(body));
    if let Ok(m) = parse_created_droplet(body) {
        finish(spec, vec![m]);
        n += 1;
    }
    n += usize::from(page_number(body).is_some());
    let _ = parse_error(body);
    errors(|s, ra| digitalocean::error_from_response(s, body, ra));
    n
}

fn linode_json(body: &str) -> usize {
    use linode::parse::*;
    let spec = &linode::SPEC;
    let mut n = 0;
    if let Ok(p) = parse_instances(body) {
        finish(spec, p.items);
        n += 1;
    }
    if let Ok(m) = parse_instance(body) {
        finish(spec, vec![m]);
        n += 1;
    }
    n += ok(parse_regions(body)) + ok(parse_types(body)) + ok(parse_images(body));
    let _ = parse_error(body);
    errors(|s, ra| linode::error_from_response(s, body, ra));
    n
}

fn vultr_json(body: &str) -> usize {
    use vultr::parse::*;
    let spec = &vultr::SPEC;
    let mut n = 0;
    if let Ok(p) = parse_instances(body) {
        finish(spec, p.items);
        n += 1;
    }
    if let Ok(m) = parse_instance(body) {
        finish(spec, vec![m]);
        n += 1;
    }
    n += ok(parse_regions(body)) + ok(parse_plans(body)) + ok(parse_os(body));
    n += ok(parse_ssh_keys(body)) + ok(parse_ssh_key(body));
    let _ = parse_error(body);
    errors(|s, ra| vultr::error_from_response(s, body, ra));
    n
}

fn hetzner_json(body: &str) -> usize {
    use hetzner::parse::*;
    let spec = &hetzner::SPEC;
    let mut n = 0;
    if let Ok(p) = parse_servers(body) {
        finish(spec, p.items);
        n += 1;
    }
    if let Ok(m) = parse_server(body) {
        finish(spec, vec![m]);
        n += 1;
    }
    n += ok(parse_images(body)) + ok(parse_locations(body)) + ok(parse_server_types(body));
    n += ok(parse_ssh_keys(body)) + ok(parse_ssh_key(body));
    let _ = parse_error(body);
    errors(|s, ra| hetzner::error_from_response(s, body, ra));
    n
}

fn hostvirtual_json(body: &str) -> usize {
    use hostvirtual::parse::*;
    let spec = &hostvirtual::SPEC;
    let mut n = 0;
    if let Ok(ms) = parse_servers(body) {
        finish(spec, ms);
        n += 1;
    }
    if let Ok(m) = parse_server(body) {
        finish(spec, vec![m]);
        n += 1;
    }
    n += ok(parse_locations(body)) + ok(parse_sizes(body)) + ok(parse_images(body)) + ok(parse_bought(body));
    let (code, message) = parse_error(body).unwrap_or_else(|| (None, excerpt(body)));
    errors(|s, ra| hostvirtual::error_from_status(s, code.clone(), &message, ra));
    n
}

fn ec2_xml(body: &str) -> usize {
    use ec2::xml::*;
    let spec = &ec2::SPEC;
    let mut n = 0;
    if let Ok((machines, _next)) = parse_instances(body) {
        finish(spec, machines);
        n += 1;
    }
    n += ok(parse_regions(body)) + ok(parse_zones(body)) + ok(parse_instance_types(body));
    if let Ok(root) = ec2::dom::parse(body) {
        n += 1;
        let zones = ["us-east-1a".to_string()];
        let (images, _next) = ec2::images::images_of(&root, &zones);
        let _ = ec2::images::current(images);
        // `ensure_key_pair`'s check of a DescribeKeyPairs answer.
        let _ = root.items("keySet").any(|k| k.text_at("keyName").is_some());
    }
    n += usize::from(parse_error(body).is_some());
    for &status in STATUSES {
        let e = error_for(status, body, "DescribeInstances", "us-east-1");
        let _ = (e.code(), e.to_string());
    }
    n
}

#[cfg(feature = "libvirt")]
fn libvirt_xml(xml: &str) -> usize {
    use crate::providers::libvirt::{domain, xmlgen};
    let mut n = 0;
    if let Ok(facts) = domain::parse(xml) {
        let m = domain::machine("00000000-0000-0000-0000-000000000000".into(), "fuzz".into(), "running", &facts);
        finish(&crate::providers::libvirt::SPEC, vec![m]);
        // Skydeck writes its metadata back into the domain: what it read must serialize again.
        let _ = facts.meta.to_xml();
        n += 1;
    }
    n += ok(xmlgen::guest_kind(xml));
    // A template domain's XML is cloned for a new machine.
    let shape = xmlgen::Shape { vcpus: 1, memory_mib: 512 };
    n += ok(xmlgen::clone_domain(xml, "fuzz-clone", shape, &Default::default()));
    n
}

#[cfg(not(feature = "libvirt"))]
fn libvirt_xml(_xml: &str) -> usize {
    0
}

fn docker_json(body: &str) -> usize {
    use bollard::models::{ContainerSummary, ImageSummary, SystemInfo};
    let spec = &docker::SPEC;
    let mut n = 0;
    // bollard reads every answer with serde_json into its generated models.
    if let Ok(list) = serde_json::from_str::<Vec<ContainerSummary>>(body) {
        let machines = list.into_iter().map(|c| docker::convert::machine(c, "local")).collect();
        finish(spec, machines);
        n += 1;
    }
    if let Ok(list) = serde_json::from_str::<Vec<ImageSummary>>(body) {
        let _ = docker::convert::images(list, "local");
        n += 1;
    }
    n += usize::from(serde_json::from_str::<SystemInfo>(body).is_ok());
    n
}

fn ssh_key(text: &str) -> usize {
    // No passphrase: decryption is bcrypt, slow by design, and ssh-key's own code; the parse
    // and the round-count check before it are Skydeck's.
    let mut n = 0;
    if let Ok(k) = crate::keys::parse(text, None) {
        n += 1;
        // What import does with the result: fingerprint it and name it for each provider.
        n += ok(crate::keys::fingerprint(&k.public_key));
        let _ = rest::md5_fingerprint(&k.public_key);
        let public = crate::model::SshPublicKey {
            name: "fuzz".into(),
            openssh: k.public_key.clone(),
            fingerprint: k.fingerprint.clone(),
        };
        let _ = ec2::key_pair_name(&public);
    }
    n += ok(crate::keys::fingerprint(text));
    n += usize::from(rest::md5_fingerprint(text).is_some());
    let _ = rest::same_public_key(text, text);
    n
}

fn headers(value: &str) -> usize {
    // Every wait a server can ask for is clamped: an unclamped one reaches the scheduler's
    // `now + wait` (and a sleep), where it used to panic.
    let clamped = |d: Option<Duration>| {
        assert!(d.is_none_or(|d| d <= crate::http::MAX_RETRY_AFTER), "unclamped wait {d:?} for {value:?}");
        usize::from(d.is_some())
    };
    // A fixed clock, the epoch (every date is in the future) and the real clock.
    let fixed = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut n = 0;
    for now in [fixed, UNIX_EPOCH, SystemTime::now()] {
        n += clamped(crate::http::parse_retry_after(value, now));
        n += clamped(rest::parse_rate_limit_reset(value, now));
    }
    if let Ok(v) = http::HeaderValue::from_str(value) {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, v.clone());
        h.insert("ratelimit-reset", v);
        n += clamped(crate::http::retry_after(&h)) + clamped(rest::rate_limit_reset(&h));
    }
    n
}
