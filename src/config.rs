//! Raw flags and environment variables → one validated, typed configuration.
//!
//! Everything the binary reads from its environment is read here, once, before
//! any network call. Each problem becomes a [`ConfigError`] that names the
//! variable (or flag) and says how to fix it; `main` turns it into exit code 2.
//! Accepted names follow the setups this binary replaces (the official MCP
//! server, the Infisical CLI and the seed runbooks), so it is a drop-in.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use secrecy::SecretString;
use url::Url;

use crate::scope::{Scope, SecretPath};

mod projects;
mod scope_args;
mod sources;
mod vault_args;

pub use projects::{ProjectScope, check_project_id, configured_project};
pub use scope_args::{Defaults, ScopeArgs, environment_warning, parse_scope, scope_environment};
pub use sources::VarSources;
pub use vault_args::{
    CfAccess, Credentials, VaultArgs, VaultSettings, credential_choice, default_user_agent, parse_base_url,
};

/// A way to read one environment variable; tests pass a map instead of the
/// process environment.
pub trait EnvSource {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment. Empty values count as unset, as in shells
/// where `FOO=` is the usual way to switch something off.
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<S: std::hash::BuildHasher> EnvSource for std::collections::HashMap<String, String, S> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned().filter(|v| !v.trim().is_empty())
    }
}

/// One configuration problem, always tied to the variable or flag that caused
/// it and to a fix.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}\n  fix: {fix}")]
pub struct ConfigError {
    pub var: String,
    pub problem: String,
    pub fix: String,
}

