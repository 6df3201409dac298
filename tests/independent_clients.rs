//! Independent MCP clients — the official TypeScript and Python SDKs, which
//! validate every `structuredContent` against the tool's `outputSchema`, and
//! the MCP Inspector CLI (0.15, which types `--tool-arg` strings by the input
//! schema, and 2.12, whose `--strict` reports schema portability problems)
//! — drive the real binary's `demo` mode. `.ci/run` installs them into
//! tests/clients; a local run without them skips, CI without them fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_infisical-mcp-rs");

fn clients_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"))
}

fn check(mut cmd: Command, what: &str) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(r#""ok": true"#) || stdout.contains(r#""ok":true"#),
        "{stdout}"
    );
}

#[test]
fn the_typescript_sdk_client_accepts_every_result() {
    let dir = clients_dir();
    if !common::client_installed(
        &dir.join("node_modules/@modelcontextprotocol/sdk"),
        "@modelcontextprotocol/sdk",
    ) {
        return;
    }
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("node_client.mjs")).arg(BIN);
    check(cmd, "node client");
}

#[test]
fn the_python_sdk_client_accepts_every_result() {
    let dir = clients_dir();
    let python = dir.join(".venv/bin/python");
    if !common::client_installed(&python, "the Python mcp SDK") {
        return;
    }
    let mut cmd = Command::new(python);
    cmd.arg(dir.join("python_client.py")).arg(BIN);
    check(cmd, "python client");
}

/// One `mcp-inspector --cli` run against `demo`; returns its JSON answer.
fn inspector(cli: &Path, method: &str, tool: Option<&str>, args: &[&str]) -> Value {
    let mut cmd = Command::new("node");
    cmd.arg(cli).args(["--cli", BIN, "demo", "--method", method]);
    if let Some(tool) = tool {
        cmd.args(["--tool-name", tool]);
    }
    if !args.is_empty() {
        cmd.arg("--tool-arg").args(args);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "inspector {method} {tool:?} {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("inspector printed no JSON ({e}): {stdout}"))
}

/// Inspector 0.15 (the newest on Node 20) converts `key=value` strings by
/// the property's `type`: with `["boolean","null"]` it sent `"true"` and the
/// call failed. Every tool, called with typed arguments, must now work.
#[test]
fn the_inspector_cli_calls_every_tool_with_typed_arguments() {
    let dir = clients_dir();
    let cli = dir.join("node_modules/@modelcontextprotocol/inspector/cli/build/cli.js");
    if !common::client_installed(&cli, "@modelcontextprotocol/inspector (CLI)") {
        return;
    }
    let listed = inspector(&cli, "tools/list", None, &[]);
    let names: Vec<&str> = common::strings_of(&listed["tools"], "name");
    assert_eq!(names, ["get-secret", "list-secrets", "list-folders"]);

    let folders = inspector(&cli, "tools/call", Some("list-folders"), &["recursive=true"]);
    assert_ne!(folders["isError"], json!(true), "{folders}");
    let out = &folders["structuredContent"];
    assert_eq!(out["recursive"], json!(true), "{out}");
    assert!(
        out["folders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "/agents/warden" && f["access"] == "readable"),
        "{out}"
    );

    let secrets = inspector(
        &cli,
        "tools/call",
        Some("list-secrets"),
        &[
            "secretPath=/agents/warden",
            "recursive=true",
            "limit=2",
            "includeImports=false",
        ],
    );
    assert_ne!(secrets["isError"], json!(true), "{secrets}");
    let out = &secrets["structuredContent"];
    assert_eq!(out["secrets"].as_array().unwrap().len(), 2, "{out}");
    assert_eq!(out["nextOffset"], json!(2), "{out}");
    assert!(out["note"].as_str().unwrap().contains("offset=2"), "{out}");

    let secret = inspector(
        &cli,
        "tools/call",
        Some("get-secret"),
        &[
            "secretName=WARDEN_API_TOKEN",
            "secretPath=/agents/warden",
            "includeImports=false",
            "expandSecretReferences=true",
        ],
    );
    assert_ne!(secret["isError"], json!(true), "{secret}");
    assert!(secret["structuredContent"]["secretValue"].is_string(), "{secret}");

    let refused = inspector(
        &cli,
        "tools/call",
        Some("get-secret"),
        &["secretName=X", "environmentSlug=dev", "secretPath=/MooseQuest"],
    );
    assert_eq!(refused["isError"], json!(true), "{refused}");
    assert_eq!(
        refused["structuredContent"]["error"]["kind"],
        json!("out_of_scope"),
        "{refused}"
    );
}

/// Inspector 2.x `--strict` lists every schema construct some client or
/// model provider reads differently (type arrays, `null` branches, …);
/// against schemas with type arrays and `null` branches it printed 31 warnings. It declares
/// Node 22 but runs on the Node 20 CI has.
#[test]
fn inspector_2_strict_finds_no_schema_portability_problem() {
    let dir = clients_dir();
    let cli = dir.join("node_modules/inspector2/clients/launcher/build/index.js");
    if !common::client_installed(&cli, "@modelcontextprotocol/inspector 2.x (as inspector2)") {
        return;
    }
    let out = Command::new("node")
        .arg(&cli)
        .args(["--cli", BIN, "demo", "--method", "tools/list", "--strict"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status.code());
    let listed: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("no JSON ({e}): {stdout}"));
    assert_eq!(listed["tools"].as_array().map(Vec::len), Some(3), "{stdout}");
    // demo's own banner is the only other stderr; any finding starts a line
    // with its severity and names a tool.
    let findings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("Warning") || l.starts_with("Error") || l.contains("portability"))
        .collect();
    assert!(findings.is_empty(), "{stderr}");
}
