//! Shared pieces of the fault-injection suite (`tests/faults/`, `tests/broker/`): a request load, the tally of
//! what happened to every request, the `RELIABILITY|…` line the suite prints (collected into
//! RELIABILITY.md by `scripts/reliability`), a misbehaving HTTP proxy in front of osmem, a platform
//! that comes up late, and the daemon as a child process.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpListener;

use crate::testkit::fake_opencti::{ipv4, FakeOpenCti, WorkRecord};

// ------------------------------------------------------------------ load

/// Requests of one scenario: (work id, entity id).
pub struct Load {
    pub works: Vec<(String, String)>,
}

/// A public IPv4 value for request `i` (private ones are not searched by default); every third
/// one appears in the sample alerts.
pub fn ip_for(i: usize) -> String {
    const SEEN: &[&str] = &[
        "24.243.97.14",
        "218.92.0.222",
        "45.75.196.15",
        "207.45.34.78",
    ];
    if i.is_multiple_of(3) {
        SEEN[i / 3 % SEEN.len()].to_string()
    } else {
        format!("81.{}.{}.{}", 20 + i / 60_000, i / 250 % 240, i % 250)
    }
}

impl Load {
    /// Creates `n` IPv4 entities and works, without publishing.
    pub fn prepare(octi: &FakeOpenCti, n: usize) -> Load {
        Self::prepare_values(octi, (0..n).map(ip_for))
    }

    /// Creates one IPv4 entity and work per value.
    pub fn prepare_values(octi: &FakeOpenCti, values: impl IntoIterator<Item = String>) -> Load {
        let works = values
            .into_iter()
            .map(|v| (octi.new_work(), octi.add_entity(ipv4(&v, None))))
            .collect();
        Load { works }
    }

    /// Publishes every request (manual enrichment, entity in the message).
    pub async fn publish(&self, octi: &FakeOpenCti) {
        for (w, id) in &self.works {
            octi.publish_request(&octi.manual_request(w, id, true))
                .await;
        }
    }

    /// Publishes in the background (so faults can hit while requests are still arriving).
    pub fn publish_slowly(
        &self,
        octi: &Arc<FakeOpenCti>,
        pause: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let msgs: Vec<Value> = self
            .works
            .iter()
            .map(|(w, id)| octi.manual_request(w, id, true))
            .collect();
        let octi = octi.clone();
        tokio::spawn(async move {
            for m in msgs {
                octi.publish_request(&m).await;
                tokio::time::sleep(pause).await;
            }
        })
    }

    /// Works ended (`toProcessed`) and fully imported.
    pub fn finished(&self, octi: &FakeOpenCti) -> usize {
        self.works
            .iter()
            .filter(|(w, _)| octi.work(w).is_some_and(|r| done(&r)))
            .count()
    }

    /// Works that have at least been received.
    pub fn started(&self, octi: &FakeOpenCti) -> usize {
        self.works
            .iter()
            .filter(|(w, _)| octi.work(w).is_some_and(|r| r.received > 0))
            .count()
    }

