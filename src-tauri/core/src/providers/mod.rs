//! The provider registry: one line per provider. Adding a provider = one module here, one logo
//! in `icons/providers/<id>.svg`, one line in [`REGISTRY`].

use crate::error::{Error, Result};
use crate::provider::ProviderSpec;

pub mod digitalocean;
pub mod ec2;

pub static REGISTRY: &[&ProviderSpec] = &[
    &ec2::SPEC,
    &digitalocean::SPEC,
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
