use super::test_server::{Act, TestServer};
use super::*;
use std::time::Instant as StdInstant;

/// A client with a short deadline and a long per-attempt timeout, so only the deadline can
/// end a stalled call quickly.
fn client(deadline: Duration) -> HttpClient {
    let policy =
        RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(10), deadline, ..RetryPolicy::default() };
    HttpClient::with_policy(policy, Duration::from_secs(30)).unwrap()
}

async fn get(http: &HttpClient, url: &str, idem: Idempotency) -> Result<Reply> {
    let req = http.client().get(url).build().unwrap();
    http.send(req, idem, "Test").await
}

#[test]
fn defaults_end_a_call_well_within_a_minute() {
    let p = RetryPolicy::default();
    assert!(p.deadline <= Duration::from_secs(45), "{p:?}");
    assert!(ATTEMPT_TIMEOUT < p.deadline && CONNECT_TIMEOUT < ATTEMPT_TIMEOUT);
    assert_eq!(HttpClient::new().unwrap().max_body(), 32 * 1024 * 1024);
}

#[tokio::test]
async fn a_server_that_never_answers_ends_by_the_deadline() {
    let srv = TestServer::start(|_, _| Act::Hang).await;
    let t = StdInstant::now();
    let e = get(&client(Duration::from_millis(800)), &srv.url, Idempotency::Idempotent).await.unwrap_err();
    let took = t.elapsed();
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert_eq!(e.code(), "unavailable");
    assert!(e.to_string().contains("did not answer within"), "{e}");
}

#[tokio::test]
async fn a_dripping_body_ends_by_the_deadline() {
    // Headers at once, then a byte every 100 ms for 100 s: reqwest's own timeout (30 s here)
    // would let it run; the call's deadline must not.
    let srv = TestServer::start(|_, _| Act::Drip { len: 1000, every: Duration::from_millis(100) }).await;
    let t = StdInstant::now();
    let e = get(&client(Duration::from_millis(800)), &srv.url, Idempotency::Idempotent).await.unwrap_err();
    let took = t.elapsed();
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert_eq!(e.code(), "unavailable", "{e}");
}

fn provider_code(e: &Error) -> Option<&str> {
    match e {
        Error::Provider { code, .. } => code.as_deref(),
        _ => None,
    }
}

#[tokio::test]
async fn an_endless_body_stops_at_the_size_cap() {
    let srv = TestServer::start(|_, _| Act::Endless).await;
    let http = client(Duration::from_secs(20)).with_max_body(1024 * 1024);
    let e = get(&http, &srv.url, Idempotency::Idempotent).await.unwrap_err();
    assert_eq!(provider_code(&e), Some("response_too_large"), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("larger than 1 MiB") && msg.contains("API endpoint"), "{msg}");
}

#[tokio::test]
async fn the_default_cap_is_32_mib() {
    let srv = TestServer::start(|_, _| Act::Endless).await;
    let e = get(&client(Duration::from_secs(20)), &srv.url, Idempotency::Idempotent).await.unwrap_err();
    assert_eq!(provider_code(&e), Some("response_too_large"), "{e:?}");
    assert!(e.to_string().contains("32 MiB"), "{e}");
}

