//! MCP servers over stdio, spoken to with hand-rolled newline-delimited
//! JSON-RPC (no client library in the measured path), and the MCP benchmarks:
//! cold start, RSS, per-call latency against a direct HTTP read of the same
//! data with the same token, and logins per 1,000 calls.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use infisical_fakevault::{RecordedRequest, RunningVault};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::procs;
use crate::stats::{Summary, summarize};

/// Bounds every wait on a server, so a stuck server fails the run instead of hanging it.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// How to start one MCP server.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    pub stderr_log: PathBuf,
}

pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    next_id: u64,
    pub pid: u32,
}

impl Session {
    pub async fn spawn(spec: &ServerSpec) -> Result<Session> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.stderr_log)
            .with_context(|| format!("open {}", spec.stderr_log.display()))?;
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()))
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        if let Some(dir) = &spec.cwd {
            cmd.current_dir(dir);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("spawn {} ({})", spec.name, spec.program.display()))?;
        let pid = child.id().context("child has no pid")?;
        let stdin = child.stdin.take().context("no stdin")?;
        let stdout = child.stdout.take().context("no stdout")?;
        Ok(Session {
            child,
            stdin: Some(stdin),
            lines: BufReader::with_capacity(1 << 16, stdout).lines(),
            next_id: 1,
            pid,
        })
    }

    async fn send(&mut self, msg: &Value) -> Result<()> {
        let mut line = serde_json::to_vec(msg)?;
        line.push(b'\n');
        let stdin = self.stdin.as_mut().context("stdin closed")?;
        stdin.write_all(&line).await?;
        stdin.flush().await?;
        Ok(())
    }

    /// Sends a request and returns its `result`; a JSON-RPC error is an error.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await?;
        let answer = tokio::time::timeout(ANSWER_TIMEOUT, async {
            loop {
                let Some(line) = self.lines.next_line().await? else {
                    bail!("server closed stdout while {method} (id {id}) was pending");
                };
                // Skip notifications and anything that is not our answer.
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if v.get("id") == Some(&json!(id)) {
                    return Ok(v);
                }
            }
        })
        .await
        .with_context(|| format!("no answer to {method} within {ANSWER_TIMEOUT:?}"))??;
        if let Some(err) = answer.get("error") {
            bail!("{method}: JSON-RPC error {err}");
        }
        answer.get("result").cloned().context("answer without result")
    }

    pub async fn initialize(&mut self) -> Result<Value> {
        self.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "bench-driver", "version": "1"}}),
        )
        .await
    }

    pub async fn initialized(&mut self) -> Result<()> {
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await
    }

    pub async fn call_tool(&mut self, name: &str, args: &Value) -> Result<Value> {
        let result = self
            .request("tools/call", json!({"name": name, "arguments": args}))
            .await?;
        if result.get("isError") == Some(&json!(true)) {
            bail!("{name} answered isError: {result}");
        }
        Ok(result)
    }

    /// Closes stdin, gives the server a moment to exit, then kills what is
    /// left of its process tree (npx leaves a shell and node below it).
    pub async fn close(mut self) {
        let pids = procs::tree(self.pid);
        drop(self.stdin.take());
        let exited = tokio::time::timeout(Duration::from_millis(1500), self.child.wait()).await;
        if exited.is_err() {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
        let left: Vec<u32> = pids.into_iter().filter(|p| procs::alive(*p)).collect();
        procs::signal(&left, "KILL");
    }
}

/// The measurements for one server.
#[derive(Debug, Default, Clone)]
pub struct ServerResult {
    pub name: String,
    pub cold_start: Summary,
    pub tools: usize,
    pub rss_init_kib: Option<u64>,
    pub anon_init_kib: Option<u64>,
    pub tree_rss_init_kib: Option<u64>,
    pub rss_after_kib: Option<u64>,
    pub anon_after_kib: Option<u64>,
    pub tree_rss_after_kib: Option<u64>,
    pub rss_after_all_kib: Option<u64>,
    pub get: Summary,
    pub list: Summary,
    pub get_direct: Summary,
    pub list_direct: Summary,
    pub get_route: String,
    pub list_route: String,
    pub calls: usize,
    pub logins: usize,
    pub list_bytes: usize,
    pub list_has_values: bool,
}

#[derive(Clone, Debug)]
pub struct Counts {
    pub cold_runs: usize,
    pub warmup: usize,
    pub calls: usize,
}

pub async fn cold_start(spec: &ServerSpec, runs: usize) -> Result<Summary> {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut s = Session::spawn(spec).await?;
        s.initialize()
            .await
            .with_context(|| format!("{}: initialize", spec.name))?;
        samples.push(t0.elapsed());
        s.close().await;
    }
    Ok(summarize(&samples))
}

