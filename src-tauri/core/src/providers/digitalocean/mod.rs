//! DigitalOcean (API v2, `https://api.digitalocean.com/v2`), bearer-token auth.
//!
//! Droplets are listed with `per_page=200`, following every page; power actions, rename and
//! resize all go through `POST /v2/droplets/{id}/actions`; tags are plain strings (see
//! [`tags`]). Droplets are created with the SSH key registered once per account ([`create`]).

mod create;
pub mod parse;
pub mod tags;

use crate::error::{Error, Result};
use crate::http::{HttpClient, Idempotency};
use crate::model::{Action, CreateMachine, Image, Location, Machine, MachineState, Size, Tags};
use crate::provider::*;
use crate::providers::pagination::{self, Paged};
use crate::secrets::Sensitive;
use async_trait::async_trait;
use parse::Page;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

pub use create::{md5_fingerprint, MAX_USER_DATA};

pub const TITLE: &str = "DigitalOcean";
pub const DEFAULT_ENDPOINT: &str = "https://api.digitalocean.com";
const TOKENS_URL: &str = "https://cloud.digitalocean.com/account/api/tokens";
/// DigitalOcean's largest page size.
const PER_PAGE: &str = "200";

pub static SPEC: ProviderSpec = ProviderSpec {
    id: "digitalocean",
    title: TITLE,
    logo: "digitalocean.svg",
    docs_url: "https://docs.digitalocean.com/reference/api/digitalocean/",
    legacy: false,
    fields: &[
        FieldSpec::new("token", "API token", FieldKind::Secret)
            .help(
                "Create a personal access token with read and write scope in the DigitalOcean control panel: \
                 API → Tokens → Generate New Token (https://cloud.digitalocean.com/account/api/tokens).",
            )
            .placeholder("dop_v1_…"),
        FieldSpec::endpoint(DEFAULT_ENDPOINT),
    ],
    capabilities: Capabilities {
        list_locations: true,
        list_sizes: true,
        list_images: true,
        create: true,
        start: true,
        stop: true,
        reboot: true,
        destroy: true,
        rename: true,
        tag: true,
        suspend: false,
        force_off: true,
        user_data: true,
        key_delivery: KeyDelivery::Registered,
    },
    states: &[
        ("new", MachineState::Pending),
        ("active", MachineState::Running),
        ("off", MachineState::Stopped),
        ("archive", MachineState::Terminated),
    ],
    actions: DEFAULT_ACTIONS,
    connect,
    detect: None,
};

fn connect(c: Connection) -> Result<Box<dyn Provider>> {
    let token = c.secret("token")?.to_string();
    // A token is one header value: anything but visible ASCII is a paste accident, and
    // reqwest would refuse it later with a less helpful message.
    if !token.chars().all(|ch| ch.is_ascii_graphic()) {
        return Err(Error::invalid(
            "token",
            format!("the API token contains spaces or unusual characters; copy it again from {TOKENS_URL}"),
        ));
    }
    // The shared endpoint rule: https, or http to this computer only.
    let base = c.endpoint_or(DEFAULT_ENDPOINT)?;
    Ok(Box::new(DigitalOcean { http: c.http, base, token: Sensitive::new(token) }))
}

pub struct DigitalOcean {
    http: HttpClient,
    base: url::Url,
    token: Sensitive<String>,
}

/// Maps an error answer of DigitalOcean (`{"id": "...", "message": "..."}`) to Skydeck's
/// error; the `id` becomes the provider error code.
pub fn error_from_response(status: u16, body: &str, retry_after: Option<Duration>) -> Error {
    let (code, message) = parse::parse_error(body);
    let sep = if message.trim().is_empty() { "" } else { ": " };
    match status {
        401 => Error::Unauthenticated(format!(
            "{TITLE} rejected the API token{sep}{message}. The token may be expired or revoked: create a new one \
             with read and write scope at {TOKENS_URL} and update the cloud's credentials."
        )),
        403 => Error::PermissionDenied(format!(
            "{TITLE} denied the request{sep}{message}. The API token may be read-only or miss a scope: create \
             one with read and write scope at {TOKENS_URL}."
        )),
        _ => Error::from_status(TITLE, status, code, &message, retry_after),
    }
}

impl DigitalOcean {
    /// `<endpoint>/v2/<segments...>`; segments are percent-encoded, so a tag or id can never
    /// change the path.
    fn url(&self, segments: &[&str]) -> url::Url {
        let mut u = self.base.clone();
        u.path_segments_mut().expect("checked in connect").pop_if_empty().push("v2").extend(segments);
        u
    }

