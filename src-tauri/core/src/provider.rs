//! What a provider is: static data (id, title, credential fields, capabilities, state map,
//! allowed actions) plus a driver behind the async [`Provider`] trait. Each provider module
//! exports one `SPEC: ProviderSpec`; the registry in `providers/mod.rs` lists them. Nothing
//! outside a provider's module branches on which provider it is.

use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::model::{Action, CreateMachine, Image, Location, Machine, MachineState, Size, Tags};
use crate::secrets::Sensitive;
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    /// Stored in the OS keychain, shown as a password input, never echoed back.
    Secret,
    Url,
    Select,
    Textarea,
    File,
}

/// One credential-form field, declared by the provider as data. The UI form and the CLI's
/// `--field key=value` are both generated from this.
#[derive(Debug, Clone, Serialize)]
pub struct FieldSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub help: &'static str,
    pub placeholder: &'static str,
    pub default: Option<&'static str>,
    /// Shown under "Advanced" (e.g. an alternative API endpoint).
    pub advanced: bool,
    /// Choices for `Select`.
    pub options: &'static [&'static str],
    /// The value spans lines (a PEM key, a certificate): the UI draws a text area, masked when
    /// the field is a secret (a one-line password input would drop the line breaks).
    pub multiline: bool,
}

impl FieldSpec {
    pub const fn new(key: &'static str, label: &'static str, kind: FieldKind) -> Self {
        FieldSpec {
            key,
            label,
            kind,
            required: true,
            help: "",
            placeholder: "",
            default: None,
            advanced: false,
            options: &[],
            multiline: false,
        }
    }
    pub const fn optional(mut self) -> Self {
        self.required = false;
        self
    }
    pub const fn help(mut self, help: &'static str) -> Self {
        self.help = help;
        self
    }
    pub const fn placeholder(mut self, p: &'static str) -> Self {
        self.placeholder = p;
        self
    }
    pub const fn default_value(mut self, d: &'static str) -> Self {
        self.default = Some(d);
        self
    }
    /// The standard optional "API endpoint" field: lets the same driver target a compatible
    /// API, a proxy or a local emulator.
    pub const fn endpoint(default_url: &'static str) -> Self {
        FieldSpec {
            key: "endpoint",
            label: "API endpoint",
            kind: FieldKind::Url,
            required: false,
            help: "Only change this to reach a compatible API, a proxy or a local emulator.",
            placeholder: default_url,
            default: None,
            advanced: true,
            options: &[],
            multiline: false,
        }
    }
    /// Marks the value as spanning lines (see [`FieldSpec::multiline`]).
    pub const fn multiline(mut self) -> Self {
        self.multiline = true;
        self
    }
    pub fn is_secret(&self) -> bool {
        self.kind == FieldKind::Secret
    }
}

/// How a public SSH key reaches a new machine on this provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyDelivery {
    /// Registered once through the provider's API, then referenced by id.
    Registered,
    /// Imported per region/location (EC2 key pairs).
    PerRegion,
    /// Passed inline with the create request (cloud-init / authorized_keys).
    Inline,
    None,
}

/// What a provider can do, as a flat struct of booleans (OpenDAL style).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Capabilities {
    pub list_locations: bool,
    pub list_sizes: bool,
    pub list_images: bool,
    pub create: bool,
    pub start: bool,
    pub stop: bool,
    pub reboot: bool,
    pub destroy: bool,
    pub rename: bool,
    pub tag: bool,
    /// Suspend and resume (pause in memory).
    pub suspend: bool,
    /// Hard power-off besides the graceful stop.
    pub force_off: bool,
    pub user_data: bool,
    pub key_delivery: KeyDelivery,
}

impl Capabilities {
    pub fn supports(&self, action: Action) -> bool {
        match action {
            Action::Start => self.start,
            Action::Stop => self.stop,
            Action::Reboot => self.reboot,
            Action::Destroy => self.destroy,
            Action::Rename => self.rename,
            Action::Tag => self.tag,
            Action::Suspend | Action::Resume => self.suspend,
            Action::ForceOff => self.force_off,
        }
    }
}

