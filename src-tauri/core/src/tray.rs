//! The tray menu as a pure function of inventory + pins + capabilities, so it is tested without
//! a display. The app turns [`TrayModel`] into native menu items and routes clicks back
//! through [`TrayCommand::parse`] of the item id, the same path a click takes.

use crate::model::{Action, CloudView, Machine, MachineState};
use serde::Serialize;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrayModel {
    /// "12 running · 3 stopped · 4 clouds" (+ " · 1 with errors").
    pub summary: String,
    pub has_error: bool,
    pub pinned: Vec<TrayMachine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrayMachine {
    pub cloud_id: String,
    pub id: String,
    /// "web-1 — running" (+ " (stale)").
    pub label: String,
    pub state: MachineState,
    /// Entries of the machine's submenu: (menu id, label).
    pub items: Vec<(String, String)>,
}

/// What a tray click asks for. Menu ids are the serialized form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayCommand {
    Open,
    RefreshNow,
    NewMachine,
    Quit,
    Action { cloud_id: String, id: String, action: Action },
    CopyIp { cloud_id: String, id: String },
    CopySsh { cloud_id: String, id: String },
}

impl TrayCommand {
    pub fn id(&self) -> String {
        match self {
            TrayCommand::Open => "open".into(),
            TrayCommand::RefreshNow => "refresh".into(),
            TrayCommand::NewMachine => "new-machine".into(),
            TrayCommand::Quit => "quit".into(),
            TrayCommand::Action { cloud_id, id, action } => format!("act|{action}|{cloud_id}|{id}"),
            TrayCommand::CopyIp { cloud_id, id } => format!("copy-ip|{cloud_id}|{id}"),
            TrayCommand::CopySsh { cloud_id, id } => format!("copy-ssh|{cloud_id}|{id}"),
        }
    }

    /// Parses a menu id. Cloud ids never contain `|`; machine ids may, so they come last.
    pub fn parse(menu_id: &str) -> Option<TrayCommand> {
        let (kind, rest) = menu_id.split_once('|').unwrap_or((menu_id, ""));
        let cloud_and_id = |s: &str| s.split_once('|').map(|(c, id)| (c.to_string(), id.to_string()));
        Some(match kind {
            "open" if rest.is_empty() => TrayCommand::Open,
            "refresh" if rest.is_empty() => TrayCommand::RefreshNow,
            "new-machine" if rest.is_empty() => TrayCommand::NewMachine,
            "quit" if rest.is_empty() => TrayCommand::Quit,
            "act" => {
                let (a, rest) = rest.split_once('|')?;
                let (cloud_id, id) = cloud_and_id(rest)?;
                TrayCommand::Action { cloud_id, id, action: Action::parse(a)? }
            }
            "copy-ip" => {
                let (cloud_id, id) = cloud_and_id(rest)?;
                TrayCommand::CopyIp { cloud_id, id }
            }
            "copy-ssh" => {
                let (cloud_id, id) = cloud_and_id(rest)?;
                TrayCommand::CopySsh { cloud_id, id }
            }
            _ => return None,
        })
    }
}

/// Actions offered from the tray: quick, reversible ones. Destroy and rename need the window
/// (they ask for confirmation or input).
const TRAY_ACTIONS: [Action; 3] = [Action::Start, Action::Stop, Action::Reboot];

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The address to reach a machine at: its first public IP that parses as one, else its first
/// such private IP. Providers fill these fields, so an "IP" like `1.2.3.4; rm -rf ~` or
/// `-oProxyCommand=…` must never reach a command line or the clipboard: anything that is not
/// an `IpAddr` counts as no address.
pub fn machine_ip(m: &Machine) -> Option<IpAddr> {
    m.public_ips.iter().chain(&m.private_ips).find_map(|s| s.parse::<IpAddr>().ok())
}

/// A login name safe on a command line: POSIX-portable characters, not starting with '-'.
pub(crate) fn safe_user(user: &str) -> bool {
    let mut chars = user.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && user.len() <= 32
}

/// The user to log in to a machine as: the driver's `ssh_user` hint (e.g. EC2's from the AMI)
/// when it is a plain login name, else root. Shared by "Copy SSH command" and the SSH client.
pub fn login_user(m: &Machine) -> &str {
    m.extra.get("ssh_user").map(String::as_str).filter(|u| safe_user(u)).unwrap_or("root")
}

