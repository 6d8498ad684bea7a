//! The create wizard's catalog and creating machines. Blocking functions over one
//! connection; the driver runs them on the blocking pool.
//!
//! * Locations are the host's active storage pools: where the new machine's disks go.
//! * Sizes are vCPU/memory presets that fit the host (`NxM`: N vCPUs, M MiB).
//! * Images are volumes not in use by any domain (`vol:<pool>/<name>`: the new machine boots
//!   a copy of it) and shut-off domains to clone (`domain:<uuid>`: its disks are copied, its
//!   MACs and uuid made anew).
//!
//! Volumes Skydeck copies are listed in the new domain's metadata and deleted with it.

use super::domain::{self, Meta, NS, PREFIX};
use super::errors::Fail;
use super::xmlgen::{self, BootDisk, NewSource, Shape};
use crate::error::Error;
use crate::model::{CreateMachine, Image, Location, Size};
use std::collections::{HashMap, HashSet};
use virt::connect::Connect;
use virt::domain::Domain;
use virt::storage_pool::StoragePool;
use virt::storage_vol::StorageVol;
use virt::sys;

/// vCPUs × MiB presets, filtered by what the host has.
const PRESETS: &[(u32, u64)] = &[(1, 512), (1, 1024), (2, 2048), (2, 4096), (4, 8192), (8, 16384), (16, 32768)];

pub fn size_id(s: Shape) -> String {
    format!("{}x{}", s.vcpus, s.memory_mib)
}

/// `NxM` → N vCPUs, M MiB.
pub fn parse_size(id: &str) -> Result<Shape, Error> {
    let bad = || {
        Error::invalid("size", format!("'{id}' is not a size; pick one of the listed sizes (vCPUs x MiB, e.g. 2x2048)"))
    };
    let (v, m) = id.trim().split_once('x').ok_or_else(bad)?;
    let shape = Shape { vcpus: v.parse().map_err(|_| bad())?, memory_mib: m.parse().map_err(|_| bad())? };
    if shape.vcpus == 0 || shape.memory_mib < 64 {
        return Err(bad());
    }
    Ok(shape)
}

fn label(s: Shape) -> String {
    if s.memory_mib.is_multiple_of(1024) {
        format!("{} vCPU, {} GiB", s.vcpus, s.memory_mib / 1024)
    } else {
        format!("{} vCPU, {} MiB", s.vcpus, s.memory_mib)
    }
}

pub fn sizes(c: &Connect) -> Result<Vec<Size>, Fail> {
    let node = c.node_info()?;
    let host_mib = node.memory / 1024;
    let fits = |&&(v, m): &&(u32, u64)| v <= node.cpus.max(1) && m <= host_mib;
    let mut shapes: Vec<_> = PRESETS.iter().filter(fits).collect();
    if shapes.is_empty() {
        shapes.push(&PRESETS[0]);
    }
    Ok(shapes
        .into_iter()
        .map(|&(vcpus, memory_mib)| {
            let s = Shape { vcpus, memory_mib };
            Size {
                id: size_id(s),
                name: label(s),
                vcpus: Some(vcpus),
                ram_mb: Some(memory_mib),
                disk_gb: None,
                price_hourly: None,
                price_monthly: None,
                locations: vec![],
            }
        })
        .collect())
}

fn active_pools(c: &Connect) -> Result<Vec<StoragePool>, Fail> {
    Ok(c.list_all_storage_pools(sys::VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)?)
}

