//! How long each user-visible operation may take, and what happens when a driver misbehaves.
//!
//! Every call into a provider driver made by `Skydeck` goes through [`guarded`]: an outer time
//! bound (HTTP calls also have their own, shorter per-request bounds in `http.rs`; this one
//! covers libvirt, Docker, the keychain read of a first connect and a driver that simply never
//! returns) and panic isolation (a panic inside one cloud's driver becomes that cloud's error
//! instead of taking down the CLI command, the window's action or the live refresher).
//!
//! The bounds at default settings, so that every command ends within 60 s:
//!
//! | operation                                                  | bound                   |
//! |------------------------------------------------------------|-------------------------|
//! | one provider call: "Test & save" / `cloud add` (then ≤ 20 s keychain write), start/stop/…, rename, tags, one catalog fetch, the create call | [`CALL_TIMEOUT`] 25 s |
//! | after an action, re-reading that cloud                     | [`FOLLOW_UP_TIMEOUT`] 20 s (action + follow-up ≤ 45 s) |
//! | checking a create against the catalogs, then the create call | 25 s + 25 s           |
//! | listing one cloud's machines (`machines`, live refresher; clouds run concurrently) | [`REFRESH_TIMEOUT`] 60 s |
//!
//! `Skydeck::with_call_timeout` and `Skydeck::with_refresh_timeout` change them (tests use
//! short ones). Past a bound the operation fails with `unavailable` and a message saying what
//! to do next.

use crate::error::{Error, Result};
use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

/// One provider call, including connecting the driver on first use.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(25);
/// The re-read of a cloud after an action (best effort: the action already succeeded).
pub const FOLLOW_UP_TIMEOUT: Duration = Duration::from_secs(20);
/// Listing one cloud's machines.
pub const REFRESH_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs one driver operation under `limit`, catching a panic inside it. `what` describes the
/// operation for messages ("'home' did not answer … while <what>"); `title` is the cloud's.
///
/// A timeout becomes `unavailable` ("check the network or the endpoint"); a panic becomes
/// `unavailable` too (it is worth retrying, and nothing the user entered is wrong), saying it
/// was Skydeck's fault. The panic's message is not copied into the error: it may quote
/// provider data. The default panic hook has already written it to stderr/the log.
pub(crate) async fn guarded<T>(
    title: &str,
    what: &str,
    limit: Duration,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    // AssertUnwindSafe: on a panic the driver's future is dropped and never polled again;
    // state it shares (the drivers map, the store) is behind locks that tolerate poisoning
    // or transactions that roll back.
    match tokio::time::timeout(limit, AssertUnwindSafe(fut).catch_unwind()).await {
        Ok(Ok(result)) => result,
        Ok(Err(_panic)) => {
            tracing::error!(cloud = %title, "the driver panicked while {what}; contained");
            Err(panicked(title, what))
        }
        Err(_) => Err(Error::Unavailable(format!(
            "'{title}' did not answer within {} s while {what}. Check the network and the cloud's endpoint or host, \
             then try again.",
            limit.as_secs_f64().ceil() as u64
        ))),
    }
}

/// The error a contained panic becomes.
pub(crate) fn panicked(title: &str, what: &str) -> Error {
    Error::Unavailable(format!(
        "Skydeck hit an internal error in the driver of '{title}' while {what}; it was contained and the other \
         clouds are unaffected. Try again; if it keeps happening, report it with the log."
    ))
}

/// `now + d`, or `now + fallback` when that would overflow the clock (a far-future
/// Retry-After, a huge setting), or `now` itself: time arithmetic must never panic.
pub fn later(now: std::time::Instant, d: Duration, fallback: Duration) -> std::time::Instant {
    now.checked_add(d).or_else(|| now.checked_add(fallback)).unwrap_or(now)
}

#[cfg(test)]
mod tests;
