//! How the driver reaches a Docker host: the `host` field parsed into a [`Target`], and the
//! bollard client for it.
//!
//! TLS (`tcp://` with the CA, client certificate and key fields) does not use bollard's own
//! TLS mode, which reads the key from a file on every handshake: the key lives in the OS
//! keychain and should not be written to disk. Instead a rustls config is built from the PEM
//! contents in memory and handed to bollard as a custom transport.

use super::TITLE;
use crate::error::{Error, Result};
use crate::provider::Connection;
use crate::secrets::Sensitive;
use bollard::{BollardRequest, Docker, API_DEFAULT_VERSION};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

/// Seconds bollard waits for any one request; the whole operation has the same bound.
const TIMEOUT_SECS: u64 = super::CALL_TIMEOUT.as_secs();

pub enum Target {
    Unix(String),
    #[cfg(windows)]
    Pipe(String),
    /// `host:port` over plain HTTP.
    Tcp(String),
    Tls { addr: String, ca: String, cert: Option<String>, key: Option<Sensitive<String>> },
    /// `ssh://user@host[:port]`, through the system ssh client.
    Ssh(String),
}

const EXAMPLES: &str = "unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host";

impl Target {
    pub fn from_connection(c: &Connection) -> Result<Target> {
        let raw = c.field("host").unwrap_or("unix:///var/run/docker.sock");
        let url = url::Url::parse(raw)
            .map_err(|_| Error::invalid("host", format!("'{raw}' is not a Docker host address; use e.g. {EXAMPLES}")))?;
        let pem = |k: &str| c.field(k).map(normalize_pem);
        let key = c.secrets.get("tls_key").map(|k| k.expose().trim()).filter(|k| !k.is_empty());
        let tls = pem("tls_ca").is_some() || pem("tls_cert").is_some() || key.is_some();
        let authority = || -> Result<String> {
            let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| {
                Error::invalid("host", format!("'{raw}' names no host; use e.g. tcp://docker.example.com:2376"))
            })?;
            let port = url.port().unwrap_or(if tls { 2376 } else { 2375 });
            Ok(if host.contains(':') && !host.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") })
        };
        match url.scheme() {
            "unix" => {
                let path = url.path();
                if path.is_empty() || path == "/" {
                    return Err(Error::invalid("host", "give the socket's path, e.g. unix:///var/run/docker.sock"));
                }
                if tls {
                    return Err(Error::invalid("tls_ca", "TLS settings apply to tcp:// hosts only; clear them for a socket"));
                }
                Ok(Target::Unix(path.to_string()))
            }
            #[cfg(windows)]
            "npipe" => Ok(Target::Pipe(format!("//{}{}", url.host_str().unwrap_or("."), url.path()))),
            "tcp" | "http" | "https" if tls || url.scheme() == "https" => {
                let ca = pem("tls_ca").ok_or_else(|| {
                    Error::invalid(
                        "tls_ca",
                        "TLS needs the CA certificate that signed the daemon's certificate (the contents of ca.pem)",
                    )
                })?;
                let cert = pem("tls_cert");
                if cert.is_some() != key.is_some() {
                    let missing = if cert.is_some() { "tls_key" } else { "tls_cert" };
                    return Err(Error::invalid(missing, "the client certificate and its key go together: give both or neither"));
                }
                Ok(Target::Tls { addr: authority()?, ca, cert, key: key.map(|k| Sensitive::new(normalize_pem(k))) })
            }
            "tcp" | "http" => Ok(Target::Tcp(authority()?)),
            "ssh" if cfg!(unix) => {
                if tls {
                    return Err(Error::invalid("tls_ca", "TLS settings apply to tcp:// hosts only; ssh:// is encrypted already"));
                }
                authority()?;
                // The system ssh gets the host as an argument and the user after -l: a name
                // starting with '-' would be read as an option (-oProxyCommand=… runs a program).
                let name_ok = |s: &str| {
                    !s.starts_with('-') && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-[]:%".contains(c))
                };
                if !name_ok(url.username()) || !url.host_str().is_some_and(name_ok) {
                    return Err(Error::invalid(
                        "host",
                        format!("'{raw}' is not a usable ssh:// address: the user and host may hold letters, digits, '.', '-' and '_', and not start with '-'"),
                    ));
                }
                if url.password().is_some() || url.query().is_some() {
                    return Err(Error::invalid(
                        "host",
                        "an ssh:// address takes no password or parameters; ssh uses your ssh-agent and ~/.ssh",
                    ));
                }
                let user = if url.username().is_empty() { String::new() } else { format!("{}@", url.username()) };
                let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
                Ok(Target::Ssh(format!("ssh://{user}{}{port}", url.host_str().unwrap_or_default())))
            }
            other => Err(Error::invalid("host", format!("'{other}://' is not supported here; use e.g. {EXAMPLES}"))),
        }
    }