    /// Waits until `n` works finished (or `timeout`); returns how many did.
    pub async fn wait_finished(&self, octi: &FakeOpenCti, n: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let f = self.finished(octi);
            if f >= n || Instant::now() >= deadline {
                return f;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every work finished; panics with the unfinished ones otherwise.
    pub async fn wait_all(&self, octi: &FakeOpenCti, timeout: Duration) {
        let n = self.works.len();
        let f = self.wait_finished(octi, n, timeout).await;
        if f < n {
            let missing: Vec<_> = self
                .works
                .iter()
                .filter_map(|(w, _)| {
                    let r = octi.work(w);
                    (!r.as_ref().is_some_and(done)).then(|| format!("{w}: {r:?}"))
                })
                .take(5)
                .collect();
            let conn = crate::testkit::rabbit::connect().await;
            let waiting = crate::testkit::rabbit::depth(&conn, &octi.push_queue()).await;
            panic!(
                "{} of {n} requests never finished (lost?): {missing:#?}\n\
                 push queue: {waiting} message(s) not imported; the test worker (re)connected \
                 {} time(s) and imported {} message(s)",
                n - f,
                octi.worker_connections(),
                octi.push_messages().len(),
            );
        }
    }
}

fn done(r: &WorkRecord) -> bool {
    r.processed_calls > 0 && r.imported >= r.expected
}

// ------------------------------------------------------------------ tally

/// What happened to one scenario's requests.
#[derive(Debug, Default)]
pub struct Tally {
    pub published: usize,
    pub ok: usize,
    pub in_error: usize,
    /// Error messages, with how many works carry each.
    pub errors: Vec<(String, usize)>,
    /// Requests delivered (received) more than once.
    pub redelivered: usize,
    /// Works ended (`toProcessed`) more than once.
    pub completed_twice: usize,
    pub objects_pushed: usize,
    /// Same object id pushed more than once for the same request.
    pub duplicates: usize,
    /// Requests never ended.
    pub lost: usize,
}

impl Tally {
    pub fn collect(octi: &FakeOpenCti, load: &Load) -> Tally {
        let mut t = Tally {
            published: load.works.len(),
            ..Default::default()
        };
        let mut errors: HashMap<String, usize> = HashMap::new();
        for (w, _) in &load.works {
            let Some(r) = octi.work(w) else {
                t.lost += 1;
                continue;
            };
            if !done(&r) {
                t.lost += 1;
            } else if r.in_error {
                t.in_error += 1;
                for e in &r.errors {
                    *errors.entry(e.clone()).or_default() += 1;
                }
            } else {
                t.ok += 1;
            }
            if r.received > 1 {
                t.redelivered += 1;
            }
            if r.processed_calls > 1 {
                t.completed_twice += 1;
            }
            let pushed = octi.pushed_objects(w);
            t.objects_pushed += pushed.len();
            let mut seen = HashSet::new();
            for o in &pushed {
                if let Some(id) = o["id"].as_str() {
                    if !seen.insert(id.to_string()) {
                        t.duplicates += 1;
                    }
                }
            }
        }
        if std::env::var("FAULT_DEBUG").is_ok() {
            for (w, _) in load.works.iter().take(8) {
                eprintln!("{w}: {:?}", octi.work(w));
            }
        }
        let mut errors: Vec<_> = errors.into_iter().collect();
        errors.sort();
        t.errors = errors;
        t
    }

    /// The suite's common promises: nothing lost, a work ended twice only when its request was
    /// redelivered (at most `max_redelivered_completions` of them: the deliveries in flight when
    /// the fault hit), and every error message names its cause (one of `causes`).
    pub fn assert_promises(&self, max_redelivered_completions: usize, causes: &[&str]) {
        assert_eq!(self.lost, 0, "requests lost: {self:#?}");
        assert_eq!(self.ok + self.in_error, self.published, "{self:#?}");
        assert!(
            self.completed_twice <= max_redelivered_completions,
            "{} works ended more than once (allowed {max_redelivered_completions}): {self:#?}",
            self.completed_twice
        );
        assert!(
            self.completed_twice <= self.redelivered,
            "a work was ended twice without being redelivered: {self:#?}"
        );
        for (msg, _) in &self.errors {
            assert!(
                causes.iter().any(|c| msg.contains(c)),
                "error message does not name its cause ({causes:?}): {msg}"
            );
        }
    }

    /// Prints the `RELIABILITY|…` line for RELIABILITY.md.
    pub fn report(&self, scenario: &str, test: &str, notes: &str) {
        let errors = self
            .errors
            .iter()
            .map(|(m, n)| format!("{n}× {}", m.chars().take(160).collect::<String>()))
            .collect::<Vec<_>>()
            .join("; ");
        println!(
            "RELIABILITY|{scenario}|{test}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
            self.published,
            self.ok,
            self.in_error,
            self.redelivered,
            self.completed_twice,
            self.objects_pushed,
            self.duplicates,
            self.lost,
            notes.replace('|', "/"),
            errors.replace('|', "/"),
        );
    }
}

// ------------------------------------------------------------------ misbehaving indexer proxy

/// What the proxy does to the requests passing through.
#[derive(Debug, Default)]
pub struct ProxyRules {
    /// Answer this status (with an OpenSearch-style error body) until the instant.
    pub status_until: Option<(u16, Instant)>,
    /// Hold every request this long before forwarding it, until the instant.
    pub delay_until: Option<(Duration, Instant)>,
    /// Requests whose body contains the marker get this status and body instead.
    pub by_body: Vec<(String, u16, String)>,
    /// Requests whose body contains the marker are held this long before being forwarded: one
    /// request stays in flight as long as the test needs. Counted in `held_by_body`.
    pub hold_by_body: Vec<(String, Duration)>,
    pub held_by_body: u64,
    /// Requests seen, and requests answered by a rule.
    pub seen: u64,
    pub tampered: u64,
    pub delayed: u64,
    /// Requests being forwarded now, the most at once, and the requests seen by kind
    /// ([`request_kind`]).
    pub in_flight: u64,
    pub peak_in_flight: u64,
    pub kinds: HashMap<&'static str, u64>,
}

/// What an indexer request is, from its path and body: `probe` (matches nothing),
/// `aggs` (aggregations), `facts` (fields of every matching alert), `search` (a plain search), or
/// `other`.
pub fn request_kind(path: &str, body: &str) -> &'static str {
    if !path.contains("_search") {
        "other"
    } else if body.contains("match_none") {
        "probe"
    } else if body.contains("\"aggs\"") {
        "aggs"
    } else if path.contains("filter_path") {
        "facts"
    } else {
        "search"
    }
}

/// A plain-HTTP proxy in front of osmem that misbehaves on command.
pub struct FlakyProxy {
    pub url: String,
    pub rules: Arc<Mutex<ProxyRules>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy_handle(
    req: hyper::Request<hyper::body::Incoming>,
    upstream: Arc<String>,
    rules: Arc<Mutex<ProxyRules>>,
    http: reqwest::Client,
) -> Result<Response<Body>, Infallible> {
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let auth = req.headers().get(hyper::header::AUTHORIZATION).cloned();
    let body = axum::body::to_bytes(Body::new(req.into_body()), 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).into_owned();
    let (status, delay, special) = {
        let mut r = rules.lock().unwrap();
        r.seen += 1;
        *r.kinds.entry(request_kind(&path, &text)).or_default() += 1;
        let now = Instant::now();
        let status = r.status_until.filter(|(_, t)| now < *t).map(|(s, _)| s);
        let hold = r
            .hold_by_body
            .iter()
            .find(|(m, _)| text.contains(m.as_str()))
            .map(|(_, d)| *d);
        if hold.is_some() {
            r.held_by_body += 1;
        }
        let delay = r
            .delay_until
            .filter(|(_, t)| now < *t)
            .map(|(d, _)| d)
            .max(hold);
        let special = r
            .by_body
            .iter()
            .find(|(m, _, _)| text.contains(m.as_str()))
            .map(|(_, s, b)| (*s, b.clone()));
        if status.is_some() || special.is_some() {
            r.tampered += 1;
        }
        if delay.is_some() {
            r.delayed += 1;
        }
        (status, delay, special)
    };
    let _busy = InFlight::enter(&rules);
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let reply = |status: u16, body: String| {
        Ok(Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap())
    };
    if let Some(s) = status {
        return reply(
            s,
            json!({"error": {"type": "test_fault", "reason": format!("injected HTTP {s}")}, "status": s}).to_string(),
        );
    }
    if let Some((s, b)) = special {
        return reply(s, b);
    }
    let mut up = http.request(method, format!("{upstream}{path}")).body(body);
    up = up.header("content-type", "application/json");
    if let Some(a) = auth {
        up = up.header(reqwest::header::AUTHORIZATION, a.as_bytes());
    }
    match up.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let bytes = r.bytes().await.unwrap_or_default();
            Ok(Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Body::from(bytes))
                .unwrap())
        }
        Err(e) => Ok(Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::from(e.to_string()))
            .unwrap()),
    }
}

