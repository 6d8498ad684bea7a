//! The refresh engine: every enabled cloud is refreshed concurrently; a slow or failing cloud
//! never delays or hides the others. A failed cloud keeps its last-known machines (marked
//! stale) and the error is kept in its status.

use crate::diff::Change;
use crate::error::{Error, ErrorBody};
use crate::model::Cloud;
use crate::providers;
use crate::service::Skydeck;
use serde::Serialize;
use std::time::Instant;

/// What refreshing one cloud gave.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshOutcome {
    pub cloud_id: String,
    pub title: String,
    pub machine_count: usize,
    pub elapsed_ms: u64,
    pub error: Option<ErrorBody>,
    /// A Retry-After the provider asked for (rate limits), for the scheduler.
    pub retry_after_secs: Option<u64>,
    /// Whether one of the cloud's machines is on its way to another state.
    pub transitioning: bool,
    /// What changed in the cache since the previous refresh.
    pub changes: Vec<Change>,
}

impl Skydeck {
    /// Refreshes all enabled clouds (or the one named) concurrently and returns one outcome per
    /// cloud, in cloud order.
    pub async fn refresh(&self, only: Option<&str>) -> crate::Result<Vec<RefreshOutcome>> {
        let clouds: Vec<Cloud> = match only {
            Some(c) => vec![self.find_cloud(c)?],
            None => self.store.list_clouds()?.into_iter().filter(|c| c.enabled).collect(),
        };
        Ok(futures::future::join_all(clouds.iter().map(|c| self.refresh_cloud(c))).await)
    }

    pub(crate) async fn refresh_cloud(&self, cloud: &Cloud) -> RefreshOutcome {
        let started = Instant::now();
        let result = tokio::time::timeout(self.refresh_timeout, async {
            let spec = providers::find(&cloud.provider)?;
            let driver = self.driver(cloud).await?;
            let mut machines = driver.list_machines().await?;
            spec.finish(&cloud.id, &mut machines);
            Ok::<_, Error>(machines)
        })
        .await
        .unwrap_or_else(|_| {
            Err(Error::Unavailable(format!(
                "'{}' did not answer within {} s; its last-known machines are shown. Check the network or the API endpoint.",
                cloud.title,
                self.refresh_timeout.as_secs()
            )))
        });
        let now = crate::now_rfc3339();
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(machines) => {
                let stored = self.store.replace_machines(&cloud.id, &machines, &now);
                let (changes, error) = match stored {
                    Ok(changes) => (changes, None),
                    Err(e) => (Vec::new(), Some(ErrorBody::from(e))),
                };
                RefreshOutcome {
                    cloud_id: cloud.id.clone(),
                    title: cloud.title.clone(),
                    machine_count: machines.len(),
                    elapsed_ms,
                    error,
                    retry_after_secs: None,
                    transitioning: machines.iter().any(|m| m.state.is_transitioning()),
                    changes,
                }
            }
            Err(e) => {
                tracing::warn!(cloud = %cloud.title, code = e.code(), "refresh failed: {e}");
                // Credentials may have changed in the keychain: reconnect next time.
                if matches!(e, Error::Unauthenticated(_) | Error::Keychain(_)) {
                    self.drivers.lock().unwrap().remove(&cloud.id);
                }
                let body = ErrorBody::from(&e);
                let _ = self.store.record_refresh_error(&cloud.id, &body, &now);
                RefreshOutcome {
                    cloud_id: cloud.id.clone(),
                    title: cloud.title.clone(),
                    machine_count: self.store.cloud_status(&cloud.id).map(|s| s.machine_count).unwrap_or(0),
                    elapsed_ms,
                    retry_after_secs: e.retry_after().map(|d| d.as_secs()),
                    error: Some(body),
                    transitioning: false,
                    // The machines stay as they were; listeners learn of the staleness from
                    // the error.
                    changes: Vec::new(),
                }
            }
        }
    }
}
