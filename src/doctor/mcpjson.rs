//! Failure mode E: the `.mcp.json` in the current directory exists, has a
//! server that runs this binary, passes secrets only as `${VAR}` references,
//! and is gitignored. Values found in the file are never shown.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::modes::{FIX_E, FailureMode};
use super::report::Step;
use crate::mcp_config::{BIN_NAME, MCP_JSON, SECRET_VARS, git_ignored, is_reference, runs_this_binary};

pub const NAME: &str = "mcp-json";

fn in_git_work_tree(dir: &Path) -> bool {
    Command::new("git")
        .args(["rev-parse", "--is-inside-work-tree"])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"true"))
}

pub fn check(dir: &Path) -> Step {
    let path = dir.join(MCP_JSON);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if in_git_work_tree(dir) {
                return Step::warn(
                    NAME,
                    format!(
                        "no {MCP_JSON} in {}: Claude Code will not load the vault MCP server here",
                        dir.display()
                    ),
                )
                .mode(FailureMode::E)
                .fix(FIX_E);
            }
            return Step::skip(NAME, &format!("no {MCP_JSON} here, and not a project directory"));
        }
        Err(e) => {
            return Step::fail(NAME, format!("cannot read {MCP_JSON}: {e}"))
                .mode(FailureMode::E)
                .fix(FIX_E);
        }
    };
    let doc: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            return Step::fail(
                NAME,
                format!(
                    "{MCP_JSON} is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
            .mode(FailureMode::E)
            .fix(FIX_E);
        }
    };
    let Some(servers) = doc.get("mcpServers").and_then(Value::as_object) else {
        return Step::fail(NAME, format!("{MCP_JSON} has no \"mcpServers\" object"))
            .mode(FailureMode::E)
            .fix(FIX_E);
    };
    let ours: Vec<(&String, &Value)> = servers.iter().filter(|(_, s)| runs_this_binary(s)).collect();
    if ours.is_empty() {
        let node = servers.values().any(|s| {
            s.get("args").and_then(Value::as_array).is_some_and(|a| {
                a.iter()
                    .any(|x| x.as_str().is_some_and(|x| x.contains("@infisical/mcp")))
            })
        });
        let names: Vec<&str> = servers.keys().map(String::as_str).collect();
        let mut detail = format!(
            "no server in {MCP_JSON} runs {BIN_NAME} (servers: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
        if node {
            detail.push_str("; one still runs the Node server (npx @infisical/mcp)");
        }
        return Step::fail(NAME, detail).mode(FailureMode::E).fix(FIX_E);
    }

    let mut problems = Vec::new();
    for (name, server) in &ours {
        if let Some(env) = server.get("env").and_then(Value::as_object) {
            for (key, value) in env {
                if !SECRET_VARS.contains(&key.as_str()) {
                    continue;
                }
                match value.as_str() {
                    Some(v) if is_reference(v) => {}
                    // The value itself is never shown: it may be a live secret.
                    _ => problems.push(format!(
                        "server '{name}' has a literal value for {key} (must be a ${{VAR}} reference)"
                    )),
                }
            }
        }
    }
    let ignored = git_ignored(dir, MCP_JSON);
    if ignored == Some(false) {
        problems.push(format!(
            "{MCP_JSON} is not gitignored (or is already committed): add it to .gitignore; it is session-local"
        ));
    }
    let names: Vec<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
    if !problems.is_empty() {
        return Step::fail(NAME, problems.join("; "))
            .mode(FailureMode::E)
            .fix(FIX_E);
    }
    Step::pass(
        NAME,
        format!(
            "server '{}' runs {BIN_NAME}; secrets passed as ${{VAR}} references; {}",
            names.join("', '"),
            match ignored {
                Some(_) => "gitignored",
                None => "not in a git work tree",
            }
        ),
    )
}
