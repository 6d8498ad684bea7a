//! A libvirt domain as Skydeck sees it: the facts read from its XML, its state name, and
//! Skydeck's own metadata element (tags, when and from what it was created, which volumes
//! Skydeck made for it) in the domain's `<metadata>` under [`NS`].

use crate::error::{Error, Result};
use crate::model::{Machine, Tags};
use quick_xml::escape::escape;
use virt::domain::DomainState;

/// The XML namespace of Skydeck's metadata element; `skydeck` is its prefix.
pub const NS: &str = "https://skydeck.dev/xmlns/libvirt/1";
pub const PREFIX: &str = "skydeck";

/// libvirt's state names, as `virsh domstate` prints them (the raw state Skydeck keeps).
pub fn state_name(s: Option<DomainState>) -> &'static str {
    match s {
        Some(DomainState::NoState) | None => "nostate",
        Some(DomainState::Running) => "running",
        Some(DomainState::Blocked) => "blocked",
        Some(DomainState::Paused) => "paused",
        Some(DomainState::Shutdown) => "shutdown",
        Some(DomainState::Shutoff) => "shutoff",
        Some(DomainState::Crashed) => "crashed",
        Some(DomainState::PMSuspended) => "pmsuspended",
    }
}

/// Skydeck's metadata of a domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    pub created: Option<String>,
    /// The image id it was created from (`vol:pool/name` or `domain:uuid`).
    pub image: Option<String>,
    pub pool: Option<String>,
    /// Paths of the volumes Skydeck created for this domain (deleted with it).
    pub disks: Vec<String>,
    pub tags: Tags,
}

impl Meta {
    /// The element for `virDomainSetMetadata` (libvirt puts it in [`NS`] with [`PREFIX`]).
    pub fn to_xml(&self) -> String {
        let mut attrs = String::new();
        for (k, v) in [("created", &self.created), ("image", &self.image), ("pool", &self.pool)] {
            if let Some(v) = v {
                attrs.push_str(&format!(" {k}=\"{}\"", escape(v.as_str())));
            }
        }
        let mut xml = format!("<machine{attrs}>");
        for d in &self.disks {
            xml.push_str(&format!("<disk path=\"{}\"/>", escape(d.as_str())));
        }
        for (k, v) in &self.tags {
            xml.push_str(&format!("<tag key=\"{}\">{}</tag>", escape(k.as_str()), escape(v.as_str())));
        }
        xml.push_str("</machine>");
        xml
    }

    fn from_node(n: roxmltree::Node) -> Meta {
        let attr = |k: &str| n.attribute(k).map(str::to_string);
        let mut m = Meta { created: attr("created"), image: attr("image"), pool: attr("pool"), ..Meta::default() };
        for c in n.children().filter(|c| c.is_element()) {
            match c.tag_name().name() {
                "disk" => m.disks.extend(c.attribute("path").map(str::to_string)),
                "tag" => {
                    if let Some(k) = c.attribute("key") {
                        m.tags.insert(k.to_string(), c.text().unwrap_or_default().to_string());
                    }
                }
                _ => {}
            }
        }
        m
    }
}

/// One disk of a domain.
#[derive(Debug, Clone, PartialEq)]
pub struct Disk {
    /// `disk`, `cdrom`, `floppy`, `lun`.
    pub device: String,
    /// The source file or block device, or the volume name of a `type='volume'` disk.
    pub source: Option<String>,
    /// The pool of a `type='volume'` disk.
    pub pool: Option<String>,
    /// `vda`, `sda`, ...
    pub target: String,
    pub readonly: bool,
    pub shareable: bool,
}

/// What Skydeck reads from a domain's XML.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub kind: String,
    pub memory_kib: Option<u64>,
    pub vcpus: Option<u32>,
    pub disks: Vec<Disk>,
    pub macs: Vec<String>,
    pub meta: Meta,
}

fn kib(n: roxmltree::Node) -> Option<u64> {
    // In u128: the number comes from the host, and `u64::MAX` TiB must not overflow (a panic
    // in debug builds, a wrapped size in release ones). More KiB than a u64 holds is no size.
    let v = u128::from(n.text()?.trim().parse::<u64>().ok()?);
    let kib = match n.attribute("unit").unwrap_or("KiB") {
        "b" | "bytes" => v / 1024,
        "KB" => v * 1000 / 1024,
        "k" | "KiB" => v,
        "MB" => v * 1_000_000 / 1024,
        "M" | "MiB" => v * 1024,
        "GB" => v * 1_000_000_000 / 1024,
        "G" | "GiB" => v * 1024 * 1024,
        "T" | "TiB" => v * 1024 * 1024 * 1024,
        _ => return None,
    };
    u64::try_from(kib).ok()
}

