//! One shared HTTP layer for every driver: a reqwest (rustls) client with timeouts, and
//! retries with exponential backoff + jitter on 429, 5xx and timeouts for idempotent calls.
//! Retry-After is honoured (clamped). A non-idempotent call (a create, a reboot) is retried
//! only when the request provably never left (connection refused), so a retry can never make
//! two machines or reboot one twice.
//!
//! Bounds, whatever the server does (the team's rule: every user-visible command ends within
//! 60 s at default settings):
//! - connect: [`CONNECT_TIMEOUT`] (10 s) per attempt;
//! - one attempt, headers and body: [`ATTEMPT_TIMEOUT`] (20 s);
//! - one logical call, all attempts, waits and the whole body: [`CALL_DEADLINE`] (45 s), so a
//!   server that accepts and never answers, or drips a byte a second, costs at most 45 s;
//! - body size: [`MAX_BODY`] (32 MiB), read chunk by chunk, never buffered past the cap;
//! - Retry-After and RateLimit-Reset: at most [`MAX_RETRY_AFTER`] (1 h) leaves this layer.

use crate::error::{Error, Result};
use rand::Rng;
use reqwest::header::HeaderMap;
use reqwest::{Request, Response, StatusCode};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Longest wait for a TCP (+TLS) connection to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time one attempt may take, from sending to the last byte of the body.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest time one logical call may take, retries, waits and body included. Two full
/// attempts fit; 15 s is left under the 60 s command bound for the command's own work.
pub const CALL_DEADLINE: Duration = Duration::from_secs(45);
/// The most of one answer Skydeck reads. The largest real answers (a full EC2 DescribeImages
/// page, 200 DigitalOcean images) are a few MiB; 32 MiB leaves ample room while a hostile or
/// broken endpoint can cost at most this much memory per call.
pub const MAX_BODY: usize = 32 * 1024 * 1024;
/// The longest wait a server can ask for (Retry-After, RateLimit-Reset): anything longer is
/// clamped, so no later `now + wait` can overflow and no cloud is parked for years.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// No deadline is longer than a day: keeps every `Instant + deadline` far from overflow.
const MAX_DEADLINE: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest Retry-After we wait inside one call; longer ones surface as `RateLimited`.
    pub max_retry_after: Duration,
    /// The overall deadline of one logical call (see [`CALL_DEADLINE`]).
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
            deadline: CALL_DEADLINE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, and writes that are safe to repeat (set a name, tag, delete).
    Idempotent,
    /// Creates without an idempotency token and actions that must not happen twice (a
    /// reboot): never resent once they may have arrived.
    NonIdempotent,
}

/// Sees every response (method, URL, status, headers) before the driver does. Tests use it
/// to assert that a validating mock (Prism) found no violation in any request a driver sent.
pub type Observer = Arc<dyn Fn(&reqwest::Method, &reqwest::Url, &Response) + Send + Sync>;

/// A provider's whole answer, read within the call's deadline and size cap. Its Debug shows
/// the body's length only: a body may echo a credential.
#[derive(Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as text (invalid UTF-8 replaced: every provider API answers UTF-8).
    pub body: String,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply").field("status", &self.status).field("body_len", &self.body.len()).finish_non_exhaustive()
    }
}

impl Reply {
    /// The Retry-After of this answer, clamped (see [`retry_after`]).
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after(&self.headers)
    }
}

#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    policy: RetryPolicy,
    max_body: usize,
    observer: Option<Observer>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("policy", &self.policy)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new() -> Result<Self> {
        Self::with_policy(RetryPolicy::default(), ATTEMPT_TIMEOUT)
    }

    /// A client with its own retry policy; `timeout` bounds one attempt (the policy's
    /// `deadline` bounds the whole call).
    pub fn with_policy(policy: RetryPolicy, timeout: Duration) -> Result<Self> {
        let inner = reqwest::Client::builder()
            .user_agent(concat!("Skydeck/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Unavailable(format!("could not set up HTTP: {e}")))?;
        Ok(HttpClient { inner, policy, max_body: MAX_BODY, observer: None })
    }

    /// Installs an observer of every response (see [`Observer`]).
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The same client with another body cap. A provider that overrides [`MAX_BODY`] must say
    /// why next to the call.
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.inner
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// Sends `req`, retrying as the policy and `idempotency` allow, and reads the final
    /// answer's body whatever its status (drivers map error bodies themselves). Everything,
    /// retries, waits and the body, ends by the policy's deadline. Transport failures and a
    /// missed deadline become `Unavailable`; a body over the cap a `response_too_large`
    /// provider error. `what` names the provider in messages.
    pub async fn send(&self, req: Request, idempotency: Idempotency, what: &str) -> Result<Reply> {
        let budget = self.policy.deadline.min(MAX_DEADLINE);
        let started = Instant::now();
        // `None` only on a clock near its end: then the call has no time at all, never a panic.
        let deadline = started.checked_add(budget).unwrap_or(started);
        let late = || deadline_error(what, budget);
        let mut attempt: u32 = 1;
        loop {
            let this = req.try_clone().ok_or_else(|| {
                Error::Unavailable(format!("could not send the request to {what}: its body cannot be resent"))
            })?;
            let sent = tokio::time::timeout_at(deadline, self.inner.execute(this)).await.map_err(|_| late())?;
            let delay = match sent {
                Ok(resp) => {
                    if let Some(obs) = &self.observer {
                        obs(req.method(), req.url(), &resp);
                    }
                    let status = resp.status();
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                    let delay = if retryable
                        && idempotency == Idempotency::Idempotent
                        && attempt < self.policy.max_attempts
                    {
                        match retry_after(resp.headers()) {
                            Some(d) if d > self.policy.max_retry_after => None,
                            Some(d) => Some(d),
                            None => Some(self.backoff(attempt)),
                        }
                        .filter(|d| fits(*d, deadline))
                    } else {
                        None
                    };
                    match delay {
                        Some(d) => {
                            tracing::debug!(%status, attempt, ?d, "{what}: retrying");
                            d
                        }
                        None => {
                            let headers = resp.headers().clone();
                            let body = read_body(resp, deadline, self.max_body, what).await.map_err(|e| match e {
                                BodyError::Late => late(),
                                BodyError::Failed(e) => e,
                            })?;
                            return Ok(Reply { status, headers, body });
                        }
                    }
                }
                Err(e) => {
                    // A connect error means the request never reached the server: safe to
                    // resend even a create. A timeout may have reached it: only idempotent.
                    let may_retry = e.is_connect() || (e.is_timeout() && idempotency == Idempotency::Idempotent);
                    let delay = self.backoff(attempt);
                    if !may_retry || attempt >= self.policy.max_attempts || !fits(delay, deadline) {
                        return Err(transport_error(what, &e));
                    }
                    tracing::debug!(attempt, ?delay, "{what}: transport error, retrying");
                    delay
                }
            };
            tokio::time::sleep(delay).await;
            attempt = attempt.saturating_add(1);
        }
    }

    /// Exponential backoff with full jitter: uniform in [base·2^(n-1)/2, base·2^(n-1)], capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.policy.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.policy.max_delay);
        let ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms.max(1)))
    }
}

