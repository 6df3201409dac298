//! `mcp-config` through the real binary: the entry carries `${VAR}`
//! references only (never a value from the environment), `--write` creates
//! or merges `./.mcp.json` keeping everything else, refuses to replace an
//! entry without `--force`, and warns when the file is not gitignored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_infisical-mcp-rs");
const LIVE_SECRET: &str = "live-CLIENT-SECRET-do-not-write-3c3c";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Out {
    let mut argv = vec!["mcp-config"];
    argv.extend_from_slice(args);
    let out = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // Set, to prove they are never copied into the entry.
        .env("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", LIVE_SECRET)
        .env("CF_ACCESS_CLIENT_SECRET", LIVE_SECRET)
        .env("INFISICAL_BROKER_TOKEN", LIVE_SECRET)
        .env("INFISICAL_HOST_URL", "https://vault.example.com")
        .env("INFISICAL_SCOPE", "prod:/from-env/**")
        .args(&argv)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!out.stdout.contains(LIVE_SECRET) && !out.stderr.contains(LIVE_SECRET));
    out
}

fn read(dir: &Path) -> (String, Value) {
    let text = std::fs::read_to_string(dir.join(".mcp.json")).unwrap();
    assert!(!text.contains(LIVE_SECRET));
    let value = serde_json::from_str(&text).unwrap();
    (text, value)
}

