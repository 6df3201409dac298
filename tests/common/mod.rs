//! Shared harness for the integration tests: a fake vault on 127.0.0.1:0
//! (optionally behind the fake Cloudflare Access gate), and the real binary
//! spawned as an MCP server and driven by rmcp's client over stdio.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    FakeVault::new(data)
        .generation(generation)
        .gate(gate)
        .identity(fakevault::demo_identity())
        .start(listener)
        .await
        .unwrap()
}

pub fn login_gate() -> CfGate {
    CfGate::LoginRedirect {
        client_id: CF_ID.into(),
        client_secret: CF_SECRET.into(),
    }
}

/// The environment a correctly configured server gets for `vault`.
pub fn good_env(vault: &RunningVault) -> HashMap<String, String> {
    HashMap::from([
        ("INFISICAL_HOST_URL".into(), vault.base_url()),
        (
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID".into(),
            fakevault::DEMO_CLIENT_ID.into(),
        ),
        (
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET".into(),
            fakevault::DEMO_CLIENT_SECRET.into(),
        ),
        ("CF_ACCESS_CLIENT_ID".into(), CF_ID.into()),
        ("CF_ACCESS_CLIENT_SECRET".into(), CF_SECRET.into()),
        ("INFISICAL_PROJECT_ID".into(), fakevault::DEMO_PROJECT_ID.into()),
        ("INFISICAL_ENVIRONMENT".into(), "dev".into()),
        (
            "INFISICAL_SCOPE".into(),
            "dev:/agents/warden/** prod:/MooseQuest/**".into(),
        ),
        ("RUST_LOG".into(), "trace".into()),
    ])
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
