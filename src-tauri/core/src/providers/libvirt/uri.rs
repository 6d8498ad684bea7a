//! Which libvirt connection URIs Skydeck opens, and the exact URI it hands to libvirt.
//!
//! A libvirt URI is not just an address: its transport and query parameters tell libvirt
//! which program to run (`ext` transport, `command=`, `netcat=`, `proxy=`), which socket to
//! talk to (`socket=`, `mode=`), which files to trust (`keyfile=`, `pkipath=`,
//! `known_hosts=`) and whether to check the server at all (`no_verify=`,
//! `known_hosts_verify=`, `no_sanity=`, `tls_priority=`). The URI comes from a form field
//! (the webview, the CLI, a detected host), so any of these would let whoever fills the
//! field run a program as the user. Skydeck therefore accepts only the schemes it supports
//! and no query parameter that does any of that; the ssh options it needs (the key from the
//! keychain, no password prompt) it sets itself on a URI it rebuilds from the checked parts.
//!
//! libvirt matches parameter names case-insensitively and splits the query on `&` and `;`
//! (`virURIParseParams`), so the check does the same, on the percent-decoded names.

use crate::error::{Error, Result};

/// `scheme` → what it reaches. `test+ssh` is the test driver of a remote daemon over ssh:
/// harmless (a fake hypervisor), and what Skydeck's own remote tests run against.
const SCHEMES: &[&str] = &["qemu", "qemu+ssh", "qemu+tls", "qemu+unix", "test", "test+ssh"];

const EXAMPLES: &str = "qemu:///system, qemu:///session or qemu+ssh://user@host/system";

/// A URI that passed [`check`].
#[derive(Debug, Clone)]
pub struct Checked {
    /// The URI without query or fragment, as url parsed it.
    base: url::Url,
    ssh: bool,
}

impl Checked {
    /// True for the ssh transport (the only one a key file applies to).
    pub fn is_ssh(&self) -> bool {
        self.ssh
    }

    /// The URI libvirt opens: the checked base plus only Skydeck's own parameters. For ssh,
    /// `no_tty=1` makes libvirt run ssh with `BatchMode=yes`: ssh never waits for a
    /// password or a host-key answer nobody can give (a GUI, a script), it fails at once
    /// with a message the error mapping explains; `keyfile` is the keychain key's temp file.
    pub fn for_libvirt(&self, keyfile: Option<&std::path::Path>) -> String {
        let mut u = self.base.clone();
        if self.ssh {
            let mut q = u.query_pairs_mut();
            q.append_pair("no_tty", "1");
            if let Some(k) = keyfile {
                q.append_pair("keyfile", &k.to_string_lossy());
            }
        }
        u.to_string()
    }
}

/// Why a parameter is refused, in words that say what to do instead.
fn refusal(name: &str) -> String {
    match name {
        "command" | "netcat" | "proxy" => {
            format!("the parameter '{name}' makes libvirt run a program of the URI's choosing, which Skydeck does not allow")
        }
        "socket" | "mode" => format!(
            "the parameter '{name}' picks the socket libvirt connects to; Skydeck uses libvirt's standard one \
             (qemu:///system or qemu:///session)"
        ),
        "keyfile" => "the parameter 'keyfile' picks an SSH key file; paste the private key into the 'SSH private key' \
                      field instead (it stays in the keychain), or load it into ssh-agent"
            .to_string(),
        "known_hosts" | "known_hosts_verify" | "no_verify" | "no_sanity" | "tls_priority" | "pkipath" => format!(
            "the parameter '{name}' changes how the server is verified; Skydeck always checks it against your \
             ~/.ssh/known_hosts (ssh) or libvirt's standard certificates (TLS)"
        ),
        "sshauth" | "auth" => {
            format!("the parameter '{name}' picks the login method; Skydeck uses ssh-agent, ~/.ssh or the key you paste")
        }
        "name" => "the parameter 'name' overrides the remote driver URI; write it as the URI itself \
                   (e.g. qemu+ssh://user@host/system)"
            .to_string(),
        "no_tty" => unreachable!("no_tty is accepted"),
        other => format!("Skydeck does not accept the parameter '{other}' in a libvirt URI"),
    }
}

