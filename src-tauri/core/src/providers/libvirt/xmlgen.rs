//! Domain and volume XML that Skydeck writes: a new domain around a disk, a copy of a volume,
//! and a clone of a template domain's XML (streamed through quick-xml so everything Skydeck
//! does not touch stays exactly as the template had it).

use crate::error::{Error, Result};
use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};
use std::collections::HashMap;

/// vCPUs and memory of a new machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub vcpus: u32,
    pub memory_mib: u64,
}

/// Which hypervisor and guest architecture to define domains for (from the host's
/// capabilities XML): the host's own arch if it has an hvm guest for it, kvm over qemu.
pub fn guest_kind(caps: &str) -> Result<(String, String)> {
    let doc = roxmltree::Document::parse(caps)
        .map_err(|e| Error::Unavailable(format!("unreadable host capabilities: {e}")))?;
    let host_arch = doc
        .descendants()
        .find(|n| n.has_tag_name("host"))
        .and_then(|h| h.descendants().find(|n| n.has_tag_name("arch")))
        .and_then(|a| a.text())
        .unwrap_or_default();
    let mut best: Option<(u8, String, String)> = None;
    for guest in doc.descendants().filter(|n| n.has_tag_name("guest")) {
        let hvm = guest.children().find(|c| c.has_tag_name("os_type")).and_then(|o| o.text()) == Some("hvm");
        let Some(arch) = guest.children().find(|c| c.has_tag_name("arch")) else { continue };
        let arch_name = arch.attribute("name").unwrap_or_default();
        for d in arch.children().filter(|c| c.has_tag_name("domain")) {
            let kind = d.attribute("type").unwrap_or_default();
            let score = u8::from(hvm) * 4 + u8::from(arch_name == host_arch) * 2 + u8::from(kind == "kvm");
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, kind.to_string(), arch_name.to_string()));
            }
        }
    }
    best.map(|(_, k, a)| (k, a))
        .ok_or_else(|| Error::NotSupported("this libvirt host offers no guest type to create machines with".into()))
}

/// A new volume copied from another (`virStorageVolCreateXMLFrom`).
pub fn volume_copy(name: &str, capacity_bytes: u64, format: Option<&str>) -> String {
    let format = format.map(|f| format!("<target><format type=\"{}\"/></target>", escape(f))).unwrap_or_default();
    format!(
        "<volume><name>{}</name><capacity unit=\"bytes\">{capacity_bytes}</capacity>{format}</volume>",
        escape(name)
    )
}

/// The disk a new domain boots from.
pub struct BootDisk<'a> {
    pub path: &'a str,
    pub block: bool,
    pub format: Option<&'a str>,
}

/// A new domain booting `disk`, on `network` if given, with a serial console.
pub fn new_domain(kind: &str, arch: &str, name: &str, shape: Shape, disk: &BootDisk, network: Option<&str>) -> String {
    let (disk_type, src_attr) = if disk.block { ("block", "dev") } else { ("file", "file") };
    let driver = disk.format.map(|f| format!("<driver name=\"qemu\" type=\"{}\"/>", escape(f))).unwrap_or_default();
    let iface = network
        .map(|n| {
            format!(
                "<interface type=\"network\"><source network=\"{}\"/><model type=\"virtio\"/></interface>",
                escape(n)
            )
        })
        .unwrap_or_default();
    // Host CPU passthrough only makes sense with hardware virtualization.
    let cpu = if kind == "kvm" { "<cpu mode=\"host-passthrough\"/>" } else { "" };
    format!(
        "<domain type=\"{kind}\"><name>{name}</name><memory unit=\"MiB\">{mem}</memory><vcpu>{vcpus}</vcpu>\
         <os><type arch=\"{arch}\">hvm</type><boot dev=\"hd\"/></os><features><acpi/><apic/></features>{cpu}\
         <clock offset=\"utc\"/><devices>\
         <disk type=\"{disk_type}\" device=\"disk\">{driver}<source {src_attr}=\"{path}\"/><target dev=\"vda\" bus=\"virtio\"/></disk>\
         {iface}<serial type=\"pty\"/><console type=\"pty\"/></devices></domain>",
        kind = escape(kind),
        arch = escape(arch),
        name = escape(name),
        mem = shape.memory_mib,
        vcpus = shape.vcpus,
        path = escape(disk.path),
    )
}

