//! When each cloud is refreshed next. Pure logic over an injectable clock, so the policy is
//! tested without sleeping:
//! - fast (≈5 s) while one of the cloud's machines is transitioning, and for a while after
//!   the user acted on it;
//! - slow (the user's setting, default 60 s) when idle;
//! - slower still while the window is hidden (or paused, if the user chose that);
//! - on errors, exponential backoff (capped); a rate limit's Retry-After is honoured, up to
//!   [`MAX_RETRY_AFTER`].
//!
//! Each cloud has its own timetable: one failing cloud never moves another's. Values come from
//! providers (Retry-After) and settings, so all time arithmetic is checked or saturating: an
//! overflow would panic the refresher of every cloud.

use std::collections::HashMap;
use crate::bounds::later;
use std::time::{Duration, Instant};

/// The longest a provider's Retry-After (or the backoff) keeps a cloud waiting: a server asking
/// for "u64::MAX seconds" or a date in year 9999 must not switch a cloud off for good.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// A paused (hidden window) cloud's next refresh: far away; `set_visible(true)` pulls it back.
const PAUSED: Duration = Duration::from_secs(365 * 24 * 3600);

/// The time source. The app uses [`SystemClock`]; tests use a manual one.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    pub fast: Duration,
    pub slow: Duration,
    /// How long a cloud stays on the fast interval after an action on one of its machines.
    pub fast_after_action: Duration,
    /// Multiplier of the slow interval while the window is hidden; `None` pauses refreshes
    /// entirely while hidden (transitioning machines are still followed at the fast pace).
    pub hidden_factor: Option<u32>,
    /// Backoff after the first error; doubles per consecutive error up to `max_backoff`.
    pub backoff_base: Duration,
    pub max_backoff: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            fast: Duration::from_secs(5),
            slow: Duration::from_secs(60),
            fast_after_action: Duration::from_secs(60),
            hidden_factor: Some(5),
            backoff_base: Duration::from_secs(15),
            max_backoff: Duration::from_secs(15 * 60),
        }
    }
}

/// What a refresh of one cloud reported, as far as scheduling cares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Ok { transitioning: bool },
    Failed { retry_after: Option<Duration> },
}

#[derive(Debug, Clone)]
struct CloudTimer {
    next_due: Instant,
    errors: u32,
    transitioning: bool,
    fast_until: Option<Instant>,
    in_flight: bool,
}

pub struct Scheduler<C: Clock> {
    cfg: SchedulerConfig,
    clock: C,
    visible: bool,
    clouds: HashMap<String, CloudTimer>,
}

impl<C: Clock> Scheduler<C> {
    pub fn new(cfg: SchedulerConfig, clock: C) -> Self {
        Scheduler { cfg, clock, visible: true, clouds: HashMap::new() }
    }

    pub fn config(&self) -> &SchedulerConfig {
        &self.cfg
    }

    /// Changes intervals (from the settings view); timetables are recomputed on the next outcome.
    pub fn set_config(&mut self, cfg: SchedulerConfig) {
        self.cfg = cfg;
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Keeps the set of scheduled clouds equal to `ids`; new clouds are due at once.
    pub fn sync_clouds<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        let now = self.clock.now();
        let ids: Vec<&str> = ids.into_iter().collect();
        self.clouds.retain(|k, _| ids.contains(&k.as_str()));
        for id in ids {
            self.clouds.entry(id.to_string()).or_insert(CloudTimer {
                next_due: now,
                errors: 0,
                transitioning: false,
                fast_until: None,
                in_flight: false,
            });
        }
    }

    pub fn set_visible(&mut self, visible: bool) {
        let was = self.visible;
        self.visible = visible;
        if visible && !was {
            // Coming back to the window: refresh what is older than the fast interval now.
            let now = self.clock.now();
            let fast = self.cfg.fast;
            for t in self.clouds.values_mut() {
                if t.errors == 0 {
                    t.next_due = t.next_due.min(later(now, fast, Duration::ZERO));
                }
            }
        }
    }

    /// Clouds due now that are not already being refreshed; marks them in flight.
    pub fn take_due(&mut self) -> Vec<String> {
        let now = self.clock.now();
        let mut due: Vec<String> = self
            .clouds
            .iter_mut()
            .filter(|(_, t)| !t.in_flight && t.next_due <= now)
            .map(|(id, t)| {
                t.in_flight = true;
                id.clone()
            })
            .collect();
        due.sort();
        due
    }

