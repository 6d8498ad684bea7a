//! The shared lifecycle suite on the first two providers: EC2 against moto (stateful: every
//! step is verified by listing again) and DigitalOcean against Prism (stateless: every call
//! must pass the spec's validation).

use skydeck_core::provider::{Connection, Provider};
use skydeck_core::providers::{digitalocean, ec2};
use skydeck_core::secrets::Sensitive;
use skydeck_tests::moto::Moto;
use skydeck_tests::prism::{Prism, Recorder};
use skydeck_tests::suite::Lifecycle;
use std::collections::BTreeMap;

#[tokio::test(flavor = "multi_thread")]
async fn ec2_lifecycle_on_moto() {
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let region = "eu-west-1";
    let seeded = {
        let m = &moto;
        std::thread::scope(|s| s.spawn(|| m.seed_instances(region, 2, "suite")).join().unwrap())
    };
    let fields = BTreeMap::from([
        ("access_key_id".to_string(), moto.access_key_id.clone()),
        ("regions".to_string(), region.to_string()),
        ("endpoint".to_string(), moto.endpoint()),
    ]);
    let secrets = BTreeMap::from([("secret_access_key".to_string(), Sensitive::new(moto.secret_access_key.clone()))]);
    let http = skydeck_core::http::HttpClient::new().unwrap();
    let driver: Box<dyn Provider> = (ec2::SPEC.connect)(Connection { cloud_id: "c".into(), fields, secrets, http }).unwrap();
    let mut suite = Lifecycle::new(&ec2::SPEC, driver.as_ref(), true);
    suite.target = Some(seeded[0].id.clone());
    let report = suite.run().await;
    assert_eq!(report.listed, 2);
    for step in ["list", "stop", "start", "reboot", "rename", "tag", "destroy"] {
        assert!(report.ran(step), "ec2 skipped {step}: {report:?}");
    }
    // boto3 agrees: the instance is terminated, the other one untouched.
    let gone = moto.describe(region, &seeded[0].id);
    assert_eq!(gone.state, "terminated");
    assert_eq!(moto.describe(region, &seeded[1].id).state, "running");
}

#[tokio::test(flavor = "multi_thread")]
async fn digitalocean_lifecycle_on_prism() {
    let prism = tokio::task::spawn_blocking(|| {
        Prism::shared(&skydeck_tests::shared_dir().join("specs/digitalocean/DigitalOcean-public.v2.bundled.yaml")).url()
    })
    .await
    .unwrap();
    let rec = Recorder::default();
    let fields = BTreeMap::from([("endpoint".to_string(), prism)]);
    let secrets = BTreeMap::from([("token".to_string(), Sensitive::new("dop_v1_suite".to_string()))]);
    let driver = (digitalocean::SPEC.connect)(Connection { cloud_id: "d".into(), fields, secrets, http: rec.client() }).unwrap();
    let report = Lifecycle::new(&digitalocean::SPEC, driver.as_ref(), false).run().await;
    for step in ["list", "stop", "start", "force_off", "reboot", "rename", "tag", "destroy"] {
        assert!(report.ran(step), "digitalocean skipped {step}: {report:?}");
    }
    rec.assert_clean();
    assert!(rec.exchanges().iter().any(|e| e.method == "DELETE" && e.path.starts_with("/v2/droplets/")));
}
