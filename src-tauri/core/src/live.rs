//! Live inventory: a background task that refreshes each cloud on its own adaptive timetable
//! (see [`crate::scheduler`]) and reports every refresh, with what changed, to a listener.
//! The desktop app forwards these to the window and the tray; nothing re-fetches everything.

use crate::inventory::RefreshOutcome;
use crate::scheduler::{Outcome, Scheduler, SchedulerConfig, SystemClock};
use crate::service::Skydeck;
use serde::Serialize;
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
        sync(&deck, &mut sched);
        loop {
            for id in sched.take_due() {
                let (deck, done) = (deck.clone(), done_tx.clone());
                // Each cloud in its own task: a slow one never holds up another.
                tokio::spawn(async move {
                    let Ok(cloud) = deck.find_cloud(&id) else {
                        return;
                    };
                    let _ = done.send(deck.refresh_cloud(&cloud).await);
                });
            }
            let wake = sched.next_wakeup().unwrap_or_else(|| sched.now() + Duration::from_secs(3600));
            tokio::select! {
                _ = tokio::time::sleep_until(wake.into()) => {}
                cmd = rx.recv() => match cmd {
                    None => break,
                    Some(Command::RefreshNow) => sched.refresh_all_now(),
                    Some(Command::Poke(id)) => sched.poke(&id),
                    Some(Command::SetVisible(v)) => sched.set_visible(v),
                    Some(Command::SetConfig(c)) => sched.set_config(c),
                    Some(Command::CloudsChanged) => sync(&deck, &mut sched),
                },
                Some(outcome) = done_rx.recv() => {
                    let o = match &outcome.error {
                        None => Outcome::Ok { transitioning: outcome.transitioning },
                        Some(_) => Outcome::Failed { retry_after: outcome.retry_after_secs.map(Duration::from_secs) },
                    };
                    // A cloud removed meanwhile has no timetable any more: nothing to report.
                    if let Some(next) = sched.record(&outcome.cloud_id, o) {
                        on_refresh(Refreshed { outcome, next_refresh_ms: next.as_millis() as u64 });
                    }
                }
            }
        }
    });
    LiveHandle { tx }
}

fn sync(deck: &Skydeck, sched: &mut Scheduler<SystemClock>) {
    match deck.store().list_clouds() {
        Ok(clouds) => sched.sync_clouds(clouds.iter().filter(|c| c.enabled).map(|c| c.id.as_str())),
        Err(e) => tracing::error!("live refresh cannot read the clouds: {e}"),
    }
}
