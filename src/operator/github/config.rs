//! `github-token`'s flags and variables → one validated [`GithubTokenConfig`],
//! before any network call. The older variable names (`INFISICAL_HOST`,
//! `INFISICAL_ENV`: see [`crate::config::HOST_VARS`]) work here as in every
//! command, plus `INFISICAL_PATH_PREFIX`; defaults: environment `prod`, bot
//! folders directly under the root (prefix `/`).
//!
//! A bot outside the scope (when one is given) is refused here, so nothing is
//! even asked of the vault.

use clap::Args;
use url::Url;

use crate::config::{
    ConfigError, Credentials, ENVIRONMENT_VARS, EnvSource, VarSources, VaultArgs, VaultSettings,
    configured_environment, parse_base_url, parse_scope, pick,
};
use crate::scope::{Scope, SecretPath};
use crate::vault::Location;

/// The default environment for bot secrets.
pub const DEFAULT_ENVIRONMENT: &str = "prod";
/// The default folder holding one sub-folder per bot: the root, so that
/// `--bot NAME` reads `/NAME` unless a prefix says otherwise.
pub const DEFAULT_PATH_PREFIX: &str = "/";
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";

pub const GITHUB_TOKEN_HELP: &str = "\
Reads APP_ID, INSTALLATION_ID and PRIVATE_KEY_PEM from <path-prefix><bot> in the vault
(one read), signs a short-lived App JWT and mints an installation token. Only the token
goes to stdout; with --export, shell lines for a session:
  eval \"$(infisical-mcp-rs github-token --path-prefix /bots/ --bot my-bot --export)\"
Nothing is cached on disk. Exit codes: 0 minted, 1 failed, 2 configuration error.

Environment variables (flags win; first name listed wins):
  INFISICAL_HOST_URL        vault base URL (also INFISICAL_DOMAIN, INFISICAL_API_URL, INFISICAL_HOST)
  INFISICAL_UNIVERSAL_AUTH_CLIENT_ID / _CLIENT_SECRET
                            machine identity; also INFISICAL_CLIENT_ID / INFISICAL_CLIENT_SECRET
  INFISICAL_TOKEN           a pre-issued access token instead
  CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET
                            Cloudflare Access service token (both or neither)
  INFISICAL_PROJECT_ID      project holding the bot secrets (required)
  INFISICAL_ENVIRONMENT     environment slug (also INFISICAL_ENV; default prod)
  INFISICAL_PATH_PREFIX     folder holding one folder per bot (default /)
  INFISICAL_SCOPE           optional client-side scope, whitespace-separated ENV:GLOB entries
  GITHUB_API_URL            GitHub REST API base (default https://api.github.com)
  RUST_LOG                  log filter (logs go to stderr; keys and tokens are never logged)";

/// Flags of `github-token`.
#[derive(Debug, Clone, Args)]
pub struct GithubTokenArgs {
    /// The bot whose GitHub App credentials to read: the folder <path-prefix><bot>.
    #[arg(long, value_name = "NAME")]
    pub bot: String,

    /// Folder holding one folder per bot (also INFISICAL_PATH_PREFIX; default /).
    #[arg(long, env = "INFISICAL_PATH_PREFIX", value_name = "PATH")]
    pub path_prefix: Option<String>,

    /// Environment slug of the bot secrets (also INFISICAL_ENV; default prod).
    #[arg(long, env = "INFISICAL_ENVIRONMENT", value_name = "SLUG")]
    pub environment: Option<String>,

    /// Project holding the bot secrets.
    #[arg(long, env = "INFISICAL_PROJECT_ID")]
    pub project_id: Option<String>,

    /// Refuse, before any request, a bot folder outside these ENV:GLOB entries
    /// (repeatable; also INFISICAL_SCOPE). Without either, the identity's own
    /// permissions are the only limit.
    #[arg(long = "scope", value_name = "ENV:GLOB")]
    pub scope: Vec<String>,

    /// Print `export GH_TOKEN=...` and `export GH_TOKEN_EXPIRES_AT=...` lines
    /// for `eval`, instead of the bare token.
    #[arg(long)]
    pub export: bool,

    /// GitHub REST API base: https://HOST/api/v3 for GitHub Enterprise Server.
    #[arg(long, env = "GITHUB_API_URL", value_name = "URL")]
    pub github_api_url: Option<String>,

    #[command(flatten)]
    pub vault: VaultArgs,
}

/// Everything `github-token` needs, validated.
#[derive(Debug, Clone)]
pub struct GithubTokenConfig {
    pub vault: VaultSettings,
    pub credentials: Credentials,
    pub bot: String,
    /// Project, environment and the bot's folder.
    pub location: Location,
    pub github_api_url: Url,
    pub export: bool,
    /// Things worth saying on stderr that are not errors (conflicting aliases).
    pub warnings: Vec<String>,
}

/// A bot name is one folder name: no separators, nothing a path could be
/// smuggled through.
fn check_bot(raw: &str) -> Result<String, ConfigError> {
    let bot = raw.trim();
    let ok = !bot.is_empty()
        && bot.len() <= 100
        && bot != "."
        && bot != ".."
        && bot
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(ConfigError::new(
            "--bot",
            format!("'{}' is not a bot folder name", bot.escape_default()),
            "give the bot's folder name, e.g. --bot raxx-dev-bot (letters, digits, - _ .)",
        ));
    }
    Ok(bot.to_string())
}

