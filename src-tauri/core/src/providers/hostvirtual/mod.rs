//! HostVirtual ("VR" API, `https://vapi.vr.org`): the worked example of Mist.io's guide to
//! adding a provider. HostVirtual's API is no longer offered (libcloud removed its driver in
//! 3.8.0), so this is a faithful driver of the API as libcloud's recorded responses document
//! it (../shared/fixtures/libcloud/SEMANTICS.md §1), marked `legacy`.
//!
//! * Auth: the API key is a `key=` query parameter on every request. So a URL of this driver
//!   is secret: it is never put in a message or a log (the shared HTTP layer strips query
//!   strings from transport errors; this module never formats a URL or a reqwest error that
//!   carries one, and redacts the key from anything the API echoes).
//! * Billing is per package (`mbpkgid`): creating a machine buys a package, builds a server
//!   in it, then polls until the server answers. Destroy cancels the package for good.
//! * Unlike libcloud, a failing list is an error, never an empty list: an empty list would
//!   hide a revoked key or a dead endpoint.

pub mod parse;

use crate::error::{Error, Result};
use crate::http::{HttpClient, Idempotency};
use crate::model::{Action, CreateMachine, Image, Location, Machine, MachineState, Size};
use crate::provider::*;
use crate::secrets::Sensitive;
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub const TITLE: &str = "HostVirtual";
pub const DEFAULT_ENDPOINT: &str = "https://vapi.vr.org";
/// How often and how long a create polls for the new server to answer (libcloud: 5 s, 30 s).
const POLL_EVERY: Duration = Duration::from_secs(5);
const POLL_FOR: Duration = Duration::from_secs(30);

pub static SPEC: ProviderSpec = ProviderSpec {
    id: "hostvirtual",
    title: TITLE,
    logo: "hostvirtual.svg",
    // The last libcloud release that shipped the driver: the API's best surviving documentation.
    docs_url: "https://github.com/apache/libcloud/blob/v3.7.0/libcloud/compute/drivers/hostvirtual.py",
    legacy: true,
    fields: &[
        FieldSpec::new("api_key", "API key", FieldKind::Secret).help(
            "The API key from HostVirtual's control panel. HostVirtual's API is a legacy API that may no longer \
             be offered; Skydeck keeps a faithful driver of it.",
        ),
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
        // The API has no rename and no tags.
        rename: false,
        tag: false,
        suspend: false,
        force_off: false,
        user_data: false,
        key_delivery: KeyDelivery::Inline,
    },
    // libcloud mapped STARTING/STOPPING to REBOOTING and TERMINATED to TERMINATED; the
    // recorded TERMINATED servers are merely powered down (`state: DOWN`) and can be
    // started, so they map to stopped here, and STARTING/STOPPING to what they say.
    states: &[
        ("BUILDING", MachineState::Pending),
        ("PENDING", MachineState::Pending),
        ("RUNNING", MachineState::Running),
        ("STARTING", MachineState::Starting),
        ("STOPPING", MachineState::Stopping),
        ("REBOOTING", MachineState::Rebooting),
        ("STOPPED", MachineState::Stopped),
        ("TERMINATED", MachineState::Stopped),
    ],
    actions: DEFAULT_ACTIONS,
    connect,
    detect: None,
};

fn connect(c: Connection) -> Result<Box<dyn Provider>> {
    Ok(Box::new(HostVirtual::new(c)?))
}

pub struct HostVirtual {
    http: HttpClient,
    base: url::Url,
    key: Sensitive<String>,
}

impl HostVirtual {
    pub fn new(c: Connection) -> Result<Self> {
        let key = c.secret("api_key")?.to_string();
        // The key travels in the URL: anything but URL-safe visible ASCII is a paste accident.
        if !key.chars().all(|ch| ch.is_ascii_graphic()) {
            return Err(Error::invalid(
                "api_key",
                "the API key contains spaces or unusual characters; copy it again from HostVirtual's control panel",
            ));
        }
        // The shared endpoint rule (https, or http to this computer only) matters doubly here:
        // the key is in every URL. libcloud refused plain HTTP too.
        let base = c.endpoint_or(DEFAULT_ENDPOINT)?;
        Ok(HostVirtual { http: c.http, base, key: Sensitive::new(key) })
    }

    /// `<endpoint><path>?<query>&key=<key>`. The result is secret: never format it.
    fn url(&self, path: &str, query: &[(&str, &str)]) -> url::Url {
        let mut u = self.base.clone();
        u.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        u.query_pairs_mut().extend_pairs(query).append_pair("key", self.key.expose());
        u
    }

