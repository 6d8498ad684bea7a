//! The EC2 parsers against libcloud's recorded EC2 answers (../shared/fixtures/libcloud/ec2).
//! Expected values are read off those files.

use skydeck_core::model::MachineState;
use skydeck_core::providers::ec2::{self, error_for, parse_error, parse_instances, parse_zones};
use skydeck_tests::fixture;

#[test]
fn describe_instances_fixture() {
    let (machines, next) = parse_instances(&fixture("ec2", "describe_instances.xml")).unwrap();
    assert_eq!(next, None);
    assert_eq!(machines.len(), 2);

    let a = &machines[0];
    assert_eq!(a.id, "i-4382922a");
    assert_eq!(a.name, "i-4382922a", "no Name tag: the id is the name");
    assert_eq!(a.raw_state, "stopped");
    assert_eq!(ec2::SPEC.normalize(&a.raw_state), MachineState::Stopped);
    assert_eq!(a.location, "us-east-1d");
    assert_eq!(a.size, "m1.small");
    assert_eq!(a.image, "ami-3215fe5a");
    assert_eq!(a.public_ips, ["1.2.3.4"]);
    assert_eq!(a.private_ips, ["10.211.11.211"]);
    assert_eq!(a.created_at.as_deref(), Some("2013-12-02T11:58:11Z"));
    assert!(a.tags.is_empty());
    assert_eq!(a.extra["key_name"], "fauxkey");
    assert_eq!(a.extra["architecture"], "x86_64");
    assert_eq!(a.extra["state_reason"], "Client.UserInitiatedShutdown: User initiated shutdown");
    assert!(!a.extra.contains_key("vpc_id"));

    let b = &machines[1];
    assert_eq!(b.id, "i-8474834a");
    assert_eq!(b.name, "Test Server 2");
    assert_eq!(b.tags.len(), 1, "Name is the name, not a tag: {:?}", b.tags);
    assert_eq!(b.tags["Group"], "VPC Test");
    assert_eq!(b.size, "t1.micro");
    assert_eq!(b.image, "ami-29674340");
    assert_eq!(b.public_ips, ["1.2.3.5"]);
    // The primary address, then the interface's other private address.
    assert_eq!(b.private_ips, ["172.16.9.139", "172.16.4.139"]);
    assert_eq!(b.extra["vpc_id"], "vpc-61dcd30e");
    assert_eq!(b.extra["subnet_id"], "subnet-5fd9d412");
    assert_eq!(b.extra["private_dns"], "ip-172-16-9-139.ec2.internal");
    assert!(!b.extra.contains_key("public_dns"), "an empty <dnsName/> is no value");
}

#[test]
fn run_instances_fixture_reads_the_new_instance() {
    let (machines, _) = parse_instances(&fixture("ec2", "run_instances.xml")).unwrap();
    assert_eq!(machines.len(), 1);
    let m = &machines[0];
    assert_eq!((m.id.as_str(), m.raw_state.as_str()), ("i-2ba64342", "pending"));
    assert_eq!(ec2::SPEC.normalize(&m.raw_state), MachineState::Pending);
    assert_eq!((m.location.as_str(), m.size.as_str(), m.image.as_str()), ("us-east-1b", "m1.small", "ami-be3adfd7"));
    assert_eq!(m.extra["key_name"], "example-key-name");
    assert!(m.public_ips.is_empty() && m.private_ips.is_empty());
}

#[test]
fn availability_zones_fixture() {
    let zones = parse_zones(&fixture("ec2", "describe_availability_zones.xml")).unwrap();
    let ids: Vec<_> = zones.iter().map(|z| z.id.as_str()).collect();
    assert_eq!(ids, ["eu-west-1a", "eu-west-1b"]);
    assert!(zones.iter().all(|z| z.available));
    assert_eq!(zones[0].name, "eu-west-1a (eu-west-1)");
}

#[test]
fn error_fixtures() {
    let body = fixture("ec2", "describe_key_pairs_doesnt_exist.xml");
    let e = parse_error(&body).unwrap();
    assert_eq!(e.code, "InvalidKeyPair.NotFound");
    assert_eq!(e.message, "The key pair 'test-key-pair' does not exist");
    let err = error_for(400, &body, "DescribeKeyPairs", "us-east-1");
    assert_eq!(err.code(), "not_found");
    assert!(err.to_string().contains("'test-key-pair' does not exist"), "{err}");

    let body = fixture("ec2", "run_instances_idem_mismatch.xml");
    let e = parse_error(&body).unwrap();
    assert_eq!(e.code, "IdempotentParameterMismatch");
    assert!(e.message.starts_with("Arguments on this idempotent request are inconsistent"), "{:?}", e.message);
    let err = error_for(400, &body, "RunInstances", "us-east-1");
    assert_eq!(err.code(), "provider_error");
    assert!(err.to_string().contains("IdempotentParameterMismatch"), "{err}");
}

#[test]
fn success_documents_are_not_errors() {
    assert_eq!(parse_error(&fixture("ec2", "terminate_instances.xml")), None);
    assert_eq!(parse_error(&fixture("ec2", "describe_instances.xml")), None);
}
