//! Amazon EC2 through its Query API (XML, SigV4). One Skydeck cloud covers several regions:
//! the ones the user lists, or every region `DescribeRegions` reports as enabled.
//!
//! Split: [`api`] signs and sends, [`xml`] parses (public for the fixture tests), [`dom`] is
//! the little element tree they share, [`images`] holds the image owners (data) and picks
//! current images, [`create`] imports key pairs and runs instances.

mod api;
mod create;
pub(crate) mod dom;
pub mod images;
pub mod xml;

use crate::error::{Error, Result};
use crate::http::Idempotency;
use crate::model::{Action, CreateMachine, Image, Location, Machine, MachineState, Size, Tags};
use crate::provider::*;
use crate::providers::pagination::{self, Paged};
use api::{numbered, Api};
use async_trait::async_trait;
use futures::stream::{self, StreamExt, TryStreamExt};
use tokio::sync::OnceCell;

pub use api::API_VERSION;
pub use create::{key_pair_name, MAX_USER_DATA};
pub use images::{ImageSource, IMAGE_SOURCES};
pub use xml::{error_for, parse_error, parse_instance_types, parse_instances, parse_regions, parse_zones, AwsError};

/// The region asked for the region list (and used for catalog calls with no region given).
const HOME_REGION: &str = "us-east-1";
/// Regions queried at once: enough to list ~30 regions quickly, few enough not to be throttled.
const REGION_CONCURRENCY: usize = 8;

static FIELDS: &[FieldSpec] = &[
    FieldSpec::new("access_key_id", "Access key ID", FieldKind::Text)
        .placeholder("AKIA…")
        .help("An IAM user's access key. It needs ec2:Describe*, RunInstances, ImportKeyPair, Start/Stop/Reboot/TerminateInstances, CreateTags and DeleteTags."),
    FieldSpec::new("secret_access_key", "Secret access key", FieldKind::Secret)
        .help("Shown once when the access key is created; kept in the OS keychain."),
    FieldSpec::new("regions", "Regions", FieldKind::Text)
        .optional()
        .placeholder("eu-west-1, us-east-1")
        .help("Comma-separated. Leave empty for all regions enabled for the account (as DescribeRegions returns them). GovCloud and China accounts: list their regions here."),
    FieldSpec::endpoint("https://ec2.{region}.amazonaws.com"),
];

static STATES: &[(&str, MachineState)] = &[
    ("pending", MachineState::Pending),
    ("running", MachineState::Running),
    ("shutting-down", MachineState::Stopping),
    ("stopping", MachineState::Stopping),
    ("stopped", MachineState::Stopped),
    ("terminated", MachineState::Terminated),
];

