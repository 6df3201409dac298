//! Shared harness for the integration tests: a fake vault on 127.0.0.1:0
//! (optionally behind the fake Cloudflare Access gate), the environment a
//! correctly configured command gets for it, the real binary run once
//! ([`run_bin`]) or spawned as an MCP server and driven by rmcp's client
//! over stdio ([`serve`]).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use infisical_fakevault::{self as fakevault, CfGate, FakeVault, Generation, RunningVault, VaultData};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

pub const BIN: &str = env!("CARGO_BIN_EXE_infisical-mcp-rs");
pub const CF_ID: &str = fakevault::DEMO_CF_CLIENT_ID;
pub const CF_SECRET: &str = fakevault::DEMO_CF_CLIENT_SECRET;

pub async fn start_vault(generation: Generation, gate: CfGate) -> RunningVault {
    start_vault_with(VaultData::sample(), generation, gate).await
}

pub async fn start_vault_with(data: VaultData, generation: Generation, gate: CfGate) -> RunningVault {
    start(
        FakeVault::new(data)
            .generation(generation)
            .gate(gate)
            .identity(fakevault::demo_identity()),
    )
    .await
}

/// Starts a configured fake vault on 127.0.0.1, port 0.
pub async fn start(vault: FakeVault) -> RunningVault {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    vault.start(listener).await.unwrap()
}

pub fn login_gate() -> CfGate {
    CfGate::LoginRedirect {
        client_id: CF_ID.into(),
        client_secret: CF_SECRET.into(),
    }
}

/// The environment of a command that logs in to `vault` as `client_id`,
/// through the Cloudflare service token, in `project`, logging everything
/// (so that a leak into the logs would show).
pub fn vault_env(
    vault: &RunningVault,
    client_id: &str,
    client_secret: &str,
    project: &str,
) -> HashMap<String, String> {
    env_at(&vault.base_url(), client_id, client_secret, project)
}

/// [`vault_env`] for a vault at any URL (one that is down, a proxy, a typo).
pub fn env_at(
    base_url: &str,
    client_id: &str,
    client_secret: &str,
    project: &str,
) -> HashMap<String, String> {
    HashMap::from([
        ("INFISICAL_HOST_URL".into(), base_url.to_string()),
        ("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID".into(), client_id.into()),
        (
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET".into(),
            client_secret.into(),
        ),
        ("CF_ACCESS_CLIENT_ID".into(), CF_ID.into()),
        ("CF_ACCESS_CLIENT_SECRET".into(), CF_SECRET.into()),
        ("INFISICAL_PROJECT_ID".into(), project.into()),
        ("RUST_LOG".into(), "trace".into()),
    ])
}

/// `env` with `pairs` added (or replaced).
pub fn with(mut env: HashMap<String, String>, pairs: &[(&str, &str)]) -> HashMap<String, String> {
    for (key, value) in pairs {
        env.insert((*key).into(), (*value).into());
    }
    env
}

/// `env` logging in with a pre-issued `token` instead of universal auth.
pub fn with_token(mut env: HashMap<String, String>, token: &str) -> HashMap<String, String> {
    env.remove("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID");
    env.remove("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET");
    env.insert("INFISICAL_TOKEN".into(), token.into());
    env
}

/// The environment a correctly configured server gets for `vault`.
pub fn good_env(vault: &RunningVault) -> HashMap<String, String> {
    let mut env = vault_env(
        vault,
        fakevault::DEMO_CLIENT_ID,
        fakevault::DEMO_CLIENT_SECRET,
        fakevault::DEMO_PROJECT_ID,
    );
    env.insert("INFISICAL_ENVIRONMENT".into(), "dev".into());
    env.insert(
        "INFISICAL_SCOPE".into(),
        "dev:/agents/warden/** prod:/MooseQuest/**".into(),
    );
    env
}

/// One run of the binary to its end: exit code and both outputs.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as one JSON document (a `--json` run).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    /// The step `name` of a `doctor --json` run.
    pub fn step(&self, name: &str) -> Value {
        doctor_step(&self.json(), name)
    }

    /// The detail line of that step.
    pub fn detail(&self, name: &str) -> String {
        self.step(name)["detail"].as_str().unwrap_or_default().to_string()
    }
}

/// Reads one HTTP/1.1 request from a raw socket: its head as text, and its
/// body (by `content-length`) read off the socket, because closing a socket
/// with unread bytes resets it, which a client would retry. `None` when the
/// peer closes first.
pub async fn read_request<S: tokio::io::AsyncRead + Unpin>(socket: &mut S) -> Option<(String, Vec<u8>)> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    };
    let mut body = head.split_off(end);
    let text = String::from_utf8_lossy(&head).into_owned();
    let length = text
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    while body.len() < length {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    Some((text, body))
}

