//! Linode (Akamai) API v4, `https://api.linode.com/v4`, personal-access-token (Bearer) auth.
//!
//! Lists are read with `page_size=500`, following `page`/`pages` to the end. Power actions
//! are `POST /v4/linode/instances/{id}/{boot,shutdown,reboot}`; rename and tags are one
//! `PUT` of the instance (`label`, `tags`; tags are plain strings, see [`flat_tags`]). A new
//! Linode gets the SSH key inline (`authorized_keys`) and cloud-init user data as
//! `metadata.user_data` (base64).

pub mod parse;

use crate::error::{Error, Result};
use crate::http::Idempotency;
use crate::model::{Action, CreateMachine, Image, Location, Machine, MachineState, Size, Tags};
use crate::provider::*;
use crate::providers::flat_tags;
use crate::providers::pagination::{self, Paged};
use crate::providers::rest::BearerApi;
use async_trait::async_trait;
use base64::Engine;
use parse::Page;
use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

pub const TITLE: &str = "Linode";
pub const DEFAULT_ENDPOINT: &str = "https://api.linode.com";
const TOKENS_URL: &str = "https://cloud.linode.com/profile/tokens";
/// Linode's largest page size.
const PAGE_SIZE: &str = "500";

pub static SPEC: ProviderSpec = ProviderSpec {
    id: "linode",
    title: TITLE,
    logo: "linode.svg",
    docs_url: "https://techdocs.akamai.com/linode-api/reference/api",
    legacy: false,
    fields: &[
        FieldSpec::new("token", "Personal access token", FieldKind::Secret)
            .help(
                "Create a personal access token in Cloud Manager: My Profile → API Tokens → Create a Personal \
                 Access Token (https://cloud.linode.com/profile/tokens), with Read/Write access to Linodes.",
            )
            .placeholder("64 hexadecimal characters"),
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
        key_delivery: KeyDelivery::Inline,
    },
    // Every status of the v4 spec. Transitional work Skydeck has no state for (migrating,
    // cloning, ...) is `pending`: it ends by itself and only a few actions make sense meanwhile.
    states: &[
        ("running", MachineState::Running),
        ("offline", MachineState::Stopped),
        ("stopped", MachineState::Stopped),
        ("booting", MachineState::Starting),
        ("rebooting", MachineState::Rebooting),
        ("shutting_down", MachineState::Stopping),
        ("provisioning", MachineState::Pending),
        ("busy", MachineState::Pending),
        ("migrating", MachineState::Pending),
        ("rebuilding", MachineState::Pending),
        ("cloning", MachineState::Pending),
        ("restoring", MachineState::Pending),
        ("resizing", MachineState::Pending),
        ("deleting", MachineState::Terminated),
        ("billing_suspension", MachineState::Suspended),
    ],
    // Linode's only suspended state is a billing suspension.
    actions: ACTIONS_SUSPENDED_BY_PROVIDER,
    connect,
    detect: None,
};

fn connect(c: Connection) -> Result<Box<dyn Provider>> {
    let api = BearerApi::connect(c, TITLE, "token", DEFAULT_ENDPOINT, TOKENS_URL, error_from_response)?;
    Ok(Box::new(Linode { api }))
}

pub struct Linode {
    api: BearerApi,
}

/// Maps an error answer of Linode (`{"errors": [{"field", "reason"}]}`) to Skydeck's error.
/// A 400 about a create field names the wizard's field (`size`, `location`, ...).
pub fn error_from_response(status: u16, body: &str, retry_after: Option<Duration>) -> Error {
    let (field, message) = parse::parse_error(body);
    let sep = if message.trim().is_empty() { "" } else { ": " };
    match status {
        401 => Error::Unauthenticated(format!(
            "{TITLE} rejected the personal access token{sep}{message}. It may be expired or revoked: create a new \
             one with Read/Write access to Linodes at {TOKENS_URL} and update the cloud's credentials."
        )),
        403 => Error::PermissionDenied(format!(
            "{TITLE} denied the request{sep}{message}. The token may be read-only or lack the Linodes scope, or \
             your user may lack a grant: create a token with Read/Write access to Linodes at {TOKENS_URL}."
        )),
        400 => match field.as_deref().and_then(wizard_field) {
            Some(f) => Error::invalid(f, format!("{TITLE} refused the {f}{sep}{message}. Change it and try again.")),
            None => Error::from_status(TITLE, status, None, &message, retry_after),
        },
        _ => Error::from_status(TITLE, status, None, &message, retry_after),
    }
}

