//! Vultr API v2, `https://api.vultr.com/v2`, API key sent as a Bearer token.
//!
//! Lists are read with `per_page=500`, following the `meta.links.next` cursor to the end.
//! Power actions are `POST /v2/instances/{id}/{start,halt,reboot}`; rename and tags are one
//! `PATCH` of the instance (`label`, `tags`; tags are plain strings, see [`flat_tags`]). A new
//! instance gets the SSH key by id: the key is registered once (`POST /v2/ssh-keys`, reused
//! when the same public key is already there) and passed as `sshkey_id`.

pub mod parse;

use crate::error::{Error, Result};
use crate::http::Idempotency;
use crate::model::{Action, CreateMachine, Image, Location, Machine, MachineState, Size, SshPublicKey, Tags};
use crate::provider::*;
use crate::providers::flat_tags;
use crate::providers::pagination::{self, Paged};
use crate::providers::rest::{self, BearerApi};
use async_trait::async_trait;
use base64::Engine;
use parse::Page;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

pub const TITLE: &str = "Vultr";
pub const DEFAULT_ENDPOINT: &str = "https://api.vultr.com";
const KEYS_URL: &str = "https://my.vultr.com/settings/#settingsapi";
/// Vultr's largest page size.
const PER_PAGE: &str = "500";

pub static SPEC: ProviderSpec = ProviderSpec {
    id: "vultr",
    title: TITLE,
    logo: "vultr.svg",
    docs_url: "https://www.vultr.com/api/",
    legacy: false,
    fields: &[
        FieldSpec::new("api_key", "API key", FieldKind::Secret)
            .help(
                "Enable the API and copy your personal API key in the Vultr customer portal: Account → API \
                 (https://my.vultr.com/settings/#settingsapi). If access control is on, allow this computer's IP \
                 address there.",
            )
            .placeholder("36 upper-case letters and digits"),
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
        force_off: false,
        user_data: true,
        key_delivery: KeyDelivery::Registered,
    },
    // Raw states as [`parse::raw_state`] builds them: the power status of an active instance,
    // else Vultr's status.
    states: &[
        ("running", MachineState::Running),
        ("stopped", MachineState::Stopped),
        ("installingbooting", MachineState::Starting),
        ("active", MachineState::Running),
        ("pending", MachineState::Pending),
        ("resizing", MachineState::Pending),
        ("suspended", MachineState::Suspended),
    ],
    // Vultr suspends an instance only for billing or abuse.
    actions: ACTIONS_SUSPENDED_BY_PROVIDER,
    connect,
    detect: None,
};

fn connect(c: Connection) -> Result<Box<dyn Provider>> {
    let api = BearerApi::connect(c, TITLE, "api_key", DEFAULT_ENDPOINT, KEYS_URL, error_from_response)?;
    Ok(Box::new(Vultr { api }))
}

pub struct Vultr {
    api: BearerApi,
}

/// Maps an error answer of Vultr (`{"error": "...", "status": N}`) to Skydeck's error.
pub fn error_from_response(status: u16, body: &str, retry_after: Option<Duration>) -> Error {
    let message = parse::parse_error(body);
    let sep = if message.trim().is_empty() { "" } else { ": " };
    match status {
        401 => Error::Unauthenticated(format!(
            "{TITLE} rejected the API key{sep}{message}. Check the key at {KEYS_URL} (it changes when regenerated) \
             and that access control allows this computer's IP address, then update the cloud's credentials."
        )),
        403 => Error::PermissionDenied(format!(
            "{TITLE} denied the request{sep}{message}. The API key's user may lack the permission: give it the \
             needed access under Account → Users, or use the account's main key."
        )),
        _ => Error::from_status(TITLE, status, None, &message, retry_after),
    }
}

/// Skydeck tags → Vultr tag strings.
pub fn vultr_tags(tags: &Tags) -> Result<Vec<String>> {
    flat_tags::to_flat(tags, TITLE)
}

fn unique<T>(items: Vec<T>, key: fn(&T) -> &String) -> Vec<T> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|i| seen.insert(key(i).clone())).collect()
}

