//! Hetzner Cloud, `https://api.hetzner.cloud/v1`, project API token (Bearer) auth.
//!
//! Hetzner was the provider Mist.io's users asked for and never got; Skydeck has it.
//!
//! The driver is base URL + `/servers` etc., so the endpoint may carry the `/v1` (the real
//! API) or not (a mock serving the spec's bare paths). Lists are read with `per_page=50`,
//! following `meta.pagination.next_page` to the end. Power actions are
//! `POST /servers/{id}/actions/{poweron,shutdown,reboot,poweroff}`; rename and labels are one
//! `PUT /servers/{id}` (`name`, `labels`: labels are key/value pairs, so Skydeck's tags map
//! onto them directly, see [`labels`]). A new server gets the SSH key by id: the key is found
//! by its MD5 fingerprint or registered once (`POST /ssh_keys`), then passed in `ssh_keys`.

pub mod labels;
pub mod parse;

use crate::error::{Error, Result};
use crate::http::Idempotency;
use crate::model::{Action, CreateMachine, Image, Location, Machine, MachineState, Size, SshPublicKey, Tags};
use crate::provider::*;
use crate::providers::pagination::{self, Paged};
use crate::providers::rest::{self, BearerApi};
use async_trait::async_trait;
use parse::Page;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

pub const TITLE: &str = "Hetzner Cloud";
pub const DEFAULT_ENDPOINT: &str = "https://api.hetzner.cloud/v1";
const TOKENS_HELP: &str = "Cloud Console → your project → Security → API tokens";
/// Hetzner's largest page size.
const PER_PAGE: &str = "50";

pub static SPEC: ProviderSpec = ProviderSpec {
    id: "hetzner",
    title: TITLE,
    logo: "hetzner.svg",
    docs_url: "https://docs.hetzner.cloud/",
    legacy: false,
    fields: &[
        FieldSpec::new("token", "API token", FieldKind::Secret)
            .help(
                "Create a token with Read & Write permission in the Hetzner Cloud Console: open the project, then \
                 Security → API tokens → Generate API token. A token reaches one project; add one cloud per \
                 project. (Hetzner was the provider Mist.io users asked for.)",
            )
            .placeholder("64 letters and digits"),
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
    // Every server status of the API.
    states: &[
        ("running", MachineState::Running),
        ("initializing", MachineState::Pending),
        ("starting", MachineState::Starting),
        ("stopping", MachineState::Stopping),
        ("off", MachineState::Stopped),
        ("deleting", MachineState::Terminated),
        ("migrating", MachineState::Pending),
        ("rebuilding", MachineState::Pending),
        ("unknown", MachineState::Unknown),
    ],
    actions: DEFAULT_ACTIONS,
    connect,
    detect: None,
};

fn connect(c: Connection) -> Result<Box<dyn Provider>> {
    let api = BearerApi::connect(c, TITLE, "token", DEFAULT_ENDPOINT, TOKENS_HELP, error_from_response)?;
    Ok(Box::new(Hetzner { api }))
}

pub struct Hetzner {
    api: BearerApi,
}

/// Maps an error answer of Hetzner (`{"error": {"code", "message", "details"}}`) to Skydeck's
/// error. Invalid or conflicting create fields name the wizard's field.
pub fn error_from_response(status: u16, body: &str, retry_after: Option<Duration>) -> Error {
    let e = parse::parse_error(body);
    let message = e.message.trim();
    let sep = if message.is_empty() { "" } else { ": " };
    match (status, e.code.as_deref()) {
        (401, _) => Error::Unauthenticated(format!(
            "{TITLE} rejected the API token{sep}{message}. It may have been deleted: generate a new one with Read & \
             Write permission ({TOKENS_HELP}) and update the cloud's credentials."
        )),
        (403, _) => Error::PermissionDenied(format!(
            "{TITLE} denied the request{sep}{message}. The token may be read-only: generate one with Read & Write \
             permission ({TOKENS_HELP})."
        )),
        (423, _) | (_, Some("locked")) => Error::Conflict(format!(
            "{TITLE} is busy with another action on this server{sep}{message}. Wait for it to finish and try again."
        )),
        (400 | 409 | 422, _) => match e.fields.iter().find_map(|f| wizard_field(f)) {
            Some(f) => Error::invalid(f, format!("{TITLE} refused the {f}{sep}{message}. Change it and try again.")),
            None => Error::from_status(TITLE, status, e.code, message, retry_after),
        },
        _ => Error::from_status(TITLE, status, e.code, message, retry_after),
    }
}

/// Hetzner's request field → the create wizard's field.
fn wizard_field(api_field: &str) -> Option<&'static str> {
    Some(match api_field {
        "name" => "name",
        "server_type" => "size",
        "image" => "image",
        "location" | "datacenter" => "location",
        "labels" => "tags",
        "ssh_keys" => "key",
        "user_data" => "user_data",
        _ => return None,
    })
}

