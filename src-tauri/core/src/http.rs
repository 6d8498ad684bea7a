//! One shared HTTP layer for every driver: a reqwest (rustls) client with timeouts, and
//! retries with exponential backoff + jitter on 429, 5xx and timeouts for idempotent calls.
//! Retry-After is honoured. A non-idempotent call (a create) is retried only when the request
//! provably never left (connection refused), so a retry can never make two machines.

use crate::error::{Error, Result};
use rand::Rng;
use reqwest::{Request, Response, StatusCode};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest Retry-After we wait inside one call; longer ones surface as `RateLimited`.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, and writes that are safe to repeat (power on, tag, delete).
    Idempotent,
    /// Creates without an idempotency token: never resent once it may have arrived.
    NonIdempotent,
}

/// Sees every response (method, URL, status, headers) before the driver does. Tests use it
/// to assert that a validating mock (Prism) found no violation in any request a driver sent.
pub type Observer = Arc<dyn Fn(&reqwest::Method, &reqwest::Url, &Response) + Send + Sync>;

#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    policy: RetryPolicy,
    observer: Option<Observer>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new() -> Result<Self> {
        Self::with_policy(RetryPolicy::default(), Duration::from_secs(30))
    }

    pub fn with_policy(policy: RetryPolicy, timeout: Duration) -> Result<Self> {
        let inner = reqwest::Client::builder()
            .user_agent(concat!("Skydeck/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Unavailable(format!("could not set up HTTP: {e}")))?;
        Ok(HttpClient { inner, policy, observer: None })
    }

    /// Installs an observer of every response (see [`Observer`]).
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.inner
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Sends `req`, retrying as the policy and `idempotency` allow. Returns the final response
    /// whatever its status (drivers map error bodies themselves); transport failures become
    /// `Unavailable`. `what` names the provider in messages.
    pub async fn send(&self, req: Request, idempotency: Idempotency, what: &str) -> Result<Response> {
        let mut attempt = 1;
        loop {
            let this = req.try_clone().expect("request bodies are buffered, so they can be cloned");
            match self.inner.execute(this).await {
                Ok(resp) => {
                    if let Some(obs) = &self.observer {
                        obs(req.method(), req.url(), &resp);
                    }
                    let status = resp.status();
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                    if !retryable || idempotency == Idempotency::NonIdempotent || attempt >= self.policy.max_attempts {
                        return Ok(resp);
                    }
                    let retry_after = retry_after(&resp);
                    if retry_after.is_some_and(|d| d > self.policy.max_retry_after) {
                        return Ok(resp);
                    }
                    let delay = retry_after.unwrap_or_else(|| self.backoff(attempt));
                    tracing::debug!(%status, attempt, ?delay, "{what}: retrying");
                    tokio::time::sleep(delay).await;
                }
                Err(e) => {
                    // A connect error means the request never reached the server: safe to
                    // resend even a create. A timeout may have reached it: only idempotent.
                    let may_retry = e.is_connect() || (e.is_timeout() && idempotency == Idempotency::Idempotent);
                    if !may_retry || attempt >= self.policy.max_attempts {
                        return Err(transport_error(what, &e));
                    }
                    let delay = self.backoff(attempt);
                    tracing::debug!(attempt, ?delay, "{what}: transport error, retrying");
                    tokio::time::sleep(delay).await;
                }
            }
            attempt += 1;
        }
    }

    /// Exponential backoff with full jitter: uniform in [base·2^(n-1)/2, base·2^(n-1)], capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.policy.base_delay.saturating_mul(1 << (attempt - 1).min(16));
        let cap = exp.min(self.policy.max_delay);
        let ms = cap.as_millis() as u64;
        Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms.max(1)))
    }
}

/// Parses Retry-After as seconds or an HTTP date.
pub fn retry_after(resp: &Response) -> Option<Duration> {
    let v = resp.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

fn transport_error(what: &str, e: &reqwest::Error) -> Error {
    // reqwest's Display includes the URL, never headers or bodies, so no secret can leak;
    // query-string keys (HostVirtual) are stripped by `without_url`.
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

/// Reads a response body as text, mapping transport errors.
pub async fn body_text(resp: Response, what: &str) -> Result<String> {
    resp.text().await.map_err(|e| transport_error(what, &e))
}
