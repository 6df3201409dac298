//! `github-token`: mint a GitHub App installation token from a bot's secrets
//! in the vault — the native replacement for the mint runbook's script
//! (docs/runbook-modes.md, "github-token").
//!
//! Flow: [`config`] validates flags and variables (and the scope) →
//! [`crate::github_app::mint`] reads the bot's folder, signs the App JWT and
//! mints the token → [`output`] prints it. Failures are [`GithubError`]s,
//! each with a fix. Nothing is written to disk; the key, the JWT and the
//! token stay in secrecy types and out of every log line.

pub mod config;
pub mod output;

use std::io::Write;

pub use crate::github_app::GithubError;
pub use config::{GITHUB_TOKEN_HELP, GithubTokenArgs, GithubTokenConfig};

use crate::github_app::{self, GithubApi};
use crate::vault::VaultClient;

/// Mints one installation token as `config` says and writes it to `out`.
pub async fn run(config: GithubTokenConfig, out: &mut dyn Write) -> Result<(), GithubError> {
    let cf_configured = config.vault.cf_access.is_some();
    let vault = VaultClient::new(&config.vault, config.credentials)
        .map_err(|e| GithubError::Client(e.to_string()))?;
    let github = GithubApi::new(
        config.github_api_url,
        &config.vault.user_agent,
        config.vault.connect_timeout,
        config.vault.call_timeout,
        &[],
    )?;
    let minted = github_app::mint(&vault, &config.location, &github, cf_configured).await?;
    tracing::info!(bot = %config.bot, expires_at = %minted.expires_at, "minted a GitHub installation token");
    output::write_token(out, &minted, config.export)
}