impl ConfigError {
    pub(crate) fn new(var: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            var: var.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// The vault URL's names, the primary first; every command accepts all of
/// them (`INFISICAL_HOST` is the seed runbooks' `.envrc` name).
pub const HOST_VARS: [&str; 4] = [
    "INFISICAL_HOST_URL",
    "INFISICAL_DOMAIN",
    "INFISICAL_API_URL",
    "INFISICAL_HOST",
];
/// The names `proxy` reads its upstream from. `INFISICAL_API_URL` and
/// `INFISICAL_DOMAIN` are where the stock `infisical` CLI sends its requests:
/// in a shell set up for the CLI they name the proxy itself, so the proxy
/// does not read them.
pub const PROXY_HOST_VARS: [&str; 2] = ["INFISICAL_HOST_URL", "INFISICAL_HOST"];
/// The environment slug's names (`INFISICAL_ENV` is the mint runbook's, docs/runbook-modes.md).
pub const ENVIRONMENT_VARS: [&str; 2] = ["INFISICAL_ENVIRONMENT", "INFISICAL_ENV"];
pub const CLIENT_ID_VARS: [&str; 2] = ["INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", "INFISICAL_CLIENT_ID"];
pub const CLIENT_SECRET_VARS: [&str; 2] = [
    "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
    "INFISICAL_CLIENT_SECRET",
];
pub const TOKEN_VAR: &str = "INFISICAL_TOKEN";
pub const AUTH_METHOD_VAR: &str = "INFISICAL_AUTH_METHOD";
pub const CF_ID_VAR: &str = "CF_ACCESS_CLIENT_ID";
pub const CF_SECRET_VAR: &str = "CF_ACCESS_CLIENT_SECRET";
pub const SCOPE_VAR: &str = "INFISICAL_SCOPE";
pub const PROJECT_VAR: &str = "INFISICAL_PROJECT_ID";
/// Projects besides the default one that tool calls (and `proxy --scope`)
/// may reach; whitespace- or comma-separated ids, or `*` for any.
pub const ALLOWED_PROJECTS_VAR: &str = "INFISICAL_ALLOWED_PROJECTS";
/// Longest timeout accepted, in seconds: a day is far beyond any real call,
/// and keeps deadlines computed from it inside the clock's range.
pub const MAX_TIMEOUT_SECS: u64 = 24 * 3600;

/// The environment variables `--help` documents, with their meaning; kept next
/// to the code that reads them so the two cannot drift apart.
pub const ENV_HELP: &str = "\
Environment variables (flags win over variables; first name listed wins):
  INFISICAL_HOST_URL        vault base URL, e.g. https://vault.example.com
                            (also INFISICAL_DOMAIN, INFISICAL_API_URL, INFISICAL_HOST;
                            a trailing /api is fine)
  INFISICAL_UNIVERSAL_AUTH_CLIENT_ID / _CLIENT_SECRET
                            machine identity (universal auth); also INFISICAL_CLIENT_ID /
                            INFISICAL_CLIENT_SECRET. Secrets are read from the environment only.
  INFISICAL_TOKEN           a pre-issued access token, used as is (no renewal)
  INFISICAL_AUTH_METHOD     universal-auth | access-token, when both kinds are set
  CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET
                            Cloudflare Access service token (both or neither)
  INFISICAL_PROJECT_ID      default project for tool calls, and the only one they may reach
  INFISICAL_ALLOWED_PROJECTS
                            other projects tool calls may reach (ids, whitespace- or
                            comma-separated; '*' for any); also --allow-project ID
  INFISICAL_ENVIRONMENT     default environment slug (also INFISICAL_ENV)
  INFISICAL_SECRET_PATH     default folder (default /)
  INFISICAL_SCOPE           client-side scope, whitespace-separated ENV:GLOB entries
  INFISICAL_USER_AGENT      User-Agent sent to the vault (CF Bot Fight Mode blocks stock ones)
  RUST_LOG                  log filter, e.g. infisical_mcp_rs=debug (logs go to stderr)
Values still holding an unexpanded ${VAR} reference are rejected.";

/// Reads a value from a flag, else from the first set variable among `names`;
/// returns the name it came from so errors can point at it.
pub(crate) fn pick(
    flag: Option<&String>,
    flag_name: &str,
    names: &[&str],
    env: &dyn EnvSource,
) -> Result<Option<(String, String)>, ConfigError> {
    let found = match flag.filter(|v| !v.trim().is_empty()) {
        Some(v) => Some((flag_name.to_string(), v.clone())),
        None => names.iter().find_map(|n| env.var(n).map(|v| (n.to_string(), v))),
    };
    if let Some((name, value)) = &found {
        reject_unexpanded(name, value)?;
    }
    Ok(found)
}

/// A `${VAR}` left in a value means the MCP client did not expand a
/// `.mcp.json` reference: sending it on would fail far from the cause.
pub(crate) fn reject_unexpanded(name: &str, value: &str) -> Result<(), ConfigError> {
    if value.contains("${") {
        return Err(ConfigError::new(
            name,
            "still contains an unexpanded ${...} reference",
            "export the referenced variable in the environment that starts the MCP client, \
             or put the real value in place of the reference",
        ));
    }
    Ok(())
}

/// The environment slug from `--environment`, else `INFISICAL_ENVIRONMENT`
/// or `INFISICAL_ENV`, checked; `None` when none is set.
pub(crate) fn configured_environment(
    flag: Option<&String>,
    env: &dyn EnvSource,
) -> Result<Option<String>, ConfigError> {
    match pick(
        flag,
        "INFISICAL_ENVIRONMENT (--environment)",
        &ENVIRONMENT_VARS,
        env,
    )? {
        Some((var, v)) => check_slug(&var, &v).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn check_slug(var: &str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    if value.is_empty()
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ConfigError::new(
            var,
            format!("'{}' is not an environment slug", value.escape_default()),
            "use the slug shown in Infisical, e.g. dev, staging, prod",
        ));
    }
    Ok(value.to_string())
}

/// Where logs and the audit trail go.
#[derive(Debug, Clone, Default, Args)]
pub struct LogArgs {
    /// Write logs to daily-rotated files in DIR instead of stderr.
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,

    /// How many daily log files to keep in --log-dir.
    #[arg(long, default_value_t = 7, value_name = "N")]
    pub log_retention: usize,

    /// Append one JSON line per tool call to FILE (created 0600; never holds
    /// a value or a token).
    #[arg(long, env = "INFISICAL_AUDIT_LOG", value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

/// When and how much to cache. `ttl: None` (the default) caches nothing.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    pub ttl: Option<Duration>,
    /// How old an entry may be when served because the vault is rate limiting.
    pub max_stale: Duration,
    pub max_entries: usize,
    pub max_bytes: usize,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            ttl: None,
            max_stale: Duration::from_secs(300),
            max_entries: 1000,
            max_bytes: 8 * 1024 * 1024,
        }
    }
}

