//! The tests of `config`, apart so that the module reads as one concept.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::test_support::{env as test_env, parse};
use clap::Parser;

type Cli = crate::test_support::Cli<ProxyArgs>;

#[test]
fn help_offers_only_what_the_proxy_uses() {
    use clap::CommandFactory;
    let help = Cli::command().render_long_help().to_string();
    for used in [
        "--host-url",
        "--cf-access-client-id",
        "--call-timeout",
        "--listen",
        "--scope",
        "--max-response-mib",
    ] {
        assert!(help.contains(used), "{used} missing");
    }
    for unused in ["--client-id", "--vault-concurrency", "--audit-log"] {
        assert!(!help.contains(&format!("{unused} ")), "{unused} offered");
    }
    // Still accepted: one env file and flag set serves serve and proxy.
    let cli = Cli::try_parse_from(["proxy", "--client-id", "x", "--vault-concurrency", "3"]);
    assert!(cli.is_ok());
}

fn settings(argv: &[&str], env: &[(&str, &str)]) -> Result<ProxySettings, ConfigError> {
    parse::<ProxyArgs>(argv).settings(&test_env(env))
}

const HOST: (&str, &str) = ("INFISICAL_HOST_URL", "https://vault.example.com");

#[test]
fn help_says_what_a_scope_turns_off() {
    for needle in [
        "expandSecretReferences=false",
        "include_imports / includeImports=false",
        "X-Infisical-Proxy-Turned-Off",
    ] {
        assert!(PROXY_HELP.contains(needle), "{needle}");
    }
}

#[test]
fn listen_defaults_and_the_runbook_port_variable() {
    let s = settings(&[], &[HOST]).unwrap();
    assert_eq!(s.listen.to_string(), "127.0.0.1:2019");
    assert!(s.policy.scope.is_none() && !s.policy.allow_writes);
    let s = settings(&[], &[HOST, (PORT_VAR, "2020")]).unwrap();
    assert_eq!(s.listen.to_string(), "127.0.0.1:2020");
    let s = settings(&["--listen", "[::1]:2021"], &[HOST, (PORT_VAR, "2020")]).unwrap();
    assert_eq!(s.listen.to_string(), "[::1]:2021");
    let s = settings(&["--listen", "localhost:7"], &[HOST]).unwrap();
    assert_eq!(s.listen.to_string(), "127.0.0.1:7");
    let s = settings(&["--listen", "0"], &[HOST]).unwrap();
    assert_eq!(s.listen.port(), 0);
}

#[test]
fn bad_listen_values_name_their_source() {
    let e = settings(&[], &[HOST, (PORT_VAR, "http")]).unwrap_err();
    assert_eq!(e.var, PORT_VAR);
    let e = settings(&["--listen", "nowhere"], &[HOST]).unwrap_err();
    assert_eq!(e.var, "--listen");
    let e = settings(&["--listen", "0.0.0.0:2019"], &[HOST]).unwrap_err();
    assert_eq!(e.var, "--listen");
    assert!(e.fix.contains("--allow-remote"));
    let e = settings(&["--listen", "0.0.0.0:2019", "--allow-remote"], &[HOST]).unwrap_err();
    assert_eq!(e.var, CLIENT_TOKEN_VAR);
    assert!(e.fix.contains("openssl rand"), "{}", e.fix);
    let e = settings(
        &["--listen", "0.0.0.0:2019", "--allow-remote"],
        &[HOST, (CLIENT_TOKEN_VAR, "short")],
    )
    .unwrap_err();
    assert_eq!(e.var, CLIENT_TOKEN_VAR);
    let s = settings(
        &["--listen", "0.0.0.0:2019", "--allow-remote"],
        &[HOST, (CLIENT_TOKEN_VAR, "0123456789abcdef0123")],
    )
    .unwrap();
    assert!(s.policy.allow_remote && s.policy.client_token.is_some());
    // Without --allow-remote the variable is not needed, nor used.
    let s = settings(&[], &[HOST, (CLIENT_TOKEN_VAR, "0123456789abcdef0123")]).unwrap();
    assert!(s.policy.client_token.is_none());
}

#[test]
fn no_credentials_are_needed_but_the_url_is() {
    let e = settings(&[], &[]).unwrap_err();
    assert_eq!(e.var, "INFISICAL_HOST_URL");
    let e = settings(&[], &[HOST, ("CF_ACCESS_CLIENT_ID", "x.access")]).unwrap_err();
    assert_eq!(e.var, "CF_ACCESS_CLIENT_SECRET");
}

