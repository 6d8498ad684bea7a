//! Parsers of EC2 Query API responses (XML, version 2016-11-15). Public so the fixture tests
//! can feed them libcloud's recorded responses. Everything here is pure: no I/O.

use super::dom::{self, Node};
use crate::error::{Error, Result};
use crate::model::{Location, Machine, Size};

/// The tag EC2 shows as an instance's name; kept out of [`Machine::tags`] because it is the name.
pub const NAME_TAG: &str = "Name";

/// `DescribeInstances` → the machines of one page and the token of the next page, if any.
/// Also reads `RunInstances` answers (one reservation, its `instancesSet` at the top).
/// `region` is not part of the answer: the caller sets `extra["region"]`.
pub fn parse_instances(xml: &str) -> Result<(Vec<Machine>, Option<String>)> {
    Ok(instances_of(&dom::parse(xml)?))
}

pub(super) fn instances_of(root: &Node) -> (Vec<Machine>, Option<String>) {
    let machines = root
        .items("reservationSet")
        .flat_map(|r| r.items("instancesSet"))
        .chain(root.items("instancesSet"))
        .filter_map(instance)
        .collect();
    (machines, root.text_at("nextToken").map(str::to_string))
}

fn instance(item: &Node) -> Option<Machine> {
    let id = item.text_at("instanceId")?;
    let mut tags: crate::model::Tags = item
        .items("tagSet")
        .filter_map(|t| Some((t.text_at("key")?.to_string(), t.text_at("value").unwrap_or("").to_string())))
        .collect();
    let name = tags.remove(NAME_TAG).filter(|n| !n.trim().is_empty()).unwrap_or_else(|| id.to_string());
    let mut m = Machine::new(id, name, item.text_at("instanceState/name").unwrap_or("unknown"));
    m.tags = tags;
    m.location = item.text_at("placement/availabilityZone").unwrap_or_default().to_string();
    m.size = item.text_at("instanceType").unwrap_or_default().to_string();
    m.image = item.text_at("imageId").unwrap_or_default().to_string();
    m.created_at = item.text_at("launchTime").map(rfc3339);

    // The primary addresses first, then those of every network interface (secondary private
    // IPs, their Elastic IPs, IPv6), without repeats.
    let mut public = Vec::new();
    let mut private = Vec::new();
    push(&mut public, item.text_at("ipAddress"));
    push(&mut public, item.text_at("ipv6Address"));
    push(&mut private, item.text_at("privateIpAddress"));
    for eni in item.items("networkInterfaceSet") {
        push(&mut public, eni.text_at("association/publicIp"));
        for addr in eni.items("privateIpAddressesSet") {
            push(&mut private, addr.text_at("privateIpAddress"));
            push(&mut public, addr.text_at("association/publicIp"));
        }
        for v6 in eni.items("ipv6AddressesSet") {
            push(&mut public, v6.text_at("ipv6Address"));
        }
    }
    m.public_ips = public;
    m.private_ips = private;

    for (key, path) in [
        ("vpc_id", "vpcId"),
        ("subnet_id", "subnetId"),
        ("key_name", "keyName"),
        ("architecture", "architecture"),
        ("platform", "platformDetails"),
        ("lifecycle", "instanceLifecycle"),
        ("public_dns", "dnsName"),
        ("private_dns", "privateDnsName"),
        ("state_reason", "stateReason/message"),
        // RunInstances' idempotency token: lets a retried create find the machine it made.
        ("client_token", "clientToken"),
    ] {
        if let Some(v) = item.text_at(path) {
            m.extra.insert(key.to_string(), v.to_string());
        }
    }
    Some(m)
}

fn push(list: &mut Vec<String>, ip: Option<&str>) {
    if let Some(ip) = ip {
        if !list.iter().any(|x| x == ip) {
            list.push(ip.to_string());
        }
    }
}

/// EC2 writes `2013-12-02T11:58:11.000Z`; the model keeps whole-second RFC 3339 in UTC.
fn rfc3339(raw: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|_| raw.to_string())
}

/// `DescribeRegions` → region names, in the order EC2 gave them.
pub fn parse_regions(xml: &str) -> Result<Vec<String>> {
    Ok(regions_of(&dom::parse(xml)?))
}

pub(super) fn regions_of(root: &Node) -> Vec<String> {
    root.items("regionInfo").filter_map(|r| r.text_at("regionName").map(str::to_string)).collect()
}

/// `DescribeAvailabilityZones` → one location per zone.
pub fn parse_zones(xml: &str) -> Result<Vec<Location>> {
    Ok(zones_of(&dom::parse(xml)?))
}

pub(super) fn zones_of(root: &Node) -> Vec<Location> {
    root.items("availabilityZoneInfo")
        .filter_map(|z| {
            let zone = z.text_at("zoneName")?;
            Some(Location {
                id: zone.to_string(),
                name: match z.text_at("regionName") {
                    Some(region) => format!("{zone} ({region})"),
                    None => zone.to_string(),
                },
                country: None,
                available: z.text_at("zoneState") == Some("available"),
            })
        })
        .collect()
}

/// `DescribeInstanceTypes` → sizes of one page and the next token. EC2 has no prices in this
/// API (they live in the Pricing API), so prices stay unknown.
pub fn parse_instance_types(xml: &str) -> Result<(Vec<Size>, Option<String>)> {
    Ok(instance_types_of(&dom::parse(xml)?))
}

