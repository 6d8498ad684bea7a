//! moto (`moto[server]`, PyPI): a local EC2 emulator on 127.0.0.1 that checks SigV4
//! signatures. Setup and seeding go through boto3 (tests/peers/moto_seed.py), an independent
//! client, so tests compare Skydeck's view of the instances against boto3's.

use crate::peer::{free_port, Peer};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

/// The IAM setup in moto_seed.py makes exactly this many requests (CreateUser,
/// CreateAccessKey, PutUserPolicy); every later request must be signed with the new key.
const SETUP_REQUESTS: &str = "3";

pub struct Moto {
    pub peer: Peer,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// An instance as boto3 reported it right after seeding.
#[derive(Debug, Clone, Deserialize)]
pub struct Seeded {
    pub id: String,
    pub region: String,
    pub name: String,
    pub state: String,
    pub image: String,
    pub size: String,
    pub zone: String,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub launch_time: String,
}

/// One instance's state and tags as boto3 sees them.
#[derive(Debug, Clone, Deserialize)]
pub struct Described {
    pub state: String,
    pub tags: BTreeMap<String, String>,
}

/// One instance as boto3 lists it (`Moto::instances`).
#[derive(Debug, Clone, Deserialize)]
pub struct Instance {
    pub id: String,
    pub state: String,
    pub key_name: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub client_token: Option<String>,
    pub image: String,
    pub size: String,
    pub zone: String,
    pub user_data: Option<String>,
}

/// One EC2 key pair as boto3 lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyPair {
    pub name: String,
    pub fingerprint: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The OpenSSH public key as imported.
    pub public_key: Option<String>,
}

/// One image as boto3 lists it (`Moto::images`).
#[derive(Debug, Clone, Deserialize)]
pub struct AmiImage {
    pub id: String,
    pub owner: String,
    pub name: String,
    pub arch: Option<String>,
    pub creation_date: String,
    pub state: Option<String>,
    pub public: Option<bool>,
}

#[derive(Deserialize)]
struct Keys {
    access_key_id: String,
    secret_access_key: String,
}

fn python() -> String {
    std::env::var("SKYDECK_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn helper(args: &[&str]) -> String {
    let script = crate::repo_root().join("tests/peers/moto_seed.py");
    let out = Command::new(python())
        .arg(&script)
        .args(args)
        // Never pick up the developer's AWS config or credentials.
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); install python3 with `pip install 'moto[server]'`", script.display()));
    assert!(
        out.status.success(),
        "moto_seed.py {} failed:\n{}",
        args.first().unwrap_or(&""),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl Moto {
    /// Starts moto on a free port with signature checking on, and creates an admin IAM key.
    pub fn start() -> Moto {
        let port = free_port();
        let mut cmd = Command::new(python());
        cmd.args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", SETUP_REQUESTS)
            .env("MOTO_ENABLE_AMI_VALIDATION", "true")
            .env("MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION", "true")
            .env("MOTO_ENABLE_KEYPAIR_VALIDATION", "true");
        let peer = Peer::spawn("moto", cmd, port, Duration::from_secs(60));
        let keys: Keys = serde_json::from_str(&helper(&["setup", &peer.url()])).expect("setup prints the key as JSON");
        Moto { peer, access_key_id: keys.access_key_id, secret_access_key: keys.secret_access_key }
    }

    /// The URL to put in the cloud's `endpoint` field.
    pub fn endpoint(&self) -> String {
        self.peer.url()
    }

    /// Runs `n` instances named `<prefix>-<i>` (tag env=test) in `region`, sorted by name.
    pub fn seed_instances(&self, region: &str, n: usize, prefix: &str) -> Vec<Seeded> {
        let out = helper(&[
            "seed",
            &self.endpoint(),
            &self.access_key_id,
            &self.secret_access_key,
            region,
            &n.to_string(),
            prefix,
        ]);
        serde_json::from_str(&out).expect("seed prints the instances as JSON")
    }

    /// Every instance of `region`, as boto3 sees them.
    pub fn instances(&self, region: &str) -> Vec<Instance> {
        let out = helper(&["instances", &self.endpoint(), &self.access_key_id, &self.secret_access_key, region]);
        serde_json::from_str(&out).expect("instances prints JSON")
    }

    /// The key pairs of `region`, as boto3 sees them.
    pub fn key_pairs(&self, region: &str) -> Vec<KeyPair> {
        let out = helper(&["key_pairs", &self.endpoint(), &self.access_key_id, &self.secret_access_key, region]);
        serde_json::from_str(&out).expect("key_pairs prints JSON")
    }

    /// The images of these owners in `region`, as boto3 sees them.
    pub fn images(&self, region: &str, owners: &[&str]) -> Vec<AmiImage> {
        let owners = owners.join(",");
        let out = helper(&["images", &self.endpoint(), &self.access_key_id, &self.secret_access_key, region, &owners]);
        serde_json::from_str(&out).expect("images prints JSON")
    }

    /// Stops an instance through boto3 (behind Skydeck's back); returns what boto3 sees then.
    pub fn stop_instance(&self, region: &str, id: &str) -> Described {
        let out = helper(&["stop", &self.endpoint(), &self.access_key_id, &self.secret_access_key, region, id]);
        serde_json::from_str(&out).expect("stop prints JSON")
    }

    /// What boto3 sees of one instance now.
    pub fn describe(&self, region: &str, id: &str) -> Described {
        let out = helper(&["describe", &self.endpoint(), &self.access_key_id, &self.secret_access_key, region, id]);
        serde_json::from_str(&out).expect("describe prints JSON")
    }
}