/// The instance id (a UUID; older instances have numeric ids), checked so it can only ever
/// be one path segment of the expected shape.
fn instance_id(machine: &Machine) -> Result<&str> {
    let id = machine.id.as_str();
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(id)
    } else {
        Err(Error::invalid(
            "machine",
            format!("'{id}' is not a Vultr instance id; refresh the machine list and try again"),
        ))
    }
}

impl Vultr {
    fn url(&self, segments: &[&str]) -> url::Url {
        let mut all = vec!["v2"];
        all.extend_from_slice(segments);
        self.api.url(&all)
    }

    /// GETs every page of a list through the shared pagination loop. Vultr's stop rule: the
    /// `meta.links.next` cursor (sent back as `cursor=`) is empty.
    async fn get_all<T>(&self, segments: &[&str], parse: fn(&str) -> Result<Page<T>>) -> Result<Vec<T>> {
        let what = format!("{TITLE} /{}", segments.join("/"));
        pagination::read_all(&what, None, |cursor: Option<String>| async move {
            let mut url = self.url(segments);
            url.query_pairs_mut().append_pair("per_page", PER_PAGE);
            if let Some(c) = &cursor {
                url.query_pairs_mut().append_pair("cursor", c);
            }
            let p = parse(&self.api.call(Method::GET, url, None, Idempotency::Idempotent).await?)?;
            Ok(Paged::new(p.items, p.next))
        })
        .await
    }

    /// `POST /instances/{id}/{start,halt,reboot}`: never resent once it may have arrived (a
    /// resent reboot reboots twice).
    async fn post_instance(&self, machine: &Machine, verb: &str) -> Result<()> {
        let id = instance_id(machine)?;
        self.api.call(Method::POST, self.url(&["instances", id, verb]), None, Idempotency::NonIdempotent).await?;
        Ok(())
    }

    async fn patch(&self, machine: &Machine, body: Value) -> Result<()> {
        let id = instance_id(machine)?;
        self.api.call(Method::PATCH, self.url(&["instances", id]), Some(&body), Idempotency::Idempotent).await?;
        Ok(())
    }

    /// The id of the account's SSH key holding `key`, registering it first when it is not there.
    async fn ensure_key(&self, key: &SshPublicKey) -> Result<String> {
        let existing = self.get_all(&["ssh-keys"], parse::parse_ssh_keys).await?;
        if let Some(k) = existing.iter().find(|k| rest::same_public_key(&k.ssh_key, &key.openssh)) {
            return Ok(k.id.clone());
        }
        let name = if key.name.trim().is_empty() { "Skydeck key" } else { key.name.trim() };
        let body = json!({ "name": name, "ssh_key": key.openssh.trim() });
        let text =
            self.api.call(Method::POST, self.url(&["ssh-keys"]), Some(&body), Idempotency::NonIdempotent).await?;
        Ok(parse::parse_ssh_key(&text)?.id)
    }
}

#[async_trait]
impl Provider for Vultr {
    async fn test_connection(&self) -> Result<()> {
        let v = self.api.get_json(self.url(&["account"])).await?;
        if v.get("account").is_none() {
            return Err(parse::unreadable(&"the answer has no 'account'"));
        }
        Ok(())
    }

    async fn list_machines(&self) -> Result<Vec<Machine>> {
        Ok(unique(self.get_all(&["instances"], parse::parse_instances).await?, |m| &m.id))
    }

    async fn list_locations(&self) -> Result<Vec<Location>> {
        Ok(unique(self.get_all(&["regions"], parse::parse_regions).await?, |l| &l.id))
    }

    async fn list_sizes(&self) -> Result<Vec<Size>> {
        Ok(unique(self.get_all(&["plans"], parse::parse_plans).await?, |s| &s.id))
    }

    async fn list_images(&self) -> Result<Vec<Image>> {
        Ok(unique(self.get_all(&["os"], parse::parse_os).await?, |i| &i.id))
    }

