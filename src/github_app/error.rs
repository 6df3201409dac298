//! Every way minting a token can fail after the configuration was accepted,
//! each with its own one-line cause and fix: the rows of the mint runbook's
//! failure table (docs/runbook-modes.md), and the ones it did not list.
//!
//! No variant ever holds the private key, the JWT or the minted token; texts
//! quoted from GitHub or the vault are error messages, never values.

use std::time::Duration;

use crate::vault::VaultError;

/// The three secrets a bot's folder must hold, in the order they are reported.
pub const REQUIRED_KEYS: [&str; 3] = ["APP_ID", "INSTALLATION_ID", "PRIVATE_KEY_PEM"];

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// Universal-auth login (or the Cloudflare gate in front of it) failed.
    #[error("Infisical login failed: {}", vault_cause(.source, *.cf_configured))]
    Login { source: VaultError, cf_configured: bool },

    /// The one read of the bot's folder failed.
    #[error("Infisical fetch failed at {path} (environment {environment}): {}", vault_cause(.source, *.cf_configured))]
    Fetch {
        path: String,
        environment: String,
        source: VaultError,
        cf_configured: bool,
    },

    #[error("bot secrets at {path}/ missing keys: {}{}", .missing.join(", "), near_miss_note(.near_misses))]
    MissingKeys {
        path: String,
        missing: Vec<&'static str>,
        /// Names found that look like a required key spelled differently:
        /// (found, wanted).
        near_misses: Vec<(String, &'static str)>,
        /// Nothing at all was visible in the folder.
        folder_empty: bool,
    },

    #[error("bot secrets at {path}/: the identity may list but not read the value of {}", .keys.join(", "))]
    ValuesHidden { path: String, keys: Vec<&'static str> },

    #[error("{key} at {path}/ is not {expected}")]
    InvalidValue {
        path: String,
        key: &'static str,
        expected: &'static str,
    },

    #[error("PRIVATE_KEY_PEM at {path}/ is not a usable RSA private key: {reason}")]
    MalformedPem { path: String, reason: String },

    #[error("the system clock is before 1970; cannot date the JWT")]
    Clock,

    #[error("could not sign the JWT: {0}")]
    Signing(String),

    #[error("GitHub API returned 401: the App JWT was rejected ({message})")]
    JwtRejected { message: String },

    #[error("GitHub API returned 404: installation {installation_id} not found for App {app_id} ({message})")]
    InstallationNotFound {
        installation_id: u64,
        app_id: String,
        message: String,
    },

    #[error("GitHub API rate limit reached{}", .retry_after.map(|d| format!(", retry in {} s", d.as_secs().max(1))).unwrap_or_default())]
    GithubRateLimited { retry_after: Option<Duration> },

    #[error("GitHub API refused to mint the token ({status}): {message}")]
    GithubRefused { status: u16, message: String },

    #[error("GitHub API error {status}: {message}")]
    GithubServer { status: u16, message: String },

    #[error("GitHub API unreachable at {url}: {detail}")]
    GithubUnreachable { url: String, detail: String },

    #[error("GitHub API did not answer within {0:?}")]
    GithubTimeout(Duration),

    #[error("unexpected answer from the GitHub API at {url} ({status}): {detail}")]
    GithubUnexpected {
        url: String,
        status: u16,
        detail: String,
    },

    #[error("could not build the HTTP client: {0}")]
    Client(String),

    #[error("could not write the token to stdout: {0}")]
    Output(#[source] std::io::Error),
}

/// What went wrong at the vault, phrased for this command: a Cloudflare
/// rejection means different things with and without a service token set.
fn vault_cause(source: &VaultError, cf_configured: bool) -> String {
    match source {
        VaultError::CloudflareAccessRejected { detail } if !cf_configured => format!(
            "Cloudflare Access is in front of the vault and no service token is configured ({detail})"
        ),
        VaultError::CloudflareAccessRejected { detail } => {
            format!("Cloudflare Access did not accept the configured service token ({detail})")
        }
        VaultError::BadCredentials { message } => {
            format!("the vault refused the client id / secret ({message})")
        }
        other => other.to_string(),
    }
}

fn near_miss_note(near_misses: &[(String, &'static str)]) -> String {
    if near_misses.is_empty() {
        return String::new();
    }
    let found: Vec<String> = near_misses
        .iter()
        .map(|(found, wanted)| format!("'{}' looks like {wanted}", found.escape_default()))
        .collect();
    format!(" ({})", found.join(", "))
}

impl GithubError {
    /// What the operator should do next, in one line.
    pub fn hint(&self) -> String {
        match self {
            Self::Login {
                source,
                cf_configured,
            }
            | Self::Fetch {
                source,
                cf_configured,
                ..
            } => vault_hint(self, source, *cf_configured),
            Self::MissingKeys {
                folder_empty: true,
                path,
                ..
            } => format!(
                "store APP_ID, INSTALLATION_ID and PRIVATE_KEY_PEM in that folder (check --bot, \
                --path-prefix / INFISICAL_PATH_PREFIX and --environment / INFISICAL_ENV); if they are \
                there, the identity cannot see them: Infisical leaves out of a listing what the identity \
                may not read, so grant it read on the bot path, {}",
                folder_glob_note(path)
            ),
            Self::MissingKeys { .. } => "rename them in Infisical to APP_ID / INSTALLATION_ID / \
                PRIVATE_KEY_PEM exactly (upper case, underscores)"
                .into(),
            Self::ValuesHidden { .. } => "grant the identity read (readValue) on the bot path in Infisical, \
                not only describe"
                .into(),
            Self::InvalidValue {
                key: "INSTALLATION_ID",
                ..
            } => "store the numeric installation id from \
                the App's installation page (github.com/settings/installations/<id>)"
                .into(),
            Self::InvalidValue { .. } => "store the App ID (a number, from the App's settings page) or \
                its client ID (Iv…)"
                .into(),
            Self::MalformedPem { .. } => "store the .pem GitHub generated for the App, whole, including the \
                BEGIN/END lines (PKCS#1 or PKCS#8, unencrypted); re-download it from the App's settings \
                if in doubt"
                .into(),
            Self::Clock => "fix the system clock (enable NTP)".into(),
            Self::Signing(_) => "re-download the App's private key; if it persists, report a bug".into(),
            Self::JwtRejected { .. } => "check that APP_ID belongs to the App whose private key is stored \
                (and that the key was not revoked or rotated: re-download the PEM), that the App still \
                exists, and that this machine's clock is right (the JWT is valid from 60 s ago for 9 min)"
                .into(),
            Self::InstallationNotFound { .. } => "check INSTALLATION_ID on the App's installation page: \
                the App may not be installed on the account, or was uninstalled and reinstalled under a \
                new id; with GitHub Enterprise, pass --github-api-url"
                .into(),
            Self::GithubRateLimited { .. } => "wait and retry; agents making several gh calls should mint \
                once per session: eval \"$(infisical-mcp-rs github-token --bot <bot> --export)\""
                .into(),
            Self::GithubRefused { .. } => "check the installation on GitHub (suspended? permissions \
                accepted?) and GitHub's message above"
                .into(),
            Self::GithubServer { .. } => "GitHub failed; retry shortly (githubstatus.com)".into(),
            Self::GithubUnreachable { .. } => "check the network, DNS and HTTPS_PROXY, and --github-api-url \
                / GITHUB_API_URL (https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise)"
                .into(),
            Self::GithubTimeout(_) => "GitHub or the network is slow; retry, or raise --call-timeout".into(),
            Self::GithubUnexpected { .. } => "--github-api-url / GITHUB_API_URL may not point at a GitHub \
                REST API (https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise)"
                .into(),
            Self::Client(_) => "this is a bug or a broken TLS setup; please report it".into(),
            Self::Output(_) => "stdout was closed early; run the command again with stdout captured".into(),
        }
    }

    /// A short stable name, for tests and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Login { source, .. } | Self::Fetch { source, .. } => source.kind(),
            Self::MissingKeys { .. } => "missing_keys",
            Self::ValuesHidden { .. } => "values_hidden",
            Self::InvalidValue { .. } => "invalid_value",
            Self::MalformedPem { .. } => "malformed_pem",
            Self::Clock => "clock",
            Self::Signing(_) => "signing",
            Self::JwtRejected { .. } => "github_jwt_rejected",
            Self::InstallationNotFound { .. } => "github_installation_not_found",
            Self::GithubRateLimited { .. } => "github_rate_limited",
            Self::GithubRefused { .. } => "github_refused",
            Self::GithubServer { .. } => "github_error",
            Self::GithubUnreachable { .. } => "github_unreachable",
            Self::GithubTimeout(_) => "github_timeout",
            Self::GithubUnexpected { .. } => "github_unexpected_response",
            Self::Client(_) => "client_error",
            Self::Output(_) => "output",
        }
    }
}

/// The glob that reaches the bot's own folder, and the runbook's one that
/// does not: Infisical's picomatch matches `/X/*` below `/X` only, while the
/// bot's secrets live in `/X` itself (docs/runbook-modes.md).
fn folder_glob_note(path: &str) -> String {
    format!(
        "with the glob {path}/** — {path}/* (a common grant) matches only what lies below \
         {path}, not the folder itself where the bot's secrets are"
    )
}

/// The vault's own hint, except for the rows the runbook spells out.
fn vault_hint(error: &GithubError, source: &VaultError, cf_configured: bool) -> String {
    match (source, error) {
        (VaultError::CloudflareAccessRejected { .. }, _) if !cf_configured => {
            "set CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET to a Cloudflare Access service token \
             that the vault's Access application accepts"
                .into()
        }
        (VaultError::CloudflareAccessRejected { .. }, _) => "in Cloudflare → Access → Applications → \
            Policies, attach the Service Auth policy that includes this service token; check that \
            CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET are current"
            .into(),
        (VaultError::BadCredentials { .. }, _) => "verify INFISICAL_CLIENT_ID / INFISICAL_CLIENT_SECRET \
            (or the INFISICAL_UNIVERSAL_AUTH_* names), and that the identity is assigned to the project"
            .into(),
        (VaultError::PermissionDenied { .. }, GithubError::Fetch { path, .. }) => {
            format!(
                "add read permission on the bot path for the identity in Infisical (project roles or an \
                 additional privilege), {}",
                folder_glob_note(path)
            )
        }
        (VaultError::NotFound { .. }, GithubError::Fetch { .. }) => "check --bot, --path-prefix \
            (INFISICAL_PATH_PREFIX), --environment (INFISICAL_ENV) and INFISICAL_PROJECT_ID"
            .into(),
        _ => source.hint(),
    }
}
