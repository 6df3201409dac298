//! Test helpers shared by the proxy tests: the fake vault behind its
//! Cloudflare Access gate, a small streaming upstream for what the fake vault
//! does not do (50 MiB bodies, held answers, a barrier for concurrency), and
//! starters for the proxy (in process, or as the real binary).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use infisical_fakevault::{self as fakevault, CfGate, FakeVault, RunningVault, VaultData};
use infisical_mcp_rs::agent::proxy::{self, ProxyError, ProxySettings};
use infisical_mcp_rs::config::{CfAccess, VaultSettings};
use tokio::net::TcpListener;
use tokio::sync::{Barrier, Notify, oneshot, watch};
use tokio::task::JoinHandle;

pub const CF_ID: &str = fakevault::DEMO_CF_CLIENT_ID;
pub const CF_SECRET: &str = fakevault::DEMO_CF_CLIENT_SECRET;
pub const PROJECT: &str = fakevault::DEMO_PROJECT_ID;
/// A secret the demo identity may read, and its value.
pub const IN_SCOPE_PATH: &str = "/MooseQuest/cloudflare";
pub const IN_SCOPE_KEY: &str = "CF_DNS_EDIT_RAXX_APP";
pub const IN_SCOPE_VALUE: &str = "cf-FAKE-dns-edit-raxx-app-7Qm2Lx9Pz4";
pub const TOKEN: &str = "token-5b1e77";
pub const USER_AGENT: &str = "proxy-test/1.0";

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub gate_passed: bool,
    /// The connection it came on (the proxy's side of it).
    pub peer: SocketAddr,
}

/// Counters and hooks the tests use to observe and steer the upstream.
pub struct State {
    gate: Option<(String, String)>,
    pub requests: Mutex<Vec<Recorded>>,
    /// Signalled when a `/hold` request (or the first `/drip-up` chunk) arrives.
    pub arrived: Notify,
    /// Set to true to let `/hold` and `/drip` answers go on.
    pub release: watch::Sender<bool>,
    pub barrier: Barrier,
}

pub struct Upstream {
    pub addr: SocketAddr,
    pub state: Arc<State>,
}

impl Upstream {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }
    pub fn release(&self) {
        self.state.release.send_replace(true);
    }
}

fn full(status: StatusCode, ct: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed_unsync());
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", ct.parse().unwrap());
    r
}

fn json(status: StatusCode, v: serde_json::Value) -> Response<Body> {
    full(status, "application/json; charset=utf-8", v.to_string())
}

fn streamed(chunks: impl futures::Stream<Item = Bytes> + Send + 'static) -> Body {
    StreamBody::new(chunks.map(|b| Ok::<_, Infallible>(Frame::data(b)))).boxed_unsync()
}

/// `n` bytes in 64 KiB chunks, produced as they are sent.
fn generated(n: u64) -> impl futures::Stream<Item = Bytes> + Send + 'static {
    const CHUNK: u64 = 64 * 1024;
    futures::stream::unfold(0u64, move |sent| async move {
        (sent < n).then(|| {
            let len = CHUNK.min(n - sent);
            (Bytes::from(vec![b'x'; len as usize]), sent + len)
        })
    })
}

/// A secret in the shape of Infisical's `secretRawSchema` (docs/vault-api.md, "Secrets").
pub fn secret(key: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "6f1c2a4e-0000-4000-8000-000000000001", "_id": "6f1c2a4e-0000-4000-8000-000000000001",
        "workspace": "p", "environment": "prod", "version": 1, "type": "shared",
        "secretKey": key, "secretValue": format!("value-of-{key}"), "secretComment": "",
        "secretReminderNote": null, "secretReminderRepeatDays": null, "skipMultilineEncoding": false,
        "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z",
        "secretPath": "/", "secretValueHidden": false, "secretMetadata": [], "tags": []
    })
}

