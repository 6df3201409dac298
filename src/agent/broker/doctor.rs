//! `doctor --broker-rules FILE`: one step per rule — its secrets in scope
//! and readable (the value is read, never shown), its upstream's name
//! resolving, and a TLS handshake with it succeeding under the broker's
//! trust roots (plus `INFISICAL_BROKER_UPSTREAM_CA`, the variable of
//! `broker --upstream-ca`).

use std::path::Path;
use std::time::Duration;

use hyper::Uri;
use secrecy::ExposeSecret as _;
use tower_service::Service as _;

use super::rules::{GithubApp, Rule, Rules, Source};
use super::upstream;
use crate::config::{CF_ID_VAR, EnvSource};
use crate::github_app::{self, GithubError};
use crate::operator::doctor::Step;
use crate::scope::Scope;
use crate::vault::{ReadOptions, VaultClient};

/// The step name of every rule's check.
pub const BROKER_RULE: &str = "broker-rule";
/// `broker --upstream-ca`'s variable.
pub const UPSTREAM_CA_VAR: &str = "INFISICAL_BROKER_UPSTREAM_CA";

/// Each secret readable and not empty; the value is read, never shown.
async fn check_secrets(rule: &Rule, vault: &VaultClient) -> Result<(), Box<Step>> {
    let name = &rule.name;
    for secret in rule.secrets() {
        match vault
            .read_secret(&secret.location(), &secret.key, ReadOptions::default())
            .await
        {
            Ok(s) if !s.value.secret_value_hidden && !s.value.secret_value.expose_secret().is_empty() => {}
            Ok(_) => {
                return Err(Box::new(
                    Step::fail(
                        BROKER_RULE,
                        format!("rule '{name}': {secret} is empty or its value is hidden"),
                    )
                    .fix("give the identity read access to the value, or store one"),
                ));
            }
            Err(e) => {
                return Err(Box::new(
                    Step::fail(
                        BROKER_RULE,
                        format!("rule '{name}': {secret} cannot be read: {e}"),
                    )
                    .fix(e.hint()),
                ));
            }
        }
    }
    Ok(())
}

/// The bot's three secrets readable and fit to mint with (the key parses);
/// no token is minted.
async fn check_bot(
    name: &str,
    app: &GithubApp,
    vault: &VaultClient,
    cf_configured: bool,
) -> Result<(), Box<Step>> {
    let Some(at) = app.location() else {
        return Ok(());
    };
    let fail = |e: GithubError| {
        Box::new(
            Step::fail(
                BROKER_RULE,
                format!("rule '{name}': the GitHub App bot cannot be read: {e}"),
            )
            .fix(e.hint()),
        )
    };
    let creds = github_app::bot::read(vault, &at, cf_configured)
        .await
        .map_err(fail)?;
    github_app::key::load_key(&creds.private_key_pem).map_err(|e| {
        fail(GithubError::MalformedPem {
            path: at.path.to_string(),
            reason: e.to_string(),
        })
    })?;
    Ok(())
}

/// `cf_configured`: whether a Cloudflare Access service token is set, which
/// decides what an Access rejection means.
async fn check_rule(
    rule: &Rule,
    scope: &Scope,
    vault: &VaultClient,
    tls: &rustls::ClientConfig,
    cf_configured: bool,
) -> Step {
    let name = &rule.name;
    for secret in rule.secrets() {
        if !scope.allows(&secret.environment, &secret.folder) {
            return Step::fail(
                BROKER_RULE,
                format!("rule '{name}': {secret} is outside the scope ({scope})"),
            )
            .fix("widen --scope / INFISICAL_SCOPE, or change the rule's secret");
        }
    }
    let readable = match &rule.source {
        Source::GithubApp(app) => check_bot(name, app, vault, cf_configured).await,
        Source::Secret(_) => check_secrets(rule, vault).await,
    };
    if let Err(step) = readable {
        return *step;
    }
    let origin = &rule.upstream;
    let resolved = tokio::net::lookup_host((origin.host.as_str(), origin.port))
        .await
        .map(|mut addrs| addrs.next().is_some());
    match resolved {
        Ok(true) => {}
        _ => {
            return Step::fail(
                BROKER_RULE,
                format!("rule '{name}': {} does not resolve", origin.host),
            )
            .fix("check the rule's upstream host name and this machine's DNS");
        }
    }
    let mut connector = upstream::connector(tls.clone(), Duration::from_secs(5));
    let uri: Uri = match format!("https://{}/", origin.authority).parse() {
        Ok(u) => u,
        Err(e) => return Step::fail(BROKER_RULE, format!("rule '{name}': {e}")),
    };
    match tokio::time::timeout(Duration::from_secs(10), connector.call(uri)).await {
        Ok(Ok(_)) => Step::pass(
            BROKER_RULE,
            format!(
                "rule '{name}': {} readable and in scope; {origin} resolves and its TLS handshake succeeds",
                rule.source_text()
            ),
        ),
        Ok(Err(e)) => Step::fail(
            BROKER_RULE,
            format!("rule '{name}': TLS with {origin} failed: {e}"),
        )
        .fix(format!(
            "for a private upstream give its CA with --upstream-ca (doctor: {UPSTREAM_CA_VAR})"
        )),
        Err(_) => Step::fail(
            BROKER_RULE,
            format!("rule '{name}': {origin} did not answer within 10 s"),
        )
        .fix("check that the upstream is reachable from this machine"),
    }
}

/// The rules file's steps.
pub async fn steps(
    path: &Path,
    default_project: Option<&str>,
    scope: &Scope,
    vault: &VaultClient,
    env: &dyn EnvSource,
) -> Vec<Step> {
    let rules = match Rules::load(path, default_project) {
        Ok(r) => r,
        Err(e) => {
            return vec![Step::fail(BROKER_RULE, e.to_string()).fix("see docs/broker.md for the format")];
        }
    };
    let extra = match env.var(UPSTREAM_CA_VAR) {
        Some(ca) => match upstream::read_ca(Path::new(ca.trim())) {
            Ok(c) => c,
            Err(e) => return vec![Step::fail(BROKER_RULE, e.to_string())],
        },
        None => Vec::new(),
    };
    let tls = match upstream::tls_config(&extra) {
        Ok(t) => t,
        Err(e) => return vec![Step::fail(BROKER_RULE, e.to_string())],
    };
    let cf_configured = env.var(CF_ID_VAR).is_some();
    let mut out = Vec::new();
    for rule in &rules.rules {
        out.push(check_rule(rule, scope, vault, &tls, cf_configured).await);
    }
    out
}
