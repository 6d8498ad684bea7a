//! Where to log in: a Skydeck machine (its address, login user and host-key scope) or a plain
//! `[user@]host[:port]` typed by the user.

use crate::error::{Error, Result};
use crate::model::Machine;
use std::net::IpAddr;

/// A resolved login target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// The user the target itself names (machine default or `user@`); `None` = root.
    pub user: Option<String>,
    /// The key its trusted host key is stored under: `machine:<cloud>/<id>` or
    /// `host:<host>:<port>`.
    pub scope: String,
    /// How messages name it: the machine's name or `host:port`.
    pub label: String,
}

/// A login name that is safe to send and to show: POSIX-portable characters, not starting with
/// '-' (the same rule "Copy SSH command" uses).
pub fn valid_user(user: &str) -> bool {
    crate::tray::safe_user(user)
}

impl Target {
    /// A Skydeck machine: its first valid IP, the driver's login user.
    pub fn machine(m: &Machine) -> Result<Target> {
        let ip = crate::tray::machine_ip(m).ok_or_else(|| {
            Error::Unavailable(format!(
                "'{}' has no IP address to log in to yet; start it or refresh the list, then try again",
                m.name
            ))
        })?;
        Ok(Target {
            host: ip.to_string(),
            port: 22,
            user: Some(crate::tray::login_user(m).to_string()),
            scope: format!("machine:{}/{}", m.cloud_id, m.id),
            label: m.name.clone(),
        })
    }

    /// `[user@]host[:port]`, IPv6 in brackets (`[::1]:2222`). `None` when `s` does not look like
    /// one (so the caller can say "no such machine" instead).
    pub fn parse(s: &str) -> Option<Target> {
        let (user, rest) = match s.rsplit_once('@') {
            Some((u, r)) => (Some(u), r),
            None => (None, s),
        };
        if user.is_some_and(|u| !valid_user(u)) {
            return None;
        }
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (h, after) = inner.split_once(']')?;
            h.parse::<std::net::Ipv6Addr>().ok()?;
            let port = match after {
                "" => 22,
                p => p.strip_prefix(':')?.parse().ok()?,
            };
            (h.to_string(), port)
        } else if rest.parse::<IpAddr>().is_ok() {
            (rest.to_string(), 22)
        } else {
            let (h, port) = match rest.rsplit_once(':') {
                Some((h, p)) => (h, p.parse::<u16>().ok()?),
                None => (rest, 22),
            };
            (h.to_string(), port)
        };
        // A host name as DNS spells it: never an option (`-o…`) or anything with spaces.
        let plain = |c: char| c.is_ascii_alphanumeric() || "-._:".contains(c);
        if host.is_empty() || host.starts_with('-') || !host.chars().all(plain) || port == 0 {
            return None;
        }
        let label = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        Some(Target { scope: format!("host:{label}"), host, port, user: user.map(str::to_string), label })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_user_host_and_port() {
        let t = Target::parse("ubuntu@10.0.0.5:2222").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.user.as_deref()), ("10.0.0.5", 2222, Some("ubuntu")));
        assert_eq!(t.scope, "host:10.0.0.5:2222");
        let t = Target::parse("example.com").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.user), ("example.com", 22, None));
        let t = Target::parse("root@[2001:db8::1]:22").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("2001:db8::1", 22));
        assert_eq!(Target::parse("2001:db8::1").unwrap().port, 22);
    }

    #[test]
    fn refuses_what_is_not_a_target() {
        for bad in ["", "-oProxyCommand=x", "a b", "host:0", "host:99999", "-x@host", "[nope]:22", "h;rm"] {
            assert_eq!(Target::parse(bad), None, "{bad:?}");
        }
    }
}