/// Counts a request in flight at the proxy until dropped (also when the client goes away).
struct InFlight(Arc<Mutex<ProxyRules>>);

impl InFlight {
    fn enter(rules: &Arc<Mutex<ProxyRules>>) -> InFlight {
        let mut r = rules.lock().unwrap();
        r.in_flight += 1;
        r.peak_in_flight = r.peak_in_flight.max(r.in_flight);
        InFlight(rules.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut r = self.0.lock().unwrap_or_else(|p| p.into_inner());
        r.in_flight = r.in_flight.saturating_sub(1);
    }
}

impl FlakyProxy {
    pub async fn start(upstream: &str) -> FlakyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = Arc::new(upstream.trim_end_matches('/').to_string());
        let rules = Arc::new(Mutex::new(ProxyRules::default()));
        let r2 = rules.clone();
        let http = reqwest::Client::new();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (upstream, rules, http) = (upstream.clone(), r2.clone(), http.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        proxy_handle(req, upstream.clone(), rules.clone(), http.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), svc)
                        .await;
                });
            }
        });
        FlakyProxy { url, rules, task }
    }

    /// Answer `status` to every request for `d`.
    pub fn status_for(&self, status: u16, d: Duration) {
        self.rules.lock().unwrap().status_until = Some((status, Instant::now() + d));
    }
    /// Hold every request `delay` before forwarding, for `d`.
    pub fn delay_for(&self, delay: Duration, d: Duration) {
        self.rules.lock().unwrap().delay_until = Some((delay, Instant::now() + d));
    }
    /// Requests whose body contains `marker` get `status` and `body`.
    pub fn on_body(&self, marker: &str, status: u16, body: &str) {
        self.rules
            .lock()
            .unwrap()
            .by_body
            .push((marker.into(), status, body.into()));
    }
    /// Requests whose body contains `marker` are held `d` before being forwarded.
    pub fn hold_body(&self, marker: &str, d: Duration) {
        self.rules
            .lock()
            .unwrap()
            .hold_by_body
            .push((marker.into(), d));
    }
    /// Requests held by [`FlakyProxy::hold_body`] so far.
    pub fn held_by_body(&self) -> u64 {
        self.rules.lock().unwrap().held_by_body
    }
    pub fn tampered(&self) -> u64 {
        self.rules.lock().unwrap().tampered
    }
}

