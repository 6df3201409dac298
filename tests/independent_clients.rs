//! Independent MCP clients — the official TypeScript and Python SDKs, which
//! validate every `structuredContent` against the tool's `outputSchema` —
//! drive the real binary's `demo` mode. `.ci/run` installs them into
//! tests/clients; a local run without them skips, CI without them fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_infisical-mcp-rs");

fn clients_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"))
}

/// Whether the client is installed; in CI its absence is a failure.
fn installed(marker: &Path, what: &str) -> bool {
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
    if !installed(
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
    if !installed(&python, "the Python mcp SDK") {
        return;
    }
    let mut cmd = Command::new(python);
    cmd.arg(dir.join("python_client.py")).arg(BIN);
    check(cmd, "python client");
}
