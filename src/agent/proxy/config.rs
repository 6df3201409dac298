//! The proxy's flags and their validation into [`ProxySettings`].
//!
//! The proxy needs no Infisical credentials (each client's own
//! `Authorization` header is forwarded); it needs the vault URL, optionally the
//! Cloudflare Access service token and User-Agent (shared [`VaultArgs`]), and
//! its own listening and policy flags. Problems are [`ConfigError`]s naming the
//! flag or variable and the fix, reported before anything is bound.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::Args;

use secrecy::{ExposeSecret, SecretString};

use super::client_auth::{CLIENT_TOKEN_VAR, MIN_TOKEN_LEN};
use super::policy::{Policy, ProjectRule, ScopeRule};
use crate::config::{
    ConfigError, EnvSource, LogArgs, PROXY_HOST_VARS, ProjectScope, SCOPE_VAR, VaultArgs, VaultSettings,
    configured_project,
};
use crate::scope::Scope;

/// The runbook's variable for the proxy's port.
pub const PORT_VAR: &str = "VAULT_PROXY_PORT";
pub const DEFAULT_PORT: u16 = 2019;

/// `proxy --help` epilogue: the variables this mode reads.
pub const PROXY_HELP: &str = "\
Environment variables (flags win over variables):
  INFISICAL_HOST_URL        vault base URL, e.g. https://vault.example.com (also INFISICAL_HOST;
                            a trailing /api is fine). Not INFISICAL_API_URL or INFISICAL_DOMAIN:
                            those tell the infisical CLI where the proxy is.
  CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET
                            Cloudflare Access service token added to every request (both or neither)
  INFISICAL_USER_AGENT      User-Agent sent to the vault (CF Bot Fight Mode blocks stock ones)
  VAULT_PROXY_PORT          port on 127.0.0.1 when --listen is not given (default 2019)
  INFISICAL_SCOPE           client-side scope for secret reads, whitespace-separated ENV:GLOB
  INFISICAL_PROJECT_ID      with a scope: the project reads may name (others are refused)
  INFISICAL_ALLOWED_PROJECTS
                            with a scope: other projects reads may name ('*' for any)
  INFISICAL_PROXY_TOKEN     client token that clients on other machines must send (required
                            with --allow-remote; at least 16 characters, e.g. openssl rand -hex 32)
                            as 'X-Proxy-Token: TOKEN' or 'Proxy-Authorization: Bearer TOKEN'
  RUST_LOG                  log filter; access lines use target infisical_mcp_rs::agent::proxy::access
No Infisical credentials are needed: each client's own Authorization header is forwarded.
Point clients at http://127.0.0.1:2019 (the CLI: INFISICAL_API_URL; SDKs: their host setting).
The proxy refuses to start when its upstream is its own listening address.

With a scope (--scope / INFISICAL_SCOPE) only these routes pass: secret reads
(/api/v4/secrets, /api/v3/secrets/raw), folder and secret-import listings, all
checked against the scope; /api/v1/workspace; /api/status; login and renew.
Their query may hold only the parameters those routes define (others are
refused, as is a ';' in the path), and a project other than the configured
ones (INFISICAL_PROJECT_ID, INFISICAL_ALLOWED_PROJECTS) is refused.
Secret reads are sent with expandSecretReferences=false and imports off
(include_imports / includeImports=false), whatever the client asked: values
come back as stored, ${...} references unexpanded, and imported secrets are not
served (the answer header X-Infisical-Proxy-Turned-Off names what was turned
off). Listings drop entries outside the scope; a recursive listing is allowed
from a folder that leads into the scope and filtered.
--call-timeout bounds the wait for the vault's answer and each pause in its body.
Bodies are streamed, except the answers to scoped reads, which are held (up to
--max-response-mib) to be checked.";

// The shared vault and log flags that mean nothing to a proxy (it never logs
// in, queues no request and has its own access log) stay accepted, so one
// env file serves both modes, but are not offered in --help.
#[derive(Debug, Clone, Args)]
#[command(
    mut_arg("client_id", |a| a.hide(true)),
    mut_arg("vault_concurrency", |a| a.hide(true)),
    mut_arg("audit_log", |a| a.hide(true))
)]
pub struct ProxyArgs {
    #[command(flatten)]
    pub vault: VaultArgs,

    #[command(flatten)]
    pub log: LogArgs,

    /// Address to listen on: IP:PORT, localhost:PORT or PORT
    /// [default: 127.0.0.1:2019, or 127.0.0.1:$VAULT_PROXY_PORT].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// Allow --listen on an address that is not loopback. Clients on other
    /// machines must then send the client token from INFISICAL_PROXY_TOKEN
    /// (required with this flag); loopback clients need none.
    #[arg(long)]
    pub allow_remote: bool,

    /// Extra Host name to accept (besides localhost and IP literals with
    /// --allow-remote), repeatable.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_host: Vec<String>,

    /// Forward writes (POST/PUT/PATCH/DELETE...). Off by default: only GET, HEAD,
    /// universal-auth login and token renew pass.
    #[arg(long)]
    pub allow_writes: bool,

