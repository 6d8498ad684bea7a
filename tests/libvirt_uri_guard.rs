//! A libvirt connection URI cannot make libvirt run a program (issue 9). Each URI below would
//! have libvirt run a script that writes a marker file (the `ext` transport's `command=`, the
//! ssh transport's `command=`, and libvirt's other spellings of it: any case, `;` between
//! parameters, a percent-encoded name). Every one is refused as `invalid_input` at the `uri`
//! field before libvirt sees it — by the driver, by the service ("Test & save", adding a
//! cloud, adding a detected host: what the webview calls) and by `skydeck-cli cloud add` —
//! and the marker never appears.

use skydeck_core::provider::{Connection, DetectedHost, Provider};
use skydeck_core::providers::libvirt::Libvirt;
use skydeck_core::secrets::{MemorySecrets, Sensitive};
use skydeck_core::{Error, NewCloud, Skydeck};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

/// A script that leaves a marker when anything runs it.
struct Trap {
    dir: tempfile::TempDir,
    marker: PathBuf,
}

impl Trap {
    fn new() -> Trap {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("marker");
        let script = dir.path().join("payload.sh");
        std::fs::write(&script, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        Trap { dir, marker }
    }

    fn uris(&self) -> Vec<String> {
        let s = self.dir.path().join("payload.sh");
        let s = s.display();
        vec![
            format!("qemu+ext:///system?command={s}"),
            format!("test+ext:///default?command={s}"),
            format!("qemu+ssh://127.0.0.1/system?command={s}"),
            format!("qemu+ssh://127.0.0.1/system?Command={s}"),
            format!("qemu+ssh://127.0.0.1/system?no_tty=1;command={s}"),
            format!("qemu+ssh://127.0.0.1/system?%63ommand={s}"),
            format!("qemu+ssh://127.0.0.1/system?netcat={s}"),
        ]
    }

    fn assert_nothing_ran(&self, uri: &str) {
        assert!(!self.marker.exists(), "libvirt ran the URI's program: {uri}");
    }
}

fn assert_refused_at_uri(uri: &str, e: &Error) {
    assert_eq!((e.code(), e.field()), ("invalid_input", Some("uri")), "{uri}: {e:?}");
    assert!(e.to_string().contains("program"), "says why: {e}");
}

fn fields(uri: &str) -> BTreeMap<String, Sensitive<String>> {
    BTreeMap::from([("uri".to_string(), Sensitive::new(uri.to_string()))])
}

#[tokio::test]
async fn the_driver_refuses_program_uris_before_libvirt_sees_them() {
    let trap = Trap::new();
    for uri in trap.uris() {
        let c = Connection {
            cloud_id: "evil".into(),
            fields: BTreeMap::from([("uri".to_string(), uri.clone())]),
            secrets: BTreeMap::new(),
            http: skydeck_core::http::HttpClient::new().unwrap(),
        };
        // Were the URI accepted, this is where libvirt would run the program.
        let result = match Libvirt::open(c) {
            Ok(d) => d.test_connection().await,
            Err(e) => Err(e),
        };
        trap.assert_nothing_ran(&uri);
        assert_refused_at_uri(&uri, &result.unwrap_err());
    }
}

#[tokio::test]
async fn test_and_save_add_and_add_detected_refuse_them_too() {
    let trap = Trap::new();
    let data = tempfile::tempdir().unwrap();
    let deck = Skydeck::open(data.path(), Arc::new(MemorySecrets::default())).unwrap();
    for uri in trap.uris() {
        let e = deck.test_connection("libvirt", &fields(&uri)).await.unwrap_err();
        assert_refused_at_uri(&uri, &e);
        let new = NewCloud { provider: "libvirt".into(), title: "evil".into(), fields: fields(&uri) };
        assert_refused_at_uri(&uri, &deck.add_cloud(new).await.unwrap_err());
        // The webview hands a "detected" host back to Skydeck: it is checked like any other.
        let host = DetectedHost {
            provider: "libvirt".into(),
            title: "KVM on this computer".into(),
            fields: BTreeMap::from([("uri".to_string(), uri.clone())]),
        };
        assert_refused_at_uri(&uri, &deck.add_detected(host).await.unwrap_err());
        trap.assert_nothing_ran(&uri);
    }
    assert!(deck.list_clouds().unwrap().is_empty(), "nothing was saved");
}

#[test]
fn skydeck_cli_cloud_add_refuses_them() {
    let trap = Trap::new();
    let data = tempfile::tempdir().unwrap();
    for uri in trap.uris() {
        let out = Command::new(skydeck_tests::cli_bin())
            .args(["cloud", "add", "libvirt", "--title", "evil", "--field", &format!("uri={uri}")])
            .env("SKYDECK_DATA_DIR", data.path())
            .output()
            .unwrap();
        trap.assert_nothing_ran(&uri);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{uri} was accepted: {stderr}");
        assert!(stderr.starts_with("invalid_input: "), "{uri}: {stderr}");
        assert!(stderr.contains("program"), "{uri}: {stderr}");
    }
}