/// The SSH command for a machine: `ssh <user>@<ip>` with [`machine_ip`] (IPv6 in brackets), the
/// user from the driver's `ssh_user` hint when it is a plain login name, else root. `None`
/// when the machine has no valid address.
pub fn ssh_command(m: &Machine) -> Option<String> {
    let ip = machine_ip(m)?;
    let user = login_user(m);
    let host = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    Some(format!("ssh {user}@{host}"))
}

pub fn tray_model(clouds: &[CloudView], machines: &[Machine], pins: &[(String, String)]) -> TrayModel {
    let enabled: Vec<&CloudView> = clouds.iter().filter(|c| c.cloud.enabled).collect();
    let running = machines.iter().filter(|m| m.state == MachineState::Running).count();
    let stopped = machines.iter().filter(|m| m.state == MachineState::Stopped).count();
    let failing = enabled.iter().filter(|c| c.status.error.is_some()).count();
    let mut summary = format!("{running} running · {stopped} stopped · {}", plural(enabled.len(), "cloud", "clouds"));
    if failing > 0 {
        summary.push_str(&format!(" · ⚠ {} with errors", failing));
    }
    let pinned = pins
        .iter()
        .filter_map(|(cloud_id, id)| machines.iter().find(|m| &m.cloud_id == cloud_id && &m.id == id))
        .map(|m| {
            let mut items: Vec<(String, String)> = TRAY_ACTIONS
                .iter()
                .filter(|a| m.actions.contains(a) && !m.stale)
                .map(|a| {
                    let cmd = TrayCommand::Action { cloud_id: m.cloud_id.clone(), id: m.id.clone(), action: *a };
                    (cmd.id(), capitalize(a.as_str()))
                })
                .collect();
            if machine_ip(m).is_some() {
                items.push((TrayCommand::CopyIp { cloud_id: m.cloud_id.clone(), id: m.id.clone() }.id(), "Copy IP".into()));
                items.push((TrayCommand::CopySsh { cloud_id: m.cloud_id.clone(), id: m.id.clone() }.id(), "Copy SSH command".into()));
            }
            TrayMachine {
                cloud_id: m.cloud_id.clone(),
                id: m.id.clone(),
                label: format!("{} — {}{}", m.name, m.state, if m.stale { " (stale)" } else { "" }),
                state: m.state,
                items,
            }
        })
        .collect();
    TrayModel { summary, has_error: failing > 0, pinned }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorBody;
    use crate::model::{Cloud, CloudStatus};

    fn cloud(id: &str, error: bool, enabled: bool) -> CloudView {
        CloudView {
            cloud: Cloud { id: id.into(), provider: "p".into(), title: id.into(), enabled, fields: Default::default(), created_at: String::new() },
            status: CloudStatus {
                error: error.then(|| ErrorBody { code: "unauthenticated".into(), message: "x".into(), field: None }),
                ..Default::default()
            },
        }
    }

    fn machine(cloud: &str, id: &str, state: MachineState, actions: &[Action], ip: Option<&str>) -> Machine {
        let mut m = Machine::new(id, format!("vm-{id}"), state.as_str());
        m.cloud_id = cloud.into();
        m.state = state;
        m.actions = actions.to_vec();
        m.public_ips = ip.map(|i| vec![i.to_string()]).unwrap_or_default();
        m
    }

    #[test]
    fn summary_counts_states_and_marks_errors() {
        let clouds = [cloud("a", false, true), cloud("b", true, true), cloud("c", false, false)];
        let ms = [
            machine("a", "1", MachineState::Running, &[], None),
            machine("a", "2", MachineState::Running, &[], None),
            machine("b", "3", MachineState::Stopped, &[], None),
            machine("b", "4", MachineState::Pending, &[], None),
        ];
        let t = tray_model(&clouds, &ms, &[]);
        assert_eq!(t.summary, "2 running · 1 stopped · 2 clouds · ⚠ 1 with errors");
        assert!(t.has_error);
        assert!(t.pinned.is_empty());
        let t = tray_model(&clouds[..1], &ms[..1], &[]);
        assert_eq!(t.summary, "1 running · 0 stopped · 1 cloud");
    }

    #[test]
    fn pinned_machines_offer_their_allowed_actions_and_copy_items() {
        let all = [Action::Stop, Action::Reboot, Action::Destroy, Action::Rename];
        let ms = [
            machine("a", "1", MachineState::Running, &all, Some("203.0.113.5")),
            machine("a", "2", MachineState::Stopped, &[Action::Start, Action::Destroy], None),
        ];
        let pins = [("a".to_string(), "1".to_string()), ("a".to_string(), "2".to_string()), ("a".to_string(), "gone".to_string())];
        let t = tray_model(&[cloud("a", false, true)], &ms, &pins);
        assert_eq!(t.pinned.len(), 2, "a pin of a machine that no longer exists is not shown");
        let labels: Vec<&str> = t.pinned[0].items.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["Stop", "Reboot", "Copy IP", "Copy SSH command"], "no destroy/rename from the tray");
        assert_eq!(t.pinned[0].label, "vm-1 — running");
        let labels: Vec<&str> = t.pinned[1].items.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["Start"]);
        // Every item id parses back to the command a click runs.
        for (id, _) in &t.pinned[0].items {
            assert!(TrayCommand::parse(id).is_some(), "{id}");
        }
        assert_eq!(
            TrayCommand::parse(&t.pinned[0].items[0].0),
            Some(TrayCommand::Action { cloud_id: "a".into(), id: "1".into(), action: Action::Stop })
        );
    }

    #[test]
    fn stale_machines_offer_no_actions() {
        let mut m = machine("a", "1", MachineState::Running, &[Action::Stop], Some("198.51.100.1"));
        m.stale = true;
        let t = tray_model(&[cloud("a", true, true)], &[m], &[("a".into(), "1".into())]);
        assert_eq!(t.pinned[0].label, "vm-1 — running (stale)");
        assert!(t.pinned[0].items.iter().all(|(id, _)| !id.starts_with("act|")));
    }

    #[test]
    fn ids_with_separators_round_trip_and_garbage_is_rejected() {
        let c = TrayCommand::CopySsh { cloud_id: "c1".into(), id: "ns/with|bar".into() };
        assert_eq!(TrayCommand::parse(&c.id()), Some(c));
        assert_eq!(TrayCommand::parse("act|explode|a|b"), None);
        assert_eq!(TrayCommand::parse("nonsense"), None);
    }

    #[test]
    fn ssh_command_prefers_public_ip_and_brackets_ipv6() {
        let mut m = machine("a", "1", MachineState::Running, &[], Some("2001:db8::1"));
        assert_eq!(ssh_command(&m).unwrap(), "ssh root@[2001:db8::1]");
        m.extra.insert("ssh_user".into(), "ubuntu".into());
        m.public_ips = vec!["198.51.100.7".into()];
        assert_eq!(ssh_command(&m).unwrap(), "ssh ubuntu@198.51.100.7");
        m.public_ips.clear();
        assert_eq!(ssh_command(&m), None);
    }

    #[test]
    fn addresses_that_are_not_ips_never_reach_the_ssh_command() {
        for bad in ["1.2.3.4; rm -rf ~", "-oProxyCommand=touch /tmp/pwned", "$(id)", "1.2.3.4 -oProxyCommand=x", "host.example", "1.2.3.4\n", ""] {
            let m = machine("a", "1", MachineState::Running, &[], Some(bad));
            assert_eq!(machine_ip(&m), None, "{bad:?}");
            assert_eq!(ssh_command(&m), None, "{bad:?}");
            let model = tray_model(&[cloud("a", false, true)], std::slice::from_ref(&m), &[("a".into(), "1".into())]);
            assert!(model.pinned[0].items.iter().all(|(id, _)| !id.starts_with("copy-")), "no Copy IP/SSH for {bad:?}");
        }
        // A valid private IP after a bogus public one is used; a hostile user hint is not.
        let mut m = machine("a", "1", MachineState::Running, &[], Some("-oProxyCommand=x"));
        m.private_ips = vec!["10.0.0.5".into()];
        m.extra.insert("ssh_user".into(), "-oProxyCommand=touch /tmp/x".into());
        assert_eq!(ssh_command(&m).unwrap(), "ssh root@10.0.0.5");
        m.extra.insert("ssh_user".into(), "ec2-user".into());
        assert_eq!(ssh_command(&m).unwrap(), "ssh ec2-user@10.0.0.5");
    }
}