fn git_init(dir: &Path) {
    assert!(
        Command::new("git")
            .args(["init", "-q"])
            .current_dir(dir)
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn prints_an_entry_with_references_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["--scope", "dev:/agents/warden/**", "--environment", "dev"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let entry = &doc["mcpServers"]["infisical"];
    assert_eq!(entry["command"], "infisical-mcp-rs");
    assert_eq!(entry["type"], "stdio");
    let env = entry["env"].as_object().unwrap();
    for var in [
        "INFISICAL_HOST_URL",
        "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
        "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
        "CF_ACCESS_CLIENT_ID",
        "CF_ACCESS_CLIENT_SECRET",
        "INFISICAL_PROJECT_ID",
    ] {
        assert_eq!(env[var], format!("${{{var}}}"), "{var}");
    }
    assert_eq!(env["INFISICAL_SCOPE"], "dev:/agents/warden/**");
    assert_eq!(env["INFISICAL_ENVIRONMENT"], "dev");
    assert!(
        out.stdout
            .starts_with("{\n  \"mcpServers\": {\n    \"infisical\": {\n")
    );
    assert!(!dir.path().join(".mcp.json").exists(), "printing writes nothing");
}

#[test]
fn renamed_variables_command_and_no_cf() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "--name",
            "vault",
            "--command",
            "/opt/bin/infisical-mcp-rs",
            "--client-id-var",
            "INFISICAL_MCP_CLIENT_ID",
            "--client-secret-var",
            "INFISICAL_MCP_CLIENT_SECRET",
            "--no-cf-access",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let entry = &doc["mcpServers"]["vault"];
    assert_eq!(entry["command"], "/opt/bin/infisical-mcp-rs");
    assert_eq!(
        entry["env"]["INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"],
        "${INFISICAL_MCP_CLIENT_SECRET}"
    );
    assert_eq!(entry["env"]["INFISICAL_SCOPE"], "${INFISICAL_SCOPE}");
    assert!(entry["env"].get("CF_ACCESS_CLIENT_SECRET").is_none());
    assert!(out.stderr.contains("not on PATH"), "{}", out.stderr);

    let bad = run(dir.path(), &["--scope", "no-colon"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--scope"), "{}", bad.stderr);
}

#[test]
fn write_creates_then_refuses_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--write", "--scope", "dev:/a/**"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let (first, doc) = read(dir.path());
    assert_eq!(
        doc["mcpServers"]["infisical"]["env"]["INFISICAL_SCOPE"],
        "dev:/a/**"
    );

    let again = run(dir.path(), &["--write", "--scope", "dev:/b/**"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(read(dir.path()).0, first, "a refused write leaves the file alone");

    let forced = run(dir.path(), &["--write", "--force", "--scope", "dev:/b/**"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let (_, doc) = read(dir.path());
    assert_eq!(
        doc["mcpServers"]["infisical"]["env"]["INFISICAL_SCOPE"],
        "dev:/b/**"
    );
}

#[test]
fn merge_keeps_other_servers_and_keys_intact() {
    let dir = tempfile::tempdir().unwrap();
    let original = r#"{
  "mcpServers": {
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PAT}" }
    },
    "files": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "."]
    }
  },
  "zzOther": { "keep": [1, 2, 3] },
  "aFirst": true
}
"#;
    std::fs::write(dir.path().join(".mcp.json"), original).unwrap();
    let before: Value = serde_json::from_str(original).unwrap();
    let out = run(dir.path(), &["--write"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (text, after) = read(dir.path());
    assert_eq!(after["mcpServers"]["github"], before["mcpServers"]["github"]);
    assert_eq!(after["mcpServers"]["files"], before["mcpServers"]["files"]);
    assert_eq!(after["zzOther"], json!({"keep": [1, 2, 3]}));
    assert_eq!(after["aFirst"], true);
    // Order and the other entries' text are kept; ours comes last.
    let servers: Vec<&String> = after["mcpServers"].as_object().unwrap().keys().collect();
    assert_eq!(servers.len(), 3);
    assert!(text.contains(r#""args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],"#));
    let (g, f, i) = (
        text.find("\"github\"").unwrap(),
        text.find("\"files\"").unwrap(),
        text.find("\"infisical\"").unwrap(),
    );
    assert!(g < f && f < i, "{text}");
    assert!(text.find("\"zzOther\"").unwrap() < text.find("\"aFirst\"").unwrap());
    assert!(
        text.contains("\n    \"infisical\": {\n      \"type\": \"stdio\",\n"),
        "{text}"
    );

    // Not JSON: nothing is written.
    std::fs::write(dir.path().join(".mcp.json"), "{ not json").unwrap();
    let out = run(dir.path(), &["--write"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".mcp.json")).unwrap(),
        "{ not json"
    );
}

#[test]
fn warns_when_not_gitignored() {
    let dir = tempfile::tempdir().unwrap();
    git_init(dir.path());
    let out = run(dir.path(), &["--write"]);
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("not gitignored"), "{}", out.stderr);

    let dir = tempfile::tempdir().unwrap();
    git_init(dir.path());
    std::fs::write(dir.path().join(".gitignore"), ".mcp.json\n").unwrap();
    let out = run(dir.path(), &["--write"]);
    assert_eq!(out.code, 0);
    assert!(!out.stderr.contains("not gitignored"), "{}", out.stderr);
}

#[test]
fn unset_references_are_named_before_a_client_trips_on_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let note = out
        .stderr
        .lines()
        .find(|l| l.starts_with("note: "))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    for unset in [
        "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
        "CF_ACCESS_CLIENT_ID",
        "INFISICAL_PROJECT_ID",
    ] {
        assert!(note.contains(unset), "{note}");
    }
    for set in [
        "INFISICAL_HOST_URL,",
        "CF_ACCESS_CLIENT_SECRET",
        "INFISICAL_SCOPE",
    ] {
        assert!(!note.contains(set), "{note}");
    }
    assert!(note.contains("--no-cf-access"), "{note}");
    // Everything referenced and set: no note. Literal values are not references.
    let out = run(
        dir.path(),
        &[
            "--no-cf-access",
            "--client-id-var",
            "PATH",
            "--scope",
            "dev:/x/**",
        ],
    );
    assert!(
        out.stderr.contains("note: INFISICAL_PROJECT_ID not set"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("--no-cf-access"), "{}", out.stderr);
}

/// `--claude` prints one `claude mcp add-json` line whose JSON survives the
/// shell as written: `${VAR}` references reach Claude Code unexpanded, and
/// no value from the environment is in it.
#[test]
fn claude_flag_prints_an_add_json_line_with_references_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "--claude",
            "--scope",
            "dev:/agents/warden/**",
            "--environment",
            "dev",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out.stdout.trim_end();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.starts_with("claude mcp add-json --scope project infisical '{"),
        "{line}"
    );
    assert!(out.stderr.contains("claude mcp list"), "{}", out.stderr);
    assert!(!dir.path().join(".mcp.json").exists(), "printing writes nothing");
    // Let a real shell split the line, with the referenced variables set:
    // the quoting must keep them from being expanded into values.
    let words = Command::new("sh")
        .args([
            "-c",
            r#"claude() { for a in "$@"; do printf '%s\n' "$a"; done; }; eval "$1""#,
            "sh",
            line,
        ])
        .env("INFISICAL_HOST_URL", "https://expanded.example.com")
        .env("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", LIVE_SECRET)
        .output()
        .unwrap();
    assert!(words.status.success());
    let words = String::from_utf8(words.stdout).unwrap();
    let words: Vec<&str> = words.lines().collect();
    assert_eq!(words[..5], ["mcp", "add-json", "--scope", "project", "infisical"]);
    assert_eq!(words.len(), 6, "{words:?}");
    let entry: Value = serde_json::from_str(words[5]).unwrap();
    assert_eq!(entry["type"], "stdio");
    assert_eq!(entry["command"], "infisical-mcp-rs");
    assert_eq!(entry["args"], json!(["serve"]));
    let env = entry["env"].as_object().unwrap();
    for (var, value) in env {
        match var.as_str() {
            "INFISICAL_SCOPE" => assert_eq!(value, "dev:/agents/warden/**"),
            "INFISICAL_ENVIRONMENT" => assert_eq!(value, "dev"),
            _ => assert_eq!(value, &json!(format!("${{{var}}}")), "{var}"),
        }
    }
    assert!(env.contains_key("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"));
    assert!(!words[5].contains(LIVE_SECRET) && !words[5].contains("expanded.example.com"));
    // --claude prints; it never writes, so --write with it is refused.
    let both = run(dir.path(), &["--claude", "--write"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
}

// Install routes: `--install path|absolute|npx` changes only how the client
// starts the server; the environment stays references only.

fn route_entry(dir: &Path, route: &str) -> (Value, Out) {
    let out = run(dir, &["--install", route, "--scope", "dev:/agents/warden/**"]);
    assert_eq!(out.code, 0, "--install {route}: {}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let entry = doc["mcpServers"]["infisical"].clone();
    assert_eq!(entry["type"], "stdio");
    for (var, value) in entry["env"].as_object().unwrap() {
        match var.as_str() {
            "INFISICAL_SCOPE" => assert_eq!(value, "dev:/agents/warden/**"),
            // The one environment the scope names is written as the default.
            "INFISICAL_ENVIRONMENT" => assert_eq!(value, "dev", "--install {route}"),
            _ => assert_eq!(value, &json!(format!("${{{var}}}")), "--install {route}: {var}"),
        }
    }
    (entry, out)
}

#[test]
fn install_routes_name_the_binary_its_path_or_the_pinned_npm_package() {
    let dir = tempfile::tempdir().unwrap();

    let (entry, _) = route_entry(dir.path(), "path");
    assert_eq!(entry["command"], "infisical-mcp-rs");
    assert_eq!(entry["args"], json!(["serve"]));

    let (entry, _) = route_entry(dir.path(), "absolute");
    let own = std::fs::canonicalize(BIN).unwrap();
    assert_eq!(entry["command"], own.to_str().unwrap());
    assert!(Path::new(entry["command"].as_str().unwrap()).is_absolute());
    assert_eq!(entry["args"], json!(["serve"]));

    let (entry, out) = route_entry(dir.path(), "npx");
    assert_eq!(entry["command"], "npx");
    let pinned = format!("infisical-mcp-rs@{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(entry["args"], json!(["-y", pinned, "serve"]));
    assert!(out.stderr.contains("starts faster"), "{}", out.stderr);
    assert!(!dir.path().join(".mcp.json").exists(), "printing writes nothing");
}

#[test]
fn install_route_with_write_and_claude_and_refused_with_command() {
    let dir = tempfile::tempdir().unwrap();
    git_init(dir.path());
    std::fs::write(dir.path().join(".gitignore"), ".mcp.json\n").unwrap();
    let out = run(dir.path(), &["--install", "npx", "--write"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (_, doc) = read(dir.path());
    assert_eq!(doc["mcpServers"]["infisical"]["command"], "npx");

    let out = run(dir.path(), &["--install", "npx", "--claude"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!(
            r#""command":"npx","args":["-y","infisical-mcp-rs@{}","serve"]"#,
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        out.stdout
    );

    // Two answers to "what does the client run" is one too many.
    let both = run(dir.path(), &["--install", "npx", "--command", "/opt/bin/x"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
    assert!(both.stderr.contains("--command"), "{}", both.stderr);
    let bad = run(dir.path(), &["--install", "brew"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("path") && bad.stderr.contains("npx"),
        "{}",
        bad.stderr
    );
}

#[test]
fn npx_entries_count_as_this_binary() {
    use infisical_mcp_rs::operator::mcp_config::runs_this_binary;
    let entry = |command: &str, args: &[&str]| json!({ "command": command, "args": args });
    assert!(runs_this_binary(&entry("infisical-mcp-rs", &["serve"])));
    assert!(runs_this_binary(&entry("/opt/bin/infisical-mcp-rs", &["serve"])));
    assert!(runs_this_binary(&entry(
        "npx",
        &["-y", "infisical-mcp-rs@0.1.0", "serve"]
    )));
    assert!(runs_this_binary(&entry(
        "/usr/bin/npx",
        &["infisical-mcp-rs", "serve"]
    )));
    assert!(!runs_this_binary(&entry("npx", &["-y", "@infisical/mcp"])));
    assert!(!runs_this_binary(&entry(
        "npx",
        &["-y", "infisical-mcp-rs-linux-x64-musl"]
    )));
    assert!(!runs_this_binary(&entry("npx", &[])));
    assert!(!runs_this_binary(&entry("node", &["infisical-mcp-rs"])));
}

/// With a broker's rules file: the server gets the file and the broker URL,
/// the agent's lines name the URL and the token only as a reference.
#[test]
fn broker_rules_add_the_server_lines_and_print_the_agents() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("broker.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"dns\"\nupstream = \"https://api.example.com\"\nsecret = \"prod:/team/dns/DNS_TOKEN\"\n\
         header = \"Authorization\"\npaths = [\"/v1/**\"]\nuse_only = true\n\
         [[rule]]\nname = \"github\"\nupstream = \"https://api.github.com\"\ngithub_app = \"prod:/bots/ci-bot\"\n\
         paths = [\"/repos/**\"]\n",
    )
    .unwrap();
    let out = run(
        dir.path(),
        &[
            "--broker-rules",
            "broker.toml",
            "--broker-url",
            "http://127.0.0.1:2021/",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let entry = &doc["mcpServers"]["infisical"];
    let absolute = std::fs::canonicalize(&rules).unwrap().display().to_string();
    assert_eq!(entry["args"], json!(["serve", "--broker-rules", absolute]));
    assert_eq!(entry["env"]["INFISICAL_BROKER_URL"], "http://127.0.0.1:2021");
    assert!(
        out.stderr
            .contains("through http://127.0.0.1:2021/RULE/<path> (rules: dns, github)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(r#"{"env":{"INFISICAL_BROKER_URL":"http://127.0.0.1:2021"}}"#),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("-H \"X-Broker-Token: $INFISICAL_BROKER_TOKEN\""),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("is not set here; without it"),
        "{}",
        out.stderr
    );

    // A rules file the server could not load is refused before anything is printed.
    std::fs::write(&rules, "[[rule]]\nname = \"dns\"\n").unwrap();
    let out = run(dir.path(), &["--broker-rules", "broker.toml"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("--broker-rules"), "{}", out.stderr);
    let out = run(dir.path(), &["--broker-url", "http://127.0.0.1:2020"]);
    assert_eq!(out.code, 2, "--broker-url needs --broker-rules: {}", out.stderr);
}
