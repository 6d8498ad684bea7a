//! Zero-setup onboarding in the real window: a first start with no clouds offers what it found
//! on this computer, or the libvirt `test:///default` demo, and one click adds it and shows its
//! machines. Screenshots in tests/out/e2e/local-hosts/.

use serde_json::json;
use skydeck_tests::webdriver::{self, App};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn first_start_offers_the_demo_and_one_click_adds_it() {
    if webdriver::should_skip("e2e_local_hosts") {
        return;
    }
    webdriver::assert_keychain_ready();
    let data = tempfile::tempdir().unwrap();
    let shots = skydeck_tests::repo_root().join("tests/out/e2e/local-hosts");
    let _ = std::fs::remove_dir_all(&shots);
    // No Docker/Podman socket from the environment: only what the machine itself has.
    let app = App::launch(data.path(), &shots, &[("DOCKER_HOST", "")]);
    let s = &app.session;

    let offered = s.wait(
        "local hosts or the demo to be offered",
        "const b = [...document.querySelectorAll('.local-hosts:not([hidden]) [data-add-host]')];
         return b.length ? b.map(x => ({provider: x.dataset.addHost, label: x.textContent})) : null",
        json!([]),
        WAIT,
    );
    s.screenshot("first-start");
    let offered = offered.as_array().unwrap().clone();
    let demo = offered.iter().find(|o| o["label"] == "Try the demo");
    let selector = match demo {
        Some(_) => "[data-add-host='libvirt']".to_string(),
        // This machine runs a Docker/libvirt daemon of its own: then it is offered instead.
        None => format!("[data-add-host='{}']", offered[0]["provider"].as_str().unwrap()),
    };
    s.click(&selector);
    s.wait(
        "the added host to appear in the sidebar",
        "return document.querySelectorAll('[data-cloud-id]').length > 0 && !document.body.classList.contains('no-clouds')",
        json!([]),
        WAIT,
    );
    if demo.is_some() {
        // libvirt's test driver always has a running domain called "test".
        let names = s.wait(
            "the demo host's machines",
            "const n = [...document.querySelectorAll('.grid-body .grid-row:not([hidden]) .col-name')].map(e => e.textContent);
             return n.length ? n : null",
            json!([]),
            WAIT,
        );
        assert!(names.as_array().unwrap().iter().any(|n| n == "test"), "{names}");
        assert!(s.text("body").contains("Demo (KVM / libvirt)"));
        // The row names its cloud by title, even when its machines arrived before the cloud list.
        s.wait(
            "the row's cloud title",
            "return [...document.querySelectorAll('.grid-body .grid-row:not([hidden]) .col-cloud')].every(e => e.textContent.startsWith('Demo'))",
            json!([]),
            WAIT,
        );

        // Its details offer libvirt's extra actions; a hard power-off asks first.
        s.click(".grid-body .grid-row:not([hidden]) .col-name");
        let buttons = s.wait(
            "the details panel's actions",
            "const b = [...document.querySelectorAll('#details [data-action]')].map(x => x.dataset.action);
             return b.includes('force_off') ? b : null",
            json!([]),
            WAIT,
        );
        for a in ["stop", "suspend", "reboot", "force_off", "destroy"] {
            assert!(buttons.as_array().unwrap().iter().any(|b| b == a), "{a} missing: {buttons}");
        }
        s.screenshot("details");
        s.click("#details [data-action=force_off]");
        s.wait("the power-off question", "return document.querySelector('dialog[open] .btn-danger')", json!([]), WAIT);
        s.screenshot("power-off-asks");
        // Focus starts on Cancel: Escape/Cancel leaves the machine running.
        s.click("dialog[open] .btn:not(.btn-danger)");
        s.wait("the dialog to close", "return !document.querySelector('dialog[open]')", json!([]), WAIT);
        s.click("#details [data-action=suspend]");
        s.wait(
            "the machine to be suspended",
            "return [...document.querySelectorAll('.grid-body .grid-row:not([hidden]) .col-state')].some(e => e.textContent.includes('suspended'))",
            json!([]),
            WAIT,
        );
        s.screenshot("suspended");
    }
    s.screenshot("added");
    // Once something is added, the demo is no longer offered.
    assert_eq!(s.count(".empty-card:not([hidden]) [data-add-host='libvirt']"), 0);
}