    /// Sends one request and returns the body of a 2xx answer; any other status becomes the
    /// matching error.
    async fn call(&self, method: Method, url: url::Url, body: Option<Value>, idem: Idempotency) -> Result<String> {
        let mut req = self
            .http
            .client()
            .request(method, url)
            .bearer_auth(self.token.expose())
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let req =
            req.build().map_err(|e| Error::Unavailable(format!("could not build the request to {TITLE}: {e}")))?;
        let reply = self.http.send(req, idem, TITLE).await?;
        let (status, wait, text) = (reply.status, reply.retry_after(), reply.body);
        if status.is_success() {
            return Ok(text);
        }
        // Never let a provider echo of the token reach a message.
        let token = self.token.expose();
        let text = if token.len() >= 8 { text.replace(token.as_str(), "<redacted>") } else { text };
        Err(error_from_response(status.as_u16(), &text, wait))
    }

    /// GETs every page of a list (`page=1,2,…` on the configured endpoint) through the
    /// shared pagination loop. DigitalOcean's stop rule: no `next` link, or `meta.total`
    /// items have arrived.
    async fn get_all<T>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        parse: fn(&str) -> Result<Page<T>>,
    ) -> Result<Vec<T>> {
        let what = format!("{TITLE} /{}", segments.join("/"));
        pagination::read_all(&what, Some(1u32), |page| async move {
            let mut url = self.url(segments);
            url.query_pairs_mut()
                .extend_pairs(query)
                .append_pair("per_page", PER_PAGE)
                .append_pair("page", &page.unwrap_or(1).to_string());
            let p = parse(&self.call(Method::GET, url, None, Idempotency::Idempotent).await?)?;
            Ok(Paged { items: p.items, next: p.next_page, total: p.total })
        })
        .await
    }

    /// `POST /droplets/{id}/actions`. Never resent once it may have arrived: each POST starts
    /// a new action, so a resent reboot reboots twice, and a resent power action answers
    /// "already has a pending event" although the first one worked.
    async fn droplet_action(&self, machine: &Machine, body: Value) -> Result<()> {
        let id = droplet_id(machine)?;
        self.call(Method::POST, self.url(&["droplets", &id, "actions"]), Some(body), Idempotency::NonIdempotent)
            .await?;
        Ok(())
    }

    /// Creates a tag (a no-op for an existing one) and returns its canonical name: DO keeps
    /// the capitalization a tag was first created with, and later calls must use it.
    async fn ensure_tag(&self, name: &str) -> Result<String> {
        let created =
            self.call(Method::POST, self.url(&["tags"]), Some(json!({ "name": name })), Idempotency::Idempotent).await;
        let text = match created {
            Ok(t) => t,
            // Some accounts answer 409/422 for a tag that already exists: it is there, go on.
            Err(Error::Provider { status: 409 | 422, .. }) => return Ok(name.to_string()),
            Err(e) => return Err(e),
        };
        let canonical = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["tag"]["name"].as_str().map(str::to_string))
            .filter(|n| n.eq_ignore_ascii_case(name));
        Ok(canonical.unwrap_or_else(|| name.to_string()))
    }

    async fn tag_resources(&self, method: Method, tag: &str, id: &str) -> Result<()> {
        let body = json!({ "resources": [{ "resource_id": id, "resource_type": "droplet" }] });
        self.call(method, self.url(&["tags", tag, "resources"]), Some(body), Idempotency::Idempotent).await?;
        Ok(())
    }
}

/// Drops repeats (first wins): an item created or deleted while paging shifts the later
/// pages of DO's offset pagination, so one can arrive twice.
fn unique<T>(items: Vec<T>, key: fn(&T) -> &String) -> Vec<T> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|i| seen.insert(key(i).clone())).collect()
}

/// The numeric droplet id (DO's path parameter is an integer).
fn droplet_id(machine: &Machine) -> Result<String> {
    match machine.id.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n.to_string()),
        _ => Err(Error::invalid(
            "machine",
            format!("'{}' is not a DigitalOcean droplet id; refresh the machine list and try again", machine.id),
        )),
    }
}

#[async_trait]
impl Provider for DigitalOcean {
    async fn test_connection(&self) -> Result<()> {
        let text = self.call(Method::GET, self.url(&["account"]), None, Idempotency::Idempotent).await?;
        let v: Value = serde_json::from_str(&text).map_err(|e| parse::unreadable(&e))?;
        if v.get("account").is_none() {
            return Err(parse::unreadable(&"the answer has no 'account'"));
        }
        Ok(())
    }

    async fn list_machines(&self) -> Result<Vec<Machine>> {
        Ok(unique(self.get_all(&["droplets"], &[], parse::parse_droplets_page).await?, |m| &m.id))
    }

    async fn list_locations(&self) -> Result<Vec<Location>> {
        Ok(unique(self.get_all(&["regions"], &[], parse::parse_regions).await?, |l| &l.id))
    }

