//! The configuration's own tests: names, aliases, projects, bounds.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::test_support::{env, flag, parse};
use secrecy::ExposeSecret;

fn args(argv: &[&str]) -> ServeArgs {
    // Parse without the process environment leaking into clap's `env`.
    let mut cli = parse::<ServeArgs>(argv);
    cli.vault.host_url = flag(argv, "--host-url");
    cli.vault.client_id = None;
    cli.vault.cf_access_client_id = None;
    cli.vault.user_agent = None;
    cli.scope.project_id = flag(argv, "--project-id");
    cli.scope.environment = None;
    cli.scope.secret_path = None;
    cli
}

#[test]
fn aliases_used_by_existing_setups_are_accepted() {
    let e = env(&[
        ("INFISICAL_API_URL", "https://vault.example.com/api/"),
        ("INFISICAL_CLIENT_ID", "id"),
        ("INFISICAL_CLIENT_SECRET", "secret"),
        ("INFISICAL_SCOPE", "dev:/a/** prod:/b/*"),
    ]);
    let cfg = args(&[]).validate(&e).unwrap();
    assert_eq!(cfg.vault.base_url.as_str(), "https://vault.example.com/");
    assert!(matches!(cfg.credentials, Credentials::UniversalAuth { ref client_id, .. } if client_id == "id"));
    assert_eq!(cfg.scope.entries().len(), 2);
    assert_eq!(cfg.defaults.secret_path.as_str(), "/");
    assert_eq!(cfg.vault.user_agent, default_user_agent());
}

#[test]
fn primary_names_win_over_aliases() {
    let e = env(&[
        ("INFISICAL_HOST_URL", "https://primary.example.com"),
        ("INFISICAL_DOMAIN", "https://alias.example.com"),
        ("INFISICAL_TOKEN", "tok"),
        ("INFISICAL_SCOPE", "*:/**"),
    ]);
    let cfg = args(&[]).validate(&e).unwrap();
    assert_eq!(cfg.vault.base_url.host_str(), Some("primary.example.com"));
    assert!(matches!(cfg.credentials, Credentials::AccessToken(ref t) if t.expose_secret() == "tok"));
}

#[test]
fn debug_output_never_shows_secrets() {
    let e = env(&[
        ("INFISICAL_HOST_URL", "https://v.example.com"),
        ("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", "id"),
        ("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", "very-secret-value"),
        ("CF_ACCESS_CLIENT_ID", "cf.access"),
        ("CF_ACCESS_CLIENT_SECRET", "cf-secret-value"),
        ("INFISICAL_SCOPE", "*:/**"),
    ]);
    let cfg = args(&[]).validate(&e).unwrap();
    let shown = format!("{cfg:?}");
    assert!(!shown.contains("very-secret-value"));
    assert!(!shown.contains("cf-secret-value"));
}

#[test]
fn loopback_http_is_fine_but_remote_http_needs_consent() {
    assert!(parse_base_url("V", "http://127.0.0.1:8080", false).is_ok());
    assert!(parse_base_url("V", "http://localhost", false).is_ok());
    assert!(parse_base_url("V", "http://vault.lan", false).is_err());
    assert!(parse_base_url("V", "http://vault.lan", true).is_ok());
    assert!(parse_base_url("V", "ftp://vault.lan", true).is_err());
    assert!(parse_base_url("V", "https://vault.lan/?x=1", true).is_err());
}

#[test]
fn the_configured_project_is_the_only_one_unless_others_are_named() {
    let base = [
        ("INFISICAL_HOST_URL", "https://v.example.com"),
        ("INFISICAL_TOKEN", "tok"),
        ("INFISICAL_SCOPE", "*:/**"),
        ("INFISICAL_PROJECT_ID", "proj-a"),
    ];
    let cfg = args(&[]).validate(&env(&base)).unwrap();
    assert!(cfg.defaults.allows_project("proj-a"));
    assert!(!cfg.defaults.allows_project("proj-b"));
    assert_eq!(cfg.defaults.projects_text(), "proj-a (default)");

    let mut named = base.to_vec();
    named.push((ALLOWED_PROJECTS_VAR, "proj-b, proj-c proj-b"));
    let cfg = args(&[]).validate(&env(&named)).unwrap();
    assert!(cfg.defaults.allows_project("proj-b") && cfg.defaults.allows_project("proj-c"));
    assert!(!cfg.defaults.allows_project("proj-d"));
    assert_eq!(cfg.defaults.projects_text(), "proj-a (default), proj-b, proj-c");

    // Flags win over the variable; `*` grants any project, explicitly.
    let cfg = args(&["--allow-project", "*"]).validate(&env(&named)).unwrap();
    assert!(cfg.defaults.allows_project("anything-1"));

    // No project configured at all: none may be reached.
    let cfg = args(&[]).validate(&env(&base[..3])).unwrap();
    assert!(!cfg.defaults.allows_project("proj-a"));
    assert_eq!(cfg.defaults.projects_text(), "none");

    let mut bad = base.to_vec();
    bad.push((ALLOWED_PROJECTS_VAR, "proj-b ../x"));
    let e = args(&[]).validate(&env(&bad)).unwrap_err();
    assert_eq!(e.var, ALLOWED_PROJECTS_VAR);
    let e = args(&["--project-id", "a/b"]).validate(&env(&base)).unwrap_err();
    assert!(e.var.contains("INFISICAL_PROJECT_ID"), "{e}");
}

#[test]
fn timeouts_past_a_day_are_refused_not_overflowed() {
    let e = env(&[
        ("INFISICAL_HOST_URL", "https://v.example.com"),
        ("INFISICAL_TOKEN", "tok"),
        ("INFISICAL_SCOPE", "*:/**"),
    ]);
    for flag in ["--call-timeout", "--connect-timeout"] {
        let err = args(&[flag, "18446744073709551615"]).validate(&e).unwrap_err();
        assert_eq!(err.var, flag);
        assert!(args(&[flag, "86400"]).validate(&e).is_ok());
    }
}
