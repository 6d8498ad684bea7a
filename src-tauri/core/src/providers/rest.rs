//! What the JSON-over-HTTPS, bearer-token providers (Linode, Vultr, Hetzner Cloud) share: a
//! client bound to one base URL and token that sends through the shared retry layer and turns
//! error answers into the provider's typed errors; comparing public SSH keys; and reading the
//! timestamps those APIs write.

use crate::error::{Error, Result};
use crate::http::{clamp_wait, parse_seconds, HttpClient, Idempotency};
use crate::provider::Connection;
use crate::secrets::Sensitive;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

/// Maps a non-2xx answer (status, body without secrets, Retry-After) to an error.
pub type ErrorMapper = fn(u16, &str, Option<Duration>) -> Error;

/// A provider's JSON API reached with `Authorization: Bearer <token>`.
pub struct BearerApi {
    http: HttpClient,
    base: url::Url,
    token: Sensitive<String>,
    title: &'static str,
    map_error: ErrorMapper,
}

impl BearerApi {
    /// Reads the `secret_key` token and the `endpoint` field (or `default_endpoint`) of a
    /// connection. `token_help` says where to get a token, for the paste-accident message.
    pub fn connect(
        c: Connection,
        title: &'static str,
        secret_key: &str,
        default_endpoint: &str,
        token_help: &str,
        map_error: ErrorMapper,
    ) -> Result<BearerApi> {
        let token = c.secret(secret_key)?.to_string();
        // A token is one header value: anything but visible ASCII is a paste accident, and
        // reqwest would refuse it later with a less helpful message.
        if !token.chars().all(|ch| ch.is_ascii_graphic()) {
            return Err(Error::invalid(
                secret_key,
                format!("the {title} token contains spaces or unusual characters; copy it again ({token_help})"),
            ));
        }
        // The shared endpoint rule: https, or http to this computer only.
        let base = c.endpoint_or(default_endpoint)?;
        Ok(BearerApi { http: c.http, base, token: Sensitive::new(token), title, map_error })
    }

    /// `<endpoint>/<segments...>`: the endpoint's own path (e.g. `/v1`) is kept and each
    /// segment is percent-encoded, so an id or a tag can never change the path.
    pub fn url(&self, segments: &[&str]) -> url::Url {
        let mut u = self.base.clone();
        u.path_segments_mut().expect("checked in connect").pop_if_empty().extend(segments);
        u
    }

    /// Sends one request and returns the body of a 2xx answer; any other status becomes the
    /// provider's error (with Retry-After, or a RateLimit-Reset header, as the wait).
    pub async fn call(&self, method: Method, url: url::Url, body: Option<&Value>, idem: Idempotency) -> Result<String> {
        let mut req = self
            .http
            .client()
            .request(method, url)
            .bearer_auth(self.token.expose())
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let req = req
            .build()
            .map_err(|e| Error::Unavailable(format!("could not build the request to {}: {e}", self.title)))?;
        let reply = self.http.send(req, idem, self.title).await?;
        let status = reply.status;
        let wait = reply.retry_after().or_else(|| rate_limit_reset(&reply.headers));
        let text = reply.body;
        if status.is_success() {
            return Ok(text);
        }
        // Never let a provider's echo of the token reach a message.
        let token = self.token.expose();
        let text = if token.len() >= 8 { text.replace(token.as_str(), "<redacted>") } else { text };
        Err((self.map_error)(status.as_u16(), &text, wait))
    }

    /// GET and parse as JSON.
    pub async fn get_json(&self, url: url::Url) -> Result<Value> {
        let text = self.call(Method::GET, url, None, Idempotency::Idempotent).await?;
        parse_json(self.title, &text)
    }
}

/// Parses a JSON answer; an empty body (204) is `null`.
pub fn parse_json(title: &str, text: &str) -> Result<Value> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|e| unreadable(title, &e))
}

/// An answer Skydeck could not read (not the JSON the API documents).
pub fn unreadable(title: &str, e: &dyn std::fmt::Display) -> Error {
    Error::Provider {
        provider: title.into(),
        status: 200,
        code: Some("invalid_response".into()),
        message: format!(
            "Skydeck could not read the answer ({e}). Check that the API endpoint points at the {title} API."
        ),
    }
}