    /// Removes the key from text the API sent back (an echoed URL, a debug page): as typed,
    /// and percent-encoded the ways a URL carries it (`+`, `/`, `=` … become `%2B`, `%2F`,
    /// `%3D`, in upper or lower case hex).
    fn redact(&self, text: &str) -> String {
        redact_key(text, self.key.expose())
    }

    /// Sends one request; returns the body of a success answer, the matching error otherwise.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
        idem: Idempotency,
    ) -> Result<String> {
        let mut req = self.http.client().request(method, self.url(path, query)).header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        // A reqwest error prints its URL, which holds the key: drop it before formatting.
        let req = req
            .build()
            .map_err(|e| Error::Unavailable(format!("could not build the request to {TITLE}: {}", e.without_url())))?;
        let reply = self.http.send(req, idem, TITLE).await?;
        let (status, wait) = (reply.status.as_u16(), reply.retry_after());
        let text = self.redact(&reply.body);
        // 200, 201, 202 and 204 are success unless the body is HostVirtual's error object.
        match parse::parse_error(&text) {
            None if (200..300).contains(&status) => Ok(text),
            parsed => {
                let (code, message) = parsed.unwrap_or_else(|| (None, parse::excerpt(&text)));
                // An error object in a 2xx answer: its own code says what kind.
                let status = if (200..300).contains(&status) {
                    code.as_deref().and_then(|c| c.parse::<u16>().ok()).filter(|c| *c >= 400).unwrap_or(status)
                } else {
                    status
                };
                Err(error_from_status(status, code, &message, wait))
            }
        }
    }

    /// POSTs a server action. `idem`: start, shutdown and reboot are never resent once they
    /// may have arrived (a resent reboot reboots twice); cancelling a package is, like a
    /// delete, the same however often it is sent.
    async fn server_action(&self, path: &str, id: &str, force: bool, idem: Idempotency) -> Result<()> {
        let body = if force { json!({ "force": 0, "mbpkgid": id }) } else { json!({ "mbpkgid": id }) };
        self.call(Method::POST, path, &[], Some(body), idem).await?;
        Ok(())
    }

    async fn get_server(&self, id: &str) -> Result<Machine> {
        parse::parse_server(
            &self.call(Method::GET, "/cloud/server", &[("mbpkgid", id)], None, Idempotency::Idempotent).await?,
        )
    }

    /// The plan name `POST /cloud/buy/` wants, from a size id (or a plan name).
    async fn plan_name(&self, size: &str) -> Result<String> {
        let sizes = self.list_sizes().await?;
        sizes.into_iter().find(|s| s.id == size || s.name == size).map(|s| s.name).ok_or_else(|| {
            Error::invalid("size", format!("{TITLE} has no plan '{size}'; refresh the sizes and pick one of them"))
        })
    }
}

/// `text` without `key`, as typed and in every percent-encoded form a URL may carry it.
fn redact_key(text: &str, key: &str) -> String {
    if key.is_empty() {
        return text.to_string();
    }
    let form: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
    let upper = percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC).to_string();
    // Lower-case hex digits of each %XX escape (the key's own characters keep their case).
    let lower = lower_hex_escapes(&upper);
    let mut out = text.to_string();
    for variant in [key, form.as_str(), upper.as_str(), lower.as_str()] {
        out = out.replace(variant, "<redacted>");
    }
    out
}

