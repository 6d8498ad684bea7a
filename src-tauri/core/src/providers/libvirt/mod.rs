//! KVM / libvirt hosts through the libvirt C library (crate `virt`): this machine's
//! hypervisor (`qemu:///system`, `qemu:///session`) or a remote one over SSH
//! (`qemu+ssh://user@host/system`, using ssh-agent / ~/.ssh, or a private key from the
//! keychain, see [`conn`]).
//!
//! Domains are machines, identified by their UUID (stable across renames):
//! * start = `virDomainCreate`, stop = `virDomainShutdown` (ACPI; the guest may ignore it),
//!   force off = `virDomainDestroy` (pulls the plug), reboot, suspend / resume (pause in
//!   memory; a PM-suspended guest is woken up instead).
//! * destroy = the domain is removed for good: powered off if running, then undefined
//!   (with its managed save, snapshot metadata and NVRAM), and the disk volumes Skydeck
//!   created for it are deleted. Disks Skydeck did not create (an imported image, a shared
//!   ISO) are left alone. The UI's destroy confirmation should say this.
//! * rename = `virDomainRename`, only while shut off (libvirt's rule; a `Conflict` otherwise).
//! * tags live in Skydeck's element of the domain's `<metadata>` (see [`domain::NS`]).
//! * create = copy a volume and boot it, or clone a shut-off template domain ([`create`]).
//!   No SSH key delivery: libvirt has no metadata service; images carry their own keys.

mod conn;
mod create;
pub mod domain;
mod errors;
pub mod uri;
pub(crate) mod xmlgen;

use crate::error::{Error, Result};
use crate::model::{Action, CreateMachine, Image, Location, Machine, MachineState, Size, Tags};
use crate::provider::*;
use async_trait::async_trait;
use conn::Conn;
use domain::{NS, PREFIX};
use errors::Fail;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use virt::connect::Connect;
use virt::domain::{Domain, DomainState};
use virt::sys;

pub const TITLE: &str = "KVM / libvirt";
/// The bound of one call, and of getting the connection first (an ssh login included): a
/// user-visible command ("Test & save", a refresh, an action) ends within it whatever the
/// host does. Below the 60 s every Skydeck command must end within, with room for the rest.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(45);
/// A create copies disk images, which can take long on a large image (the connection is
/// still bounded by [`CALL_TIMEOUT`]).
const CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

pub static SPEC: ProviderSpec = ProviderSpec {
    id: "libvirt",
    title: TITLE,
    logo: "libvirt.svg",
    docs_url: "https://libvirt.org/uri.html",
    legacy: false,
    fields: &[
        FieldSpec::new("uri", "Connection URI", FieldKind::Text)
            .help(
                "qemu:///system for this computer's KVM, qemu:///session for your user's own VMs, \
                 qemu+ssh://user@host/system for a remote host over SSH (uses your ssh-agent and ~/.ssh keys). \
                 URI parameters that pick a program, socket or key file (command=, socket=, keyfile=…) are refused.",
            )
            .placeholder("qemu:///system"),
        FieldSpec::new("ssh_private_key", "SSH private key", FieldKind::Secret).multiline().optional().help(
            "Only for qemu+ssh:// URIs whose key is not in ssh-agent or ~/.ssh: paste the private key. It stays in the \
             keychain and is written to a private temporary file only while connecting.",
        ),
    ],
    capabilities: Capabilities {
        list_locations: true,
        list_sizes: true,
        list_images: true,
        create: true,
        start: true,
        stop: true,
        reboot: true,
        destroy: true,
        rename: true,
        tag: true,
        suspend: true,
        force_off: true,
        user_data: false,
        key_delivery: KeyDelivery::None,
    },
    states: &[
        ("running", MachineState::Running),
        // Blocked on I/O: still a running guest.
        ("blocked", MachineState::Running),
        ("paused", MachineState::Suspended),
        ("pmsuspended", MachineState::Suspended),
        ("shutdown", MachineState::Stopping),
        ("shutoff", MachineState::Stopped),
        ("crashed", MachineState::Error),
        ("nostate", MachineState::Unknown),
    ],
    actions: &[
        (MachineState::Running, &[Action::Stop, Action::ForceOff, Action::Reboot, Action::Suspend, Action::Destroy, Action::Tag]),
        (MachineState::Stopped, &[Action::Start, Action::Destroy, Action::Rename, Action::Tag]),
        (MachineState::Suspended, &[Action::Resume, Action::ForceOff, Action::Destroy, Action::Tag]),
        (MachineState::Stopping, &[Action::ForceOff, Action::Tag]),
        (MachineState::Error, &[Action::ForceOff, Action::Destroy, Action::Tag]),
        (MachineState::Unknown, &[Action::Destroy, Action::Tag]),
        (MachineState::Pending, &[Action::Tag]),
        (MachineState::Starting, &[Action::Tag]),
        (MachineState::Rebooting, &[Action::Tag]),
        (MachineState::Terminated, &[]),
    ],
    connect,
    detect: Some(detect),
};