/// True when waiting `delay` still ends before `deadline`.
fn fits(delay: Duration, deadline: Instant) -> bool {
    Instant::now().checked_add(delay).is_some_and(|t| t < deadline)
}

enum BodyError {
    Late,
    Failed(Error),
}

/// The one reader of provider bodies: chunk by chunk, stopping at `max` bytes (checked against
/// Content-Length first, then as bytes arrive, so an oversized body is never buffered) and at
/// `deadline` (a body that drips a byte a second ends with the call).
async fn read_body(mut resp: Response, deadline: Instant, max: usize, what: &str) -> Result<String, BodyError> {
    let status = resp.status().as_u16();
    let too_large = || BodyError::Failed(too_large(what, status, max));
    let declared = resp.content_length().unwrap_or(0);
    if declared > max as u64 {
        return Err(too_large());
    }
    // Content-Length is the server's word, not a promise: preallocate only a little.
    let mut buf = Vec::with_capacity(usize::try_from(declared).unwrap_or(0).min(1 << 20));
    loop {
        match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Err(_) => return Err(BodyError::Late),
            Ok(Err(e)) => return Err(BodyError::Failed(transport_error(what, &e))),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => {
                if chunk.len() > max.saturating_sub(buf.len()) {
                    return Err(too_large());
                }
                buf.extend_from_slice(&chunk);
            }
        }
    }
    Ok(match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn too_large(what: &str, status: u16, max: usize) -> Error {
    Error::Provider {
        provider: what.into(),
        status,
        code: Some("response_too_large".into()),
        message: format!(
            "the answer was larger than {} MiB, the most Skydeck reads, so it stopped reading. Check that the API \
             endpoint points at the {what} API; if it does, report this to Skydeck's developers.",
            max / (1024 * 1024)
        ),
    }
}

fn deadline_error(what: &str, budget: Duration) -> Error {
    Error::Unavailable(format!(
        "{what} did not answer within {} s. Check your network, proxy or the API endpoint, or try again later.",
        budget.as_secs().max(1)
    ))
}

/// The Retry-After header, as seconds or an HTTP date, clamped to [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(v, SystemTime::now())
}

/// A Retry-After value (RFC 9110 §10.2.3) as a wait from `now`: delay-seconds or an HTTP
/// date, never more than [`MAX_RETRY_AFTER`]; a date in the past is "now"; anything else
/// (negative, garbage) is `None`. A number too large for u64 is "very long", so the maximum.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Some(secs) = parse_seconds(v) {
        return Some(clamp_wait(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).map(|d| d.min(MAX_RETRY_AFTER)).unwrap_or(Duration::ZERO))
}

/// Non-empty ASCII digits as seconds, saturating at `u64::MAX`; `None` for anything else.
pub fn parse_seconds(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.parse::<u64>().unwrap_or(u64::MAX))
}

/// Seconds to wait, clamped to [`MAX_RETRY_AFTER`].
pub fn clamp_wait(secs: u64) -> Duration {
    Duration::from_secs(secs.min(MAX_RETRY_AFTER.as_secs()))
}

fn transport_error(what: &str, e: &reqwest::Error) -> Error {
    // reqwest's Display includes the URL, never headers or bodies, so no secret can leak;
    // query-string keys (HostVirtual) are stripped by `strip_url`.
    let msg = strip_url(e);
    if e.is_timeout() {
        Error::Unavailable(format!("{what} did not answer in time ({msg}). Check your network or try again later."))
    } else if e.is_connect() {
        Error::Unavailable(format!("could not connect to {what} ({msg}). Check your network, proxy or the API endpoint."))
    } else {
        Error::Unavailable(format!("the request to {what} failed ({msg}). Try again later."))
    }
}

fn strip_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        let mut safe = url.clone();
        safe.set_query(None);
        s = s.replace(url.as_str(), safe.as_str());
    }
    s
}

#[cfg(test)]
pub(crate) mod test_server;
#[cfg(test)]
mod tests;
