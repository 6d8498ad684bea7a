//! Creating a machine: check what the wizard chose against the cloud's catalogs, build the
//! provider-neutral [`CreateMachine`] with an idempotency token, call the driver, cache the new
//! machine, log the activity, then (separately) follow it until it runs.
//!
//! Every input error is `invalid_input` with `field` naming the wizard input to fix:
//! `cloud`, `location`, `size`, `image`, `key`, `name`, `tags`, `user_data`, `options`.

use crate::bounds::guarded;
use crate::catalog::{image_fits, size_fits, Catalog, CatalogKind};
use crate::error::{Error, Result};
use crate::model::{CreateMachine, Machine, MachineState, Tags};
use crate::provider::KeyDelivery;
use crate::providers;
use crate::service::Skydeck;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Largest cloud-init user data Skydeck passes on (DigitalOcean's limit; drivers of providers
/// with smaller limits check theirs).
pub const MAX_USER_DATA: usize = 64 * 1024;
const MAX_NAME: usize = 63;

/// What the wizard / `skydeck-cli create` submits. Ids are those the catalogs returned.
/// Debug is written by hand: user data often carries passwords or tokens for cloud-init.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateRequest {
    pub location: String,
    pub size: String,
    pub image: String,
    /// Key id or name; `None` creates the machine without an SSH key (the UI preselects the
    /// default key; the CLI uses the default unless told `--no-key`).
    #[serde(default)]
    pub key_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub tags: Tags,
    /// cloud-init user data; never logged.
    #[serde(default)]
    pub user_data: Option<String>,
    /// Provider-specific options (see `CreateMachine::options`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Keep the same token when retrying the same create (e.g. after a timeout) so a provider
    /// with idempotency tokens never makes a second machine; `None` = a fresh one.
    #[serde(default)]
    pub client_token: Option<String>,
}

impl std::fmt::Debug for CreateRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateRequest")
            .field("location", &self.location)
            .field("size", &self.size)
            .field("image", &self.image)
            .field("key_id", &self.key_id)
            .field("name", &self.name)
            .field("tags", &self.tags)
            .field("user_data", &crate::model::UserDataLen(&self.user_data))
            .field("options", &self.options)
            .field("client_token", &self.client_token)
            .finish()
    }
}

/// Machine names work as host names everywhere: letters, digits, '-' and '.', starting and
/// ending with a letter or digit, at most 63 characters.
pub fn check_machine_name(name: &str) -> Result<String> {
    let name = name.trim();
    let rule =
        "use letters, digits, '-' and '.', starting and ending with a letter or digit (it becomes the host name)";
    if name.is_empty() {
        return Err(Error::invalid("name", format!("give the machine a name; {rule}")));
    }
    if name.chars().count() > MAX_NAME {
        return Err(Error::invalid("name", format!("names are at most {MAX_NAME} characters")));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        || !edge_ok(name.chars().next())
        || !edge_ok(name.chars().last())
    {
        return Err(Error::invalid("name", format!("'{name}' is not a valid machine name; {rule}")));
    }
    Ok(name.to_string())
}

fn check_tags(tags: &Tags) -> Result<()> {
    for (k, v) in tags {
        if k.trim().is_empty() {
            return Err(Error::invalid("tags", "a tag needs a key; remove the tag with the empty key"));
        }
        if k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(Error::invalid(
                "tags",
                format!("tag keys are at most 128 and values 256 characters; shorten '{k}'"),
            ));
        }
    }
    Ok(())
}

fn check_token(token: Option<&str>) -> Result<String> {
    match token.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(uuid::Uuid::new_v4().to_string()),
        Some(t) if t.len() <= 64 && t.chars().all(|c| c.is_ascii_graphic()) => Ok(t.to_string()),
        Some(_) => Err(Error::invalid("client_token", "a client token is at most 64 visible ASCII characters")),
    }
}