/// Linode's request field → the create wizard's field.
fn wizard_field(api_field: &str) -> Option<&'static str> {
    Some(match api_field {
        "label" => "name",
        "region" => "location",
        "type" => "size",
        "image" => "image",
        "tags" => "tags",
        "authorized_keys" => "key",
        f if f.starts_with("metadata") => "user_data",
        _ => return None,
    })
}

/// Linode's label rule: 3–64 characters, letters, digits, `-`, `_`, `.`, starting with a
/// letter, and no `--`, `__` or `..`. Checked before sending so the user learns why at once.
pub fn check_label(label: &str) -> Result<()> {
    let ok = (3..=64).contains(&label.len())
        && label.starts_with(|c: char| c.is_ascii_alphabetic())
        && label.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !["--", "__", ".."].iter().any(|d| label.contains(d));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "name",
            format!(
                "'{label}' is not a valid Linode label: use 3–64 letters, digits, '-', '_' or '.', start with a \
                 letter and avoid '--', '__' and '..' (e.g. web-1)."
            ),
        ))
    }
}

/// Skydeck tags → Linode tag strings (3–50 characters each).
pub fn linode_tags(tags: &Tags) -> Result<Vec<String>> {
    let flat = flat_tags::to_flat(tags, TITLE)?;
    if let Some(bad) = flat.iter().find(|t| !(3..=50).contains(&t.chars().count())) {
        return Err(Error::invalid(
            "tags",
            format!("Linode tags are 3–50 characters; change '{bad}' (e.g. give a short key a value: 'db:main')."),
        ));
    }
    Ok(flat)
}

/// A root password nobody will ever see: Linode requires one to deploy an image, while the
/// user logs in with the SSH key (libcloud does the same). 40 characters of every class pass
/// Linode's strength check.
fn random_root_pass() -> String {
    const SETS: [&[u8]; 4] = [b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"abcdefghijkmnopqrstuvwxyz", b"23456789", b"-_.!@#%^*+="];
    let mut rng = rand::thread_rng();
    let all: Vec<u8> = SETS.concat();
    let mut pass: Vec<u8> = SETS.iter().map(|s| s[rng.gen_range(0..s.len())]).collect();
    pass.extend((0..36).map(|_| all[rng.gen_range(0..all.len())]));
    // Shuffle so the class order does not leak.
    for i in (1..pass.len()).rev() {
        pass.swap(i, rng.gen_range(0..=i));
    }
    String::from_utf8(pass).expect("ASCII")
}

/// Drops repeats (first wins): an item created or deleted while paging shifts later pages.
fn unique<T>(items: Vec<T>, key: fn(&T) -> &String) -> Vec<T> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|i| seen.insert(key(i).clone())).collect()
}

/// The numeric Linode id (the API's path parameter is an integer).
fn linode_id(machine: &Machine) -> Result<String> {
    match machine.id.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n.to_string()),
        _ => Err(Error::invalid(
            "machine",
            format!("'{}' is not a Linode id; refresh the machine list and try again", machine.id),
        )),
    }
}

impl Linode {
    fn url(&self, segments: &[&str]) -> url::Url {
        let mut all = vec!["v4"];
        all.extend_from_slice(segments);
        self.api.url(&all)
    }

    /// GETs every page of a list through the shared pagination loop. Linode's stop rule:
    /// the page just read is the last of `pages`.
    async fn get_all<T>(&self, segments: &[&str], parse: fn(&str) -> Result<Page<T>>) -> Result<Vec<T>> {
        let what = format!("{TITLE} /{}", segments.join("/"));
        pagination::read_all(&what, Some(1u32), |page| async move {
            let page = page.unwrap_or(1);
            let mut url = self.url(segments);
            url.query_pairs_mut().append_pair("page", &page.to_string()).append_pair("page_size", PAGE_SIZE);
            let p = parse(&self.api.call(Method::GET, url, None, Idempotency::Idempotent).await?)?;
            let next = (page < p.pages).then(|| page.saturating_add(1));
            Ok(Paged::new(p.items, next))
        })
        .await
    }