#[tokio::test]
async fn a_declared_huge_body_is_refused_before_reading() {
    // Announces 400 MB and sends nothing: only the Content-Length check can end this at once.
    let srv = TestServer::start(|_, _| Act::Drip { len: 400_000_000, every: Duration::from_secs(60) }).await;
    let t = StdInstant::now();
    let e = get(&client(Duration::from_secs(20)), &srv.url, Idempotency::Idempotent).await.unwrap_err();
    assert_eq!(provider_code(&e), Some("response_too_large"), "{e:?}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_body_under_the_cap_is_read_whole() {
    let body = "x".repeat(300_000);
    let b = body.clone();
    let srv = TestServer::start(move |_, _| Act::json(200, b.clone())).await;
    let reply = get(&client(Duration::from_secs(5)), &srv.url, Idempotency::Idempotent).await.unwrap();
    assert_eq!((reply.status.as_u16(), reply.body.len()), (200, body.len()));
}

#[tokio::test]
async fn a_far_future_retry_after_is_clamped_and_not_waited_for() {
    for value in [u64::MAX.to_string(), "Fri, 31 Dec 9999 23:59:59 GMT".to_string()] {
        let v = value.clone();
        let srv = TestServer::start(move |_, _| Act::json(429, "{}").with_header("retry-after", v.clone())).await;
        let t = StdInstant::now();
        let reply = get(&client(Duration::from_secs(10)), &srv.url, Idempotency::Idempotent).await.unwrap();
        assert!(t.elapsed() < Duration::from_secs(2), "{value}");
        assert_eq!((reply.status.as_u16(), srv.hits()), (429, 1), "{value}");
        assert_eq!(reply.retry_after(), Some(MAX_RETRY_AFTER), "{value}");
    }
}

#[tokio::test]
async fn retries_stop_at_the_deadline() {
    // Retry-After 1 s on every 503, a 1.5 s deadline: the second wait would end past it.
    let srv = TestServer::start(|_, _| Act::json(503, "{}").with_header("retry-after", "1")).await;
    let t = StdInstant::now();
    let reply = get(&client(Duration::from_millis(1500)), &srv.url, Idempotency::Idempotent).await.unwrap();
    assert!(t.elapsed() < Duration::from_millis(1500), "{:?}", t.elapsed());
    assert_eq!((reply.status.as_u16(), srv.hits()), (503, 2));
}

#[tokio::test]
async fn non_idempotent_calls_are_never_resent_after_an_answer() {
    let srv = TestServer::start(|_, _| Act::json(503, "{}")).await;
    let reply = get(&client(Duration::from_secs(5)), &srv.url, Idempotency::NonIdempotent).await.unwrap();
    assert_eq!((reply.status.as_u16(), srv.hits()), (503, 1));
    let reply = get(&client(Duration::from_secs(5)), &srv.url, Idempotency::Idempotent).await.unwrap();
    assert_eq!((reply.status.as_u16(), srv.hits()), (503, 5));
}

#[test]
fn retry_after_is_clamped_and_never_overflows() {
    let now = SystemTime::now();
    let hour = Some(MAX_RETRY_AFTER);
    assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
    assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
    assert_eq!(parse_retry_after(&u64::MAX.to_string(), now), hour);
    assert_eq!(parse_retry_after("99999999999999999999999999999", now), hour);
    assert_eq!(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), hour);
    assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now), Some(Duration::ZERO));
    for bad in ["-5", "-99999999999999999999", "1.5", "soon", "", "+3", "Fri, 31 Dec 99999 23:59:59 GMT"] {
        assert_eq!(parse_retry_after(bad, now), None, "{bad}");
    }
    // Even a clock at the end of SystemTime's range yields a clamped wait, not a panic.
    let late = SystemTime::UNIX_EPOCH + Duration::from_secs(300_000_000_000);
    assert_eq!(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", late), Some(Duration::ZERO));
}

#[test]
fn backoff_never_overflows() {
    let policy = RetryPolicy {
        base_delay: Duration::MAX,
        max_delay: Duration::MAX,
        ..RetryPolicy::default()
    };
    let http = HttpClient::with_policy(policy, Duration::from_secs(1)).unwrap();
    for attempt in [0, 1, 2, 40, u32::MAX] {
        let _ = http.backoff(attempt);
    }
}

#[tokio::test]
async fn a_huge_deadline_does_not_overflow() {
    let srv = TestServer::start(|_, _| Act::json(200, "ok")).await;
    let reply = get(&client(Duration::MAX), &srv.url, Idempotency::Idempotent).await.unwrap();
    assert_eq!(reply.body, "ok");
}