pub fn parse(xml: &str) -> Result<Facts> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| Error::Provider {
        provider: "libvirt".into(),
        status: 0,
        code: Some("invalid_xml".into()),
        message: format!("unreadable domain XML: {e}"),
    })?;
    let root = doc.root_element();
    let child = |name: &str| root.children().find(|c| c.has_tag_name(name));
    let mut f = Facts {
        kind: root.attribute("type").unwrap_or_default().to_string(),
        memory_kib: child("currentMemory").and_then(kib).or_else(|| child("memory").and_then(kib)),
        vcpus: child("vcpu").and_then(|v| v.attribute("current").or(v.text())).and_then(|t| t.trim().parse().ok()),
        ..Facts::default()
    };
    if let Some(devices) = child("devices") {
        for d in devices.children().filter(|c| c.is_element()) {
            match d.tag_name().name() {
                "disk" => {
                    let source = d.children().find(|c| c.has_tag_name("source"));
                    f.disks.push(Disk {
                        device: d.attribute("device").unwrap_or("disk").to_string(),
                        source: source
                            .and_then(|s| s.attribute("file").or(s.attribute("dev")).or(s.attribute("volume")))
                            .map(str::to_string),
                        pool: source.and_then(|s| s.attribute("pool")).map(str::to_string),
                        target: d
                            .children()
                            .find(|c| c.has_tag_name("target"))
                            .and_then(|t| t.attribute("dev"))
                            .unwrap_or_default()
                            .to_string(),
                        readonly: d.children().any(|c| c.has_tag_name("readonly")),
                        shareable: d.children().any(|c| c.has_tag_name("shareable")),
                    });
                }
                "interface" => {
                    f.macs.extend(
                        d.children()
                            .find(|c| c.has_tag_name("mac"))
                            .and_then(|m| m.attribute("address"))
                            .map(str::to_string),
                    );
                }
                _ => {}
            }
        }
    }
    if let Some(meta) = child("metadata") {
        if let Some(n) = meta.children().find(|c| c.is_element() && c.tag_name().namespace() == Some(NS)) {
            f.meta = Meta::from_node(n);
        }
    }
    Ok(f)
}

/// A machine from a domain's identity, state and XML facts. IPs and the host are added by
/// the caller (they need more calls).
pub fn machine(uuid: String, name: String, state: &str, facts: &Facts) -> Machine {
    let mut m = Machine::new(uuid, name, state);
    let mem_mib = facts.memory_kib.map(|k| k / 1024);
    m.size = match (facts.vcpus, mem_mib) {
        (Some(c), Some(mb)) => format!("{c} vCPU, {mb} MiB"),
        (Some(c), None) => format!("{c} vCPU"),
        (None, Some(mb)) => format!("{mb} MiB"),
        (None, None) => String::new(),
    };
    let first_disk = facts.disks.iter().find(|d| d.device == "disk").and_then(|d| d.source.clone());
    m.image = match (&facts.meta.image, &first_disk) {
        (Some(i), _) => i.split_once(':').map(|(_, rest)| rest.to_string()).unwrap_or_else(|| i.clone()),
        (None, Some(path)) => path.rsplit('/').next().unwrap_or(path).to_string(),
        _ => String::new(),
    };
    m.tags = facts.meta.tags.clone();
    m.created_at = facts.meta.created.clone();
    let mut extra = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            m.extra.insert(k.to_string(), v);
        }
    };
    extra("domain_type", Some(facts.kind.clone()));
    extra("vcpus", facts.vcpus.map(|v| v.to_string()));
    extra("memory_mb", mem_mib.map(|v| v.to_string()));
    extra("disks", Some(facts.disks.iter().filter_map(|d| d.source.clone()).collect::<Vec<_>>().join(",")));
    extra("macs", Some(facts.macs.join(",")));
    extra("pool", facts.meta.pool.clone());
    extra("image_id", facts.meta.image.clone());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<domain type='kvm' id='3'>
      <name>web</name>
      <memory unit='GiB'>4</memory>
      <currentMemory unit='KiB'>2097152</currentMemory>
      <vcpu placement='static' current='2'>4</vcpu>
      <metadata>
        <os:libosinfo xmlns:os="http://libosinfo.org/xmlns/libvirt/domain/1.0"/>
        <skydeck:machine xmlns:skydeck="https://skydeck.dev/xmlns/libvirt/1" created="2024-01-02T03:04:05Z" image="vol:default/debian.qcow2" pool="default">
          <skydeck:disk path="/var/lib/libvirt/images/web.qcow2"/>
          <skydeck:tag key="env">prod &amp; more</skydeck:tag>
          <skydeck:tag key="web"></skydeck:tag>
        </skydeck:machine>
      </metadata>
      <devices>
        <disk type='file' device='disk'><source file='/var/lib/libvirt/images/web.qcow2'/><target dev='vda'/></disk>
        <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='sda'/><readonly/></disk>
        <interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='default'/></interface>
      </devices>
    </domain>"#;

    #[test]
    fn reads_facts_and_metadata() {
        let f = parse(XML).unwrap();
        assert_eq!((f.kind.as_str(), f.memory_kib, f.vcpus), ("kvm", Some(2097152), Some(2)));
        assert_eq!(f.disks.len(), 2);
        assert!(f.disks[1].readonly && f.disks[1].device == "cdrom");
        assert_eq!(f.macs, ["52:54:00:aa:bb:cc"]);
        assert_eq!(f.meta.disks, ["/var/lib/libvirt/images/web.qcow2"]);
        assert_eq!(f.meta.tags.get("env").map(String::as_str), Some("prod & more"));
        assert_eq!(f.meta.tags.get("web").map(String::as_str), Some(""));
        let m = machine("u-1".into(), "web".into(), "running", &f);
        assert_eq!((m.size.as_str(), m.image.as_str()), ("2 vCPU, 2048 MiB", "default/debian.qcow2"));
        assert_eq!(m.created_at.as_deref(), Some("2024-01-02T03:04:05Z"));
    }

    #[test]
    fn metadata_round_trips_through_xml() {
        let mut meta = parse(XML).unwrap().meta;
        meta.tags.insert("quote\"<".into(), "a'b>".into());
        let xml = meta.to_xml();
        // libvirt stores the element in its namespace; emulate that to read it back.
        let wrapped = format!(
            "<domain><metadata>{}</metadata></domain>",
            xml.replacen("<machine", &format!("<{PREFIX}:machine xmlns:{PREFIX}=\"{NS}\""), 1)
                .replace("</machine>", &format!("</{PREFIX}:machine>"))
        );
        assert_eq!(parse(&wrapped).unwrap().meta, meta);
    }
}
