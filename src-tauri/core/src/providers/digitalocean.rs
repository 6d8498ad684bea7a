//! PLACEHOLDER — being written now; replaced by the real driver.
use crate::error::{Error, Result};
use crate::provider::*;

fn connect(_c: Connection) -> Result<Box<dyn Provider>> {
    Err(Error::NotSupported("driver not written yet".into()))
}

pub static SPEC: ProviderSpec = ProviderSpec {
    id: "digitalocean",
    title: "digitalocean",
    logo: "digitalocean.svg",
    docs_url: "",
    legacy: false,
    fields: &[],
    capabilities: Capabilities {
        list_locations: false, list_sizes: false, list_images: false, create: false, start: false, stop: false,
        reboot: false, destroy: false, rename: false, tag: false, user_data: false, key_delivery: KeyDelivery::None,
    },
    states: &[],
    actions: DEFAULT_ACTIONS,
    connect,
};