// ------------------------------------------------------------------ daemon as a child process

/// The real binary, with its log lines collected.
pub struct Daemon {
    pub child: tokio::process::Child,
    pub log: Arc<Mutex<Vec<String>>>,
    /// The tasks copying stdout and stderr into `log`: they end at the pipes' end of file.
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Daemon {
    /// Starts `connector-wazuh run` with `env` (and nothing else from this process's
    /// environment).
    pub fn spawn(env: &HashMap<String, String>) -> Daemon {
        let mut child = tokio::process::Command::new(super::cli::bin())
            .arg("run")
            .env_clear()
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        for stream in [
            Box::new(child.stderr.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Send + Unpin>,
            Box::new(child.stdout.take().unwrap()),
        ] {
            let log = log.clone();
            readers.push(tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(stream).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    log.lock().unwrap().push(l);
                }
            }));
        }
        Daemon {
            child,
            log,
            readers,
        }
    }

    /// [`Daemon::spawn`], then waits (≤ 60 s) until it consumes requests.
    pub async fn spawn_consuming(env: &HashMap<String, String>) -> Daemon {
        let d = Self::spawn(env);
        assert!(
            d.wait_log("consuming enrichment requests", Duration::from_secs(60))
                .await,
            "the daemon did not start consuming:\n{}",
            d.log_text()
        );
        d
    }

    /// Waits (≤ `timeout`) for a log line containing `needle`.
    pub async fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Panics if the daemon exited on its own.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "the daemon exited on its own ({status}); log tail:\n{}",
                tail(&self.log_text())
            );
        }
    }

    /// Sends `signal` (`TERM`, `KILL`…) to the daemon.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("running");
        let ok = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .unwrap();
        assert!(ok.success(), "kill -{signal} {pid}");
    }

    /// Waits (≤ `timeout`) for the daemon to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => {
                // The process is gone, but its last lines (often the error that ended it) may
                // still be in the pipes: read them to the end before anyone looks at the log.
                for r in self.readers.drain(..) {
                    let _ = tokio::time::timeout(Duration::from_secs(10), r).await;
                }
                status.unwrap()
            }
            Err(_) => panic!(
                "no exit within {timeout:?}; log tail:\n{}",
                tail(&self.log_text())
            ),
        }
    }

    /// SIGTERM, then wait (≤ 30 s) for a clean exit.
    pub async fn terminate(mut self) -> Self {
        self.signal("TERM");
        let status = self.wait_exit(Duration::from_secs(30)).await;
        assert!(
            status.success(),
            "exit status {status:?}; log tail:\n{}",
            tail(&self.log_text())
        );
        self
    }
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Waits (≤ 30 s) until the listen queue is empty; returns its depth.
pub async fn listen_queue_drained(octi: &FakeOpenCti) -> u32 {
    let conn = crate::testkit::rabbit::connect().await;
    let depth =
        crate::testkit::rabbit::wait_depth(&conn, &octi.listen_queue(), 0, Duration::from_secs(30))
            .await;
    let _ = conn.close(200, "done".into()).await;
    depth
}

// ------------------------------------------------------------------ a platform that is down first

/// A TCP forwarder that drops every connection (the client sees it closed at once) until
/// `opens_after`, then forwards to `target` (`host:port`): OpenCTI down at start-up. It listens
/// from the start on a port of its own, so no other server can take that port meanwhile.
pub struct LateForward {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LateForward {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LateForward {
    pub async fn start(target: &str, opens_after: Duration) -> LateForward {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let opens_at = tokio::time::Instant::now() + opens_after;
        let target = target.to_string();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if tokio::time::Instant::now() < opens_at {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
        LateForward { url, task }
    }
}
