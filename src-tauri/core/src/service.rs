//! `Skydeck`: the one facade the CLI and the desktop app call. It ties the provider registry,
//! the keychain and the store together and keeps their invariants (a cloud is in both the
//! keychain and the database, or in neither).

use crate::bounds::{guarded, CALL_TIMEOUT, FOLLOW_UP_TIMEOUT, REFRESH_TIMEOUT};
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::model::{Action, Cloud, CloudView, Machine, Tags};
use crate::provider::{Connection, FieldKind, Provider, ProviderSpec};
use crate::providers;
use crate::secrets::{self, cloud_account, SecretStore, Secrets, Sensitive};
use crate::store::Store;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the add-cloud form / `cloud add` submits. Values of secret fields are moved into the
/// keychain; everything else is stored in SQLite.
#[derive(Debug, Clone, Deserialize)]
pub struct NewCloud {
    pub provider: String,
    pub title: String,
    pub fields: BTreeMap<String, Sensitive<String>>,
}

pub struct Skydeck {
    pub(crate) store: Store,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) http: HttpClient,
    /// Connected drivers by cloud id, so a refresh does not hit the keychain every time.
    pub(crate) drivers: Mutex<HashMap<String, Arc<dyn Provider>>>,
    /// Bounds of driver calls; see [`crate::bounds`].
    pub(crate) refresh_timeout: Duration,
    pub(crate) call_timeout: Duration,
    /// How long a cached catalog (locations/sizes/images) is used before it is fetched again.
    pub(crate) catalog_ttl: Duration,
}

impl Skydeck {
    /// Opens the store in `data_dir` with the given secret store (the OS [`secrets::Keychain`]
    /// in the app and CLI).
    pub fn open(data_dir: &Path, secrets: Arc<dyn SecretStore>) -> Result<Self> {
        let store = Store::open(&data_dir.join("skydeck.db"))?;
        Ok(Skydeck {
            store,
            secrets,
            http: HttpClient::new()?,
            drivers: Mutex::new(HashMap::new()),
            refresh_timeout: REFRESH_TIMEOUT,
            call_timeout: CALL_TIMEOUT,
            catalog_ttl: crate::catalog::DEFAULT_TTL,
        })
    }

    /// Replaces the HTTP client (tests use short timeouts).
    pub fn with_http(mut self, http: HttpClient) -> Self {
        self.http = http;
        self
    }

    /// The longest one cloud's refresh may take before it is reported as unavailable.
    pub fn with_refresh_timeout(mut self, t: Duration) -> Self {
        self.refresh_timeout = t;
        self
    }

    /// The longest one provider call (test connection, an action, rename, tags, a catalog
    /// fetch, the create call) may take before it fails as unavailable.
    pub fn with_call_timeout(mut self, t: Duration) -> Self {
        self.call_timeout = t;
        self
    }

