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
mod sources;

pub use projects::{ProjectScope, check_project_id};
pub use sources::VarSources;

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

/// Flags shared by every mode that talks to the vault.
#[derive(Debug, Clone, Args)]
pub struct VaultArgs {
    /// Vault base URL (also INFISICAL_DOMAIN, INFISICAL_API_URL, INFISICAL_HOST).
    #[arg(long, env = "INFISICAL_HOST_URL", hide_env_values = true, value_name = "URL")]
    pub host_url: Option<String>,

    /// Universal-auth client id (also INFISICAL_CLIENT_ID). The client secret is
    /// read from INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET only, never a flag.
    #[arg(long, env = "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", hide_env_values = true)]
    pub client_id: Option<String>,

    /// Cloudflare Access service-token id; the secret comes from CF_ACCESS_CLIENT_SECRET.
    #[arg(long, env = "CF_ACCESS_CLIENT_ID", hide_env_values = true)]
    pub cf_access_client_id: Option<String>,

    /// User-Agent sent on every request.
    #[arg(long, env = "INFISICAL_USER_AGENT", value_name = "UA")]
    pub user_agent: Option<String>,

    /// Allow plain http:// to a host that is not loopback (credentials travel in clear).
    #[arg(long)]
    pub allow_insecure_http: bool,

    /// Seconds allowed to open a connection to the vault.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub connect_timeout: u64,

    /// Seconds one vault call may take in total, retries included.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    pub call_timeout: u64,

    /// Largest vault response accepted, in MiB.
    #[arg(long, default_value_t = 16, value_name = "MIB")]
    pub max_response_mib: u64,

    /// Vault requests in flight at once; more wait their turn, so a burst of
    /// agent calls cannot flood the vault or its rate limit.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub vault_concurrency: u64,
}

/// Flags for the defaults and the scope of tool calls.
#[derive(Debug, Clone, Args)]
pub struct ScopeArgs {
    /// Default project id for tool calls, and the only project they may
    /// reach unless --allow-project names others.
    #[arg(long, env = "INFISICAL_PROJECT_ID")]
    pub project_id: Option<String>,

    /// Another project tool calls may reach besides --project-id, repeatable
    /// ('*' for any project the identity belongs to). Also
    /// INFISICAL_ALLOWED_PROJECTS, whitespace- or comma-separated.
    #[arg(long = "allow-project", value_name = "ID")]
    pub allow_project: Vec<String>,

    /// Default environment slug for tool calls (also INFISICAL_ENV).
    #[arg(long, env = "INFISICAL_ENVIRONMENT", value_name = "SLUG")]
    pub environment: Option<String>,

    /// Default folder for tool calls.
    #[arg(long, env = "INFISICAL_SECRET_PATH", value_name = "PATH")]
    pub secret_path: Option<String>,

    /// Client-side scope entry ENV:GLOB, repeatable (e.g. dev:/agents/warden/**;
    /// '*' as ENV means any). Also INFISICAL_SCOPE, whitespace-separated.
    #[arg(long = "scope", value_name = "ENV:GLOB")]
    pub scope: Vec<String>,
}

/// How the binary proves who it is to Infisical.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Machine identity with universal auth; tokens are obtained and renewed here.
    UniversalAuth {
        client_id: String,
        client_secret: SecretString,
    },
    /// An access token issued elsewhere; used as is, never renewed.
    AccessToken(SecretString),
}

/// A Cloudflare Access service token. The id is not secret (it is visible in
/// the dashboard), the secret is.
#[derive(Debug, Clone)]
pub struct CfAccess {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// Everything needed to open connections to the vault.
#[derive(Debug, Clone)]
pub struct VaultSettings {
    /// Base URL without `/api`, no trailing slash.
    pub base_url: Url,
    pub cf_access: Option<CfAccess>,
    pub user_agent: String,
    pub connect_timeout: Duration,
    pub call_timeout: Duration,
    pub max_response_bytes: usize,
    /// Vault requests in flight at once, across all callers.
    pub max_concurrency: usize,
}

/// Where tool calls go when the caller does not say.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub project_id: Option<String>,
    pub environment: Option<String>,
    pub secret_path: SecretPath,
    /// Which projects a call may reach at all.
    pub projects: ProjectScope,
}

impl Defaults {
    /// Whether a call may reach `project`: the default project, or one the
    /// operator named.
    pub fn allows_project(&self, project: &str) -> bool {
        self.projects.allows(self.project_id.as_deref(), project)
    }

    /// The projects a call may reach, for errors and `doctor`.
    pub fn projects_text(&self) -> String {
        self.projects.describe(self.project_id.as_deref())
    }
}

