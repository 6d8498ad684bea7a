//! End-to-end driving of the real app: tauri-driver (cargo-installed) in front of Debian's
//! WebKitWebDriver, spoken to in plain W3C WebDriver JSON over reqwest. Every scenario gets its
//! own tauri-driver (free ports), data directory and XDG dirs, so nothing leaks between them.

use crate::peer::{free_port, Peer};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const ENTER: &str = "\u{E007}";
pub const ESCAPE: &str = "\u{E00C}";

/// Why the e2e tests cannot run here, if they cannot: no display, no tauri-driver or no
/// WebKitWebDriver (which tauri-driver starts from PATH).
pub fn skip_reason() -> Option<String> {
    if std::env::var_os("DISPLAY").filter(|d| !d.is_empty()).is_none() {
        return Some("DISPLAY is not set: run the e2e tests under Xvfb (scripts/test does)".into());
    }
    if tauri_driver().is_none() {
        return Some("tauri-driver is missing: `cargo install tauri-driver --locked` (scripts/setup test)".into());
    }
    if in_path("WebKitWebDriver").is_none() {
        return Some("WebKitWebDriver is missing: install Debian's webkit2gtk-driver (scripts/setup test)".into());
    }
    None
}

/// Whether this is the README's test run (`./dev test` → scripts/test sets SKYDECK_TEST_SESSION):
/// there everything is installed, so a test that cannot run is a failure, not a skip.
pub fn in_test_session() -> bool {
    std::env::var_os("SKYDECK_TEST_SESSION").is_some_and(|v| !v.is_empty())
}

/// What a test that needs a display, drivers or a session bus does when `reason` says it
/// cannot run: inside the test session it fails with the reason; elsewhere (a developer's
/// `cargo test`) it prints the reason and returns true, and the test returns early.
pub fn skip_or_fail(test: &str, reason: Option<String>, in_session: bool) -> bool {
    let Some(why) = reason else { return false };
    assert!(!in_session, "{test} cannot run inside the test session (SKYDECK_TEST_SESSION is set): {why}");
    eprintln!("SKIPPED {test}: {why}");
    true
}

/// [`skip_or_fail`] for the WebDriver tests: true means skip (outside the test session only).
pub fn should_skip(test: &str) -> bool {
    skip_or_fail(test, skip_reason(), in_test_session())
}

fn in_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn tauri_driver() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tauri-driver"));
    in_path("tauri-driver").or(home.filter(|p| p.is_file()))
}

/// The debug build of the app (`cargo build -p skydeck`).
pub fn app_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("target"));
    let bin = target.join("debug/skydeck");
    assert!(bin.is_file(), "{} is missing: run `cargo build -p skydeck` first", bin.display());
    bin
}

/// Checks that the Secret Service answers (set + delete a probe entry) within 10 s, so a
/// locked or absent keyring fails the test with a clear message instead of hanging it.
pub fn assert_keychain_ready() {
    use skydeck_core::secrets::{Keychain, SecretStore, Secrets, Sensitive};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let k = Keychain::with_service("dev.skydeck.e2e-probe");
        let mut s = Secrets::new();
        s.insert("probe".into(), Sensitive::new("x".into()));
        let r = k.set("probe", &s).and_then(|_| k.delete("probe"));
        let _ = tx.send(r.map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("the Secret Service is not usable ({e}); run the e2e tests through scripts/test"),
        Err(_) => panic!("the Secret Service did not answer in 10 s (locked keyring?); run the e2e tests through scripts/test"),
    }
}

/// One launched app: its tauri-driver and its WebDriver session.
pub struct App {
    pub session: Session,
    pub data_dir: PathBuf,
    _driver: Peer,
}

impl App {
    /// Starts tauri-driver and the app with `data_dir` as SKYDECK_DATA_DIR and XDG dirs inside
    /// it (so UI preferences persist across launches on the same `data_dir` and nowhere else);
    /// screenshots go to `shots`.
    pub fn launch(data_dir: &Path, shots: &Path, extra_env: &[(&str, &str)]) -> App {
        let (port, native) = (free_port(), free_port());
        let mut cmd = Command::new(tauri_driver().expect("tauri-driver"));
        cmd.args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("SKYDECK_DATA_DIR", data_dir)
            .env("XDG_DATA_HOME", data_dir.join("xdg-data"))
            .env("XDG_CONFIG_HOME", data_dir.join("xdg-config"))
            .env("XDG_CACHE_HOME", data_dir.join("xdg-cache"));
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let driver = Peer::spawn("tauri-driver", cmd, port, Duration::from_secs(20));
        std::fs::create_dir_all(shots).unwrap();
        let session = Session::start(&driver.url(), &app_binary(), shots).unwrap_or_else(|e| {
            panic!("cannot start the app through WebDriver ({e}); tauri-driver/app log:\n{}", driver.log_text())
        });
        App { session, data_dir: data_dir.to_path_buf(), _driver: driver }
    }
}

