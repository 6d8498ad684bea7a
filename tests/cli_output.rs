//! What `skydeck-cli` prints and writes when the data comes from a hostile cloud or lands on a
//! hostile path: provider strings are inert in tables and error lines, an exported private key
//! is 0600 whatever was at the target, and --verbose/RUST_LOG logs go to stderr without secrets.

use skydeck_core::model::{Cloud, Machine};
use skydeck_core::store::Store;
use skydeck_core::ErrorBody;
use std::path::Path;
use std::process::{Command, Output};

const EVIL_NAME: &str = "web\u{1b}]0;pwned\u{7}\u{202e}gpj.exe";
const EVIL_TITLE: &str = "evil\u{1b}[2J\ncloud";

fn cli(data: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(skydeck_tests::cli_bin());
    c.args(args).env("SKYDECK_DATA_DIR", data).env_remove("RUST_LOG");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// No escape, bell, line break inside a cell, or bidi control survives.
fn assert_inert(out: &str) {
    for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}', '\u{2066}', '\r'] {
        assert!(!out.contains(bad), "{bad:?} reached the terminal: {out:?}");
    }
}

fn seed(data: &Path) {
    let store = Store::open(&data.join("skydeck.db")).unwrap();
    store
        .insert_cloud(&Cloud {
            id: "c1".into(),
            provider: "ec2".into(),
            title: EVIL_TITLE.into(),
            enabled: true,
            fields: Default::default(),
            created_at: "2024-06-01T00:00:00Z".into(),
        })
        .unwrap();
    let mut m = Machine::new("i-1", EVIL_NAME, "running");
    m.cloud_id = "c1".into();
    m.location = "eu\u{7}west".into();
    m.public_ips = vec!["198.51.100.7".into()];
    store.replace_machines("c1", &[m], "2024-06-01T00:00:00Z").unwrap();
    let e = ErrorBody { code: "unavailable".into(), message: "down\u{1b}[31m\nFAKE ROW\u{2067}".into(), field: None };
    store.record_refresh_error("c1", &e, "2024-06-01T00:01:00Z").unwrap();
}

#[test]
fn control_characters_from_a_cloud_come_out_inert_in_tables() {
    let data = tempfile::tempdir().unwrap();
    seed(data.path());

    let o = cli(data.path(), &["machines", "--cached"], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_inert(&out);
    assert_eq!(out.lines().count(), 2, "a header and one row, nothing forged: {out:?}");
    assert!(out.contains("web\u{FFFD}]0;pwned\u{FFFD}\u{FFFD}gpj.exe"), "the name stays readable: {out:?}");
    assert!(out.contains("evil\u{FFFD}[2J cloud"), "{out:?}");

    let o = cli(data.path(), &["cloud", "list"], &[]);
    let out = text(&o.stdout);
    assert_inert(&out);
    assert_eq!(out.lines().count(), 2, "{out:?}");
    assert!(out.contains("unavailable: down\u{FFFD}[31m FAKE ROW\u{FFFD}"), "{out:?}");

    // --json keeps the data as it is (escaped as JSON requires): it is for programs.
    let o = cli(data.path(), &["machines", "--cached", "--json"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["name"], EVIL_NAME);
}

#[test]
fn an_error_line_made_of_provider_text_stays_one_inert_line() {
    let data = tempfile::tempdir().unwrap();
    seed(data.path());
    // The machine reference is echoed in the not-found message.
    let o = cli(data.path(), &["machine", "rename", "no\u{1b}]0;x\u{7}\nsuch", "x"], &[]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_inert(&err);
    assert_eq!(err.trim_end().lines().count(), 1, "{err:?}");
}

#[test]
fn verbose_and_rust_log_log_to_stderr_and_never_a_secret() {
    let data = tempfile::tempdir().unwrap();
    let quiet = cli(data.path(), &["cloud", "list"], &[]);
    assert!(quiet.status.success());
    assert_eq!(text(&quiet.stderr), "", "no log lines unless asked");

    let verbose = cli(data.path(), &["--verbose", "cloud", "list"], &[]);
    assert!(text(&verbose.stderr).contains("opening the store"), "{}", text(&verbose.stderr));
    assert_eq!(verbose.stdout, quiet.stdout, "logs never mix into the output");
    let env = cli(data.path(), &["cloud", "list"], &[("RUST_LOG", "skydeck_cli=debug")]);
    assert!(text(&env.stderr).contains("opening the store"), "{}", text(&env.stderr));

    // Everything logged, at trace, while a cloud with a secret fails its connection test.
    let port = skydeck_tests::peer::free_port();
    let secret = "SKYDECKtestSECRETvalue0123456789abcdefgh";
    let o = cli(
        data.path(),
        &[
            "--verbose", "cloud", "add", "ec2", "--title", "t",
            "--field", "access_key_id=AKIAEXAMPLEEXAMPLE01",
            "--field", "regions=us-east-1",
            "--field", &format!("endpoint=http://127.0.0.1:{port}"),
        ],
        &[("SKYDECK_FIELD_SECRET_ACCESS_KEY", secret), ("RUST_LOG", "trace")],
    );
    assert!(!o.status.success(), "nothing listens there");
    let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(all.lines().count() > 1, "trace logging is on: {all}");
    assert!(!all.contains(secret) && !all.contains(&secret[10..30]), "the secret leaked: {all}");
}

#[cfg(unix)]
#[test]
fn keys_export_makes_a_0600_file_over_a_0644_one_and_never_writes_through_a_symlink() {
    use std::os::unix::fs::PermissionsExt;
    if !skydeck_tests::keychain_ready() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let name = format!("export-{}", std::process::id());
    let o = cli(data.path(), &["keys", "generate", &name], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
    let out = tempfile::tempdir().unwrap();

    // An existing world-readable file: replaced by a 0600 one.
    let existing = out.path().join("id_existing");
    std::fs::write(&existing, "old").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = cli(data.path(), &["keys", "export", &name, "--out", existing.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(mode(&existing), 0o600);
    assert!(std::fs::read_to_string(&existing).unwrap().starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));

    // A symlink: the link is replaced, the file it named is untouched.
    let victim = out.path().join("bashrc");
    std::fs::write(&victim, "export PS1=x\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = out.path().join("id_link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let o = cli(data.path(), &["keys", "export", &name, "--out", link.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "export PS1=x\n");
    assert_eq!(mode(&victim), 0o644);
    assert!(!std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(mode(&link), 0o600);

    let o = cli(data.path(), &["keys", "delete", &name, "--yes"], &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}