    /// The bollard client (no I/O yet).
    pub fn docker(&self) -> Result<Docker> {
        let v = API_DEFAULT_VERSION;
        let r = match self {
            #[cfg(unix)]
            Target::Unix(path) => Docker::connect_with_unix(path, TIMEOUT_SECS, v),
            #[cfg(not(unix))]
            Target::Unix(_) => {
                return Err(Error::invalid("host", "unix sockets are not available on this system; use npipe:// or tcp://"))
            }
            #[cfg(windows)]
            Target::Pipe(path) => Docker::connect_with_named_pipe(path, TIMEOUT_SECS, v),
            Target::Tcp(addr) => Docker::connect_with_http(&format!("http://{addr}"), TIMEOUT_SECS, v),
            Target::Tls { addr, ca, cert, key } => return tls_docker(addr, ca, cert.as_deref(), key.as_ref()),
            #[cfg(unix)]
            Target::Ssh(addr) => Docker::connect_with_ssh(addr, TIMEOUT_SECS, v, None),
            #[cfg(not(unix))]
            Target::Ssh(_) => return Err(Error::invalid("host", "ssh:// hosts are not available on this system")),
        };
        r.map_err(|e| match e {
            // bollard checks that a socket file exists before any call.
            bollard::errors::Error::SocketNotFoundError(_) => super::errors::map_error(self, e),
            e => Error::invalid("host", format!("cannot use this Docker host address ({e}); use e.g. {EXAMPLES}")),
        })
    }

    /// The id of the host's single location: `local` for a socket, else the host name.
    pub fn location_id(&self) -> String {
        match self {
            Target::Unix(_) => "local".into(),
            #[cfg(windows)]
            Target::Pipe(_) => "local".into(),
            Target::Tcp(a) | Target::Tls { addr: a, .. } => {
                a.rsplit_once(':').map(|(h, _)| h).unwrap_or(a).trim_matches(|c| c == '[' || c == ']').to_string()
            }
            Target::Ssh(a) => {
                let rest = a.trim_start_matches("ssh://");
                let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
                host.split(':').next().unwrap_or(host).to_string()
            }
        }
    }

    /// How messages name the host (never with a password or key).
    pub fn display(&self) -> String {
        match self {
            Target::Unix(p) => format!("at unix://{p}"),
            #[cfg(windows)]
            Target::Pipe(p) => format!("at npipe:{p}"),
            Target::Tcp(a) => format!("at tcp://{a}"),
            Target::Tls { addr, .. } => format!("at tcp://{addr} (TLS)"),
            Target::Ssh(a) => format!("at {a}"),
        }
    }

    pub fn start_hint(&self) -> &'static str {
        match self {
            Target::Unix(_) => {
                "Start the daemon (`sudo systemctl start docker`, or `systemctl --user start podman.socket` for \
                 Podman) or correct the socket path."
            }
            #[cfg(windows)]
            Target::Pipe(_) => "Start Docker Desktop or correct the pipe name.",
            Target::Tcp(_) | Target::Tls { .. } => {
                "Check the address and port, that the daemon listens there, and that no firewall is in the way."
            }
            Target::Ssh(_) => "Check that `ssh` reaches the host and that Docker runs there.",
        }
    }

    pub fn permission_hint(&self) -> String {
        match self {
            Target::Unix(p) => format!(
                "Skydeck may not use the socket {p}. Add your user to the group that owns it (usually `docker`: \
                 `sudo usermod -aG docker $USER`, then log in again), or use Podman's rootless socket."
            ),
            _ => format!("{TITLE} {} refused access. Check the account and its permissions.", self.display()),
        }
    }
}

/// PEM pasted into a one-line input loses its line breaks (or gets spaces instead): put the
/// body back on 64-column lines between its BEGIN/END markers. Other text is returned trimmed.
pub fn normalize_pem(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text.trim();
    while let Some(begin) = rest.find("-----BEGIN ") {
        let after = &rest[begin + 11..];
        let Some(label_end) = after.find("-----") else { break };
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_start.find(&end_marker) else { break };
        let body: String = body_start[..end].chars().filter(|c| !c.is_whitespace()).collect();
        out.push_str(&format!("-----BEGIN {label}-----\n"));
        for chunk in body.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            out.push('\n');
        }
        out.push_str(&end_marker);
        out.push('\n');
        rest = &body_start[end + end_marker.len()..];
    }
    if out.is_empty() {
        text.trim().to_string()
    } else {
        out
    }
}

