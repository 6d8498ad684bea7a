//! One libvirt connection per cloud, opened on first use and kept: libvirt's `test:///default`
//! driver keeps its state only within one connection, and a remote `+ssh` connection costs an
//! ssh login. libvirt calls block (an ssh round trip, a disk copy), so every call runs on
//! tokio's blocking pool under a timeout.
//!
//! Threads: a `virConnectPtr` may be used from several threads at once (libvirt ≥ 0.6; the
//! `virt` crate marks `Connect` Send + Sync), and `Connect::clone` only takes a reference. So
//! the mutex guards just the slot and is never held across libvirt I/O:
//! * opening runs outside it, as one job per cloud at a time: a caller that finds an open
//!   under way waits for its outcome *asynchronously*, under its own timeout. An open that
//!   hangs (an ssh server that accepts and never answers) thus holds one blocking thread
//!   until ssh gives up, never the lock, and never a thread per later call;
//! * every `virConnectClose` (dropping the last `Connect`) happens on the blocking pool: a
//!   close can wait on the remote end or on libvirt's global locks, which must not stall an
//!   async worker thread.
//!
//! An SSH private key from the keychain is written to a 0600 temp file only while the
//! connection opens (ssh has authenticated by the time `virConnectOpen` returns), passed as
//! the URI's `keyfile=` parameter, and deleted right after. Its path never reaches a
//! message. The URI itself was checked by [`super::uri::check`]; libvirt gets it rebuilt
//! from the checked parts with only Skydeck's parameters.

use super::errors::{self, Fail};
use super::uri::Checked;
use crate::error::{Error, Result};
use crate::secrets::Sensitive;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once};
use std::time::Duration;
use tokio::sync::watch;
use virt::connect::Connect;

pub struct Conn {
    /// The URI as the user gave it (no key file): safe to show.
    pub uri: String,
    checked: Checked,
    key: Option<Sensitive<String>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    conn: Option<Connect>,
    /// The open under way, if any: it sends its outcome once, to every caller waiting.
    opening: Option<watch::Receiver<Option<Outcome>>>,
}

/// How an open ended: `Ok` = the connection is in the slot.
type Outcome = std::result::Result<(), Arc<Error>>;

/// What a call's blocking job did: ran `f`, or found the connection dead and gave `f` back.
enum Job<T, F> {
    Ran(Result<T>),
    Dead(F),
}

/// libvirt's default error handler prints every error to stderr; Skydeck reports them itself.
fn quiet_libvirt() {
    static ONCE: Once = Once::new();
    ONCE.call_once(virt::error::clear_error_callback);
}

/// A private key as pasted into a one-line secret field: the newlines may be gone. OpenSSH
/// and PEM keys are a BEGIN line, base64 and an END line; rebuild that shape.
pub fn normalize_key(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let begin_end = raw.find("-----BEGIN ")?;
    let header_end = begin_end + raw[begin_end + 11..].find("-----")? + 11 + 5;
    let footer_start = raw.rfind("-----END ")?;
    if footer_start < header_end {
        return None;
    }
    let header = &raw[begin_end..header_end];
    let footer = raw[footer_start..].trim();
    let body = &raw[header_end..footer_start];
    // A PEM key may carry "Proc-Type: …" headers: keep such lines as they are.
    let (headers, b64): (Vec<&str>, Vec<&str>) =
        body.lines().map(str::trim).filter(|l| !l.is_empty()).partition(|l| l.contains(": "));
    let b64: String = b64.concat().split_whitespace().collect();
    if b64.is_empty() || !b64.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)) {
        return None;
    }
    let mut out = format!("{header}\n");
    for h in &headers {
        out.push_str(h);
        out.push('\n');
    }
    if !headers.is_empty() {
        out.push('\n');
    }
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("ascii"));
        out.push('\n');
    }
    out.push_str(footer);
    out.push('\n');
    Some(out)
}

