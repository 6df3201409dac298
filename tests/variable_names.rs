//! One set of variable names for every command: the aliases one command
//! accepts (the mint runbook's `.envrc` sets `INFISICAL_HOST` and `INFISICAL_ENV`),
//! all accept; `doctor` names the one it used, and an alias that disagrees
//! with the name that wins is called out, never silently dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use clap::Parser;
use common::{
    CF_ID, CF_SECRET, assert_contains_all, is_error, login_gate, run_bin_in, serve, start_vault, structured,
    text,
};
use infisical_fakevault::{self as fakevault, Generation};
use infisical_mcp_rs::agent::proxy::ProxyArgs;
use infisical_mcp_rs::config::{ConfigError, HOST_VARS, ServeArgs};
use infisical_mcp_rs::operator::doctor::DoctorArgs;
use infisical_mcp_rs::operator::github::GithubTokenArgs;
use infisical_mcp_rs::operator::lint::LintArgs;
use serde_json::json;

#[derive(Parser)]
struct Serve {
    #[command(flatten)]
    args: ServeArgs,
}

#[derive(Parser)]
struct Doctor {
    #[command(flatten)]
    args: DoctorArgs,
}

#[derive(Parser)]
struct Lint {
    #[command(flatten)]
    args: LintArgs,
}

#[derive(Parser)]
struct Proxy {
    #[command(flatten)]
    args: ProxyArgs,
}

#[derive(Parser)]
struct GithubToken {
    #[command(flatten)]
    args: GithubTokenArgs,
}

/// Every command's validation, fed `env` only (no flags). clap's `env`
/// attributes read the process environment, which holds none of these.
fn every_command(env: &HashMap<String, String>) -> Vec<(&'static str, Result<String, ConfigError>)> {
    let host = |url: &url::Url| url.host_str().unwrap_or_default().to_string();
    vec![
        (
            "serve",
            Serve::parse_from(["x"])
                .args
                .validate(env)
                .map(|c| host(&c.vault.base_url)),
        ),
        (
            "doctor",
            Doctor::parse_from(["x"])
                .args
                .serve
                .validate(env)
                .map(|c| host(&c.vault.base_url)),
        ),
        (
            "lint",
            Lint::parse_from(["x"])
                .args
                .validate(env)
                .map(|c| host(&c.vault.base_url)),
        ),
        (
            "proxy",
            Proxy::parse_from(["x"])
                .args
                .settings(env)
                .map(|s| host(&s.vault.base_url)),
        ),
        (
            "github-token",
            GithubToken::parse_from(["x", "--bot", "raxx-dev-bot"])
                .args
                .validate(env)
                .map(|c| host(&c.vault.base_url)),
        ),
    ]
}

fn minimal(host_var: &str) -> HashMap<String, String> {
    HashMap::from([
        (host_var.to_string(), "https://vault.example.com".to_string()),
        ("INFISICAL_CLIENT_ID".into(), "id".into()),
        ("INFISICAL_CLIENT_SECRET".into(), "secret".into()),
        ("INFISICAL_PROJECT_ID".into(), "proj".into()),
        ("INFISICAL_SCOPE".into(), "prod:/MooseQuest/**".into()),
        ("INFISICAL_PATH_PREFIX".into(), "/MooseQuest/".into()),
    ])
}

#[test]
fn every_command_reads_the_vault_url_under_every_name() {
    assert!(HOST_VARS.contains(&"INFISICAL_HOST"), "the mint runbook's name");
    for var in HOST_VARS {
        for (command, outcome) in every_command(&minimal(var)) {
            // The infisical CLI's names tell the CLI where the proxy is: the
            // proxy does not take them as its upstream, and says so.
            let clis = matches!(var, "INFISICAL_API_URL" | "INFISICAL_DOMAIN");
            match outcome {
                Err(e) if command == "proxy" && clis => {
                    assert!(e.to_string().contains(var), "{command} with {var}: {e}")
                }
                Ok(host) if !(command == "proxy" && clis) => {
                    assert_eq!(host, "vault.example.com", "{command} with {var}")
                }
                Ok(host) => panic!("{command} took {var} ({host}) as its upstream"),
                Err(e) => panic!("{command} refuses {var}: {e}"),
            }
        }
    }
}

#[test]
fn serve_and_github_token_read_the_environment_under_both_names() {
    for var in ["INFISICAL_ENVIRONMENT", "INFISICAL_ENV"] {
        let mut env = minimal("INFISICAL_HOST");
        env.insert(var.into(), "staging".into());
        env.insert("INFISICAL_SCOPE".into(), "staging:/MooseQuest/**".into());
        let serve = Serve::parse_from(["x"]).args.validate(&env).unwrap();
        assert_eq!(serve.defaults.environment.as_deref(), Some("staging"), "{var}");
        let named = serve.sources.describe();
        assert!(named.contains(&format!("environment from {var}")), "{named}");
        assert!(named.contains("vault URL from INFISICAL_HOST"), "{named}");
        let github = GithubToken::parse_from(["x", "--bot", "b"])
            .args
            .validate(&env)
            .unwrap();
        assert_eq!(github.location.environment, "staging", "{var}");
    }
}

