//! The flags of `provision` / `deprovision`, and the [`Setup`] a run
//! builds from them once they are valid: every problem is a
//! [`ConfigError`] naming the flag or variable and the fix, before any
//! vault call.

use clap::Args;

use super::plan;
use super::plan::STORE_ROOT_VAR;
use super::{DEFAULT_STORE_ROOT, EXIT_CONFIG, Outcome, SecretAt};
use crate::config::{ConfigError, Credentials, EnvSource, VaultArgs, VaultSettings};
use crate::scope::{Glob, SecretPath};

/// Flags of `provision`.
#[derive(Debug, Clone, Args)]
pub struct ProvisionArgs {
    /// Name of the machine identity; it also names its credentials folder.
    pub name: String,

    #[command(flatten)]
    pub vault: VaultArgs,

    /// Project the identity joins (also INFISICAL_PROJECT_ID).
    #[arg(long, env = "INFISICAL_PROJECT_ID", value_name = "ID")]
    pub project_id: Option<String>,

    /// Environment slug the privileges apply to (e.g. prod).
    #[arg(long, value_name = "SLUG")]
    pub environment: Option<String>,

    /// secretPath glob the agent may read (read only), repeatable: one
    /// privilege each. `/**` needs --allow-broad; a glob that can reach the
    /// credential store is refused.
    #[arg(long = "glob", value_name = "GLOB")]
    pub globs: Vec<String>,

    /// Environment of the stored credentials (default: --environment).
    #[arg(long, value_name = "SLUG")]
    pub store_environment: Option<String>,

    /// Folder of the stored credentials (default: ROOT/NAME, ROOT from INFISICAL_STORE_ROOT, else /identities).
    #[arg(long, value_name = "PATH")]
    pub store_path: Option<String>,

    /// Prefix of the stored keys PFX_CLIENT_ID / PFX_CLIENT_SECRET (default:
    /// NAME in upper snake case).
    #[arg(long, value_name = "PFX")]
    pub store_prefix: Option<String>,

    /// Access-token TTL in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub ttl: u64,

    /// Access-token max TTL in seconds (renewals end there).
    #[arg(long, default_value_t = 7200, value_name = "SECS")]
    pub max_ttl: u64,

    /// Address or CIDR allowed to log in and use tokens, repeatable
    /// (default: 0.0.0.0/0 and ::/0, as the runbook).
    #[arg(long = "trusted-ip", value_name = "CIDR")]
    pub trusted_ips: Vec<String>,

    /// Allow a glob that grants the whole environment (e.g. /**).
    #[arg(long)]
    pub allow_broad: bool,

    /// Issue a new client secret, store it, verify a login with it, then
    /// revoke the old ones.
    #[arg(long)]
    pub rotate_secret: bool,

    /// Print the plan; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// One JSON document instead of the report.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `deprovision`.
#[derive(Debug, Clone, Args)]
pub struct DeprovisionArgs {
    /// Name of the machine identity made by `provision`.
    pub name: String,

    #[command(flatten)]
    pub vault: VaultArgs,

    /// Project the identity is a member of (also INFISICAL_PROJECT_ID).
    #[arg(long, env = "INFISICAL_PROJECT_ID", value_name = "ID")]
    pub project_id: Option<String>,

    /// Environment of the stored credentials (as --store-environment, or
    /// --environment, of provision).
    #[arg(long, visible_alias = "store-environment", value_name = "SLUG")]
    pub environment: Option<String>,

    /// Folder of the stored credentials (default: ROOT/NAME, ROOT from INFISICAL_STORE_ROOT, else /identities).
    #[arg(long, value_name = "PATH")]
    pub store_path: Option<String>,

    /// Prefix of the stored keys (default: NAME in upper snake case).
    #[arg(long, value_name = "PFX")]
    pub store_prefix: Option<String>,

    /// Leave the stored PFX_CLIENT_ID / PFX_CLIENT_SECRET in place.
    #[arg(long)]
    pub keep_stored: bool,

    /// Print what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// One JSON document instead of the report.
    #[arg(long)]
    pub json: bool,
}

/// Everything a run needs once the flags and variables are valid.
pub(super) struct Setup {
    pub(super) settings: VaultSettings,
    pub(super) credentials: Credentials,
    pub(super) project_id: String,
    pub(super) name: String,
    pub(super) environment: String,
    pub(super) store_env: String,
    pub(super) store: SecretPath,
    pub(super) store_root: SecretPath,
    pub(super) prefix: String,
    pub(super) globs: Vec<Glob>,
}

impl Setup {
    pub(super) fn id_key(&self) -> String {
        format!("{}_CLIENT_ID", self.prefix)
    }