async fn route(req: Request<Incoming>, peer: SocketAddr, st: Arc<State>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let gate_passed = match &st.gate {
        None => true,
        Some((id, secret)) => {
            req.headers()
                .get("cf-access-client-id")
                .is_some_and(|v| v == id.as_str())
                && req
                    .headers()
                    .get("cf-access-client-secret")
                    .is_some_and(|v| v == secret.as_str())
        }
    };
    st.requests.lock().unwrap().push(Recorded {
        method: req.method().to_string(),
        path: path.clone(),
        query: query.clone(),
        headers: req.headers().clone(),
        gate_passed,
        peer,
    });
    if !gate_passed {
        let mut r = full(
            StatusCode::FOUND,
            "text/html",
            "<html><body>Redirecting to Cloudflare Access</body></html>",
        );
        r.headers_mut().insert(
            "location",
            "https://raxx-fake.cloudflareaccess.com/cdn-cgi/access/login/vault.example.com?kid=1"
                .parse()
                .unwrap(),
        );
        return r;
    }
    let mut response = match (req.method().as_str(), path.trim_end_matches('/')) {
        ("GET" | "HEAD", "/api/status") => json(
            StatusCode::OK,
            serde_json::json!({"date":"2026-01-01T00:00:00.000Z","message":"Ok"}),
        ),
        ("POST", "/api/v1/auth/universal-auth/login") => {
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            if v["clientId"].is_string() && v["clientSecret"].is_string() {
                json(
                    StatusCode::OK,
                    serde_json::json!({"accessToken": TOKEN, "expiresIn": 3600,
                        "accessTokenMaxTTL": 7200, "tokenType": "Bearer"}),
                )
            } else {
                json(
                    StatusCode::UNAUTHORIZED,
                    serde_json::json!({"statusCode":401,"error":"UnauthorizedError","message":"Invalid credentials"}),
                )
            }
        }
        (_, p) if p.starts_with("/api/v3/secrets/raw/") || p.starts_with("/api/v4/secrets/") => {
            if req.headers().get("authorization").is_none() {
                json(
                    StatusCode::UNAUTHORIZED,
                    serde_json::json!({"statusCode":401,"error":"UnauthorizedError","message":"Token missing"}),
                )
            } else {
                let key = p.rsplit('/').next().unwrap_or_default();
                json(StatusCode::OK, serde_json::json!({"secret": secret(key)}))
            }
        }
        ("GET", "/api/v4/secrets" | "/api/v3/secrets/raw") => json(
            StatusCode::OK,
            serde_json::json!({"secrets": [secret("KEY")], "imports": []}),
        ),
        ("GET", p) if p.starts_with("/big/") => {
            let n: u64 = p["/big/".len()..].parse().unwrap();
            let mut r = Response::new(streamed(generated(n)));
            r.headers_mut()
                .insert("content-type", "application/octet-stream".parse().unwrap());
            r
        }
        (_, "/count") => {
            let mut body = req.into_body();
            let (mut bytes, mut frames) = (0u64, 0u64);
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.unwrap().into_data() {
                    bytes += data.len() as u64;
                    frames += 1;
                }
            }
            json(
                StatusCode::OK,
                serde_json::json!({"bytes": bytes, "frames": frames}),
            )
        }
        (_, "/drip-up") => {
            let mut body = req.into_body();
            let mut bytes = 0u64;
            let mut first = true;
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.unwrap().into_data() {
                    bytes += data.len() as u64;
                    if first && !data.is_empty() {
                        first = false;
                        st.arrived.notify_one();
                    }
                }
            }
            json(StatusCode::OK, serde_json::json!({"bytes": bytes}))
        }
        ("GET", "/drip") => {
            let mut release = st.release.subscribe();
            let chunks = futures::stream::once(async { Bytes::from_static(b"first;") }).chain(
                futures::stream::once(async move {
                    let _ = release.wait_for(|r| *r).await;
                    Bytes::from_static(b"last")
                }),
            );
            Response::new(streamed(chunks))
        }
        ("GET", "/hold") => {
            st.arrived.notify_one();
            let mut release = st.release.subscribe();
            let _ = release.wait_for(|r| *r).await;
            full(StatusCode::OK, "text/plain", "held and released")
        }
        ("GET", "/barrier") => {
            st.barrier.wait().await;
            full(StatusCode::OK, "text/plain", "together")
        }
        ("GET", "/redirect") => {
            let mut r = full(StatusCode::FOUND, "text/plain", "");
            r.headers_mut()
                .insert("location", "https://elsewhere.example/next".parse().unwrap());
            r
        }
        (method, p) => json(StatusCode::OK, serde_json::json!({"method": method, "path": p})),
    };
    if st.gate.is_some() {
        response.headers_mut().append(
            "set-cookie",
            "CF_Authorization=edge-jwt; Path=/; HttpOnly".parse().unwrap(),
        );
    }
    response
}