impl Conn {
    pub fn new(uri: String, checked: Checked, key: Option<Sensitive<String>>) -> Self {
        Conn { uri, checked, key, state: Mutex::new(State::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a connection (blocking): with the keychain key in a temp file for its duration.
    fn open(&self) -> Result<Connect, Fail> {
        quiet_libvirt();
        wait_for_closes();
        let Some(key) = &self.key else {
            return Connect::open(Some(&self.checked.for_libvirt(None))).map_err(Fail::Virt);
        };
        let mut file = tempfile::Builder::new().prefix("skydeck-libvirt-").tempfile().map_err(|e| {
            Fail::Skydeck(Error::Unavailable(format!("could not write the SSH key to a temporary file ({e})")))
        })?;
        file.write_all(key.expose().as_bytes()).and_then(|_| file.flush()).map_err(|e| {
            Fail::Skydeck(Error::Unavailable(format!("could not write the SSH key to a temporary file ({e})")))
        })?;
        let path = file.into_temp_path();
        let opened = Connect::open(Some(&self.checked.for_libvirt(Some(&path))));
        // ssh has read the key by now (the open call is answered only after it logged in).
        drop(path);
        opened.map_err(Fail::Virt)
    }

    /// Starts the one open job of this cloud; the caller holds the lock and saw none running.
    fn start_open(self: &Arc<Self>, st: &mut State) -> watch::Receiver<Option<Outcome>> {
        let (tx, rx) = watch::channel(None);
        st.opening = Some(rx.clone());
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let opened = this.open();
            let mut st = this.lock();
            st.opening = None;
            let (outcome, replaced) = match opened {
                Ok(c) => (Ok(()), st.conn.replace(c)),
                Err(fail) => (Err(Arc::new(this.error(fail, false))), None),
            };
            drop(st);
            // On the blocking pool already: closing here is fine.
            drop(replaced);
            let _ = tx.send(Some(outcome));
        });
        rx
    }

    /// The open connection, opening it first if there is none. Never blocks a thread: waits
    /// for the open job's outcome (the caller bounds the wait).
    async fn connection(self: &Arc<Self>) -> Result<Connect> {
        loop {
            let mut rx = {
                let mut st = self.lock();
                if let Some(c) = &st.conn {
                    return Ok(c.clone());
                }
                match &st.opening {
                    Some(rx) => rx.clone(),
                    None => self.start_open(&mut st),
                }
            };
            let outcome = rx.wait_for(Option::is_some).await.map(|o| o.clone());
            match outcome {
                Ok(Some(Ok(()))) => continue,
                Ok(Some(Err(e))) => return Err(duplicate(&e)),
                // The open job died (a panic inside libvirt's bindings): let the next call retry.
                _ => {
                    let mut st = self.lock();
                    if st.opening.as_ref().is_some_and(|o| o.same_channel(&rx)) {
                        st.opening = None;
                    }
                    return Err(Error::Unavailable(format!(
                        "opening the connection to libvirt at {} failed unexpectedly. Try again.",
                        self.uri
                    )));
                }
            }
        }
    }

    /// Forgets the connection so the next call opens a new one (after a transport error or
    /// a call that hung); it is closed on the blocking pool.
    pub fn forget(&self) {
        let old = self.lock().conn.take();
        close_off_thread(old);
    }

    /// A job's failure as Skydeck's error; a broken transport is forgotten (if `forget`).
    fn error(&self, fail: Fail, forget: bool) -> Error {
        match fail {
            Fail::Skydeck(e) => e,
            Fail::Virt(e) => {
                if forget && errors::is_transport(&e) {
                    self.forget();
                }
                errors::map(&e, &self.uri)
            }
        }
    }

    /// Runs `f` with the connection on the blocking pool; libvirt errors become Skydeck's.
    /// Getting the connection is bounded by `open_timeout`, the call by `call_timeout`; each
    /// caller has its own bounds, whatever other callers are stuck on.
    pub async fn run<T, F>(self: &Arc<Self>, open_timeout: Duration, call_timeout: Duration, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connect) -> Result<T, Fail> + Send + 'static,
    {
        let mut f = f;
        // A connection found dead (libvirtd restarted, ssh dropped) is reopened once.
        for _ in 0..2 {
            let c = match tokio::time::timeout(open_timeout, self.connection()).await {
                Ok(c) => c?,
                Err(_) => {
                    return Err(Error::Unavailable(format!(
                        "could not connect to libvirt at {} within {} s (the SSH login or the daemon did not answer). \
                         Check that the host is reachable and libvirtd runs there.",
                        self.uri,
                        open_timeout.as_secs()
                    )))
                }
            };
            let this = self.clone();
            let finished = Arc::new(AtomicBool::new(false));
            let done = finished.clone();
            let job = tokio::task::spawn_blocking(move || {
                let job = if c.is_alive().unwrap_or(false) {
                    Job::Ran(f(&c).map_err(|fail| this.error(fail, true)))
                } else {
                    this.forget();
                    Job::Dead(f)
                };
                // `c` (maybe the last reference) is closed here, on the blocking pool.
                drop(c);
                done.store(true, Ordering::Release);
                job
            });
            match tokio::time::timeout(call_timeout, job).await {
                Ok(Ok(Job::Ran(result))) => return result,
                Ok(Ok(Job::Dead(back))) => f = back,
                Ok(Err(join)) => {
                    return Err(Error::Unavailable(format!("a libvirt call failed unexpectedly ({join}). Try again.")))
                }
                Err(_) => {
                    // The connection may be wedged: the next call starts on a fresh one.
                    if !finished.load(Ordering::Acquire) {
                        self.forget();
                    }
                    return Err(Error::Unavailable(format!(
                        "libvirt at {} did not answer within {} s. Check that the host is reachable and libvirtd \
                         runs there.",
                        self.uri,
                        call_timeout.as_secs()
                    )));
                }
            }
        }
        Err(Error::Unavailable(format!(
            "the connection to libvirt at {} keeps dropping. Check that libvirtd runs there, then try again.",
            self.uri
        )))
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        close_off_thread(st.conn.take());
    }
}

/// How many closes are still under way on the blocking pool, and a signal when one ends.
static CLOSING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());
/// How long an open waits for closes still under way (a close can hang with its host).
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Drops (closes) a connection on the blocking pool when there is a runtime: the caller may
/// be an async worker thread, and `virConnectClose` can block.
fn close_off_thread(c: Option<Connect>) {
    let Some(c) = c else { return };
    let Ok(rt) = tokio::runtime::Handle::try_current() else { return drop(c) };
    *CLOSING.0.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    let closing = Closing(Some(c));
    // A runtime shutting down drops the job without running it: `Closing` counts down then too.
    rt.spawn_blocking(move || drop(closing));
}

