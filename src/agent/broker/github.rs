//! GitHub App rules: the credential is an installation token the broker
//! mints from the bot's vault folder (the pipeline `github-token` uses),
//! kept until shortly before GitHub lets it expire, and never shown.
//!
//! One token per rule at a time: concurrent requests wait for the mint in
//! flight rather than each minting their own. An upstream 401/403 re-mints
//! only when the held token is older than [`REMINT_AFTER`]: a refusal right
//! after minting is about the request (a permission the App lacks), not the
//! token, and re-minting on every such answer would spend GitHub's rate
//! limit for nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use secrecy::SecretString;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::BrokerError;
use super::rules::{GithubApp, Rule, Rules, Source};
use crate::config::VaultSettings;
use crate::github_app::{self, GithubApi, GithubError};
use crate::vault::{VaultClient, VaultError};

/// A token is replaced this long before GitHub's `expires_at`.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);
/// A refused token younger than this is not re-minted.
pub const REMINT_AFTER: Duration = Duration::from_secs(30);
/// How long a token is used when GitHub's `expires_at` cannot be read
/// (GitHub's tokens last an hour).
const ASSUMED_LIFETIME: Duration = Duration::from_secs(10 * 60);

struct Held {
    token: SecretString,
    minted_at: Instant,
    refresh_at: Instant,
}

impl Held {
    /// Whether the held token serves this request: not due for refresh, and
    /// (after an upstream refusal) too young to be the cause.
    fn serves(&self, fresh: bool, now: Instant) -> bool {
        now < self.refresh_at && (!fresh || now.duration_since(self.minted_at) < REMINT_AFTER)
    }
}

/// How long a token whose `expires_at` is `expires_at` may be used from `now`.
fn usable_for(expires_at: &str, now: OffsetDateTime) -> Duration {
    match OffsetDateTime::parse(expires_at.trim(), &Rfc3339) {
        Ok(expires) => {
            let left = expires - now - REFRESH_BEFORE;
            Duration::try_from(left).unwrap_or(Duration::ZERO)
        }
        Err(_) => ASSUMED_LIFETIME,
    }
}

struct AppRule {
    api: GithubApi,
    held: tokio::sync::Mutex<Option<Held>>,
}

/// The GitHub App rules' tokens, by rule name.
#[derive(Default)]
pub struct AppTokens {
    by_rule: HashMap<String, AppRule>,
    /// Whether a Cloudflare Access service token is configured; shapes the
    /// message when Access turns the vault read away.
    cf_configured: bool,
}

