//! `doctor`: the proxy runbook's "How to diagnose (in order)", automated.
//!
//! With the same configuration as `serve`, it checks in order: the
//! configuration, the vault host (DNS, TCP, TLS), `/api/status` through
//! Cloudflare Access, the universal-auth login, an in-scope read, an
//! out-of-scope read the vault must refuse, and a write probe the vault must
//! refuse; then the `.mcp.json` in the current directory. Each step reports
//! ✔/✘/⚠, its time and, on failure, the runbook's failure mode (A–E) and fix;
//! a step whose prerequisite did not pass is shown as skipped. With
//! `--proxy-url` it diagnoses the loopback proxy instead of the vault.
//!
//! Sub-modules: `modes` (the runbook's words), `report` (steps, rendering),
//! `net` (DNS/TCP/TLS), `probes` (the vault steps), `mcpjson` (mode E).
//! Nothing here prints a secret value or a token.

mod mcpjson;
mod modes;
mod net;
mod probes;
mod report;
mod store;
mod write_probe;

use std::future::Future;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use clap::Args;

pub use modes::FailureMode;
pub use report::{EXIT_CONFIG, EXIT_FAILED, EXIT_OK, Report, Status, Step};

use crate::config::{EnvSource, ServeArgs, ServeConfig, parse_base_url};
use crate::scope::SecretPath;
use crate::vault::VaultClient;

