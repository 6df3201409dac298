//! The `.mcp.json` in the current directory, as Claude Code will read it:
//! the server entry that runs this binary (preferably the one named
//! `infisical`), its `${VAR}` references resolved from this shell, and the
//! checks that it exists, passes secrets only as references, references only
//! variables that are set, and is gitignored. [`load`] gives the entry's
//! settings to the rest of `doctor`, which then diagnoses the server as that
//! entry configures it. Values found in the file are never shown.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::modes::{FIX_E, FailureMode};
use super::report::Step;
use crate::config::{CF_ID_VAR, CF_SECRET_VAR, EnvSource};
use crate::operator::mcp_config::{
    BIN_NAME, MCP_JSON, SECRET_VARS, git_ignored, is_reference, runs_this_binary,
};

/// The server entry's settings, as the MCP client would pass them.
#[derive(Debug, Default)]
pub struct Loaded {
    pub name: String,
    /// Variable → value, references resolved; entries whose reference
    /// cannot be resolved are left out (the server would stop on them).
    pub values: HashMap<String, String>,
    /// (entry key, unset variable it refers to).
    pub unset: Vec<(String, String)>,
}

/// `${VAR}` and `${VAR:-default}` expanded from `env`, as Claude Code does;
/// the names of unset variables (without a default) on failure.
fn expand(value: &str, env: &dyn EnvSource) -> Result<String, Vec<String>> {
    let mut out = String::new();
    let mut unset = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match (env.var(name), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => unset.push(name.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    if unset.is_empty() { Ok(out) } else { Err(unset) }
}

/// The entry that runs this binary: the one named `infisical` if it does,
/// else the first that does.
fn our_entry(doc: &Value) -> Option<(&String, &Value)> {
    let servers = doc.get("mcpServers")?.as_object()?;
    servers
        .iter()
        .filter(|(_, s)| runs_this_binary(s))
        .min_by_key(|(name, _)| name.as_str() != "infisical")
}

/// The entry's settings, when `dir/.mcp.json` has one (problems with the
/// file itself are [`check`]'s to report).
pub fn load(dir: &Path, env: &dyn EnvSource) -> Option<Loaded> {
    let text = std::fs::read_to_string(dir.join(MCP_JSON)).ok()?;
    let doc: Value = serde_json::from_str(&text).ok()?;
    let (name, server) = our_entry(&doc)?;
    let mut loaded = Loaded {
        name: name.clone(),
        ..Loaded::default()
    };
    if let Some(vars) = server.get("env").and_then(Value::as_object) {
        for (key, value) in vars {
            let Some(raw) = value.as_str() else { continue };
            match expand(raw, env) {
                Ok(v) if !v.trim().is_empty() => {
                    loaded.values.insert(key.clone(), v);
                }
                Ok(_) => {}
                Err(vars) => loaded.unset.extend(vars.into_iter().map(|v| (key.clone(), v))),
            }
        }
    }
    Some(loaded)
}

/// The environment `serve` would get from the entry, over this shell's.
pub struct Overlay<'a> {
    pub entry: HashMap<String, String>,
    pub base: &'a dyn EnvSource,
}

impl EnvSource for Overlay<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.entry.get(name).cloned().or_else(|| self.base.var(name))
    }
}

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

/// `no_cf_access`: the vault answered without Cloudflare Access headers,
/// so a `CF_ACCESS_*` line whose variable is unset can simply go.
pub fn check(dir: &Path, env: &dyn EnvSource, no_cf_access: bool) -> Step {
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
    let mut fixes: Vec<String> = Vec::new();
    let mut literal = false;
    for (name, server) in &ours {
        if let Some(env) = server.get("env").and_then(Value::as_object) {
            for (key, value) in env {
                if !SECRET_VARS.contains(&key.as_str()) {
                    continue;
                }
                match value.as_str() {
                    Some(v) if is_reference(v) => {}
                    // The value itself is never shown: it may be a live secret.
                    _ => {
                        literal = true;
                        problems.push(format!(
                            "server '{name}' has a literal value for {key} (must be a ${{VAR}} reference)"
                        ));
                    }
                }
            }
        }
    }
    if let Some(loaded) = load(dir, env) {
        for (key, var) in &loaded.unset {
            problems.push(format!(
                "server '{}' passes {key} as ${{{var}}}, but {var} is not set in this shell: Claude Code \
                 passes the text unexpanded and the server stops (claude mcp list shows \u{2718} Failed to connect)",
                loaded.name
            ));
            let cf = var == CF_ID_VAR || var == CF_SECRET_VAR;
            fixes.push(if cf && no_cf_access {
                format!(
                    "the vault answered without Cloudflare Access: delete the line \"{key}\": \"${{{var}}}\" \
                     from {MCP_JSON} (or regenerate it: infisical-mcp-rs mcp-config --write --force)"
                )
            } else if cf {
                format!(
                    "export {var} in the shell that starts claude, or, if no Cloudflare Access is in front \
                     of the vault, delete the line \"{key}\": \"${{{var}}}\" from {MCP_JSON}"
                )
            } else {
                format!("export {var} in the shell that starts claude")
            });
        }
    }
    if literal {
        fixes.push(FIX_E.to_string());
    }
    let ignored = git_ignored(dir, MCP_JSON);
    if ignored == Some(false) {
        problems.push(format!(
            "{MCP_JSON} is not gitignored (or is already committed); it is session-local"
        ));
        fixes.push(format!(
            "add {MCP_JSON} to .gitignore (and `git rm --cached {MCP_JSON}` if it was committed)"
        ));
    }
    let names: Vec<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
    if !problems.is_empty() {
        let step = Step::fail(NAME, problems.join("; ")).fix(fixes.join("; "));
        // Mode E is the file's own failure: a literal secret in it.
        return if literal { step.mode(FailureMode::E) } else { step };
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