impl GithubTokenArgs {
    /// Validates everything at once, before any network call.
    pub fn validate(&self, env: &dyn EnvSource) -> Result<GithubTokenConfig, ConfigError> {
        let vault = self.vault.settings(env)?;
        let credentials = self.vault.credentials(env)?;
        let bot = check_bot(&self.bot)?;

        let project_id = pick(
            self.project_id.as_ref(),
            "INFISICAL_PROJECT_ID (--project-id)",
            &["INFISICAL_PROJECT_ID"],
            env,
        )?
        .map(|(_, v)| v.trim().to_string())
        .ok_or_else(|| {
            ConfigError::new(
                "INFISICAL_PROJECT_ID",
                "is not set",
                "export INFISICAL_PROJECT_ID with the id of the project holding the bot secrets \
                 (project settings in Infisical), or pass --project-id",
            )
        })?;

        let environment = configured_environment(self.environment.as_ref(), env)?
            .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_string());
        let mut sources = VarSources::default();
        self.vault.sources(env, &mut sources);
        let flag = self.environment.as_ref().map(|v| ("--environment", v));
        sources.note("environment", flag, &ENVIRONMENT_VARS, env, false);
        let mut warnings = sources.ignored;

        let prefix = match pick(
            self.path_prefix.as_ref(),
            "INFISICAL_PATH_PREFIX (--path-prefix)",
            &["INFISICAL_PATH_PREFIX"],
            env,
        )? {
            Some((var, v)) => SecretPath::parse(v.trim()).map_err(|e| {
                ConfigError::new(var, e.to_string(), "use an absolute folder path such as /bots/")
            })?,
            None => SecretPath::parse(DEFAULT_PATH_PREFIX).map_err(|e| {
                ConfigError::new("--path-prefix", e.to_string(), "pass --path-prefix explicitly")
            })?,
        };
        let path = prefix.join(&bot).map_err(|e| {
            ConfigError::new(
                "--bot",
                e.to_string(),
                "give the bot's folder name, e.g. --bot my-bot",
            )
        })?;

        if let Some(scope) = parse_scope(&self.scope, env, false)? {
            check_in_scope(&scope, &environment, &path)?;
            warnings.extend(scope.warnings());
        }

        let github_api_url = match pick(
            self.github_api_url.as_ref(),
            "GITHUB_API_URL (--github-api-url)",
            &["GITHUB_API_URL"],
            env,
        )? {
            Some((var, raw)) => parse_github_url(&var, &raw, self.vault.allow_insecure_http)?,
            None => Url::parse(DEFAULT_GITHUB_API_URL)
                .map_err(|e| ConfigError::new("--github-api-url", e.to_string(), "pass --github-api-url"))?,
        };

        Ok(GithubTokenConfig {
            vault,
            credentials,
            bot,
            location: Location {
                project_id,
                environment,
                path,
            },
            github_api_url,
            export: self.export,
            warnings,
        })
    }
}

fn check_in_scope(scope: &Scope, environment: &str, path: &SecretPath) -> Result<(), ConfigError> {
    if scope.allows(environment, path) {
        return Ok(());
    }
    // `/bots/NAME/*` reaches below the bot's folder but not the folder
    // itself: name that entry and the glob that does cover it.
    let stopping: Vec<String> = scope
        .entries_stopping_below(environment, path)
        .iter()
        .map(ToString::to_string)
        .collect();
    if !stopping.is_empty() {
        return Err(ConfigError::new(
            "--bot",
            format!(
                "{environment}:{path} is outside the scope ({scope}): {} reaches only what lies below \
                 {path}, not the folder itself where the bot's secrets are; nothing was read",
                stopping.join(", ")
            ),
            format!(
                "write '{environment}:{path}/**' in --scope / INFISICAL_SCOPE (and grant the identity \
                 {path}/** in Infisical, not {path}/*)"
            ),
        ));
    }
    Err(ConfigError::new(
        "--bot",
        format!("{environment}:{path} is outside the scope ({scope}); nothing was read"),
        "pick a bot inside the scope, or widen --scope / INFISICAL_SCOPE (e.g. 'prod:/bots/**')",
    ))
}