/// `RateLimit-Reset` as Hetzner sends it (a UNIX time) or as the IETF draft defines it
/// (seconds from now): how long to wait when there is no Retry-After. Clamped like
/// Retry-After (at most an hour); garbage or negative values are `None`.
pub fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    parse_rate_limit_reset(headers.get("ratelimit-reset")?.to_str().ok()?, std::time::SystemTime::now())
}

/// A `RateLimit-Reset` value as a wait from `now` (see [`rate_limit_reset`]).
pub fn parse_rate_limit_reset(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = parse_seconds(value.trim())?;
    // Anything this large is a timestamp, not a delay of 30+ years.
    if v > 1_000_000_000 {
        let now = now.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
        Some(clamp_wait(v.saturating_sub(now)))
    } else {
        Some(clamp_wait(v))
    }
}

/// The (type, base64 blob) of an OpenSSH public key line, ignoring options and comment.
fn key_parts(openssh: &str) -> Option<(&str, &str)> {
    let mut it = openssh.split_whitespace();
    let kind = it.next()?;
    let blob = it.next()?;
    Some((kind, blob))
}

/// True when two OpenSSH public key lines hold the same key (comments may differ).
pub fn same_public_key(a: &str, b: &str) -> bool {
    matches!((key_parts(a), key_parts(b)), (Some(x), Some(y)) if x == y)
}

/// The MD5 fingerprint (`aa:bb:…`) of an OpenSSH public key line, as Hetzner and older tools
/// print it; `None` when the line is not a public key.
pub fn md5_fingerprint(openssh: &str) -> Option<String> {
    use base64::Engine;
    use md5::Digest;
    let (_, blob) = key_parts(openssh)?;
    let raw = base64::engine::general_purpose::STANDARD.decode(blob).ok()?;
    let digest = md5::Md5::digest(&raw);
    Some(digest.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"))
}

/// An API timestamp as RFC 3339 UTC. Accepts RFC 3339 with any offset and, because Linode's
/// API (and its spec's examples) write `2018-01-01T00:01:01` with no zone, a bare local form
/// that is taken as UTC. Anything else is kept as it came.
pub fn rfc3339_utc(raw: &str) -> String {
    use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true);
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f") {
        return t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true);
    }
    raw.to_string()
}