#[test]
fn scope_is_optional_and_read_from_flags_or_env() {
    let s = settings(&["--scope", "prod:/a/**", "--scope", "dev:/b"], &[HOST]).unwrap();
    let rule = s.policy.scope.unwrap();
    assert_eq!(rule.source, "--scope");
    let s = settings(&[], &[HOST, (SCOPE_VAR, "prod:/a/**")]).unwrap();
    assert_eq!(s.policy.scope.unwrap().source, SCOPE_VAR);
    let e = settings(&["--scope", "nocolon"], &[HOST]).unwrap_err();
    assert_eq!(e.var, "--scope");
}

#[test]
fn the_proxy_flag_becomes_the_subcommand() {
    let f = |v: &[&str]| {
        proxy_flag_to_subcommand(v.iter().map(OsString::from))
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(f(&["bin", "--proxy"]), ["bin", "proxy"]);
    assert_eq!(
        f(&["bin", "--listen", "1", "--proxy"]),
        ["bin", "proxy", "--listen", "1"]
    );
    assert_eq!(f(&["bin", "proxy", "--proxy"]), ["bin", "proxy"]);
    assert_eq!(f(&["bin", "serve"]), ["bin", "serve"]);
    assert_eq!(f(&["bin", "--", "--proxy"]), ["bin", "--", "--proxy"]);
}

#[test]
fn an_upstream_that_is_the_listener_itself_is_refused() {
    for (upstream, listen) in [
        ("http://127.0.0.1:2019/api", "127.0.0.1:2019"),
        ("http://localhost:2019", "2019"),
        ("http://LocalHost:2019", "localhost:2019"),
        ("http://[::1]:2019", "[::1]:2019"),
    ] {
        let e = settings(&["--listen", listen], &[("INFISICAL_HOST_URL", upstream)]).unwrap_err();
        assert_eq!(e.var, "INFISICAL_HOST_URL", "{upstream} {listen}");
        let text = e.to_string();
        assert!(
            text.contains("--listen") && text.contains("INFISICAL_HOST_URL"),
            "{text}"
        );
    }
    assert!(
        settings(
            &["--listen", "2020"],
            &[("INFISICAL_HOST_URL", "http://127.0.0.1:2019")]
        )
        .is_ok()
    );
    assert!(
        settings(
            &["--listen", "localhost:2019"],
            &[("INFISICAL_HOST_URL", "http://[::1]:2019")]
        )
        .is_ok()
    );
    let e = settings(
        &[],
        &[
            ("INFISICAL_HOST_URL", "http://localhost:2020"),
            (PORT_VAR, "2020"),
        ],
    )
    .unwrap_err();
    assert!(e.fix.contains(PORT_VAR), "{e}");
}

#[test]
fn the_clis_variables_are_not_the_proxys_upstream() {
    // The stock CLI's recipe: INFISICAL_API_URL names the proxy.
    let e = settings(&[], &[("INFISICAL_API_URL", "http://127.0.0.1:2019")]).unwrap_err();
    assert_eq!(e.var, "INFISICAL_HOST_URL");
    assert!(e.problem.contains("INFISICAL_API_URL"), "{}", e.problem);
    let s = settings(
        &[],
        &[
            ("INFISICAL_API_URL", "http://127.0.0.1:2019"),
            ("INFISICAL_DOMAIN", "http://127.0.0.1:2019"),
            HOST,
        ],
    )
    .unwrap();
    assert_eq!(s.vault.base_url.host_str(), Some("vault.example.com"));
    let s = settings(&[], &[("INFISICAL_HOST", "https://other.example.com")]).unwrap();
    assert_eq!(s.vault.base_url.host_str(), Some("other.example.com"));
}

#[test]
fn a_scope_learns_the_configured_projects() {
    let s = settings(
        &[
            "--scope",
            "dev:/a/**",
            "--project-id",
            "proj-a",
            "--allow-project",
            "proj-b",
        ],
        &[HOST],
    )
    .unwrap();
    let rule = s.policy.scope.unwrap().projects.unwrap();
    assert_eq!(rule.default.as_deref(), Some("proj-a"));
    assert_eq!(rule.projects.also, ["proj-b"]);
    let s = settings(&["--scope", "dev:/a/**"], &[HOST]).unwrap();
    assert!(s.policy.scope.unwrap().projects.is_none());
    let e = settings(&["--scope", "dev:/a/**", "--project-id", "a b"], &[HOST]).unwrap_err();
    assert!(e.var.contains("INFISICAL_PROJECT_ID"), "{e}");
}