pub(super) fn instance_types_of(root: &Node) -> (Vec<Size>, Option<String>) {
    let sizes = root
        .items("instanceTypeSet")
        .filter_map(|t| {
            let id = t.text_at("instanceType")?;
            Some(Size {
                id: id.to_string(),
                name: id.to_string(),
                vcpus: t.text_at("vCpuInfo/defaultVCpus").and_then(|v| v.parse().ok()),
                ram_mb: t.text_at("memoryInfo/sizeInMiB").and_then(|v| v.parse().ok()),
                disk_gb: t.text_at("instanceStorageInfo/totalSizeInGB").and_then(|v| v.parse().ok()),
                price_hourly: None,
                price_monthly: None,
                locations: Vec::new(),
            })
        })
        .collect();
    (sizes, root.text_at("nextToken").map(str::to_string))
}

/// An EC2 error answer: `<Response><Errors><Error><Code>..</Code><Message>..</Message>`
/// (IAM-style `<ErrorResponse><Error>` too, which emulators use for auth failures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub code: String,
    pub message: String,
}

/// Reads the first error of an error body; `None` when the body is not an EC2 error document.
pub fn parse_error(xml: &str) -> Option<AwsError> {
    let root = dom::parse(xml).ok()?;
    let err = root.find("Error")?;
    Some(AwsError {
        code: err.text_at("Code")?.to_string(),
        message: err.text_at("Message").unwrap_or_default().to_string(),
    })
}

/// Maps an error answer of `action` in `region` to Skydeck's error, with a message that says
/// what to do. The message never repeats request data (keys, signatures), only AWS's text.
pub fn error_for(status: u16, body: &str, action: &str, region: &str) -> Error {
    const EC2: &str = "Amazon EC2";
    let Some(AwsError { code, message }) = parse_error(body) else {
        return Error::from_status(EC2, status, None, &format!("{action} in {region} failed"), None);
    };
    // AWS messages can be long (encoded authorization details): keep the gist.
    let detail: String = message.chars().take(300).collect();
    match code.as_str() {
        "AuthFailure" | "SignatureDoesNotMatch" | "InvalidClientTokenId" | "UnrecognizedClientException"
        | "IncompleteSignature" | "MissingAuthenticationToken" | "InvalidAccessKeyId" => {
            Error::Unauthenticated(format!(
                "{EC2} rejected the credentials in {region} ({code}). Check the access key ID and the secret access key \
                 (and that the key is active and the region is enabled for the account), then update the cloud."
            ))
        }
        "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException" | "OptInRequired" => {
            Error::PermissionDenied(format!(
                "{EC2} denied {action} in {region} ({code}): {detail}. Give the IAM user the permission ec2:{action} or use another key."
            ))
        }
        c if c.ends_with(".NotFound") => {
            Error::NotFound(format!(
                "{EC2} does not know it in {region} ({code}): {detail}. Refresh the list; it may have been terminated."
            ))
        }
        "RequestLimitExceeded" | "Throttling" | "ThrottlingException" => Error::RateLimited {
            message: format!("{EC2} is throttling requests in {region} ({code}). Skydeck will retry later."),
            retry_after: None,
        },
        "IncorrectInstanceState" | "IncorrectState" => Error::Conflict(format!(
            "{EC2} cannot {action} now ({code}): {detail}. Refresh and try again once the machine has finished changing state."
        )),
        _ => Error::from_status(EC2, status, Some(code), &detail, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example answer of the EC2 API reference (DescribeRegions), trimmed.
    const REGIONS: &str = r#"<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
   <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
   <regionInfo>
      <item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint></item>
      <item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint></item>
   </regionInfo>
</DescribeRegionsResponse>"#;

    #[test]
    fn ec2_regions_parse_in_order() {
        assert_eq!(parse_regions(REGIONS).unwrap(), ["us-east-1", "eu-west-1"]);
    }

    #[test]
    fn ec2_instances_without_namespace_and_with_next_token() {
        // moto's namespace differs from EC2's; local names make it irrelevant.
        let xml = r#"<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15"><reservationSet><item><instancesSet>
            <item><instanceId>i-1</instanceId><instanceState><name>running</name></instanceState>
              <tagSet><item><key>Name</key><value></value></item><item><key>k</key><value>v</value></item></tagSet>
              <launchTime>2024-01-02T03:04:05.678+01:00</launchTime></item>
            </instancesSet></item></reservationSet><nextToken>abc</nextToken></DescribeInstancesResponse>"#;
        let (machines, next) = parse_instances(xml).unwrap();
        assert_eq!(next.as_deref(), Some("abc"));
        let m = &machines[0];
        assert_eq!((m.id.as_str(), m.name.as_str(), m.raw_state.as_str()), ("i-1", "i-1", "running"));
        assert_eq!(m.tags.get("k").map(String::as_str), Some("v"));
        assert!(!m.tags.contains_key(NAME_TAG));
        assert_eq!(m.created_at.as_deref(), Some("2024-01-02T02:04:05Z"));
    }

    #[test]
    fn ec2_error_documents() {
        let auth = "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error></ErrorResponse>";
        assert_eq!(parse_error(auth).unwrap().code, "SignatureDoesNotMatch");
        assert_eq!(parse_error("<html>bad gateway</html>"), None);
        assert_eq!(parse_error("not xml <"), None);
    }
}