/// A W3C WebDriver session.
pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
    shots: PathBuf,
    step: std::cell::Cell<u32>,
}

#[derive(Debug)]
pub struct WdError {
    pub error: String,
    pub message: String,
}

impl Session {
    fn start(driver_url: &str, app: &Path, shots: &Path) -> Result<Session, String> {
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app}
        }}});
        // The app starts in about a second; much longer means it failed (see the log).
        // tauri-driver starts WebKitWebDriver itself and may forward the first request before
        // that one listens: it then drops the connection (nothing was started), so retry.
        let mut attempt = 0;
        let v: Value = loop {
            attempt += 1;
            match http.post(format!("{driver_url}/session")).timeout(Duration::from_secs(30)).json(&caps).send() {
                Ok(r) => break r.json().map_err(|e| e.to_string())?,
                Err(e) if (e.is_connect() || e.is_request()) && attempt < 6 => {
                    std::thread::sleep(Duration::from_millis(500 * attempt));
                }
                Err(e) => return Err(e.to_string()),
            }
        };
        let id = v["value"]["sessionId"].as_str().ok_or_else(|| format!("no session id in {v}"))?.to_string();
        Ok(Session { http, base: format!("{driver_url}/session/{id}"), shots: shots.to_path_buf(), step: Default::default() })
    }

    /// One command. tauri-driver may have kept a pooled connection to WebKitWebDriver that the
    /// latter already closed (seen right after screenshots): the request then never reached
    /// the browser and fails at connection level, so it is sent once more.
    pub fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, WdError> {
        let url = format!("{}{path}", self.base);
        let send = || {
            let mut req = self.http.request(method.clone(), &url);
            if let Some(b) = &body {
                req = req.json(b);
            }
            req.send()
        };
        // Connection-level failures (and tauri-driver's own 5xx without a WebDriver body when
        // it could not reach WebKitWebDriver) mean the command never reached the browser:
        // resend, a few times with growing pauses.
        let mut attempt = 0u64;
        let resp = loop {
            attempt += 1;
            match send() {
                Ok(r) if r.status().is_server_error() && attempt < 4 => {
                    let status = r.status();
                    let text = r.text().unwrap_or_default();
                    match serde_json::from_str::<Value>(&text) {
                        Ok(v) if v["value"]["error"].is_string() => {
                            return Err(WdError {
                                error: v["value"]["error"].as_str().unwrap_or("unknown").to_string(),
                                message: v["value"]["message"].as_str().unwrap_or_default().to_string(),
                            })
                        }
                        _ => eprintln!("WebDriver {method} {path}: {status} from the driver ({text}); resending"),
                    }
                }
                Ok(r) => break r,
                Err(e) if (e.is_connect() || e.is_request()) && attempt < 4 => {}
                Err(e) => panic!("WebDriver {method} {path}: {e}"),
            }
            std::thread::sleep(Duration::from_millis(200 * attempt));
        };
        let ok = resp.status().is_success();
        let v: Value = resp.json().unwrap_or(Value::Null);
        if ok {
            Ok(v["value"].clone())
        } else {
            Err(WdError {
                error: v["value"]["error"].as_str().unwrap_or("unknown").to_string(),
                message: v["value"]["message"].as_str().unwrap_or_default().to_string(),
            })
        }
    }

    fn ok(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.call(method.clone(), path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {} ({})", e.error, e.message))
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.ok(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": args})))
    }

    /// Runs an async script: it calls its last argument with the result.
    pub fn js_async(&self, script: &str, args: Value) -> Value {
        self.ok(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": args})))
    }

    /// Polls `script` until it returns something truthy; on timeout saves a screenshot and fails
    /// with what the page showed.
    pub fn wait(&self, what: &str, script: &str, args: Value, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let v = self.js(script, args.clone());
            let truthy = !matches!(&v, Value::Null | Value::Bool(false))
                && v != json!(0)
                && v != json!("")
                && v != json!([]);
            if truthy {
                return v;
            }
            if start.elapsed() > timeout {
                let shot = self.screenshot(&format!("timeout-{}", what.replace(' ', "-")));
                let text = self.js("return document.body.innerText.slice(0, 3000)", json!([]));
                panic!("timed out after {timeout:?} waiting for {what}; screenshot {}; page text:\n{}", shot.display(), text.as_str().unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Clicks `css` until `script` holds (as [`Session::wait`]): a live refresh can re-render
    /// the details panel between the lookup and the click, and the click then lands on a
    /// button that is already gone. Each click gets a few seconds before it is repeated.
    pub fn click_until(&self, css: &str, what: &str, script: &str, args: Value, timeout: Duration) -> Value {
        for _ in 0..3 {
            self.click(css);
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(4) {
                let v = self.js(script, args.clone());
                if !matches!(&v, Value::Null | Value::Bool(false)) {
                    return v;
                }
                std::thread::sleep(Duration::from_millis(150));
            }
        }
        self.click(css);
        self.wait(what, script, args, timeout)
    }

    pub fn find(&self, css: &str) -> String {
        let v = self.ok(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css})));
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element id for {css}: {v}")).to_string()
    }

    pub fn count(&self, css: &str) -> usize {
        self.js("return document.querySelectorAll(arguments[0]).length", json!([css])).as_u64().unwrap_or(0) as usize
    }

    /// Clicks the element `css` names. The UI re-renders parts of the page when a live refresh
    /// arrives (e.g. the bulk bar), so an element found a moment ago can be replaced before the
    /// click lands: then it is looked up again, a few times, instead of failing on a race.
    pub fn click(&self, css: &str) {
        let path = |id: &str| format!("/element/{id}/click");
        for _ in 0..4 {
            let id = self.find(css);
            match self.call(reqwest::Method::POST, &path(&id), Some(json!({}))) {
                Err(e) if e.error == "stale element reference" => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => panic!("WebDriver click on {css}: {} ({})", e.error, e.message),
                Ok(_) => return,
            }
        }
        let id = self.find(css);
        self.ok(reqwest::Method::POST, &path(&id), Some(json!({})));
    }

    /// Types into an element (clicking it first, as a user would).
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.ok(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text})));
    }

    pub fn clear(&self, css: &str) {
        let id = self.find(css);
        self.ok(reqwest::Method::POST, &format!("/element/{id}/clear"), Some(json!({})));
    }

    pub fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.ok(reqwest::Method::GET, &format!("/element/{id}/text"), None).as_str().unwrap_or_default().to_string()
    }

    /// Presses keys on whatever has the focus (WebDriver key codes such as [`ENTER`] allowed).
    pub fn keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| [json!({"type": "keyDown", "value": c.to_string()}), json!({"type": "keyUp", "value": c.to_string()})])
            .collect();
        self.ok(reqwest::Method::POST, "/actions", Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})));
    }

    /// The text of an open alert/confirm/prompt, if any.
    pub fn alert_text(&self) -> Option<String> {
        self.call(reqwest::Method::GET, "/alert/text", None).ok().map(|v| v.as_str().unwrap_or_default().to_string())
    }

    pub fn set_window_size(&self, width: u32, height: u32) {
        self.ok(reqwest::Method::POST, "/window/rect", Some(json!({"width": width, "height": height})));
    }

    /// Saves a screenshot of the webview as `<NN>-<name>.png` in the scenario's folder.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let n = self.step.get() + 1;
        self.step.set(n);
        // WebKit's snapshot can show the frame before the last DOM update: let the page paint.
        self.js_async(
            "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)));",
            json!([]),
        );
        let b64 = self.ok(reqwest::Method::GET, "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .expect("screenshot is base64");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        let path = self.shots.join(format!("{n:02}-{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closes the app; tauri-driver itself is killed with its Peer.
        let _ = self.http.delete(&self.base).send();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_skips_outside_the_test_session() {
        assert!(!skip_or_fail("e2e", None, true), "nothing missing: the test runs");
        assert!(!skip_or_fail("e2e", None, false));
        assert!(skip_or_fail("e2e", Some("DISPLAY is not set".into()), false), "a developer's cargo test skips");
    }

    #[test]
    #[should_panic(expected = "e2e cannot run inside the test session (SKYDECK_TEST_SESSION is set): tauri-driver is missing")]
    fn a_missing_tool_fails_inside_the_test_session() {
        skip_or_fail("e2e", Some("tauri-driver is missing".into()), true);
    }
}
