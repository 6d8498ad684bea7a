//! Live inventory: a background task that refreshes each cloud on its own adaptive timetable
//! (see [`crate::scheduler`]) and reports every refresh, with what changed, to a listener.
//! The desktop app forwards these to the window and the tray; nothing re-fetches everything.

use crate::bounds::later;
use crate::error::{Error, ErrorBody};
use crate::inventory::RefreshOutcome;
use crate::scheduler::{Outcome, Scheduler, SchedulerConfig, SystemClock};
use crate::service::Skydeck;
use futures::FutureExt;
use serde::Serialize;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Debug, Clone, Serialize)]
pub struct Refreshed {
    #[serde(flatten)]
    pub outcome: RefreshOutcome,
    /// When this cloud is refreshed next, in ms from now (the scheduler's decision).
    pub next_refresh_ms: u64,
}

#[derive(Debug)]
enum Command {
    RefreshNow,
    Poke(String),
    SetVisible(bool),
    SetConfig(SchedulerConfig),
    CloudsChanged,
}

/// Steers the background refresher. Dropping every handle stops it.
#[derive(Clone)]
pub struct LiveHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl LiveHandle {
    /// "Refresh now" from the tray or toolbar.
    pub fn refresh_now(&self) {
        let _ = self.tx.send(Command::RefreshNow);
    }
    /// The user acted on a machine of this cloud: follow it closely for a while.
    pub fn poke(&self, cloud_id: &str) {
        let _ = self.tx.send(Command::Poke(cloud_id.to_string()));
    }
    pub fn set_visible(&self, visible: bool) {
        let _ = self.tx.send(Command::SetVisible(visible));
    }
    pub fn set_config(&self, cfg: SchedulerConfig) {
        let _ = self.tx.send(Command::SetConfig(cfg));
    }
    /// A cloud was added, removed, enabled or disabled.
    pub fn clouds_changed(&self) {
        let _ = self.tx.send(Command::CloudsChanged);
    }
}

/// Starts the refresher on the current tokio runtime. `on_refresh` is called after every
/// refresh of every cloud, from the refresher's task.
pub fn spawn(
    deck: Arc<Skydeck>,
    cfg: SchedulerConfig,
    on_refresh: impl Fn(Refreshed) + Send + Sync + 'static,
) -> LiveHandle {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut sched = Scheduler::new(cfg, SystemClock);
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<RefreshOutcome>();
        sync(&deck, &mut sched).await;
        loop {
            for id in sched.take_due() {
                let (deck, done) = (deck.clone(), done_tx.clone());
                // Each cloud in its own task: a slow one never holds up another. Whatever
                // happens in it (the cloud is gone, the database fails, something panics),
                // exactly one outcome comes back, else the cloud would stay in flight and
                // never be refreshed again.
                tokio::spawn(async move {
                    let outcome = AssertUnwindSafe(refresh_one(&deck, &id)).catch_unwind().await.unwrap_or_else(|_| {
                        failed(&id, &id, crate::bounds::panicked(&id, "refreshing it"))
                    });
                    let _ = done.send(outcome);
                });
            }
            // Time arithmetic never panics here: a panic would stop refreshing every cloud.
            let wake = sched.next_wakeup().unwrap_or_else(|| later(sched.now(), IDLE_WAKEUP, Duration::ZERO));
            tokio::select! {
                _ = tokio::time::sleep_until(wake.into()) => {}
                cmd = rx.recv() => match cmd {
                    None => break,
                    Some(Command::RefreshNow) => sched.refresh_all_now(),
                    Some(Command::Poke(id)) => sched.poke(&id),
                    Some(Command::SetVisible(v)) => sched.set_visible(v),
                    Some(Command::SetConfig(c)) => sched.set_config(c),
                    Some(Command::CloudsChanged) => sync(&deck, &mut sched).await,
                },
                Some(outcome) = done_rx.recv() => {
                    let o = match &outcome.error {
                        None => Outcome::Ok { transitioning: outcome.transitioning },
                        Some(_) => Outcome::Failed { retry_after: outcome.retry_after_secs.map(Duration::from_secs) },
                    };
                    // A cloud removed meanwhile has no timetable any more: nothing to report.
                    if let Some(next) = sched.record(&outcome.cloud_id, o) {
                        let r = Refreshed { outcome, next_refresh_ms: u64::try_from(next.as_millis()).unwrap_or(u64::MAX) };
                        // The listener is the app's (window, tray, notifications): a panic in
                        // it must not end the refresher either.
                        if std::panic::catch_unwind(AssertUnwindSafe(|| on_refresh(r))).is_err() {
                            tracing::error!("the refresh listener panicked; the refresher goes on");
                        }
                    }
                }
            }
        }
    });
    LiveHandle { tx }
}

/// How long the refresher sleeps when no cloud is scheduled (a command wakes it earlier).
const IDLE_WAKEUP: Duration = Duration::from_secs(3600);

/// Refreshes one scheduled cloud; a cloud that cannot be read (removed meanwhile, database
/// error) is reported as failed rather than dropped.
async fn refresh_one(deck: &Skydeck, id: &str) -> RefreshOutcome {
    match deck.cloud(id).await {
        Ok(cloud) => deck.refresh_cloud(&cloud).await,
        Err(e) => {
            tracing::warn!(cloud = %id, "live refresh cannot read the cloud: {e}");
            failed(id, id, e)
        }
    }
}

/// An outcome for a refresh that never reached the driver.
fn failed(cloud_id: &str, title: &str, e: Error) -> RefreshOutcome {
    RefreshOutcome {
        cloud_id: cloud_id.to_string(),
        title: title.to_string(),
        machine_count: 0,
        elapsed_ms: 0,
        retry_after_secs: e.retry_after().map(|d| d.as_secs()),
        error: Some(ErrorBody::from(&e)),
        transitioning: false,
        changes: Vec::new(),
    }
}

async fn sync(deck: &Skydeck, sched: &mut Scheduler<SystemClock>) {
    match deck.db(|s| s.list_clouds()).await {
        Ok(clouds) => sched.sync_clouds(clouds.iter().filter(|c| c.enabled).map(|c| c.id.as_str())),
        Err(e) => tracing::error!("live refresh cannot read the clouds: {e}"),
    }
}
