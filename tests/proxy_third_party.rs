//! Real third-party clients through the real proxy binary, in front of an
//! the fake vault with its Cloudflare Access gate on: the official Node MCP server
//! (`@infisical/mcp`, the proxy setup of docs/runbook-modes.md) and the Python SDK
//! (`infisicalsdk`). `.ci/run` installs both into tests/clients (npm and a
//! venv); a local run without them skips, CI without them fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod proxy_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use proxy_support::*;

const CLIENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");

fn python() -> std::path::PathBuf {
    std::path::Path::new(CLIENTS).join(".venv/bin/python")
}

fn official_server_js() -> std::path::PathBuf {
    std::path::Path::new(CLIENTS).join("node_modules/@infisical/mcp/dist/index.js")
}

/// Only the variables a client needs; none of the runner's INFISICAL_* or
/// proxy settings leak in.
fn clean(cmd: &mut Command) -> &mut Command {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()))
        .env("NO_PROXY", "*")
        .env("no_proxy", "*")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_logs_in_and_reads_through_the_proxy() {
    if !common::client_installed(&python(), "python_sdk (infisicalsdk)") {
        return;
    }
    let (vault, proxy) = proxy_to_fake_vault(&["proxy", "--listen", "127.0.0.1:0"]).await;
    let script = r#"
import os
from infisical_sdk import InfisicalSDKClient
client = InfisicalSDKClient(host=os.environ["PROXY_URL"])
e = os.environ
client.auth.universal_auth.login(client_id=e["CLIENT_ID"], client_secret=e["CLIENT_SECRET"])
one = client.secrets.get_secret_by_name(secret_name=e["KEY"], project_id=e["PROJECT"], environment_slug="prod", secret_path=e["FOLDER"])
print("get:", one.secretValue)
listed = client.secrets.list_secrets(project_id=e["PROJECT"], environment_slug="prod", secret_path=e["FOLDER"])
print("list:", ",".join(s.secretKey for s in listed.secrets))
"#;
    let url = proxy.url("");
    let out = tokio::task::spawn_blocking(move || {
        clean(Command::new(python()).args(["-c", script]))
            .env("PROXY_URL", url)
            .env("CLIENT_ID", infisical_fakevault::DEMO_CLIENT_ID)
            .env("CLIENT_SECRET", infisical_fakevault::DEMO_CLIENT_SECRET)
            .env("PROJECT", PROJECT)
            .env("KEY", IN_SCOPE_KEY)
            .env("FOLDER", IN_SCOPE_PATH)
            .output()
            .expect("the tests/clients venv has python")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("get: {IN_SCOPE_VALUE}")), "{stdout}");
    assert!(stdout.contains(&format!("list: {IN_SCOPE_KEY}")), "{stdout}");
    let seen = vault.requests();
    assert!(seen.iter().all(|r| r.gate_passed));
    assert!(seen.iter().any(|r| r.path == "/api/v1/auth/universal-auth/login"));
    assert!(
        seen.iter()
            .any(|r| r.path == format!("/api/v3/secrets/raw/{IN_SCOPE_KEY}"))
    );
}

/// Talks JSON-RPC over the server's stdio, one message per line.
struct Mcp {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Mcp {
    fn send(&mut self, v: serde_json::Value) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{v}").unwrap();
        stdin.flush().unwrap();
    }
    fn answer(&mut self, id: u64) -> serde_json::Value {
        loop {
            let mut line = String::new();
            assert!(
                self.out.read_line(&mut line).unwrap() > 0,
                "MCP server closed stdout"
            );
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && v["id"] == id
            {
                return v;
            }
        }
    }
}

impl Drop for Mcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_node_mcp_server_logs_in_and_reads_through_the_proxy() {
    if !common::client_installed(&official_server_js(), "node_mcp (@infisical/mcp)") {
        return;
    }
    let (vault, proxy) = proxy_to_fake_vault(&["--proxy", "--listen", "127.0.0.1:0"]).await;
    // The runbook's proxy setup: INFISICAL_HOST_URL points at the proxy.
    let host_url = format!("http://localhost:{}", proxy.addr.unwrap().port());
    let text = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new("node");
        cmd.arg(official_server_js());
        clean(&mut cmd)
            .env("INFISICAL_HOST_URL", &host_url)
            .env(
                "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
                infisical_fakevault::DEMO_CLIENT_ID,
            )
            .env(
                "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
                infisical_fakevault::DEMO_CLIENT_SECRET,
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("node / npx is installed");
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut mcp = Mcp { child, out };
        mcp.send(
            serde_json::json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
            "protocolVersion":"2025-06-18","capabilities":{},
            "clientInfo":{"name":"proxy-test","version":"1"}}}),
        );
        let init = mcp.answer(1);
        assert_eq!(init["result"]["serverInfo"]["name"], "Infisical", "{init}");
        mcp.send(serde_json::json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
        mcp.send(
            serde_json::json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{
            "name":"get-secret","arguments":{"secretName":IN_SCOPE_KEY,"projectId":PROJECT,
            "environmentSlug":"prod","secretPath":IN_SCOPE_PATH}}}),
        );
        let call = mcp.answer(2);
        let text = call["result"]["content"][0]["text"].as_str();
        assert!(text.is_some(), "no text in {call}");
        text.unwrap_or_default().to_string()
    })
    .await
    .unwrap();
    assert!(text.starts_with("Secret retrieved successfully"), "{text}");
    assert!(text.contains(IN_SCOPE_VALUE), "{text}");
    let seen = vault.requests();
    assert!(
        seen.iter().all(|r| r.gate_passed),
        "every request passed the CF gate"
    );
    assert!(seen.iter().any(|r| r.path == "/api/v1/auth/universal-auth/login"));
    assert!(
        seen.iter()
            .any(|r| r.path == format!("/api/v3/secrets/raw/{IN_SCOPE_KEY}"))
    );
}