    /// The user acted on a machine of `cloud`: refresh soon and stay fast for a while.
    pub fn poke(&mut self, cloud: &str) {
        let now = self.clock.now();
        let (fast, window) = (self.cfg.fast, self.cfg.fast_after_action);
        if let Some(t) = self.clouds.get_mut(cloud) {
            t.fast_until = Some(later(now, window, MAX_RETRY_AFTER));
            t.next_due = t.next_due.min(later(now, fast.min(Duration::from_secs(2)), Duration::ZERO));
        }
    }

    /// "Refresh now": every cloud is due immediately (backoff included: the user asked).
    pub fn refresh_all_now(&mut self) {
        let now = self.clock.now();
        for t in self.clouds.values_mut() {
            t.next_due = now;
        }
    }

    /// Records a finished refresh and schedules the cloud's next one. Returns the interval.
    pub fn record(&mut self, cloud: &str, outcome: Outcome) -> Option<Duration> {
        let now = self.clock.now();
        let interval = {
            let t = self.clouds.get_mut(cloud)?;
            t.in_flight = false;
            match outcome {
                Outcome::Ok { transitioning } => {
                    t.errors = 0;
                    t.transitioning = transitioning;
                }
                Outcome::Failed { .. } => t.errors = t.errors.saturating_add(1),
            }
            let t = t.clone();
            self.interval_for(&t, now, outcome)
        };
        let t = self.clouds.get_mut(cloud)?;
        t.next_due = later(now, interval, MAX_RETRY_AFTER);
        Some(interval)
    }

    fn interval_for(&self, t: &CloudTimer, now: Instant, outcome: Outcome) -> Duration {
        if let Outcome::Failed { retry_after } = outcome {
            // The provider said when to come back: do so (never faster than the fast pace).
            if let Some(ra) = retry_after {
                return ra.max(self.cfg.fast).min(MAX_RETRY_AFTER);
            }
            let exp = self.cfg.backoff_base.saturating_mul(1u32 << t.errors.saturating_sub(1).min(16));
            return exp.min(self.cfg.max_backoff);
        }
        let fast = t.transitioning || t.fast_until.is_some_and(|u| u > now);
        if fast {
            return self.cfg.fast;
        }
        if self.visible {
            self.cfg.slow
        } else {
            match self.cfg.hidden_factor {
                Some(f) => self.cfg.slow.saturating_mul(f.max(1)),
                // Paused: far in the future; `set_visible(true)` pulls it back.
                None => PAUSED,
            }
        }
    }

    /// When the next cloud becomes due (for the refresh loop's sleep).
    pub fn next_wakeup(&self) -> Option<Instant> {
        self.clouds.values().filter(|t| !t.in_flight).map(|t| t.next_due).min()
    }

    /// When `cloud` is due next (for tests and the status line).
    pub fn next_due(&self, cloud: &str) -> Option<Instant> {
        self.clouds.get(cloud).map(|t| t.next_due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone)]
    struct ManualClock(Arc<Mutex<Instant>>);
    impl ManualClock {
        fn advance(&self, d: Duration) {
            *self.0.lock().unwrap() += d;
        }
    }
    impl Clock for ManualClock {
        fn now(&self) -> Instant {
            *self.0.lock().unwrap()
        }
    }

    fn sched() -> (Scheduler<ManualClock>, ManualClock) {
        let clock = ManualClock(Arc::new(Mutex::new(Instant::now())));
        let mut s = Scheduler::new(SchedulerConfig::default(), clock.clone());
        s.sync_clouds(["a", "b"]);
        (s, clock)
    }

    #[test]
    fn new_clouds_are_due_at_once_and_not_twice_while_in_flight() {
        let (mut s, _) = sched();
        assert_eq!(s.take_due(), ["a", "b"]);
        assert!(s.take_due().is_empty(), "in-flight clouds are not handed out again");
    }

    #[test]
    fn idle_is_slow_transitioning_is_fast() {
        let (mut s, clock) = sched();
        s.take_due();
        assert_eq!(s.record("a", Outcome::Ok { transitioning: false }), Some(Duration::from_secs(60)));
        assert_eq!(s.record("b", Outcome::Ok { transitioning: true }), Some(Duration::from_secs(5)));
        clock.advance(Duration::from_secs(5));
        assert_eq!(s.take_due(), ["b"]);
        // b's machine settled: back to slow.
        assert_eq!(s.record("b", Outcome::Ok { transitioning: false }), Some(Duration::from_secs(60)));
    }

    #[test]
    fn an_action_speeds_up_then_it_slows_down_again() {
        let (mut s, clock) = sched();
        s.take_due();
        s.record("a", Outcome::Ok { transitioning: false });
        s.poke("a");
        clock.advance(Duration::from_secs(2));
        assert_eq!(s.take_due(), ["a"]);
        assert_eq!(s.record("a", Outcome::Ok { transitioning: false }), Some(Duration::from_secs(5)));
        clock.advance(Duration::from_secs(61));
        s.take_due();
        assert_eq!(s.record("a", Outcome::Ok { transitioning: false }), Some(Duration::from_secs(60)));
    }

