//! Creating EC2 machines against moto (SigV4 checked; AMI, instance-type and key-pair
//! validation on): through the real `skydeck-cli` binary with a key it generated into the
//! real keychain, and through the core for the catalog cache, input errors, waiting and the
//! activity log. boto3 (an independent client) is the reference for what exists.

use serde_json::Value;
use skydeck_core::catalog::CatalogKind;
use skydeck_core::http::HttpClient;
use skydeck_core::model::{Action, CreateMachine, MachineState};
use skydeck_core::provider::Connection;
use skydeck_core::providers::ec2::{self, IMAGE_SOURCES};
use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::{CreateRequest, NewCloud, Skydeck};
use skydeck_tests::moto::Moto;
use skydeck_tests::suite::Lifecycle;
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use skydeck_tests::tags;

const REGION: &str = "eu-west-1";

struct Cli {
    data: tempfile::TempDir,
}

impl Cli {
    fn run(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut c = Command::new(skydeck_tests::cli_bin());
        c.args(args).env("SKYDECK_DATA_DIR", self.data.path());
        for (k, v) in envs {
            c.env(k, v);
        }
        c.output().unwrap()
    }
    fn ok(&self, args: &[&str], envs: &[(&str, &str)]) -> String {
        let o = self.run(args, envs);
        assert!(o.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    }
    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args, &[])).unwrap()
    }
    fn err(&self, args: &[&str]) -> String {
        let o = self.run(args, &[]);
        assert!(!o.status.success(), "{args:?} should fail");
        let e = String::from_utf8(o.stderr).unwrap();
        assert_eq!(e.trim_end().lines().count(), 1, "errors are one line: {e}");
        e.trim_end().to_string()
    }
}