/// EC2 differs from the shared defaults: tags (and so the name) can change in any live state,
/// and an instance can be terminated while pending or stopping.
static ACTIONS: &[(MachineState, &[Action])] = &[
    (MachineState::Pending, &[Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Running, &[Action::Stop, Action::Reboot, Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Stopping, &[Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Stopped, &[Action::Start, Action::Destroy, Action::Rename, Action::Tag]),
    (MachineState::Terminated, &[]),
    (MachineState::Unknown, &[Action::Destroy, Action::Tag]),
];

pub static SPEC: ProviderSpec = ProviderSpec {
    id: "ec2",
    title: "Amazon EC2",
    logo: "ec2.svg",
    docs_url: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Welcome.html",
    legacy: false,
    fields: FIELDS,
    capabilities: Capabilities {
        list_locations: true,
        list_sizes: true,
        list_images: true,
        create: true,
        start: true,
        stop: true,
        reboot: true,
        destroy: true,
        rename: true,
        tag: true,
        suspend: false,
        force_off: false,
        user_data: true,
        key_delivery: KeyDelivery::PerRegion,
    },
    states: STATES,
    actions: ACTIONS,
    connect,
    detect: None,
};

fn connect(c: Connection) -> Result<Box<dyn Provider>> {
    Ok(Box::new(Ec2::new(c)?))
}

/// The EC2 driver. Public so tests can drive it directly (e.g. with a small page size).
pub struct Ec2 {
    api: Api,
    /// The user's regions; `None` = all enabled regions, looked up once.
    regions: Option<Vec<String>>,
    all_regions: OnceCell<Vec<String>>,
    page_size: u32,
}

impl Ec2 {
    pub fn new(c: Connection) -> Result<Self> {
        let access_key_id = c.required_field("access_key_id")?.to_string();
        let secret_access_key = c.secret("secret_access_key")?.to_string().into();
        let regions = match c.field("regions") {
            None => None,
            Some(raw) => Some(parse_region_list(raw)?),
        };
        let endpoint = match c.field("endpoint") {
            None => None,
            Some(_) => Some(c.endpoint_or("https://ec2.us-east-1.amazonaws.com")?),
        };
        Ok(Ec2 {
            api: Api { http: c.http, access_key_id, secret_access_key, endpoint },
            regions,
            all_regions: OnceCell::new(),
            page_size: 1000,
        })
    }

    /// `MaxResults` of DescribeInstances (EC2 accepts 5..=1000).
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(5, 1000);
        self
    }

    /// The regions this cloud covers.
    pub async fn regions(&self) -> Result<Vec<String>> {
        if let Some(r) = &self.regions {
            return Ok(r.clone());
        }
        let all = self
            .all_regions
            .get_or_try_init(|| async {
                let root = self.api.call(HOME_REGION, "DescribeRegions", &[], Idempotency::Idempotent).await?;
                // A key belongs to one partition; regions of others (GovCloud, China) only
                // answer AuthFailure. Emulators list them all; AWS itself does not.
                let names: Vec<String> =
                    xml::regions_of(&root).into_iter().filter(|r| partition(r) == partition(HOME_REGION)).collect();
                if names.is_empty() {
                    return Err(Error::Unavailable(
                        "Amazon EC2 listed no regions. Enter the regions to use in the cloud's settings.".into(),
                    ));
                }
                Ok(names)
            })
            .await?;
        Ok(all.clone())
    }

    /// Every page of a Describe call in `region`, following `NextToken` through the shared
    /// pagination loop (which stops a token that repeats or cycles). `page` reads one answer
    /// into its items and the next token.
    pub(super) async fn describe_all<T>(
        &self,
        region: &str,
        action: &str,
        params: &[(String, String)],
        page: fn(&dom::Node) -> (Vec<T>, Option<String>),
    ) -> Result<Vec<T>> {
        let what = format!("{} {action} in {region}", api::TITLE);
        pagination::read_all(&what, None, |token: Option<String>| async move {
            let mut params = params.to_vec();
            if let Some(t) = token {
                params.push(("NextToken".into(), t));
            }
            let root = self.api.call(region, action, &params, Idempotency::Idempotent).await?;
            let (items, next) = page(&root);
            Ok(Paged::new(items, next))
        })
        .await
    }

    /// All instances of one region.
    pub async fn list_region(&self, region: &str) -> Result<Vec<Machine>> {
        let params = vec![("MaxResults".to_string(), self.page_size.to_string())];
        let mut out = self.describe_all(region, "DescribeInstances", &params, xml::instances_of).await?;
        for m in &mut out {
            m.extra.insert("region".into(), region.to_string());
        }
        self.add_login_users(region, &mut out).await;
        Ok(out)
    }

    /// Sets `ssh_user` (the login user "Copy SSH command" and the SSH client use) from each
    /// instance's AMI: one DescribeImages for the region's distinct AMIs. Best effort: the list
    /// is worth more than the hint, so a failure (a deregistered AMI, a policy without
    /// ec2:DescribeImages) only leaves the default user.
    async fn add_login_users(&self, region: &str, machines: &mut [Machine]) {
        let mut ids: Vec<&str> = machines.iter().map(|m| m.image.as_str()).filter(|i| i.starts_with("ami-")).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return;
        }
        let mut params = Vec::new();
        numbered(&mut params, "ImageId", ids);
        let users = match self.api.call(region, "DescribeImages", &params, Idempotency::Idempotent).await {
            Ok(root) => images::login_users_of(&root),
            Err(e) => {
                tracing::debug!(region, "no login users from DescribeImages: {e}");
                return;
            }
        };
        for m in machines {
            if let Some((_, user)) = users.iter().find(|(id, _)| *id == m.image) {
                m.extra.insert("ssh_user".into(), user.clone());
            }
        }
    }

    async fn describe(&self, machine: &Machine) -> Result<Machine> {
        let region = region_of(machine)?;
        let params = vec![("InstanceId.1".to_string(), machine.id.clone())];
        let root = self.api.call(region, "DescribeInstances", &params, Idempotency::Idempotent).await?;
        xml::instances_of(&root).0.into_iter().find(|m| m.id == machine.id).ok_or_else(|| {
            Error::NotFound(format!("Amazon EC2 has no instance {} in {region}. Refresh the list.", machine.id))
        })
    }

    async fn zones(&self, region: &str) -> Result<Vec<Location>> {
        let root = self.api.call(region, "DescribeAvailabilityZones", &[], Idempotency::Idempotent).await?;
        Ok(xml::zones_of(&root))
    }

    async fn tag_call(&self, action: &str, machine: &Machine, tags: &[(&str, Option<&str>)]) -> Result<()> {
        if tags.is_empty() {
            return Ok(());
        }
        let mut params = vec![("ResourceId.1".to_string(), machine.id.clone())];
        for (i, (k, v)) in tags.iter().enumerate() {
            params.push((format!("Tag.{}.Key", i + 1), k.to_string()));
            if let Some(v) = v {
                params.push((format!("Tag.{}.Value", i + 1), v.to_string()));
            }
        }
        self.api.call(region_of(machine)?, action, &params, Idempotency::Idempotent).await?;
        Ok(())
    }
}

/// Splits and checks the `regions` field: region names are letters, digits and dashes
/// (they become part of a host name).
fn parse_region_list(raw: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for r in raw.split([',', ' ', '\n']).map(str::trim).filter(|r| !r.is_empty()) {
        let r = r.to_ascii_lowercase();
        let ok = r.starts_with(|c: char| c.is_ascii_lowercase())
            && r.ends_with(|c: char| c.is_ascii_digit())
            && r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(Error::invalid("regions", format!("'{r}' is not an AWS region name; write e.g. eu-west-1, us-east-1")));
        }
        if !out.contains(&r) {
            out.push(r);
        }
    }
    if out.is_empty() {
        return Err(Error::invalid("regions", "list at least one region, e.g. eu-west-1, or leave the field empty for all"));
    }
    Ok(out)
}

