//! Docker hosts (the Docker Engine API, also served by Podman's Docker-compatible service),
//! through the `bollard` crate.
//!
//! Containers are machines: all of them are listed (stopped ones too); start, stop, kill
//! (force off), restart (reboot), pause/unpause (suspend/resume), remove (destroy) and rename
//! map to the Engine API one to one. A host is reached over a local socket, `tcp://` (plain,
//! or TLS with a CA, client certificate and key held in memory: see [`transport`]) or
//! `ssh://`. Bollard has its own HTTP transport, so this driver does not go through the shared
//! retry layer; it retries nothing (a daemon that refuses is not overloaded, it is down).
//!
//! Tags: a container's labels are shown as its tags, but Docker fixes labels when the
//! container is created (there is no API to change them), so `tag` is false and labels are
//! set only at create time (`CreateMachine::tags` → labels).

pub mod convert;
pub mod detect;
pub mod errors;
pub mod transport;

use crate::error::{Error, Result};
use crate::model::{Action, CreateMachine, Image, Location, Machine, MachineState, Size};
use crate::provider::*;
use async_trait::async_trait;
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, ListContainersOptions, ListImagesOptions, RemoveContainerOptions,
    RenameContainerOptions, RestartContainerOptions, StartContainerOptions, StopContainerOptions,
};
use bollard::Docker;
use errors::map_error;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::OnceCell;

pub const TITLE: &str = "Docker host";

/// The bound of one driver operation, settling the API version included: against a daemon
/// that accepts and never answers (over a socket, tcp or ssh) every command ends with
/// `unavailable` within it. Long enough for a graceful stop (10 s, then SIGKILL) or restart.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(45);

const STATES: &[(&str, MachineState)] = &[
    // A created container has never run but can be started like a stopped one.
    ("created", MachineState::Stopped),
    ("running", MachineState::Running),
    ("paused", MachineState::Suspended),
    ("restarting", MachineState::Rebooting),
    ("removing", MachineState::Stopping),
    ("stopping", MachineState::Stopping),
    ("exited", MachineState::Stopped),
    ("dead", MachineState::Error),
];

const ACTIONS: &[(MachineState, &[Action])] = &[
    (
        MachineState::Running,
        &[Action::Stop, Action::ForceOff, Action::Reboot, Action::Suspend, Action::Destroy, Action::Rename],
    ),
    (MachineState::Stopped, &[Action::Start, Action::Destroy, Action::Rename]),
    // Docker refuses to stop or kill a paused container: resume it first.
    (MachineState::Suspended, &[Action::Resume, Action::Destroy, Action::Rename]),
    // A container in a restart loop: let the user stop or remove it.
    (MachineState::Rebooting, &[Action::Stop, Action::ForceOff, Action::Destroy]),
    (MachineState::Error, &[Action::Destroy]),
    (MachineState::Unknown, &[Action::Destroy]),
    (MachineState::Pending, &[Action::Destroy]),
    (MachineState::Starting, &[]),
    (MachineState::Stopping, &[]),
    (MachineState::Terminated, &[]),
];

pub static SPEC: ProviderSpec = ProviderSpec {
    id: "docker",
    title: TITLE,
    logo: "docker.svg",
    docs_url: "https://docs.docker.com/reference/api/engine/",
    legacy: false,
    fields: &[
        FieldSpec::new("host", "Docker host", FieldKind::Url)
            .help(
                "Where the Docker (or Podman) API listens: a local socket such as unix:///var/run/docker.sock or \
                 unix:///run/user/1000/podman/podman.sock, tcp://host:2376 (add the TLS fields below), or \
                 ssh://user@host (uses your ssh config and agent; the remote needs the docker CLI).",
            )
            .placeholder("unix:///var/run/docker.sock")
            .default_value("unix:///var/run/docker.sock"),
        FieldSpec::new("tls_ca", "TLS CA certificate", FieldKind::Textarea)
            .optional()
            .help("For tcp:// with TLS: the PEM contents of the CA that signed the daemon's certificate (ca.pem).")
            .placeholder("-----BEGIN CERTIFICATE-----"),
        FieldSpec::new("tls_cert", "TLS client certificate", FieldKind::Textarea)
            .optional()
            .help("For tcp:// with TLS client authentication: the PEM contents of your certificate (cert.pem).")
            .placeholder("-----BEGIN CERTIFICATE-----"),
        FieldSpec::new("tls_key", "TLS client key", FieldKind::Secret).multiline()
            .optional()
            .help("The PEM contents of the client certificate's private key (key.pem); kept in the OS keychain.")
            .placeholder("-----BEGIN PRIVATE KEY-----"),
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
        // Labels are fixed at create time; Docker has no call to change them.
        tag: false,
        suspend: true,
        force_off: true,
        // Containers take no cloud-init; `command` and `env` options do that job.
        user_data: false,
        key_delivery: KeyDelivery::None,
    },
    states: STATES,
    actions: ACTIONS,
    connect,
    detect: Some(detect::detect),
};

