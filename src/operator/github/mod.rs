//! `github-token`: mint a GitHub App installation token from a bot's secrets
//! in the vault — the native replacement for the mint runbook's script
//! (docs/runbook-modes.md, "github-token").
//!
//! Flow: [`config`] validates flags and variables (and the scope) → [`bot`]
//! logs in and reads `APP_ID`, `INSTALLATION_ID`, `PRIVATE_KEY_PEM` in one
//! vault call → [`key`] parses the PEM → [`jwt`] signs the App JWT → [`api`]
//! mints the token → [`output`] prints it. Failures are [`GithubError`]s,
//! each with a fix. Nothing is written to disk; the key, the JWT and the
//! token stay in secrecy types and out of every log line.

pub mod api;
pub mod bot;
pub mod config;
pub mod error;
pub mod jwt;
pub mod key;
pub mod output;

use std::io::Write;
use std::time::SystemTime;

pub use config::{GITHUB_TOKEN_HELP, GithubTokenArgs, GithubTokenConfig};
pub use error::GithubError;

use crate::vault::VaultClient;

/// Mints one installation token as `config` says and writes it to `out`.
pub async fn run(config: GithubTokenConfig, out: &mut dyn Write) -> Result<(), GithubError> {
    let cf_configured = config.vault.cf_access.is_some();
    let vault = VaultClient::new(&config.vault, config.credentials)
        .map_err(|e| GithubError::Client(e.to_string()))?;
    let creds = bot::read(&vault, &config.location, cf_configured).await?;
    drop(vault);

    let key = key::load_key(&creds.private_key_pem).map_err(|e| GithubError::MalformedPem {
        path: config.location.path.to_string(),
        reason: e.to_string(),
    })?;
    drop(creds.private_key_pem);
    let claims = jwt::Claims::at(SystemTime::now(), &creds.app_id)?;
    let token_jwt = jwt::sign(&claims, &key)?;
    drop(key);
    tracing::debug!(
        bot = %config.bot,
        app_id = %creds.app_id,
        installation_id = creds.installation_id,
        iat = claims.iat,
        exp = claims.exp,
        "signed the App JWT"
    );

    let github = api::GithubApi::new(
        config.github_api_url,
        &config.vault.user_agent,
        config.vault.connect_timeout,
        config.vault.call_timeout,
    )?;
    let minted = github
        .mint(&token_jwt, creds.installation_id, &creds.app_id)
        .await?;
    drop(token_jwt);
    tracing::info!(bot = %config.bot, expires_at = %minted.expires_at, "minted a GitHub installation token");
    output::write_token(out, &minted, config.export)
}
