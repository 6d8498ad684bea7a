//! Machines pinned to the tray menu, and the tray model built from the cached inventory.

use crate::error::Result;
use crate::service::Skydeck;
use crate::tray::{tray_model, TrayModel};

impl Skydeck {
    /// Pins a machine (`<cloud id>/<machine id>`, or its id when unique) to the tray menu.
    /// Returns its (cloud id, machine id).
    pub fn pin(&self, reference: &str) -> Result<(String, String)> {
        let m = self.find_machine(reference)?;
        self.store.pin(&m.cloud_id, &m.id, &crate::now_rfc3339())?;
        Ok((m.cloud_id, m.id))
    }

    /// Unpins a machine. Works for a machine that is gone from the inventory too (its pin
    /// would otherwise stay hidden forever). True if it was pinned.
    pub fn unpin(&self, cloud_id: &str, machine_id: &str) -> Result<bool> {
        self.store.unpin(cloud_id, machine_id)
    }

    /// Every pin as (cloud id, machine id), in the order they were pinned.
    pub fn pins(&self) -> Result<Vec<(String, String)>> {
        self.store.pins()
    }

    /// The tray menu's model from the cache (no network).
    pub fn tray(&self) -> Result<TrayModel> {
        Ok(tray_model(&self.list_clouds()?, &self.store.list_machines(None)?, &self.pins()?))
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Cloud, Machine, MachineState};
    use crate::secrets::MemorySecrets;
    use crate::Skydeck;
    use std::sync::Arc;

    fn cloud(id: &str) -> Cloud {
        Cloud {
            id: id.into(),
            provider: "digitalocean".into(),
            title: format!("t-{id}"),
            enabled: true,
            fields: Default::default(),
            created_at: "2024-01-01T00:00:00Z".into(),
        }
    }

    fn machine(cloud: &str, id: &str) -> Machine {
        let mut m = Machine::new(id, format!("vm-{id}"), "active");
        m.cloud_id = cloud.into();
        m.state = MachineState::Running;
        m
    }

    #[test]
    fn pins_keep_their_order_survive_reopen_and_go_with_their_cloud() {
        let dir = tempfile::tempdir().unwrap();
        let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap();
        for c in ["a", "b"] {
            deck.store().insert_cloud(&cloud(c)).unwrap();
        }
        deck.store().replace_machines("a", &[machine("a", "1"), machine("a", "2")], "2024-01-01T00:00:00Z").unwrap();
        deck.store().replace_machines("b", &[machine("b", "1")], "2024-01-01T00:00:00Z").unwrap();

        assert_eq!(deck.pin("b/1").unwrap(), ("b".into(), "1".into()));
        deck.pin("a/2").unwrap();
        deck.pin("b/1").unwrap(); // twice: keeps its place
        assert!(deck.pin("a/404").is_err(), "only machines in the inventory can be pinned");
        assert!(deck.pin("1").is_err(), "an id found in two clouds is ambiguous");
        assert_eq!(deck.pins().unwrap(), [("b".to_string(), "1".to_string()), ("a".to_string(), "2".to_string())]);
        let labels: Vec<String> = deck.tray().unwrap().pinned.into_iter().map(|p| p.label).collect();
        assert_eq!(labels, ["vm-1 — running", "vm-2 — running"]);

        drop(deck);
        let deck = Skydeck::open(dir.path(), Arc::new(MemorySecrets::default())).unwrap();
        assert_eq!(deck.pins().unwrap().len(), 2, "pins are stored");
        assert!(deck.unpin("a", "2").unwrap());
        assert!(!deck.unpin("a", "2").unwrap());
        deck.store().delete_cloud("b").unwrap();
        assert!(deck.pins().unwrap().is_empty(), "a removed cloud takes its pins along");
    }
}
