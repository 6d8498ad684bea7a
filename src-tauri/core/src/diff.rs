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

/// Changes from a cloud's stored rows `old` (id, JSON as stored) to `new` (each machine with
/// the JSON it is stored as), in `new`'s order, removals last (by id). Comparing serialized forms
/// spares parsing every old row on each refresh: only changed or removed ones are read.
/// Stored rows never carry the `stale` mark (the cloud status does), so it is no change.
pub fn diff_rows(old: Vec<(String, String)>, new: &[(&Machine, String)]) -> Vec<Change> {
    let mut before: HashMap<String, String> = old.into_iter().collect();
    let mut out = Vec::new();
    for (m, json) in new {
        match before.remove(&m.id) {
            None => out.push(Change::Added { machine: (*m).clone() }),
            Some(prev) if &prev != json => {
                let previous_state = serde_json::from_str::<Machine>(&prev).map(|p| p.state).unwrap_or(MachineState::Unknown);
                out.push(Change::Changed { machine: (*m).clone(), previous_state });
            }
            Some(_) => {}
        }
    }
    let mut removed: Vec<(String, String)> = before.into_iter().collect();
    removed.sort();
    for (id, json) in removed {
        let prev = serde_json::from_str::<Machine>(&json).ok();
        out.push(Change::Removed {
            cloud_id: prev.as_ref().map(|p| p.cloud_id.clone()).unwrap_or_default(),
            id,
            name: prev.map(|p| p.name).unwrap_or_default(),
        });
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

    fn rows(ms: &[Machine]) -> Vec<(String, String)> {
        ms.iter().map(|m| (m.id.clone(), serde_json::to_string(m).unwrap())).collect()
    }

    fn new_rows(ms: &[Machine]) -> Vec<(&Machine, String)> {
        ms.iter().map(|m| (m, serde_json::to_string(m).unwrap())).collect()
    }

    #[test]
    fn added_changed_removed_and_unchanged() {
        let old = vec![m("1", MachineState::Running), m("2", MachineState::Running), m("3", MachineState::Stopped)];
        let new = vec![m("1", MachineState::Running), m("2", MachineState::Stopping), m("3", MachineState::Stopped), m("4", MachineState::Pending)];
        let d = diff_rows(rows(&old), &new_rows(&new));
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(matches!(&d[0], Change::Changed { machine, previous_state: MachineState::Running } if machine.id == "2"));
        assert!(matches!(&d[1], Change::Added { machine } if machine.id == "4"));
        let d = diff_rows(rows(&new), &new_rows(&old[..1]));
        let removed: Vec<_> = d.iter().filter_map(|c| match c { Change::Removed { id, name, cloud_id } => Some((id.as_str(), name.as_str(), cloud_id.as_str())), _ => None }).collect();
        assert_eq!(removed, [("2", "n2", "c"), ("3", "n3", "c"), ("4", "n4", "c")]);
    }
}