/// Whether the client at `marker` (a file its install creates) is there.
/// A test without it skips locally; in CI (`CI` set) its absence fails the
/// run, because `.ci/run` must install it.
pub fn client_installed(marker: &Path, what: &str) -> bool {
    if marker.exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} is not installed in CI: .ci/run must install it ({})",
        marker.display()
    );
    eprintln!("skipping: {what} not installed (see .ci/run)");
    false
}

/// Fails, naming `what`, unless `text` holds every one of `needles`.
pub fn assert_contains_all(what: &str, text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{what} lacks {needle:?}:\n{text}");
    }
}

/// `data` and a second project, `project`, holding `key` = `value` in
/// dev:/agents/warden: a project the test identity may read as well as its own.
pub fn and_project(data: VaultData, project: &str, key: &str, value: &str) -> VaultData {
    data.project(project, project, project)
        .environment(project, "dev", "Development")
        .secret(project, "dev", "/agents/warden", key, value)
}

/// A proptest strategy choosing one of `words` (as an owned string), each
/// as likely as the others.
pub fn words(words: &[&'static str]) -> impl proptest::strategy::Strategy<Value = String> + use<> {
    use proptest::strategy::Strategy as _;
    proptest::sample::select(words.to_vec()).prop_map(str::to_owned)
}

/// The string `field` of each object in the JSON array `list`, in order
/// (panics on anything else: the tests' answers are known shapes).
pub fn strings_of<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|item| {
            item[field]
                .as_str()
                .unwrap_or_else(|| panic!("no string {field} in {item}"))
        })
        .collect()
}

/// Fails, naming `what` and the start of the line, when `text` holds any
/// of `needles` (secret material that must never be printed or logged).
pub fn assert_absent(what: &str, text: &str, needles: &[String]) {
    for needle in needles {
        if let Some(pos) = text.find(needle.as_str()) {
            let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
            let context: String = text[line_start..pos].chars().take(160).collect();
            panic!(
                "{what}: secret material ({}…) on a line starting: {context}",
                &needle[..6.min(needle.len())]
            );
        }
    }
}

/// The first step named `name` of a `doctor --json` report.
pub fn doctor_step(report: &Value, name: &str) -> Value {
    doctor_steps(report, name)
        .first()
        .copied()
        .cloned()
        .unwrap_or_else(|| panic!("no step {name}: {report}"))
}

/// Every step named `name` of a `doctor --json` report, in order.
pub fn doctor_steps<'a>(report: &'a Value, name: &str) -> Vec<&'a Value> {
    report["steps"]
        .as_array()
        .map(|steps| steps.iter().filter(|s| s["name"] == name).collect())
        .unwrap_or_default()
}

/// Runs the binary with `env` only and `args`, stdin closed.
pub async fn run_bin(env: &HashMap<String, String>, args: &[&str]) -> Run {
    run_bin_in(env, args, Path::new(".")).await
}

/// [`run_bin`] in the folder `dir`.
pub async fn run_bin_in(env: &HashMap<String, String>, args: &[&str], dir: &Path) -> Run {
    let out = command(env, args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running server process with its client session and captured stderr.
pub struct Served {
    pub client: RunningService<RoleClient, ()>,
    pub stderr: Arc<Mutex<Vec<u8>>>,
}

impl Served {
    pub async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let mut params = CallToolRequestParams::new(tool.to_string());
        params.arguments = args.as_object().cloned();
        self.client
            .call_tool(params)
            .await
            .expect("protocol-level failure")
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }
}

pub fn command(env: &HashMap<String, String>, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd.envs(env).args(args).kill_on_drop(true);
    cmd
}

pub async fn serve(env: &HashMap<String, String>, args: &[&str]) -> Served {
    let (transport, stderr) = TokioChildProcess::builder(command(env, args))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let captured = Arc::new(Mutex::new(Vec::new()));
    if let Some(mut stderr) = stderr {
        let sink = captured.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
    }
    let client = ().serve(transport).await.unwrap();
    Served {
        client,
        stderr: captured,
    }
}

pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}

pub fn structured(result: &CallToolResult) -> Value {
    result.structured_content.clone().unwrap_or(json!(null))
}

/// Requests that reached the vault itself (past the gate), excluding login.
pub fn vault_reads(vault: &RunningVault) -> Vec<String> {
    vault
        .requests()
        .into_iter()
        .filter(|r| r.gate_passed && !r.path.contains("/auth/"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}