fn connect(c: Connection) -> Result<Box<dyn Provider>> {
    Ok(Box::new(Libvirt::open(c)?))
}

/// libvirt daemons listening on this computer, offered as one-click clouds.
fn detect() -> Vec<DetectedHost> {
    #[cfg(unix)]
    let is_socket = |p: &std::path::Path| {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(p).map(|m| m.file_type().is_socket()).unwrap_or(false)
    };
    #[cfg(not(unix))]
    let is_socket = |p: &std::path::Path| p.exists();
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(std::path::PathBuf::from);
    let mut found = Vec::new();
    let system = ["/run/libvirt/virtqemud-sock", "/run/libvirt/libvirt-sock", "/var/run/libvirt/libvirt-sock"];
    if system.iter().any(|p| is_socket(std::path::Path::new(p))) {
        found.push(("KVM on this computer", "qemu:///system"));
    }
    if runtime.is_some_and(|r| ["libvirt/virtqemud-sock", "libvirt/libvirt-sock"].iter().any(|p| is_socket(&r.join(p))))
    {
        found.push(("KVM on this computer (your user)", "qemu:///session"));
    }
    found
        .into_iter()
        .map(|(title, uri)| DetectedHost {
            provider: SPEC.id.into(),
            title: title.into(),
            fields: BTreeMap::from([("uri".to_string(), uri.to_string())]),
        })
        .collect()
}

pub struct Libvirt {
    conn: Arc<Conn>,
    /// See [`CALL_TIMEOUT`]; shorter only in tests ([`Libvirt::with_call_timeout`]).
    timeout: Duration,
}

impl Libvirt {
    /// Checks the fields; the connection itself opens on first use (off the async thread).
    pub fn open(c: Connection) -> Result<Self> {
        let uri = c.required_field("uri")?.trim().to_string();
        // Before anything reaches libvirt: a URI can name a program for libvirt to run.
        let checked = uri::check(&uri)?;
        let key = c.secrets.get("ssh_private_key").map(|k| k.expose().trim().to_string()).filter(|k| !k.is_empty());
        let key = match key {
            None => None,
            Some(_) if !checked.is_ssh() => {
                return Err(Error::invalid(
                    "ssh_private_key",
                    "an SSH key only applies to SSH URIs such as qemu+ssh://user@host/system: clear the key or change the URI",
                ))
            }
            Some(k) => Some(crate::secrets::Sensitive::new(conn::normalize_key(&k).ok_or_else(|| {
                Error::invalid("ssh_private_key", "this is not a private key: paste the whole key file, including its BEGIN and END lines")
            })?)),
        };
        Ok(Libvirt { conn: Arc::new(Conn::new(uri, checked, key)), timeout: CALL_TIMEOUT })
    }

    /// The same driver with another bound per call (see [`CALL_TIMEOUT`]): for tests that
    /// check the bound without waiting the default.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs `f` on the connection with this driver's bounds.
    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connect) -> Result<T, Fail> + Send + 'static,
    {
        self.conn.run(self.timeout, self.timeout, f).await
    }

    /// Runs `f` on this cloud's libvirt connection (on the blocking pool): for tests and tools
    /// that need more of libvirt than the provider trait offers (e.g. to add a volume).
    pub async fn with_connect<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connect) -> Result<T, virt::error::Error> + Send + 'static,
    {
        self.run(move |c| f(c).map_err(Fail::Virt)).await
    }
}