/// The AWS partition of a region (credentials never cross partitions).
fn partition(region: &str) -> &'static str {
    match region {
        r if r.starts_with("cn-") => "aws-cn",
        r if r.starts_with("us-gov-") => "aws-us-gov",
        r if r.starts_with("us-isob-") => "aws-iso-b",
        r if r.starts_with("us-iso") => "aws-iso",
        r if r.starts_with("eu-isoe-") => "aws-iso-e",
        _ => "aws",
    }
}

/// The region a listed machine lives in (set by [`Ec2::list_region`]).
fn region_of(m: &Machine) -> Result<&str> {
    m.extra.get("region").map(String::as_str).filter(|r| !r.is_empty()).ok_or_else(|| {
        Error::invalid("machine", format!("Skydeck does not know the region of {}; refresh the list and try again", m.id))
    })
}

#[async_trait]
impl Provider for Ec2 {
    async fn test_connection(&self) -> Result<()> {
        match &self.regions {
            Some(r) => {
                let params = vec![("MaxResults".to_string(), "5".to_string())];
                self.api.call(&r[0], "DescribeInstances", &params, Idempotency::Idempotent).await?;
            }
            None => {
                self.regions().await?;
            }
        }
        Ok(())
    }

    async fn list_machines(&self) -> Result<Vec<Machine>> {
        let regions = self.regions().await?;
        // Collected first: a lazy `map` inside the stream trips async-trait's Send check.
        let calls: Vec<_> = regions.iter().map(|r| self.list_region(r)).collect();
        let per_region: Vec<Vec<Machine>> = stream::iter(calls)
            .buffered(REGION_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(per_region.into_iter().flatten().collect())
    }

    async fn list_locations(&self) -> Result<Vec<Location>> {
        let regions = self.regions().await?;
        let calls: Vec<_> = regions.iter().map(|r| self.zones(r)).collect();
        let per_region: Vec<Vec<Location>> =
            stream::iter(calls).buffered(REGION_CONCURRENCY).try_collect().await?;
        Ok(per_region.into_iter().flatten().collect())
    }

    /// Instance types offered in the first region (the catalog is the same nearly everywhere).
    async fn list_sizes(&self) -> Result<Vec<Size>> {
        let region = self.regions().await?.into_iter().next().unwrap_or_else(|| HOME_REGION.into());
        let params = vec![("MaxResults".to_string(), "100".to_string())];
        let mut out = self.describe_all(&region, "DescribeInstanceTypes", &params, xml::instance_types_of).await?;
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn list_images(&self) -> Result<Vec<Image>> {
        self.images().await
    }

    async fn create_machine(&self, req: &CreateMachine) -> Result<Machine> {
        self.create(req).await
    }

    async fn machine_action(&self, machine: &Machine, action: Action) -> Result<()> {
        let call = match action {
            Action::Start => "StartInstances",
            Action::Stop => "StopInstances",
            Action::Reboot => "RebootInstances",
            Action::Destroy => "TerminateInstances",
            Action::Suspend | Action::Resume | Action::ForceOff => {
                return Err(Error::NotSupported(format!("{} cannot {action} machines", api::TITLE)))
            }
            Action::Rename | Action::Tag => {
                return Err(Error::NotSupported(format!("{action} is not a power action; use rename or set_tags")))
            }
        };
        // Start, Stop and Terminate are idempotent by EC2's API contract (starting a running
        // instance answers success and changes nothing), so they may be resent after a
        // timeout. A reboot is not: a resent RebootInstances reboots the instance again.
        let idem = if action == Action::Reboot { Idempotency::NonIdempotent } else { Idempotency::Idempotent };
        let mut params = Vec::new();
        numbered(&mut params, "InstanceId", [machine.id.as_str()]);
        self.api.call(region_of(machine)?, call, &params, idem).await?;
        Ok(())
    }

    async fn rename(&self, machine: &Machine, name: &str) -> Result<()> {
        if name.chars().count() > 256 {
            return Err(Error::invalid("name", "EC2 names (the Name tag) are at most 256 characters"));
        }
        self.tag_call("CreateTags", machine, &[(xml::NAME_TAG, Some(name))]).await
    }

    /// Makes the tags (other than Name, which is the name) exactly `tags`, diffing against the
    /// instance's current tags rather than the cached copy, which may be stale.
    async fn set_tags(&self, machine: &Machine, tags: &Tags) -> Result<()> {
        if tags.contains_key(xml::NAME_TAG) {
            return Err(Error::invalid("tags", "the Name tag is the machine's name; rename the machine instead"));
        }
        let current = self.describe(machine).await?.tags;
        // aws:* tags belong to AWS services: they cannot be set or removed by users.
        if let Some(k) = tags.keys().find(|k| k.starts_with("aws:") && tags.get(*k) != current.get(*k)) {
            return Err(Error::invalid("tags", format!("'{k}' is reserved by AWS and cannot be changed")));
        }
        let set: Vec<(&str, Option<&str>)> = tags
            .iter()
            .filter(|(k, v)| current.get(*k) != Some(*v))
            .map(|(k, v)| (k.as_str(), Some(v.as_str())))
            .collect();
        let remove: Vec<(&str, Option<&str>)> = current
            .keys()
            .filter(|k| !tags.contains_key(*k) && !k.starts_with("aws:"))
            .map(|k| (k.as_str(), None))
            .collect();
        self.tag_call("CreateTags", machine, &set).await?;
        self.tag_call("DeleteTags", machine, &remove).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_server::{connection, Act, TestServer};

    fn ec2_at(url: &str) -> Ec2 {
        let fields = [("access_key_id", "AKIDEXAMPLE"), ("regions", "us-east-1"), ("endpoint", url)];
        Ec2::new(connection(&fields, &[("secret_access_key", "secret")])).unwrap()
    }

    #[tokio::test]
    async fn ec2_alternating_tokens_end_in_a_typed_error() {
        // Token A leads to B and B back to A: the old "same as the last token" check looped
        // forever here.
        let srv = TestServer::start(|_, req| {
            let next = if req.body.contains("NextToken=A") { "B" } else { "A" };
            Act::xml(200, format!("<DescribeInstancesResponse><reservationSet/><nextToken>{next}</nextToken></DescribeInstancesResponse>"))
        })
        .await;
        let ec2 = ec2_at(&srv.url);
        let e = tokio::time::timeout(std::time::Duration::from_secs(20), ec2.list_machines()).await.expect("ends").unwrap_err();
        match &e {
            Error::Provider { code, .. } => assert_eq!(code.as_deref(), Some("pagination_loop"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(srv.hits(), 3);
    }

    #[tokio::test]
    async fn ec2_reboot_is_never_resent_but_start_is() {
        let srv = TestServer::start(|_, _| Act::xml(503, "<Response/>")).await;
        let ec2 = ec2_at(&srv.url);
        let mut m = Machine::new("i-1", "web", "running");
        m.extra.insert("region".into(), "us-east-1".into());
        ec2.machine_action(&m, Action::Reboot).await.unwrap_err();
        assert_eq!(srv.hits(), 1, "a reboot is sent once");
        ec2.machine_action(&m, Action::Start).await.unwrap_err();
        assert_eq!(srv.hits(), 4, "StartInstances is idempotent and retried");
    }

    #[test]
    fn ec2_endpoint_follows_the_shared_rule() {
        let fields = [("access_key_id", "AKIDEXAMPLE"), ("endpoint", "http://ec2.example.com")];
        let e = Ec2::new(connection(&fields, &[("secret_access_key", "secret")])).err().unwrap();
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("endpoint")));
    }

    #[test]
    fn ec2_region_list_is_checked_and_deduplicated() {
        assert_eq!(parse_region_list(" eu-west-1, us-east-1 ,EU-WEST-1").unwrap(), ["eu-west-1", "us-east-1"]);
        assert_eq!(parse_region_list("us-gov-west-1\nap-southeast-2").unwrap(), ["us-gov-west-1", "ap-southeast-2"]);
        for bad in ["eu-west-1/evil", "evil.com#1", "-1", ",", "us_east_1"] {
            let e = parse_region_list(bad).unwrap_err();
            assert_eq!(e.field(), Some("regions"), "{bad}");
        }
    }

    #[test]
    fn ec2_partitions() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("us-gov-east-1"), "aws-us-gov");
        assert_eq!(partition("cn-northwest-1"), "aws-cn");
        assert_eq!(partition("us-isob-east-1"), "aws-iso-b");
    }

    #[test]
    fn ec2_states_and_actions() {
        assert_eq!(SPEC.normalize("shutting-down"), MachineState::Stopping);
        assert_eq!(SPEC.normalize("stopping"), MachineState::Stopping);
        assert_eq!(SPEC.normalize("rebooted?"), MachineState::Unknown);
        assert!(SPEC.allowed_actions(MachineState::Stopped).contains(&Action::Start));
        assert!(!SPEC.allowed_actions(MachineState::Stopped).contains(&Action::Stop));
        assert!(SPEC.allowed_actions(MachineState::Terminated).is_empty());
        let keys: Vec<_> = SPEC.fields.iter().map(|f| f.key).collect();
        assert_eq!(keys, ["access_key_id", "secret_access_key", "regions", "endpoint"]);
        assert!(SPEC.field("secret_access_key").unwrap().is_secret());
    }

    #[test]
    fn ec2_errors_map_to_typed_variants() {
        let body = |code: &str| format!("<Response><Errors><Error><Code>{code}</Code><Message>m</Message></Error></Errors></Response>");
        for (code, want) in [
            ("AuthFailure", "unauthenticated"),
            ("SignatureDoesNotMatch", "unauthenticated"),
            ("InvalidClientTokenId", "unauthenticated"),
            ("UnauthorizedOperation", "permission_denied"),
            ("InvalidInstanceID.NotFound", "not_found"),
            ("RequestLimitExceeded", "rate_limited"),
            ("IncorrectInstanceState", "conflict"),
            ("InvalidParameterValue", "provider_error"),
        ] {
            assert_eq!(error_for(400, &body(code), "StopInstances", "eu-west-1").code(), want, "{code}");
        }
        assert_eq!(error_for(503, "<html>down</html>", "DescribeInstances", "eu-west-1").code(), "unavailable");
    }
}
