//! GitHub App installation tokens, minted from a bot's vault folder: the
//! one pipeline behind `github-token` (which prints the token) and the
//! broker's GitHub App rules (which inject it and never show it).
//!
//! Flow: [`bot`] logs in and reads `APP_ID`, `INSTALLATION_ID`,
//! `PRIVATE_KEY_PEM` in one vault call → [`key`] parses the PEM → [`jwt`]
//! signs the App JWT → [`api`] mints the token. Failures are
//! [`GithubError`]s, each with a fix. The key, the JWT and the token stay in
//! secrecy types and out of every log line.

pub mod api;
pub mod bot;
pub mod error;
pub mod jwt;
pub mod key;

use std::time::SystemTime;

pub use api::{GithubApi, InstallationToken};
pub use error::{GithubError, REQUIRED_KEYS};

use crate::vault::{Location, VaultClient};

/// Reads the bot's folder at `at`, signs an App JWT and mints one
/// installation token with it. `cf_configured` only shapes the messages of
/// a Cloudflare rejection.
pub async fn mint(
    vault: &VaultClient,
    at: &Location,
    github: &GithubApi,
    cf_configured: bool,
) -> Result<InstallationToken, GithubError> {
    let creds = bot::read(vault, at, cf_configured).await?;
    let key = key::load_key(&creds.private_key_pem).map_err(|e| GithubError::MalformedPem {
        path: at.path.to_string(),
        reason: e.to_string(),
    })?;
    drop(creds.private_key_pem);
    let claims = jwt::Claims::at(SystemTime::now(), &creds.app_id)?;
    let token_jwt = jwt::sign(&claims, &key)?;
    drop(key);
    tracing::debug!(
        path = %at.path,
        app_id = %creds.app_id,
        installation_id = creds.installation_id,
        iat = claims.iat,
        exp = claims.exp,
        "signed the App JWT"
    );
    github
        .mint(&token_jwt, creds.installation_id, &creds.app_id)
        .await
}
