//! Every configuration mistake stops the real binary with exit code 2 and one
//! message that names the variable and the fix, before any network call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_infisical-mcp-rs");

/// A listener that counts connections: any connection means the binary
/// reached for the network before validating its configuration.
struct Tripwire {
    listener: TcpListener,
}

impl Tripwire {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Self { listener }
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.listener.local_addr().unwrap().port())
    }
    fn touched(&self) -> bool {
        self.listener.accept().is_ok()
    }
}

fn base(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("INFISICAL_HOST_URL", url.to_string()),
        ("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", "id-123".into()),
        (
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
            "cs-not-a-real-secret".into(),
        ),
        ("INFISICAL_SCOPE", "dev:/agents/**".into()),
    ]
}

/// Runs the binary with `env` (and nothing else) and stdin at EOF.
fn run(env: &[(&str, String)], args: &[&str]) -> (i32, String) {
    let mut child = Command::new(BIN)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.stdout.is_empty(), "stdout must carry nothing but JSON-RPC");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn with(
    mut env: Vec<(&'static str, String)>,
    key: &'static str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    env.retain(|(k, _)| *k != key);
    if let Some(v) = value {
        env.push((key, v.to_string()));
    }
    env
}

#[track_caller]
fn assert_config_error(env: &[(&str, String)], args: &[&str], names: &str, fix: &str, wire: &Tripwire) {
    let (code, stderr) = run(env, args);
    assert_eq!(code, 2, "exit code for {names}; stderr: {stderr}");
    assert!(stderr.contains(names), "stderr should name {names}: {stderr}");
    assert!(stderr.contains(fix), "stderr should say '{fix}': {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!wire.touched(), "a network call was made before validation");
}

#[test]
fn each_configuration_error_names_the_variable_and_the_fix() {
    let wire = Tripwire::new();
    let url = wire.url();
    type Env = Vec<(&'static str, String)>;
    let cases: Vec<(Env, Vec<&str>, &str, &str)> = vec![
        (
            with(base(&url), "INFISICAL_HOST_URL", None),
            vec![],
            "INFISICAL_HOST_URL",
            "base URL",
        ),
        (
            with(base(&url), "INFISICAL_HOST_URL", Some("not a url")),
            vec![],
            "INFISICAL_HOST_URL",
            "https://",
        ),
        (
            with(base(&url), "INFISICAL_HOST_URL", Some("http://vault.example.com")),
            vec![],
            "INFISICAL_HOST_URL",
            "--allow-insecure-http",
        ),
        (
            with(base(&url), "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", None),
            vec![],
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
            "client secret",
        ),
        (
            with(base(&url), "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", None),
            vec![],
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
            "client id",
        ),
        (
            with(
                with(base(&url), "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", None),
                "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
                None,
            ),
            vec![],
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
            "INFISICAL_TOKEN",
        ),
        (
            with(base(&url), "CF_ACCESS_CLIENT_ID", Some("abc.access")),
            vec![],
            "CF_ACCESS_CLIENT_SECRET",
            "or neither",
        ),
        (
            with(base(&url), "CF_ACCESS_CLIENT_SECRET", Some("s3cr3t")),
            vec![],
            "CF_ACCESS_CLIENT_ID",
            "or neither",
        ),
        (
            with(
                base(&url),
                "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
                Some("${INFISICAL_CLIENT_SECRET}"),
            ),
            vec![],
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
            "unexpanded",
        ),
        (
            with(base(&url), "INFISICAL_SCOPE", None),
            vec![],
            "INFISICAL_SCOPE",
            "--scope '*:/**'",
        ),
        (
            with(base(&url), "INFISICAL_SCOPE", Some("agents/**")),
            vec![],
            "INFISICAL_SCOPE",
            "ENV:GLOB",
        ),
        (base(&url), vec!["--scope", "dev"], "--scope", "ENV:GLOB"),
        (
            with(base(&url), "INFISICAL_ENVIRONMENT", Some("d e v")),
            vec![],
            "INFISICAL_ENVIRONMENT",
            "slug",
        ),
        (
            with(base(&url), "INFISICAL_SECRET_PATH", Some("/a/../b")),
            vec![],
            "INFISICAL_SECRET_PATH",
            "absolute folder path",
        ),
        (
            with(base(&url), "INFISICAL_AUTH_METHOD", Some("oidc")),
            vec![],
            "INFISICAL_AUTH_METHOD",
            "universal-auth or access-token",
        ),
        (
            with(base(&url), "INFISICAL_USER_AGENT", Some("bad\u{7f}agent")),
            vec![],
            "INFISICAL_USER_AGENT",
            "printable ASCII",
        ),
    ];
    for (env, args, names, fix) in cases {
        assert_config_error(&env, &args, names, fix, &wire);
    }
}

#[test]
fn the_secret_value_of_a_bad_variable_is_never_echoed() {
    let wire = Tripwire::new();
    let env = with(
        base(&wire.url()),
        "CF_ACCESS_CLIENT_SECRET",
        Some("cf-secret-SHOULD-NOT-APPEAR"),
    );
    let (code, stderr) = run(&env, &[]);
    assert_eq!(code, 2);
    assert!(!stderr.contains("SHOULD-NOT-APPEAR"), "{stderr}");
}

#[test]
fn help_lists_every_environment_variable() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    common::assert_contains_all(
        "--help",
        &help,
        &[
            "INFISICAL_HOST_URL",
            "INFISICAL_DOMAIN",
            "INFISICAL_API_URL",
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
            "INFISICAL_CLIENT_ID",
            "INFISICAL_CLIENT_SECRET",
            "INFISICAL_TOKEN",
            "CF_ACCESS_CLIENT_ID",
            "CF_ACCESS_CLIENT_SECRET",
            "INFISICAL_PROJECT_ID",
            "INFISICAL_ENVIRONMENT",
            "INFISICAL_SECRET_PATH",
            "INFISICAL_SCOPE",
            "INFISICAL_USER_AGENT",
        ],
    );
}

#[test]
fn a_valid_configuration_starts_and_exits_on_stdin_eof() {
    let wire = Tripwire::new();
    let env = with(
        base(&wire.url()),
        "INFISICAL_DOMAIN",
        Some("ignored-because-primary-wins"),
    );
    let mut child = Command::new(BIN)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closing stdin is how MCP clients end a stdio session.
    child.stdin.take().unwrap().flush().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait()));
    let status = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server did not exit after stdin EOF")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    // Authentication is lazy: a session that made no call never logs in.
    assert!(!wire.touched());
}