/// The read cache's flags (see `vault::reuse`).
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// Keep successful reads in memory for SECS and answer repeats from there
    /// (off by default). Values never touch the disk.
    #[arg(long, env = "INFISICAL_CACHE_TTL", value_name = "SECS")]
    pub cache_ttl: Option<u64>,

    /// While the vault is rate limiting, answer from cache entries up to SECS old.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub cache_max_stale: u64,

    /// Most reads kept in the cache (8 MiB at most in all).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub cache_max_entries: usize,
}

impl CacheArgs {
    pub fn policy(&self) -> Result<CachePolicy, ConfigError> {
        if self.cache_ttl == Some(0) {
            return Err(ConfigError::new(
                "INFISICAL_CACHE_TTL (--cache-ttl)",
                "is 0",
                "leave it unset to turn the cache off, or give a positive number of seconds",
            ));
        }
        if self.cache_max_entries == 0 {
            return Err(ConfigError::new(
                "--cache-max-entries",
                "is 0",
                "give a positive number",
            ));
        }
        let ttl = self.cache_ttl.map(Duration::from_secs);
        Ok(CachePolicy {
            ttl,
            // Stale answers are only ever older than fresh ones.
            max_stale: Duration::from_secs(self.cache_max_stale).max(ttl.unwrap_or_default()),
            max_entries: self.cache_max_entries,
            ..CachePolicy::default()
        })
    }
}

/// Everything `serve` (and `demo`) take.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub vault: VaultArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Include values in list-secrets results (off by default: agents should
    /// ask for the one value they need with get-secret).
    #[arg(long)]
    pub list_values: bool,
    /// A secret whose `__EXPIRES_AT` is this close is reported as expiring.
    #[arg(long, default_value_t = 14, value_name = "DAYS")]
    pub expiry_warning_days: u64,
    /// The credential broker's rules file: list-secrets marks the secrets it
    /// injects, get-secret refuses the values of its use_only ones.
    #[arg(long, env = "INFISICAL_BROKER_RULES", value_name = "FILE")]
    pub broker_rules: Option<PathBuf>,
}

/// The validated configuration of the MCP server.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub vault: VaultSettings,
    pub credentials: Credentials,
    pub defaults: Defaults,
    pub scope: Scope,
    pub list_values: bool,
    pub cache: CachePolicy,
    pub expiry_warning: Duration,
    /// Which name each aliased setting was read from (`doctor` shows it).
    pub sources: VarSources,
    /// Settings that contradict each other (`serve` logs them at start,
    /// `doctor` shows them).
    pub warnings: Vec<String>,
}

impl ServeArgs {
    /// Validates everything at once, before any network call.
    pub fn validate(&self, env: &dyn EnvSource) -> Result<ServeConfig, ConfigError> {
        let mut sources = self.sources(env);
        let scope = self.scope.scope(env)?;
        let mut defaults = self.scope.defaults(env)?;
        if defaults.environment.is_none()
            && let Some(only) = scope_environment(&scope)
        {
            defaults.environment = Some(only);
            sources
                .used
                .push(("environment", format!("{SCOPE_VAR} (its only environment)")));
        }
        let warnings = environment_warning(defaults.environment.as_deref(), &scope)
            .into_iter()
            .collect();
        Ok(ServeConfig {
            vault: self.vault.settings(env)?,
            credentials: self.vault.credentials(env)?,
            defaults,
            scope,
            list_values: self.list_values,
            cache: self.cache.policy()?,
            expiry_warning: Duration::from_secs(self.expiry_warning_days.saturating_mul(24 * 3600)),
            sources,
            warnings,
        })
    }

    /// Where each aliased setting comes from, and which aliases lose.
    pub fn sources(&self, env: &dyn EnvSource) -> VarSources {
        let mut sources = VarSources::default();
        self.vault.sources(env, &mut sources);
        let environment = self.scope.environment.as_ref().map(|v| ("--environment", v));
        sources.note("environment", environment, &ENVIRONMENT_VARS, env, false);
        sources
    }
}

#[cfg(test)]
mod tests;