/// Checks a URI typed by the user; every refusal is `invalid_input` at the `uri` field.
pub fn check(raw: &str) -> Result<Checked> {
    let bad = |why: String| Error::invalid("uri", format!("{why}. Use e.g. {EXAMPLES}."));
    let raw = raw.trim();
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("the URI contains spaces or control characters".into()));
    }
    let url = url::Url::parse(raw).map_err(|e| bad(format!("'{raw}' is not a libvirt URI ({e})")))?;
    let scheme = url.scheme();
    if !SCHEMES.contains(&scheme) {
        let why = if scheme.ends_with("+ext") {
            format!("the '{scheme}' transport runs a program named in the URI, which Skydeck does not allow")
        } else {
            format!("Skydeck does not support '{scheme}://' URIs (supported: {})", SCHEMES.join(", "))
        };
        return Err(bad(why));
    }
    if url.fragment().is_some() {
        return Err(bad("a libvirt URI has no '#' part".into()));
    }
    // ssh gets the user and host as arguments: nothing that could read as an option.
    let dash = |s: &str| s.starts_with('-');
    if dash(url.username()) || url.host_str().is_some_and(dash) {
        return Err(bad("the user or host name starts with '-'".into()));
    }
    if url.password().is_some() {
        return Err(bad("a password does not belong in the URI; use ssh-agent or the 'SSH private key' field".into()));
    }
    let ssh = scheme.ends_with("+ssh");
    if ssh && url.host_str().is_none_or(str::is_empty) {
        return Err(bad(format!("'{raw}' names no host")));
    }
    for part in url.query().unwrap_or_default().split(['&', ';']).filter(|p| !p.is_empty()) {
        let name = url::form_urlencoded::parse(part.as_bytes()).next().map(|(n, _)| n.to_ascii_lowercase());
        let name = name.unwrap_or_default();
        // Skydeck sets no_tty itself; asking for it is harmless, any value is replaced.
        if name != "no_tty" {
            return Err(bad(refusal(&name)));
        }
    }
    let mut base = url.clone();
    base.set_query(None);
    Ok(Checked { base, ssh })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(uri: &str) -> String {
        let e = check(uri).expect_err(uri);
        assert_eq!(e.field(), Some("uri"), "{uri}: {e:?}");
        e.to_string()
    }

    #[test]
    fn supported_uris_pass_and_get_only_skydecks_parameters() {
        for ok in ["qemu:///system", "qemu:///session", "qemu+tls://h/system", "qemu+unix:///system", "test:///default"] {
            assert_eq!(check(ok).unwrap().for_libvirt(None), ok);
        }
        let c = check("qemu+ssh://me@box:2222/system?no_tty=0").unwrap();
        assert!(c.is_ssh());
        assert_eq!(c.for_libvirt(None), "qemu+ssh://me@box:2222/system?no_tty=1");
        let key = std::path::Path::new("/tmp/skydeck-libvirt-x");
        assert_eq!(c.for_libvirt(Some(key)), "qemu+ssh://me@box:2222/system?no_tty=1&keyfile=%2Ftmp%2Fskydeck-libvirt-x");
    }

    #[test]
    fn programs_sockets_and_weaker_checks_are_refused() {
        assert!(refused("qemu+ext:///system?command=/bin/sh").contains("runs a program"));
        for scheme in ["qemu+tcp://h/system", "qemu+libssh2://h/system", "qemu+libssh://h/system", "xen:///", "lxc:///"] {
            assert!(refused(scheme).contains("does not support"), "{scheme}");
        }
        let cases = [
            ("qemu+ssh://h/system?command=/tmp/x", "run a program"),
            ("qemu+ssh://h/system?netcat=/tmp/x", "run a program"),
            ("qemu+ssh://h/system?proxy=netcat", "run a program"),
            ("qemu+unix:///system?socket=/tmp/s", "socket"),
            ("qemu:///system?mode=direct", "socket"),
            ("qemu+ssh://h/system?keyfile=/tmp/k", "SSH private key"),
            ("qemu+ssh://h/system?no_verify=1", "verified"),
            ("qemu+ssh://h/system?known_hosts=/tmp/kh", "verified"),
            ("qemu+ssh://h/system?known_hosts_verify=ignore", "verified"),
            ("qemu+tls://h/system?pkipath=/tmp", "verified"),
            ("qemu+tls://h/system?no_sanity=1", "verified"),
            ("qemu+tls://h/system?tls_priority=NONE", "verified"),
            ("qemu+ssh://h/system?sshauth=password", "login method"),
            ("qemu+ssh://h/system?name=qemu:///system", "'name'"),
            ("qemu+ssh://h/system?whatever=1", "'whatever'"),
            // libvirt's spellings: any case, `;` as a separator, percent-encoded names.
            ("qemu+ssh://h/system?COMMAND=/tmp/x", "run a program"),
            ("qemu+ssh://h/system?no_tty=1;command=/tmp/x", "run a program"),
            ("qemu+ssh://h/system?%63ommand=/tmp/x", "run a program"),
        ];
        for (uri, says) in cases {
            let msg = refused(uri);
            assert!(msg.contains(says), "{uri}: {msg}");
        }
        assert!(refused("qemu+ssh://-oProxyCommand=x/system").contains("'-'"));
        assert!(refused("qemu+ssh://-oProxyCommand=x@h/system").contains("'-'"));
        assert!(refused("qemu+ssh://me:pw@h/system").contains("password"));
        assert!(refused("qemu+ssh:///system").contains("no host"));
        assert!(refused("qemu:///system#x").contains("'#'"));
        assert!(refused("qemu:///sys\ntem").contains("control"));
    }
}
