//! The normalized model every provider maps into.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Normalized machine states (libcloud's NodeState, trimmed). The raw provider state is kept
/// beside it in [`Machine::raw_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineState {
    Pending,
    Starting,
    Running,
    Stopping,
    Stopped,
    Rebooting,
    Suspended,
    Terminated,
    Error,
    Unknown,
}

impl MachineState {
    pub const ALL: [MachineState; 10] = [
        MachineState::Pending,
        MachineState::Starting,
        MachineState::Running,
        MachineState::Stopping,
        MachineState::Stopped,
        MachineState::Rebooting,
        MachineState::Suspended,
        MachineState::Terminated,
        MachineState::Error,
        MachineState::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MachineState::Pending => "pending",
            MachineState::Starting => "starting",
            MachineState::Running => "running",
            MachineState::Stopping => "stopping",
            MachineState::Stopped => "stopped",
            MachineState::Rebooting => "rebooting",
            MachineState::Suspended => "suspended",
            MachineState::Terminated => "terminated",
            MachineState::Error => "error",
            MachineState::Unknown => "unknown",
        }
    }

    /// A state that is on its way to another one: the inventory refreshes faster meanwhile.
    pub fn is_transitioning(self) -> bool {
        matches!(
            self,
            MachineState::Pending | MachineState::Starting | MachineState::Stopping | MachineState::Rebooting
        )
    }
}

impl std::fmt::Display for MachineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a user can do to a machine. Which of them is offered depends on the provider's
/// capabilities and its per-state table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Start,
    /// Graceful shutdown.
    Stop,
    Reboot,
    Destroy,
    Rename,
    Tag,
    /// Pause a running machine in memory (libvirt suspend); `Resume` continues it.
    Suspend,
    Resume,
    /// Cut power at once, like pulling the plug (libvirt destroy); `Stop` is the graceful one.
    ForceOff,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::Start,
        Action::Stop,
        Action::Reboot,
        Action::Destroy,
        Action::Rename,
        Action::Tag,
        Action::Suspend,
        Action::Resume,
        Action::ForceOff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Reboot => "reboot",
            Action::Destroy => "destroy",
            Action::Rename => "rename",
            Action::Tag => "tag",
            Action::Suspend => "suspend",
            Action::Resume => "resume",
            Action::ForceOff => "force_off",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub type Tags = BTreeMap<String, String>;

/// One machine of one cloud, as the provider last reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// The provider's own id (droplet id, instance id, ...).
    pub id: String,
    pub cloud_id: String,
    pub provider: String,
    pub name: String,
    pub state: MachineState,
    pub raw_state: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub size: String,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub public_ips: Vec<String>,
    #[serde(default)]
    pub private_ips: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
    /// RFC 3339, when the provider says the machine was created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// True when this is the last-known copy because the latest refresh of its cloud failed.
    #[serde(default)]
    pub stale: bool,
    /// Actions the provider allows in the current state (filled in by the shared layer).
    #[serde(default)]
    pub actions: Vec<Action>,
    /// Provider-specific details a driver needs to act on the machine again (e.g. the EC2
    /// region) or that the details panel shows. Never secret.
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

impl Machine {
    /// A machine with the fields every provider fills; the rest default to empty.
    pub fn new(id: impl Into<String>, name: impl Into<String>, raw_state: impl Into<String>) -> Self {
        Machine {
            id: id.into(),
            cloud_id: String::new(),
            provider: String::new(),
            name: name.into(),
            state: MachineState::Unknown,
            raw_state: raw_state.into(),
            location: String::new(),
            size: String::new(),
            image: String::new(),
            public_ips: Vec::new(),
            private_ips: Vec::new(),
            tags: Tags::new(),
            created_at: None,
            stale: false,
            actions: Vec::new(),
            extra: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub available: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Size {
    pub id: String,
    pub name: String,
    pub vcpus: Option<u32>,
    pub ram_mb: Option<u64>,
    pub disk_gb: Option<u64>,
    pub price_hourly: Option<f64>,
    pub price_monthly: Option<f64>,
    /// Locations the size can be created in; empty = everywhere / unknown.
    #[serde(default)]
    pub locations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub distribution: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub arch: Option<String>,
    #[serde(default)]
    pub locations: Vec<String>,
}

/// A configured cloud account (non-secret part; secrets live in the keychain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cloud {
    pub id: String,
    pub provider: String,
    pub title: String,
    pub enabled: bool,
    /// Non-secret credential fields (region list, endpoint, ...).
    pub fields: BTreeMap<String, String>,
    pub created_at: String,
}

/// What the last refresh of a cloud gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CloudStatus {
    /// RFC 3339 time of the last successful refresh.
    pub last_ok: Option<String>,
    /// RFC 3339 time of the last attempt.
    pub last_attempt: Option<String>,
    pub error: Option<crate::error::ErrorBody>,
    pub machine_count: usize,
}

/// A cloud together with its last refresh status, as `cloud list` and the sidebar show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudView {
    #[serde(flatten)]
    pub cloud: Cloud,
    pub status: CloudStatus,
}

/// The public half of an SSH key, as a driver needs it to put the key on a new machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SshPublicKey {
    /// The user's name for the key (drivers use it when they register the key).
    pub name: String,
    /// OpenSSH one-line form: `ssh-ed25519 AAAA… comment`.
    pub openssh: String,
    /// `SHA256:…` as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
}

/// Everything the create-machine wizard chose. Ids are those the catalog calls returned.
/// Debug is written by hand: user data often carries passwords or tokens for cloud-init.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateMachine {
    pub name: String,
    pub location: String,
    pub size: String,
    pub image: String,
    #[serde(default)]
    pub key: Option<SshPublicKey>,
    #[serde(default)]
    pub tags: Tags,
    /// cloud-init user data.
    #[serde(default)]
    pub user_data: Option<String>,
    /// Provider-specific create options as plain key → value (e.g. Docker's `env`, `ports`,
    /// `command`, `network`); each provider documents and validates the keys it reads and
    /// rejects the ones it does not know.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Chosen once per create; drivers with an idempotency token (EC2 ClientToken) pass it so
    /// a retry can never make a second machine.
    pub client_token: String,
}

impl std::fmt::Debug for CreateMachine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateMachine")
            .field("name", &self.name)
            .field("location", &self.location)
            .field("size", &self.size)
            .field("image", &self.image)
            .field("key", &self.key)
            .field("tags", &self.tags)
            .field("user_data", &UserDataLen(&self.user_data))
            .field("options", &self.options)
            .field("client_token", &self.client_token)
            .finish()
    }
}

/// Shows cloud-init user data in Debug output as its size only (it may hold secrets).
pub struct UserDataLen<'a>(pub &'a Option<String>);

impl std::fmt::Debug for UserDataLen<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(u) => write!(f, "<{} bytes>", u.len()),
            None => f.write_str("None"),
        }
    }
}