/// A server name must be a hostname (RFC 1123): dot-separated labels of letters, digits and
/// `-`, none starting or ending with `-`.
pub fn check_name(name: &str) -> Result<()> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if name.len() <= 253 && name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(Error::invalid(
            "name",
            format!("'{name}' is not a valid server name: Hetzner wants a hostname of letters, digits and '-' (e.g. web-1)."),
        ))
    }
}

fn unique<T>(items: Vec<T>, key: fn(&T) -> String) -> Vec<T> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|i| seen.insert(key(i))).collect()
}

/// The numeric server id (the API's path parameter is an integer).
fn server_id(machine: &Machine) -> Result<String> {
    match machine.id.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n.to_string()),
        _ => Err(Error::invalid(
            "machine",
            format!("'{}' is not a Hetzner Cloud server id; refresh the machine list and try again", machine.id),
        )),
    }
}

impl Hetzner {
    /// GETs every page of a list through the shared pagination loop. Hetzner's stop rule:
    /// `meta.pagination.next_page` is null.
    async fn get_all<T>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        parse: fn(&str) -> Result<Page<T>>,
    ) -> Result<Vec<T>> {
        let what = format!("{TITLE} /{path}");
        pagination::read_all(&what, Some(1u64), |page| async move {
            let mut url = self.api.url(&[path]);
            url.query_pairs_mut()
                .extend_pairs(query)
                .append_pair("page", &page.unwrap_or(1).to_string())
                .append_pair("per_page", PER_PAGE);
            let p = parse(&self.api.call(Method::GET, url, None, Idempotency::Idempotent).await?)?;
            Ok(Paged::new(p.items, p.next_page))
        })
        .await
    }

    /// `POST /servers/{id}/actions/{verb}`: never resent once it may have arrived. Each POST
    /// starts a new action, so a resent reboot or reset would run twice.
    async fn action(&self, machine: &Machine, verb: &str) -> Result<()> {
        let id = server_id(machine)?;
        self.api
            .call(Method::POST, self.api.url(&["servers", &id, "actions", verb]), None, Idempotency::NonIdempotent)
            .await?;
        Ok(())
    }

    async fn update(&self, machine: &Machine, body: Value) -> Result<()> {
        let id = server_id(machine)?;
        self.api.call(Method::PUT, self.api.url(&["servers", &id]), Some(&body), Idempotency::Idempotent).await?;
        Ok(())
    }

    /// The id of the project's SSH key holding `key`: found by MD5 fingerprint (what Hetzner
    /// indexes keys by), else registered. A name already taken by another key gets the
    /// fingerprint appended.
    async fn ensure_key(&self, key: &SshPublicKey) -> Result<u64> {
        let fp = rest::md5_fingerprint(&key.openssh).ok_or_else(|| {
            Error::invalid("key", format!("'{}' is not an OpenSSH public key; import the key again.", key.name))
        })?;
        let found = self.get_all("ssh_keys", &[("fingerprint", &fp)], parse::parse_ssh_keys).await?;
        if let Some(k) =
            found.iter().find(|k| k.fingerprint == fp || rest::same_public_key(&k.public_key, &key.openssh))
        {
            return Ok(k.id);
        }
        let name = if key.name.trim().is_empty() { "Skydeck key" } else { key.name.trim() };
        let url = self.api.url(&["ssh_keys"]);
        let body = json!({ "name": name, "public_key": key.openssh.trim() });
        let text = match self.api.call(Method::POST, url.clone(), Some(&body), Idempotency::NonIdempotent).await {
            Err(Error::InvalidInput { .. } | Error::Provider { status: 409, .. }) => {
                let body = json!({ "name": format!("{name} {}", &fp[..11]), "public_key": key.openssh.trim() });
                self.api.call(Method::POST, url, Some(&body), Idempotency::NonIdempotent).await?
            }
            other => other?,
        };
        Ok(parse::parse_ssh_key(&text)?.id)
    }
}

