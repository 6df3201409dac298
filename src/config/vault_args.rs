//! Where the vault is and who this binary is to it: the shared vault flags
//! (`--host-url`, universal auth or a token, the Cloudflare Access service
//! token, User-Agent, timeouts) validated into [`VaultSettings`] and
//! [`Credentials`].

use super::*;

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

pub fn default_user_agent() -> String {
    format!("infisical-mcp-rs/{}", env!("CARGO_PKG_VERSION"))
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
