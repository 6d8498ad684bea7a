//! What changed between two snapshots of a cloud's machines: the UI and the tray receive these
//! as events instead of re-fetching the whole inventory.

use crate::model::{Machine, MachineState};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Added { machine: Machine },
    /// `previous_state` lets listeners tell a state change (notifications) from an edit.
    Changed { machine: Machine, previous_state: MachineState },
    Removed { cloud_id: String, id: String, name: String },
}

/// Changes from `old` to `new` (both of one cloud), in `new`'s order, removals last.
/// The `stale` flag alone is not a change of the machine (the cloud status says it).
pub fn diff(old: &[Machine], new: &[Machine]) -> Vec<Change> {
    let before: HashMap<&str, &Machine> = old.iter().map(|m| (m.id.as_str(), m)).collect();
    let mut out = Vec::new();
    for m in new {
        match before.get(m.id.as_str()) {
            None => out.push(Change::Added { machine: m.clone() }),
            Some(prev) => {
                let mut a = (*prev).clone();
                a.stale = m.stale;
                if &a != m {
                    out.push(Change::Changed { machine: m.clone(), previous_state: prev.state });
                }
            }
        }
    }
    let now: std::collections::HashSet<&str> = new.iter().map(|m| m.id.as_str()).collect();
    for m in old {
        if !now.contains(m.id.as_str()) {
            out.push(Change::Removed { cloud_id: m.cloud_id.clone(), id: m.id.clone(), name: m.name.clone() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, state: MachineState) -> Machine {
        let mut m = Machine::new(id, format!("n{id}"), state.as_str());
        m.state = state;
        m.cloud_id = "c".into();
        m
    }

    #[test]
    fn added_changed_removed_and_unchanged() {
        let old = vec![m("1", MachineState::Running), m("2", MachineState::Running), m("3", MachineState::Stopped)];
        let mut stale = m("3", MachineState::Stopped);
        stale.stale = true;
        let new = vec![m("1", MachineState::Running), m("2", MachineState::Stopping), stale, m("4", MachineState::Pending)];
        let d = diff(&old, &new);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(matches!(&d[0], Change::Changed { machine, previous_state: MachineState::Running } if machine.id == "2"));
        assert!(matches!(&d[1], Change::Added { machine } if machine.id == "4"));
        let d = diff(&new, &old[..1]);
        assert_eq!(d.iter().filter(|c| matches!(c, Change::Removed { .. })).count(), 3);
    }
}