#[async_trait]
impl Provider for Hetzner {
    async fn test_connection(&self) -> Result<()> {
        // Hetzner has no account endpoint; a one-item server list proves the token reads the project.
        let mut url = self.api.url(&["servers"]);
        url.query_pairs_mut().append_pair("per_page", "1");
        let v = self.api.get_json(url).await?;
        if v.get("servers").is_none() {
            return Err(parse::unreadable(&"the answer has no 'servers'"));
        }
        Ok(())
    }

    async fn list_machines(&self) -> Result<Vec<Machine>> {
        Ok(unique(self.get_all("servers", &[], parse::parse_servers).await?, |m| m.id.clone()))
    }

    async fn list_locations(&self) -> Result<Vec<Location>> {
        Ok(unique(self.get_all("locations", &[], parse::parse_locations).await?, |l| l.id.clone()))
    }

    async fn list_sizes(&self) -> Result<Vec<Size>> {
        Ok(unique(self.get_all("server_types", &[], parse::parse_server_types).await?, |s| s.id.clone()))
    }

    async fn list_images(&self) -> Result<Vec<Image>> {
        let query = [("type", "system"), ("status", "available")];
        Ok(unique(self.get_all("images", &query, parse::parse_images).await?, |i| i.id.clone()))
    }

    async fn create_machine(&self, req: &CreateMachine) -> Result<Machine> {
        let name = req.name.trim();
        check_name(name)?;
        for (field, value) in [("location", &req.location), ("size", &req.size), ("image", &req.image)] {
            if value.trim().is_empty() {
                return Err(Error::invalid(field, format!("choose a {field} for the new server")));
            }
        }
        if let Some(k) = req.options.keys().next() {
            return Err(Error::invalid("options", format!("Hetzner Cloud takes no create option '{k}'; remove it.")));
        }
        labels::check(&req.tags)?;
        let mut body = json!({
            "name": name,
            "location": req.location.trim(),
            "server_type": req.size.trim(),
            "image": req.image.trim(),
            "start_after_create": true,
        });
        if let Some(key) = &req.key {
            body["ssh_keys"] = json!([self.ensure_key(key).await?.to_string()]);
        }
        if !req.tags.is_empty() {
            body["labels"] = json!(req.tags);
        }
        if let Some(ud) = req.user_data.as_deref().filter(|u| !u.trim().is_empty()) {
            body["user_data"] = json!(ud);
        }
        // No idempotency token in Hetzner's API, but names are unique per project: a resent
        // create would fail, not make a second server. The shared layer still never resends.
        let text =
            self.api.call(Method::POST, self.api.url(&["servers"]), Some(&body), Idempotency::NonIdempotent).await?;
        parse::parse_server(&text)
    }

    async fn machine_action(&self, machine: &Machine, action: Action) -> Result<()> {
        match action {
            Action::Start => self.action(machine, "poweron").await,
            // `shutdown` is graceful (ACPI); `poweroff` cuts power and is offered as ForceOff.
            Action::Stop => self.action(machine, "shutdown").await,
            Action::ForceOff => self.action(machine, "poweroff").await,
            Action::Reboot => self.action(machine, "reboot").await,
            Action::Destroy => {
                let id = server_id(machine)?;
                self.api.call(Method::DELETE, self.api.url(&["servers", &id]), None, Idempotency::Idempotent).await?;
                Ok(())
            }
            other => Err(Error::NotSupported(format!("{TITLE} has no '{other}' action"))),
        }
    }