    /// Runs store work on the blocking pool: SQLite calls block (up to the busy timeout while
    /// another process writes) and must not stall the async runtime's workers, which also
    /// drive every other cloud's refresh and the window's commands.
    pub(crate) async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store)).await.map_err(|e| {
            tracing::error!("a database task failed: {e}");
            Error::Storage("the local database call failed unexpectedly. Try again; if it keeps failing, report it with the log.".into())
        })?
    }

    /// [`Skydeck::find_cloud`] off the async workers.
    pub(crate) async fn cloud(&self, id_or_title: &str) -> Result<Cloud> {
        let key = id_or_title.to_string();
        self.db(move |s| find_cloud_in(s, &key)).await
    }

    /// [`Skydeck::find_machine`] off the async workers.
    pub(crate) async fn machine(&self, reference: &str) -> Result<Machine> {
        let key = reference.to_string();
        self.db(move |s| find_machine_in(s, &key)).await
    }

    /// Cached machines of one cloud, off the async workers.
    pub(crate) async fn cached_machines(&self, cloud_id: &str) -> Result<Vec<Machine>> {
        let id = cloud_id.to_string();
        self.db(move |s| s.list_machines(Some(&id))).await
    }

    /// Tests use drivers that misbehave on purpose (hang, panic); they are never in the
    /// registry of a build.
    #[cfg(test)]
    pub(crate) fn set_driver(&self, cloud_id: &str, driver: Arc<dyn Provider>) {
        self.drivers().insert(cloud_id.to_string(), driver);
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn providers(&self) -> &'static [&'static ProviderSpec] {
        providers::all()
    }

    /// Checks the fields against the provider's declared list and splits them into the
    /// non-secret part (for SQLite) and the secrets (for the keychain).
    fn split_fields(
        spec: &ProviderSpec,
        fields: &BTreeMap<String, Sensitive<String>>,
    ) -> Result<(BTreeMap<String, String>, Secrets)> {
        if let Some(unknown) = fields.keys().find(|k| spec.field(k).is_none()) {
            let known: Vec<_> = spec.fields.iter().map(|f| f.key).collect();
            return Err(Error::invalid(
                unknown.clone(),
                format!("{} has no field '{unknown}'; its fields are: {}", spec.title, known.join(", ")),
            ));
        }
        let mut plain = BTreeMap::new();
        let mut secret = Secrets::new();
        for f in spec.fields {
            let value = fields.get(f.key).map(|v| v.expose().trim().to_string()).filter(|v| !v.is_empty());
            let value = value.or_else(|| f.default.map(str::to_string));
            let Some(value) = value else {
                if f.required {
                    return Err(Error::invalid(f.key, format!("{} is required", f.label)));
                }
                continue;
            };
            if f.kind == FieldKind::Url {
                url::Url::parse(&value).map_err(|_| {
                    Error::invalid(f.key, format!("{} must be a full URL such as https://host:port", f.label))
                })?;
            }
            if f.kind == FieldKind::Select && !f.options.is_empty() && !f.options.contains(&value.as_str()) {
                return Err(Error::invalid(f.key, format!("{} must be one of: {}", f.label, f.options.join(", "))));
            }
            if f.is_secret() {
                secret.insert(f.key.to_string(), Sensitive::new(value));
            } else {
                plain.insert(f.key.to_string(), value);
            }
        }
        Ok((plain, secret))
    }

    fn connect(
        &self,
        spec: &ProviderSpec,
        cloud_id: &str,
        fields: BTreeMap<String, String>,
        secrets: Secrets,
    ) -> Result<Box<dyn Provider>> {
        (spec.connect)(Connection { cloud_id: cloud_id.to_string(), fields, secrets, http: self.http.clone() })
    }

    /// Tests credentials without saving anything.
    pub async fn test_connection(&self, provider: &str, fields: &BTreeMap<String, Sensitive<String>>) -> Result<()> {
        let spec = providers::find(provider)?;
        let (plain, secret) = Self::split_fields(spec, fields)?;
        let title = format!("new {} cloud", spec.title);
        guarded(&title, "testing the connection", self.call_timeout, async {
            self.connect(spec, "test", plain, secret)?.test_connection().await
        })
        .await
    }

    /// Tests the connection, then saves the cloud: secrets to the keychain, the rest to SQLite.
    /// Atomic: if the database write fails the keychain entry is removed again; if the
    /// keychain fails nothing is saved.
    pub async fn add_cloud(&self, new: NewCloud) -> Result<Cloud> {
        let spec = providers::find(&new.provider)?;
        let title = new.title.trim().to_string();
        if title.is_empty() {
            return Err(Error::invalid("title", "give the cloud a title, e.g. 'work' or 'personal'"));
        }
        if self.db(|s| s.list_clouds()).await?.iter().any(|c| c.title == title) {
            return Err(Error::invalid("title", format!("a cloud titled '{title}' already exists; pick another title")));
        }
        let (plain, secret) = Self::split_fields(spec, &new.fields)?;
        let id = uuid::Uuid::new_v4().to_string();
        let driver = guarded(&title, "testing the connection", self.call_timeout, async {
            let driver = self.connect(spec, &id, plain.clone(), secret.clone())?;
            driver.test_connection().await?;
            Ok(driver)
        })
        .await?;

        let account = cloud_account(&id);
        let store = self.secrets.clone();
        let (acc, sec) = (account.clone(), secret.clone());
        secrets::blocking(move || store.set(&acc, &sec)).await?;

        let cloud = Cloud {
            id: id.clone(),
            provider: spec.id.to_string(),
            title,
            enabled: true,
            fields: plain,
            created_at: crate::now_rfc3339(),
        };
        let row = cloud.clone();
        if let Err(e) = self.db(move |s| s.insert_cloud(&row)).await {
            let store = self.secrets.clone();
            if let Err(cleanup) = secrets::blocking(move || store.delete(&account)).await {
                tracing::error!("could not remove the keychain entry of a cloud that failed to save: {cleanup}");
            }
            return Err(e);
        }
        self.drivers().insert(id, Arc::from(driver));
        Ok(cloud)
    }

    pub fn list_clouds(&self) -> Result<Vec<CloudView>> {
        self.store
            .list_clouds()?
            .into_iter()
            .map(|cloud| Ok(CloudView { status: self.store.cloud_status(&cloud.id)?, cloud }))
            .collect()
    }

    /// Finds a cloud by id or title.
    pub fn find_cloud(&self, id_or_title: &str) -> Result<Cloud> {
        find_cloud_in(&self.store, id_or_title)
    }

    pub fn update_cloud(&self, id: &str, title: Option<&str>, enabled: Option<bool>) -> Result<Cloud> {
        if let Some(t) = title {
            if t.trim().is_empty() {
                return Err(Error::invalid("title", "the title cannot be empty"));
            }
        }
        let cloud = self.find_cloud(id)?;
        self.store.update_cloud(&cloud.id, title.map(str::trim), enabled)?;
        self.find_cloud(&cloud.id)
    }

    /// Removes a cloud's keychain entry, then its database rows. If the keychain refuses, the
    /// cloud stays so the user can retry (no orphaned secret).
    pub async fn remove_cloud(&self, id_or_title: &str) -> Result<Cloud> {
        let cloud = self.cloud(id_or_title).await?;
        let store = self.secrets.clone();
        let account = cloud_account(&cloud.id);
        secrets::blocking(move || store.delete(&account)).await?;
        let id = cloud.id.clone();
        self.db(move |s| s.delete_cloud(&id)).await?;
        self.drivers().remove(&cloud.id);
        Ok(cloud)
    }

    /// The map of connected drivers. A panic elsewhere while it was held cannot leave it
    /// half-updated (each use is one insert, get or remove), so a poisoned lock is used as is
    /// rather than turning one contained panic into a panic of every later call.
    pub(crate) fn drivers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<dyn Provider>>> {
        self.drivers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connected driver of a cloud, connecting (and reading the keychain) on first use.
    pub(crate) async fn driver(&self, cloud: &Cloud) -> Result<Arc<dyn Provider>> {
        if let Some(d) = self.drivers().get(&cloud.id) {
            return Ok(d.clone());
        }
        let spec = providers::find(&cloud.provider)?;
        let store = self.secrets.clone();
        let account = cloud_account(&cloud.id);
        let secret = secrets::blocking(move || store.get(&account)).await?;
        let driver: Arc<dyn Provider> = Arc::from(self.connect(spec, &cloud.id, cloud.fields.clone(), secret)?);
        self.drivers().insert(cloud.id.clone(), driver.clone());
        Ok(driver)
    }

    /// Cached machines (no network), optionally of one cloud (id or title).
    pub fn machines(&self, cloud: Option<&str>) -> Result<Vec<Machine>> {
        let id = cloud.map(|c| self.find_cloud(c)).transpose()?.map(|c| c.id);
        self.store.list_machines(id.as_deref())
    }

    /// Finds a cached machine by its provider id, or `<cloud id or title>/<machine id>` when
    /// the same id exists in two clouds.
    pub fn find_machine(&self, reference: &str) -> Result<Machine> {
        find_machine_in(&self.store, reference)
    }

    /// Runs start/stop/reboot/destroy on a machine if its provider allows it in its current
    /// state, then updates the cache.
    pub async fn machine_action(&self, reference: &str, action: Action) -> Result<Machine> {
        let machine = self.machine(reference).await?;
        let cloud = self.cloud(&machine.cloud_id).await?;
        let (id, name) = (machine.id.clone(), machine.name.clone());
        let result = self.machine_action_inner(machine, &cloud, action).await;
        self.record_activity(&cloud, Some(&id), Some(&name), action.as_str(), None, &result).await;
        result
    }

    async fn machine_action_inner(&self, machine: Machine, cloud: &Cloud, action: Action) -> Result<Machine> {
        let cloud = cloud.clone();
        let spec = providers::find(&cloud.provider)?;
        if !spec.capabilities.supports(action) {
            return Err(Error::NotSupported(format!("{} machines cannot {action}", spec.title)));
        }
        if !machine.actions.contains(&action) {
            return Err(Error::Conflict(format!(
                "'{}' is {}; {} allows {} only in another state. Refresh and try again.",
                machine.name, machine.state, spec.title, action
            )));
        }
        guarded(&cloud.title, &format!("asking it to {action} '{}'", machine.name), self.call_timeout, async {
            self.driver(&cloud).await?.machine_action(&machine, action).await
        })
        .await?;
        self.after_action(spec, &cloud, machine, action).await
    }

    pub async fn rename(&self, reference: &str, name: &str) -> Result<Machine> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid("name", "the new name cannot be empty"));
        }
        let machine = self.machine(reference).await?;
        let cloud = self.cloud(&machine.cloud_id).await?;
        let (id, old_name) = (machine.id.clone(), machine.name.clone());
        let result = self.rename_inner(machine, &cloud, name).await;
        self.record_activity(&cloud, Some(&id), Some(&old_name), "rename", Some(format!("to {name}")), &result).await;
        result
    }

    async fn rename_inner(&self, mut machine: Machine, cloud: &Cloud, name: &str) -> Result<Machine> {
        let spec = providers::find(&cloud.provider)?;
        if !spec.capabilities.rename {
            return Err(Error::NotSupported(format!("{} machines cannot be renamed", spec.title)));
        }
        guarded(&cloud.title, &format!("renaming '{}'", machine.name), self.call_timeout, async {
            self.driver(cloud).await?.rename(&machine, name).await
        })
        .await?;
        machine.name = name.to_string();
        let row = machine.clone();
        self.db(move |s| s.upsert_machine(&row, &crate::now_rfc3339())).await?;
        Ok(machine)
    }

    pub async fn set_tags(&self, reference: &str, tags: Tags) -> Result<Machine> {
        let machine = self.machine(reference).await?;
        let cloud = self.cloud(&machine.cloud_id).await?;
        let (id, name) = (machine.id.clone(), machine.name.clone());
        let detail = tags.iter().map(|(k, v)| if v.is_empty() { k.clone() } else { format!("{k}={v}") }).collect::<Vec<_>>().join(", ");
        let result = self.set_tags_inner(machine, &cloud, tags).await;
        self.record_activity(&cloud, Some(&id), Some(&name), "tag", Some(detail), &result).await;
        result
    }

    async fn set_tags_inner(&self, mut machine: Machine, cloud: &Cloud, tags: Tags) -> Result<Machine> {
        let spec = providers::find(&cloud.provider)?;
        if !spec.capabilities.tag {
            return Err(Error::NotSupported(format!("{} machines cannot be tagged", spec.title)));
        }
        guarded(&cloud.title, &format!("tagging '{}'", machine.name), self.call_timeout, async {
            self.driver(cloud).await?.set_tags(&machine, &tags).await
        })
        .await?;
        machine.tags = tags;
        let row = machine.clone();
        self.db(move |s| s.upsert_machine(&row, &crate::now_rfc3339())).await?;
        Ok(machine)
    }

    /// After an action, re-reads the cloud so the cache shows the new state right away.
    async fn after_action(&self, spec: &ProviderSpec, cloud: &Cloud, machine: Machine, action: Action) -> Result<Machine> {
        // Best effort and bounded on its own: the action already succeeded.
        let outcome = self.refresh_cloud_within(cloud, self.refresh_timeout.min(FOLLOW_UP_TIMEOUT)).await;
        let fresh = self.cached_machines(&cloud.id).await?.into_iter().find(|m| m.id == machine.id);
        match (fresh, outcome.error) {
            (Some(m), _) => Ok(m),
            (None, None) if action == Action::Destroy => {
                let mut m = machine;
                m.state = crate::model::MachineState::Terminated;
                m.actions = spec.allowed_actions(m.state);
                Ok(m)
            }
            (None, _) => Ok(machine),
        }
    }
}