/// Step names, as they appear in the checklist and in `--json`.
pub const CONFIG: &str = "config";
pub const REACHABLE: &str = "reachable";
pub const STATUS: &str = "status";
pub const LOGIN: &str = "login";
pub const IN_SCOPE: &str = "in-scope-read";
pub const OUT_OF_SCOPE: &str = "out-of-scope-read";
pub const WRITE_PROBE: &str = "write-probe";
pub const CREDENTIAL_STORE: &str = "credential-store";
pub const MCP_JSON: &str = mcpjson::NAME;

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub serve: ServeArgs,

    /// Print one JSON document ({ok, steps:[…]}) instead of the checklist.
    #[arg(long)]
    pub json: bool,

    /// What the in-scope read reads: ENV:PATH (lists keys), or ENV:PATH:KEY
    /// (reads one key; its value is never shown). Default: the first scope
    /// entry, made concrete.
    #[arg(long, value_name = "ENV:PATH[:KEY]")]
    pub probe: Option<String>,

    /// Diagnose the loopback proxy at URL (e.g. http://127.0.0.1:2019)
    /// instead of the vault: the proxy must add the Cloudflare headers itself.
    #[arg(long, value_name = "URL")]
    pub proxy_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    #[error("--probe: '{0}' is not ENV:PATH or ENV:PATH:KEY (e.g. dev:/agents/warden:DB_PASSWORD)")]
    BadProbe(String),
    #[error("cannot write the report: {0}")]
    Output(#[from] std::io::Error),
    #[error("cannot render the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The `--probe` target.
#[derive(Debug, Clone)]
pub struct Probe {
    pub environment: String,
    pub path: SecretPath,
    pub key: Option<String>,
}

impl Probe {
    pub fn parse(raw: &str) -> Result<Self, DoctorError> {
        let bad = || DoctorError::BadProbe(raw.to_string());
        let (environment, rest) = raw.split_once(':').ok_or_else(bad)?;
        let (path, key) = match rest.rsplit_once(':') {
            Some((p, k)) => (p, Some(k)),
            None => (rest, None),
        };
        let slug_ok = !environment.is_empty()
            && environment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !slug_ok || key.is_some_and(|k| k.is_empty() || k.contains('/')) {
            return Err(bad());
        }
        Ok(Self {
            environment: environment.to_string(),
            path: SecretPath::parse(path).map_err(|_| bad())?,
            key: key.map(str::to_string),
        })
    }
}

/// Everything the vault steps need once the configuration is valid.
pub(crate) struct Prepared {
    pub config: ServeConfig,
    pub client: VaultClient,
    pub probe: Option<Probe>,
    pub proxy: bool,
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

async fn timed<F: Future<Output = Step>>(run: F) -> Step {
    let started = Instant::now();
    let mut step = run.await;
    step.elapsed_ms = millis(started);
    step
}

fn configure(args: &DoctorArgs, env: &dyn EnvSource) -> Result<Prepared, Step> {
    let config_failure = |var: &str, problem: &str, fix: &str| {
        Step::fail(CONFIG, format!("{var}: {problem}")).fix(fix.to_string())
    };
    let mut serve = args.serve.clone();
    if let Some(raw) = &args.proxy_url {
        let url = parse_base_url("--proxy-url", raw, serve.vault.allow_insecure_http)
            .map_err(|e| config_failure(&e.var, &e.problem, &e.fix))?;
        serve.vault.host_url = Some(url.to_string());
    }
    let mut config = serve
        .validate(env)
        .map_err(|e| config_failure(&e.var, &e.problem, &e.fix))?;
    let probe =
        match &args.probe {
            Some(raw) => Some(Probe::parse(raw).map_err(|e| {
                Step::fail(CONFIG, e.to_string()).fix("give --probe ENV:PATH or ENV:PATH:KEY")
            })?),
            None => None,
        };
    let proxy = args.proxy_url.is_some();
    if proxy {
        // The proxy is what must add the Access headers: sending them here
        // would hide a proxy that does not.
        config.vault.cf_access = None;
    }
    let client = VaultClient::new(&config.vault, config.credentials.clone())
        .map_err(|e| Step::fail(CONFIG, e.to_string()).fix(e.hint()))?;
    Ok(Prepared {
        config,
        client,
        probe,
        proxy,
    })
}

fn describe(prepared: &Prepared) -> String {
    use crate::config::Credentials;
    let config = &prepared.config;
    let auth = match &config.credentials {
        Credentials::UniversalAuth { .. } => "universal auth",
        Credentials::AccessToken(_) => "pre-issued INFISICAL_TOKEN",
    };
    let cf = if prepared.proxy {
        "CF Access headers left to the proxy"
    } else if config.vault.cf_access.is_some() {
        "CF Access service token set"
    } else {
        "no CF Access service token"
    };
    let project = match config.defaults.project_id.as_deref() {
        Some(_) => format!("projects {}", config.defaults.projects_text()),
        None if config.defaults.projects.any || !config.defaults.projects.also.is_empty() => {
            format!("no default project, projects {}", config.defaults.projects_text())
        }
        None => "no default project".into(),
    };
    let environment = config
        .defaults
        .environment
        .as_deref()
        .map(|e| format!("default environment {e}"))
        .unwrap_or_else(|| "no default environment".into());
    format!(
        "valid: {auth}, {cf}, {project}, {environment}, scope {}; {}",
        config.scope,
        config.sources.describe()
    )
}

/// Runs every step against the real network and `dir` (for `.mcp.json`).
pub async fn run(args: &DoctorArgs, env: &dyn EnvSource, dir: &Path) -> Report {
    let started = Instant::now();
    // The server as `.mcp.json` starts it: the entry's values over this shell's.
    let loaded = mcpjson::load(dir, env);
    let overlay = mcpjson::Overlay {
        entry: loaded.as_ref().map(|l| l.values.clone()).unwrap_or_default(),
        base: env,
    };
    let from_entry = loaded
        .as_ref()
        .filter(|l| !l.values.is_empty())
        .map(|l| {
            format!(
                "; settings of {} server '{}' over this shell's",
                crate::operator::mcp_config::MCP_JSON,
                l.name
            )
        })
        .unwrap_or_default();
    let configured = configure(args, &overlay);
    let mut steps = Vec::new();
    let prepared = match configured {
        Ok(p) => {
            let glob_warnings = p.config.scope.warnings();
            let ignored = &p.config.sources.ignored;
            let mut fixes = Vec::new();
            if !ignored.is_empty() {
                fixes.push("unset the ignored variable, or give it the value of the one that wins");
            }
            if !p.config.warnings.is_empty() {
                fixes.push("make INFISICAL_ENVIRONMENT one of the scope's environments");
            }
            if !glob_warnings.is_empty() {
                fixes.push(
                    "rewrite the glob as the warning says, here and in the identity's Infisical privileges",
                );
            }
            let warnings: Vec<String> = ignored
                .iter()
                .cloned()
                .chain(p.config.warnings.iter().cloned())
                .chain(glob_warnings)
                .collect();
            let mut step = if warnings.is_empty() {
                Step::pass(CONFIG, format!("{}{from_entry}", describe(&p)))
            } else {
                Step::warn(
                    CONFIG,
                    format!("{}{from_entry}; {}", describe(&p), warnings.join("; ")),
                )
                .fix(fixes.join("; "))
            };
            step.elapsed_ms = millis(started);
            steps.push(step);
            p
        }
        Err(mut step) => {
            step.elapsed_ms = millis(started);
            steps.push(step);
            probes::skip_from(&mut steps, REACHABLE, "the configuration is invalid");
            steps.push(timed(async { mcpjson::check(dir, env, false) }).await);
            let target = args
                .proxy_url
                .clone()
                .unwrap_or_else(|| "vault (configuration invalid)".into());
            return Report::new(target, steps, true);
        }
    };
    let target = if prepared.proxy {
        format!("proxy {}", prepared.config.vault.base_url)
    } else {
        format!("vault {}", prepared.config.vault.base_url)
    };
    probes::vault_steps(&prepared, &mut steps).await;
    if let Some(rules) = &args.serve.broker_rules {
        let project = prepared.config.defaults.project_id.as_deref();
        let scope = &prepared.config.scope;
        steps.extend(crate::agent::broker::doctor::steps(rules, project, scope, &prepared.client, env).await);
    }
    let no_cf_access = !prepared.proxy
        && prepared.config.vault.cf_access.is_none()
        && steps.iter().any(|s| s.name == STATUS && s.passed());
    steps.push(timed(async { mcpjson::check(dir, env, no_cf_access) }).await);
    Report::new(target, steps, false)
}

/// The checklist, or with `json` one JSON document, on `out`.
pub fn write_report(report: &Report, json: bool, out: &mut dyn Write) -> Result<(), DoctorError> {
    let text = if json { report.to_json()? } else { report.to_text() };
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn probe_forms() {
        let p = Probe::parse("dev:/agents/warden").unwrap();
        assert_eq!(
            (p.environment.as_str(), p.path.as_str(), p.key),
            ("dev", "/agents/warden", None)
        );
        let p = Probe::parse("prod:/org:KEY_1").unwrap();
        assert_eq!(p.key.as_deref(), Some("KEY_1"));
        assert_eq!(p.path.as_str(), "/org");
        for bad in ["dev", ":/x", "dev:x", "dev:/x:", "d v:/x", "dev:/a/../b"] {
            assert!(Probe::parse(bad).is_err(), "{bad}");
        }
    }
}