/// The last read the server sent to the vault, to replay directly: a secrets
/// read if there was one, else the last successful read of any kind (this
/// binary's `list-secrets` takes the folder's listing from its per-minute
/// metadata cache and sends only the imports read on the hot path).
fn last_read(vault: &RunningVault) -> Result<RecordedRequest> {
    let seen = vault.requests();
    let read = |r: &&RecordedRequest| r.method == "GET" && r.status == Some(200);
    seen.iter()
        .rev()
        .filter(read)
        .find(|r| r.path.contains("/secrets"))
        .or_else(|| seen.iter().rev().find(read))
        .cloned()
        .with_context(|| {
            let mut sent: Vec<String> = seen
                .iter()
                .map(|r| format!("{} {} -> {:?}", r.method, r.path, r.status))
                .collect();
            sent.sort();
            sent.dedup();
            format!(
                "the server made no successful secrets read ({} requests to: {})",
                seen.len(),
                sent.join(", ")
            )
        })
}

async fn timed_calls(s: &mut Session, tool: &str, args: &Value, warmup: usize, n: usize) -> Result<Summary> {
    for _ in 0..warmup {
        s.call_tool(tool, args).await?;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        s.call_tool(tool, args).await?;
        samples.push(t0.elapsed());
    }
    Ok(summarize(&samples))
}

/// Replays `req` against the vault with reqwest (keep-alive, same headers,
/// same token): what the read costs without an MCP server in between.
pub async fn direct(base: &str, req: &RecordedRequest, warmup: usize, n: usize) -> Result<Summary> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in &req.headers {
        if matches!(
            k.as_str(),
            "host" | "connection" | "content-length" | "accept-encoding"
        ) {
            continue;
        }
        headers.append(
            reqwest::header::HeaderName::from_bytes(k.as_bytes())?,
            reqwest::header::HeaderValue::from_str(v)?,
        );
    }
    let url = reqwest::Url::parse_with_params(&format!("{base}{}", req.path), &req.query)?;
    let once = || async {
        let r = client.get(url.clone()).headers(headers.clone()).send().await?;
        let status = r.status();
        let body = r.bytes().await?;
        if !status.is_success() {
            bail!(
                "direct read answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(())
    };
    for _ in 0..warmup {
        once().await?;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        once().await?;
        samples.push(t0.elapsed());
    }
    Ok(summarize(&samples))
}

/// One long session: RSS after initialize, `get-secret` ×N, RSS, then
/// `list-secrets` ×N, each after a warm-up; the direct-read baseline for
/// each route the server used; logins counted by the vault.
pub async fn session(
    spec: &ServerSpec,
    vault: &RunningVault,
    get_args: &Value,
    list_args: &Value,
    counts: &Counts,
) -> Result<ServerResult> {
    let mut r = ServerResult {
        name: spec.name.clone(),
        ..Default::default()
    };
    let logins_before = vault.login_count();
    let mut s = Session::spawn(spec).await?;
    s.initialize().await?;
    s.initialized().await?;
    // Let start-up work settle (JIT, lazy statics) before reading RSS.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server_pid = procs::leaf(s.pid);
    r.rss_init_kib = procs::rss_kib(server_pid);
    r.anon_init_kib = procs::rss_anon_kib(server_pid);
    r.tree_rss_init_kib = procs::tree_rss_kib(s.pid);
    let tools = s.request("tools/list", json!({})).await?;
    r.tools = tools["tools"].as_array().map_or(0, Vec::len);

    vault.clear_requests();
    r.get = timed_calls(&mut s, "get-secret", get_args, counts.warmup, counts.calls).await?;
    r.rss_after_kib = procs::rss_kib(server_pid);
    r.anon_after_kib = procs::rss_anon_kib(server_pid);
    let top: Vec<String> = procs::rss_by_mapping(server_pid)
        .into_iter()
        .take(6)
        .map(|(name, kib)| format!("{name} {kib} KiB"))
        .collect();
    println!(
        "mcp: {}: resident after the get-secret calls: {}",
        spec.name,
        top.join(", ")
    );
    r.tree_rss_after_kib = procs::tree_rss_kib(s.pid);
    let get_req = last_read(vault)?;

    vault.clear_requests();
    r.list = timed_calls(&mut s, "list-secrets", list_args, counts.warmup, counts.calls).await?;
    let list_req = last_read(vault)?;
    r.rss_after_all_kib = procs::rss_kib(server_pid);
    let sample = s.call_tool("list-secrets", list_args).await?;
    let text = sample.to_string();
    r.list_bytes = text.len();
    r.list_has_values = text.contains("secretValue\\\":") || text.contains("\"secretValue\":");
    s.close().await;
    r.calls = 2 * (counts.warmup + counts.calls) + 1;
    r.logins = vault.login_count() - logins_before;
    vault.clear_requests();

    let base = vault.base_url();
    r.get_route = get_req.path.clone();
    r.list_route = list_req.path.clone();
    r.get_direct = direct(&base, &get_req, counts.warmup, counts.calls).await?;
    r.list_direct = direct(&base, &list_req, counts.warmup, counts.calls).await?;
    vault.clear_requests();
    Ok(r)
}
