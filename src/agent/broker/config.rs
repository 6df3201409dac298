//! `broker`'s flags and environment → one validated configuration.
//!
//! The vault, Cloudflare Access, scope, cache and log settings are `serve`'s
//! own ([`crate::config`]); the broker adds its rules file, listen address,
//! extra trust roots and client token. Every rule is checked against the
//! scope here, so a broker that starts can read every secret it names.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use rustls::pki_types::CertificateDer;
use secrecy::{ExposeSecret as _, SecretString};

use super::error::BrokerError;
use super::rules::Rules;
use super::upstream;
use crate::config::{
    CacheArgs, CachePolicy, ConfigError, Credentials, EnvSource, LogArgs, ScopeArgs, VaultArgs, VaultSettings,
};
use crate::scope::Scope;

/// The broker's client token; environment only, so that it never shows in
/// `ps` or a shell history.
pub const BROKER_TOKEN_VAR: &str = "INFISICAL_BROKER_TOKEN";

/// How long a value is reused when `--cache-ttl` is not given: brokered
/// calls come in bursts, and a rotated value is picked up at once anyway
/// (an upstream 401/403 re-reads it).
pub const DEFAULT_BROKER_CACHE_TTL: Duration = Duration::from_secs(60);

/// `broker --help`'s closing text.
pub const BROKER_HELP: &str = "\
Requests to http://127.0.0.1:PORT/RULE/<path> go to the rule's fixed HTTPS origin with the
rule's secret injected; the answer comes back with every form of the value replaced by
[redacted: KEY]. The rules file is TOML (docs/broker.md):

  [[rule]]
  name = \"dns\"
  upstream = \"https://api.example.com\"
  secret = \"prod:/team/dns/DNS_TOKEN\"       # must lie inside --scope
  header = \"Authorization\"                  # or: query = \"api_key\"; or: basic_user = \"bot\"
  template = \"Bearer {}\"
  methods = [\"GET\", \"PATCH\"]
  paths = [\"/client/v4/zones/**\"]
  use_only = true                           # get-secret refuses it (serve --broker-rules)

  [[rule]]
  name = \"github\"                           # a GitHub App bot: the broker mints the token
  upstream = \"https://api.github.com\"
  github_app = \"prod:/bots/ci-bot\"          # folder with APP_ID, INSTALLATION_ID, PRIVATE_KEY_PEM
  paths = [\"/repos/acme/app/**\"]

Environment: the vault variables of `serve` (INFISICAL_HOST_URL, credentials, CF_ACCESS_*,
INFISICAL_SCOPE, INFISICAL_PROJECT_ID), and INFISICAL_BROKER_TOKEN: when set (16+ characters),
clients must send it as 'Proxy-Authorization: Bearer TOKEN' or 'X-Broker-Token: TOKEN'.";

#[derive(Debug, Clone, Args)]
pub struct BrokerArgs {
    /// The rules file (TOML, see docs/broker.md).
    #[arg(long, env = "INFISICAL_BROKER_RULES", value_name = "FILE")]
    pub rules: PathBuf,

    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1:2020", value_name = "ADDR")]
    pub listen: String,

    /// Extra trust roots (PEM) for private upstreams, besides the public ones.
    #[arg(long, env = "INFISICAL_BROKER_UPSTREAM_CA", value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,

    #[command(flatten)]
    pub vault: VaultArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Largest request body accepted, in KiB (bodies are held so that a
    /// request refused with 401/403 can be sent once more with a re-read value).
    #[arg(long, default_value_t = 8192, value_name = "KIB")]
    pub max_body_kib: u64,

    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

/// The validated broker configuration.
#[derive(Debug)]
pub struct BrokerConfig {
    pub vault: VaultSettings,
    pub credentials: Credentials,
    pub scope: Scope,
    pub rules: Rules,
    pub listen: SocketAddr,
    pub upstream_ca: Vec<CertificateDer<'static>>,
    pub token: Option<SecretString>,
    pub cache: CachePolicy,
    pub max_body_bytes: usize,
}

fn rules_error(e: BrokerError) -> ConfigError {
    match e {
        BrokerError::OutOfScope { rule, secret, scope } => ConfigError::new(
            "--rules",
            format!("rule '{rule}' reads {secret}, which is outside the scope ({scope})"),
            "widen --scope / INFISICAL_SCOPE to cover it, or change the rule's secret",
        ),
        other => ConfigError::new(
            "--rules",
            other.to_string(),
            "see docs/broker.md for the rules file format",
        ),
    }
}

/// Parses `--listen`, which must be a loopback address.
pub fn parse_listen(raw: &str) -> Result<SocketAddr, ConfigError> {
    let addr: SocketAddr = raw.trim().parse().map_err(|_| {
        ConfigError::new(
            "--listen",
            format!("'{}' is not IP:PORT", raw.escape_default()),
            "e.g. --listen 127.0.0.1:2020",
        )
    })?;
    if !addr.ip().is_loopback() {
        return Err(ConfigError::new(
            "--listen",
            format!("{addr} is not a loopback address; the broker lends credentials to whoever reaches it"),
            "listen on 127.0.0.1 or [::1]",
        ));
    }
    Ok(addr)
}

/// `INFISICAL_BROKER_TOKEN`, if set; too short a token is an error.
pub fn broker_token(env: &dyn EnvSource) -> Result<Option<SecretString>, ConfigError> {
    let Some(raw) = env.var(BROKER_TOKEN_VAR) else {
        return Ok(None);
    };
    crate::config::reject_unexpanded(BROKER_TOKEN_VAR, &raw)?;
    let token = SecretString::from(raw.trim().to_string());
    let min = crate::agent::proxy::client_auth::MIN_TOKEN_LEN;
    if token.expose_secret().len() < min {
        return Err(ConfigError::new(
            BROKER_TOKEN_VAR,
            format!("is shorter than {min} characters"),
            "use a long random value, e.g. `openssl rand -hex 24`",
        ));
    }
    Ok(Some(token))
}

impl BrokerArgs {
    /// Validates everything at once, before any network call.
    pub fn validate(&self, env: &dyn EnvSource) -> Result<BrokerConfig, ConfigError> {
        let vault = self.vault.settings(env)?;
        let credentials = self.vault.credentials(env)?;
        let defaults = self.scope.defaults(env)?;
        let scope = self.scope.scope(env)?;
        let rules = Rules::load(&self.rules, defaults.project_id.as_deref()).map_err(rules_error)?;
        rules.check_scope(&scope).map_err(rules_error)?;
        let listen = parse_listen(&self.listen)?;
        let upstream_ca = match &self.upstream_ca {
            Some(path) => upstream::read_ca(path).map_err(|e| {
                ConfigError::new(
                    "--upstream-ca",
                    e.to_string(),
                    "give a PEM file of CA certificates",
                )
            })?,
            None => Vec::new(),
        };
        let mut cache = self.cache.policy()?;
        if cache.ttl.is_none() {
            cache.ttl = Some(DEFAULT_BROKER_CACHE_TTL);
            cache.max_stale = cache.max_stale.max(DEFAULT_BROKER_CACHE_TTL);
        }
        if self.max_body_kib == 0 {
            return Err(ConfigError::new(
                "--max-body-kib",
                "is 0",
                "give a positive number",
            ));
        }
        Ok(BrokerConfig {
            vault,
            credentials,
            scope,
            rules,
            listen,
            upstream_ca,
            token: broker_token(env)?,
            cache,
            max_body_bytes: usize::try_from(self.max_body_kib.saturating_mul(1024)).unwrap_or(usize::MAX),
        })
    }
}
