//! Creating instances and the catalog calls the wizard needs beyond regions and types:
//! - images: DescribeImages per region, reduced to current images of well-known owners
//!   ([`super::images`]);
//! - SSH keys arrive as key pairs imported per region (`KeyDelivery::PerRegion`), named after
//!   the key's fingerprint so a second machine reuses the pair (DescribeKeyPairs first);
//! - RunInstances carries a ClientToken, which makes it safe to resend: EC2 answers a repeat
//!   with the instance of the first call. Before sending, the region is also searched for an
//!   instance with that token, so emulators and compatible APIs that ignore the token can
//!   never get a second machine either.

use super::{api, images, xml, Ec2, REGION_CONCURRENCY};
use crate::error::{Error, Result};
use crate::http::Idempotency;
use crate::model::{CreateMachine, Image, Machine, SshPublicKey};
use crate::providers::pagination::{self, Paged};
use base64::Engine;
use futures::stream::{self, StreamExt, TryStreamExt};

const EC2: &str = api::TITLE;
/// EC2's limit on user data, before base64.
pub const MAX_USER_DATA: usize = 16 * 1024;
/// EC2 allows 50 tags per resource; the Name tag is one of them.
const MAX_TAGS: usize = 49;

/// The key pair name for a public key: `skydeck-` and the first 20 hex digits of its SHA-256
/// fingerprint. The same key always gets the same name, in every region.
pub fn key_pair_name(key: &SshPublicKey) -> Result<String> {
    let public = ssh_key::PublicKey::from_openssh(key.openssh.trim()).map_err(|e| {
        Error::invalid("key", format!("the SSH key '{}' cannot be read ({e}); import it again", key.name))
    })?;
    match public.algorithm() {
        ssh_key::Algorithm::Ed25519 | ssh_key::Algorithm::Rsa { .. } => {}
        other => {
            return Err(Error::invalid(
                "key",
                format!(
                    "{EC2} accepts only ed25519 and RSA keys, and '{}' is {}; choose or generate an ed25519 key",
                    key.name,
                    other.as_str()
                ),
            ))
        }
    }
    let digest = public.fingerprint(ssh_key::HashAlg::Sha256);
    let hex: String = digest.as_bytes().iter().take(10).map(|b| format!("{b:02x}")).collect();
    Ok(format!("skydeck-{hex}"))
}

/// Turns RunInstances' input errors into errors on the wizard field to change.
fn run_error(e: &xml::AwsError) -> Option<Error> {
    let msg: String = e.message.chars().take(300).collect();
    let (code, field, hint) = match e.code.as_str() {
        c if c.starts_with("InvalidAMIID") => (c, "image", "refresh the image list and choose another image"),
        c @ ("InvalidInstanceType" | "Unsupported") => (c, "size", "choose another size or location"),
        c if c.starts_with("InvalidKeyPair") => (c, "key", "choose another key"),
        "IdempotentParameterMismatch" => {
            return Some(Error::Conflict(format!(
                "{EC2} already ran a create with this client token but other choices ({msg}). Start the create again."
            )))
        }
        "InsufficientInstanceCapacity" => {
            return Some(Error::Unavailable(format!(
                "{EC2} has no capacity for this size there right now ({msg}). Try another location or size, or later."
            )))
        }
        c @ "InvalidParameterValue" if msg.to_ascii_lowercase().contains("availability zone") => {
            (c, "location", "choose another location")
        }
        _ => return None,
    };
    Some(Error::invalid(field, format!("{EC2} refused it ({code}): {msg}. {hint}.")))
}

impl Ec2 {
    /// Current public images of the well-known owners in every region of the cloud.
    pub(super) async fn images(&self) -> Result<Vec<Image>> {
        let regions = self.regions().await?;
        let calls: Vec<_> = regions.iter().map(|r| self.region_images(r)).collect();
        let per_region: Vec<Vec<Image>> = stream::iter(calls).buffered(REGION_CONCURRENCY).try_collect().await?;
        Ok(per_region.into_iter().flatten().collect())
    }

    async fn region_images(&self, region: &str) -> Result<Vec<Image>> {
        let zones: Vec<String> = self.zones(region).await?.into_iter().map(|z| z.id).collect();
        let mut params = images::describe_params();
        params.push(("MaxResults".into(), "1000".into()));
        let what = format!("{EC2} DescribeImages in {region}");
        let zones = &zones;
        let params = &params;
        let found = pagination::read_all(&what, None, |token: Option<String>| async move {
            let mut params = params.clone();
            if let Some(t) = token {
                params.push(("NextToken".into(), t));
            }
            let root = self.api.call(region, "DescribeImages", &params, Idempotency::Idempotent).await?;
            let (items, next) = images::images_of(&root, zones);
            Ok(Paged::new(items, next))
        })
        .await?;
        Ok(images::current(found))
    }

    /// The region and zone of a wizard location: a zone (`eu-west-1a`, `us-west-2-lax-1a`)
    /// of one of the cloud's regions, or a region itself (EC2 then picks the zone).
    async fn placement(&self, location: &str) -> Result<(String, Option<String>)> {
        let regions = self.regions().await?;
        if regions.iter().any(|r| r == location) {
            return Ok((location.to_string(), None));
        }
        regions
            .iter()
            .filter(|r| location.len() > r.len() && location.starts_with(r.as_str()))
            .max_by_key(|r| r.len())
            .map(|r| (r.clone(), Some(location.to_string())))
            .ok_or_else(|| {
                Error::invalid(
                    "location",
                    format!(
                        "'{location}' is not a zone of this cloud's regions ({}); choose one from the list",
                        regions.join(", ")
                    ),
                )
            })
    }