/// How a template's disk is replaced in its clone.
#[derive(Debug, Clone, PartialEq)]
pub enum NewSource {
    /// A file or block disk: its new path.
    Path(String),
    /// A `type='volume'` disk: its new pool and volume.
    Volume { pool: String, volume: String },
}

/// The clone of a template domain's (inactive) XML: a new name, no uuid (libvirt makes one),
/// no MAC addresses (libvirt makes new ones), the chosen vCPUs and memory, and disk sources
/// replaced per `disks` (keyed by the old source: a path, or `pool/volume`).
pub fn clone_domain(template: &str, name: &str, shape: Shape, disks: &HashMap<String, NewSource>) -> Result<String> {
    let bad = |e: &dyn std::fmt::Display| Error::Provider {
        provider: "libvirt".into(),
        status: 0,
        code: Some("invalid_xml".into()),
        message: format!("could not copy the template's XML: {e}"),
    };
    let mut reader = Reader::from_str(template);
    let mut w = Writer::new(Vec::new());
    let mut path: Vec<String> = Vec::new();
    // Depth inside a dropped element (0 = not dropping).
    let mut dropping = 0usize;
    // Replacement text of the element just opened, written instead of its own text.
    let mut replace: Option<String> = None;
    let mem_kib = (shape.memory_mib * 1024).to_string();
    loop {
        let ev = reader.read_event().map_err(|e| bad(&e))?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if dropping > 0 {
                    dropping += usize::from(!empty);
                    continue;
                }
                let parent: Vec<&str> = path.iter().map(String::as_str).collect();
                let drop_it = matches!(
                    (parent.as_slice(), local.as_str()),
                    (["domain"], "uuid") | (["domain", "devices", "interface"], "mac")
                );
                if drop_it {
                    dropping = usize::from(!empty);
                    continue;
                }
                let mut out = BytesStart::new(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                let attrs: Vec<(String, String)> = e
                    .attributes()
                    .map(|a| {
                        let a = a.map_err(|e| bad(&e))?;
                        let v = a.unescape_value().map_err(|e| bad(&e))?.into_owned();
                        Ok((String::from_utf8_lossy(a.key.as_ref()).into_owned(), v))
                    })
                    .collect::<Result<_>>()?;
                let is_disk_source = parent.as_slice() == ["domain", "devices", "disk"] && local == "source";
                let new_source = if is_disk_source {
                    let volume = attrs.iter().find(|(k, _)| k == "volume").map(|(_, v)| v.clone());
                    let pool = attrs.iter().find(|(k, _)| k == "pool").map(|(_, v)| v.clone());
                    let file = attrs.iter().find(|(k, _)| k == "file" || k == "dev").map(|(_, v)| v.clone());
                    match (pool, volume, file) {
                        (Some(p), Some(v), _) => disks.get(&format!("{p}/{v}")),
                        (_, _, Some(f)) => disks.get(&f),
                        _ => None,
                    }
                } else {
                    None
                };
                for (k, v) in &attrs {
                    let v = match (parent.as_slice(), local.as_str(), k.as_str(), new_source) {
                        (["domain"], "domain", "id", _) | ([], "domain", "id", _) => continue,
                        (["domain"], "vcpu", "current", _) => continue,
                        (["domain"], "memory" | "currentMemory", "unit", _) => "KiB".to_string(),
                        (_, _, "file" | "dev", Some(NewSource::Path(p))) => p.clone(),
                        (_, _, "pool", Some(NewSource::Volume { pool, .. })) => pool.clone(),
                        (_, _, "volume", Some(NewSource::Volume { volume, .. })) => volume.clone(),
                        _ => v.clone(),
                    };
                    out.push_attribute((k.as_str(), v.as_str()));
                }
                if parent.as_slice() == ["domain"] {
                    replace = match local.as_str() {
                        "name" => Some(name.to_string()),
                        "memory" | "currentMemory" => Some(mem_kib.clone()),
                        "vcpu" => Some(shape.vcpus.to_string()),
                        _ => None,
                    };
                }
                if empty && replace.is_some() {
                    w.write_event(Event::Start(out.borrow())).map_err(|e| bad(&e))?;
                    w.write_event(Event::Text(BytesText::new(&replace.take().unwrap()))).map_err(|e| bad(&e))?;
                    w.write_event(Event::End(out.to_end())).map_err(|e| bad(&e))?;
                } else if empty {
                    w.write_event(Event::Empty(out)).map_err(|e| bad(&e))?;
                } else {
                    w.write_event(Event::Start(out)).map_err(|e| bad(&e))?;
                    path.push(local);
                }
            }
            Event::End(e) => {
                if dropping > 0 {
                    dropping -= 1;
                    continue;
                }
                if let Some(text) = replace.take() {
                    w.write_event(Event::Text(BytesText::new(&text))).map_err(|e| bad(&e))?;
                }
                path.pop();
                w.write_event(Event::End(e)).map_err(|e| bad(&e))?;
            }
            Event::Text(t) => {
                if dropping > 0 {
                    continue;
                }
                if let Some(text) = replace.take() {
                    w.write_event(Event::Text(BytesText::new(&text))).map_err(|e| bad(&e))?;
                } else {
                    w.write_event(Event::Text(t)).map_err(|e| bad(&e))?;
                }
            }
            other => {
                if dropping == 0 {
                    w.write_event(other).map_err(|e| bad(&e))?;
                }
            }
        }
    }
    String::from_utf8(w.into_inner()).map_err(|e| bad(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"<domain type='kvm' id='7'>
  <name>tmpl</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='GiB'>1</memory>
  <currentMemory unit='GiB'>1</currentMemory>
  <vcpu placement='static' current='1'>2</vcpu>
  <devices>
    <disk type='file' device='disk'><source file='/pool/tmpl.qcow2'/><target dev='vda'/></disk>
    <disk type='volume' device='disk'><source pool='p2' volume='data.img'/><target dev='vdb'/></disk>
    <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='sda'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>
  </devices>
</domain>"#;

    #[test]
    fn clones_a_template() {
        let disks = HashMap::from([
            ("/pool/tmpl.qcow2".to_string(), NewSource::Path("/pool/web-vda.qcow2".into())),
            ("p2/data.img".to_string(), NewSource::Volume { pool: "default".into(), volume: "web-vdb.img".into() }),
        ]);
        let xml = clone_domain(TEMPLATE, "web & co", Shape { vcpus: 4, memory_mib: 2048 }, &disks).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.attribute("id"), None);
        assert_eq!(root.attribute("type"), Some("kvm"));
        let text = |n: &str| root.children().find(|c| c.has_tag_name(n)).and_then(|c| c.text()).map(str::to_string);
        assert_eq!(text("name").as_deref(), Some("web & co"));
        assert_eq!(text("uuid"), None);
        assert_eq!(text("memory").as_deref(), Some("2097152"));
        assert_eq!(text("currentMemory").as_deref(), Some("2097152"));
        assert_eq!(text("vcpu").as_deref(), Some("4"));
        let vcpu = root.children().find(|c| c.has_tag_name("vcpu")).unwrap();
        assert_eq!((vcpu.attribute("placement"), vcpu.attribute("current")), (Some("static"), None));
        let f = crate::providers::libvirt::domain::parse(&xml).unwrap();
        let sources: Vec<_> = f.disks.iter().map(|d| (d.source.clone().unwrap(), d.pool.clone())).collect();
        assert_eq!(
            sources,
            [
                ("/pool/web-vda.qcow2".to_string(), None),
                ("web-vdb.img".to_string(), Some("default".to_string())),
                ("/iso/x.iso".to_string(), None)
            ]
        );
        assert!(f.macs.is_empty(), "libvirt makes new MACs");
        assert!(xml.contains("<source network='default'/>") || xml.contains("<source network=\"default\"/>"));
    }

    #[test]
    fn picks_kvm_on_the_host_arch() {
        let caps = r#"<capabilities><host><cpu><arch>x86_64</arch></cpu></host>
          <guest><os_type>hvm</os_type><arch name='i686'><domain type='qemu'/></arch></guest>
          <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/><domain type='kvm'/></arch></guest>
        </capabilities>"#;
        assert_eq!(guest_kind(caps).unwrap(), ("kvm".to_string(), "x86_64".to_string()));
        let new = new_domain(
            "kvm",
            "x86_64",
            "a<b",
            Shape { vcpus: 2, memory_mib: 1024 },
            &BootDisk { path: "/p/a.qcow2", block: false, format: Some("qcow2") },
            Some("default"),
        );
        let f = crate::providers::libvirt::domain::parse(&new).unwrap();
        assert_eq!(
            (f.vcpus, f.memory_kib, f.disks[0].source.as_deref()),
            (Some(2), Some(1024 * 1024), Some("/p/a.qcow2"))
        );
        assert!(new.contains("<name>a&lt;b</name>"));
    }
}