fn lower_hex_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut left = 0;
    for c in encoded.chars() {
        if c == '%' {
            left = 2;
            out.push(c);
        } else if left > 0 {
            left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Maps an error answer to Skydeck's error. `message` is the API's own text, already free of
/// the key.
pub fn error_from_status(status: u16, code: Option<String>, message: &str, retry_after: Option<Duration>) -> Error {
    let message = message.trim();
    let sep = if message.is_empty() { "" } else { ": " };
    match status {
        401 => Error::Unauthenticated(format!(
            "{TITLE} rejected the API key{sep}{message}. Check the key in HostVirtual's control panel and update the \
             cloud's credentials (HostVirtual's API is a legacy API that may no longer be offered)."
        )),
        // libcloud's "precondition failed": the package or server is not in a state for this.
        412 => Error::Conflict(format!(
            "{TITLE} cannot do that now{sep}{message}. The server may still be building or busy: refresh and try again."
        )),
        _ => Error::from_status(TITLE, status, code, message, retry_after),
    }
}

/// The same error with `note` added to its message (the kind stays, so the UI still knows
/// what to do).
fn with_note(e: Error, note: &str) -> Error {
    let add = |m: String| format!("{m} ({note})");
    match e {
        Error::Unauthenticated(m) => Error::Unauthenticated(add(m)),
        Error::PermissionDenied(m) => Error::PermissionDenied(add(m)),
        Error::NotFound(m) => Error::NotFound(add(m)),
        Error::RateLimited { message, retry_after } => Error::RateLimited { message: add(message), retry_after },
        Error::InvalidInput { field, message } => Error::InvalidInput { field, message: add(message) },
        Error::NotSupported(m) => Error::NotSupported(add(m)),
        Error::Unavailable(m) => Error::Unavailable(add(m)),
        Error::Provider { provider, status, code, message } => {
            Error::Provider { provider, status, code, message: add(message) }
        }
        Error::Keychain(m) => Error::Keychain(add(m)),
        Error::Storage(m) => Error::Storage(add(m)),
        Error::Conflict(m) => Error::Conflict(add(m)),
        Error::HostKeyChanged(m) => Error::HostKeyChanged(add(m)),
    }
}

/// The package id of a machine (a number).
fn package_id(machine: &Machine) -> Result<&str> {
    let id = machine.id.as_str();
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(Error::invalid(
            "machine",
            format!("'{id}' is not a HostVirtual package id; refresh the machine list and try again"),
        ))
    }
}

#[async_trait]
impl Provider for HostVirtual {
    async fn test_connection(&self) -> Result<()> {
        parse::parse_servers(&self.call(Method::GET, "/cloud/servers/", &[], None, Idempotency::Idempotent).await?)?;
        Ok(())
    }

    async fn list_machines(&self) -> Result<Vec<Machine>> {
        parse::parse_servers(&self.call(Method::GET, "/cloud/servers/", &[], None, Idempotency::Idempotent).await?)
    }

    async fn list_locations(&self) -> Result<Vec<Location>> {
        parse::parse_locations(&self.call(Method::GET, "/cloud/locations/", &[], None, Idempotency::Idempotent).await?)
    }

    async fn list_sizes(&self) -> Result<Vec<Size>> {
        parse::parse_sizes(&self.call(Method::GET, "/cloud/sizes/", &[], None, Idempotency::Idempotent).await?)
    }

    async fn list_images(&self) -> Result<Vec<Image>> {
        parse::parse_images(&self.call(Method::GET, "/cloud/images/", &[], None, Idempotency::Idempotent).await?)
    }

    /// Buy a package, build the server in it with the SSH key inline, then poll until the
    /// server answers. If the build fails, the package is cancelled so nothing stays billed.
    async fn create_machine(&self, req: &CreateMachine) -> Result<Machine> {
        let name = req.name.trim();
        if !parse::valid_fqdn(name) {
            return Err(Error::invalid(
                "name",
                format!("{TITLE} needs a full host name such as web1.example.com (letters, digits and '-', two or more dot-separated parts)"),
            ));
        }
        let key = req.key.as_ref().ok_or_else(|| {
            Error::invalid("key", format!("{TITLE} machines are reached with an SSH key: pick or generate one"))
        })?;
        if req.user_data.as_deref().is_some_and(|u| !u.trim().is_empty()) {
            return Err(Error::invalid(
                "user_data",
                format!("{TITLE} does not take cloud-init user data; leave it empty"),
            ));
        }
        if !req.tags.is_empty() {
            return Err(Error::invalid("tags", format!("{TITLE} has no tags; leave them empty")));
        }
        if let Some(k) = req.options.keys().next() {
            return Err(Error::invalid("options", format!("{TITLE} takes no create option '{k}'")));
        }
        for (field, value) in [("location", &req.location), ("image", &req.image)] {
            if value.trim().is_empty() {
                return Err(Error::invalid(field, format!("pick a {field}")));
            }
        }
        let plan = self.plan_name(req.size.trim()).await?;

        // A buy is never resent: a second one would be a second bill.
        let bought = self
            .call(Method::POST, "/cloud/buy/", &[], Some(json!({ "plan": plan })), Idempotency::NonIdempotent)
            .await?;
        let id = parse::parse_bought(&bought)?;
        let build = json!({
            "mbpkgid": id,
            "image": req.image.trim(),
            "fqdn": name,
            "location": req.location.trim(),
            "ssh_key": key.openssh.trim(),
        });
        if let Err(e) =
            self.call(Method::POST, "/cloud/server/build", &[], Some(build), Idempotency::NonIdempotent).await
        {
            let cancelled = self.server_action("/cloud/cancel/", &id, false, Idempotency::Idempotent).await;
            let what = match cancelled {
                Ok(()) => format!("the package {id} was cancelled, so nothing is billed"),
                Err(_) => format!("cancelling the package {id} failed too: cancel it in HostVirtual's control panel"),
            };
            return Err(with_note(e, &format!("building the server failed; {what}")));
        }

        let deadline = Instant::now() + POLL_FOR;
        loop {
            match self.get_server(&id).await {
                Ok(m) => return Ok(m),
                Err(e) if Instant::now() + POLL_EVERY > deadline => {
                    tracing::debug!(
                        code = e.code(),
                        "{TITLE}: server {id} not answering yet; reporting it as building"
                    );
                    let mut m = Machine::new(id.clone(), name, "BUILDING");
                    m.location = req.location.clone();
                    m.size = plan;
                    m.extra.insert("image_id".into(), req.image.clone());
                    return Ok(m);
                }
                Err(_) => tokio::time::sleep(POLL_EVERY).await,
            }
        }
    }

    async fn machine_action(&self, machine: &Machine, action: Action) -> Result<()> {
        let id = package_id(machine)?;
        match action {
            Action::Start => self.server_action("/cloud/server/start", id, false, Idempotency::NonIdempotent).await,
            // `force: 0` asks the OS to shut down / reboot cleanly.
            Action::Stop => self.server_action("/cloud/server/shutdown", id, true, Idempotency::NonIdempotent).await,
            Action::Reboot => self.server_action("/cloud/server/reboot", id, true, Idempotency::NonIdempotent).await,
            // Cancels the package: the server and its IPs are gone for good.
            Action::Destroy => self.server_action("/cloud/cancel", id, false, Idempotency::Idempotent).await,
            other => Err(Error::NotSupported(format!("{TITLE} cannot {other} machines"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_server::{assert_requests_per_action, connection, Act, TestServer};

    /// A key with characters a URL must encode.
    const KEY: &str = "k+y/Secret=Key&1";

    #[test]
    fn redacts_the_key_raw_and_percent_encoded() {
        let echoed = "raw k+y/Secret=Key&1, form k%2By%2FSecret%3DKey%261, lower k%2by%2fSecret%3dKey%261";
        let out = redact_key(echoed, KEY);
        assert_eq!(out, "raw <redacted>, form <redacted>, lower <redacted>");
        assert_eq!(redact_key("nothing here", ""), "nothing here");
    }

    #[tokio::test]
    async fn an_echo_of_the_encoded_key_never_reaches_a_message() {
        // The server echoes the request target, as a debug page would.
        let srv = TestServer::start(|_, req| {
            Act::json(400, format!(r#"{{"error":{{"code":"400","message":"bad request to {}"}}}}"#, req.target))
        })
        .await;
        let hv = HostVirtual::new(connection(&[("endpoint", &srv.url)], &[("api_key", KEY)])).unwrap();
        let e = hv.list_machines().await.unwrap_err();
        assert!(srv.seen()[0].target.contains("k%2By%2FSecret%3DKey%261"), "{:?}", srv.seen());
        let msg = e.to_string();
        assert!(!msg.contains("Secret"), "{msg}");
        assert!(msg.contains("<redacted>"), "{msg}");
    }

    #[tokio::test]
    async fn power_actions_are_not_resent_but_cancel_is() {
        let srv = TestServer::start(|_, _| Act::json(503, "{}")).await;
        let hv = HostVirtual::new(connection(&[("endpoint", &srv.url)], &[("api_key", "key123456")])).unwrap();
        let m = Machine::new("42", "web.example.com", "RUNNING");
        assert_requests_per_action(&srv, &hv, &m, &[Action::Start, Action::Stop, Action::Reboot], 1).await;
        assert_requests_per_action(&srv, &hv, &m, &[Action::Destroy], 3).await;
    }

    #[test]
    fn plain_http_is_refused_off_this_computer() {
        let e = HostVirtual::new(connection(&[("endpoint", "http://vapi.example.com")], &[("api_key", "key123456")]))
            .err()
            .unwrap();
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("endpoint")));
    }
}