    /// The key pair for `key` in `region`, imported first if the region does not have it.
    pub async fn ensure_key_pair(&self, region: &str, key: &SshPublicKey) -> Result<String> {
        let name = key_pair_name(key)?;
        let params = vec![("KeyName.1".to_string(), name.clone())];
        match self.api.call(region, "DescribeKeyPairs", &params, Idempotency::Idempotent).await {
            Ok(root) if root.items("keySet").any(|k| k.text_at("keyName") == Some(name.as_str())) => return Ok(name),
            Ok(_) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let material = base64::engine::general_purpose::STANDARD.encode(key.openssh.trim());
        let params = vec![("KeyName".to_string(), name.clone()), ("PublicKeyMaterial".to_string(), material)];
        let imported = self
            .api
            .call_mapped(region, "ImportKeyPair", &params, Idempotency::Idempotent, |e| match e.code.as_str() {
                // Imported meanwhile (a concurrent create, or a retry of a call that arrived).
                "InvalidKeyPair.Duplicate" => Some(Error::Conflict(String::new())),
                "InvalidKey.Format" | "InvalidKeyPair.Format" => Some(Error::invalid(
                    "key",
                    format!(
                        "{EC2} cannot use the SSH key '{}' ({}); choose an ed25519 or RSA key",
                        key.name, e.message
                    ),
                )),
                _ => None,
            })
            .await;
        match imported {
            Ok(_) | Err(Error::Conflict(_)) => Ok(name),
            Err(e) => Err(e),
        }
    }

    /// An instance an earlier attempt of this create made (same client token), if any.
    async fn find_by_token(&self, region: &str, token: &str) -> Result<Option<Machine>> {
        Ok(self
            .list_region(region)
            .await?
            .into_iter()
            .find(|m| m.extra.get("client_token").map(String::as_str) == Some(token)))
    }

    pub(super) async fn create(&self, req: &CreateMachine) -> Result<Machine> {
        if let Some(k) = req.options.keys().next() {
            return Err(Error::invalid("options", format!("{EC2} takes no create option '{k}'; remove it")));
        }
        if req.tags.contains_key(xml::NAME_TAG) {
            return Err(Error::invalid("tags", "the Name tag is the machine's name; remove it from the tags"));
        }
        if let Some(k) = req.tags.keys().find(|k| k.starts_with("aws:")) {
            return Err(Error::invalid("tags", format!("'{k}': tags starting with aws: are reserved by AWS")));
        }
        if req.tags.len() > MAX_TAGS {
            return Err(Error::invalid("tags", format!("{EC2} allows at most {MAX_TAGS} tags besides the name")));
        }
        if req.user_data.as_ref().is_some_and(|u| u.len() > MAX_USER_DATA) {
            return Err(Error::invalid(
                "user_data",
                format!("{EC2} takes at most {} KiB of user data; shorten it", MAX_USER_DATA / 1024),
            ));
        }
        let (region, zone) = self.placement(&req.location).await?;
        if let Some(mut existing) = self.find_by_token(&region, &req.client_token).await? {
            tracing::info!(id = %existing.id, "create retried: returning the instance of the first attempt");
            existing.extra.insert("region".into(), region);
            return Ok(existing);
        }
        let key_name = match &req.key {
            Some(k) => Some(self.ensure_key_pair(&region, k).await?),
            None => None,
        };

        let mut params: Vec<(String, String)> = vec![
            ("ImageId".into(), req.image.clone()),
            ("InstanceType".into(), req.size.clone()),
            ("MinCount".into(), "1".into()),
            ("MaxCount".into(), "1".into()),
            ("ClientToken".into(), req.client_token.clone()),
        ];
        if let Some(z) = zone {
            params.push(("Placement.AvailabilityZone".into(), z));
        }
        if let Some(k) = key_name {
            params.push(("KeyName".into(), k));
        }
        if let Some(u) = &req.user_data {
            params.push(("UserData".into(), base64::engine::general_purpose::STANDARD.encode(u)));
        }
        params.push(("TagSpecification.1.ResourceType".into(), "instance".into()));
        let tags = std::iter::once((xml::NAME_TAG, req.name.as_str()))
            .chain(req.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        for (i, (k, v)) in tags.enumerate() {
            params.push((format!("TagSpecification.1.Tag.{}.Key", i + 1), k.to_string()));
            params.push((format!("TagSpecification.1.Tag.{}.Value", i + 1), v.to_string()));
        }
        // Safe to resend: EC2 answers a repeated ClientToken with the first call's instance.
        let root = self.api.call_mapped(&region, "RunInstances", &params, Idempotency::Idempotent, run_error).await?;
        let mut m = xml::instances_of(&root).0.into_iter().next().ok_or_else(|| {
            Error::Unavailable(format!(
                "{EC2} accepted the create but returned no instance. Refresh the machine list before trying again."
            ))
        })?;
        m.extra.insert("region".into(), region);
        Ok(m)
    }
}
