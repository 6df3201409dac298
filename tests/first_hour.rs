//! A new user's first hour, scripted: the README's "Use with Claude Code"
//! section walked with the real `claude` CLI (`claude mcp add-json`, then
//! `claude mcp list`) against the fake vault with no Cloudflare Access in
//! front, in a fresh HOME with no API key (`claude mcp list` starts the
//! server and asks it to initialize; it needs no network). Then the same
//! project folder as `doctor` sees it. `.ci/run` installs the CLI into
//! tests/clients; a local run without it skips, CI without it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{BIN, doctor_step, start_vault};
use infisical_fakevault::{self as fakevault, CfGate, Generation};

const README: &str = include_str!("../README.md");
const SCOPE: &str = "dev:/agents/warden/**";

fn claude_bin() -> Option<PathBuf> {
    let bin = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/node_modules/.bin/claude"
    ));
    common::client_installed(bin, "the claude CLI (npm ci --prefix tests/clients)").then(|| bin.to_path_buf())
}

/// The shell of a user who followed the README: the vault's URL, the
/// identity and the project exported; no Cloudflare variables; the binary
/// and `claude` on PATH; a HOME of its own.
fn user_env(base_url: &str, home: &Path, claude: &Path) -> HashMap<String, String> {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}:{}",
        bin_dir.display(),
        claude.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    HashMap::from([
        ("PATH".into(), path),
        ("HOME".into(), home.display().to_string()),
        ("INFISICAL_HOST_URL".into(), base_url.to_string()),
        (
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID".into(),
            fakevault::DEMO_CLIENT_ID.into(),
        ),
        (
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET".into(),
            fakevault::DEMO_CLIENT_SECRET.into(),
        ),
        ("INFISICAL_PROJECT_ID".into(), fakevault::DEMO_PROJECT_ID.into()),
        // No auto-update, telemetry or other calls home from the CLI.
        ("DISABLE_AUTOUPDATER".into(), "1".into()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(), "1".into()),
    ])
}

fn run(env: &HashMap<String, String>, dir: &Path, program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env_clear()
        .envs(env)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// The one `claude mcp add-json` line of the README's Claude Code section.
fn readme_command() -> &'static str {
    let section = README
        .split("## Use with Claude Code")
        .nth(1)
        .expect("README has a 'Use with Claude Code' section");
    section
        .lines()
        .find(|l| l.starts_with("claude mcp add-json "))
        .expect("the section shows a `claude mcp add-json` line")
}

fn project_dir(env: &HashMap<String, String>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(env, dir.path(), "git", &["init", "-q"]).status.success());
    std::fs::write(dir.path().join(".gitignore"), ".mcp.json\n").unwrap();
    dir
}

/// The README's approval step: `enabledMcpjsonServers` in `.claude/settings.local.json`.
fn approve(dir: &Path) {
    std::fs::create_dir_all(dir.join(".claude")).unwrap();
    std::fs::write(
        dir.join(".claude/settings.local.json"),
        r#"{"enabledMcpjsonServers": ["infisical"]}"#,
    )
    .unwrap();
}

