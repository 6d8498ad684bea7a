//! The activity log: every create and every machine action, rename and tag change that went
//! through `Skydeck`, with its result. What is recorded is the user's own choices and Skydeck's
//! error messages, which never hold secrets (user data is never recorded).

use crate::error::{ErrorBody, Result};
use crate::model::Cloud;
use crate::service::Skydeck;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityResult {
    Ok,
    Error,
}

/// One line of the Activity view / `skydeck-cli activity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    pub cloud_id: String,
    /// The cloud's title at the time (kept when the cloud is renamed or removed).
    pub cloud_title: String,
    /// `None` when the machine never came to exist (a create that failed).
    pub machine_id: Option<String>,
    pub machine_name: Option<String>,
    /// `create`, `start`, `stop`, `reboot`, `destroy`, `rename`, `tag`, …
    pub action: String,
    /// What was asked, e.g. the new name or the size/image/location of a create.
    pub detail: Option<String>,
    pub result: ActivityResult,
    /// Code and message when `result` is `error`.
    pub error: Option<ErrorBody>,
}

impl Skydeck {
    /// The newest `limit` entries, optionally of one cloud (id or title; a removed cloud's
    /// entries can still be asked for by its id).
    pub fn activity(&self, limit: usize, cloud: Option<&str>) -> Result<Vec<ActivityEntry>> {
        let id = cloud.map(|c| self.find_cloud(c).map(|c| c.id).unwrap_or_else(|_| c.to_string()));
        self.store.list_activity(limit, id.as_deref())
    }

    /// Records the outcome of an operation. Logging must never turn a success into a failure,
    /// so a storage error here is only traced.
    pub(crate) async fn record_activity<T>(
        &self,
        cloud: &Cloud,
        machine_id: Option<&str>,
        machine_name: Option<&str>,
        action: &str,
        detail: Option<String>,
        outcome: &Result<T>,
    ) {
        let entry = ActivityEntry {
            id: 0,
            at: crate::now_rfc3339(),
            cloud_id: cloud.id.clone(),
            cloud_title: cloud.title.clone(),
            machine_id: machine_id.map(str::to_string),
            machine_name: machine_name.map(str::to_string),
            action: action.to_string(),
            detail,
            result: if outcome.is_ok() { ActivityResult::Ok } else { ActivityResult::Error },
            error: outcome.as_ref().err().map(ErrorBody::from),
        };
        if let Err(e) = self.db(move |s| s.insert_activity(&entry)).await {
            tracing::warn!("could not record activity '{action}': {e}");
        }
    }
}