/// The GitHub API base keeps its path (GitHub Enterprise serves the REST API
/// under /api/v3); only a trailing slash is dropped.
fn parse_github_url(var: &str, raw: &str, allow_insecure_http: bool) -> Result<Url, ConfigError> {
    // The vault URL rules (scheme, host, no query or credentials, https off
    // loopback) fit GitHub's too; only the /api stripping does not.
    parse_base_url(var, raw, allow_insecure_http)?;
    let mut url = Url::parse(raw.trim()).map_err(|e| {
        ConfigError::new(
            var,
            format!("is not a URL ({e})"),
            "set it like https://api.github.com",
        )
    })?;
    let trimmed = url.path().trim_end_matches('/').to_string();
    url.set_path(&trimmed);
    Ok(url)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::test_support::{env, flag, parse};
    use std::collections::HashMap;

    /// Parses flags only: clap's `env` would read the process environment.
    fn args(argv: &[&str]) -> GithubTokenArgs {
        let mut cli = parse::<GithubTokenArgs>(argv);
        cli.path_prefix = flag(argv, "--path-prefix");
        cli.environment = flag(argv, "--environment");
        cli.project_id = flag(argv, "--project-id");
        cli.github_api_url = flag(argv, "--github-api-url");
        cli.vault.host_url = None;
        cli.vault.client_id = None;
        cli.vault.cf_access_client_id = None;
        cli.vault.user_agent = None;
        cli
    }

    fn runbook_env() -> HashMap<String, String> {
        env(&[
            ("INFISICAL_HOST", "https://vault.example.com"),
            ("INFISICAL_CLIENT_ID", "id"),
            ("INFISICAL_CLIENT_SECRET", "secret"),
            ("INFISICAL_PROJECT_ID", "proj"),
        ])
    }

    #[test]
    fn the_runbook_names_and_defaults_work() {
        let cfg = args(&["--bot", "raxx-dev-bot"]).validate(&runbook_env()).unwrap();
        assert_eq!(cfg.vault.base_url.host_str(), Some("vault.example.com"));
        assert_eq!(cfg.location.environment, "prod");
        assert_eq!(cfg.location.path.as_str(), "/raxx-dev-bot");
        assert_eq!(cfg.github_api_url.as_str(), "https://api.github.com/");
        assert!(cfg.warnings.is_empty());

        let mut e = runbook_env();
        e.insert("INFISICAL_ENV".into(), "staging".into());
        e.insert("INFISICAL_PATH_PREFIX".into(), "/bots/".into());
        let cfg = args(&["--bot", "b"]).validate(&e).unwrap();
        assert_eq!(cfg.location.environment, "staging");
        assert_eq!(cfg.location.path.as_str(), "/bots/b");
    }

    #[test]
    fn primary_environment_wins_but_a_conflicting_alias_is_reported() {
        let mut e = runbook_env();
        e.insert("INFISICAL_ENV".into(), "prod".into());
        e.insert("INFISICAL_ENVIRONMENT".into(), "dev".into());
        let cfg = args(&["--bot", "b"]).validate(&e).unwrap();
        assert_eq!(cfg.location.environment, "dev");
        assert_eq!(cfg.warnings.len(), 1);
    }

    #[test]
    fn bot_names_cannot_escape_the_prefix() {
        for bad in ["", "..", "a/b", "../x", "a b", "a\\b", "%2e%2e"] {
            let err = args(&["--bot", bad]).validate(&runbook_env()).unwrap_err();
            assert_eq!(err.var, "--bot", "{bad}");
        }
    }

    #[test]
    fn a_bot_outside_the_scope_is_refused() {
        let argv = ["--bot", "ops-bot", "--scope", "prod:/dev-bot/**"];
        let err = args(&argv).validate(&runbook_env()).unwrap_err();
        assert!(err.problem.contains("outside the scope"), "{err}");
        let argv = ["--bot", "dev-bot", "--scope", "prod:/dev-bot/**"];
        assert!(args(&argv).validate(&runbook_env()).is_ok());
    }

    #[test]
    fn project_id_is_required() {
        let mut e = runbook_env();
        e.remove("INFISICAL_PROJECT_ID");
        let err = args(&["--bot", "b"]).validate(&e).unwrap_err();
        assert_eq!(err.var, "INFISICAL_PROJECT_ID");
    }

    #[test]
    fn github_enterprise_paths_are_kept() {
        let argv = [
            "--bot",
            "b",
            "--github-api-url",
            "https://ghe.example.com/api/v3/",
        ];
        let cfg = args(&argv).validate(&runbook_env()).unwrap();
        assert_eq!(cfg.github_api_url.as_str(), "https://ghe.example.com/api/v3");
        let argv = ["--bot", "b", "--github-api-url", "http://ghe.example.com"];
        assert!(args(&argv).validate(&runbook_env()).is_err());
    }
}