    #[test]
    fn errors_back_off_exponentially_up_to_a_cap_and_recover() {
        let (mut s, _) = sched();
        let mut seen = Vec::new();
        for _ in 0..8 {
            s.take_due();
            seen.push(s.record("a", Outcome::Failed { retry_after: None }).unwrap().as_secs());
        }
        assert_eq!(seen, [15, 30, 60, 120, 240, 480, 900, 900]);
        assert_eq!(s.record("a", Outcome::Ok { transitioning: false }), Some(Duration::from_secs(60)));
    }

    #[test]
    fn retry_after_is_honoured() {
        let (mut s, _) = sched();
        s.take_due();
        assert_eq!(s.record("a", Outcome::Failed { retry_after: Some(Duration::from_secs(120)) }), Some(Duration::from_secs(120)));
        // A short Retry-After never makes us hammer faster than the fast interval.
        s.take_due();
        let d = s.record("b", Outcome::Failed { retry_after: Some(Duration::from_secs(1)) }).unwrap();
        assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(15), "{d:?}");
    }

    #[test]
    fn a_far_future_retry_after_is_clamped_and_never_panics() {
        let (mut s, clock) = sched();
        s.take_due();
        // A Retry-After of u64::MAX seconds (or an HTTP date in year 9999) used to reach
        // `now + interval` and panic the refresher of every cloud.
        for huge in [Duration::from_secs(u64::MAX), Duration::MAX, Duration::from_secs(8_000 * 365 * 24 * 3600)] {
            let d = s.record("a", Outcome::Failed { retry_after: Some(huge) }).unwrap();
            assert_eq!(d, MAX_RETRY_AFTER);
        }
        clock.advance(MAX_RETRY_AFTER);
        assert!(s.take_due().contains(&"a".to_string()), "the cloud comes back after the clamp");
    }

    #[test]
    fn huge_settings_never_overflow_the_clock() {
        let (mut s, _) = sched();
        let huge = Duration::MAX;
        s.set_config(SchedulerConfig {
            fast: huge,
            slow: huge,
            fast_after_action: huge,
            hidden_factor: Some(u32::MAX),
            backoff_base: huge,
            max_backoff: huge,
        });
        s.take_due();
        s.poke("a");
        s.record("a", Outcome::Ok { transitioning: false });
        s.record("b", Outcome::Failed { retry_after: None });
        s.set_visible(false);
        s.record("a", Outcome::Ok { transitioning: true });
        s.set_visible(true);
        assert!(s.next_wakeup().is_some());
    }

    #[test]
    fn hidden_window_slows_or_pauses_and_showing_it_catches_up() {
        let (mut s, clock) = sched();
        s.set_visible(false);
        s.take_due();
        assert_eq!(s.record("a", Outcome::Ok { transitioning: false }), Some(Duration::from_secs(300)));
        // Transitioning machines are still followed fast while hidden.
        assert_eq!(s.record("b", Outcome::Ok { transitioning: true }), Some(Duration::from_secs(5)));
        clock.advance(Duration::from_secs(10));
        s.set_visible(true);
        let due_a = s.next_due("a").unwrap();
        assert!(due_a <= clock.now() + Duration::from_secs(5), "showing the window pulls a stale timetable in");

        s.set_config(SchedulerConfig { hidden_factor: None, ..SchedulerConfig::default() });
        s.set_visible(false);
        s.take_due();
        let paused = s.record("a", Outcome::Ok { transitioning: false }).unwrap();
        assert!(paused > Duration::from_secs(86_400));
    }

    #[test]
    fn one_failing_cloud_never_moves_another() {
        let (mut s, clock) = sched();
        s.take_due();
        s.record("a", Outcome::Ok { transitioning: false });
        let due_a = s.next_due("a").unwrap();
        for _ in 0..5 {
            s.record("b", Outcome::Failed { retry_after: None });
            clock.advance(Duration::from_secs(1));
        }
        assert_eq!(s.next_due("a").unwrap(), due_a);
        clock.advance(Duration::from_secs(60));
        assert!(s.take_due().contains(&"a".to_string()));
    }

    #[test]
    fn removed_clouds_leave_the_timetable() {
        let (mut s, _) = sched();
        s.sync_clouds(["b", "c"]);
        assert!(s.next_due("a").is_none());
        assert_eq!(s.take_due(), ["b", "c"]);
    }
}