impl Skydeck {
    /// A catalog for validation; `None` when the provider does not list that kind.
    async fn catalog_for_check(&self, cloud: &str, kind: CatalogKind, refresh: bool) -> Result<Option<Catalog>> {
        match self.catalog(cloud, kind, refresh).await {
            Ok(c) => Ok(Some(c)),
            Err(Error::NotSupported(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Looks `pick` up in a catalog; a miss in a cached copy refetches once (it may be stale).
    async fn lookup<T: Clone>(
        &self,
        cloud: &str,
        kind: CatalogKind,
        pick: impl Fn(&Catalog) -> Option<T>,
    ) -> Result<Option<Option<T>>> {
        let Some(cat) = self.catalog_for_check(cloud, kind, false).await? else { return Ok(None) };
        if let Some(found) = pick(&cat) {
            return Ok(Some(Some(found)));
        }
        if !cat.from_cache {
            return Ok(Some(None));
        }
        let fresh = self.catalog_for_check(cloud, kind, true).await?;
        Ok(Some(fresh.as_ref().and_then(pick)))
    }

    /// Checks a create request against the cloud's capabilities and catalogs and builds what
    /// the driver gets. The wizard's review step can call it before "Create".
    pub async fn check_create(&self, cloud: &str, req: &CreateRequest) -> Result<CreateMachine> {
        let cloud = self.cloud(cloud).await.map_err(|e| Error::invalid("cloud", e.to_string()))?;
        let spec = providers::find(&cloud.provider)?;
        let caps = spec.capabilities;
        if !caps.create {
            return Err(Error::NotSupported(format!("Skydeck cannot create machines on {} yet", spec.title)));
        }
        let name = check_machine_name(&req.name)?;
        let (location, size, image) = (req.location.trim(), req.size.trim(), req.image.trim());
        for (field, value, what) in
            [("location", location, "a location"), ("size", size, "a size"), ("image", image, "an image")]
        {
            if value.is_empty() {
                return Err(Error::invalid(field, format!("choose {what}")));
            }
        }
        let refresh_hint = "refresh the list and choose again";
        let loc = self
            .lookup(&cloud.id, CatalogKind::Locations, |c| c.locations().iter().find(|l| l.id == location).cloned())
            .await?;
        if let Some(loc) = loc {
            match loc {
                None => {
                    return Err(Error::invalid(
                        "location",
                        format!("{} has no location '{location}'; {refresh_hint}", cloud.title),
                    ))
                }
                Some(l) if !l.available => {
                    return Err(Error::invalid(
                        "location",
                        format!("{} is not taking new machines now; choose another location", l.name),
                    ))
                }
                Some(_) => {}
            }
        }
        if let Some(found) =
            self.lookup(&cloud.id, CatalogKind::Sizes, |c| c.sizes().iter().find(|s| s.id == size).cloned()).await?
        {
            let s = found.ok_or_else(|| {
                Error::invalid("size", format!("{} has no size '{size}'; {refresh_hint}", cloud.title))
            })?;
            if !size_fits(&s, location) {
                return Err(Error::invalid(
                    "size",
                    format!("{} is not offered in {location}; choose another size or location", s.name),
                ));
            }
        }
        if let Some(found) =
            self.lookup(&cloud.id, CatalogKind::Images, |c| c.images().iter().find(|i| i.id == image).cloned()).await?
        {
            let i = found.ok_or_else(|| {
                Error::invalid("image", format!("{} has no image '{image}'; {refresh_hint}", cloud.title))
            })?;
            if !image_fits(&i, Some(location), None) {
                return Err(Error::invalid(
                    "image",
                    format!("{} is not available in {location}; choose another image or location", i.name),
                ));
            }
        }
        let key = match req.key_id.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            None => None,
            Some(_) if caps.key_delivery == KeyDelivery::None => {
                return Err(Error::invalid(
                    "key",
                    format!("{} cannot put SSH keys on new machines; choose no key", spec.title),
                ))
            }
            Some(k) => Some(self.find_key(k)?.to_public()),
        };
        check_tags(&req.tags)?;
        let user_data = req.user_data.clone().filter(|u| !u.trim().is_empty());
        if let Some(u) = &user_data {
            if !caps.user_data {
                return Err(Error::invalid(
                    "user_data",
                    format!("{} cannot pass cloud-init user data; clear it", spec.title),
                ));
            }
            if u.len() > MAX_USER_DATA {
                return Err(Error::invalid(
                    "user_data",
                    format!("user data is at most {} KiB; shorten it", MAX_USER_DATA / 1024),
                ));
            }
        }
        Ok(CreateMachine {
            name,
            location: location.to_string(),
            size: size.to_string(),
            image: image.to_string(),
            key,
            tags: req.tags.clone(),
            user_data,
            options: req.options.clone(),
            client_token: check_token(req.client_token.as_deref())?,
        })
    }

    /// Creates a machine on a cloud (id or title) and returns it as the provider first reports
    /// it (usually pending); it is cached and the attempt is logged either way.
    pub async fn create_machine(&self, cloud: &str, req: CreateRequest) -> Result<Machine> {
        let c = self.cloud(cloud).await.map_err(|e| Error::invalid("cloud", e.to_string()))?;
        let detail = format!(
            "location {}, size {}, image {}{}",
            req.location.trim(),
            req.size.trim(),
            req.image.trim(),
            req.key_id.as_deref().map(|k| format!(", key {k}")).unwrap_or_default()
        );
        let result = async {
            let spec = providers::find(&c.provider)?;
            // The checks may fetch catalogs (each bounded); together they get one call's time
            // too, so a create ends within two bounds (see crate::bounds).
            let create = guarded(&c.title, "checking the new machine against its catalogs", self.call_timeout, async {
                self.check_create(&c.id, &req).await
            })
            .await?;
            let mut m = guarded(&c.title, "creating the machine", self.call_timeout, async {
                self.driver(&c).await?.create_machine(&create).await
            })
            .await
            .map_err(|e| match e {
                // The request may have reached the provider: say how to retry safely.
                Error::Unavailable(m) => Error::Unavailable(format!(
                    "{m} The machine may have been created anyway: refresh the list before trying again (a retry \
                     with the same client token never makes a second one)."
                )),
                e => e,
            })?;
            spec.finish(&c.id, std::slice::from_mut(&mut m));
            let row = m.clone();
            if let Err(e) = self.db(move |s| s.upsert_machine(&row, &crate::now_rfc3339())).await {
                tracing::warn!("could not cache the new machine {}: {e}", m.id);
            }
            Ok(m)
        }
        .await;
        let (id, name) = match &result {
            Ok(m) => (Some(m.id.as_str()), m.name.as_str()),
            Err(_) => (None, req.name.trim()),
        };
        self.record_activity(&c, id, Some(name), "create", Some(detail), &result).await;
        result
    }

    /// Polls a machine (refreshing its cloud, so the cache and machine list follow) with
    /// backoff until it runs. `on_progress` sees each new state. Errors: `conflict` when the
    /// machine ends in error/terminated, `unavailable` when `timeout` passes first; both say
    /// what to do next.
    pub async fn wait_until_running(
        &self,
        cloud: &str,
        machine_id: &str,
        timeout: Duration,
        on_progress: impl Fn(&Machine) + Send + Sync,
    ) -> Result<Machine> {
        let cloud = self.cloud(cloud).await?;
        // A huge --wait must not overflow the clock: a year is "forever" here.
        let deadline = crate::bounds::later(Instant::now(), timeout, Duration::from_secs(365 * 24 * 3600));
        let mut interval = Duration::from_millis(500);
        let mut last_state: Option<MachineState> = None;
        let mut last_error = None;
        loop {
            // Each refresh ends by the deadline too, so --wait is a bound, not a hint.
            let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
            let outcome = self.refresh_cloud_within(&cloud, self.refresh_timeout.min(left)).await;
            last_error = outcome.error.or(last_error);
            let found = self.cached_machines(&cloud.id).await?.into_iter().find(|m| m.id == machine_id);
            if let Some(m) = &found {
                if last_state != Some(m.state) {
                    last_state = Some(m.state);
                    on_progress(m);
                }
                match m.state {
                    MachineState::Running => return Ok(m.clone()),
                    MachineState::Error | MachineState::Terminated => {
                        let why = m.extra.get("state_reason").map(|r| format!(" ({r})")).unwrap_or_default();
                        return Err(Error::Conflict(format!(
                            "'{}' became {}{why} instead of running. Check the provider's console, then destroy it and \
                             create it again, perhaps with another size, image or location.",
                            m.name, m.raw_state
                        )));
                    }
                    _ => {}
                }
            }
            let now = Instant::now();
            if now >= deadline {
                let seen = match (&found, &last_error) {
                    (Some(m), _) => format!("it is still {}", m.raw_state),
                    (None, Some(e)) => format!("the last refresh failed: {}", e.message),
                    (None, None) => "it is not listed yet".to_string(),
                };
                return Err(Error::Unavailable(format!(
                    "machine {machine_id} did not reach running within {} s ({seen}). It may still start: watch it in the \
                     machine list, or destroy it and try again.",
                    timeout.as_secs()
                )));
            }
            tokio::time::sleep(interval.min(deadline - now)).await;
            interval = (interval * 3 / 2).min(Duration::from_secs(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_user_data() {
        let req = CreateRequest {
            location: "l".into(),
            size: "s".into(),
            image: "i".into(),
            key_id: None,
            name: "web".into(),
            tags: Default::default(),
            user_data: Some("#cloud-config\npassword: hunter2-secret".into()),
            options: Default::default(),
            client_token: None,
        };
        let shown = format!("{req:?}");
        assert!(!shown.contains("hunter2") && shown.contains("<38 bytes>"), "{shown}");
        let m = crate::model::CreateMachine {
            name: req.name.clone(),
            location: req.location.clone(),
            size: req.size.clone(),
            image: req.image.clone(),
            key: None,
            tags: Default::default(),
            user_data: req.user_data.clone(),
            options: Default::default(),
            client_token: "t".into(),
        };
        let shown = format!("{m:?}");
        assert!(!shown.contains("hunter2") && shown.contains("<38 bytes>"), "{shown}");
    }

    #[test]
    fn machine_names_are_host_names() {
        for ok in ["web-1", "db.example.com", "a", "A1"] {
            assert_eq!(check_machine_name(ok).unwrap(), ok);
        }
        assert_eq!(check_machine_name("  web  ").unwrap(), "web");
        for bad in ["", "-web", "web-", "web_1", "web 1", "wéb", &"a".repeat(64), "<img>"] {
            assert_eq!(check_machine_name(bad).unwrap_err().field(), Some("name"), "{bad}");
        }
    }

    #[test]
    fn tokens_are_kept_or_made() {
        assert_eq!(check_token(Some("tok-1")).unwrap(), "tok-1");
        assert_eq!(check_token(None).unwrap().len(), 36);
        assert_ne!(check_token(None).unwrap(), check_token(None).unwrap());
        assert_eq!(check_token(Some(&"x".repeat(65))).unwrap_err().field(), Some("client_token"));
        assert!(check_tags(&Tags::from([(" ".to_string(), "v".to_string())])).is_err());
    }
}