#[test]
fn a_surprising_glob_is_served_as_the_vault_reads_it_but_called_out() {
    let wire = Tripwire::new();
    let mut env = base(&wire.url());
    env.retain(|(k, _)| *k != "INFISICAL_SCOPE");
    env.push(("INFISICAL_SCOPE", "dev:/agents/** dev:/x/[!a]".into()));
    let (code, stderr) = run(&env, &[]);
    assert_eq!(code, 0, "a warning, not an error: {stderr}");
    assert!(
        stderr.contains("scope entry dev:/x/[!a]: '[!…]' is not negation"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("dev:/agents/**:"),
        "clean entries are not named: {stderr}"
    );
    assert!(!wire.touched());
}

/// `/X/*` grants below `/X` but not `/X` itself (picomatch, as in
/// Infisical); `serve` starts anyway and says which entry to write instead.
#[test]
fn a_glob_that_leaves_out_its_own_folder_is_called_out_at_start_up() {
    let wire = Tripwire::new();
    let mut env = base(&wire.url());
    env.retain(|(k, _)| *k != "INFISICAL_SCOPE");
    env.push((
        "INFISICAL_SCOPE",
        "dev:/agents/** prod:/MooseQuest/raxx-dev-bot/* prod:/bots/raxx-*/**".into(),
    ));
    let (code, stderr) = run(&env, &[]);
    assert_eq!(code, 0, "a warning, not an error: {stderr}");
    assert!(
        stderr.contains(
            "scope entry prod:/MooseQuest/raxx-dev-bot/* does not cover the folder \
             /MooseQuest/raxx-dev-bot itself"
        ) && stderr.contains("write prod:/MooseQuest/raxx-dev-bot/** to cover"),
        "{stderr}"
    );
    assert!(
        stderr.contains("scope entry prod:/bots/raxx-*/** does not cover a folder such as /bots/raxx-a")
            && stderr.contains("add prod:/bots/raxx-* beside it, or write prod:/bots/**"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("dev:/agents/**"),
        "clean entries are not named: {stderr}"
    );
    assert!(stderr.contains("WARN"), "logged at warn: {stderr}");
    assert!(!wire.touched());
}