    /// Client-side scope for secret reads, ENV:GLOB, repeatable (also
    /// INFISICAL_SCOPE). Without it, only the identity's RBAC limits reads.
    #[arg(long = "scope", value_name = "ENV:GLOB")]
    pub scope: Vec<String>,

    /// With a scope: the project secret reads may name (also
    /// INFISICAL_PROJECT_ID); reads naming another are refused.
    #[arg(long, env = "INFISICAL_PROJECT_ID", hide_env_values = true, value_name = "ID")]
    pub project_id: Option<String>,

    /// With a scope: another project reads may name, repeatable ('*' for
    /// any). Also INFISICAL_ALLOWED_PROJECTS, whitespace- or comma-separated.
    #[arg(long = "allow-project", value_name = "ID")]
    pub allow_project: Vec<String>,

    /// Seconds to let in-flight requests finish after SIGINT/SIGTERM.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub drain_timeout: u64,
}

/// Everything the proxy runs with, validated.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// Upstream: base URL, CF Access token, User-Agent, timeouts.
    pub vault: VaultSettings,
    /// Where `main` binds; [`super::run`] takes the bound listener instead.
    pub listen: SocketAddr,
    pub policy: Policy,
    pub drain_timeout: Duration,
}

impl ProxySettings {
    /// Read-only, no scope, loopback only, 10 s drain: the defaults, for
    /// callers (tests) that build settings in code.
    pub fn new(vault: VaultSettings) -> Self {
        Self {
            vault,
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            policy: Policy::default(),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

fn error(var: &str, problem: impl Into<String>, fix: impl Into<String>) -> ConfigError {
    ConfigError {
        var: var.to_string(),
        problem: problem.into(),
        fix: fix.into(),
    }
}

fn parse_port(var: &str, raw: &str) -> Result<u16, ConfigError> {
    raw.trim().parse::<u16>().map_err(|_| {
        error(
            var,
            format!("'{}' is not a port number", raw.escape_default()),
            "give a number from 1 to 65535, e.g. 2019",
        )
    })
}

fn parse_listen(raw: &str) -> Result<SocketAddr, ConfigError> {
    let raw = raw.trim();
    if raw.chars().all(|c| c.is_ascii_digit()) {
        return Ok(SocketAddr::from((
            Ipv4Addr::LOCALHOST,
            parse_port("--listen", raw)?,
        )));
    }
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some((host, port)) = raw.rsplit_once(':')
        && host.eq_ignore_ascii_case("localhost")
    {
        return Ok(SocketAddr::from((
            Ipv4Addr::LOCALHOST,
            parse_port("--listen", port)?,
        )));
    }
    Err(error(
        "--listen",
        format!("'{}' is not an address to listen on", raw.escape_default()),
        "give IP:PORT such as 127.0.0.1:2019 (or [::1]:2019, localhost:2019, or a bare port)",
    ))
}

impl ProxyArgs {
    pub fn settings(&self, env: &dyn EnvSource) -> Result<ProxySettings, ConfigError> {
        let (upstream_var, vault) = self.upstream(env)?;
        let (listen_source, listen) = match (&self.listen, env.var(PORT_VAR)) {
            (Some(raw), _) => ("--listen", parse_listen(raw)?),
            (None, Some(port)) => (
                PORT_VAR,
                SocketAddr::from((Ipv4Addr::LOCALHOST, parse_port(PORT_VAR, &port)?)),
            ),
            (None, None) => ("--listen", SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT))),
        };
        if !listen.ip().is_loopback() && !self.allow_remote {
            return Err(error(
                listen_source,
                format!(
                    "{listen} is not a loopback address; the proxy would hand the Cloudflare Access token's reach to the network"
                ),
                "listen on 127.0.0.1:PORT, or pass --allow-remote if other machines must use this proxy",
            ));
        }
        if super::self_loop::loops_back(&vault.base_url, listen) {
            return Err(error(
                &upstream_var,
                format!(
                    "{} is this proxy's own listening address ({listen}, {listen_source}), so every \
                     request would loop back into the proxy",
                    vault.base_url
                ),
                format!(
                    "point {upstream_var} at the vault itself, or choose another port with {listen_source}; \
                     clients such as the infisical CLI find the proxy through INFISICAL_API_URL, which the \
                     proxy does not read"
                ),
            ));
        }
        if self.drain_timeout == 0 || self.drain_timeout > crate::config::MAX_TIMEOUT_SECS {
            return Err(error(
                "--drain-timeout",
                format!("is {}", self.drain_timeout),
                "give a positive number of seconds, at most 86400",
            ));
        }
        let mut allowed_hosts = Vec::new();
        for host in &self.allow_host {
            let host = host.trim().trim_end_matches('.');
            if host.is_empty() || host.contains(['/', ':', ' ']) {
                return Err(error(
                    "--allow-host",
                    format!("'{}' is not a host name", host.escape_default()),
                    "give a bare name such as proxy.lan (no scheme, no port)",
                ));
            }
            allowed_hosts.push(host.to_ascii_lowercase());
        }
        let mut scope = self.scope(env)?;
        if let Some(rule) = scope.as_mut() {
            rule.projects = self.projects(env)?;
        }
        let client_token = self.client_token(env)?;
        Ok(ProxySettings {
            vault,
            listen,
            policy: Policy {
                allow_writes: self.allow_writes,
                allow_remote: self.allow_remote,
                allowed_hosts,
                scope,
                client_token,
            },
            drain_timeout: Duration::from_secs(self.drain_timeout),
        })
    }

    /// The vault URL, from `--host-url`, `INFISICAL_HOST_URL` or
    /// `INFISICAL_HOST` only, and the name it came from.
    fn upstream(&self, env: &dyn EnvSource) -> Result<(String, VaultSettings), ConfigError> {
        self.vault.settings_from(env, &PROXY_HOST_VARS).map_err(|e| {
            let client_vars: Vec<&str> = ["INFISICAL_API_URL", "INFISICAL_DOMAIN"]
                .into_iter()
                .filter(|n| env.var(n).is_some())
                .collect();
            if e.var == PROXY_HOST_VARS[0] && e.problem.starts_with("is not set") && !client_vars.is_empty() {
                error(
                    PROXY_HOST_VARS[0],
                    format!(
                        "is not set; {} is, but the proxy does not read it: it tells the infisical CLI \
                         where to send requests, which is this proxy",
                        client_vars.join(" and ")
                    ),
                    "set INFISICAL_HOST_URL (or --host-url) to the vault's own URL, e.g. https://vault.example.com",
                )
            } else {
                e
            }
        })
    }

    /// The projects a scoped read may name; `None` when none is configured
    /// (then the identity's memberships alone decide).
    fn projects(&self, env: &dyn EnvSource) -> Result<Option<ProjectRule>, ConfigError> {
        let default = configured_project(self.project_id.as_ref(), env)?;
        let projects = ProjectScope::parse(&self.allow_project, env)?;
        if default.is_none() && projects.also.is_empty() && !projects.any {
            return Ok(None);
        }
        Ok(Some(ProjectRule { default, projects }))
    }

    /// Required with `--allow-remote`, ignored without: a relay holding the
    /// Cloudflare Access token must not serve whoever reaches the port.
    fn client_token(&self, env: &dyn EnvSource) -> Result<Option<SecretString>, ConfigError> {
        if !self.allow_remote {
            return Ok(None);
        }
        let Some(raw) = env.var(CLIENT_TOKEN_VAR).map(SecretString::from) else {
            return Err(error(
                CLIENT_TOKEN_VAR,
                "is not set, but --allow-remote needs it: clients on other machines would get the \
                 Cloudflare Access service token's reach with no credential at all",
                "export INFISICAL_PROXY_TOKEN=\"$(openssl rand -hex 32)\" and give the same value to \
                 the remote clients (header X-Proxy-Token), or drop --allow-remote",
            ));
        };
        let token = raw.expose_secret();
        if token.chars().count() < MIN_TOKEN_LEN
            || token.trim() != token
            || token.chars().any(char::is_control)
        {
            return Err(error(
                CLIENT_TOKEN_VAR,
                format!(
                    "must be at least {MIN_TOKEN_LEN} characters with no surrounding spaces or control characters"
                ),
                "generate one with: openssl rand -hex 32",
            ));
        }
        Ok(Some(raw))
    }

    /// Optional here (the MCP server requires one): no `--scope` and no
    /// `INFISICAL_SCOPE` means reads are limited by the identity's RBAC only.
    fn scope(&self, env: &dyn EnvSource) -> Result<Option<ScopeRule>, ConfigError> {
        let (source, entries) = if !self.scope.is_empty() {
            ("--scope", self.scope.clone())
        } else {
            match env.var(SCOPE_VAR) {
                Some(v) => (SCOPE_VAR, vec![v]),
                None => return Ok(None),
            }
        };
        if entries.iter().any(|e| e.contains("${")) {
            return Err(error(
                source,
                "still contains an unexpanded ${...} reference",
                "put the real ENV:GLOB entries in place of the reference",
            ));
        }
        let scope = Scope::parse_list(&entries).map_err(|e| {
            error(
                source,
                e.to_string(),
                "give ENV:GLOB entries, e.g. --scope 'prod:/apps/**'",
            )
        })?;
        Ok(Some(ScopeRule {
            scope,
            source: source.to_string(),
            projects: None,
        }))
    }
}

/// Turns `infisical-mcp-rs --proxy ARGS...` into `infisical-mcp-rs proxy
/// ARGS...`, so the flag form the issue and the runbook use and the
/// subcommand form share one parser. Arguments after `--` are left alone.
pub fn proxy_flag_to_subcommand(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    let end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    if let Some(pos) = args[..end].iter().position(|a| a == "--proxy") {
        args.remove(pos);
        if args.get(1).is_none_or(|a| a != "proxy") {
            args.insert(1.min(args.len()), OsString::from("proxy"));
        }
    }
    args
}

/// The address as a URL a client would be given.
pub fn client_url(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V6(ip) => format!("http://[{ip}]:{}", addr.port()),
        IpAddr::V4(ip) => format!("http://{ip}:{}", addr.port()),
    }
}

#[cfg(test)]
mod tests;