    pub(super) fn secret_key(&self) -> String {
        format!("{}_CLIENT_SECRET", self.prefix)
    }

    pub(super) fn at<'a>(&'a self, key: &'a str) -> SecretAt<'a> {
        SecretAt {
            project_id: &self.project_id,
            environment: &self.store_env,
            path: self.store.as_str(),
            key,
        }
    }

    pub(super) fn stored(&self, key: &str) -> String {
        format!(
            "{}:{}/{key}",
            self.store_env,
            self.store.as_str().trim_end_matches('/')
        )
    }
}

pub(super) struct Common<'a> {
    pub(super) name: &'a str,
    pub(super) vault: &'a VaultArgs,
    pub(super) project_id: Option<&'a str>,
    pub(super) environment: Option<&'a str>,
    pub(super) store_environment: Option<&'a str>,
    pub(super) store_path: Option<&'a str>,
    pub(super) store_prefix: Option<&'a str>,
}

impl<'a> Common<'a> {
    /// The identity `name` and the vault, with every other setting left to
    /// its default.
    pub(super) fn of(name: &'a str, vault: &'a VaultArgs) -> Self {
        Self {
            name,
            vault,
            project_id: None,
            environment: None,
            store_environment: None,
            store_path: None,
            store_prefix: None,
        }
    }
}

pub(super) fn setup(c: &Common<'_>, globs: &[String], env: &dyn EnvSource) -> Result<Setup, ConfigError> {
    plan::check_name(c.name)
        .map_err(|why| ConfigError::new("NAME", why, "pick a name such as mcp-main-loop"))?;
    let settings = c.vault.settings(env)?;
    let credentials = c.vault.credentials(env)?;
    let project_id = c
        .project_id
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            ConfigError::new(
                "INFISICAL_PROJECT_ID (--project-id)",
                "is not set",
                "export INFISICAL_PROJECT_ID with the project's id (Project Settings in Infisical)",
            )
        })?
        .to_owned();
    let environment = c.environment.map(str::trim).unwrap_or("").to_owned();
    let store_env = c
        .store_environment
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&environment)
        .to_owned();
    if store_env.is_empty() {
        return Err(ConfigError::new(
            "--environment",
            "is not set",
            "pass --environment SLUG (e.g. prod); the credentials are stored there unless --store-environment says otherwise",
        ));
    }
    let raw_store = c.store_path.map(str::to_owned).unwrap_or_else(|| {
        let root = env
            .var(STORE_ROOT_VAR)
            .unwrap_or_else(|| DEFAULT_STORE_ROOT.to_string());
        format!("{}/{}", root.trim().trim_end_matches('/'), c.name)
    });
    let store = SecretPath::parse(&raw_store).map_err(|e| {
        let source = if c.store_path.is_some() { "--store-path" } else { STORE_ROOT_VAR };
        ConfigError::new(
            source,
            e.to_string(),
            "give a folder path such as /identities/NAME (--store-path) or /identities (INFISICAL_STORE_ROOT)",
        )
    })?;
    let store_root = store.parent().unwrap_or_else(SecretPath::root);
    let prefix = c
        .store_prefix
        .map(str::to_owned)
        .unwrap_or_else(|| plan::default_prefix(c.name));
    plan::check_prefix(&prefix)
        .map_err(|why| ConfigError::new("--store-prefix", why, "e.g. --store-prefix MCP_MAIN_LOOP"))?;
    let mut parsed = Vec::new();
    for raw in globs {
        parsed.push(
            plan::parse_glob(raw)
                .map_err(|r| ConfigError::new("--glob", r.to_string(), "e.g. --glob '/apps/agent/**'"))?,
        );
    }
    Ok(Setup {
        settings,
        credentials,
        project_id,
        name: c.name.to_owned(),
        environment,
        store_env,
        store,
        store_root,
        prefix,
        globs: parsed,
    })
}

pub(super) fn config_failure(mut outcome: Outcome, e: &ConfigError) -> Outcome {
    outcome.result = format!("configuration error: {}: {}", e.var, e.problem);
    outcome.notes.push(format!("fix: {}", e.fix));
    outcome.exit = EXIT_CONFIG;
    outcome
}

pub(super) fn valid_cidr(raw: &str) -> bool {
    let (address, prefix) = match raw.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (raw, None),
    };
    match address.parse::<std::net::IpAddr>() {
        Ok(ip) => {
            let max = if ip.is_ipv4() { 32 } else { 128 };
            prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|p| p <= max))
        }
        Err(_) => false,
    }
}