#[test]
fn a_disagreeing_alias_is_reported_and_a_secret_one_is_named_not_shown() {
    let mut env = minimal("INFISICAL_HOST_URL");
    env.insert("INFISICAL_HOST".into(), "https://other.example.com".into());
    env.insert(
        "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET".into(),
        "winning-SECRET".into(),
    );
    let serve = Serve::parse_from(["x"]).args.validate(&env).unwrap();
    assert_eq!(serve.vault.base_url.host_str(), Some("vault.example.com"));
    let ignored = serve.sources.ignored.join("\n");
    assert!(
        ignored.contains("INFISICAL_HOST=https://other.example.com is ignored: INFISICAL_HOST_URL"),
        "{ignored}"
    );
    assert!(
        ignored.contains("INFISICAL_CLIENT_SECRET is ignored"),
        "{ignored}"
    );
    assert!(
        !ignored.contains("winning-SECRET") && !ignored.contains("=secret"),
        "{ignored}"
    );
    let github = GithubToken::parse_from(["x", "--bot", "b"])
        .args
        .validate(&env)
        .unwrap();
    assert_eq!(github.warnings, serve.sources.ignored);
    // The same values under two names are no conflict.
    let mut env = minimal("INFISICAL_HOST_URL");
    env.insert("INFISICAL_HOST".into(), "https://vault.example.com".into());
    let serve = Serve::parse_from(["x"]).args.validate(&env).unwrap();
    assert!(serve.sources.ignored.is_empty(), "{:?}", serve.sources.ignored);
}

/// Seed 004's names only, for a vault at `url`.
fn seed_env(url: &str) -> HashMap<String, String> {
    HashMap::from([
        ("INFISICAL_HOST".into(), url.to_string()),
        ("INFISICAL_CLIENT_ID".into(), fakevault::DEMO_CLIENT_ID.into()),
        (
            "INFISICAL_CLIENT_SECRET".into(),
            fakevault::DEMO_CLIENT_SECRET.into(),
        ),
        ("INFISICAL_ENV".into(), "dev".into()),
        ("CF_ACCESS_CLIENT_ID".into(), CF_ID.into()),
        ("CF_ACCESS_CLIENT_SECRET".into(), CF_SECRET.into()),
        ("INFISICAL_PROJECT_ID".into(), fakevault::DEMO_PROJECT_ID.into()),
        ("INFISICAL_SCOPE".into(), "dev:/agents/warden/**".into()),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_and_doctor_run_on_the_seed_runbook_names() {
    let vault = start_vault(Generation::Current, login_gate()).await;
    let env = seed_env(&vault.base_url());

    // serve: reaches the vault through INFISICAL_HOST, and INFISICAL_ENV is
    // the default environment of a call that names none.
    let served = serve(&env, &[]).await;
    let listed = served
        .call("list-secrets", json!({"secretPath": "/agents/warden"}))
        .await;
    assert!(!is_error(&listed), "{}", text(&listed));
    assert_eq!(structured(&listed)["environment"], json!("dev"));
    served.client.cancel().await.unwrap();

    // doctor: passes its configuration step and names the names it used.
    let dir = tempfile::tempdir().unwrap();
    let run = run_bin_in(&env, &["doctor", "--json"], dir.path()).await;
    let config = run.step("config");
    assert_eq!(config["name"], json!("config"));
    assert_eq!(config["status"], json!("pass"), "{config}");
    let detail = config["detail"].as_str().unwrap();
    assert_contains_all(
        "doctor's config step",
        detail,
        &[
            "vault URL from INFISICAL_HOST",
            "client id from INFISICAL_CLIENT_ID",
            "client secret from INFISICAL_CLIENT_SECRET",
            "environment from INFISICAL_ENV",
        ],
    );
    assert!(!run.stdout.contains(fakevault::DEMO_CLIENT_SECRET));

    // A disagreeing alias turns the step into a warning that says which wins.
    let mut conflicting = env.clone();
    conflicting.insert("INFISICAL_ENVIRONMENT".into(), "prod".into());
    let run = run_bin_in(&conflicting, &["doctor", "--json"], dir.path()).await;
    assert_eq!(run.step("config")["status"], json!("warn"), "{}", run.stdout);
    assert!(
        run.detail("config")
            .contains("INFISICAL_ENV=dev is ignored: INFISICAL_ENVIRONMENT (prod) wins"),
        "{}",
        run.stdout
    );
}