pub fn locations(c: &Connect) -> Result<Vec<Location>, Fail> {
    let mut out = Vec::new();
    for p in active_pools(c)? {
        let name = p.name()?;
        let free = p.info().map(|i| i.available / (1024 * 1024 * 1024)).ok();
        let label = free.map(|g| format!("{name} ({g} GiB free)")).unwrap_or_else(|| name.clone());
        out.push(Location { id: name, name: label, country: None, available: true });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Disk sources used by any domain (paths, and `pool/volume` of volume disks).
fn sources_in_use(c: &Connect) -> Result<HashSet<String>, Fail> {
    let mut used = HashSet::new();
    for d in c.list_all_domains(0)? {
        let facts = domain::parse(&d.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)?)?;
        for disk in facts.disks {
            if let Some(s) = disk.source {
                used.insert(disk.pool.map(|p| format!("{p}/{s}")).unwrap_or(s));
            }
        }
    }
    Ok(used)
}

pub fn images(c: &Connect) -> Result<Vec<Image>, Fail> {
    let used = sources_in_use(c)?;
    let mut out = Vec::new();
    for p in active_pools(c)? {
        // Picks up image files copied into a directory pool since libvirt last looked.
        let _ = p.refresh(0);
        let pool = p.name()?;
        for v in p.list_all_volumes(0)? {
            let name = v.name()?;
            if used.contains(&v.path()?) || used.contains(&format!("{pool}/{name}")) {
                continue;
            }
            out.push(Image {
                id: format!("vol:{pool}/{name}"),
                name: format!("{name} ({pool})"),
                distribution: None,
                version: None,
                arch: None,
                locations: vec![],
            });
        }
    }
    for d in c.list_all_domains(0)? {
        if !d.is_active()? && d.is_persistent()? {
            out.push(Image {
                id: format!("domain:{}", d.uuid_string()?),
                name: format!("Clone of {}", d.name()?),
                distribution: None,
                version: None,
                arch: None,
                locations: vec![],
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Capacity (bytes) and format of a volume, from its XML.
fn vol_shape(v: &StorageVol) -> Result<(u64, Option<String>), Fail> {
    let xml = v.xml_desc(0)?;
    let doc =
        roxmltree::Document::parse(&xml).map_err(|e| Error::Unavailable(format!("unreadable volume XML: {e}")))?;
    let cap = doc
        .descendants()
        .find(|n| n.has_tag_name("capacity"))
        .and_then(|n| n.text())
        .and_then(|t| t.trim().parse().ok());
    let format = doc
        .descendants()
        .find(|n| n.has_tag_name("target"))
        .and_then(|t| t.children().find(|c| c.has_tag_name("format")))
        .and_then(|f| f.attribute("type"))
        .map(str::to_string);
    Ok((cap.unwrap_or_else(|| v.info().map(|i| i.capacity).unwrap_or(0)), format))
}

fn extension(format: Option<&str>) -> &str {
    match format {
        Some("raw") | None => "img",
        Some(f) => f,
    }
}

/// Copies `src` into `pool` as `<machine>-<target>.<ext>`; returns the copy and its format.
fn copy_volume(
    pool: &StoragePool,
    src: &StorageVol,
    machine: &str,
    target: &str,
) -> Result<(StorageVol, Option<String>), Fail> {
    let (capacity, format) = vol_shape(src)?;
    let name = format!("{machine}-{target}.{}", extension(format.as_deref()));
    if pool.lookup_storage_vol_by_name(&name).is_ok() {
        return Err(Error::Conflict(format!(
            "the pool already has a volume '{name}': pick another machine name or delete that volume"
        ))
        .into());
    }
    let copy = StorageVol::create_xml_from(pool, &xmlgen::volume_copy(&name, capacity, format.as_deref()), src, 0)?;
    Ok((copy, format))
}

/// What was made so far, undone if a later step fails.
#[derive(Default)]
struct Made {
    volumes: Vec<StorageVol>,
}

impl Made {
    fn undo(self) {
        for v in self.volumes {
            let _ = v.delete(0);
        }
    }
}

fn validate(c: &Connect, req: &CreateMachine) -> Result<(String, Shape), Fail> {
    let name = req.name.trim();
    if name.is_empty() || name.len() > 200 || name.contains('/') || name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "a machine name needs 1-200 characters and no '/'").into());
    }
    if c.lookup_domain_by_name(name).is_ok() {
        return Err(
            Error::Conflict(format!("a domain named '{name}' already exists on this host: pick another name")).into()
        );
    }
    if req.key.is_some() {
        return Err(Error::invalid(
            "key",
            "libvirt cannot put an SSH key into a new machine: use an image or template that already has your key, and leave the key empty",
        )
        .into());
    }
    if req.user_data.as_deref().is_some_and(|u| !u.trim().is_empty()) {
        return Err(
            Error::invalid("user_data", "libvirt machines take no cloud-init user data here; leave it empty").into()
        );
    }
    if let Some(k) = req.options.keys().find(|k| k.as_str() != "network") {
        return Err(Error::invalid("options", format!("libvirt takes no create option '{k}' (only 'network')")).into());
    }
    Ok((name.to_string(), parse_size(&req.size)?))
}

/// Defines and starts a new domain as `req` asks; returns it.
pub fn create(c: &Connect, req: &CreateMachine, now: String) -> Result<Domain, Fail> {
    let (name, shape) = validate(c, req)?;
    let pool = c.lookup_storage_pool_by_name(req.location.trim()).map_err(|_| {
        Error::invalid("location", format!("this host has no storage pool '{}': refresh the locations", req.location))
    })?;
    let network = match req.options.get("network") {
        Some(n) => Some(n.clone()),
        None => c
            .lookup_network_by_name("default")
            .ok()
            .filter(|n| n.is_active().unwrap_or(false))
            .map(|_| "default".to_string()),
    };
    let mut made = Made::default();
    let result = build(c, req, &name, shape, &pool, network.as_deref(), &mut made);
    let xml = match result {
        Ok(xml) => xml,
        Err(e) => {
            made.undo();
            return Err(e);
        }
    };
    let dom = match c.define_domain_xml(&xml) {
        Ok(d) => d,
        Err(e) => {
            made.undo();
            return Err(e.into());
        }
    };
    let meta = Meta {
        created: Some(now),
        image: Some(req.image.trim().to_string()),
        pool: Some(req.location.trim().to_string()),
        disks: made.volumes.iter().filter_map(|v| v.path().ok()).collect(),
        tags: req.tags.clone(),
    };
    if let Err(e) = dom.set_metadata(
        sys::VIR_DOMAIN_METADATA_ELEMENT as i32,
        Some(&meta.to_xml()),
        Some(PREFIX),
        Some(NS),
        sys::VIR_DOMAIN_AFFECT_CONFIG,
    ) {
        let _ = dom.undefine();
        made.undo();
        return Err(e.into());
    }
    // A machine that cannot start (no KVM, no such network) is removed again: a failed
    // create leaves nothing behind.
    if let Err(e) = dom.create() {
        let _ = dom.undefine();
        made.undo();
        return Err(e.into());
    }
    Ok(dom)
}

/// Copies the disks and returns the new domain's XML.
fn build(
    c: &Connect,
    req: &CreateMachine,
    name: &str,
    shape: Shape,
    pool: &StoragePool,
    network: Option<&str>,
    made: &mut Made,
) -> Result<String, Fail> {
    let (kind, arch) = xmlgen::guest_kind(&c.capabilities()?)?;
    let image = req.image.trim();
    if let Some(rest) = image.strip_prefix("vol:") {
        let (src_pool, vol) = rest
            .split_once('/')
            .ok_or_else(|| Error::invalid("image", format!("'{image}' is not an image id; refresh the images")))?;
        let src =
            c.lookup_storage_pool_by_name(src_pool).and_then(|p| p.lookup_storage_vol_by_name(vol)).map_err(|_| {
                Error::invalid(
                    "image",
                    format!("the volume '{vol}' is not in pool '{src_pool}' any more: refresh the images"),
                )
            })?;
        let (copy, format) = copy_volume(pool, &src, name, "vda")?;
        let path = copy.path()?;
        let block = copy.info().map(|i| i.kind == sys::VIR_STORAGE_VOL_BLOCK).unwrap_or(false);
        made.volumes.push(copy);
        return Ok(xmlgen::new_domain(
            &kind,
            &arch,
            name,
            shape,
            &BootDisk { path: &path, block, format: format.as_deref() },
            network,
        ));
    }
    let Some(uuid) = image.strip_prefix("domain:") else {
        return Err(Error::invalid("image", format!("'{image}' is not an image id; refresh the images")).into());
    };
    let tmpl = c
        .lookup_domain_by_uuid_string(uuid)
        .map_err(|_| Error::invalid("image", "the template domain is gone: refresh the images"))?;
    let tname = tmpl.name()?;
    if tmpl.is_active()? {
        return Err(Error::Conflict(format!(
            "the template '{tname}' is running: shut it down first so its disks can be copied consistently"
        ))
        .into());
    }
    let txml = tmpl.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)?;
    let facts = domain::parse(&txml)?;
    // Find every writable disk's volume before copying any, so a bad template copies nothing.
    let mut sources = Vec::new();
    for d in facts.disks.iter().filter(|d| d.device == "disk" && !d.readonly && !d.shareable) {
        let Some(src) = d.source.as_deref() else { continue };
        let vol = match &d.pool {
            Some(p) => c.lookup_storage_pool_by_name(p).and_then(|p| p.lookup_storage_vol_by_name(src)),
            None => c.lookup_storage_vol_by_path(src),
        };
        let vol = vol.map_err(|_| {
            Error::invalid(
                "image",
                format!(
                    "disk {} of template '{tname}' ({src}) is not a volume in a storage pool, so Skydeck cannot copy it: \
                     move it into a pool (or define a pool on its directory), or pick another image",
                    d.target
                ),
            )
        })?;
        sources.push((d, vol));
    }
    let mut new_sources = HashMap::new();
    for (d, vol) in sources {
        let (copy, _) = copy_volume(pool, &vol, name, &d.target)?;
        let key = match &d.pool {
            Some(p) => format!("{p}/{}", d.source.as_deref().unwrap_or_default()),
            None => d.source.clone().unwrap_or_default(),
        };
        let new = match &d.pool {
            Some(_) => NewSource::Volume { pool: pool.name()?, volume: copy.name()? },
            None => NewSource::Path(copy.path()?),
        };
        made.volumes.push(copy);
        new_sources.insert(key, new);
    }
    Ok(xmlgen::clone_domain(&txml, name, shape, &new_sources)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn size_ids() {
        let s = super::parse_size("2x2048").unwrap();
        assert_eq!((s.vcpus, s.memory_mib), (2, 2048));
        assert_eq!(super::size_id(s), "2x2048");
        for bad in ["", "2", "0x512", "2x10", "ax1", "2x"] {
            assert_eq!(super::parse_size(bad).unwrap_err().field(), Some("size"), "{bad}");
        }
    }
}
