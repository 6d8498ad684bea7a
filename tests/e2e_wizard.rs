//! The create-machine wizard, the SSH keys page and the activity page end to end, in the real
//! webview through WebDriver, with the real keychain, against moto (SigV4, AMI, instance-type
//! and key-pair validation on). boto3 (tests/peers/moto_seed.py) is the independent witness of
//! what was created. Screenshots of every step land in tests/out/e2e-wizard/<scenario>/.

use serde_json::{json, Value};
use skydeck_core::catalog::{images_for, sizes_in, CatalogKind};
use skydeck_core::secrets::{Keychain, SecretStore, Sensitive};
use skydeck_core::{NewCloud, Skydeck};
use skydeck_tests::moto::Moto;
use skydeck_tests::webdriver::{self, App, Session, ENTER, ESCAPE};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

static ONE_APP: Mutex<()> = Mutex::new(());
const WAIT: Duration = Duration::from_secs(60);
const REGION: &str = "eu-west-1";

fn shots(scenario: &str) -> PathBuf {
    let dir = skydeck_tests::repo_root().join("tests/out/e2e-wizard").join(scenario);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Skips (with the reason) only outside the test session; inside it a missing tool fails.
fn should_skip() -> bool {
    if webdriver::should_skip("e2e_wizard") {
        return true;
    }
    webdriver::assert_keychain_ready();
    false
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// A second handle on the app's data directory and keychain: the test's view of the truth.
fn deck(data: &Path) -> Skydeck {
    Skydeck::open(data, Arc::new(Keychain::default())).unwrap()
}

/// Removes what the scenario left in the (throwaway) keychain, even when it fails.
struct Cleanup(PathBuf);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let d = deck(&self.0);
        let rt = rt();
        for k in d.list_keys().unwrap_or_default() {
            let _ = rt.block_on(d.delete_key(&k.id));
        }
        for c in d.list_clouds().unwrap_or_default() {
            let _ = rt.block_on(d.remove_cloud(&c.cloud.id));
        }
    }
}