/// Starts the upstream on 127.0.0.1:0; `gate` turns on the CF Access check.
pub async fn upstream(gate: bool, barrier: usize) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(State {
        gate: gate.then(|| (CF_ID.to_string(), CF_SECRET.to_string())),
        requests: Mutex::new(Vec::new()),
        arrived: Notify::new(),
        release: watch::channel(false).0,
        barrier: Barrier::new(barrier.max(1)),
    });
    let st = state.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                continue;
            };
            let st = st.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let st = st.clone();
                    async move { Ok::<_, Infallible>(route(req, peer, st).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Upstream { addr, state }
}

pub fn vault_settings(base_url: &str, cf: bool) -> VaultSettings {
    VaultSettings {
        base_url: url::Url::parse(base_url).unwrap(),
        cf_access: cf.then(|| CfAccess {
            client_id: CF_ID.into(),
            client_secret: CF_SECRET.to_string().into(),
        }),
        user_agent: USER_AGENT.into(),
        connect_timeout: Duration::from_secs(2),
        call_timeout: Duration::from_secs(10),
        max_response_bytes: 1024 * 1024,
        max_concurrency: 8,
    }
}

/// The proxy running in this process on 127.0.0.1:0.
pub struct Proxy {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub handle: JoinHandle<Result<(), ProxyError>>,
}

impl Proxy {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
    /// Asks for a graceful stop (as SIGTERM does in the binary).
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn start_proxy(settings: ProxySettings) -> Proxy {
    let listener = proxy::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(proxy::run(listener, settings, async move {
        let _ = rx.await;
    }));
    Proxy {
        addr,
        stop: Some(tx),
        handle,
    }
}

/// A client like the tools that use the proxy: no redirects followed, no
/// environment proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// Sends raw bytes and returns the raw answer (for Host headers no client
/// library would send).
pub async fn raw_exchange(addr: SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// The body of an error answer, parsed.
/// Sends `request` and returns the refusal's status and its JSON body.
pub async fn refusal(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    (status, error_json(r).await)
}

pub async fn error_json(r: reqwest::Response) -> serde_json::Value {
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=utf-8",
        "refusals are JSON"
    );
    r.json().await.unwrap()
}

/// The real binary, started as a proxy; its stderr is collected line by line.
pub struct Binary {
    pub child: std::process::Child,
    pub addr: Option<SocketAddr>,
    lines: std::sync::mpsc::Receiver<String>,
    pub stderr: Vec<String>,
}

pub fn binary_path() -> &'static str {
    env!("CARGO_BIN_EXE_infisical-mcp-rs")
}

/// Starts `infisical-mcp-rs ARGS` with only `env` set (plus PATH), and, when
/// it is a proxy that comes up, waits for its "listening" line to learn the
/// port (no polling, no sleeps).
pub fn spawn_binary(args: &[&str], env: &[(&str, &str)]) -> Binary {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(binary_path());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Binary {
        child,
        addr: None,
        lines: rx,
        stderr: Vec::new(),
    }
}

impl Binary {
    /// Reads stderr until a line contains `needle`; false on exit or timeout.
    pub fn wait_for_line(&mut self, needle: &str) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = line.contains(needle);
                    self.stderr.push(line);
                    if hit {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
    }

    /// Waits for the proxy's "listening" line and records its address.
    pub fn wait_listening(&mut self) -> SocketAddr {
        self.wait_listening_on("vault proxy listening")
    }

    /// Waits for the line holding `phrase` and `listen=http://ADDR`, and
    /// records the address.
    pub fn wait_listening_on(&mut self, phrase: &str) -> SocketAddr {
        assert!(
            self.wait_for_line(phrase),
            "'{phrase}' never came: {:#?}",
            self.stderr
        );
        let line = self.stderr.last().unwrap();
        let start = line.find("listen=http://").unwrap() + "listen=http://".len();
        let addr: SocketAddr = line[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .trim_matches('"')
            .parse()
            .unwrap();
        self.addr = Some(addr);
        addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr.unwrap(), path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal with the system's `kill` (no libc binding needed).
    pub fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([format!("-{sig}"), self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Waits (bounded) for the process to exit and collects the rest of stderr.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
                    self.stderr.push(line);
                }
                return status;
            }
            // The exit is what we wait for; stderr lines arrive meanwhile.
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(50)) {
                self.stderr.push(line);
            }
            assert!(std::time::Instant::now() < deadline, "process did not exit");
        }
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.join("\n")
    }

    /// Sends SIGTERM and waits (off the async runtime) for the exit; the
    /// exit status, and the binary with all of its stderr.
    pub async fn stop(self) -> (std::process::ExitStatus, Binary) {
        self.signal("TERM");
        self.exit().await
    }

    /// Waits (off the async runtime) for the exit; the exit status, and the
    /// binary with all of its stderr.
    pub async fn exit(self) -> (std::process::ExitStatus, Binary) {
        tokio::task::spawn_blocking(move || {
            let mut bin = self;
            (bin.wait_exit(), bin)
        })
        .await
        .unwrap()
    }

    /// Peak resident memory (VmHWM) and current (VmRSS), in KiB (Linux).
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap()
        };
        (field("VmHWM:"), field("VmRSS:"))
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment of a proxy in front of `up`, gated.
pub fn proxy_env(up: &Upstream) -> Vec<(&'static str, String)> {
    proxy_env_for(&up.base_url())
}