    /// `POST /linode/instances/{id}/{boot,shutdown,reboot}`: never resent once it may have
    /// arrived (a resent reboot reboots twice; a resent boot fails on the busy Linode).
    async fn post_instance(&self, machine: &Machine, verb: &str) -> Result<()> {
        let id = linode_id(machine)?;
        self.api
            .call(Method::POST, self.url(&["linode", "instances", &id, verb]), None, Idempotency::NonIdempotent)
            .await?;
        Ok(())
    }

    async fn update(&self, machine: &Machine, body: Value) -> Result<()> {
        let id = linode_id(machine)?;
        self.api
            .call(Method::PUT, self.url(&["linode", "instances", &id]), Some(&body), Idempotency::Idempotent)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Provider for Linode {
    async fn test_connection(&self) -> Result<()> {
        let v = self.api.get_json(self.url(&["profile"])).await?;
        if !v.is_object() {
            return Err(parse::unreadable(&"the profile answer is not an object"));
        }
        Ok(())
    }

    async fn list_machines(&self) -> Result<Vec<Machine>> {
        Ok(unique(self.get_all(&["linode", "instances"], parse::parse_instances).await?, |m| &m.id))
    }

    async fn list_locations(&self) -> Result<Vec<Location>> {
        Ok(unique(self.get_all(&["regions"], parse::parse_regions).await?, |l| &l.id))
    }

    async fn list_sizes(&self) -> Result<Vec<Size>> {
        Ok(unique(self.get_all(&["linode", "types"], parse::parse_types).await?, |s| &s.id))
    }

    async fn list_images(&self) -> Result<Vec<Image>> {
        Ok(unique(self.get_all(&["images"], parse::parse_images).await?, |i| &i.id))
    }

    async fn create_machine(&self, req: &CreateMachine) -> Result<Machine> {
        let name = req.name.trim();
        check_label(name)?;
        for (field, value) in [("location", &req.location), ("size", &req.size), ("image", &req.image)] {
            if value.trim().is_empty() {
                return Err(Error::invalid(field, format!("choose a {field} for the new Linode")));
            }
        }
        if let Some(k) = req.options.keys().next() {
            return Err(Error::invalid("options", format!("Linode takes no create option '{k}'; remove it.")));
        }
        let mut body = json!({
            "label": name,
            "region": req.location.trim(),
            "type": req.size.trim(),
            "image": req.image.trim(),
            "root_pass": random_root_pass(),
            "booted": true,
        });
        if let Some(key) = &req.key {
            body["authorized_keys"] = json!([key.openssh.trim()]);
        }
        if !req.tags.is_empty() {
            body["tags"] = json!(linode_tags(&req.tags)?);
        }
        if let Some(ud) = req.user_data.as_deref().filter(|u| !u.trim().is_empty()) {
            body["metadata"] = json!({ "user_data": base64::engine::general_purpose::STANDARD.encode(ud) });
        }
        // No idempotency token in Linode's API: the shared layer never resends this once it
        // may have arrived, so a retry can never make two Linodes.
        let text = self
            .api
            .call(Method::POST, self.url(&["linode", "instances"]), Some(&body), Idempotency::NonIdempotent)
            .await?;
        parse::parse_instance(&text)
    }

    async fn machine_action(&self, machine: &Machine, action: Action) -> Result<()> {
        match action {
            Action::Start => self.post_instance(machine, "boot").await,
            // `shutdown` is graceful (ACPI, then Linode powers off): the only stop there is.
            Action::Stop => self.post_instance(machine, "shutdown").await,
            Action::Reboot => self.post_instance(machine, "reboot").await,
            Action::Destroy => {
                let id = linode_id(machine)?;
                self.api
                    .call(Method::DELETE, self.url(&["linode", "instances", &id]), None, Idempotency::Idempotent)
                    .await?;
                Ok(())
            }
            other => Err(Error::NotSupported(format!("{TITLE} has no '{other}' action"))),
        }
    }

    async fn rename(&self, machine: &Machine, name: &str) -> Result<()> {
        let name = name.trim();
        check_label(name)?;
        self.update(machine, json!({ "label": name })).await
    }

    async fn set_tags(&self, machine: &Machine, tags: &Tags) -> Result<()> {
        // The instance's `tags` is replaced as a whole.
        self.update(machine, json!({ "tags": linode_tags(tags)? })).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_linodes_rule() {
        for ok in ["web-1", "linode123", "a.b_c-d", "Abc"] {
            assert!(check_label(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "1web", "web 1", "we--b", "a..b", "x__y", "ünï", &"a".repeat(65)] {
            assert_eq!(check_label(bad).unwrap_err().field(), Some("name"), "{bad}");
        }
    }

    #[test]
    fn tags_must_be_3_to_50_characters() {
        let t = |k: &str, v: &str| Tags::from([(k.to_string(), v.to_string())]);
        assert_eq!(linode_tags(&t("env", "prod")).unwrap(), ["env:prod"]);
        assert_eq!(linode_tags(&t("db", "")).unwrap_err().field(), Some("tags"));
        assert_eq!(linode_tags(&t("k", &"v".repeat(49))).unwrap_err().field(), Some("tags"));
    }

    #[test]
    fn root_passwords_are_strong_and_fresh() {
        let a = random_root_pass();
        assert_eq!(a.len(), 40);
        assert!(a.chars().any(|c| c.is_ascii_uppercase()) && a.chars().any(|c| c.is_ascii_lowercase()));
        assert!(a.chars().any(|c| c.is_ascii_digit()) && a.chars().any(|c| !c.is_ascii_alphanumeric()));
        assert_ne!(a, random_root_pass());
    }

    #[test]
    fn maps_errors_with_what_to_do() {
        let body = r#"{"errors":[{"field":"type","reason":"A valid plan type by that ID was not found"}]}"#;
        let e = error_from_response(400, body, None);
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("size")));
        assert!(e.to_string().contains("A valid plan type by that ID was not found"), "{e}");
        let e = error_from_response(401, r#"{"errors":[{"reason":"Invalid Token"}]}"#, None);
        assert_eq!(e.code(), "unauthenticated");
        assert!(e.to_string().contains("Invalid Token") && e.to_string().contains(TOKENS_URL), "{e}");
        assert_eq!(error_from_response(403, "{}", None).code(), "permission_denied");
        assert_eq!(error_from_response(404, r#"{"errors":[{"reason":"Not found"}]}"#, None).code(), "not_found");
        let e = error_from_response(429, "", Some(Duration::from_secs(9)));
        assert_eq!((e.code(), e.retry_after()), ("rate_limited", Some(Duration::from_secs(9))));
        assert_eq!(error_from_response(503, "<html>down</html>", None).code(), "unavailable");
    }
}

#[cfg(test)]
mod http_tests {
    use super::*;
    use crate::http::test_server::{assert_requests_per_action, connection, provider_code, Act, TestServer};

    fn driver(url: &str) -> Box<dyn Provider> {
        connect(connection(&[("endpoint", url)], &[("token", "secret-token-1234")])).unwrap()
    }

    #[tokio::test]
    async fn power_actions_are_sent_once() {
        let srv = TestServer::start(|_, _| Act::json(503, "{}")).await;
        let d = driver(&srv.url);
        let m = Machine::new("42", "web", "running");
        assert_requests_per_action(&srv, &*d, &m, &[Action::Start, Action::Stop, Action::Reboot], 1).await;
        // A delete is the same however often it is sent: retried.
        assert_requests_per_action(&srv, &*d, &m, &[Action::Destroy], 3).await;
    }

    #[tokio::test]
    async fn a_list_that_never_ends_is_a_typed_error() {
        let srv = TestServer::start(|_, _| Act::json(200, r#"{"data":[],"page":1,"pages":1000000}"#)).await;
        let e = tokio::time::timeout(Duration::from_secs(60), driver(&srv.url).list_machines())
            .await
            .expect("ends")
            .unwrap_err();
        assert_eq!(provider_code(&e), Some("too_many_pages"), "{e}");
    }

    #[test]
    fn plain_http_is_refused_off_this_computer() {
        let e = connect(connection(&[("endpoint", "http://api.example.com")], &[("token", "secret-token-1234")]))
            .err()
            .unwrap();
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("endpoint")));
    }
}