fn lookup(c: &Connect, id: &str) -> Result<Domain, Fail> {
    Ok(c.lookup_domain_by_uuid_string(id)?)
}

fn state_of(d: &Domain) -> Result<Option<DomainState>, Fail> {
    Ok(d.state()?.0.known())
}

fn machine_of(d: &Domain, host: &str) -> Result<Machine, Fail> {
    let state = domain::state_name(state_of(d)?);
    let facts = domain::parse(&d.xml_desc(0)?)?;
    let mut m = domain::machine(d.uuid_string()?, d.name()?, state, &facts);
    m.location = host.to_string();
    if d.is_active()? {
        // DHCP leases of libvirt's own networks; guests on bridges show no address here.
        for iface in d.interface_addresses(sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, 0).unwrap_or_default() {
            for a in iface.addrs {
                match a.addr.parse::<IpAddr>() {
                    Ok(ip) if is_private(ip) => m.private_ips.push(a.addr),
                    Ok(_) => m.public_ips.push(a.addr),
                    Err(_) => {}
                }
            }
        }
    }
    m.extra.insert("persistent".into(), d.is_persistent()?.to_string());
    Ok(m)
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64
        }
        IpAddr::V6(v6) => {
            v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

fn list(c: &Connect) -> Result<Vec<Machine>, Fail> {
    let host = c.hostname().unwrap_or_default();
    let mut out = Vec::new();
    for d in c.list_all_domains(0)? {
        match machine_of(&d, &host) {
            Ok(m) => out.push(m),
            // Undefined while we listed it: it is simply gone.
            Err(Fail::Virt(e)) if e.code().is(virt::error::ErrorNumber::NoDomain) => {}
            Err(e) => return Err(e),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

/// Powers off, undefines, and deletes the volumes Skydeck made for the domain.
fn remove(c: &Connect, d: &Domain) -> Result<(), Fail> {
    let ours = domain::parse(&d.xml_desc(0)?)?.meta.disks;
    let persistent = d.is_persistent()?;
    if d.is_active()? {
        d.destroy()?;
    }
    if persistent {
        let flags = sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
            | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
            | sys::VIR_DOMAIN_UNDEFINE_NVRAM
            | sys::VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;
        if let Err(e) = d.undefine_flags(flags) {
            use virt::error::ErrorNumber as N;
            // Drivers that know none of these flags (and have nothing to clean up).
            if !e.code().is_known_and(|c| matches!(c, N::NoSupport | N::InvalidArg | N::ArgumentUnsupported)) {
                return Err(e.into());
            }
            d.undefine()?;
        }
    }
    let left: Vec<String> = ours
        .into_iter()
        .filter(|path| c.lookup_storage_vol_by_path(path).is_ok_and(|v| v.delete(0).is_err()))
        .collect();
    if !left.is_empty() {
        return Err(Error::Provider {
            provider: "libvirt".into(),
            status: 0,
            code: Some("disk_left".into()),
            message: format!(
                "the machine is gone, but its disk(s) {} could not be deleted: delete them with `virsh vol-delete <path>`",
                left.join(", ")
            ),
        }
        .into());
    }
    Ok(())
}

fn check_tags(tags: &Tags) -> Result<()> {
    let bad = |s: &str| s.chars().any(|c| c.is_control() && c != '\t');
    if let Some((k, _)) = tags.iter().find(|(k, v)| k.trim().is_empty() || bad(k) || bad(v)) {
        return Err(Error::invalid(
            "tags",
            format!("the tag '{}' needs a key without control characters", k.escape_debug()),
        ));
    }
    Ok(())
}

#[async_trait]
impl Provider for Libvirt {
    async fn test_connection(&self) -> Result<()> {
        self.run(|c| Ok(c.list_all_domains(0).map(|_| ())?)).await
    }

    async fn list_machines(&self) -> Result<Vec<Machine>> {
        self.run(list).await
    }

    async fn list_locations(&self) -> Result<Vec<Location>> {
        self.run(create::locations).await
    }

    async fn list_sizes(&self) -> Result<Vec<Size>> {
        self.run(create::sizes).await
    }

    async fn list_images(&self) -> Result<Vec<Image>> {
        self.run(create::images).await
    }

    async fn create_machine(&self, req: &CreateMachine) -> Result<Machine> {
        check_tags(&req.tags)?;
        let (req, now) = (req.clone(), crate::now_rfc3339());
        self.conn
            .run(self.timeout, CREATE_TIMEOUT.max(self.timeout), move |c| {
                let d = create::create(c, &req, now)?;
                machine_of(&d, &c.hostname().unwrap_or_default())
            })
            .await
    }

    async fn machine_action(&self, machine: &Machine, action: Action) -> Result<()> {
        let id = machine.id.clone();
        self.run(move |c| {
            let d = lookup(c, &id)?;
            // Checked here so every hypervisor answers alike (the test driver calls a
            // second start an internal error, QEMU an invalid operation).
            let active = d.is_active()?;
            let name = || d.name().unwrap_or_default();
            match action {
                Action::Start if active => {
                    return Err(Error::Conflict(format!("'{}' is already running", name())).into())
                }
                Action::Stop | Action::Reboot | Action::Suspend | Action::ForceOff if !active => {
                    return Err(Error::Conflict(format!("'{}' is not running: start it first", name())).into())
                }
                _ => {}
            }
            match action {
                Action::Start => d.create()?,
                Action::Stop => d.shutdown()?,
                Action::Reboot => d.reboot(sys::VIR_DOMAIN_REBOOT_DEFAULT)?,
                Action::Suspend => d.suspend()?,
                Action::Resume if state_of(&d)? == Some(DomainState::PMSuspended) => d.pm_wakeup(0)?,
                Action::Resume => d.resume()?,
                Action::ForceOff => d.destroy()?,
                Action::Destroy => remove(c, &d)?,
                Action::Rename | Action::Tag => {
                    return Err(Error::NotSupported(format!(
                        "'{action}' is not a power action; use rename or set tags"
                    ))
                    .into())
                }
            }
            Ok(())
        })
        .await
    }

    async fn rename(&self, machine: &Machine, name: &str) -> Result<()> {
        let name = name.trim().to_string();
        if name.is_empty() || name.len() > 200 || name.contains('/') || name.chars().any(char::is_control) {
            return Err(Error::invalid("name", "a machine name needs 1-200 characters and no '/'"));
        }
        let id = machine.id.clone();
        self.run(move |c| {
            let d = lookup(c, &id)?;
            if d.is_active()? {
                return Err(Error::Conflict(format!(
                    "libvirt renames only shut-off machines: stop '{}' first, then rename it",
                    d.name()?
                ))
                .into());
            }
            if d.name()? == name {
                return Ok(());
            }
            if c.lookup_domain_by_name(&name).is_ok() {
                return Err(Error::Conflict(format!(
                    "a domain named '{name}' already exists on this host: pick another name"
                ))
                .into());
            }
            Ok(d.rename(&name, 0)?)
        })
        .await
    }

    async fn set_tags(&self, machine: &Machine, tags: &Tags) -> Result<()> {
        check_tags(tags)?;
        let (id, tags) = (machine.id.clone(), tags.clone());
        self.run(move |c| {
            let d = lookup(c, &id)?;
            let live = d.is_active()?;
            let flags = match (live, d.is_persistent()?) {
                (true, true) => sys::VIR_DOMAIN_AFFECT_LIVE | sys::VIR_DOMAIN_AFFECT_CONFIG,
                (true, false) => sys::VIR_DOMAIN_AFFECT_LIVE,
                (false, _) => sys::VIR_DOMAIN_AFFECT_CONFIG,
            };
            // Keep the rest of Skydeck's element (created, image, disks); only tags change.
            let mut meta = domain::parse(&d.xml_desc(if live { 0 } else { sys::VIR_DOMAIN_XML_INACTIVE })?)?.meta;
            meta.tags = tags;
            Ok(d.set_metadata(
                sys::VIR_DOMAIN_METADATA_ELEMENT as i32,
                Some(&meta.to_xml()),
                Some(PREFIX),
                Some(NS),
                flags,
            )?)
        })
        .await
    }
}