fn connect(c: Connection) -> Result<Box<dyn Provider>> {
    let target = transport::Target::from_connection(&c)?;
    // Check the settings now (TLS material, address); a daemon that is not up yet is fine:
    // the client is built again on first use.
    match target.docker() {
        Ok(_) | Err(Error::Unavailable(_)) => {}
        Err(e) => return Err(e),
    }
    Ok(Box::new(DockerHost { location: target.location_id(), target, negotiated: OnceCell::new() }))
}

pub struct DockerHost {
    target: transport::Target,
    /// The client at the API version both sides speak, settled on first successful use.
    negotiated: OnceCell<Docker>,
    /// The single location of this host (see [`transport::Target::location_id`]).
    location: String,
}

impl DockerHost {
    /// The client, after settling the API version with the daemon once (Podman 4 speaks
    /// 1.41, current Docker 1.5x; bollard would otherwise ask for its own newest).
    async fn api(&self) -> Result<&Docker> {
        self.negotiated
            .get_or_try_init(|| async {
                let docker = self.target.docker()?;
                docker.negotiate_version().await.map_err(|e| map_error(&self.target, e))
            })
            .await
    }

    fn err(&self, e: bollard::errors::Error) -> Error {
        map_error(&self.target, e)
    }

    /// Runs one operation under [`CALL_TIMEOUT`].
    async fn bounded<T>(&self, op: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(CALL_TIMEOUT, op).await.unwrap_or_else(|_| {
            Err(Error::Unavailable(format!(
                "{TITLE} {} did not answer within {} s. Check that the daemon is running and not overloaded, then \
                 try again.",
                self.target.display(),
                CALL_TIMEOUT.as_secs()
            )))
        })
    }

    async fn find(&self, id: &str) -> Result<Machine> {
        let filters = HashMap::from([("id".to_string(), vec![id.to_string()])]);
        let opts = ListContainersOptions { all: true, filters: Some(filters), ..Default::default() };
        let found = self.api().await?.list_containers(Some(opts)).await.map_err(|e| self.err(e))?;
        found
            .into_iter()
            .map(|c| convert::machine(c, &self.location))
            .find(|m| m.id == id)
            .ok_or_else(|| Error::NotFound(format!("{TITLE}: container {id} vanished right after it was created")))
    }
}

/// Docker answers 304 when a container already is in the asked-for state: that is success.
fn already_done(r: std::result::Result<(), bollard::errors::Error>) -> std::result::Result<(), bollard::errors::Error> {
    match r {
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 304, .. }) => Ok(()),
        other => other,
    }
}

#[async_trait]
impl Provider for DockerHost {
    async fn test_connection(&self) -> Result<()> {
        self.bounded(async {
            self.api().await?.ping().await.map_err(|e| self.err(e))?;
            Ok(())
        })
        .await
    }

    async fn list_machines(&self) -> Result<Vec<Machine>> {
        self.bounded(async {
            let opts = ListContainersOptions { all: true, ..Default::default() };
            let containers = self.api().await?.list_containers(Some(opts)).await.map_err(|e| self.err(e))?;
            Ok(containers.into_iter().map(|c| convert::machine(c, &self.location)).filter(|m| !m.id.is_empty()).collect())
        })
        .await
    }