/// `SHA256:…` as ssh-keygen computes it for an OpenSSH public key line.
fn keygen_fingerprint(public: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("k.pub");
    std::fs::write(&f, format!("{public}\n")).unwrap();
    let out = Command::new("ssh-keygen").arg("-lf").arg(&f).output().expect("ssh-keygen (openssh-client)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().split_whitespace().nth(1).unwrap().to_string()
}

/// The first two fields of an OpenSSH public key (type and key, no comment).
fn key_part(openssh: &str) -> String {
    openssh.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// A screenshot (the harness waits for the page to paint first).
fn shot(s: &Session, name: &str) {
    s.screenshot(name);
}

/// The text content of an element (also when it is scrolled out of view).
fn text_of(s: &Session, css: &str) -> String {
    s.js("return document.querySelector(arguments[0])?.textContent ?? ''", json!([css])).as_str().unwrap_or_default().to_string()
}

fn wizard_step(s: &Session) -> String {
    s.js("return document.querySelector('#wizard .wizard-step')?.dataset.step ?? null", json!([])).as_str().unwrap_or_default().to_string()
}

fn wait_step(s: &Session, step: &str) {
    s.wait(&format!("the {step} step"), "return document.querySelector('#wizard .wizard-step')?.dataset.step === arguments[0]", json!([step]), WAIT);
}

/// The ids a radio list of the wizard offers.
fn offered(s: &Session, name: &str) -> Vec<String> {
    serde_json::from_value(s.js(
        "return [...document.querySelectorAll(`#wizard input[name='wz-${arguments[0]}']:not(:disabled)`)].map(i => i.value)",
        json!([name]),
    ))
    .unwrap()
}

fn pick(s: &Session, id: &str) {
    s.js(
        "const l = [...document.querySelectorAll('#wizard label.choice')].find(l => l.dataset.id === arguments[0]); l.scrollIntoView({block: 'center'});",
        json!([id]),
    );
    let css = format!("#wizard label.choice[data-id=\"{id}\"]");
    s.click(&css);
    s.wait("the choice to be selected", "return document.querySelector(arguments[0])?.classList.contains('selected')", json!([css]), WAIT);
}

#[test]
fn the_wizard_creates_a_running_ec2_machine_with_a_key_it_generated() {
    let _one = ONE_APP.lock().unwrap_or_else(|p| p.into_inner());
    if should_skip() {
        return;
    }
    let moto = Moto::start();
    let data = tempfile::tempdir().unwrap();
    let _cleanup = Cleanup(data.path().to_path_buf());
    let rt = rt();
    {
        let d = deck(data.path());
        let fields = BTreeMap::from([
            ("access_key_id".to_string(), Sensitive::new(moto.access_key_id.clone())),
            ("secret_access_key".to_string(), Sensitive::new(moto.secret_access_key.clone())),
            ("regions".to_string(), Sensitive::new(REGION.to_string())),
            ("endpoint".to_string(), Sensitive::new(moto.endpoint())),
        ]);
        rt.block_on(d.add_cloud(NewCloud { provider: "ec2".into(), title: "moto aws".into(), fields })).unwrap();
    }
    let app = App::launch(data.path(), &shots("create"), &[]);
    let s = &app.session;
    s.wait("the cloud in the sidebar", "return document.querySelectorAll('.cloud-item[data-cloud-id]').length === 1", json!([]), WAIT);
    s.wait("the first refresh", "return !document.getElementById('refresh')?.disabled", json!([]), WAIT);

    // Open from the toolbar: the only cloud is preselected; Enter goes on.
    s.click("#new-machine");
    wait_step(s, "cloud");
    assert_eq!(offered(s, "cloud").len(), 1);
    assert_eq!(s.js("return document.querySelector('#wizard input[name=wz-cloud]').checked", json!([])), json!(true));
    shot(s, "wizard-cloud");
    s.keys(ENTER);

    // Location: from the catalog (cache after the first fetch), with its age and a refresh.
    wait_step(s, "location");
    s.wait("the locations", "return document.querySelectorAll('#wizard input[name=wz-location]').length", json!([]), WAIT);
    let zones = offered(s, "location");
    assert!(!zones.is_empty() && zones.iter().all(|z| z.starts_with(REGION)), "{zones:?}");
    let age = s.text("#catalog-age-locations");
    assert!(age.starts_with("Fetched"), "{age}");
    s.keys(ENTER);
    assert!(
        s.wait("a step error", "return document.getElementById('wizard-error-location')?.textContent || null", json!([]), WAIT)
            .as_str()
            .unwrap()
            .contains("Choose a location"),
        "Enter without a choice says what is missing"
    );
    assert_eq!(wizard_step(s), "location");
    s.click("#catalog-refresh-locations");
    s.wait("the refreshed locations", "return document.getElementById('catalog-age-locations')?.textContent === 'Fetched just now' && document.querySelectorAll('#wizard input[name=wz-location]').length", json!([]), WAIT);
    let zone = zones[0].clone();
    pick(s, &zone);
    shot(s, "wizard-location");
    s.keys(ENTER);

    // Size: only sizes offered in that zone (the core's own filter is the reference).
    wait_step(s, "size");
    s.wait("the sizes", "return document.querySelectorAll('#wizard input[name=wz-size]').length", json!([]), WAIT);
    let d = deck(data.path());
    let cloud_id = d.list_clouds().unwrap()[0].cloud.id.clone();
    let sizes = rt.block_on(d.catalog(&cloud_id, CatalogKind::Sizes, false)).unwrap();
    let mut expected: Vec<String> = sizes_in(sizes.sizes(), &zone).into_iter().map(|s| s.id).collect();
    let mut shown = offered(s, "size");
    assert!(shown.len() <= 200);
    if expected.len() <= 200 {
        expected.sort();
        shown.sort();
        assert_eq!(shown, expected, "exactly the sizes offered in {zone}");
    } else {
        assert!(shown.iter().all(|id| expected.contains(id)));
    }
    assert!(shown.iter().any(|id| id == "t2.micro"), "{shown:?}");
    pick(s, "t2.micro");
    let row = text_of(s, "#wizard label.choice[data-id=\"t2.micro\"]");
    assert!(row.contains("t2.micro") && row.contains("1"), "vCPU and RAM shown: {row}");
    shot(s, "wizard-size");
    s.click("#wizard-next");

    // Image: search narrows the list; the architecture filter keeps only fitting images.
    wait_step(s, "image");
    s.wait("the images", "return document.querySelectorAll('#wizard input[name=wz-image]').length", json!([]), WAIT);
    let images = rt.block_on(d.catalog(&cloud_id, CatalogKind::Images, false)).unwrap();
    let fitting = images_for(images.images(), Some(&zone), None);
    assert_eq!(offered(s, "image").len(), fitting.len().min(200));
    s.type_into("#wz-image-search", "ubuntu");
    s.wait(
        "the search",
        "const labels = [...document.querySelectorAll('#wizard label.choice[data-id]')];
         return labels.length > 0 && labels.every(l => /ubuntu/i.test(l.textContent)) && labels.length < arguments[0]",
        json!([fitting.len()]),
        WAIT,
    );
    if s.count("#wz-arch") == 1 {
        s.js("const a = document.getElementById('wz-arch'); a.value = 'x86_64'; a.dispatchEvent(new Event('change'));", json!([]));
    }
    let ubuntu: Vec<_> = images_for(images.images(), Some(&zone), Some("x86_64"))
        .into_iter()
        .filter(|i| i.distribution.as_deref() == Some("Ubuntu"))
        .collect();
    let mut listed = offered(s, "image");
    listed.sort();
    let mut want: Vec<String> = ubuntu.iter().map(|i| i.id.clone()).collect();
    want.sort();
    assert_eq!(listed, want, "Ubuntu x86_64 images in {zone}");
    let ami = ubuntu[0].id.clone();
    pick(s, &ami);
    let label = text_of(s, &format!("#wizard label.choice[data-id=\"{ami}\"]"));
    assert!(label.contains("Ubuntu") && label.contains("x86_64"), "distribution, version and arch shown: {label}");
    shot(s, "wizard-image");
    s.keys(ENTER);

    // SSH key: none yet; generate one on the spot, and it is selected.
    wait_step(s, "key");
    s.wait("the key list", "return document.querySelector('#wizard input[name=wz-key]')", json!([]), WAIT);
    assert_eq!(offered(s, "key"), vec!["__none__".to_string()], "only 'No key' before any key exists");
    s.click("#wz-generate-key");
    s.wait("the generate dialog", "return document.activeElement?.id === 'prompt-input'", json!([]), WAIT);
    assert_eq!(s.js("return document.getElementById('prompt-input').value", json!([])), json!("skydeck"));
    s.clear("#prompt-input");
    s.type_into("#prompt-input", "wizard key");
    s.keys(ENTER);
    s.wait(
        "the new key, selected",
        "const r = document.querySelector('#wizard input[name=wz-key]:checked'); return r && r.value !== '__none__' && r.closest('label').textContent.includes('wizard key')",
        json!([]),
        WAIT,
    );
    let key = d.find_key("wizard key").unwrap();
    assert_eq!(key.algorithm, "ssh-ed25519");
    assert_eq!(keygen_fingerprint(&key.public_key), key.fingerprint);
    shot(s, "wizard-key-generated");
    s.keys(ENTER);

    // Name, tags, user data. A bad name is caught at once; a tag EC2 refuses is caught by the
    // core's check on the review step, which sends the user back here with the error at Tags.
    wait_step(s, "details");
    s.type_into("#wz-name", "bad_name");
    s.keys(ENTER);
    s.wait("the name error", "return /letters, digits/.test(document.getElementById('wizard-error-name')?.textContent)", json!([]), WAIT);
    shot(s, "wizard-name-error");
    s.clear("#wz-name");
    s.type_into("#wz-name", "web-wizard");
    s.click("#wz-add-tag");
    s.type_into("#wz-tag-key-0", "env");
    s.type_into("#wz-tag-value-0", "e2e");
    s.click("#wz-add-tag");
    s.type_into("#wz-tag-key-1", "Name");
    s.type_into("#wz-tag-value-1", "other");
    let user_data = "#cloud-config\nruncmd:\n  - echo wizard > /tmp/hi\n";
    s.js("const t = document.getElementById('wz-user-data'); t.focus();", json!([]));
    // WebDriver types a line break as the Enter key.
    s.type_into("#wz-user-data", &user_data.replace('\n', ENTER));
    shot(s, "wizard-details");
    s.click("#wizard-next");

    // Review: everything chosen, the estimate, the core's check passed.
    wait_step(s, "review");
    s.wait("the check", "return /checks out/.test(document.getElementById('wizard-check')?.textContent)", json!([]), WAIT);
    let review = s.text("#wizard-review");
    for want in ["moto aws", zone.as_str(), "t2.micro", ami.as_str(), "wizard key", "web-wizard", "env=e2e", "Name=other", "3 lines of cloud-init", "Estimated cost"] {
        assert!(review.contains(want), "the review shows {want}: {review}");
    }
    shot(s, "wizard-review");

    // EC2 refuses a 'Name' tag (the name is the Name tag): Create sends the user back to the
    // Tags field with the provider's reason, every choice kept, and nothing was created.
    s.click("#wizard-create");
    s.wait(
        "the error back at Tags",
        "return document.querySelector('#wizard .wizard-step')?.dataset.step === 'details' && document.getElementById('wizard-error-tags')?.textContent",
        json!([]),
        WAIT,
    );
    let tag_error = s.text("#wizard-error-tags");
    assert!(tag_error.contains("Name"), "{tag_error}");
    assert_eq!(s.js("return document.getElementById('wz-name').value", json!([])), json!("web-wizard"), "choices are kept");
    assert!(moto.instances(REGION).is_empty(), "nothing was created");
    shot(s, "wizard-create-error-at-tags");
    s.click("#wz-tags .tag-row:nth-child(2) button");
    s.click("#wizard-next");

    // Fixed, the review checks out again.
    wait_step(s, "review");
    s.wait("the check", "return /checks out/.test(document.getElementById('wizard-check')?.textContent)", json!([]), WAIT);
    let review = s.text("#wizard-review");
    assert!(review.contains("env=e2e") && !review.contains("Name=other"), "{review}");

    // Back keeps everything; Esc asks before discarding (and "Cancel" keeps the wizard).
    s.click("#wizard-back");
    wait_step(s, "details");
    assert_eq!(s.js("return document.getElementById('wz-user-data').value", json!([])), json!(user_data));
    s.keys(ESCAPE);
    s.wait("the discard question", "return document.querySelectorAll('dialog[open]').length === 2", json!([]), WAIT);
    shot(s, "wizard-esc-asks");
    s.click("dialog[open]:not(#wizard) .btn:not(.btn-danger)");
    s.wait("the wizard still open", "return document.querySelectorAll('dialog[open]').length === 1 && document.getElementById('wizard')?.open", json!([]), WAIT);
    s.click("#wizard-next");
    wait_step(s, "review");
    s.wait("the check", "return /checks out/.test(document.getElementById('wizard-check')?.textContent)", json!([]), WAIT);

    // Create: progress until running, then the IP and the SSH command.
    s.click("#wizard-create");
    s.wait("the progress view", "return document.getElementById('wizard-progress')", json!([]), WAIT);
    shot(s, "wizard-progress");
    s.wait("running", "return document.getElementById('wizard-progress')?.dataset.state === 'running'", json!([]), Duration::from_secs(180));
    let ssh = s.text("#wizard-ssh");
    let ip = s.text("#wizard-ip");
    let first_ip = ip.split(", ").next().unwrap().to_string();
    assert!(ssh.starts_with("ssh ") && ssh.ends_with(&format!("@{first_ip}")), "{ssh} / {ip}");
    s.click("#copy-ssh");
    s.wait("the copy toast", "return [...document.querySelectorAll('.toast')].some(t => t.textContent.includes('Copied the SSH command'))", json!([]), WAIT);
    shot(s, "wizard-running");

    // boto3: one instance, running, with the generated key's key pair, the tags and user data.
    let instances = moto.instances(REGION);
    assert_eq!(instances.len(), 1, "{instances:?}");
    let i = &instances[0];
    assert_eq!(i.state, "running");
    assert_eq!((i.image.as_str(), i.size.as_str(), i.zone.as_str()), (ami.as_str(), "t2.micro", zone.as_str()));
    let tags: BTreeMap<String, String> =
        [("Name", "web-wizard"), ("env", "e2e")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(i.tags, tags);
    assert_eq!(i.user_data.as_deref(), Some(user_data));
    let pairs = moto.key_pairs(REGION);
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    assert_eq!(i.key_name.as_deref(), Some(pairs[0].name.as_str()));
    assert_eq!(key_part(pairs[0].public_key.as_deref().unwrap()), key_part(&key.public_key), "the key pair holds the generated key");

    // The machine list has it, running.
    s.click("#wizard-close");
    s.wait("the wizard to close", "return !document.getElementById('wizard')", json!([]), WAIT);
    s.wait(
        "the new machine in the list",
        "const r = document.querySelector(`.grid-row[data-key$='/${arguments[0]}']`); return r && r.querySelector('.col-state').textContent === 'running'",
        json!([i.id]),
        WAIT,
    );
    shot(s, "machine-list-with-new-machine");

    // The activity page records the create.
    s.click("#nav-activity");
    s.wait("the activity table", "return document.querySelector('#activity-table tbody tr')", json!([]), WAIT);
    let first: Value = s.js(
        "const r = document.querySelector('#activity-table tbody tr'); return [...r.cells].map(c => c.textContent)",
        json!([]),
    );
    let cells: Vec<String> = serde_json::from_value(first).unwrap();
    assert_eq!(cells[1], "moto aws");
    assert_eq!(cells[2], "web-wizard");
    assert!(cells[3].starts_with("Create") && cells[3].contains("t2.micro"), "{cells:?}");
    assert_eq!(cells[4], "OK");
    assert!(!s.text("#activity-table").contains("echo wizard"), "user data never reaches the log");
    shot(s, "activity");
    s.click("#nav-machines");
    s.wait("the machines page", "return document.body.dataset.page === 'machines' && !document.getElementById('table').hidden", json!([]), WAIT);

    // Opened from the cloud's menu, the wizard starts at the location step of that cloud.
    s.click(".cloud-item[data-cloud-id] .cloud-menu");
    s.wait("the cloud menu", "return document.querySelector('.menu')", json!([]), WAIT);
    s.js("[...document.querySelectorAll('.menu .menu-item')].find(b => b.textContent.startsWith('New machine')).click()", json!([]));
    wait_step(s, "location");
    s.keys(ESCAPE);
    s.wait("Esc closes an untouched wizard at once", "return !document.getElementById('wizard')", json!([]), WAIT);
}

/// The keys page: generate (fingerprint as ssh-keygen computes it), import a passphrase-
/// protected key made by ssh-keygen (wrong passphrase refused at its field), make it the
/// default, rename, export asks first, delete (asks first; the keychain entry goes too).
#[test]
fn the_keys_page_generates_imports_and_manages_keys() {
    let _one = ONE_APP.lock().unwrap_or_else(|p| p.into_inner());
    if should_skip() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let _cleanup = Cleanup(data.path().to_path_buf());
    let app = App::launch(data.path(), &shots("keys"), &[]);
    let s = &app.session;
    s.wait("the window", "return document.getElementById('nav-keys')", json!([]), WAIT);
    s.click("#nav-keys");
    s.wait("the empty keys page", "return /No SSH keys yet/.test(document.getElementById('page')?.textContent)", json!([]), WAIT);
    assert_eq!(s.js("return getComputedStyle(document.getElementById('empty')).display", json!([])), json!("none"), "the welcome card steps aside");
    shot(s, "keys-empty");

    // Generate.
    s.click("#generate-key");
    s.wait("the generate dialog", "return document.activeElement?.id === 'prompt-input'", json!([]), WAIT);
    s.clear("#prompt-input");
    s.type_into("#prompt-input", "laptop");
    s.keys(ENTER);
    s.wait("the generated key", "return document.querySelector('#keys-table tr[data-key-name=laptop]')", json!([]), WAIT);
    let d = deck(data.path());
    let laptop = d.find_key("laptop").unwrap();
    let row = s.text("#keys-table tr[data-key-name=laptop]");
    assert!(row.contains("ED25519") && row.contains(&laptop.fingerprint), "{row}");
    assert_eq!(keygen_fingerprint(&laptop.public_key), laptop.fingerprint);
    shot(s, "keys-generated");

    // Import a passphrase-protected private key made by ssh-keygen.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("id_ed25519");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "open sesame", "-C", "ops@example", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let private = std::fs::read_to_string(&file).unwrap();
    let public = std::fs::read_to_string(dir.path().join("id_ed25519.pub")).unwrap();
    s.click("#import-key");
    s.wait("the import dialog", "return document.getElementById('import-text')", json!([]), WAIT);
    s.type_into("#import-name", "ops");
    // Picked as a file, as a user would from ~/.ssh (WebDriver sends the path to the file input).
    s.type_into("#import-file", file.to_str().unwrap());
    s.wait("the file read into the form", "return document.getElementById('import-text').value.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----')", json!([]), WAIT);
    assert_eq!(s.js("return document.getElementById('import-text').value", json!([])), json!(private));
    s.wait("the passphrase field", "return !document.querySelector('.field[data-field=passphrase]').hidden", json!([]), WAIT);
    assert_eq!(s.text("#import-kind"), "A passphrase-protected private key.");
    s.type_into("#import-passphrase", "wrong one");
    s.click("dialog[open] button[type=submit]");
    let err = s.wait(
        "the passphrase error",
        "const e = document.querySelector('.field[data-field=passphrase] .field-error'); return e && !e.hidden && e.textContent",
        json!([]),
        WAIT,
    );
    assert!(err.as_str().unwrap().contains("passphrase"), "{err}");
    assert!(d.list_keys().unwrap().iter().all(|k| k.name != "ops"), "nothing imported with a wrong passphrase");
    shot(s, "keys-import-wrong-passphrase");
    s.clear("#import-passphrase");
    s.type_into("#import-passphrase", "open sesame");
    s.click("dialog[open] button[type=submit]");
    s.wait("the imported key", "return !document.querySelector('dialog[open]') && document.querySelector('#keys-table tr[data-key-name=ops]')", json!([]), WAIT);
    let ops = d.find_key("ops").unwrap();
    assert!(ops.has_private);
    assert_eq!(ops.fingerprint, keygen_fingerprint(&public));
    assert_eq!(key_part(&ops.public_key), key_part(&public));

    // Make it the default: the badge moves.
    s.click("#keys-table tr[data-key-name=ops] [data-act=default]");
    s.wait("the default badge", "return /default/.test(document.querySelector('#keys-table tr[data-key-name=ops] .key-name')?.textContent)", json!([]), WAIT);
    assert!(d.find_key("ops").unwrap().is_default);
    assert_eq!(s.js("return document.querySelector('#keys-table tbody tr').dataset.keyName", json!([])), json!("ops"), "the default comes first");
    shot(s, "keys-default");

    // Rename.
    s.click("#keys-table tr[data-key-name=laptop] .key-more");
    s.wait("the key menu", "return document.querySelector('.menu')", json!([]), WAIT);
    s.js("[...document.querySelectorAll('.menu .menu-item')].find(b => b.textContent === 'Rename…').click()", json!([]));
    s.wait("the rename dialog", "return document.activeElement?.id === 'prompt-input'", json!([]), WAIT);
    s.clear("#prompt-input");
    s.type_into("#prompt-input", "old laptop");
    s.keys(ENTER);
    s.wait("the new name", "return document.querySelector('#keys-table tr[data-key-name=\"old laptop\"]')", json!([]), WAIT);

    // Export asks first (with an optional passphrase, typed twice); nothing is written unless
    // the user goes on to the save dialog.
    s.click("#keys-table tr[data-key-name=ops] .key-more");
    s.wait("the key menu", "return document.querySelector('.menu')", json!([]), WAIT);
    s.js("[...document.querySelectorAll('.menu .menu-item')].find(b => b.textContent.startsWith('Export')).click()", json!([]));
    s.wait("the export question", "return document.getElementById('export-passphrase')", json!([]), WAIT);
    s.type_into("#export-passphrase", "one");
    s.type_into("#export-passphrase-again", "two");
    s.click("dialog[open] button[type=submit]");
    s.wait(
        "the mismatch error",
        "const e = document.querySelector('.field[data-field=passphrase-again] .field-error'); return e && !e.hidden",
        json!([]),
        WAIT,
    );
    shot(s, "keys-export-asks");
    s.click("dialog[open] .dialog-buttons .btn:not([type=submit])");
    s.wait("the export dialog to close", "return !document.querySelector('dialog[open]')", json!([]), WAIT);
    assert!(!s.text("#page").contains("BEGIN OPENSSH"), "no private key in the page");

    // Delete asks first; the private half leaves the keychain.
    s.click("#keys-table tr[data-key-name=ops] .key-more");
    s.wait("the key menu", "return document.querySelector('.menu')", json!([]), WAIT);
    s.click(".menu .menu-item.danger");
    s.wait("the delete question", "return document.querySelector('dialog[open] .btn-danger')", json!([]), WAIT);
    shot(s, "keys-delete-asks");
    s.click("dialog[open] .btn-danger");
    s.wait("the key to go", "return !document.querySelector('#keys-table tr[data-key-name=ops]')", json!([]), WAIT);
    assert!(d.list_keys().unwrap().iter().all(|k| k.id != ops.id));
    assert!(Keychain::default().get(&skydeck_core::keys::key_account(&ops.id)).is_err(), "the private key left the keychain");
    shot(s, "keys-after-delete");
}