    async fn create_machine(&self, req: &CreateMachine) -> Result<Machine> {
        let name = req.name.trim();
        if name.is_empty() {
            return Err(Error::invalid("name", "give the new instance a name"));
        }
        for (field, value) in [("location", &req.location), ("size", &req.size), ("image", &req.image)] {
            if value.trim().is_empty() {
                return Err(Error::invalid(field, format!("choose a {field} for the new instance")));
            }
        }
        if let Some(k) = req.options.keys().next() {
            return Err(Error::invalid("options", format!("Vultr takes no create option '{k}'; remove it.")));
        }
        let tags = vultr_tags(&req.tags)?;
        let mut body = json!({ "region": req.location.trim(), "plan": req.size.trim(), "label": name });
        // The images Skydeck lists are operating systems (numeric `os_id`); anything else is a
        // marketplace or custom image id.
        match req.image.trim().parse::<i64>() {
            Ok(os) => body["os_id"] = json!(os),
            Err(_) => body["image_id"] = json!(req.image.trim()),
        }
        if let Some(key) = &req.key {
            body["sshkey_id"] = json!([self.ensure_key(key).await?]);
        }
        if !tags.is_empty() {
            body["tags"] = json!(tags);
        }
        if let Some(ud) = req.user_data.as_deref().filter(|u| !u.trim().is_empty()) {
            body["user_data"] = json!(base64::engine::general_purpose::STANDARD.encode(ud));
        }
        // No idempotency token in Vultr's API: the shared layer never resends this once it may
        // have arrived.
        let text =
            self.api.call(Method::POST, self.url(&["instances"]), Some(&body), Idempotency::NonIdempotent).await?;
        parse::parse_instance(&text)
    }

    async fn machine_action(&self, machine: &Machine, action: Action) -> Result<()> {
        match action {
            Action::Start => self.post_instance(machine, "start").await,
            // Vultr's API has one way to stop an instance: `halt` powers it off.
            Action::Stop => self.post_instance(machine, "halt").await,
            Action::Reboot => self.post_instance(machine, "reboot").await,
            Action::Destroy => {
                let id = instance_id(machine)?;
                self.api.call(Method::DELETE, self.url(&["instances", id]), None, Idempotency::Idempotent).await?;
                Ok(())
            }
            other => Err(Error::NotSupported(format!("{TITLE} has no '{other}' action"))),
        }
    }

    async fn rename(&self, machine: &Machine, name: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid("name", "the new name cannot be empty"));
        }
        self.patch(machine, json!({ "label": name })).await
    }

    async fn set_tags(&self, machine: &Machine, tags: &Tags) -> Result<()> {
        // The instance's `tags` is replaced as a whole.
        self.patch(machine, json!({ "tags": vultr_tags(tags)? })).await
    }
}

#[cfg(test)]
mod http_tests {
    use super::*;
    use crate::http::test_server::{assert_requests_per_action, connection, provider_code, Act, TestServer};

    fn driver(url: &str) -> Box<dyn Provider> {
        connect(connection(&[("endpoint", url)], &[("api_key", "secret-token-1234")])).unwrap()
    }

    #[tokio::test]
    async fn power_actions_are_sent_once() {
        let srv = TestServer::start(|_, _| Act::json(503, "{}")).await;
        let d = driver(&srv.url);
        let m = Machine::new("cb676a46-66fd-4dfb-b839-443f2e6c0b60", "web", "running");
        assert_requests_per_action(&srv, &*d, &m, &[Action::Start, Action::Stop, Action::Reboot], 1).await;
        // A delete is the same however often it is sent: retried.
        assert_requests_per_action(&srv, &*d, &m, &[Action::Destroy], 3).await;
    }

    #[tokio::test]
    async fn a_list_that_never_ends_is_a_typed_error() {
        let srv = TestServer::start(|_, req| { let next = if req.target.contains("cursor=a") { "b" } else { "a" }; Act::json(200, format!(r#"{{"instances":[],"meta":{{"links":{{"next":"{next}"}}}}}}"#)) }).await;
        let e = tokio::time::timeout(Duration::from_secs(60), driver(&srv.url).list_machines())
            .await
            .expect("ends")
            .unwrap_err();
        assert_eq!(provider_code(&e), Some("pagination_loop"), "{e}");
    }

    #[test]
    fn plain_http_is_refused_off_this_computer() {
        let e = connect(connection(&[("endpoint", "http://api.example.com")], &[("api_key", "secret-token-1234")]))
            .err()
            .unwrap();
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("endpoint")));
    }
}