/// The shared default for which actions make sense in which state; a provider may declare its
/// own table instead. Entries the provider's capabilities lack are dropped (`allowed_actions`),
/// so e.g. ForceOff (a hard power-off when a graceful stop is ignored) shows only where it exists.
pub const DEFAULT_ACTIONS: &[(MachineState, &[Action])] = &[
    (MachineState::Running, &[Action::Stop, Action::ForceOff, Action::Reboot, Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Stopped, &[Action::Start, Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Suspended, &[Action::Start, Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Error, &[Action::Reboot, Action::ForceOff, Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Unknown, &[Action::ForceOff, Action::Destroy, Action::Tag]),
    (MachineState::Pending, &[Action::Destroy, Action::Tag]),
    (MachineState::Starting, &[Action::Tag]),
    (MachineState::Stopping, &[Action::ForceOff, Action::Tag]),
    (MachineState::Rebooting, &[Action::Tag]),
    (MachineState::Terminated, &[]),
];

/// The shared table for providers whose `suspended` is imposed by the provider (billing or
/// abuse, e.g. Linode, Vultr): the user cannot start their way out of it.
pub const ACTIONS_SUSPENDED_BY_PROVIDER: &[(MachineState, &[Action])] = &[
    (MachineState::Running, &[Action::Stop, Action::ForceOff, Action::Reboot, Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Stopped, &[Action::Start, Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Suspended, &[Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Error, &[Action::Reboot, Action::ForceOff, Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Unknown, &[Action::ForceOff, Action::Destroy, Action::Tag]),
    (MachineState::Pending, &[Action::Destroy, Action::Tag]),
    (MachineState::Starting, &[Action::Tag]),
    (MachineState::Stopping, &[Action::ForceOff, Action::Tag]),
    (MachineState::Rebooting, &[Action::Tag]),
    (MachineState::Terminated, &[]),
];

/// Everything Skydeck knows about a provider before connecting to it.
#[derive(Serialize)]
pub struct ProviderSpec {
    pub id: &'static str,
    pub title: &'static str,
    /// File name under `icons/providers/`.
    pub logo: &'static str,
    pub docs_url: &'static str,
    /// True for drivers of an API that is no longer offered (kept as a documented example).
    pub legacy: bool,
    pub fields: &'static [FieldSpec],
    pub capabilities: Capabilities,
    /// Raw provider state → normalized state. Raw states not listed map to `unknown`.
    pub states: &'static [(&'static str, MachineState)],
    /// Allowed actions per normalized state (before capability filtering).
    pub actions: &'static [(MachineState, &'static [Action])],
    #[serde(skip)]
    pub connect: fn(Connection) -> Result<Box<dyn Provider>>,
    /// Finds hosts of this provider on the user's own machine (a Docker or libvirt socket) for
    /// zero-setup onboarding. `None` for remote-only providers.
    #[serde(skip)]
    pub detect: Option<fn() -> Vec<DetectedHost>>,
}

/// A host found on this machine that can be added as a cloud in one click.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct DetectedHost {
    pub provider: String,
    pub title: String,
    /// Non-secret credential fields (e.g. the socket URI).
    pub fields: BTreeMap<String, String>,
}

impl std::fmt::Debug for ProviderSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSpec").field("id", &self.id).finish_non_exhaustive()
    }
}

impl ProviderSpec {
    pub fn normalize(&self, raw_state: &str) -> MachineState {
        let raw = raw_state.to_ascii_lowercase();
        self.states
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(&raw))
            .map(|(_, s)| *s)
            .unwrap_or(MachineState::Unknown)
    }

    pub fn allowed_actions(&self, state: MachineState) -> Vec<Action> {
        self.actions
            .iter()
            .find(|(s, _)| *s == state)
            .map(|(_, a)| a.iter().copied().filter(|a| self.capabilities.supports(*a)).collect())
            .unwrap_or_default()
    }

    /// Fills the shared fields of machines a driver returned: cloud, provider, normalized
    /// state and allowed actions.
    pub fn finish(&self, cloud_id: &str, machines: &mut [Machine]) {
        for m in machines {
            m.cloud_id = cloud_id.to_string();
            m.provider = self.id.to_string();
            m.state = self.normalize(&m.raw_state);
            m.actions = self.allowed_actions(m.state);
        }
    }

    pub fn field(&self, key: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.key == key)
    }
}

/// What a driver gets to connect: the cloud's non-secret fields, its secrets and the shared
/// HTTP client.
pub struct Connection {
    pub cloud_id: String,
    pub fields: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, Sensitive<String>>,
    pub http: HttpClient,
}

impl Connection {
    /// A non-secret field, trimmed, `None` when empty.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
    pub fn required_field(&self, key: &str) -> Result<&str> {
        self.field(key).ok_or_else(|| Error::invalid(key, format!("'{key}' is required")))
    }
    pub fn secret(&self, key: &str) -> Result<&str> {
        self.secrets
            .get(key)
            .map(|s| s.expose().trim())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::invalid(key, format!("'{key}' is required")))
    }
    /// The endpoint field or the provider's default, without a trailing slash, checked by
    /// the shared endpoint rule ([`check_endpoint`]).
    pub fn endpoint_or(&self, default: &str) -> Result<url::Url> {
        let raw = self.field("endpoint").unwrap_or(default).trim_end_matches('/');
        let url = url::Url::parse(raw)
            .map_err(|e| Error::invalid("endpoint", format!("'{raw}' is not a valid URL ({e}); use e.g. {default}")))?;
        check_endpoint(&url, default)?;
        Ok(url)
    }
}

