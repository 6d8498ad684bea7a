//! Creating droplets. The SSH key is registered with the account once (`KeyDelivery::
//! Registered`): DigitalOcean identifies keys by the MD5 fingerprint of the public key, so an
//! account key with the same fingerprint is reused, else the key is added. The droplet create
//! has no idempotency token, so it is sent as non-idempotent: never resent once it may have
//! arrived.

use super::{parse, tags, DigitalOcean, TITLE};
use crate::error::{Error, Result};
use crate::http::Idempotency;
use crate::model::{CreateMachine, Machine, SshPublicKey};
use md5::{Digest, Md5};
use reqwest::Method;
use serde_json::{json, Value};

/// DigitalOcean's limit on user data.
pub const MAX_USER_DATA: usize = 64 * 1024;

/// The MD5 fingerprint of an OpenSSH public key as DigitalOcean shows it: `aa:bb:…` (the same
/// as `ssh-keygen -E md5 -lf`, without its `MD5:` prefix).
pub fn md5_fingerprint(openssh: &str) -> Result<String> {
    let public = ssh_key::PublicKey::from_openssh(openssh.trim())
        .map_err(|e| Error::invalid("key", format!("the SSH key cannot be read ({e}); import it again")))?;
    let blob = public
        .to_bytes()
        .map_err(|e| Error::invalid("key", format!("the SSH key cannot be encoded ({e}); import it again")))?;
    let digest = Md5::digest(&blob);
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"))
}

/// A 422 on create names what DigitalOcean disliked; point the wizard at that field.
fn create_error(e: Error) -> Error {
    match e {
        Error::Provider { status: 422, message, .. } => {
            let lower = message.to_ascii_lowercase();
            let field = [
                ("size", "size"),
                ("image", "image"),
                ("region", "location"),
                ("name", "name"),
                ("user_data", "user_data"),
                ("tag", "tags"),
            ]
            .into_iter()
            .find(|(word, _)| lower.contains(word))
            .map(|(_, f)| f)
            .unwrap_or("size");
            Error::invalid(field, format!("{TITLE} refused the droplet: {message}. Change it and try again."))
        }
        e => e,
    }
}

/// The `POST /v2/droplets` body. A numeric image id is sent as a number, a slug as a string.
fn droplet_body(req: &CreateMachine, key_id: Option<u64>) -> Result<Value> {
    let image = match req.image.parse::<u64>() {
        Ok(n) => json!(n),
        Err(_) => json!(req.image),
    };
    let mut body = json!({
        "name": req.name,
        "region": req.location,
        "size": req.size,
        "image": image,
        "ssh_keys": key_id.into_iter().collect::<Vec<_>>(),
        "tags": tags::to_do_all(&req.tags)?,
    });
    if let Some(u) = &req.user_data {
        body["user_data"] = json!(u);
    }
    Ok(body)
}

impl DigitalOcean {
    /// The account's id of `key`, adding the key to the account if it is not there yet.
    pub async fn ensure_key(&self, key: &SshPublicKey) -> Result<u64> {
        let fingerprint = md5_fingerprint(&key.openssh)?;
        let find = |keys: Vec<parse::AccountKey>| {
            keys.into_iter().find(|k| k.fingerprint.eq_ignore_ascii_case(&fingerprint)).map(|k| k.id)
        };
        if let Some(id) = find(self.get_all(&["account", "keys"], &[], parse::parse_keys).await?) {
            return Ok(id);
        }
        let body = json!({ "name": key.name, "public_key": key.openssh.trim() });
        match self.call(Method::POST, self.url(&["account", "keys"]), Some(body), Idempotency::NonIdempotent).await {
            Ok(text) => Ok(parse::parse_new_key(&text)?.id),
            // "SSH Key is already in use on your account": added meanwhile; look it up again.
            Err(Error::Provider { status: 422, message, .. }) => {
                find(self.get_all(&["account", "keys"], &[], parse::parse_keys).await?).ok_or_else(|| {
                    Error::invalid(
                        "key",
                        format!("{TITLE} refused the SSH key '{}': {message}. Choose another key.", key.name),
                    )
                })
            }
            Err(e) => Err(e),
        }
    }

    pub(super) async fn create(&self, req: &CreateMachine) -> Result<Machine> {
        if let Some(k) = req.options.keys().next() {
            return Err(Error::invalid("options", format!("{TITLE} takes no create option '{k}'; remove it")));
        }
        if req.user_data.as_ref().is_some_and(|u| u.len() > MAX_USER_DATA) {
            return Err(Error::invalid(
                "user_data",
                format!("{TITLE} takes at most {} KiB of user data", MAX_USER_DATA / 1024),
            ));
        }
        // Checked before any request, so a bad tag never leaves a half-done create behind.
        tags::to_do_all(&req.tags)?;
        let key_id = match &req.key {
            Some(k) => Some(self.ensure_key(k).await?),
            None => None,
        };
        let body = droplet_body(req, key_id)?;
        let text = self
            .call(Method::POST, self.url(&["droplets"]), Some(body), Idempotency::NonIdempotent)
            .await
            .map_err(create_error)?;
        parse::parse_created_droplet(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tags;

    #[test]
    fn droplet_bodies_follow_the_api() {
        let req = CreateMachine {
            name: "web-1".into(),
            location: "nyc3".into(),
            size: "s-1vcpu-1gb".into(),
            image: "7555620".into(),
            key: None,
            tags: Tags::from([("env".to_string(), "prod".to_string()), ("web".to_string(), String::new())]),
            user_data: Some("#cloud-config\n".into()),
            options: Default::default(),
            client_token: "t".into(),
        };
        let b = droplet_body(&req, Some(42)).unwrap();
        assert_eq!(b["image"], json!(7555620));
        assert_eq!(b["ssh_keys"], json!([42]));
        assert_eq!(b["tags"], json!(["env:prod", "web"]));
        assert_eq!(b["user_data"], "#cloud-config\n");
        let b =
            droplet_body(&CreateMachine { image: "ubuntu-22-04-x64".into(), user_data: None, ..req }, None).unwrap();
        assert_eq!((b["image"].clone(), b["ssh_keys"].clone()), (json!("ubuntu-22-04-x64"), json!([])));
        assert!(b.get("user_data").is_none());
    }

    #[test]
    fn a_422_points_at_the_field() {
        let e = |m: &str| Error::Provider {
            provider: TITLE.into(),
            status: 422,
            code: Some("unprocessable_entity".into()),
            message: m.into(),
        };
        assert_eq!(create_error(e("You specified an invalid image for Droplet creation.")).field(), Some("image"));
        assert_eq!(create_error(e("Region is not available")).field(), Some("location"));
        assert_eq!(create_error(Error::Unavailable("x".into())).code(), "unavailable");
    }
}