/// A short single-line excerpt of a body that was not the documented error JSON.
pub fn excerpt(body: &str) -> String {
    body.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_become_rfc3339_utc() {
        assert_eq!(rfc3339_utc("2018-01-01T00:01:01"), "2018-01-01T00:01:01Z");
        assert_eq!(rfc3339_utc("2020-10-10T01:56:20+00:00"), "2020-10-10T01:56:20Z");
        assert_eq!(rfc3339_utc("2016-01-30T23:55:00+01:00"), "2016-01-30T22:55:00Z");
        assert_eq!(rfc3339_utc("2019-06-20T17:17:11.123"), "2019-06-20T17:17:11Z");
        assert_eq!(rfc3339_utc("yesterday"), "yesterday");
    }

    #[test]
    fn compares_keys_without_comments() {
        let a = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnDjLNjW2CYezqqLpAnVaHN+A/g986/lf3QPK1endvg me@laptop";
        assert!(same_public_key(
            a,
            " ssh-ed25519  AAAAC3NzaC1lZDI1NTE5AAAAIBnDjLNjW2CYezqqLpAnVaHN+A/g986/lf3QPK1endvg other"
        ));
        assert!(!same_public_key(
            a,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
        ));
        assert!(!same_public_key(a, ""));
    }

    #[test]
    fn md5_fingerprint_matches_ssh_keygen() {
        // `ssh-keygen -E md5 -lf` of this key printed MD5:85:d5:4d:25:e2:ee:33:b1:70:7b:46:dd:7e:23:91:09
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnDjLNjW2CYezqqLpAnVaHN+A/g986/lf3QPK1endvg me@laptop";
        assert_eq!(md5_fingerprint(key).as_deref(), Some("85:d5:4d:25:e2:ee:33:b1:70:7b:46:dd:7e:23:91:09"));
        assert_eq!(md5_fingerprint("not a key"), None);
        assert_eq!(md5_fingerprint("ssh-rsa !!notbase64"), None);
    }

    #[test]
    fn rate_limit_reset_takes_delays_and_timestamps() {
        let mut h = HeaderMap::new();
        h.insert("ratelimit-reset", "17".parse().unwrap());
        assert_eq!(rate_limit_reset(&h), Some(Duration::from_secs(17)));
        let later = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 60;
        h.insert("ratelimit-reset", later.to_string().parse().unwrap());
        let d = rate_limit_reset(&h).unwrap();
        assert!((58..=60).contains(&d.as_secs()), "{d:?}");
    }

    /// Every JSON parser of provider answers stops deep nesting with a typed error (serde_json's
    /// depth limit of 128; its `unbounded_depth` feature must stay off) and never overflows
    /// the stack, parsing or dropping.
    #[test]
    fn every_json_parser_rejects_deep_nesting() {
        use crate::providers::{digitalocean as d, hetzner as h, hostvirtual as hv, linode as l, vultr as v};
        fn code<T: std::fmt::Debug>(r: Result<T>) -> Option<String> {
            match r {
                Err(Error::Provider { code, .. }) => code,
                // Just under the limit a lenient parser may find nothing to read: fine.
                Ok(_) => Some("invalid_response".into()),
                other => panic!("not an invalid_response error: {other:?}"),
            }
        }
        let deep = [
            "[".repeat(200_000),
            "{\"a\":".repeat(200_000),
            format!("{{\"droplets\":{}", "[".repeat(100_000)),
            format!("{{\"data\":[{}", "{\"a\":".repeat(100_000)),
            // Just under serde_json's limit: parsed, then refused or ignored, and dropped.
            format!("{}{}", "[".repeat(127), "]".repeat(127)),
        ];
        for body in &deep {
            let results = [
                code(d::parse::parse_droplets_page(body)),
                code(d::parse::parse_regions(body)),
                code(d::parse::parse_sizes(body)),
                code(d::parse::parse_images(body)),
                code(d::parse::parse_keys(body)),
                code(d::parse::parse_new_key(body)),
                code(d::parse::parse_created_droplet(body)),
                code(l::parse::parse_instances(body)),
                code(l::parse::parse_instance(body)),
                code(l::parse::parse_regions(body)),
                code(l::parse::parse_types(body)),
                code(l::parse::parse_images(body)),
                code(v::parse::parse_instances(body)),
                code(v::parse::parse_instance(body)),
                code(v::parse::parse_regions(body)),
                code(v::parse::parse_plans(body)),
                code(v::parse::parse_os(body)),
                code(v::parse::parse_ssh_keys(body)),
                code(v::parse::parse_ssh_key(body)),
                code(h::parse::parse_servers(body)),
                code(h::parse::parse_server(body)),
                code(h::parse::parse_images(body)),
                code(h::parse::parse_locations(body)),
                code(h::parse::parse_server_types(body)),
                code(h::parse::parse_ssh_keys(body)),
                code(h::parse::parse_ssh_key(body)),
                code(hv::parse::parse_server(body)),
                code(hv::parse::parse_servers(body)),
                code(hv::parse::parse_locations(body)),
                code(hv::parse::parse_sizes(body)),
                code(hv::parse::parse_images(body)),
                code(hv::parse::parse_bought(body)),
                code(parse_json("Test", body)),
            ];
            for (i, c) in results.iter().enumerate() {
                assert_eq!(c.as_deref(), Some("invalid_response"), "parser #{i} on {}…", &body[..20]);
            }
            // Error answers are read best-effort: never a panic, a short excerpt at most.
            let _ = (d::parse::parse_error(body), l::parse::parse_error(body), v::parse::parse_error(body));
            let _ = (h::parse::parse_error(body), hv::parse::parse_error(body));
        }
    }

    #[test]
    fn rate_limit_reset_is_clamped_and_never_overflows() {
        let now = std::time::SystemTime::now();
        let hour = Some(crate::http::MAX_RETRY_AFTER);
        assert_eq!(parse_rate_limit_reset(&u64::MAX.to_string(), now), hour);
        assert_eq!(parse_rate_limit_reset("999999999999999999999999", now), hour);
        assert_eq!(parse_rate_limit_reset("999999999", now), hour);
        assert_eq!(parse_rate_limit_reset("1000000001", now), Some(Duration::ZERO), "a reset in the past");
        for bad in ["-1", "soon", "", "1e9"] {
            assert_eq!(parse_rate_limit_reset(bad, now), None, "{bad}");
        }
    }
}