/// A bollard client speaking HTTPS through rustls configured from in-memory PEMs: only the
/// given CA is trusted (Docker's `--tlsverify`), and the client certificate is presented
/// when given.
fn tls_docker(addr: &str, ca: &str, cert: Option<&str>, key: Option<&Sensitive<String>>) -> Result<Docker> {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca.as_bytes()) {
        let c = c.map_err(|_| Error::invalid("tls_ca", "the CA certificate is not valid PEM (-----BEGIN CERTIFICATE-----…)"))?;
        roots
            .add(c)
            .map_err(|e| Error::invalid("tls_ca", format!("the CA certificate cannot be used ({e}); paste the contents of ca.pem")))?;
    }
    if roots.is_empty() {
        return Err(Error::invalid("tls_ca", "the CA field holds no certificate; paste the contents of ca.pem"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::invalid("tls_ca", format!("TLS cannot be set up: {e}")))?
        .with_root_certificates(roots);
    let config = match (cert, key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                .collect::<std::result::Result<Vec<_>, _>>()
                .ok()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| Error::invalid("tls_cert", "the client certificate is not valid PEM; paste the contents of cert.pem"))?;
            // The parse error could quote key material: say only what to do.
            let key = PrivateKeyDer::from_pem_slice(key.expose().as_bytes())
                .map_err(|_| Error::invalid("tls_key", "the client key is not a valid PEM private key; paste the contents of key.pem"))?;
            builder.with_client_auth_cert(chain, key).map_err(|_| {
                Error::invalid("tls_key", "the client key does not fit the client certificate (or its type is unsupported)")
            })?
        }
        _ => builder.with_no_client_auth(),
    };
    let https = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config).https_only().enable_http1().build();
    let client = Client::builder(TokioExecutor::new()).build(https);
    let transport = move |req: BollardRequest| {
        let client = client.clone();
        async move { client.request(req).await.map_err(bollard::errors::Error::from) }
    };
    Docker::connect_with_custom_transport(transport, Some(format!("https://{addr}")), TIMEOUT_SECS, API_DEFAULT_VERSION)
        .map_err(|e| Error::invalid("host", format!("cannot use this Docker host address ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_pasted_on_one_line_gets_its_lines_back() {
        let body = "A".repeat(70);
        let one_line = format!("-----BEGIN PRIVATE KEY----- {} {} -----END PRIVATE KEY-----", &body[..30], &body[30..]);
        let fixed = normalize_pem(&one_line);
        assert_eq!(fixed, format!("-----BEGIN PRIVATE KEY-----\n{}\n{}\n-----END PRIVATE KEY-----\n", &body[..64], &body[64..]));
        assert_eq!(normalize_pem(&fixed), fixed, "well-formed PEM stays as it is");
        assert_eq!(normalize_pem("  not pem "), "not pem");
    }

    #[test]
    fn each_host_kind_has_its_location() {
        let t = |host: &str| {
            let fields = [("host".to_string(), host.to_string())].into();
            let c = Connection { cloud_id: "t".into(), fields, secrets: Default::default(), http: crate::http::HttpClient::new().unwrap() };
            Target::from_connection(&c).unwrap()
        };
        assert_eq!(t("unix:///var/run/docker.sock").location_id(), "local");
        assert_eq!(t("tcp://10.1.2.3").location_id(), "10.1.2.3");
        assert_eq!(t("tcp://[::1]:2375").location_id(), "::1");
        assert_eq!(t("ssh://me@box.example:2222").location_id(), "box.example");
        assert_eq!(t("tcp://docker.example").display(), "at tcp://docker.example:2375");
    }

    #[test]
    fn ssh_addresses_cannot_smuggle_ssh_options() {
        let field = |host: &str| {
            let fields = [("host".to_string(), host.to_string())].into();
            let c = Connection { cloud_id: "t".into(), fields, secrets: Default::default(), http: crate::http::HttpClient::new().unwrap() };
            Target::from_connection(&c).err().and_then(|e| e.field().map(str::to_string))
        };
        assert_eq!(field("ssh://-oProxyCommand=$(touch$IFS/tmp/x)"), Some("host".into()));
        assert_eq!(field("ssh://-oProxyCommand=x@box"), Some("host".into()));
        assert_eq!(field("ssh://me@box?x=1"), Some("host".into()));
        assert_eq!(field("ssh://me:pw@box"), Some("host".into()));
        assert_eq!(field("ssh://me@box.example:2222"), None);
        assert_eq!(field("ssh://box"), None);
    }
}
