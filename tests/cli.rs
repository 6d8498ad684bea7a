//! `skydeck-cli` end to end: real binary, real keychain (Secret Service), a local API.
//! Output contracts: `machines --json` fields, one-line `<code>: …` errors, exit codes.

use skydeck_tests::slow_api::SlowApi;
use std::process::{Command, Output};
use std::sync::atomic::Ordering;
use std::time::Duration;

struct Cli {
    data: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Cli { data: tempfile::tempdir().unwrap() }
    }
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
    /// Runs a command that must fail; returns its single stderr line.
    fn err(&self, args: &[&str], envs: &[(&str, &str)]) -> String {
        let o = self.run(args, envs);
        assert!(!o.status.success(), "{args:?} should fail");
        let e = String::from_utf8(o.stderr).unwrap();
        assert_eq!(e.trim_end().lines().count(), 1, "errors are one line: {e}");
        e.trim_end().to_string()
    }
}

#[test]
fn providers_lists_ids_and_credential_fields() {
    let cli = Cli::new();
    let json: serde_json::Value = serde_json::from_str(&cli.ok(&["providers", "--json"], &[])).unwrap();
    let find = |id: &str| json.as_array().unwrap().iter().find(|p| p["id"] == id).cloned().unwrap_or_else(|| panic!("{id} missing"));
    let keys = |p: &serde_json::Value| p["fields"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let ec2 = find("ec2");
    assert_eq!(keys(&ec2), ["access_key_id", "secret_access_key", "regions", "endpoint"]);
    let secret = ec2["fields"].as_array().unwrap().iter().find(|f| f["key"] == "secret_access_key").unwrap();
    assert_eq!(secret["kind"], "secret");
    let endpoint = ec2["fields"].as_array().unwrap().iter().find(|f| f["key"] == "endpoint").unwrap();
    assert_eq!(endpoint["advanced"], true);
    assert_eq!(endpoint["required"], false);
    assert_eq!(keys(&find("digitalocean")), ["token", "endpoint"]);
    let human = cli.ok(&["providers"], &[]);
    assert!(human.contains("--field secret_access_key=") && human.contains("DigitalOcean"), "{human}");
}

#[tokio::test(flavor = "multi_thread")]
async fn add_list_machines_and_remove_a_cloud() {
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let api = SlowApi::start(Duration::from_millis(1), 3).await;
    let cli = Cli::new();
    assert!(cli.ok(&["cloud", "list"], &[]).contains("No clouds yet"));
    let endpoint = format!("endpoint={}", api.url());
    let id = cli.ok(&["cloud", "add", "digitalocean", "--title", "home", "--field", &endpoint], &[("SKYDECK_FIELD_TOKEN", "tok-cli-1")]);
    let id = id.trim();
    assert_eq!(id.len(), 36, "prints the new cloud's id: {id}");

    let clouds: serde_json::Value = serde_json::from_str(&cli.ok(&["cloud", "list", "--json"], &[])).unwrap();
    assert_eq!(clouds[0]["id"], id);
    assert_eq!(clouds[0]["provider"], "digitalocean");
    assert!(!clouds.to_string().contains("tok-cli-1"));

    let machines: serde_json::Value = serde_json::from_str(&cli.ok(&["machines", "--json"], &[])).unwrap();
    let list = machines.as_array().unwrap();
    assert_eq!(list.len(), 3);
    for key in ["id", "cloud_id", "provider", "name", "state", "raw_state", "location", "size", "image", "public_ips", "private_ips", "tags", "created_at", "stale"] {
        assert!(list[0].get(key).is_some(), "machines --json lacks {key}: {}", list[0]);
    }
    assert_eq!(list[0]["cloud_id"], id);
    assert!(list[0]["tags"].is_object());
    assert_eq!(list[0]["stale"], false);
    let states: Vec<_> = list.iter().map(|m| m["state"].as_str().unwrap()).collect();
    assert!(states.contains(&"stopped") && states.contains(&"running"), "{states:?}");

    // With the API down, --cached still shows the last inventory, and a refresh marks it stale.
    api.force_status.store(503, Ordering::Relaxed);
    let cached: serde_json::Value = serde_json::from_str(&cli.ok(&["machines", "--cached", "--json"], &[])).unwrap();
    assert_eq!(cached.as_array().unwrap().len(), 3);
    let o = cli.run(&["machines", "--json"], &[]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("stale: cloud 'home'"));
    let stale: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(stale.as_array().unwrap().iter().all(|m| m["stale"] == true));
    let table = cli.ok(&["machines", "--cached"], &[]);
    assert!(table.contains("(stale)") && table.contains("home"), "{table}");

    cli.ok(&["cloud", "remove", "home"], &[]);
    assert_eq!(cli.ok(&["cloud", "list", "--json"], &[]).trim(), "[]");
    assert_eq!(cli.ok(&["machines", "--cached", "--json"], &[]).trim(), "[]");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_one_line_with_their_code_and_leak_no_secret() {
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let api = SlowApi::start(Duration::from_millis(1), 1).await;
    let cli = Cli::new();
    let endpoint = format!("endpoint={}", api.url());
    api.force_status.store(401, Ordering::Relaxed);
    let e = cli.err(&["cloud", "add", "digitalocean", "--title", "x", "--field", &endpoint, "--field", "token=tok-wrong-42"], &[]);
    assert!(e.starts_with("unauthenticated: "), "{e}");
    assert!(!e.contains("tok-wrong-42"));
    assert_eq!(cli.ok(&["cloud", "list", "--json"], &[]).trim(), "[]", "a failed test saves nothing");

    let e = cli.err(&["cloud", "add", "nosuch", "--title", "x"], &[]);
    assert!(e.starts_with("invalid_input: unknown provider 'nosuch'"), "{e}");
    let e = cli.err(&["cloud", "add", "digitalocean", "--title", "x", "--field", "tokn=abc"], &[]);
    assert!(e.starts_with("invalid_input: ") && e.contains("token"), "{e}");
    let e = cli.err(&["cloud", "add", "digitalocean", "--title", "x", "--field", "s3cretwithoutkey"], &[]);
    assert!(!e.contains("s3cretwithoutkey"), "a malformed --field is not echoed: {e}");
    let e = cli.err(&["cloud", "add", "digitalocean", "--title", "x"], &[]);
    assert!(e.starts_with("invalid_input: API token is required") || e.starts_with("invalid_input: "), "{e}");

    api.force_status.store(0, Ordering::Relaxed);
    cli.ok(&["cloud", "add", "digitalocean", "--title", "x", "--field", &endpoint], &[("SKYDECK_FIELD_TOKEN", "tok-right")]);
    let e = cli.err(&["cloud", "add", "digitalocean", "--title", "x", "--field", &endpoint], &[("SKYDECK_FIELD_TOKEN", "tok-right")]);
    assert!(e.starts_with("invalid_input: a cloud titled 'x' already exists"), "{e}");
    let e = cli.err(&["machine", "start", "no-such-machine"], &[]);
    assert!(e.starts_with("not_found: "), "{e}");
    let e = cli.err(&["cloud", "remove", "nope"], &[]);
    assert!(e.starts_with("not_found: "), "{e}");

    let ms: serde_json::Value = serde_json::from_str(&cli.ok(&["machines", "--json"], &[])).unwrap();
    let id = ms[0]["id"].as_str().unwrap().to_string();
    let e = cli.err(&["machine", "destroy", &id], &[]);
    assert!(e.starts_with("invalid_input: ") && e.contains("--yes"), "destroy without a terminal asks for --yes: {e}");
    cli.ok(&["cloud", "remove", "x"], &[]);
}