/// The one rule for every API endpoint Skydeck sends credentials to: `https://` to any host,
/// `http://` only to this computer (127.0.0.0/8, ::1, `localhost`: local emulators and test
/// peers), because bearer tokens, API keys in URLs and signed requests must never cross a
/// network unencrypted. `example` is a valid endpoint to suggest.
pub fn check_endpoint(url: &url::Url, example: &str) -> Result<()> {
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        _ if url.cannot_be_a_base() || url.host().is_none() => {}
        "https" => return Ok(()),
        "http" if loopback => return Ok(()),
        "http" => {
            return Err(Error::invalid(
                "endpoint",
                format!(
                    "plain http:// would send the credentials unencrypted to {}; use an https:// endpoint such as \
                     {example} (http:// is allowed only to this computer: 127.0.0.1, ::1 or localhost)",
                    url.host_str().unwrap_or_default()
                ),
            ))
        }
        _ => {}
    }
    Err(Error::invalid("endpoint", format!("the API endpoint must be an https:// URL such as {example}")))
}

/// A connected driver. Unsupported operations return `Error::NotSupported`, never panic.
#[async_trait]
pub trait Provider: Send + Sync {
    /// A cheap authenticated call that proves the credentials work.
    async fn test_connection(&self) -> Result<()>;
    async fn list_machines(&self) -> Result<Vec<Machine>>;
    async fn list_locations(&self) -> Result<Vec<Location>> {
        Err(Error::NotSupported("this provider cannot list locations".into()))
    }
    async fn list_sizes(&self) -> Result<Vec<Size>> {
        Err(Error::NotSupported("this provider cannot list sizes".into()))
    }
    async fn list_images(&self) -> Result<Vec<Image>> {
        Err(Error::NotSupported("this provider cannot list images".into()))
    }
    /// Creates a machine and returns it as the provider first reports it (usually pending).
    /// The driver delivers `req.key` its own way (see [`KeyDelivery`]): register it once via
    /// the API (matched by fingerprint), import it per region, or pass it inline.
    async fn create_machine(&self, _req: &CreateMachine) -> Result<Machine> {
        Err(Error::NotSupported("this provider cannot create machines".into()))
    }
    /// Start, stop, reboot or destroy. `machine` is the last-known copy (drivers may need
    /// `extra`, e.g. the region).
    async fn machine_action(&self, machine: &Machine, action: Action) -> Result<()>;
    async fn rename(&self, _machine: &Machine, _name: &str) -> Result<()> {
        Err(Error::NotSupported("this provider cannot rename machines".into()))
    }
    /// Makes the machine's tags exactly `tags` (adds, changes, removes).
    async fn set_tags(&self, _machine: &Machine, _tags: &Tags) -> Result<()> {
        Err(Error::NotSupported("this provider cannot tag machines".into()))
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::*;

    fn check(raw: &str) -> Result<()> {
        let c = Connection {
            cloud_id: "c".into(),
            fields: BTreeMap::from([("endpoint".to_string(), raw.to_string())]),
            secrets: BTreeMap::new(),
            http: HttpClient::new().unwrap(),
        };
        c.endpoint_or("https://api.example.com").map(|_| ())
    }

    #[test]
    fn https_anywhere_and_http_only_to_loopback() {
        for ok in [
            "https://api.example.com",
            "https://10.0.0.5:8443/v1",
            "http://127.0.0.1:4010",
            "http://127.8.9.10/v2",
            "http://[::1]:8080",
            "http://localhost:5000/",
            "http://LOCALHOST",
        ] {
            check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "http://api.example.com",
            "http://10.0.0.5:4010",
            "http://192.168.1.1",
            "http://[::ffff:10.0.0.1]",
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io",
            "ftp://127.0.0.1",
            "file:///etc/passwd",
            "mailto:someone@example.com",
            "unix:/var/run/x.sock",
            "not a url",
        ] {
            let e = check(bad).expect_err(bad);
            assert_eq!((e.code(), e.field()), ("invalid_input", Some("endpoint")), "{bad}");
            assert!(e.to_string().contains("https://api.example.com"), "{bad}: {e}");
        }
        let e = check("http://api.example.com").unwrap_err();
        assert!(e.to_string().contains("unencrypted"), "{e}");
    }
}