impl AppTokens {
    /// One API client per GitHub App rule, trusting `extra_roots` besides
    /// the public roots (a GitHub Enterprise with a private CA).
    pub fn new(
        rules: &Rules,
        vault: &VaultSettings,
        extra_roots: &[CertificateDer<'static>],
    ) -> Result<Self, BrokerError> {
        let mut by_rule = HashMap::new();
        for rule in &rules.rules {
            if let Source::GithubApp(app) = &rule.source {
                let api = GithubApi::new(
                    app.api.clone(),
                    &vault.user_agent,
                    vault.connect_timeout,
                    vault.call_timeout,
                    extra_roots,
                )
                .map_err(|e| BrokerError::Client(format!("GitHub API client: {e}")))?;
                by_rule.insert(
                    rule.name.clone(),
                    AppRule {
                        api,
                        held: tokio::sync::Mutex::new(None),
                    },
                );
            }
        }
        Ok(Self {
            by_rule,
            cf_configured: vault.cf_access.is_some(),
        })
    }

    /// The rule's installation token: the held one while it serves, else a
    /// newly minted one.
    pub async fn token(
        &self,
        vault: &VaultClient,
        rule: &Rule,
        app: &GithubApp,
        fresh: bool,
    ) -> Result<SecretString, BrokerError> {
        let state = self
            .by_rule
            .get(&rule.name)
            .ok_or_else(|| BrokerError::Client(format!("rule '{}' has no GitHub API client", rule.name)))?;
        let mut held = state.held.lock().await;
        if let Some(h) = held.as_ref().filter(|h| h.serves(fresh, Instant::now())) {
            return Ok(h.token.clone());
        }
        let at = app
            .location()
            .ok_or_else(|| BrokerError::Client(format!("rule '{}' names no bot folder", rule.name)))?;
        let minted = github_app::mint(vault, &at, &state.api, self.cf_configured)
            .await
            .map_err(|e| mint_failed(rule, &e))?;
        let minted_at = Instant::now();
        let lifetime = usable_for(&minted.expires_at, OffsetDateTime::now_utc());
        tracing::info!(
            rule = %rule.name,
            expires_at = %minted.expires_at,
            reuse_s = lifetime.as_secs(),
            "minted a GitHub installation token"
        );
        let token = minted.token;
        *held = Some(Held {
            token: token.clone(),
            minted_at,
            refresh_at: minted_at + lifetime,
        });
        Ok(token)
    }
}

/// The broker's form of a mint failure: GitHub's or the vault's cause, and a
/// fix phrased for a rules file rather than `github-token`'s flags.
fn mint_failed(rule: &Rule, e: &GithubError) -> BrokerError {
    let hint = match e {
        GithubError::MissingKeys { .. }
        | GithubError::Fetch {
            source: VaultError::PermissionDenied { .. } | VaultError::NotFound { .. },
            ..
        } => format!(
            "store APP_ID, INSTALLATION_ID and PRIVATE_KEY_PEM in the rule's github_app folder ({}), and grant \
             the identity read on it (a glob that reaches the folder itself, e.g. /bots/ci-bot/**)",
            rule.source_text()
        ),
        GithubError::InstallationNotFound { .. }
        | GithubError::GithubUnreachable { .. }
        | GithubError::GithubUnexpected { .. } => {
            "check INSTALLATION_ID and the rule's github_api (https://api.github.com, or https://HOST/api/v3 \
             for GitHub Enterprise)"
                .to_string()
        }
        GithubError::GithubRateLimited { .. } => {
            "wait and retry; the broker reuses each token until shortly before it expires".to_string()
        }
        other => other.hint(),
    };
    BrokerError::Github {
        rule: rule.name.clone(),
        kind: e.kind(),
        message: e.to_string(),
        hint,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_failed_folder_read_is_explained_by_its_cause() {
        let text = "[[rule]]\nname = \"gh\"\nupstream = \"https://api.github.com\"\n\
                    github_app = \"prod:/bots/b\"\npaths = [\"/**\"]\n";
        let rules = Rules::parse(text, "f", Some("p")).unwrap();
        let rule = rules.get("gh").unwrap();
        let fetch = |source| GithubError::Fetch {
            path: "/bots/b".into(),
            environment: "prod".into(),
            source,
            cf_configured: false,
        };
        let refused = mint_failed(
            rule,
            &fetch(VaultError::PermissionDenied {
                message: "You are not allowed to read on secrets".into(),
            }),
        );
        assert!(refused.to_string().contains("github_app folder"), "{refused}");
        let gated = mint_failed(
            rule,
            &fetch(VaultError::CloudflareAccessRejected {
                detail: "302 to the Access login page".into(),
            }),
        );
        let gated = gated.to_string();
        assert!(
            gated.contains("CF_ACCESS_CLIENT_ID") && !gated.contains("github_app folder"),
            "{gated}"
        );
    }

    #[test]
    fn a_token_is_used_until_shortly_before_it_expires() {
        let now = OffsetDateTime::parse("2030-01-01T11:00:00Z", &Rfc3339).unwrap();
        assert_eq!(
            usable_for("2030-01-01T12:00:00Z", now),
            Duration::from_secs(55 * 60)
        );
        assert_eq!(usable_for("2030-01-01T11:04:00Z", now), Duration::ZERO);
        assert_eq!(usable_for("2029-01-01T00:00:00Z", now), Duration::ZERO);
        assert_eq!(usable_for("soon", now), ASSUMED_LIFETIME);
        assert_eq!(usable_for("", now), ASSUMED_LIFETIME);
    }

    #[test]
    fn a_refusal_re_mints_only_an_older_token() {
        let now = Instant::now();
        let minted_at = now.checked_sub(Duration::from_secs(60)).unwrap_or(now);
        let held = |minted_at: Instant, refresh_at: Instant| Held {
            token: SecretString::from("t"),
            minted_at,
            refresh_at,
        };
        let later = now + Duration::from_secs(600);
        let old = held(minted_at, later);
        assert!(old.serves(false, now));
        assert!(!old.serves(true, now) || minted_at == now);
        let young = held(now, later);
        assert!(young.serves(false, now));
        assert!(young.serves(true, now));
        let due = held(now, now);
        assert!(!due.serves(false, now));
    }
}