    async fn list_locations(&self) -> Result<Vec<Location>> {
        self.bounded(async {
            let info = self.api().await?.info().await.map_err(|e| self.err(e))?;
            let name = info.name.filter(|n| !n.is_empty()).unwrap_or_else(|| self.location.clone());
            Ok(vec![Location { id: self.location.clone(), name, country: None, available: true }])
        })
        .await
    }

    async fn list_sizes(&self) -> Result<Vec<Size>> {
        Ok(convert::sizes())
    }

    async fn list_images(&self) -> Result<Vec<Image>> {
        self.bounded(async {
            let images =
                self.api().await?.list_images(None::<ListImagesOptions>).await.map_err(|e| self.err(e))?;
            Ok(convert::images(images, &self.location))
        })
        .await
    }

    async fn create_machine(&self, req: &CreateMachine) -> Result<Machine> {
        self.bounded(async {
            let plan = convert::CreatePlan::from_request(req)?;
            let api = self.api().await?;
            let opts = CreateContainerOptions { name: Some(plan.name.clone()), ..Default::default() };
            let created = api.create_container(Some(opts), plan.body).await.map_err(|e| match self.err(e) {
                Error::NotFound(_) => Error::invalid(
                    "image",
                    format!(
                        "the image '{}' is not on this host. Skydeck only uses local images: pull or build it there first \
                         (e.g. `docker pull {}`).",
                        req.image, req.image
                    ),
                ),
                Error::Conflict(m) => Error::invalid("name", format!("{m} Pick another name.")),
                other => other,
            })?;
            if let Err(e) = api.start_container(&created.id, None::<StartContainerOptions>).await {
                // Leave no half-made machine behind: a container that cannot start is removed,
                // and the daemon's reason (bad command, port in use, ...) is reported.
                let reason = self.err(e);
                let rm = RemoveContainerOptions { force: true, v: true, ..Default::default() };
                if let Err(cleanup) = api.remove_container(&created.id, Some(rm)).await {
                    tracing::warn!("could not remove container {} that failed to start: {cleanup}", created.id);
                }
                return Err(reason);
            }
            self.find(&created.id).await
        })
        .await
    }

    async fn machine_action(&self, machine: &Machine, action: Action) -> Result<()> {
        self.bounded(async {
            let id = convert::container_id(machine)?;
            let api = self.api().await?;
            let r = match action {
                // A paused container cannot be started, only unpaused.
                Action::Start if machine.raw_state == "paused" => api.unpause_container(id).await,
                Action::Start => already_done(api.start_container(id, None::<StartContainerOptions>).await),
                // Graceful: SIGTERM (or the image's stop signal), SIGKILL after the container's
                // stop timeout (10 s by default).
                Action::Stop => already_done(api.stop_container(id, None::<StopContainerOptions>).await),
                Action::ForceOff => api.kill_container(id, None::<KillContainerOptions>).await,
                Action::Reboot => api.restart_container(id, None::<RestartContainerOptions>).await,
                Action::Suspend => api.pause_container(id).await,
                Action::Resume => api.unpause_container(id).await,
                // Force: a running container goes too, as a cloud's destroy would; `v` removes its
                // anonymous volumes (its "disks"), never named ones.
                Action::Destroy => {
                    let rm = RemoveContainerOptions { force: true, v: true, ..Default::default() };
                    api.remove_container(id, Some(rm)).await
                }
                Action::Rename => return Err(Error::NotSupported("use rename to rename a container".into())),
                Action::Tag => {
                    return Err(Error::NotSupported(format!(
                        "{TITLE}: container labels are fixed when the container is created and cannot be changed"
                    )))
                }
            };
            r.map_err(|e| self.err(e))
        })
        .await
    }

    async fn rename(&self, machine: &Machine, name: &str) -> Result<()> {
        self.bounded(async {
            let id = convert::container_id(machine)?;
            let name = convert::container_name(name)?;
            let opts = RenameContainerOptions { name: name.to_string() };
            self.api().await?.rename_container(id, opts).await.map_err(|e| match self.err(e) {
                Error::Conflict(m) => Error::invalid("name", format!("{m} Pick another name.")),
                other => other,
            })
        })
        .await
    }
}
