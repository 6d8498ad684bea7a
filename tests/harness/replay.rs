//! A small replay server for recorded provider responses (../shared/fixtures/libcloud/<dir>),
//! for providers with no emulator. It imitates libcloud's `MockHttp` (see INDEX.md): the
//! answer is chosen by the URL path turned into a handler name (`/cloud/servers/` →
//! `_cloud_servers`), plus the HTTP method, plus an optional named scenario (libcloud's
//! `type`, e.g. "UNAUTHORIZED") that selects an alternate answer for the same request. Host
//! and query string do not choose anything; every request is recorded (method, path, query,
//! body) for the test to check.
//!
//! It runs on its own thread and runtime on 127.0.0.1 (free port), so it outlives no test and
//! needs no particular runtime; dropping it stops it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};

/// One canned answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// 200 with a recorded fixture of `dir` as JSON.
    pub fn fixture(dir: &str, file: &str) -> Reply {
        Reply::json(200, crate::fixture(dir, file))
    }

    /// `status` with a JSON body written by the test (for answers no fixture recorded).
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply { status, body: body.into(), headers: vec![("content-type".into(), "application/json".into())] }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// What a client sent, and what it got.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub body: String,
    /// The libcloud-style handler name the path maps to.
    pub handler: String,
    pub scenario: Option<String>,
    pub status: u16,
}

impl Recorded {
    /// The decoded value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_deref()?.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }

    /// The request body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

struct Route {
    scenario: Option<String>,
    /// A method, or "*" for any.
    method: String,
    /// A handler name, or "*" for any.
    handler: String,
    replies: Vec<Reply>,
    served: usize,
}

impl Route {
    fn matches(&self, scenario: Option<&str>, method: &str, handler: &str) -> bool {
        self.scenario.as_deref() == scenario
            && (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && (self.handler == "*" || self.handler == handler)
    }

    /// Exact method and handler first, wildcards last.
    fn specificity(&self) -> u8 {
        u8::from(self.method != "*") + 2 * u8::from(self.handler != "*")
    }
}

#[derive(Default)]
struct Inner {
    routes: Vec<Route>,
    scenario: Option<String>,
    requests: Vec<Recorded>,
}

/// libcloud's handler name for a URL path: trailing `/` dropped, then `/`, `.` and `-` → `_`.
pub fn handler_name(path: &str) -> String {
    let p = path.strip_suffix('/').unwrap_or(path);
    p.chars().map(|c| if matches!(c, '/' | '.' | '-') { '_' } else { c }).collect()
}

pub struct Replay {
    /// The fixture folder under ../shared/fixtures/libcloud.
    pub dir: String,
    port: u16,
    inner: Arc<Mutex<Inner>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Replay {
    /// Starts an empty replay server for fixtures of `dir` on 127.0.0.1.
    pub fn start(dir: &str) -> Replay {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = inner.clone();
        let thread = std::thread::Builder::new()
            .name(format!("replay-{dir}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let app = axum::Router::new().fallback(answer).with_state(state);
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })
            .expect("spawn the replay thread");
        Replay { dir: dir.to_string(), port, inner, stop: Some(stop), thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers `method` (or "*") on `handler` (or "*") with the fixture `file` of this folder.
    pub fn serve(&self, method: &str, handler: &str, file: &str) -> &Self {
        self.route(None, method, handler, [Reply::fixture(&self.dir, file)])
    }

    /// Answers `method` on `handler` with `replies`, one per request in order, the last one
    /// repeated; in `scenario` only, or always when `scenario` is `None`. Routes of the
    /// active scenario win over plain ones; exact method and handler win over "*".
    pub fn route(
        &self,
        scenario: Option<&str>,
        method: &str,
        handler: &str,
        replies: impl IntoIterator<Item = Reply>,
    ) -> &Self {
        let replies: Vec<Reply> = replies.into_iter().collect();
        assert!(!replies.is_empty(), "a route needs at least one reply");
        let mut inner = self.inner.lock().unwrap();
        inner.routes.retain(|r| !(r.scenario.as_deref() == scenario && r.method == method && r.handler == handler));
        inner.routes.push(Route {
            scenario: scenario.map(str::to_string),
            method: method.to_string(),
            handler: handler.to_string(),
            replies,
            served: 0,
        });
        inner.routes.sort_by_key(|r| std::cmp::Reverse(r.specificity()));
        self
    }

    /// Selects the scenario (libcloud's `type`) for the following requests; `None` = default.
    pub fn set_scenario(&self, scenario: Option<&str>) {
        self.inner.lock().unwrap().scenario = scenario.map(str::to_string);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Returns and forgets what was recorded so far.
    pub fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut self.inner.lock().unwrap().requests)
    }

    /// The recorded requests with this method and handler name.
    pub fn find(&self, method: &str, handler: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.method == method && r.handler == handler).collect()
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn answer(State(inner): State<Arc<Mutex<Inner>>>, method: Method, uri: Uri, body: Bytes) -> Response {
    let handler = handler_name(uri.path());
    let mut guard = inner.lock().unwrap();
    let inner = &mut *guard;
    let scenario = inner.scenario.clone();
    let pick = |routes: &[Route], scenario: Option<&str>| {
        routes.iter().position(|r| r.matches(scenario, method.as_str(), &handler))
    };
    let found = scenario.as_deref().and_then(|s| pick(&inner.routes, Some(s))).or_else(|| pick(&inner.routes, None));
    let reply = match found {
        Some(i) => {
            let r = &mut inner.routes[i];
            let reply = r.replies[r.served.min(r.replies.len() - 1)].clone();
            r.served += 1;
            reply
        }
        // 501, not 404: a missing route is a test bug, never a provider's "not found".
        None => Reply::json(
            501,
            serde_json::json!({ "replay_error": format!("no route for {method} {handler} (scenario {scenario:?})") })
                .to_string(),
        ),
    };
    inner.requests.push(Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        body: String::from_utf8_lossy(&body).into_owned(),
        handler,
        scenario,
        status: reply.status,
    });
    let mut resp = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (k, v) in &reply.headers {
        resp.headers_mut().insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
    }
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn handler_names_follow_libcloud() {
        assert_eq!(super::handler_name("/cloud/servers/"), "_cloud_servers");
        assert_eq!(super::handler_name("/v2/droplets/3164444/actions"), "_v2_droplets_3164444_actions");
        assert_eq!(super::handler_name("/a.b-c"), "_a_b_c");
    }
}