/// The environment of a proxy in front of the vault at `base_url`, with the
/// Access service token.
pub fn proxy_env_for(base_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("INFISICAL_HOST_URL", base_url.to_string()),
        ("CF_ACCESS_CLIENT_ID", CF_ID.to_string()),
        ("CF_ACCESS_CLIENT_SECRET", CF_SECRET.to_string()),
        ("INFISICAL_USER_AGENT", USER_AGENT.to_string()),
    ]
}

pub fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The fake vault with the demo data and identity, behind an Access app that
/// answers a missing or wrong service token with the login redirect.
pub async fn fake_vault() -> RunningVault {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    FakeVault::new(VaultData::sample())
        .gate(CfGate::LoginRedirect {
            client_id: CF_ID.into(),
            client_secret: CF_SECRET.into(),
        })
        .identity(fakevault::demo_identity())
        .start(listener)
        .await
        .unwrap()
}

/// The environment of a proxy binary in front of the fake vault.
pub fn fake_env(vault: &RunningVault) -> Vec<(&'static str, String)> {
    proxy_env_for(&vault.base_url())
}

/// The fake vault, and the real binary started with `args` in front of it
/// and listening.
pub async fn proxy_to_fake_vault(args: &[&str]) -> (RunningVault, Binary) {
    let vault = fake_vault().await;
    let env = fake_env(&vault);
    let mut proxy = spawn_binary(args, &env_refs(&env));
    proxy.wait_listening();
    (vault, proxy)
}

/// Logs in through the proxy with the demo identity; returns the token.
pub async fn login(proxy_base: &str) -> String {
    let r = client()
        .post(format!("{proxy_base}/api/v1/auth/universal-auth/login"))
        .json(&serde_json::json!({
            "clientId": fakevault::DEMO_CLIENT_ID,
            "clientSecret": fakevault::DEMO_CLIENT_SECRET,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    v["accessToken"].as_str().unwrap().to_string()
}