/// A connection on its way to being closed, counted in [`CLOSING`] until it is.
struct Closing(Option<Connect>);

impl Drop for Closing {
    fn drop(&mut self) {
        drop(self.0.take());
        *CLOSING.0.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
        CLOSING.1.notify_all();
    }
}

/// Lets the closes started before this open finish first (briefly; blocking). A driver that
/// keeps its state per connection (`test:///default`) then starts afresh once the last
/// connection was dropped, as it did when closes were synchronous.
fn wait_for_closes() {
    let count = CLOSING.0.lock().unwrap_or_else(|p| p.into_inner());
    let _ = CLOSING.1.wait_timeout_while(count, CLOSE_WAIT, |n| *n > 0);
}

/// The same error again, for each caller that waited on one open.
fn duplicate(e: &Error) -> Error {
    match e {
        Error::Unauthenticated(m) => Error::Unauthenticated(m.clone()),
        Error::PermissionDenied(m) => Error::PermissionDenied(m.clone()),
        Error::NotFound(m) => Error::NotFound(m.clone()),
        Error::RateLimited { message, retry_after } => {
            Error::RateLimited { message: message.clone(), retry_after: *retry_after }
        }
        Error::InvalidInput { field, message } => Error::InvalidInput { field: field.clone(), message: message.clone() },
        Error::NotSupported(m) => Error::NotSupported(m.clone()),
        Error::Provider { provider, status, code, message } => Error::Provider {
            provider: provider.clone(),
            status: *status,
            code: code.clone(),
            message: message.clone(),
        },
        Error::Conflict(m) => Error::Conflict(m.clone()),
        // Unavailable, and anything an open cannot really fail with.
        other => Error::Unavailable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuilds_a_key_pasted_without_newlines() {
        let body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
        let flat = format!("-----BEGIN OPENSSH PRIVATE KEY-----{body}-----END OPENSSH PRIVATE KEY-----");
        let k = normalize_key(&flat).unwrap();
        let lines: Vec<&str> = k.lines().collect();
        assert_eq!(lines[0], "-----BEGIN OPENSSH PRIVATE KEY-----");
        assert_eq!(*lines.last().unwrap(), "-----END OPENSSH PRIVATE KEY-----");
        assert_eq!(lines[1..lines.len() - 1].concat(), body);
        assert!(lines.iter().all(|l| l.len() <= 64 || l.starts_with("-----")));
        // An already well-formed key comes out the same.
        assert_eq!(normalize_key(&k).unwrap(), k);
        assert!(normalize_key("not a key").is_none());
        assert!(normalize_key("-----BEGIN X-----$$$-----END X-----").is_none());
    }
}