    async fn list_sizes(&self) -> Result<Vec<Size>> {
        Ok(unique(self.get_all(&["sizes"], &[], parse::parse_sizes).await?, |s| &s.id))
    }

    async fn list_images(&self) -> Result<Vec<Image>> {
        Ok(unique(self.get_all(&["images"], &[("type", "distribution")], parse::parse_images).await?, |i| &i.id))
    }

    async fn create_machine(&self, req: &CreateMachine) -> Result<Machine> {
        self.create(req).await
    }

    async fn machine_action(&self, machine: &Machine, action: Action) -> Result<()> {
        let kind = match action {
            Action::Start => "power_on",
            // Stop is graceful: `shutdown` asks the OS to shut down (ACPI) so it can flush
            // disks and stop services; `power_off` cuts power like pulling the plug and can
            // lose data. If the OS ignores the request, DO reports the action as errored.
            Action::Stop => "shutdown",
            Action::Reboot => "reboot",
            Action::Destroy => {
                let id = droplet_id(machine)?;
                self.call(Method::DELETE, self.url(&["droplets", &id]), None, Idempotency::Idempotent).await?;
                return Ok(());
            }
            // For a droplet whose OS ignores the graceful shutdown.
            Action::ForceOff => "power_off",
            Action::Suspend | Action::Resume => {
                return Err(Error::NotSupported(format!("{TITLE} cannot {action} machines")))
            }
            Action::Rename | Action::Tag => {
                return Err(Error::NotSupported(format!("'{action}' is not a power action; use rename or set tags")))
            }
        };
        self.droplet_action(machine, json!({ "type": kind })).await
    }

    async fn rename(&self, machine: &Machine, name: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid("name", "the new name cannot be empty"));
        }
        match self.droplet_action(machine, json!({ "type": "rename", "name": name })).await {
            Err(Error::Provider { status: 422, message, .. }) => Err(Error::invalid(
                "name",
                format!("{TITLE} refused the name: {message}. Use letters, digits, '.' and '-'."),
            )),
            other => other,
        }
    }

    async fn set_tags(&self, machine: &Machine, desired: &Tags) -> Result<()> {
        let id = droplet_id(machine)?;
        // The raw names from the last listing are exact; use them unless the cached tags
        // changed since (then the tags are the truth).
        let raw: Vec<String> = machine
            .extra
            .get("tags_raw")
            .map(|s| s.split(',').filter(|t| !t.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        let current = if tags::from_do(&raw) == machine.tags {
            raw
        } else {
            machine.tags.iter().filter_map(|(k, v)| tags::to_do(k, v).ok()).collect()
        };
        let (add, remove) = tags::diff(&current, desired)?;
        // Add before removing: if a call fails half-way the droplet has extra tags, not
        // missing ones.
        for name in &add {
            let canonical = self.ensure_tag(name).await?;
            self.tag_resources(Method::POST, &canonical, &id).await?;
        }
        for name in &remove {
            self.tag_resources(Method::DELETE, name, &id).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod http_tests {
    use super::*;
    use crate::http::test_server::{assert_requests_per_action, connection, provider_code, Act, TestServer};

    fn driver(url: &str) -> Box<dyn Provider> {
        connect(connection(&[("endpoint", url)], &[("token", "dop_v1_secret")])).unwrap()
    }

    #[tokio::test]
    async fn power_actions_are_sent_once() {
        let srv = TestServer::start(|_, _| Act::json(503, "{}")).await;
        let d = driver(&srv.url);
        let m = Machine::new("42", "web", "active");
        assert_requests_per_action(&srv, &*d, &m, &[Action::Start, Action::Stop, Action::Reboot, Action::ForceOff], 1).await;
        assert!(srv.seen().iter().all(|r| r.method == "POST" && r.target.ends_with("/v2/droplets/42/actions")));
    }

    #[tokio::test]
    async fn a_next_link_back_to_page_one_is_a_typed_error() {
        let srv = TestServer::start(|i, _| {
            let next = if i == 0 { 2 } else { 1 };
            Act::json(200, format!(r#"{{"droplets":[],"links":{{"pages":{{"next":"https://x/v2/droplets?page={next}"}}}}}}"#))
        })
        .await;
        let e = driver(&srv.url).list_machines().await.unwrap_err();
        assert_eq!(provider_code(&e), Some("pagination_loop"), "{e}");
    }

    #[test]
    fn plain_http_is_refused_off_this_computer() {
        let e = connect(connection(&[("endpoint", "http://api.example.com")], &[("token", "dop_v1_secret")]))
            .err()
            .unwrap();
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("endpoint")));
    }
}
