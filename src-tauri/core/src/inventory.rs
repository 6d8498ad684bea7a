//! The refresh engine: every enabled cloud is refreshed concurrently; a slow or failing cloud
//! never delays or hides the others. A failed cloud keeps its last-known machines (marked
//! stale) and the error is kept in its status.

use crate::bounds::guarded;
use crate::diff::Change;
use crate::error::{Error, ErrorBody};
use crate::model::Cloud;
use crate::providers;
use crate::service::Skydeck;
use serde::Serialize;
use std::time::{Duration, Instant};

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
            Some(c) => vec![self.cloud(c).await?],
            None => self.db(|s| s.list_clouds()).await?.into_iter().filter(|c| c.enabled).collect(),
        };
        Ok(futures::future::join_all(clouds.iter().map(|c| self.refresh_cloud(c))).await)
    }

    pub(crate) async fn refresh_cloud(&self, cloud: &Cloud) -> RefreshOutcome {
        self.refresh_cloud_within(cloud, self.refresh_timeout).await
    }

    /// Refreshes one cloud; the driver's part is bounded by `limit` and a panic in it becomes
    /// this cloud's error (see [`crate::bounds`]). Never fails: errors are in the outcome.
    pub(crate) async fn refresh_cloud_within(&self, cloud: &Cloud, limit: Duration) -> RefreshOutcome {
        let started = Instant::now();
        let result = guarded(&cloud.title, "listing its machines", limit, async {
            let spec = providers::find(&cloud.provider)?;
            let driver = self.driver(cloud).await?;
            let mut machines = driver.list_machines().await?;
            spec.finish(&cloud.id, &mut machines);
            Ok::<_, Error>(machines)
        })
        .await;
        let now = crate::now_rfc3339();
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let id = cloud.id.clone();
        match result {
            Ok(machines) => {
                let count = machines.len();
                let transitioning = machines.iter().any(|m| m.state.is_transitioning());
                let stored = self.db(move |s| s.replace_machines(&id, &machines, &now)).await;
                let (changes, error) = match stored {
                    Ok(changes) => (changes, None),
                    Err(e) => (Vec::new(), Some(ErrorBody::from(e))),
                };
                RefreshOutcome {
                    cloud_id: cloud.id.clone(),
                    title: cloud.title.clone(),
                    machine_count: count,
                    elapsed_ms,
                    error,
                    retry_after_secs: None,
                    transitioning,
                    changes,
                }
            }
            Err(e) => {
                tracing::warn!(cloud = %cloud.title, code = e.code(), "refresh failed: {e}");
                // Credentials may have changed in the keychain: reconnect next time.
                if matches!(e, Error::Unauthenticated(_) | Error::Keychain(_)) {
                    self.drivers().remove(&cloud.id);
                }
                let body = ErrorBody::from(&e);
                let stored = body.clone();
                let machine_count = self
                    .db(move |s| {
                        // Recording the error is best effort; the count is what listeners show.
                        let _ = s.record_refresh_error(&id, &stored, &now);
                        Ok(s.cloud_status(&id)?.machine_count)
                    })
                    .await
                    .unwrap_or(0);
                RefreshOutcome {
                    cloud_id: cloud.id.clone(),
                    title: cloud.title.clone(),
                    machine_count,
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