    async fn rename(&self, machine: &Machine, name: &str) -> Result<()> {
        let name = name.trim();
        check_name(name)?;
        self.update(machine, json!({ "name": name })).await
    }

    async fn set_tags(&self, machine: &Machine, tags: &Tags) -> Result<()> {
        labels::check(tags)?;
        // `labels` is replaced as a whole.
        self.update(machine, json!({ "labels": tags })).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_hostnames() {
        for ok in ["web-1", "my-resource", "a.b.c", "x"] {
            check_name(ok).unwrap();
        }
        for bad in ["", "-web", "web-", "web_1", "has space", "a..b"] {
            assert_eq!(check_name(bad).unwrap_err().field(), Some("name"), "{bad}");
        }
    }

    #[test]
    fn maps_errors_with_what_to_do() {
        let e = error_from_response(
            401,
            r#"{"error":{"code":"unauthorized","message":"unable to authenticate","details":null}}"#,
            None,
        );
        assert_eq!(e.code(), "unauthenticated");
        assert!(e.to_string().contains("unable to authenticate") && e.to_string().contains("Read & Write"), "{e}");
        let e = error_from_response(
            422,
            r#"{"error":{"code":"invalid_input","message":"invalid input in field 'server_type'","details":{"fields":[{"name":"server_type","messages":["is invalid"]}]}}}"#,
            None,
        );
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("size")));
        let e = error_from_response(
            409,
            r#"{"error":{"code":"uniqueness_error","message":"server name is already used","details":{"fields":[{"name":"name"}]}}}"#,
            None,
        );
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("name")));
        assert_eq!(
            error_from_response(423, r#"{"error":{"code":"locked","message":"server is locked"}}"#, None).code(),
            "conflict"
        );
        let e = error_from_response(
            429,
            r#"{"error":{"code":"rate_limit_exceeded","message":"limit of 3600 requests per hour reached"}}"#,
            Some(Duration::from_secs(5)),
        );
        assert_eq!((e.code(), e.retry_after()), ("rate_limited", Some(Duration::from_secs(5))));
        assert_eq!(error_from_response(503, "<html>", None).code(), "unavailable");
        match error_from_response(
            412,
            r#"{"error":{"code":"resource_limit_exceeded","message":"server limit reached"}}"#,
            None,
        ) {
            Error::Provider { status: 412, code, .. } => assert_eq!(code.as_deref(), Some("resource_limit_exceeded")),
            other => panic!("{other:?}"),
        }
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
        assert_requests_per_action(&srv, &*d, &m, &[Action::Start, Action::Stop, Action::Reboot, Action::ForceOff], 1).await;
        // A delete is the same however often it is sent: retried.
        assert_requests_per_action(&srv, &*d, &m, &[Action::Destroy], 3).await;
    }

    #[tokio::test]
    async fn a_list_that_never_ends_is_a_typed_error() {
        let srv = TestServer::start(|_, req| { let next = if req.target.contains("page=2") { 1 } else { 2 }; Act::json(200, format!(r#"{{"servers":[],"meta":{{"pagination":{{"next_page":{next}}}}}}}"#)) }).await;
        let e = tokio::time::timeout(Duration::from_secs(60), driver(&srv.url).list_machines())
            .await
            .expect("ends")
            .unwrap_err();
        assert_eq!(provider_code(&e), Some("pagination_loop"), "{e}");
    }

    #[test]
    fn plain_http_is_refused_off_this_computer() {
        let e = connect(connection(&[("endpoint", "http://api.example.com")], &[("token", "secret-token-1234")]))
            .err()
            .unwrap();
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("endpoint")));
    }
}
