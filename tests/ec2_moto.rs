//! The EC2 driver against moto on 127.0.0.1 (SigV4 signatures checked), through the same
//! `Skydeck` facade the app and the CLI use. What boto3 (an independent client) reports is the
//! reference for every field and every state change.

use skydeck_core::http::HttpClient;
use skydeck_core::model::{Action, Machine, MachineState};
use skydeck_core::provider::{Connection, Provider};
use skydeck_core::providers::ec2::Ec2;
use skydeck_core::secrets::{cloud_account, MemorySecrets, SecretStore, Sensitive};
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::moto::{Moto, Seeded};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use skydeck_tests::tags;

fn deck() -> (tempfile::TempDir, Skydeck, MemorySecrets) {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::default();
    let deck = Skydeck::open(dir.path(), Arc::new(secrets.clone())).unwrap();
    (dir, deck, secrets)
}

fn ec2_cloud(moto: &Moto, regions: Option<&str>, key: &str, secret: &str) -> NewCloud {
    let mut fields: BTreeMap<String, Sensitive<String>> = BTreeMap::new();
    fields.insert("access_key_id".into(), key.to_string().into());
    fields.insert("secret_access_key".into(), secret.to_string().into());
    fields.insert("endpoint".into(), moto.endpoint().into());
    if let Some(r) = regions {
        fields.insert("regions".into(), r.to_string().into());
    }
    NewCloud { provider: "ec2".into(), title: "aws".into(), fields }
}

fn find<'a>(machines: &'a [Machine], id: &str) -> &'a Machine {
    machines.iter().find(|m| m.id == id).unwrap_or_else(|| panic!("{id} not listed in {machines:#?}"))
}

