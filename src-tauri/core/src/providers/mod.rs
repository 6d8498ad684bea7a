//! The provider registry: one line per provider. Adding a provider = one module here, one logo
//! in `icons/providers/<id>.svg`, one line in [`REGISTRY`].

use crate::error::{Error, Result};
use crate::provider::ProviderSpec;

pub mod digitalocean;
pub mod docker;
pub mod ec2;
/// Key:value strings for providers whose tags are plain strings (Linode, Vultr).
pub mod flat_tags;
pub mod hetzner;
pub mod hostvirtual;
#[cfg(feature = "libvirt")]
pub mod libvirt;
pub mod linode;
/// The one loop every paginated list goes through (page cap, cursor loops).
pub mod pagination;
/// The JSON + bearer-token client Linode, Vultr and Hetzner share.
pub mod rest;
pub mod vultr;

pub static REGISTRY: &[&ProviderSpec] = &[
    &ec2::SPEC,
    &digitalocean::SPEC,
    &linode::SPEC,
    &vultr::SPEC,
    &hetzner::SPEC,
    &hostvirtual::SPEC,
    #[cfg(feature = "libvirt")]
    &libvirt::SPEC,
    &docker::SPEC,
];

pub fn all() -> &'static [&'static ProviderSpec] {
    REGISTRY
}

pub fn find(id: &str) -> Result<&'static ProviderSpec> {
    REGISTRY.iter().copied().find(|p| p.id == id).ok_or_else(|| {
        let ids: Vec<_> = REGISTRY.iter().map(|p| p.id).collect();
        Error::invalid("provider", format!("unknown provider '{id}'; known providers: {}", ids.join(", ")))
    })
}
