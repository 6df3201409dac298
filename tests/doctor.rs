//! `doctor` through the real binary against the fake vault (and the fake
//! Cloudflare gate): a healthy run, each of the runbook's failure modes A–E,
//! proxy mode, `--json`, and that no secret ever reaches its output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;

use common::{CF_ID, CF_SECRET, Run, command, env_at, login_gate, run_bin_in, with};
use infisical_fakevault::{
    Action, CfGate, FakeVault, Generation, Identity, PermissionRule, RunningVault, VaultData,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The project, and the identity the doctor checks.
const PROJECT: &str = "proj-doctor-1";
const CLIENT_ID: &str = "ua-doctor-client";
const CLIENT_SECRET: &str = "ua-secret-DOCTOR-9f8e7d";
/// Planted values, one inside the scope and one outside; neither may be printed.
const VALUE: &str = "db-pass-VALUE-4c4c";
const OUTSIDE_VALUE: &str = "outside-VALUE-7a7a";

fn data() -> VaultData {
    VaultData::new()
        .project(PROJECT, "doctor", "doctor")
        .environment(PROJECT, "dev", "Development")
        .folder(PROJECT, "dev", "/agents/other")
        .secret(PROJECT, "dev", "/agents/warden", "DB_PASSWORD", VALUE)
        .secret(PROJECT, "dev", "/agents/warden", "API_KEY", "api-VALUE-1b1b")
        .secret(PROJECT, "dev", "/shared", "OUTSIDE", OUTSIDE_VALUE)
}

fn read_only() -> Identity {
    Identity::new(
        CLIENT_ID,
        CLIENT_SECRET,
        vec![PermissionRule::read("dev", "/agents/warden/**")],
    )
}

async fn vault(gate: CfGate, identity: Identity) -> RunningVault {
    vault_gen(Generation::Current, gate, identity).await
}

async fn vault_gen(generation: Generation, gate: CfGate, identity: Identity) -> RunningVault {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    FakeVault::new(data())
        .generation(generation)
        .gate(gate)
        .identity(identity)
        .start(listener)
        .await
        .unwrap()
}

fn env_for(base_url: &str) -> HashMap<String, String> {
    with(
        env_at(base_url, CLIENT_ID, CLIENT_SECRET, PROJECT),
        &[("INFISICAL_SCOPE", "dev:/agents/warden/**")],
    )
}

fn assert_no_secrets(run: &Run) {
    for secret in [CLIENT_SECRET, CF_SECRET, VALUE, OUTSIDE_VALUE, "api-VALUE-1b1b"] {
        assert!(!run.stdout.contains(secret), "stdout leaks {secret}");
        assert!(!run.stderr.contains(secret), "stderr leaks {secret}");
    }
}

async fn doctor(env: &HashMap<String, String>, args: &[&str], dir: &Path) -> Run {
    let mut argv = vec!["doctor"];
    argv.extend_from_slice(args);
    let run = run_bin_in(env, &argv, dir).await;
    assert_no_secrets(&run);
    run
}

fn git(dir: &Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

/// A git project directory with a gitignored `.mcp.json` written by
/// `mcp-config --write`.
async fn project_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    std::fs::write(dir.path().join(".gitignore"), ".mcp.json\n").unwrap();
    let out = command(
        &HashMap::new(),
        &["mcp-config", "--write", "--scope", "dev:/agents/warden/**"],
    )
    .current_dir(dir.path())
    .output()
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// A directory that is not a project: no `.mcp.json` check.
fn plain_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn assert_step(run: &Run, name: &str, status: &str, mode: Option<&str>, fix_has: &str) {
    let step = run.step(name);
    assert_eq!(step["status"], status, "{name}: {step}");
    match mode {
        Some(m) => assert_eq!(step["failureMode"], m, "{name}: {step}"),
        None => assert!(step.get("failureMode").is_none(), "{name}: {step}"),
    }
    if !fix_has.is_empty() {
        let fix = step["fix"].as_str().unwrap_or_default();
        assert!(
            fix.contains(fix_has),
            "{name} fix should mention {fix_has:?}: {step}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_vault_passes_every_step() {
    // The older build checks the delete permission before existence, so
    // every probe can give a clear answer there (see the next test).
    let vault = vault_gen(Generation::Legacy, login_gate(), read_only()).await;
    let dir = project_dir().await;
    let run = doctor(&env_for(&vault.base_url()), &[], dir.path()).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    for name in [
        "config",
        "reachable",
        "status",
        "login",
        "in-scope-read",
        "out-of-scope-read",
        "write-probe",
        "mcp-json",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with("✔ ") && l.contains(name)),
            "{name} should pass:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("2 keys at dev:/agents/warden"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("9 passed, 0 failed"), "{}", run.stdout);
    // The probes named keys that do not exist: nothing was changed.
    let deletes: Vec<_> = vault
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert!(!deletes.is_empty());
    assert!(deletes.iter().all(|r| r.path.contains("DOCTOR_PROBE_")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_current_infisical_the_write_probe_cannot_tell_and_says_so() {
    // Current Infisical looks the key up before checking the permission: a
    // missing probe key is a 404 for everyone, so the probe can only warn.
    let vault = vault(login_gate(), read_only()).await;
    let run = doctor(&env_for(&vault.base_url()), &["--json"], plain_dir().path()).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_step(&run, "in-scope-read", "pass", None, "");
    assert_step(&run, "out-of-scope-read", "pass", None, "");
    assert_eq!(
        run.step("write-probe")["status"],
        serde_json::json!("warn"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_is_one_document_with_the_documented_shape() {
    let vault = vault(login_gate(), read_only()).await;
    let run = doctor(&env_for(&vault.base_url()), &["--json"], plain_dir().path()).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["ok"], true);
    let steps = doc["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "config",
            "reachable",
            "status",
            "login",
            "in-scope-read",
            "out-of-scope-read",
            "write-probe",
            "credential-store",
            "mcp-json"
        ]
    );
    for step in steps {
        let keys: Vec<&str> = step.as_object().unwrap().keys().map(String::as_str).collect();
        for k in &keys {
            assert!(
                ["name", "status", "elapsedMs", "detail", "failureMode", "fix"].contains(k),
                "unexpected key {k}"
            );
        }
        assert!(["pass", "fail", "warn", "skip"].contains(&step["status"].as_str().unwrap()));
        assert!(step["elapsedMs"].is_u64());
        assert!(step["detail"].is_string());
    }
    assert_eq!(steps[8]["status"], "skip", "not a project directory");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_a_nothing_listening_on_the_proxy_port() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let mut env = env_for("http://127.0.0.1:9");
    env.remove("INFISICAL_HOST_URL");
    let run = doctor(&env, &["--json", "--proxy-url", &url], plain_dir().path()).await;
    assert_eq!(run.code, 1);
    assert_step(&run, "reachable", "fail", Some("A"), &format!("lsof -i :{port}"));
    assert!(run.detail("reachable").contains("connection refused"));
    for later in [
        "status",
        "login",
        "in-scope-read",
        "out-of-scope-read",
        "write-probe",
    ] {
        assert_eq!(run.step(later)["status"], "skip", "{later}");
    }
}

/// Something that speaks HTTP on the port but is not the proxy.
async fn impostor() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello")
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_a_something_else_on_the_proxy_port() {
    let url = impostor().await;
    let run = doctor(
        &env_for("http://127.0.0.1:9"),
        &["--json", "--proxy-url", &url],
        plain_dir().path(),
    )
    .await;
    assert_eq!(run.code, 1);
    assert_step(&run, "reachable", "pass", None, "");
    assert_step(&run, "status", "fail", Some("A"), "lsof -i :");
    assert!(run.detail("status").contains("not this binary's proxy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_b_access_rejects_the_service_token_both_ways() {
    let mut env = env_for("");
    env.insert("CF_ACCESS_CLIENT_SECRET".into(), "stale-cf-secret".into());
    for (gate, says) in [
        (login_gate(), "login page"),
        (
            CfGate::ServiceAuthOnly {
                client_id: CF_ID.into(),
                client_secret: CF_SECRET.into(),
            },
            "HTML 403",
        ),
    ] {
        let vault = vault(gate, read_only()).await;
        env.insert("INFISICAL_HOST_URL".into(), vault.base_url());
        let run = doctor(&env, &["--json"], plain_dir().path()).await;
        assert_eq!(run.code, 1);
        assert_step(
            &run,
            "status",
            "fail",
            Some("B"),
            "Issue or fetch a current service token",
        );
        assert!(run.detail("status").contains(says), "{}", run.stdout);
        assert_eq!(run.step("login")["status"], "skip");
        assert_eq!(vault.login_count(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_b_bot_fight_mode_names_the_waf_rule() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let vault = FakeVault::new(data())
        .identity(read_only())
        .block_default_user_agents(true)
        .start(listener)
        .await
        .unwrap();
    let mut env = env_for(&vault.base_url());
    env.insert("INFISICAL_USER_AGENT".into(), "curl/8.5.0".into());
    let run = doctor(&env, &["--json"], plain_dir().path()).await;
    assert_step(&run, "status", "fail", Some("B"), "WAF skip rule");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_up_but_cloudflare_rejects_is_mode_b() {
    // The proxy passes Cloudflare's answer through; a gated vault reached
    // without the Access headers answers exactly as such a proxy would.
    let vault = vault(login_gate(), read_only()).await;
    let run = doctor(
        &env_for("http://127.0.0.1:9"),
        &["--json", "--proxy-url", &vault.base_url()],
        plain_dir().path(),
    )
    .await;
    assert_eq!(run.code, 1);
    assert_step(&run, "status", "fail", Some("B"), "CF_ACCESS_CLIENT_ID");
    assert!(run.detail("status").contains("proxy is up"));
    // The doctor itself never sent the service token to the proxy.
    assert!(vault.requests().iter().all(|r| !r.gate_passed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_proxy_passes() {
    let vault = vault(CfGate::Off, read_only()).await;
    let run = doctor(
        &env_for("http://127.0.0.1:9"),
        &["--proxy-url", &vault.base_url()],
        plain_dir().path(),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("proxy + CF Access + Infisical all reachable"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_c_wrong_client_secret() {
    let vault = vault(login_gate(), read_only()).await;
    let mut env = env_for(&vault.base_url());
    env.insert(
        "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET".into(),
        "revoked-secret".into(),
    );
    let run = doctor(&env, &["--json"], plain_dir().path()).await;
    assert_eq!(run.code, 1);
    assert_step(
        &run,
        "login",
        "fail",
        Some("C"),
        "Fetch the identity's current client secret",
    );
    assert!(run.detail("login").starts_with("401"));
    assert_eq!(run.step("in-scope-read")["status"], "skip");
    assert_eq!(vault.login_count(), 1, "one attempt: the vault locks after three");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_d_in_scope_path_refused() {
    let lacking = Identity::new(
        CLIENT_ID,
        CLIENT_SECRET,
        vec![PermissionRule::read("dev", "/agents/other/**")],
    );
    let vault = vault(login_gate(), lacking).await;
    let run = doctor(
        &env_for(&vault.base_url()),
        &["--json", "--probe", "dev:/agents/warden:DB_PASSWORD"],
        plain_dir().path(),
    )
    .await;
    assert_eq!(run.code, 1);
    assert_step(
        &run,
        "in-scope-read",
        "fail",
        Some("D"),
        "the one `provision` attached",
    );
    assert_eq!(run.step("write-probe")["status"], "skip");

    // Listing instead: current Infisical filters silently, so 0 keys is a warning.
    let run = doctor(&env_for(&vault.base_url()), &["--json"], plain_dir().path()).await;
    assert_step(&run, "in-scope-read", "warn", Some("D"), "--probe ENV:PATH:KEY");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_d_identity_that_reads_everywhere() {
    let everywhere = Identity::new(CLIENT_ID, CLIENT_SECRET, vec![PermissionRule::read("*", "/**")]);
    let vault = vault(login_gate(), everywhere).await;
    let run = doctor(&env_for(&vault.base_url()), &["--json"], plain_dir().path()).await;
    assert_eq!(run.code, 1);
    assert_step(&run, "in-scope-read", "pass", None, "");
    assert_step(
        &run,
        "out-of-scope-read",
        "fail",
        Some("D"),
        "no permission beyond the reads its agents need",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_d_identity_that_can_delete() {
    let deleter = Identity::new(
        CLIENT_ID,
        CLIENT_SECRET,
        vec![PermissionRule::new(
            &[Action::Read, Action::Delete],
            "dev",
            "/agents/warden/**",
        )],
    );
    // Only a permission-first vault can show this from the outside.
    let vault = vault_gen(Generation::Legacy, login_gate(), deleter).await;
    let run = doctor(&env_for(&vault.base_url()), &["--json"], plain_dir().path()).await;
    assert_eq!(run.code, 1);
    assert_step(&run, "out-of-scope-read", "pass", None, "");
    assert_step(&run, "write-probe", "fail", Some("D"), "read only");
    assert!(run.detail("write-probe").contains("can delete"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_vault_generation_passes_too() {
    let vault = vault_gen(Generation::Legacy, login_gate(), read_only()).await;
    let run = doctor(&env_for(&vault.base_url()), &[], plain_dir().path()).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_e_missing_unsafe_or_committable_mcp_json() {
    let vault = vault(login_gate(), read_only()).await;
    let env = env_for(&vault.base_url());
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);

    // Missing in a project directory.
    let run = doctor(&env, &["--json"], dir.path()).await;
    assert_step(&run, "mcp-json", "warn", Some("E"), "mcp-config --write");
    assert_eq!(run.code, 0, "a missing file is a warning");

    // A literal secret, and not gitignored.
    let literal = "literal-SECRET-in-mcp-json-5e5e";
    let text = serde_json::json!({"mcpServers": {"infisical": {
        "command": "infisical-mcp-rs",
        "env": {"INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET": literal, "INFISICAL_HOST_URL": "${INFISICAL_HOST_URL}"}
    }}});
    std::fs::write(dir.path().join(".mcp.json"), text.to_string()).unwrap();
    let run = doctor(&env, &["--json"], dir.path()).await;
    assert_eq!(run.code, 1);
    assert_step(&run, "mcp-json", "fail", Some("E"), "not literal");
    let detail = run.detail("mcp-json");
    assert!(
        detail.contains("literal value for INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"),
        "{detail}"
    );
    assert!(detail.contains("not gitignored"), "{detail}");
    assert!(
        !run.stdout.contains(literal),
        "the literal value must not be shown"
    );

    // References, but still not gitignored.
    let out = command(&HashMap::new(), &["mcp-config", "--write", "--force"])
        .current_dir(dir.path())
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("not gitignored"));
    let run = doctor(&env, &["--json"], dir.path()).await;
    // Not gitignored is its own problem with its own fix, not "missing".
    assert_step(&run, "mcp-json", "fail", None, "add .mcp.json to .gitignore");
    assert!(!run.detail("mcp-json").contains("literal"));

    // Gitignored: passes.
    std::fs::write(dir.path().join(".gitignore"), ".mcp.json\n").unwrap();
    let run = doctor(&env, &["--json"], dir.path()).await;
    assert_step(&run, "mcp-json", "pass", None, "");

    // A file for another server only.
    std::fs::write(
        dir.path().join(".mcp.json"),
        r#"{"mcpServers":{"infisical":{"command":"npx","args":["-y","@infisical/mcp"]}}}"#,
    )
    .unwrap();
    let run = doctor(&env, &["--json"], dir.path()).await;
    assert_step(&run, "mcp-json", "fail", Some("E"), "");
    assert!(run.detail("mcp-json").contains("Node server"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_errors_exit_2_before_any_network_call() {
    let vault = vault(login_gate(), read_only()).await;
    let mut env = env_for(&vault.base_url());
    env.remove("INFISICAL_SCOPE");
    let run = doctor(&env, &["--json"], plain_dir().path()).await;
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["ok"], false);
    assert_step(&run, "config", "fail", None, "--scope");
    assert!(run.detail("config").contains("INFISICAL_SCOPE"));
    assert_eq!(run.step("reachable")["status"], "skip");
    assert!(vault.requests().is_empty());

    let run = doctor(
        &env_for(&vault.base_url()),
        &["--probe", "nonsense"],
        plain_dir().path(),
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("--probe"), "{}", run.stdout);
}

/// A grant such as `/MooseQuest/<bot>/*` leaves out the bot's own folder;
/// doctor's config step turns amber and names the glob to write. (Run
/// outside the project folder: there the `.mcp.json` entry's scope wins.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_glob_that_leaves_out_its_folder_is_a_config_warning() {
    let vault = vault_gen(Generation::Legacy, login_gate(), read_only()).await;
    let dir = project_dir().await;
    let mut env = env_for(&vault.base_url());
    env.insert(
        "INFISICAL_SCOPE".into(),
        "dev:/agents/warden/** prod:/MooseQuest/raxx-dev-bot/*".into(),
    );
    let run = doctor(&env, &["--json"], plain_dir().path()).await;
    assert_step(&run, "config", "warn", None, "rewrite the glob");
    let detail = run.step("config")["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        detail.contains("scope entry prod:/MooseQuest/raxx-dev-bot/* does not cover the folder /MooseQuest/raxx-dev-bot itself")
            && detail.contains("write prod:/MooseQuest/raxx-dev-bot/**"),
        "{detail}"
    );
    assert_eq!(run.code, 0, "a warning, not a failure: {}", run.stdout);

    // `/X/**` covers `/X`: no warning.
    let run = doctor(&env_for(&vault.base_url()), &["--json"], dir.path()).await;
    assert_step(&run, "config", "pass", None, "");
}

/// A wrong project id: the vault says the project does not exist. Every
/// step that reads says INFISICAL_PROJECT_ID, and none reports mode D.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_project_id_is_a_setting_not_a_security_failure() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault_gen(generation, login_gate(), read_only()).await;
        let mut env = env_for(&vault.base_url());
        env.insert(
            "INFISICAL_PROJECT_ID".into(),
            "3b0f6a52-7c1e-4f7a-9d5e-2a6c8b1e4f90".into(),
        );
        let run = doctor(&env, &["--json"], plain_dir().path()).await;
        assert_eq!(run.code, 1, "{}", run.stdout);
        for step in run.json()["steps"].as_array().unwrap() {
            assert!(step.get("failureMode").is_none(), "{generation:?}: {step}");
        }
        assert_step(&run, "in-scope-read", "fail", None, "check INFISICAL_PROJECT_ID");
        let out = run.step("out-of-scope-read");
        assert_ne!(out["status"], "pass", "{out}");
        assert!(
            !out["detail"]
                .as_str()
                .unwrap()
                .contains("can read outside the scope"),
            "{out}"
        );
    }
}

/// A URL with a path the API is not under, and https to a plain-http
/// server: the fix names INFISICAL_HOST_URL, never the client secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_url_names_the_url() {
    let vault = vault(login_gate(), read_only()).await;
    let env = env_for(&format!("{}/app", vault.base_url()));
    let run = doctor(&env, &["--json"], plain_dir().path()).await;
    let status = run.step("status");
    assert_eq!(status["status"], "fail", "{status}");
    let fix = status["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("no Infisical API answers under INFISICAL_HOST_URL"),
        "{fix}"
    );
    assert!(
        !fix.contains("secret name") && !fix.contains("client secret"),
        "{fix}"
    );

    let env = env_for(&vault.base_url().replacen("http://", "https://", 1));
    let run = doctor(&env, &["--json"], plain_dir().path()).await;
    let reach = run.step("reachable");
    assert_eq!(reach["status"], "fail", "{reach}");
    assert!(
        reach["fix"]
            .as_str()
            .unwrap()
            .starts_with("does the server speak plain http? use http://"),
        "{reach}"
    );
}

/// A typo in the scope's environment and two kinds of credentials: the
/// config step says both, and which credentials it uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_warns_about_a_typo_environment_and_two_credentials() {
    let vault = vault(login_gate(), read_only()).await;
    let mut env = env_for(&vault.base_url());
    env.insert("INFISICAL_ENVIRONMENT".into(), "dev".into());
    env.insert("INFISICAL_SCOPE".into(), "dve:/agents/warden/**".into());
    env.insert("INFISICAL_TOKEN".into(), "an-admin-token-0123456789".into());
    let run = doctor(&env, &["--json"], plain_dir().path()).await;
    let config = run.step("config");
    assert_eq!(config["status"], "warn", "{config}");
    let detail = config["detail"].as_str().unwrap();
    assert!(detail.contains("valid: universal auth"), "{detail}");
    assert!(
        detail.contains("the default environment 'dev' (INFISICAL_ENVIRONMENT) is in no scope entry (dve)"),
        "{detail}"
    );
    assert!(
        detail.contains("set INFISICAL_AUTH_METHOD=access-token to use INFISICAL_TOKEN instead"),
        "{detail}"
    );
    assert!(!run.stdout.contains("an-admin-token-0123456789"));
}