/// Finds a cloud by id or title.
fn find_cloud_in(store: &Store, id_or_title: &str) -> Result<Cloud> {
    let clouds = store.list_clouds()?;
    clouds
        .iter()
        .find(|c| c.id == id_or_title)
        .or_else(|| clouds.iter().find(|c| c.title == id_or_title))
        .cloned()
        .ok_or_else(|| {
            Error::NotFound(format!("no cloud with id or title '{id_or_title}'; run `skydeck-cli cloud list` to see them"))
        })
}

/// Finds a cached machine by its provider id, or `<cloud id or title>/<machine id>`.
pub(crate) fn find_machine_in(store: &Store, reference: &str) -> Result<Machine> {
    let (cloud, id) = match reference.rsplit_once('/') {
        Some((c, id)) if !c.is_empty() => (Some(find_cloud_in(store, c)?.id), id),
        _ => (None, reference),
    };
    let mut found: Vec<Machine> = store.list_machines(cloud.as_deref())?.into_iter().filter(|m| m.id == id).collect();
    match found.len() {
        0 => Err(Error::NotFound(format!(
            "no machine '{reference}' in the inventory; run `skydeck-cli machines` to refresh and list them"
        ))),
        1 => Ok(found.remove(0)),
        _ => Err(Error::invalid("machine", format!("'{id}' exists in several clouds; write it as <cloud>/{id}"))),
    }
}