#[test]
fn the_readme_command_is_what_mcp_config_prints_without_cloudflare() {
    let home = tempfile::tempdir().unwrap();
    let env = user_env(
        "http://127.0.0.1:9",
        home.path(),
        Path::new("/nonexistent/claude"),
    );
    let out = run(
        &env,
        home.path(),
        BIN,
        &["mcp-config", "--scope", SCOPE, "--claude"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim_end(), readme_command());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("are not set here, so the entry has no Cloudflare Access lines"),
        "{stderr}"
    );
    let line = readme_command();
    assert!(!line.contains("CF_ACCESS_"), "{line}");
    assert!(line.contains(r#""INFISICAL_ENVIRONMENT":"dev""#), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_connects_with_the_readme_entry_and_doctor_agrees() {
    let Some(claude) = claude_bin() else { return };
    let vault = start_vault(Generation::Current, CfGate::Off).await;
    let home = tempfile::tempdir().unwrap();
    let env = user_env(&vault.base_url(), home.path(), &claude);
    let dir = project_dir(&env);

    // The README's command, verbatim, through a shell as a user pastes it.
    let added = run(&env, dir.path(), "sh", &["-c", readme_command()]);
    assert!(
        added.status.success(),
        "{}{}",
        text(&added.stdout),
        text(&added.stderr)
    );
    assert!(dir.path().join(".mcp.json").exists());
    approve(dir.path());

    let listed = tokio::task::spawn_blocking({
        let (env, dir) = (env.clone(), dir.path().to_path_buf());
        let claude = claude.display().to_string();
        move || run(&env, &dir, &claude, &["mcp", "list"])
    })
    .await
    .unwrap();
    let stdout = text(&listed.stdout);
    assert!(
        stdout.contains("infisical: infisical-mcp-rs serve - ✔ Connected"),
        "claude mcp list: {stdout}{}",
        text(&listed.stderr)
    );

    // doctor in the same folder diagnoses the server the entry starts: its
    // scope and environment, though neither is exported in this shell.
    let out = run(&env, dir.path(), BIN, &["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = |name: &str| doctor_step(&report, name);
    let config = step("config");
    let detail = config["detail"].as_str().unwrap();
    assert!(
        detail.contains("default environment dev") && detail.contains(&format!("scope {SCOPE}")),
        "{config}"
    );
    assert!(
        detail.contains("settings of .mcp.json server 'infisical'"),
        "{config}"
    );
    assert_eq!(step("mcp-json")["status"], "pass", "{report}");
    assert_eq!(step("in-scope-read")["status"], "pass", "{report}");
    assert_eq!(out.status.code(), Some(0), "{report}");
}

/// The failure the README's old command met without Cloudflare Access: an
/// entry that references CF variables nobody set. Claude Code cannot start
/// the server; doctor names the variable and the line to delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unset_cloudflare_reference_is_named_with_the_line_to_delete() {
    let vault = start_vault(Generation::Current, CfGate::Off).await;
    let home = tempfile::tempdir().unwrap();
    let env = user_env(&vault.base_url(), home.path(), Path::new("/nonexistent/claude"));
    let dir = project_dir(&env);
    let out = run(
        &env,
        dir.path(),
        BIN,
        &["mcp-config", "--scope", SCOPE, "--cf-access", "--write"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    if let Some(claude) = claude_bin() {
        approve(dir.path());
        let env = user_env(&vault.base_url(), home.path(), &claude);
        let listed = run(&env, dir.path(), &claude.display().to_string(), &["mcp", "list"]);
        assert!(
            text(&listed.stdout).contains("✘ Failed to connect"),
            "{}",
            text(&listed.stdout)
        );
    }

    let out = run(&env, dir.path(), BIN, &["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = doctor_step(&report, "mcp-json");
    assert_eq!(step["status"], "fail", "{step}");
    assert!(step.get("failureMode").is_none(), "{step}");
    let detail = step["detail"].as_str().unwrap();
    assert!(
        detail.contains(
            "passes CF_ACCESS_CLIENT_ID as ${CF_ACCESS_CLIENT_ID}, but CF_ACCESS_CLIENT_ID is not set"
        ),
        "{detail}"
    );
    let fix = step["fix"].as_str().unwrap();
    assert!(
        fix.contains(r#"delete the line "CF_ACCESS_CLIENT_ID": "${CF_ACCESS_CLIENT_ID}" from .mcp.json"#),
        "{fix}"
    );
}

/// Universal-auth variables still exported and an admin's INFISICAL_TOKEN
/// added: the operator commands say at start which one they use and how to
/// pick the other, `provision --json` in its warnings.
#[test]
fn two_credentials_are_named_at_start_by_every_command() {
    let home = tempfile::tempdir().unwrap();
    let mut env = user_env(
        "http://127.0.0.1:9",
        home.path(),
        Path::new("/nonexistent/claude"),
    );
    env.insert("INFISICAL_TOKEN".into(), "an-admin-token-0123456789".into());
    env.remove("INFISICAL_PROJECT_ID");
    let note = "INFISICAL_TOKEN is ignored: universal auth (INFISICAL_UNIVERSAL_AUTH_CLIENT_ID / _SECRET) \
                is set too and wins; set INFISICAL_AUTH_METHOD=access-token to use INFISICAL_TOKEN instead";

    // Stops at the missing project id, before any network call.
    let out = run(
        &env,
        home.path(),
        BIN,
        &[
            "provision",
            "agent",
            "--environment",
            "dev",
            "--glob",
            "/apps/agent/**",
            "--json",
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    assert!(
        doc["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().starts_with(note)),
        "{doc}"
    );

    // Port 9 on loopback refuses at once: the warning comes before that.
    let out = run(
        &env,
        home.path(),
        BIN,
        &["github-token", "--bot", "b", "--project-id", "p"],
    );
    assert!(text(&out.stderr).contains(note), "{}", text(&out.stderr));

    // Choosing says nothing more.
    env.insert("INFISICAL_AUTH_METHOD".into(), "access-token".into());
    let out = run(&env, home.path(), BIN, &["provision", "agent", "--json"]);
    assert!(!text(&out.stdout).contains("is ignored"), "{}", text(&out.stdout));
    for o in [&out.stdout, &out.stderr] {
        assert!(!text(o).contains("an-admin-token-0123456789"));
    }
}