/// The first two fields of an OpenSSH public key (type and key, without the comment).
fn key_part(openssh: &str) -> String {
    openssh.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

#[test]
fn the_cli_creates_a_machine_with_a_generated_key_and_a_retry_makes_no_second() {
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let moto = Moto::start();
    let cli = Cli { data: tempfile::tempdir().unwrap() };

    let key = cli.json(&["keys", "generate", "deploy", "--json"]);
    let access = format!("access_key_id={}", moto.access_key_id);
    let endpoint = format!("endpoint={}", moto.endpoint());
    let regions = format!("regions={REGION}");
    cli.ok(
        &["cloud", "add", "ec2", "--title", "aws", "--field", &access, "--field", &regions, "--field", &endpoint],
        &[("SKYDECK_FIELD_SECRET_ACCESS_KEY", &moto.secret_access_key)],
    );

    // The wizard's steps as commands: a zone, a size offered there, a current image for it.
    let locations = cli.json(&["catalog", "locations", "--cloud", "aws", "--json"]);
    let zone = locations["items"][0]["id"].as_str().unwrap().to_string();
    assert!(zone.starts_with(REGION), "{locations}");
    let sizes = cli.json(&["catalog", "sizes", "--cloud", "aws", "--location", &zone, "--json"]);
    assert!(sizes["items"].as_array().unwrap().iter().any(|s| s["id"] == "t2.micro"));
    let images = cli.json(&["catalog", "images", "--cloud", "aws", "--location", &zone, "--arch", "x86_64", "--json"]);
    let list = images["items"].as_array().unwrap();
    assert!(list
        .iter()
        .all(|i| i["arch"] == "x86_64" && i["locations"].as_array().unwrap().iter().any(|l| l == zone.as_str())));
    let ubuntu = list.iter().find(|i| i["distribution"] == "Ubuntu").expect("a Canonical image").clone();
    let ami = ubuntu["id"].as_str().unwrap().to_string();

    let dir = tempfile::tempdir().unwrap();
    let user_data = dir.path().join("cloud-init.yaml");
    std::fs::write(&user_data, "#cloud-config\nruncmd:\n  - echo hello > /tmp/hi\n").unwrap();
    let create = |name: &str, token: Option<&str>, wait: bool| {
        let mut args = vec![
            "create",
            "--cloud",
            "aws",
            "--location",
            &zone,
            "--size",
            "t2.micro",
            "--image",
            &ami,
            "--name",
            name,
            "--tag",
            "env=test",
            "--tag",
            "team=infra",
            "--user-data",
            user_data.to_str().unwrap(),
            "--json",
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
        if let Some(t) = token {
            args.extend(["--client-token".to_string(), t.to_string()]);
        }
        if wait {
            args.extend(["--wait".to_string(), "--timeout".to_string(), "120".to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli.json(&args)
    };

    let web = create("web-1", Some("retry-token-1"), true);
    assert_eq!(web["state"], "running", "{web}");
    assert_eq!(web["name"], "web-1");
    assert_eq!(web["location"], zone.as_str());
    let id = web["id"].as_str().unwrap().to_string();

    // boto3: the key pair was imported into this region only, holding exactly our key.
    let pairs = moto.key_pairs(REGION);
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    assert!(pairs[0].name.starts_with("skydeck-"), "{pairs:?}");
    assert_eq!(pairs[0].kind.as_deref(), Some("ed25519"));
    assert_eq!(key_part(pairs[0].public_key.as_deref().unwrap()), key_part(key["public_key"].as_str().unwrap()));
    assert!(moto.key_pairs("us-east-1").is_empty(), "key pairs are imported per region, where needed");

    // boto3: one instance, with that key, the tags, the token, the user data.
    let instances = moto.instances(REGION);
    assert_eq!(instances.len(), 1, "{instances:?}");
    let i = &instances[0];
    assert_eq!((i.id.as_str(), i.state.as_str()), (id.as_str(), "running"));
    assert_eq!(i.key_name.as_deref(), Some(pairs[0].name.as_str()));
    assert_eq!(i.tags, tags(&[("Name", "web-1"), ("env", "test"), ("team", "infra")]));
    assert_eq!((i.image.as_str(), i.size.as_str(), i.zone.as_str()), (ami.as_str(), "t2.micro", zone.as_str()));
    assert_eq!(i.client_token.as_deref(), Some("retry-token-1"));
    assert_eq!(i.user_data.as_deref(), Some("#cloud-config\nruncmd:\n  - echo hello > /tmp/hi\n"));

    // The same create again (same client token, e.g. a script retrying after a timeout):
    // the same machine comes back and no second one exists.
    let again = create("web-1", Some("retry-token-1"), false);
    assert_eq!(again["id"], id.as_str());
    assert_eq!(moto.instances(REGION).len(), 1, "a retried create made a second instance");

    // A new create (fresh token, default key since no --key): a second machine, same key pair.
    let web2 = create("web-2", None, false);
    assert_ne!(web2["id"], id.as_str());
    let instances = moto.instances(REGION);
    assert_eq!(instances.len(), 2);
    assert!(instances.iter().all(|i| i.key_name.as_deref() == Some(pairs[0].name.as_str())));
    assert_eq!(moto.key_pairs(REGION).len(), 1, "the key pair is reused, not imported again");

    // Input errors: one line, the code first; nothing is created.
    let e = cli.err(&[
        "create",
        "--cloud",
        "aws",
        "--location",
        &zone,
        "--size",
        "t9.nope",
        "--image",
        &ami,
        "--name",
        "x1",
    ]);
    assert!(e.starts_with("invalid_input: ") && e.contains("t9.nope"), "{e}");
    let e = cli.err(&[
        "create",
        "--cloud",
        "aws",
        "--location",
        &zone,
        "--size",
        "t2.micro",
        "--image",
        &ami,
        "--name",
        "bad_name",
    ]);
    assert!(e.starts_with("invalid_input: ") && e.contains("bad_name"), "{e}");
    let e = cli.err(&[
        "create",
        "--cloud",
        "aws",
        "--location",
        &zone,
        "--size",
        "t2.micro",
        "--image",
        &ami,
        "--name",
        "x2",
        "--key",
        "nope",
    ]);
    assert!(e.starts_with("invalid_input: no SSH key"), "{e}");
    assert_eq!(moto.instances(REGION).len(), 2);

    // The activity log has every attempt, newest first, and no user data.
    let log = cli.json(&["activity", "--json"]);
    let entries = log.as_array().unwrap();
    let creates: Vec<_> = entries.iter().filter(|e| e["action"] == "create").collect();
    assert_eq!(creates.len(), 6, "{log}");
    let results: Vec<_> = creates.iter().map(|e| e["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["error", "error", "error", "ok", "ok", "ok"]);
    assert_eq!(creates[3]["machine_name"], "web-2");
    assert_eq!(creates[5]["machine_id"], id.as_str());
    assert_eq!(creates[0]["error"]["code"], "invalid_input");
    assert!(!log.to_string().contains("echo hello"), "user data must never reach the log");
    let table = cli.ok(&["activity"], &[]);
    assert!(table.contains("aws") && table.contains("web-1") && table.contains("create"), "{table}");
}

fn ec2_fields(moto: &Moto) -> BTreeMap<String, Sensitive<String>> {
    BTreeMap::from([
        ("access_key_id".to_string(), Sensitive::new(moto.access_key_id.clone())),
        ("secret_access_key".to_string(), Sensitive::new(moto.secret_access_key.clone())),
        ("regions".to_string(), Sensitive::new(REGION.to_string())),
        ("endpoint".to_string(), Sensitive::new(moto.endpoint())),
    ])
}

fn request(location: &str, image: &str, key: Option<&str>, name: &str) -> CreateRequest {
    CreateRequest {
        location: location.into(),
        size: "t2.micro".into(),
        image: image.into(),
        key_id: key.map(str::to_string),
        name: name.into(),
        tags: tags(&[("env", "ci")]),
        user_data: None,
        options: BTreeMap::new(),
        client_token: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_cache_input_errors_waiting_and_activity() {
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecrets::default();
    let deck = Skydeck::open(dir.path(), Arc::new(secrets.clone())).unwrap();
    deck.add_cloud(NewCloud { provider: "ec2".into(), title: "aws".into(), fields: ec2_fields(&moto) }).await.unwrap();

    // Fetched once, then served from SQLite with the same fetched_at until refreshed.
    let first = deck.catalog("aws", CatalogKind::Images, false).await.unwrap();
    assert!(!first.from_cache && !first.is_empty());
    let cached = deck.catalog("aws", CatalogKind::Images, false).await.unwrap();
    assert!(cached.from_cache);
    assert_eq!((cached.fetched_at.as_str(), cached.images()), (first.fetched_at.as_str(), first.images()));
    assert!(!deck.catalog("aws", CatalogKind::Images, true).await.unwrap().from_cache, "refresh fetches anew");
    // With a zero TTL every call fetches.
    let zero = Skydeck::open(dir.path(), Arc::new(secrets.clone())).unwrap().with_catalog_ttl(Duration::ZERO);
    for _ in 0..2 {
        assert!(!zero.catalog("aws", CatalogKind::Images, false).await.unwrap().from_cache);
    }

    // Only images of the well-known owners, each the newest of its family, in the region's zones.
    let zones: Vec<String> = deck
        .catalog("aws", CatalogKind::Locations, false)
        .await
        .unwrap()
        .locations()
        .iter()
        .map(|l| l.id.clone())
        .collect();
    let images = first.images();
    let owners: Vec<&str> = IMAGE_SOURCES.iter().map(|s| s.owner).collect();
    let boto = moto.images(REGION, &owners);
    for i in images {
        let b =
            boto.iter().find(|b| b.id == i.id).unwrap_or_else(|| panic!("{} is not an image of a known owner", i.id));
        let source = ec2::images::source_of(&b.owner, &b.name).expect("a known source");
        assert_eq!(i.distribution.as_deref(), Some(source.distribution));
        assert_eq!(i.locations, zones);
    }
    let al2: Vec<_> =
        images.iter().filter(|i| i.name.starts_with("amzn2-ami-hvm-") && i.arch.as_deref() == Some("x86_64")).collect();
    assert_eq!(al2.len(), 1, "one current Amazon Linux 2 x86_64 image: {al2:?}");
    let family: Vec<_> =
        boto.iter().filter(|b| b.name.starts_with("amzn2-ami-hvm-") && b.arch.as_deref() == Some("x86_64")).collect();
    assert!(family.len() > 1, "moto offers several builds of the family: {family:?}");
    let newest = family.iter().max_by_key(|b| (b.creation_date.clone(), b.name.clone())).unwrap();
    assert_eq!(al2[0].id, newest.id);
    assert!(images.iter().any(|i| i.distribution.as_deref() == Some("Ubuntu")));
    assert!(!images.iter().any(|i| i.name.starts_with("Windows")));

    let zone = zones[0].clone();
    let ami = images.iter().find(|i| i.distribution.as_deref() == Some("Ubuntu")).unwrap().id.clone();
    deck.generate_key("ci").await.unwrap();

    // Every bad input names the wizard field and makes no machine.
    let bad: Vec<(&str, CreateRequest)> = vec![
        ("name", request(&zone, &ami, None, "web_1")),
        ("location", request("eu-west-9z", &ami, None, "w")),
        ("size", CreateRequest { size: "t9.nope".into(), ..request(&zone, &ami, None, "w") }),
        ("image", request(&zone, "ami-00000000", None, "w")),
        ("key", request(&zone, &ami, Some("missing"), "w")),
        ("tags", CreateRequest { tags: tags(&[("Name", "x")]), ..request(&zone, &ami, None, "w") }),
        (
            "user_data",
            CreateRequest { user_data: Some("x".repeat(ec2::MAX_USER_DATA + 1)), ..request(&zone, &ami, None, "w") },
        ),
        (
            "options",
            CreateRequest {
                options: BTreeMap::from([("ports".into(), "80".into())]),
                ..request(&zone, &ami, None, "w")
            },
        ),
        ("cloud", request(&zone, &ami, None, "w")),
    ];
    for (field, req) in bad {
        let cloud = if field == "cloud" { "no-such-cloud" } else { "aws" };
        let e = deck.create_machine(cloud, req).await.unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_input", Some(field)), "{e}");
    }
    assert!(moto.instances(REGION).is_empty());

    // Create, then follow it to running; the cache has it at once.
    let m = deck.create_machine("aws", request(&zone, &ami, Some("ci"), "ci-1")).await.unwrap();
    assert_eq!(m.provider, "ec2");
    assert!(deck.machines(None).unwrap().iter().any(|c| c.id == m.id));
    let seen = Mutex::new(Vec::new());
    let running = deck
        .wait_until_running("aws", &m.id, Duration::from_secs(60), |x| seen.lock().unwrap().push(x.state))
        .await
        .unwrap();
    assert_eq!(running.state, MachineState::Running);
    assert_eq!(seen.lock().unwrap().last(), Some(&MachineState::Running));
    assert_eq!(
        running.extra.get("key_name"),
        Some(&ec2::key_pair_name(&deck.find_key("ci").unwrap().to_public()).unwrap())
    );

    // Actions through Skydeck are logged too; a terminated machine never "runs".
    deck.rename(&m.id, "ci-renamed").await.unwrap();
    deck.set_tags(&m.id, tags(&[("env", "done")])).await.unwrap();
    deck.machine_action(&m.id, Action::Destroy).await.unwrap();
    let e = deck.wait_until_running("aws", &m.id, Duration::from_secs(10), |_| {}).await.unwrap_err();
    assert_eq!(e.code(), "conflict", "{e}");
    let e = deck.wait_until_running("aws", "i-0000000000000000", Duration::from_secs(1), |_| {}).await.unwrap_err();
    assert_eq!(e.code(), "unavailable", "{e}");
    assert!(e.to_string().contains("did not reach running"), "{e}");

    let log = deck.activity(20, Some("aws")).unwrap();
    let actions: Vec<_> =
        log.iter().map(|e| (e.action.as_str(), e.result == skydeck_core::activity::ActivityResult::Ok)).collect();
    assert_eq!(&actions[..4], [("destroy", true), ("tag", true), ("rename", true), ("create", true)]);
    assert_eq!(log[2].detail.as_deref(), Some("to ci-renamed"));
    assert_eq!(
        log.iter().filter(|e| e.action == "create" && e.error.is_some()).count(),
        8,
        "each refused create is logged"
    );
    assert!(deck.activity(20, Some("another")).unwrap().is_empty());
}

/// The shared lifecycle suite, this time starting with a create on moto.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_suite_with_create() {
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let fields = BTreeMap::from([
        ("access_key_id".to_string(), moto.access_key_id.clone()),
        ("regions".to_string(), REGION.to_string()),
        ("endpoint".to_string(), moto.endpoint()),
    ]);
    let secrets = BTreeMap::from([("secret_access_key".to_string(), Sensitive::new(moto.secret_access_key.clone()))]);
    let driver =
        (ec2::SPEC.connect)(Connection { cloud_id: "c".into(), fields, secrets, http: HttpClient::new().unwrap() })
            .unwrap();
    let images = driver.list_images().await.unwrap();
    let image = images.iter().find(|i| i.arch.as_deref() == Some("x86_64")).unwrap();
    let key = skydeck_core::keys::generate("suite").unwrap();
    let mut suite = Lifecycle::new(&ec2::SPEC, driver.as_ref(), true);
    suite.create = Some(CreateMachine {
        name: "suite-1".into(),
        location: REGION.into(),
        size: "t2.micro".into(),
        image: image.id.clone(),
        key: Some(skydeck_core::model::SshPublicKey {
            name: "suite".into(),
            openssh: key.public_key.clone(),
            fingerprint: key.fingerprint,
        }),
        tags: tags(&[("env", "suite")]),
        user_data: None,
        options: BTreeMap::new(),
        client_token: "suite-token".into(),
    });
    let report = suite.run().await;
    assert!(report.ran("create"), "{report:?}");
    let id = report.machine_id.unwrap();
    let i = moto.instances(REGION).into_iter().find(|i| i.id == id).unwrap();
    assert_eq!(i.state, "terminated");
    assert!(i.key_name.unwrap().starts_with("skydeck-"));
}
