//! Zero-setup local hosts: what runs on the user's own machine (a Docker or Podman socket, a
//! libvirt daemon), offered as clouds in one click. Each provider module finds its own hosts
//! through its `ProviderSpec::detect` hook; nothing here knows which providers exist, except
//! that the demo is libvirt's built-in test driver, looked up by id in the registry.

use crate::error::{Error, Result};
use crate::model::Cloud;
use crate::provider::DetectedHost;
use crate::providers;
use crate::secrets::Sensitive;
use crate::service::{NewCloud, Skydeck};

/// The provider and connection of the demo cloud: libvirt's `test:///default` driver, a
/// fake host with real machines and actions, in-process, with nothing to install.
const DEMO_PROVIDER: &str = "libvirt";
const DEMO_FIELD: (&str, &str) = ("uri", "test:///default");

impl Skydeck {
    /// Hosts found on this machine that are not added yet, in registry order. The detect hooks
    /// only look at local files and sockets, but run on the blocking pool all the same.
    pub async fn detect_local_hosts(&self) -> Result<Vec<DetectedHost>> {
        let found = tokio::task::spawn_blocking(|| {
            providers::all().iter().filter_map(|spec| spec.detect).flat_map(|detect| detect()).collect::<Vec<_>>()
        })
        .await
        .map_err(|e| Error::Unavailable(format!("looking for local hosts failed ({e}); try again")))?;
        let clouds = self.db(|s| s.list_clouds()).await?;
        Ok(found.into_iter().filter(|h| !is_added(h, &clouds)).collect())
    }

    /// Adds a detected host (or the demo) as a cloud: tests the connection and saves it. The
    /// title is made unique (`Docker (local) 2`) so adding never fails on a name clash.
    pub async fn add_detected(&self, host: DetectedHost) -> Result<Cloud> {
        let spec = providers::find(&host.provider)?;
        let clouds = self.db(|s| s.list_clouds()).await?;
        if let Some(c) = clouds.iter().find(|c| is_added(&host, std::slice::from_ref(c))) {
            return Err(Error::Conflict(format!("this host is already added as the cloud '{}'", c.title)));
        }
        let base = if host.title.trim().is_empty() { spec.title.to_string() } else { host.title.trim().to_string() };
        let title = (1..)
            .map(|n| if n == 1 { base.clone() } else { format!("{base} {n}") })
            .find(|t| !clouds.iter().any(|c| &c.title == t))
            .expect("some numbered title is free");
        let fields = host.fields.into_iter().map(|(k, v)| (k, Sensitive::new(v))).collect();
        self.add_cloud(NewCloud { provider: spec.id.to_string(), title, fields }).await
    }

    /// The demo connection offered when nothing was detected and there are no clouds yet:
    /// libvirt's `test:///default`. `None` when the libvirt provider is not built in or the
    /// demo is already added.
    pub fn demo_cloud(&self) -> Result<Option<DetectedHost>> {
        let Ok(spec) = providers::find(DEMO_PROVIDER) else { return Ok(None) };
        let demo = DetectedHost {
            provider: spec.id.to_string(),
            title: format!("Demo ({})", spec.title),
            fields: [(DEMO_FIELD.0.to_string(), DEMO_FIELD.1.to_string())].into(),
        };
        Ok((!is_added(&demo, &self.store.list_clouds()?)).then_some(demo))
    }
}

/// A host is added when a cloud of the same provider has every field the detection gave
/// with the same value (other fields, like TLS settings, do not matter).
fn is_added(host: &DetectedHost, clouds: &[Cloud]) -> bool {
    clouds.iter().any(|c| {
        c.provider == host.provider
            && host.fields.iter().all(|(k, v)| c.fields.get(k).is_some_and(|cv| cv.trim() == v.trim()))
    })
}