pub fn default_user_agent() -> String {
    format!("infisical-mcp-rs/{}", env!("CARGO_PKG_VERSION"))
}

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

fn secret_var(names: &[&str], env: &dyn EnvSource) -> Result<Option<(String, SecretString)>, ConfigError> {
    Ok(pick(None, "", names, env)?.map(|(n, v)| (n, SecretString::from(v.trim().to_string()))))
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip).to_canonical().is_loopback(),
        None => false,
    }
}

/// Parses the vault URL the way the tools it replaces accept it: with or
/// without a trailing `/api`, with or without a trailing slash.
pub fn parse_base_url(var: &str, raw: &str, allow_insecure_http: bool) -> Result<Url, ConfigError> {
    let example = "https://vault.example.com";
    let mut url = Url::parse(raw.trim()).map_err(|e| {
        ConfigError::new(
            var,
            format!("is not a URL ({e})"),
            format!("set it like {example}"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(
            var,
            format!("uses scheme '{}'", url.scheme()),
            format!("use an https:// URL such as {example}"),
        ));
    }
    if url.host().is_none() {
        return Err(ConfigError::new(
            var,
            "has no host",
            format!("set it like {example}"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(ConfigError::new(
            var,
            "carries a query, fragment or user name",
            format!("give only scheme, host, optional port and path, like {example}"),
        ));
    }
    if url.scheme() == "http" && !is_loopback_host(&url) && !allow_insecure_http {
        return Err(ConfigError::new(
            var,
            "is plain http:// to a host that is not loopback; credentials would travel in clear",
            "use https://, or pass --allow-insecure-http if this network is trusted",
        ));
    }
    let trimmed = url.path().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/api").unwrap_or(trimmed).to_string();
    url.set_path(&trimmed);
    Ok(url)
}

/// When universal-auth variables and `INFISICAL_TOKEN` are both set and
/// `INFISICAL_AUTH_METHOD` does not choose, which one is used and how to
/// pick the other, said at start by every command.
pub fn credential_choice(client_id_flag: Option<&String>, env: &dyn EnvSource) -> Option<String> {
    let universal = (client_id_flag.is_some() || CLIENT_ID_VARS.iter().any(|n| env.var(n).is_some()))
        && CLIENT_SECRET_VARS.iter().any(|n| env.var(n).is_some());
    if !universal || env.var(TOKEN_VAR).is_none() || env.var(AUTH_METHOD_VAR).is_some() {
        return None;
    }
    Some(format!(
        "{TOKEN_VAR} is ignored: universal auth (INFISICAL_UNIVERSAL_AUTH_CLIENT_ID / _SECRET) is set too and wins; \
         set {AUTH_METHOD_VAR}=access-token to use {TOKEN_VAR} instead, or unset one of them"
    ))
}

impl VaultArgs {
    /// Where the vault URL and the machine identity were read from.
    pub fn sources(&self, env: &dyn EnvSource, sources: &mut VarSources) {
        let host = self.host_url.as_ref().map(|v| ("--host-url", v));
        sources.note("vault URL", host, &HOST_VARS, env, false);
        let id = self.client_id.as_ref().map(|v| ("--client-id", v));
        sources.note("client id", id, &CLIENT_ID_VARS, env, true);
        sources.note("client secret", None, &CLIENT_SECRET_VARS, env, true);
        if let Some(note) = credential_choice(self.client_id.as_ref(), env) {
            sources.ignored.push(note);
        }
    }

    /// Validates the connection settings (not the credentials).
    pub fn settings(&self, env: &dyn EnvSource) -> Result<VaultSettings, ConfigError> {
        self.settings_from(env, &HOST_VARS).map(|(_, settings)| settings)
    }

    /// [`Self::settings`] with the vault URL read from `host_vars` only;
    /// also says which name (or flag) it came from.
    pub fn settings_from(
        &self,
        env: &dyn EnvSource,
        host_vars: &[&str],
    ) -> Result<(String, VaultSettings), ConfigError> {
        let (host_var, host) = pick(
            self.host_url.as_ref(),
            "INFISICAL_HOST_URL (--host-url)",
            host_vars,
            env,
        )?
        .ok_or_else(|| {
            ConfigError::new(
                "INFISICAL_HOST_URL",
                format!(
                    "is not set (nor {})",
                    host_vars.get(1..).unwrap_or_default().join(" / ")
                ),
                "set INFISICAL_HOST_URL to the vault's base URL, e.g. https://vault.example.com",
            )
        })?;
        let base_url = parse_base_url(&host_var, &host, self.allow_insecure_http)?;

        let cf_id = pick(
            self.cf_access_client_id.as_ref(),
            "CF_ACCESS_CLIENT_ID (--cf-access-client-id)",
            &[CF_ID_VAR],
            env,
        )?;
        let cf_secret = secret_var(&[CF_SECRET_VAR], env)?;
        let cf_access = match (cf_id, cf_secret) {
            (Some((_, client_id)), Some((_, client_secret))) => Some(CfAccess {
                client_id: client_id.trim().to_string(),
                client_secret,
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    CF_SECRET_VAR,
                    "is not set, but CF_ACCESS_CLIENT_ID is",
                    "set both CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET (the Access service token), or neither",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    CF_ID_VAR,
                    "is not set, but CF_ACCESS_CLIENT_SECRET is",
                    "set both CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET (the Access service token), or neither",
                ));
            }
        };

        let user_agent = match pick(
            self.user_agent.as_ref(),
            "INFISICAL_USER_AGENT (--user-agent)",
            &["INFISICAL_USER_AGENT"],
            env,
        )? {
            Some((var, ua)) => {
                let ua = ua.trim().to_string();
                if reqwest::header::HeaderValue::from_str(&ua).is_err() {
                    return Err(ConfigError::new(
                        var,
                        "is not a valid header value",
                        "use printable ASCII, e.g. my-agent/1.0",
                    ));
                }
                ua
            }
            None => default_user_agent(),
        };

        for (flag, value) in [
            ("--connect-timeout", self.connect_timeout),
            ("--call-timeout", self.call_timeout),
            ("--max-response-mib", self.max_response_mib),
            ("--vault-concurrency", self.vault_concurrency),
        ] {
            if value == 0 {
                return Err(ConfigError::new(flag, "is 0", "give a positive number"));
            }
        }
        for (flag, value) in [
            ("--connect-timeout", self.connect_timeout),
            ("--call-timeout", self.call_timeout),
        ] {
            if value > MAX_TIMEOUT_SECS {
                return Err(ConfigError::new(
                    flag,
                    format!("is {value} s, more than a day ({MAX_TIMEOUT_SECS} s)"),
                    "give a number of seconds up to 86400, e.g. 20",
                ));
            }
        }
        let max_response_bytes =
            usize::try_from(self.max_response_mib.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);

        Ok((
            host_var,
            VaultSettings {
                base_url,
                cf_access,
                user_agent,
                connect_timeout: Duration::from_secs(self.connect_timeout),
                call_timeout: Duration::from_secs(self.call_timeout),
                max_response_bytes,
                max_concurrency: usize::try_from(self.vault_concurrency).unwrap_or(usize::MAX),
            },
        ))
    }

    /// Validates the machine identity's credentials.
    pub fn credentials(&self, env: &dyn EnvSource) -> Result<Credentials, ConfigError> {
        let client_id = pick(
            self.client_id.as_ref(),
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID (--client-id)",
            &CLIENT_ID_VARS,
            env,
        )?;
        let client_secret = secret_var(&CLIENT_SECRET_VARS, env)?;
        let token = secret_var(&[TOKEN_VAR], env)?;
        let method = pick(None, "", &[AUTH_METHOD_VAR], env)?.map(|(_, m)| m.trim().to_string());

        let universal = match (client_id, client_secret) {
            (Some((_, id)), Some((_, secret))) => Some(Credentials::UniversalAuth {
                client_id: id.trim().to_string(),
                client_secret: secret,
            }),
            (Some((var, _)), None) => {
                return Err(ConfigError::new(
                    "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
                    format!("is not set, but {var} is"),
                    "export INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET with the identity's client secret",
                ));
            }
            (None, Some((var, _))) => {
                return Err(ConfigError::new(
                    "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
                    format!("is not set, but {var} is"),
                    "export INFISICAL_UNIVERSAL_AUTH_CLIENT_ID with the identity's client id",
                ));
            }
            (None, None) => None,
        };
        let token = token.map(|(_, t)| Credentials::AccessToken(t));

        match method.as_deref() {
            None => universal.or(token).ok_or_else(|| {
                ConfigError::new(
                    "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
                    "no credentials are set",
                    "export INFISICAL_UNIVERSAL_AUTH_CLIENT_ID and INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET \
                     (a machine identity with universal auth), or INFISICAL_TOKEN",
                )
            }),
            Some("universal-auth") => universal.ok_or_else(|| {
                ConfigError::new(
                    "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
                    "is not set, but INFISICAL_AUTH_METHOD=universal-auth",
                    "export INFISICAL_UNIVERSAL_AUTH_CLIENT_ID and INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
                )
            }),
            Some("access-token") => token.ok_or_else(|| {
                ConfigError::new(
                    TOKEN_VAR,
                    "is not set, but INFISICAL_AUTH_METHOD=access-token",
                    "export INFISICAL_TOKEN with an access token",
                )
            }),
            Some(other) => Err(ConfigError::new(
                AUTH_METHOD_VAR,
                format!("has unknown value '{other}'"),
                "use universal-auth or access-token",
            )),
        }
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

impl ScopeArgs {
    pub fn defaults(&self, env: &dyn EnvSource) -> Result<Defaults, ConfigError> {
        let project_id = match pick(
            self.project_id.as_ref(),
            "INFISICAL_PROJECT_ID (--project-id)",
            &[PROJECT_VAR],
            env,
        )? {
            Some((var, v)) => {
                let v = v.trim().to_string();
                if !check_project_id(&v) {
                    return Err(ConfigError::new(
                        var,
                        format!("'{}' is not a project id", v.escape_default()),
                        "use the project id Infisical shows (letters, digits, '-' and '_')",
                    ));
                }
                Some(v)
            }
            None => None,
        };
        let projects = ProjectScope::parse(&self.allow_project, env)?;
        let environment = match pick(
            self.environment.as_ref(),
            "INFISICAL_ENVIRONMENT (--environment)",
            &ENVIRONMENT_VARS,
            env,
        )? {
            Some((var, v)) => Some(check_slug(&var, &v)?),
            None => None,
        };
        let secret_path = match pick(
            self.secret_path.as_ref(),
            "INFISICAL_SECRET_PATH (--secret-path)",
            &["INFISICAL_SECRET_PATH"],
            env,
        )? {
            Some((var, v)) => SecretPath::parse(&v).map_err(|e| {
                ConfigError::new(
                    var,
                    e.to_string(),
                    "use an absolute folder path such as /agents/warden",
                )
            })?,
            None => SecretPath::root(),
        };
        Ok(Defaults {
            project_id,
            environment,
            secret_path,
            projects,
        })
    }

    /// The scope is mandatory: an empty one would either refuse everything or,
    /// worse, be read as "everything". Granting everything must be explicit.
    pub fn scope(&self, env: &dyn EnvSource) -> Result<Scope, ConfigError> {
        parse_scope(&self.scope, env, true)?.ok_or_else(|| {
            ConfigError::new(
                SCOPE_VAR,
                "is not set (nor --scope)",
                "give one or more ENV:GLOB entries",
            )
        })
    }
}

/// The scope from repeated `--scope` flags, else from `INFISICAL_SCOPE`.
/// When neither is given: an error if `required` (see [`ScopeArgs::scope`]),
/// else `None` (the mode then relies on the identity's own permissions).
pub fn parse_scope(
    flags: &[String],
    env: &dyn EnvSource,
    required: bool,
) -> Result<Option<Scope>, ConfigError> {
    let (var, entries) = if !flags.is_empty() {
        ("--scope".to_string(), flags.to_vec())
    } else {
        match pick(None, "", &[SCOPE_VAR], env)? {
            Some((var, v)) => (var, vec![v]),
            None if required => (SCOPE_VAR.to_string(), Vec::new()),
            None => return Ok(None),
        }
    };
    for entry in &entries {
        reject_unexpanded(&var, entry)?;
    }
    Scope::parse_list(&entries).map(Some).map_err(|e| {
        ConfigError::new(
            var,
            e.to_string(),
            "give one or more ENV:GLOB entries, e.g. --scope 'dev:/agents/warden/**', \
             or grant everything explicitly with --scope '*:/**'",
        )
    })
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

/// The one environment every scope entry names, if they all name the same
/// one: what the user already said, so it serves as the default.
pub fn scope_environment(scope: &Scope) -> Option<String> {
    let mut envs = scope.entries().iter().map(|e| e.environment());
    let first = envs.next()?;
    (first != "*" && envs.all(|e| e == first)).then(|| first.to_string())
}

/// A default environment that no scope entry names (a typo such as `dve:`
/// on one side) would make every call without an environment a refusal.
pub fn environment_warning(default: Option<&str>, scope: &Scope) -> Option<String> {
    let default = default?;
    if scope
        .entries()
        .iter()
        .any(|e| e.environment() == "*" || e.environment() == default)
    {
        return None;
    }
    let named: Vec<&str> = scope.entries().iter().map(|e| e.environment()).collect();
    Some(format!(
        "the default environment '{default}' (INFISICAL_ENVIRONMENT) is in no scope entry ({}): every call \
         without environmentSlug will be refused; fix the slug in INFISICAL_ENVIRONMENT or in {SCOPE_VAR}",
        named.join(", ")
    ))
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