fn assert_matches_boto(m: &Machine, s: &Seeded) {
    assert_eq!(m.provider, "ec2");
    assert_eq!(m.name, s.name);
    assert_eq!(m.raw_state, s.state);
    assert_eq!(m.state, MachineState::Running);
    assert_eq!(m.location, s.zone);
    assert_eq!(m.size, s.size);
    assert_eq!(m.image, s.image);
    assert_eq!(m.extra.get("region"), Some(&s.region));
    assert_eq!(m.private_ips.first(), s.private_ip.as_ref());
    assert_eq!(m.public_ips.first(), s.public_ip.as_ref());
    // boto3 prints +00:00, the model Z.
    assert_eq!(m.created_at.as_deref(), Some(s.launch_time.replace("+00:00", "Z").as_str()));
    // Name is the name, not a tag.
    assert_eq!(m.tags, tags(&[("env", "test")]));
    assert!(m.actions.contains(&Action::Stop) && !m.actions.contains(&Action::Start), "{:?}", m.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_chosen_regions_and_changes_state_names_and_tags() {
    let moto = Moto::start();
    let eu = moto.seed_instances("eu-west-1", 2, "eu");
    let us = moto.seed_instances("us-east-1", 1, "us");
    let elsewhere = moto.seed_instances("ap-southeast-2", 1, "ap");
    let (_dir, deck, secrets) = deck();

    let cloud = deck
        .add_cloud(ec2_cloud(&moto, Some("eu-west-1, us-east-1"), &moto.access_key_id, &moto.secret_access_key))
        .await
        .unwrap();
    assert!(!cloud.fields.contains_key("secret_access_key"), "the secret must not reach SQLite");
    assert_eq!(cloud.fields.get("access_key_id"), Some(&moto.access_key_id));
    let stored = secrets.get(&cloud_account(&cloud.id)).unwrap();
    assert_eq!(stored["secret_access_key"].expose(), &moto.secret_access_key);

    let outcome = deck.refresh(None).await.unwrap();
    assert_eq!(outcome[0].error, None);
    let machines = deck.machines(None).unwrap();
    assert_eq!(machines.len(), 3, "{machines:#?}");
    for s in eu.iter().chain(&us) {
        assert_matches_boto(find(&machines, &s.id), s);
    }
    assert!(!machines.iter().any(|m| m.id == elsewhere[0].id), "a region not chosen was listed");

    let id = eu[0].id.as_str();
    let m = deck.machine_action(id, Action::Stop).await.unwrap();
    assert_eq!(moto.describe("eu-west-1", id).state, "stopped");
    assert_eq!((m.state, m.raw_state.as_str()), (MachineState::Stopped, "stopped"));
    assert!(m.actions.contains(&Action::Start) && !m.actions.contains(&Action::Stop));
    // The other machines are untouched.
    assert_eq!(find(&deck.machines(None).unwrap(), &eu[1].id).state, MachineState::Running);

    let m = deck.machine_action(id, Action::Start).await.unwrap();
    assert_eq!(moto.describe("eu-west-1", id).state, "running");
    assert_eq!(m.state, MachineState::Running);

    let m = deck.machine_action(id, Action::Reboot).await.unwrap();
    assert_eq!(m.state, MachineState::Running);

    // A name is data, markup included.
    deck.rename(id, "db <primary>").await.unwrap();
    assert_eq!(moto.describe("eu-west-1", id).tags.get("Name").map(String::as_str), Some("db <primary>"));
    deck.refresh(None).await.unwrap();
    let m = find(&deck.machines(None).unwrap(), id).clone();
    assert_eq!(m.name, "db <primary>");
    assert!(!m.tags.contains_key("Name"));

    // Add one, change one; then remove one. The Name tag survives both.
    deck.set_tags(id, tags(&[("env", "prod"), ("team", "infra")])).await.unwrap();
    assert_eq!(
        moto.describe("eu-west-1", id).tags,
        tags(&[("Name", "db <primary>"), ("env", "prod"), ("team", "infra")])
    );
    deck.set_tags(id, tags(&[("team", "infra")])).await.unwrap();
    assert_eq!(moto.describe("eu-west-1", id).tags, tags(&[("Name", "db <primary>"), ("team", "infra")]));
    deck.refresh(None).await.unwrap();
    let m = find(&deck.machines(None).unwrap(), id).clone();
    assert_eq!((m.name.as_str(), &m.tags), ("db <primary>", &tags(&[("team", "infra")])));
    let err = deck.set_tags(id, tags(&[("Name", "x")])).await.unwrap_err();
    assert_eq!((err.code(), err.field()), ("invalid_input", Some("tags")));

    let us_id = us[0].id.as_str();
    let m = deck.machine_action(us_id, Action::Destroy).await.unwrap();
    assert_eq!(moto.describe("us-east-1", us_id).state, "terminated");
    assert_eq!(m.state, MachineState::Terminated);
    assert!(m.actions.is_empty());
    let err = deck.machine_action(us_id, Action::Start).await.unwrap_err();
    assert_eq!(err.code(), "conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_unauthenticated_and_save_nothing() {
    let moto = Moto::start();
    let (_dir, deck, _secrets) = deck();
    let wrong_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGSECRET";
    for (regions, key, secret) in [
        (Some("eu-west-1"), moto.access_key_id.as_str(), wrong_secret),
        (None, moto.access_key_id.as_str(), wrong_secret),
        (Some("eu-west-1"), "AKIAIOSFODNN7EXAMPLE", moto.secret_access_key.as_str()),
    ] {
        let err = deck.add_cloud(ec2_cloud(&moto, regions, key, secret)).await.unwrap_err();
        assert_eq!(err.code(), "unauthenticated", "{regions:?} {key}: {err}");
        let msg = err.to_string();
        assert!(msg.contains("secret access key"), "the message says what to check: {msg}");
        assert!(!msg.contains(secret), "the message leaks the secret: {msg}");
    }
    assert!(deck.list_clouds().unwrap().is_empty());
    assert!(deck.machines(None).unwrap().is_empty());

    // The right key still works afterwards (the failures did not lock anything).
    deck.add_cloud(ec2_cloud(&moto, Some("eu-west-1"), &moto.access_key_id, &moto.secret_access_key))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_regions_every_region_from_describe_regions_is_listed() {
    let moto = Moto::start();
    let ap = moto.seed_instances("ap-southeast-2", 1, "ap");
    let eu = moto.seed_instances("eu-west-1", 1, "eu");
    let (_dir, deck, _secrets) = deck();
    deck.add_cloud(ec2_cloud(&moto, None, &moto.access_key_id, &moto.secret_access_key)).await.unwrap();
    let outcome = deck.refresh(None).await.unwrap();
    assert_eq!(outcome[0].error, None);
    let machines = deck.machines(None).unwrap();
    assert_eq!(machines.len(), 2, "{machines:#?}");
    assert_matches_boto(find(&machines, &ap[0].id), &ap[0]);
    assert_matches_boto(find(&machines, &eu[0].id), &eu[0]);
}

/// Drives the driver directly: a page size of 5 over 7 instances must take two
/// DescribeInstances calls (counted by the HTTP observer) and lose or repeat nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_and_catalog() {
    let moto = Moto::start();
    let seeded = moto.seed_instances("eu-west-1", 7, "pg");
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let http = HttpClient::new().unwrap().with_observer(Arc::new(move |_, _, _| {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    let mut fields = BTreeMap::new();
    fields.insert("access_key_id".to_string(), moto.access_key_id.clone());
    fields.insert("regions".to_string(), "eu-west-1".to_string());
    fields.insert("endpoint".to_string(), moto.endpoint());
    let mut secrets = BTreeMap::new();
    secrets.insert("secret_access_key".to_string(), Sensitive::new(moto.secret_access_key.clone()));
    let ec2 = Ec2::new(Connection { cloud_id: "c".into(), fields, secrets, http }).unwrap().with_page_size(5);

    let machines = ec2.list_region("eu-west-1").await.unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "7 instances at 5 per page are two pages, plus one DescribeImages for their login user"
    );
    // The login user comes from the AMI as boto3 sees it in moto.
    let amis = moto.images("eu-west-1", &["amazon"]);
    let ami = amis.iter().find(|i| i.id == machines[0].image).expect("the seeded AMI is Amazon's");
    let want = skydeck_core::providers::ec2::images::login_user(Some(&ami.owner), &ami.name);
    assert!(want.is_some(), "moto's first Amazon AMI should have a known user: {ami:?}");
    assert!(machines.iter().all(|m| m.extra.get("ssh_user").map(String::as_str) == want), "{machines:#?}");
    let mut got: Vec<_> = machines.iter().map(|m| m.id.clone()).collect();
    let mut want: Vec<_> = seeded.iter().map(|s| s.id.clone()).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    let zones = ec2.list_locations().await.unwrap();
    assert!(!zones.is_empty());
    assert!(zones.iter().all(|z| z.id.starts_with("eu-west-1") && z.available), "{zones:?}");
    assert!(zones.iter().any(|z| z.id == seeded[0].zone));

    let sizes = ec2.list_sizes().await.unwrap();
    let micro = sizes.iter().find(|s| s.id == seeded[0].size).expect("the seeded type is offered");
    assert_eq!((micro.vcpus, micro.ram_mb), (Some(1), Some(1024)));
}
